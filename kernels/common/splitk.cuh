// Split-K support shared by every kernel that cuts K into slices computed by different blocks: the deterministic
// reduction of the f32 partials, the host-side choice of the split factor from the GPU's size, and the hooks of a
// split-K step over a warp-tiled ladder step (SplitKTiled: mma_sp and dense s06_splitk).
//
// Workspace layout (owned by the Plan, prepare() sizes it): partials[split][M][N] f32, packed (row m of slice z at
// ((z * M) + m) * N). Every block of every slice writes all of its rows' N columns, zeros included, so the
// reduction never reads an unwritten element.
//
// Determinism: element (m, n) is summed by one thread, slices in the fixed order z = 0, 1, ..., split-1, starting
// from 0.0f, then scaled once: D = alpha * sum + beta * C (the same expression, in the same order, as
// store_acc_m16n8 applies to a single accumulator). The result depends on the split factor but never on timing:
// two runs give the same bits.
//
// The reduction kernel has no tensor-core instruction, so it lives here (namespace sparse24::splitk) rather than in
// a family namespace: scripts/check_sass.py matches family namespaces in kernel names and demands HMMAs there.
//
// The split choices and the slice bounds are plain host (and device) functions above the `__CUDACC__` line, so that
// the CPU tests (tests/cpu/test_registry.cpp, a C++ translation unit) include this header and test them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstddef>

#include "kernels/common/fragments.h"

namespace sparse24::splitk {

// Workspace bytes for `split` slices of an M x N f32 output (0 when there is nothing to reduce).
inline size_t workspace_bytes(int split, int M, int N) {
  return split > 1 ? static_cast<size_t>(split) * M * N * sizeof(float) : 0;
}

// The split factor chosen from the GPU's size, for kernels that stream the weight once (memory-bound):
//   row_blocks: blocks along M; chunks: k chunks along K (a slice is a run of whole chunks);
//   slots: blocks resident at once on the whole GPU (SMs x blocks per SM from the occupancy calculator);
//   chunk_bytes: bytes one block reads per chunk (values + metadata); M, N: the output.
// Model, in bytes at one bandwidth (so that the two terms add): a resident block keeps a fixed number of bytes in
// flight, so the GPU moves `slots` chunks per round whether or not every slot is filled (a half-empty wave costs a
// full round). Main kernel: waves(s) = ceil(row_blocks * s / slots) rounds of ceil(chunks / s) chunks, each round
// slots * chunk_bytes. Reduction (s > 1): the partials written and read once, 8 * s * M * N bytes, plus a fixed
// kLaunchBytes for the second launch and the tail between the kernels (about 1 us at 3 TB/s).
// The smallest s in 1..min(chunks, kMaxSplit) with the lowest cost wins: deterministic for a (GPU, shape).
inline constexpr int kMaxSplit = 32;
inline constexpr int64_t kLaunchBytes = 3'000'000;
inline int choose_split(int row_blocks, int chunks, int slots, int64_t chunk_bytes, int M, int N) {
  int best = 1;
  double best_cost = 0;
  const int max_split = std::max(1, std::min(chunks, kMaxSplit));
  for (int s = 1; s <= max_split; ++s) {
    const int64_t waves = (static_cast<int64_t>(row_blocks) * s + slots - 1) / slots;
    const int64_t per_block = (chunks + s - 1) / s;
    double cost = double(waves) * double(per_block) * double(slots) * double(chunk_bytes);
    if (s > 1) cost += 8.0 * s * double(M) * double(N) + double(kLaunchBytes);
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
SPARSE24_HD inline Slice slice_of(int z, int split, int k_tiles) {
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

// ---- Device code and launches (CUDA translation units only) ----------------------------------------------------
#ifdef __CUDACC__

#include <cuda_runtime_api.h>

#include "kernels/common/cuda_check.h"
#include "kernels/common/elem.cuh"
#include "kernels/common/epilogue.cuh"
#include "kernels/common/launch.cuh"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"

namespace sparse24::splitk {

// Threads per block of the reduction: one output element per thread.
inline constexpr int kReduceThreads = 256;

// D[m][n] = alpha * sum_z partials[z][m][n] + beta * C[m][n], z in increasing order.
template <DType T>
__global__ void __launch_bounds__(kReduceThreads) reduce(GemmArgs args, int split) {
  using E = Elem<T>;
  const int64_t total = static_cast<int64_t>(args.M) * args.N;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kReduceThreads + threadIdx.x;
  if (i >= total) return;
  const int64_t m = i / args.N, n = i % args.N;
  const float* ws = static_cast<const float*>(args.workspace);
  float sum = 0.0f;
  for (int z = 0; z < split; ++z) sum += ws[z * total + i];
  float v = args.alpha * sum;
  if (args.beta != 0.0f) v += args.beta * E::to_float(static_cast<const typename E::type*>(args.c)[m * args.ldc + n]);
  static_cast<typename E::type*>(args.d)[m * args.ldd + n] = E::from_float(v);
}

template <DType T>
inline void launch_reduce(const GemmArgs& args, int split, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(args.M) * args.N;
  const unsigned blocks = static_cast<unsigned>((total + kReduceThreads - 1) / kReduceThreads);
  reduce<T><<<blocks, kReduceThreads, 0, stream>>>(args, split);
}

// A warp's kMTiles x kNTiles grid of m16n8 accumulator tiles whose top-left element is (m0, n0) of D, unscaled,
// into slice z of the partials: the element mask of store_warp_tile (rows >= M and columns >= N are not written;
// no block of any slice owns them and the reduction never reads them). A lane's two columns are adjacent: one
// 8-byte store when N is even (every pair then starts 8-byte aligned: even column, even row length), else two
// 4-byte stores. The branch is uniform across the grid.
template <int kMTiles, int kNTiles>
__device__ __forceinline__ void store_warp_partials(const float (&acc)[kMTiles][kNTiles][4], int m0, int n0,
                                                    const GemmArgs& args, int z) {
  const int lane = threadIdx.x % 32;
  const int M = args.M, N = args.N;
  float* ws = static_cast<float*>(args.workspace) + int64_t(z) * M * N;
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
    for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const frag::RowCol rc = frag::acc_m16n8(lane, 2 * half);
        const int row = m0 + mt * 16 + rc.row, col = n0 + nt * 8 + rc.col;
        if (row >= M || col >= N) continue;
        float* p = ws + int64_t(row) * N + col;
        const float v0 = acc[mt][nt][2 * half], v1 = acc[mt][nt][2 * half + 1];
        if (N % 2 == 0) {
          *reinterpret_cast<float2*>(p) = make_float2(v0, v1);
        } else {
          p[0] = v0;
          if (col + 1 < N) p[1] = v1;
        }
      }
}

// The hooks of a split-K step over a warp-tiled step Prev (mma_sp and dense s05_raster): Prev's grid (x: column
// blocks, y: row blocks) with grid z = the split slices of K; Prev's tile, shared memory and launch bounds. Derived
// supplies run_block(): the K slice of blockIdx.z, then f32 partials into the workspace when gridDim.z > 1, or
// Prev's epilogue (D directly) when it is 1. SPLIT > 0 is used as given (a slice may then be empty: it writes zero
// partials); SPLIT = 0 is chosen in prepare() by choose_split_compute from the SM count, the occupancy, the GPU's
// peak clock and DRAM bandwidth and the shape. Split 1 allocates no workspace and launches nothing more.
template <class Derived, class Prev, int SPLIT>
struct SplitKTiled : WarpTiled<Derived, Prev::kTypes.a, Prev::kBM, Prev::kBN, Prev::kBK, Prev::kWM, Prev::kWN,
                               Prev::kStages> {
  using Base =
      WarpTiled<Derived, Prev::kTypes.a, Prev::kBM, Prev::kBN, Prev::kBK, Prev::kWM, Prev::kWN, Prev::kStages>;
  using Base::kThreads;
  static constexpr ArchRule kArch = Prev::kArch;
  static constexpr bool kSparse = Prev::kSparse;
  static constexpr format::MetaLayout kMetaLayout = Prev::kMetaLayout;
  static constexpr ShapeRule kRule = Prev::kRule;
  static constexpr int kSmemBytes = Prev::kSmemBytes;
  // Prev's promise to the compiler (read by gemm_entry's __launch_bounds__): the same register budget as Prev.
  static constexpr int kMinBlocksPerSm = Prev::kMinBlocksPerSm;

  static_assert(SPLIT >= 0 && SPLIT <= kMaxSplit, "SPLIT: 0 (automatic) or 1..kMaxSplit slices of K");
  static_assert(Prev::kThreads == Base::kThreads, "the same block as Prev");

  static Params params() {
    Params p = Prev::params();
    p.push_back({"split_k", SPLIT});
    return p;
  }

  static const void* entry() { return reinterpret_cast<const void*>(&gemm_entry<Derived>); }

  // The split factor for this problem on the current GPU: SPLIT, or the model's choice when SPLIT == 0 (needs the
  // kernel's shared-memory attribute set first: the occupancy calculator reads it).
  static int split_for(const GemmArgs& a) {
    if (SPLIT > 0) return SPLIT;
    int device = 0, sms = 0, per_sm = 0, sm_khz = 0, mem_khz = 0, bus_bits = 0;
    SPARSE24_CUDA_CHECK(cudaGetDevice(&device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
    SPARSE24_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, entry(), kThreads, kSmemBytes));
    per_sm = std::max(per_sm, 1);
    // Peak DRAM bandwidth: two transfers per memory clock over the bus (how CUDA's deviceQuery sample reads it).
    const double dram_bytes_per_s = 2.0 * mem_khz * 1e3 * bus_bits / 8;
    const double tile_flops = 2.0 * Prev::kBM * Prev::kBN * Prev::kBK;
    const double rate = kMmaDenseFlopsPerClkSm * (kSparse ? 2 : 1);
    const int64_t tiles = int64_t((a.M + Prev::kBM - 1) / Prev::kBM) * ((a.N + Prev::kBN - 1) / Prev::kBN);
    return choose_split_compute(static_cast<int>(std::min<int64_t>(tiles, INT32_MAX)), a.K / Prev::kBK, sms * per_sm,
                                a.M, a.N, bytes_of(Prev::kTypes.d),
                                round_bytes(tile_flops, per_sm, rate, sm_khz * 1e3, dram_bytes_per_s));
  }

  static void prepare(Plan& p) {
    Base::prepare(p);  // BlockTiled's: kernel image, grid x and y, the dynamic shared-memory attribute
    const int split = split_for(p.args);
    p.grid.z = split;
    p.workspace_bytes = workspace_bytes(split, p.args.M, p.args.N);
  }

  static void run(const Plan& p, cudaStream_t stream) {
    Base::run(p, stream);
    if (p.grid.z > 1) launch_reduce<Prev::kTypes.d>(p.args, static_cast<int>(p.grid.z), stream);
  }
};

}  // namespace sparse24::splitk

#endif  // __CUDACC__
