// wgmma_sp step 09, "onelaunch": s08 with the split-K reduction inside the GEMM's own launch.
//
// What it adds over s08_splitk: no second launch and no pass over the partials from DRAM. Each CTA writes its
// slice's f32 partials as in s08, then its consumers arrive at the CTA tile's counter (one u32 per CTA tile after
// the partials, self-cleaning); the CTA that arrives last, whichever slice it computed, sums the tile's partials in
// slice order (from L2: they were written moments ago and 8 MB of partials fit in the 50 MB L2) and writes D. The
// sum starts from 0.0f and uses splitk::store_sum, as splitk::reduce does: the same bits as s08 for the same split.
// No CTA waits for another, so the grid may be larger than what is resident. The pattern is skinny.s02's
// (kernels/common/splitk.cuh, arrive_last), over the consumer warpgroups only: the producer has left by then.
//
// Why: at 4096x128x14336 s08 reaches 1.21x cuBLAS at 64% of the copy rate, and the second launch and the partials'
// round trip through DRAM are what it was charged for (results/NOTES.md, session 5).
//
// Measured, and a lesson: s09 is SLOWER than s08 on the decode shapes (4096x128x14336: 42.8 us against 38.5, run
// 2026-11-22_ce37458; at 14336x128x4096 and 28672x128x8192 the two are equal). The reduction moves from a second
// launch spread over all 132 SMs (8.4 MB of partials, 64 KB per SM) to the tile's last CTA: 32 CTAs on 32 SMs read
// 256 KB each while the other 100 SMs idle at the tail. Batching the loads (16 float4s in flight per thread,
// run 2026-11-22_278dc7a) made it slower still (45.3 us), so it is not the loads in flight but the share of the GPU
// doing the sum. The next version would have the `split` CTAs of a tile each sum 1/split of it once all have
// arrived (they run concurrently here, but a kernel may not assume that) or hand the tail to stream-K.
//
// This step defines InLaunchReduction, the reduction s08's PartialsEpilogue runs after the partials; mainloop,
// scheduler and the wrapped epilogue are s08's, by name.
// Preconditions: s08's. The arrival counters must be zero before the first launch (the registry zeroes a
// workspace when it allocates it) and a plan's runs must not overlap.
// Measured: NVIDIA H200, 8192x8192x8192 bf16, best tile 128x128x64: 702.0 TFLOP/s, 0.95x cuBLAS (run nvidia-h200/issue15-checks_2026-12-02_f7c6cb2).
#pragma once

#include <cstdint>

#include "kernels/common/splitk.cuh"
#include "kernels/wgmma_sp/s08_splitk.cuh"

namespace sparse24::wgmma_sp {

// The consumers of a CTA, after writing their slice's partials of the tile at w.o: arrive at the CTA tile's
// counter (splitk.h's layout: after the partials); the CTA that arrives last, whichever slice it computed, sums the
// tile's partials in slice order, from 0.0f (as splitk::reduce: the same bits), and writes D with
// splitk::store_sum. The pattern and its memory order are splitk::arrive_last's, over the consumer threads only
// (the producer warpgroup has left): every writer fences, the consumers meet, one thread counts (atomicInc resets
// the counter on the last arrival), and the last CTA fences again and reads through L2 (__ldcg). The flag is a
// word of the wrapped epilogue's shared memory (its slab), unused when there are partials.
template <class Tile>
struct InLaunchReduction {
  static constexpr uint32_t kReduceBarrier = 3;  // named barrier of all consumer threads (0: block, 1-2: slabs)
  static size_t workspace_bytes(const GemmArgs& a, int split, int cta_tiles) {
    return splitk::counted_workspace_bytes(split, a.M, a.N, cta_tiles);
  }
  template <class P>
  static void after_launch(const GemmArgs&, const P&, cudaStream_t) {}

  static __device__ __forceinline__ void after_partials(const GemmArgs& args, const wgmma::Work& w,
                                                        const wgmma::SharedBuffer& epi) {
    reduce_tile_if_last(args, w.o, w.cta_tile, w.split, reinterpret_cast<volatile int*>(epi.generic));
  }

  static __device__ void reduce_tile_if_last(const GemmArgs& args, BlockCoord o, int cta_tile, int split,
                                             volatile int* flag) {
    reduce_tile_if_last(args, o, cta_tile, split, split, flag);
  }
  // The same for a tile of `split` slices in a workspace laid out for `layout_split` (>= split) slices: the
  // counters follow layout_split slices of partials (wgmma_sp s20: a tile's pieces, fewer than the most of any).
  static __device__ void reduce_tile_if_last(const GemmArgs& args, BlockCoord o, int cta_tile, int split,
                                             int layout_split, volatile int* flag) {
    constexpr int BM = Tile::kBM, BN = Tile::kBN;
    const int t = int(threadIdx.x) - 128, threads = 128 * Tile::kConsumers;
    __threadfence();
    ptx::named_barrier_sync(kReduceBarrier, threads);
    if (t == 0) {
      unsigned* counters = reinterpret_cast<unsigned*>(static_cast<char*>(args.workspace) +
                                                       splitk::counters_offset(layout_split, args.M, args.N));
      const bool last = atomicInc(&counters[cta_tile], unsigned(split - 1)) == unsigned(split - 1);
      if (last) __threadfence();
      *flag = last;
    }
    ptx::named_barrier_sync(kReduceBarrier, threads);
    const bool last = *flag != 0;
    // Everyone has read the flag before thread 0 may write it again (the next unit's first barrier above).
    if (!last) return;
    const int M = args.M, N = args.N;
    const int rows = min(BM, M - o.m), cols = min(BN, N - o.n);
    if (rows <= 0 || cols <= 0) return;  // a cluster's idle partner: rows past M
    const float* ws = static_cast<const float*>(args.workspace);
    const int64_t slice = int64_t(M) * N;
    if (N % 4 == 0) {  // whole float4s: cols is then a multiple of 4 too (BN is)
      const int c4 = cols / 4;
      for (int e = t; e < rows * c4; e += threads) {
        const int64_t m = o.m + e / c4, n = o.n + 4 * (e % c4);
        const float* at = ws + m * N + n;
        float4 sum = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        for (int z = 0; z < split; ++z, at += slice) {
          const float4 v = __ldcg(reinterpret_cast<const float4*>(at));
          sum.x += v.x, sum.y += v.y, sum.z += v.z, sum.w += v.w;
        }
        splitk::store_sum<Tile::T>(args, m, n, sum.x);
        splitk::store_sum<Tile::T>(args, m, n + 1, sum.y);
        splitk::store_sum<Tile::T>(args, m, n + 2, sum.z);
        splitk::store_sum<Tile::T>(args, m, n + 3, sum.w);
      }
    } else {
      for (int e = t; e < rows * cols; e += threads) {
        const int64_t m = o.m + e / cols, n = o.n + e % cols;
        const float* at = ws + m * N + n;
        float sum = 0.0f;
        for (int z = 0; z < split; ++z, at += slice) sum += __ldcg(at);
        splitk::store_sum<Tile::T>(args, m, n, sum);
      }
    }
  }
};

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER, int SPLIT>
struct s09_onelaunch
    : wgmma::Kernel<s09_onelaunch<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, SPLIT>,
                    typename s08_splitk<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, SPLIT>::Mainloop,
                    typename s08_splitk<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, SPLIT>::Scheduler,
                    PartialsEpilogue<typename s08_splitk<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER,
                                                         SPLIT>::Epilogue::Wrapped,
                                     InLaunchReduction<SparseTile<T, BM, BN, BK, WM, WN>>>> {
  static_assert(s09_onelaunch::Epilogue::kSmemBytes >= int(sizeof(int)),
                "the in-launch reduction keeps its flag in the wrapped epilogue's shared memory");
  static_assert(SPLIT != 1, "the in-launch reduction needs split-K");
};

}  // namespace sparse24::wgmma_sp
