// wgmma_dense step 04 (the dense twin of wgmma_sp/s04_multicast.cuh), "multicast": s03 with CLUSTER CTAs of
// adjacent row blocks sharing each B tile through TMA multicast. Per CTA and k-tile, L2 reads fall from 16 + 32 KB
// to 16 + 16 KB (cluster 2) or 16 + 8 KB (cluster 4); A, now twice the sparse kernel's, is not shared.
// Preconditions, layouts: as wgmma_dense s02_tma; the grid is whole clusters, as in the sparse step.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 619.9 TFLOP/s = 96% of the mma.sync m16n8k16 loop (643), 0.88x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_cd5d834).
#pragma once

#include "kernels/wgmma_dense/s03_inflight.cuh"
#include "kernels/wgmma_sp/s04_multicast.cuh"

namespace sparse24::wgmma_dense {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          class Out = wgmma::Unscaled>
struct s04_multicast
    : wgmma::Kernel<s04_multicast<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>,
                    wgmma_sp::InFlightMainloop<typename s03_inflight<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>::Ring::
                                                   template WithCluster<wgmma_sp::Multicast<CLUSTER>>>,
                    wgmma_sp::OneTilePerCta<DenseTile<T, BM, BN, BK, WM, WN, Out>, GROUP, wgmma_sp::Multicast<CLUSTER>>,
                    typename s03_inflight<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>::Epilogue> {};

}  // namespace sparse24::wgmma_dense
