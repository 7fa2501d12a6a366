// wgmma_dense step 08 (the dense twin of wgmma_sp/s08_splitk.cuh), "splitk": s06's non-persistent clusters with K
// cut into slices, f32 partials and the deterministic reduction of kernels/common/splitk.cuh.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 661.8 TFLOP/s = 103% of the mma.sync m16n8k16 loop (641), 0.96x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_3157a7e).
#pragma once

#include "kernels/wgmma_dense/s06_tmastore.cuh"
#include "kernels/wgmma_sp/s08_splitk.cuh"

namespace sparse24::wgmma_dense {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER, int SPLIT>
struct s08_splitk
    : wgmma::Kernel<
          s08_splitk<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, SPLIT>,
          typename s06_tmastore<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, false>::Mainloop,
          wgmma_sp::SplitKUnits<DenseTile<T, BM, BN, BK, WM, WN>, GROUP, wgmma_sp::Multicast<CLUSTER>, SPLIT>,
          wgmma_sp::PartialsEpilogue<
              typename s06_tmastore<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, false>::Epilogue,
              wgmma_sp::SecondLaunchReduction<DenseTile<T, BM, BN, BK, WM, WN>>>> {};

}  // namespace sparse24::wgmma_dense
