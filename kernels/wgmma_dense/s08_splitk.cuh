// wgmma_dense step 08 (the dense twin of wgmma_sp/s08_splitk.cuh), "splitk": s06's non-persistent clusters with K
// cut into slices, f32 partials and the deterministic reduction of kernels/common/splitk.cuh.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 661.8 TFLOP/s = 103% of the mma.sync m16n8k16 loop (641), 0.96x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_3157a7e).
#pragma once

#include "kernels/wgmma_sp/s02_tma.cuh"

namespace sparse24::wgmma_dense {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER, int SPLIT>
struct s08_splitk
    : wgmma_sp::TmaRing<s08_splitk<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, SPLIT>, T, BM, BN, BK, WM, WN,
                        STAGES, GROUP, CLUSTER, false, false, true, format::MetaLayout::LaneBlocks16, SPLIT> {
  using Ring = wgmma_sp::TmaRing<s08_splitk, T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, false, false, true,
                                 format::MetaLayout::LaneBlocks16, SPLIT>;
  static __device__ void run_block(const GemmArgs& args, const typename Ring::LaunchParams& maps) {
    Ring::template block<1>(args, maps);
  }
};

}  // namespace sparse24::wgmma_dense
