// Split-K, host side: the workspace layouts, the choice of the split factor (memory-bound streaming kernels:
// choose_split; compute-bound block-tiled kernels: choose_split_compute) and the slice bounds. Plain C++ (no CUDA), so the CPU
// tests check the model directly (tests/cpu/test_splitk.cpp); the device code is in splitk.cuh, which includes this.
//
// Workspace layouts (owned by the Plan, prepare() sizes it, registry.cu allocates and zeroes it once):
//   two launches (skinny.s01):  partials[split][M][N] f32, packed (row m of slice z at ((z * M) + m) * N)
//   one launch (skinny.s02):    the same partials, then counters[row_blocks] u32 (one arrival counter per row block
//                               of the grid), starting at byte counters_offset(split, M, N)
// Nothing is allocated for split = 1: the kernels then write D directly.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/common/fragments.h"  // SPARSE24_HD: the layout functions serve the host and the kernels alike

namespace sparse24::splitk {

// Workspace bytes for `split` slices of an M x N f32 output (0 when there is nothing to reduce).
SPARSE24_HD constexpr size_t workspace_bytes(int split, int M, int N) {
  return split > 1 ? static_cast<size_t>(split) * M * N * sizeof(float) : 0;
}

// Where the arrival counters of the one-launch layout start: right after the partials. M is a multiple of 32 for
// every split-K variant (its shape rule), so this is a multiple of 128 bytes and the counters are aligned.
SPARSE24_HD constexpr size_t counters_offset(int split, int M, int N) { return workspace_bytes(split, M, N); }

// Workspace bytes of the one-launch layout: partials and one 32-bit counter per row block (0 for split = 1).
SPARSE24_HD constexpr size_t counted_workspace_bytes(int split, int M, int N, int row_blocks) {
  return split > 1 ? counters_offset(split, M, N) + static_cast<size_t>(row_blocks) * sizeof(uint32_t) : 0;
}

// The split factor chosen from the GPU's size, for kernels that stream the weight once (memory-bound):
//   row_blocks: blocks along M; chunks: k chunks along K (a slice is a run of whole chunks);
//   slots: blocks resident at once on the whole GPU (SMs x blocks per SM from the occupancy calculator);
//   chunk_bytes: bytes one block reads per chunk (values + metadata); M, N: the output;
//   fixed_bytes: the fixed cost of splitting at all (s > 1), as bytes at the same bandwidth: kLaunchBytes for a
//   second reduction launch, kArrivalBytes for the reduction done in the same launch by the last-arriving block.
// Model, in bytes at one bandwidth (so that the terms add): a resident block keeps a fixed number of bytes in
// flight, so the GPU moves `slots` chunks per round whether or not every slot is filled (a half-empty wave costs a
// full round). Main kernel: waves(s) = ceil(row_blocks * s / slots) rounds of ceil(chunks / s) chunks, each round
// slots * chunk_bytes. Reduction (s > 1): the partials written and read once, 8 * s * M * N bytes, plus
// fixed_bytes. The smallest s in 1..min(chunks, kMaxSplit) with the lowest cost wins: deterministic for a
// (GPU, shape). fixed_bytes only moves the choice between s = 1 and the best s > 1 (it is added to every s > 1
// alike), so a lower fixed cost never picks a smaller split (tests/cpu/test_splitk.cpp).
inline constexpr int kMaxSplit = 32;
// The second launch and the tail between the two kernels (about 1 us at 3 TB/s).
inline constexpr int64_t kLaunchBytes = 3'000'000;
// The one-launch reduction keeps the partial traffic (counted above) and replaces the kernel boundary (the first
// kernel's drain, the second's launch and ramp) by one __threadfence and one atomic per block before the last
// block of a row block reads the partials: about one L2 round trip more than the partial reads themselves, on the
// last row block's path only. NOTE: a third of kLaunchBytes is an estimate, not a fit. Evaluated on the decode
// sweep's 40 shapes with the registers of skinny.s01, the model picks the same split for every fixed cost from 0
// to kLaunchBytes, so that sweep cannot tell the two constants apart; the fixed-split variants (split_k 4) in the
// same sweep are what to compare the choice against.
inline constexpr int64_t kArrivalBytes = kLaunchBytes / 3;

inline int choose_split(int row_blocks, int chunks, int slots, int64_t chunk_bytes, int M, int N,
                        int64_t fixed_bytes) {
  int best = 1;
  double best_cost = 0;
  const int max_split = std::max(1, std::min(chunks, kMaxSplit));
  for (int s = 1; s <= max_split; ++s) {
    const int64_t waves = (static_cast<int64_t>(row_blocks) * s + slots - 1) / slots;
    const int64_t per_block = (chunks + s - 1) / s;
    double cost = double(waves) * double(per_block) * double(slots) * double(chunk_bytes);
    if (s > 1) cost += 8.0 * s * double(M) * double(N) + double(fixed_bytes);
    if (s == 1 || cost < best_cost) best = s, best_cost = cost;
  }
  return best;
}

// ---- Compute-bound block-tiled GEMMs (mma_sp and dense s06_splitk) -------------------------------------------

// K slice z of `split` over k_tiles BK tiles: tiles [z k_tiles / split, (z + 1) k_tiles / split). The slices differ
// by at most one tile, the longest has ceil(k_tiles / split) (what choose_split_compute charges), and a slice is
// empty only when split > k_tiles (its block then writes zero partials).
struct Slice {
  int begin, end;
};
SPARSE24_HD constexpr Slice slice_of(int z, int split, int k_tiles) {
  return {static_cast<int>(int64_t(z) * k_tiles / split), static_cast<int>(int64_t(z + 1) * k_tiles / split)};
}

// The automatic choice never makes a slice shorter than this many BK tiles: each block pays a fixed prologue (the
// first STAGES-1 tiles in flight before its first mma) and epilogue that the round model below does not charge,
// and they stay small next to a main loop of at least 8 tiles.
inline constexpr int kMinSliceTiles = 8;

// The split factor of a block-tiled GEMM whose main loop is compute-bound: one block per BM x BN tile of D and K
// slice (grid z), a slice being a run of whole BK tiles (slice_of).
//   tiles: BM x BN tiles of D (blocks per slice); k_tiles: BK tiles along K; slots: blocks resident at once on the
//   whole GPU (SMs x blocks per SM from the occupancy calculator); M, N, out_bytes: the output and the bytes of one
//   of its elements; bytes_per_round: DRAM bytes the GPU moves in one round (round_bytes() below).
// Model, in rounds. One round: every slot computes one BK tile. A block's main loop runs at the same rate whatever
// the split, so its time is its number of BK tiles:
//   main(s)  = waves(s) * ceil(k_tiles / s), waves(s) = ceil(tiles * s / slots): a partly filled last wave costs
//              a full one (wave quantization), and a wave lasts as long as its longest slice;
//   extra(s) = (8 s M N + out_bytes M N + kLaunchBytes) / bytes_per_round, for s > 1 only: every slice's f32 partials
//              written once and read once, D written by the reduction after the main kernel instead of behind other
//              blocks' main loops, and the second launch (kLaunchBytes, as in choose_split); all of it at DRAM
//              bandwidth and none of it overlapped with compute (conservative: the partials of every wave but the
//              last are written while other blocks compute).
// s runs over 1..min(kMaxSplit, k_tiles / kMinSliceTiles); the smallest s of lowest cost wins, so the choice is
// deterministic for a (GPU, shape, tile). What it implies: with tiles >= slots, splitting can at best recover the
// idle slots of the last wave, i.e. ceil(w) / w of the time for w = tiles / slots waves, and it pays extra(s) for
// it; split-K pays off only where the tiles fill the slots badly (tiles well under one wave, or just above a
// whole number of waves) and K is long.
inline int choose_split_compute(int tiles, int k_tiles, int slots, int64_t M, int64_t N, int out_bytes,
                                double bytes_per_round) {
  if (tiles < 1 || k_tiles < 1 || slots < 1 || !(bytes_per_round > 0)) return 1;
  const int max_split = std::max(1, std::min(kMaxSplit, k_tiles / kMinSliceTiles));
  const double mn = double(M) * double(N);
  int best = 1;
  double best_cost = 0;
  for (int s = 1; s <= max_split; ++s) {
    const int64_t waves = (static_cast<int64_t>(tiles) * s + slots - 1) / slots;
    const int64_t per_block = (k_tiles + s - 1) / s;
    double cost = double(waves) * double(per_block);
    if (s > 1) cost += (8.0 * s * mn + double(out_bytes) * mn + double(kLaunchBytes)) / bytes_per_round;
    if (s == 1 || cost < best_cost) best = s, best_cost = cost;
  }
  return best;
}

// Dense-equivalent flops per SM per clock of the warp-level 16-bit tensor-core instructions (mma.sync m16n8k16;
// a 2:4-sparse mma.sp does twice the dense-equivalent work at the same issue rate), as the sm_80 architecture
// specifies them (NVIDIA A100 Tensor Core GPU Architecture whitepaper: 1024 dense fp16/bf16 FMA per SM per clock).
// It only converts bytes into rounds for choose_split_compute; sm_90 runs these instructions near that rate (the
// instruction-loop ceilings the harness measures, results/NOTES.md), not at the rate of its own wgmma.
inline constexpr double kMmaDenseFlopsPerClkSm = 2048;

// The same for Hopper's warpgroup wgmma (the wgmma_sp and wgmma_dense s08 steps): twice the per-SM rate of the
// warp-level instructions (NVIDIA H100 Tensor Core GPU Architecture whitepaper: 2x A100 per SM per clock; the
// datasheet's 989 dense bf16 TFLOP/s = 132 SMs x 4096 x 1.83 GHz).
inline constexpr double kWgmmaDenseFlopsPerClkSm = 4096;

// DRAM bytes moved in one round of choose_split_compute: the time `blocks_per_sm` blocks take to compute one BK
// tile each (tile_flops = 2 BM BN BK, dense-equivalent) at `flops_per_clk_sm` and `sm_clock_hz`, times the DRAM
// bandwidth. With the GPU's peak figures on both sides the round is shorter than a real one (the kernels run below
// the instruction rate, and below the peak clock under the power cap) by more than the DRAM peak overstates the
// bandwidth a copy reaches, so the partials look dearer than they are: the choice leans to smaller splits.
// 0 when any figure is missing (then choose_split_compute keeps split 1).
inline double round_bytes(double tile_flops, int blocks_per_sm, double flops_per_clk_sm, double sm_clock_hz,
                          double dram_bytes_per_s) {
  if (!(tile_flops > 0) || blocks_per_sm < 1 || !(flops_per_clk_sm > 0) || !(sm_clock_hz > 0) ||
      !(dram_bytes_per_s > 0))
    return 0;
  return dram_bytes_per_s * blocks_per_sm * tile_flops / (flops_per_clk_sm * sm_clock_hz);
}

}  // namespace sparse24::splitk
