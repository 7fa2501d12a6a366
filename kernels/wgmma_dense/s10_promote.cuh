// wgmma_dense step 10 (the dense twin of wgmma_sp/s10_promote.cuh), "promote": s05's persistent clusters for fp8
// inputs, each k-tile's sum (four m64nNk32 instructions, the first with scale-d false) added into f32 registers
// after its batch retires: the dense fp8 wgmma keeps about 14 bits of its running sum, as the sparse one does
// (docs/sparse-tensor-cores.md §9).
// Preconditions, layouts: as wgmma_dense s02_tma with the 8-bit geometry (BK = 128 values). sm_90a only.
#pragma once

#include "kernels/wgmma_dense/s05_persistent.cuh"
#include "kernels/wgmma_sp/s10_promote.cuh"

namespace sparse24::wgmma_dense {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          class Out = wgmma::Unscaled>
struct s10_promote
    : wgmma::Kernel<s10_promote<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>,
                    wgmma_sp::PromotingMainloop<typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP,
                                                                        CLUSTER, Out>::Ring>,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Scheduler,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Epilogue> {};

}  // namespace sparse24::wgmma_dense
