// wgmma_dense step 06 (the dense twin of wgmma_sp/s06_tmastore.cuh), "tmastore": s05's persistent clusters with
// D written through 64 x 64 shared-memory slabs and TMA stores (beta = 0 and 16-byte aligned rows; else s05's
// epilogue). 4 stages of 48 KB + 2 slabs of 8 KB = 209 KB.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 665.1 TFLOP/s = 104% of the mma.sync m16n8k16 loop (638), 0.97x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_731aa7e).
#pragma once

#include <type_traits>

#include "kernels/wgmma_dense/s05_persistent.cuh"
#include "kernels/wgmma_sp/s06_tmastore.cuh"

namespace sparse24::wgmma_dense {

// PERSISTENT = false: the same epilogue on s04's one-CTA-per-tile grid (at 16384^3 s04 beats s05: the persistent
// clusters drift apart, results/NOTES.md).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          bool PERSISTENT = true>
struct s06_tmastore
    : wgmma::Kernel<s06_tmastore<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PERSISTENT>,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>::Mainloop,
                    typename std::conditional_t<
                        PERSISTENT, s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>,
                        s04_multicast<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>>::Scheduler,
                    wgmma_sp::TmaStoreEpilogue<DenseTile<T, BM, BN, BK, WM, WN>>> {};

}  // namespace sparse24::wgmma_dense
