// wgmma_sp step 11, "narrow": s08's split-K units over narrow tiles (BN = 16, 32, 64: wgmma.sp m64nNk.. with
// N = BN), walked by persistent CTAs, in every operand type (fp16/bf16, int8, e4m3/e5m2): decode (N <= 16) and the
// batched-decode band (N = 32-256) on the native sparse tensor-core path.
//
// What it adds over s08_splitk (and s10_promote):
// 1. Narrow tiles. s08 exists at BN = 128/256 only, so at N = 16 its wgmma does 8x the needed tensor work and its
//    stage carries 8x the needed B (2.7x at N = 48). Here the instruction's N is the tile's: m64n16 / m64n32 /
//    m64n64, and a stage is mostly A: at 8 bits A 8 KB + metadata 2 KB + B BN x 128 B (2 KB at BN = 16); at 16 bits
//    A 8 KB + metadata 1 KB + B BN x 128 B. With the tensor work per k-tile negligible (below), the kernel is a
//    stream of the weight through a deep TMA ring, which is what decode is.
// 2. Every operand type on one step, by composing the earlier mainloops by name (NarrowMainloop below):
//      fp16/bf16  s03's InFlightMainloop, f32 partials (s08's path);
//      int8       s03's InFlightMainloop on s32 accumulators, int32 partials summed exactly (splitk::reduce<int32>),
//                 int32 D (s08's PartialsEpilogue, generalised to int32 partials here);
//      e4m3/e5m2  s10's PromotingMainloop (each k-tile's sum promoted into f32 registers: at BN <= 64 the two
//                 accumulator sets are 2 x 8-32 registers), f32 partials, bf16 D.
//      tf32       s03's InFlightMainloop (wgmma.sp m64nNk16, BK = 32), f32 partials, f32 D (session 12's rows).
//    Out = ScaledTo<bf16> (int8 and fp8 with the per-tensor x per-row x per-column scales): s02's RegisterEpilogue
//    applies them at split 1, splitk::reduce_scaled (s08's SecondLaunchReduction) to the slices' sum otherwise.
// 3. Persistent CTAs (s05's grid and walk over s08's (tile, slice) units): a CTA is resident for the whole launch,
//    its ring position runs on across units, so the producer streams the next unit's first k-tiles while the
//    consumers store the last one's: no CTA starts with an empty ring after the first (at N = 16 a unit is a few
//    microseconds of streaming; s08's one-CTA-per-unit grid would pay the ~1 us first-load latency per unit).
// 4. The split factor for a stream, not for compute (NarrowSplitKUnits::split_for): the first split whose last
//    round of units is full enough (session 10; session 9 split only until every resident CTA had a unit, which
//    left thin last rounds: NarrowSplitKUnits::streaming_split says why and what it measured). Why not s08's
//    choose_split_compute: its "round" is one k-tile's tensor time (32 clocks at 8 bits, BN = 16), worth ~155 KB
//    of DRAM traffic GPU-wide (splitk::round_bytes at the H200's peaks), while the SMs really move 132 x 12 KB =
//    1.6 MB per k-tile: it charges the partials ~10x too dear and keeps split 1 on an 8192-row weight (64 row
//    blocks: 68 of 132 SMs idle). Session 9 assumed (below) that the CTAs of a partly filled round still saturate
//    DRAM, so that only an SM with no unit costs; session 10 measured otherwise: a CTA's stream is capped by the
//    bytes its ring holds over the loaded latency (timings and ncu on the H200: ~40-70 GB/s per SM, i.e. 2.5-4 us for
//    176-205 KB), so the few CTAs of a thin last round run at that cap while the others idle.
// Bytes in flight (Little's law): ~4.3 TB/s (the H200's measured copy rate, 4270 GB/s) x ~1 us (loaded DRAM
// latency) = ~4.3 MB over 132 SMs = ~33 KB per SM. The ring holds STAGES k-tiles:
//      8-bit, BN = 16: 16 stages x 12 KB (A 8 KB) = 192 KB, A alone 128 KB in flight per SM
//      8-bit, BN = 32: 16 stages x 14 KB = 224 KB;  BN = 64: 12 stages x 18 KB = 216 KB
//     16-bit, BN = 16: 16 stages x 11 KB = 176 KB;  BN = 32: 16 x 13 KB = 208 KB;  BN = 64: 12 x 17 KB = 204 KB
// so one CTA per SM is enough (>= 64 KB of A in flight in every row). NOTE: two CTAs per SM were considered and
// not taken: the ring already holds 5-7x the bytes one SM needs, and two 384-thread CTAs need the skeleton's
// register split (setmaxnreg 40 / 232, one CTA per SM: kernels/wgmma/kernel.cuh) changed for every step.
// Tensor time per k-tile (BM = 128, BK = 128 at 8 bits): 2 x 128 x 16 x 128 dense-equivalent flops at 16384 per
// SM and clock (sparse 8-bit wgmma) = 32 clocks, against ~700 clocks for the SM's 12 KB share of the DRAM
// bandwidth (4.3 TB/s / 132 = 33 GB/s at ~1.9 GHz): 5%. fp8's promotion adds 8 FADDs per consumer thread and a
// wait for each batch (s10's rhythm), still well under the k-tile's budget.
//
// PREDICTION (H200; the lead checks it against the GPU run; results/NOTES.md "Session 9"):
// 28672x16x8192: compulsory bytes 8-bit A 117.4 MB + metadata 29.4 MB + B 0.13 MB + D 1.8 MB (int32; bf16 0.9)
// = 148.7 MB = 34.8 us at 4270 GB/s; 16-bit 234.9 + 29.4 + 0.26 + 0.9 = 265.5 MB = 62.2 us. 224 row blocks for
// 132 SMs: split 1 (no partials), 92 CTAs take two units, and the second round's 92 CTAs still hold ~17 MB in
// flight (4x Little's law), so the round imbalance costs nothing while DRAM stays saturated. Left: the launch, the
// first loads' latency and the last units' drain and epilogue, ~2-4 us. Predicted 85-92% of the copy rate for
// int8, e4m3 and fp16/bf16 at BN = 16 (int8 38-41 us, fp16 68-73 us: ~1.0x cuSPARSELt fp16's 68 us), against
// the skinny family's 62-64% (int8), 25-46% (e4m3) and 75% (fp16). Small weights (8192x8192, 4096x14336 / 14336x
// 4096): the same fixed 2-4 us on a 10-20 us stream, predicted 65-80%. Risks: per-SM TMA throughput below 33-47
// GB/s (not expected: the same ring feeds s05 at 8192^3), and the fp8 consumer's wait per k-tile.
//
// Smallest legal tile details (found and asserted here or by the components):
// - BN: a multiple of 8 from 8 to 256 is a legal wgmma N (instr.h); this step takes 16, 32 and 64 (ptx_sm90.cuh
//   spells N = 16 and 32 for the sparse SS forms for it). BN = 8 (legal, one swizzle atom of B) would save 1 KB of
//   a 12 KB stage: nothing to win, not registered.
// - B tile in shared memory: BN rows of one 128-byte swizzle row each (BK = 64 at 16 bits, 128 at 8), i.e. BN / 8
//   swizzle atoms of 8 rows x 128 bytes; the wgmma descriptor's stride (8 rows x 128 bytes = 1024) steps between
//   them, so BN = 16 is two atoms, BN = 8 one. The TMA box is BN rows x 128 bytes, swizzle 128B (inner box bytes
//   <= the swizzle span, boxDim <= 256: legal for every BN here); rows past N arrive as zeros (N = 1 runs on a
//   16-row box).
// - Epilogue at split 1: s02's RegisterEpilogue, not s06's TmaStoreEpilogue: the TMA store stages 64-column slabs
//   of a 16-bit D in 128-byte swizzle (it static_asserts BN % 64 == 0 and D = the input type), and at N = 16 D is
//   0.6% (16-bit) to 1.2% (int32) of the bytes moved: not worth a 32-byte-wide slab variant.
// - Shape rule (the skeleton's, as s08): M % 32 == 0 at 16 bits (LaneBlocks16), M % 16 == 0 at 8 bits
//   (LaneBlocks8), K % BK == 0 (64 / 128), any N >= 1, 16-byte aligned operands and rows. The decode shapes
//   28672x{1,16}x8192, 8192x{1,16}x28672, 8192x16x8192, 14336x16x4096, 4096x16x14336, 10240x48x8192,
//   28672x64x8192 and 8192x200x29568 all pass it (29568 = 231 x 128).
// Preconditions: as s08 (SPLIT in 0..32; a slice is empty when SPLIT exceeds the k-tiles: its units load nothing
// and write zero partials). sm_90a only.
// Measured: NVIDIA H200, 28672x16x8192 bf16, best tile 128x16x64: 105.9 TFLOP/s = 11% of the mma.sp m16n8k32 loop (952), 1.56x cuBLAS (run nvidia-h200/session9_2026-12-03_c2e440e).
#pragma once

#include <algorithm>
#include <type_traits>

#include "kernels/wgmma_sp/s08_splitk.cuh"
#include "kernels/wgmma_sp/s10_promote.cuh"

namespace sparse24::wgmma_sp {

// The consumer k-loop an operand type needs: s10's PromotingMainloop for fp8 (the instruction's accumulator keeps
// ~14 bits of a running sum: each k-tile's sum is promoted into f32 registers), s03's InFlightMainloop otherwise
// (16-bit inputs into f32, int8 into s32: exact, one batch left in flight).
template <class Ring>
using NarrowMainloop = std::conditional_t<Ring::Tile::Operands::kPromote, PromotingMainloop<Ring>,
                                          InFlightMainloop<Ring>>;

// s08's (tile, K slice) units on s05's persistent grid (one CTA per SM, kMinBlocksPerSm), with the split chosen
// for a stream of the weight: SPLIT, or when SPLIT == 0 the smallest split that gives every resident CTA at least
// one unit, ceil(slots / tiles), kept to slices of at least splitk::kMinSliceTiles k-tiles (the header's item 4
// says why neither of splitk.h's models). A CTA does units first, first + stride, ...; the ring position runs on
// across them (the mainloops never reset it).
template <class TileT, int GROUP, int SPLIT>
struct NarrowSplitKUnits : SplitKUnits<TileT, GROUP, wgmma::SingleCta, SPLIT> {
  using Base = SplitKUnits<TileT, GROUP, wgmma::SingleCta, SPLIT>;
  using Persistent = PersistentScheduler<TileT, GROUP, wgmma::SingleCta>;
  using typename Base::Units;
  using Base::kBM;
  using Base::kBN;
  using Base::kSplit;

  static void add_params(sparse24::Params& p) {
    Base::add_params(p);
    Persistent::add_params(p);
  }

  // Host side, plain arithmetic: the split for `tiles` tiles of D and `k_tiles` k-tiles on `slots` resident CTAs:
  // the smallest split whose last round of units is full enough, i.e. whose round efficiency
  //     units / (rounds x slots),  units = tiles x split,  rounds = ceil(units / slots)
  // is at least kMinRoundEfficiency, else the split of the highest efficiency (the smallest of equals); splits run
  // over 1..min(kMaxSplit, k_tiles / kMinSliceTiles). Why a threshold and not "every CTA a unit" (session 9's rule,
  // ceil(slots / tiles)): a CTA's stream is capped by the bytes its ring holds in flight, so the SMs of a thin
  // last round cannot take up the bandwidth the idle ones leave; measured on the H200 (results/NOTES.md, session
  // 10): 8192x16x28672 ran 85.1 us at split 3 (192 units for 132 SMs: efficiency 0.73) and 72.9 at split 4 (0.97);
  // 10240x48x8192 44.9 at split 2 (0.61) and 37.7 at split 3 (0.91); 4096x16x14336 31.7 at split 5 (0.61) and
  // 26.0 at split 4 (0.97); but 28672x16x8192 75.6 at split 1 (0.85) against 77.6 at split 4 (0.97): there the
  // partials cost more than the last round. Hence a threshold between 0.73 and 0.85.
  static constexpr double kMinRoundEfficiency = 0.8;
  static constexpr double round_efficiency(int64_t tiles, int split, int slots) {
    const int64_t units = tiles * split, rounds = (units + slots - 1) / slots;
    return double(units) / double(rounds * slots);
  }
  static constexpr int streaming_split(int64_t tiles, int k_tiles, int slots) {
    if (tiles < 1 || k_tiles < 1 || slots < 1) return 1;
    const int longest = std::max(1, std::min(splitk::kMaxSplit, k_tiles / splitk::kMinSliceTiles));
    int best = 1;
    for (int s = 1; s <= longest; ++s) {
      if (round_efficiency(tiles, s, slots) >= kMinRoundEfficiency) return s;
      if (round_efficiency(tiles, s, slots) > round_efficiency(tiles, best, slots)) best = s;
    }
    return best;
  }

  // The decode and band shapes on an H200 (132 SMs; BM = 128; 16-bit k-tiles of 64): 28672 rows (224 row blocks)
  // need no split, 8192 rows (64) take 2, 4096 rows (32) 4, 10240 rows at BN 64 (80 tiles) 3; a single tile with a
  // long K is capped at kMaxSplit, a short K at slices of kMinSliceTiles.
  static_assert(streaming_split(224, 128, 132) == 1 && streaming_split(64, 448, 132) == 2 &&
                    streaming_split(32, 224, 132) == 4 && streaming_split(80, 128, 132) == 3 &&
                    streaming_split(1, 544, 132) == splitk::kMaxSplit &&
                    streaming_split(1, 16, 132) == 16 / splitk::kMinSliceTiles && streaming_split(64, 4, 132) == 1,
                "the streaming split: the first split whose last round is full enough, slices of at least "
                "kMinSliceTiles k-tiles");

  template <class Kernel>
  static int split_for(const GemmArgs& a) {
    if (kSplit > 0) return kSplit;
    int device = 0, sms = 0;
    SPARSE24_CUDA_CHECK(cudaGetDevice(&device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    // Resident CTAs: one per SM (the ring takes the shared memory); the occupancy calculator cannot be asked yet
    // (prepare() sets the shared-memory attribute after the split), fit_grid asks it and trims the grid.
    const int64_t tiles = int64_t((a.M + kBM - 1) / kBM) * ((a.N + kBN - 1) / kBN);
    return streaming_split(tiles, a.K / TileT::kBK, sms * Kernel::kMinBlocksPerSm);
  }

  // s05's grid: as many CTAs as are resident at once, never more than there are units.
  static dim3 launch_grid(const GemmArgs&, int units, int) { return dim3(unsigned(units)); }
  template <class Kernel>
  static void fit_grid(Plan& p, int units) {
    Persistent::template fit_grid<Kernel>(p, units);
  }
  static __device__ __forceinline__ int first(const Units&) { return int(blockIdx.x); }
  static __device__ __forceinline__ int stride(const Units&) { return int(gridDim.x); }
};

// T, BM x BN x BK, WM x WN warps (WM = 4 per consumer warpgroup), STAGES, GROUP (rasterization), SPLIT (0: chosen
// in prepare()), Out (what the epilogue writes: operands.cuh). BK is the 128-byte k-tile of the type (64 at 16
// bits, 128 at 8: operands.cuh asserts it).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int SPLIT,
          class Out = wgmma::Unscaled>
struct s11_narrow
    : wgmma::Kernel<s11_narrow<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT, Out>,
                    NarrowMainloop<wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN, Out>,
                                                    LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN, Out>>, STAGES>>,
                    NarrowSplitKUnits<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP, SPLIT>,
                    PartialsEpilogue<RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN, Out>>,
                                     SecondLaunchReduction<SparseTile<T, BM, BN, BK, WM, WN, Out>>>> {
  static_assert(BN == 16 || BN == 32 || BN == 64, "narrow tiles: BN = 16, 32 or 64 (s08 has 128 and 256)");
  static_assert(BM == 128, "two consumer warpgroups share each B tile, as in s08");
};

}  // namespace sparse24::wgmma_sp
