// wgmma_dense step 03 (the dense twin of wgmma_sp/s03_inflight.cuh), "inflight": s02's ring with each consumer
// leaving one wgmma batch in flight across k-tiles (wgmma.wait_group 1), releasing the stage of the previous
// k-tile. There is no metadata register to double-buffer here: the sparse step's extra cost is absent.
// Preconditions, layouts: as wgmma_dense s02_tma.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 628.7 TFLOP/s = 97% of the mma.sync m16n8k16 loop (648), 0.87x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_fff01ae).
#pragma once

#include "kernels/wgmma_dense/s02_tma.cuh"
#include "kernels/wgmma_sp/s03_inflight.cuh"

namespace sparse24::wgmma_dense {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, class Out = wgmma::Unscaled>
struct s03_inflight
    : wgmma::Kernel<s03_inflight<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>,
                    wgmma_sp::InFlightMainloop<typename s02_tma<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>::Ring>,
                    typename s02_tma<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>::Scheduler,
                    typename s02_tma<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>::Epilogue> {};

}  // namespace sparse24::wgmma_dense
