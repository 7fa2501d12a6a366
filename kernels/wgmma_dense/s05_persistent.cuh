// wgmma_dense step 05 (the dense twin of wgmma_sp/s05_persistent.cuh), "persistent": s04's clusters launched once
// per group of SMs that fits at once, walking the tiles in grouped order with the ring running on across tiles.
// Preconditions, layouts: as wgmma_dense s02_tma and s04.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 645.2 TFLOP/s = 100% of the mma.sync m16n8k16 loop (643), 0.92x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_cd5d834).
#pragma once

#include "kernels/wgmma_dense/s04_multicast.cuh"
#include "kernels/wgmma_sp/s05_persistent.cuh"

namespace sparse24::wgmma_dense {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          class Out = wgmma::Unscaled>
struct s05_persistent
    : wgmma::Kernel<s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>,
                    typename s04_multicast<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Mainloop,
                    wgmma_sp::PersistentScheduler<DenseTile<T, BM, BN, BK, WM, WN, Out>, GROUP,
                                                  wgmma_sp::Multicast<CLUSTER>>,
                    typename s04_multicast<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Epilogue> {};

}  // namespace sparse24::wgmma_dense
