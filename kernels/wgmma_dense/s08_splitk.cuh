// wgmma_dense step 08 (the dense twin of wgmma_sp/s08_splitk.cuh), "splitk": s06's non-persistent clusters with K
// cut into slices, f32 partials and the deterministic reduction of kernels/common/splitk.cuh.
// Measured: (written by scripts/make_results_readme.py)
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
