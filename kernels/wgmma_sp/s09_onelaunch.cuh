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
// Preconditions: s08's. The arrival counters must be zero before the first launch (the registry zeroes a
// workspace when it allocates it) and a plan's runs must not overlap.
// Measured: not yet measured (no committed run has this step at 8192x8192x8192).
#pragma once

#include "kernels/wgmma_sp/s02_tma.cuh"

namespace sparse24::wgmma_sp {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER, int SPLIT>
struct s09_onelaunch
    : TmaRing<s09_onelaunch<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, SPLIT>, T, BM, BN, BK, WM, WN, STAGES,
              GROUP, CLUSTER, false, true, true, format::MetaLayout::LaneBlocks16, SPLIT, true> {
  using Ring = TmaRing<s09_onelaunch, T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, false, true, true,
                       format::MetaLayout::LaneBlocks16, SPLIT, true>;
  static __device__ void run_block(const GemmArgs& args, const typename Ring::LaunchParams& maps) {
    Ring::template block<1>(args, maps);
  }
};

}  // namespace sparse24::wgmma_sp
