// wgmma_sp step 06, "tmastore": s05's persistent clusters, with D written through shared memory and TMA stores.
//
// What it adds over s05_persistent: ncu at 8192^3 (results/NOTES.md, session 4; run 2026-11-22_5b978f3, prof/)
// puts cuSPARSELt's kernel beside s05: the same instruction, CTA shape, cluster and registers, 14% fewer cycles,
// and D written through shared memory (4.36 M L2 sectors written for D's 4.19 M) where s05 writes 4-byte pairs from
// registers that touch every sector twice (8.39 M). Here each consumer warpgroup writes its 64 x 256 tile in four
// 64 x 64 slabs: alpha-scaled accumulators into an 8 KB slab in 128-byte swizzle (conflict-free: a warp's stores
// cover 8 rows x one 16-byte chunk, every chunk in another bank group), a fence to the async proxy, and one
// thread's cp.async.bulk.tensor store of the slab; the next slab waits only until the previous store has READ its
// shared memory (cp.async.bulk.wait_group.read), so the global writes overlap the next slab, the next tile's first
// wgmma and the producer's loads. Full 16-byte pieces reach L2, and the consumers spend fewer instructions on
// the epilogue (no address arithmetic or bounds checks per element: the TMA clips rows past M, columns past N).
// When beta != 0 (C must be read) or D's rows are not 16-byte aligned (odd N), prepare() keeps s05's epilogue.
//
// Shared memory: s05's ring (5 x 41 KB) + 2 slabs of 8 KB = 222 KB of the 227 KB a block may have.
// Preconditions, layouts: as s05. The TMA store's own one-box test is in tests/gpu/test_wgmma_instructions_gpu.cu.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 1002.1 TFLOP/s = 106% of the mma.sp m16n8k32 loop (948), 1.47x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_731aa7e).
#pragma once

#include "kernels/wgmma_sp/s02_tma.cuh"

namespace sparse24::wgmma_sp {

// PERSISTENT = false: the same epilogue on s04's one-CTA-per-tile grid (at 16384^3 s04 beats s05: the persistent
// clusters drift apart, results/NOTES.md).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          bool PERSISTENT = true>
struct s06_tmastore : TmaRing<s06_tmastore<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PERSISTENT>, T, BM, BN,
                              BK, WM, WN, STAGES, GROUP, CLUSTER, PERSISTENT, true, true> {
  using Ring = TmaRing<s06_tmastore, T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PERSISTENT, true, true>;
  static __device__ void run_block(const GemmArgs& args, const typename Ring::LaunchParams& maps) {
    Ring::template block<1>(args, maps);
  }
};

}  // namespace sparse24::wgmma_sp
