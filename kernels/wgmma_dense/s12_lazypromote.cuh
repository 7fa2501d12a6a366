// wgmma_dense step 12 (the dense twin of wgmma_sp/s12_lazypromote.cuh), "lazypromote": s10's promoted fp8 sums,
// added into the f32 registers every P k-tiles with the batch kept in flight inside an interval, on the same tiles
// as the sparse rows. A dense k-tile is four m64nNk32 instructions (128 products per output), so an interval of P
// k-tiles sums P x 128 products in the instruction's 14 bits: P = 2 is 256, twice DeepGEMM's 128 (the sparse step's
// P = 2 is exactly 128); the sparse header gives the precision argument and the exact-mode bound
// (LazyPromotingMainloop::kProductsPerPromotion, static_asserted).
// Preconditions, layouts: as wgmma_dense s02_tma with the 8-bit geometry (BK = 128 values). sm_90a only.
#pragma once

#include "kernels/wgmma_dense/s05_persistent.cuh"
#include "kernels/wgmma_sp/s12_lazypromote.cuh"

namespace sparse24::wgmma_dense {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER, int PROMOTE_EVERY,
          class Out = wgmma::Unscaled>
struct s12_lazypromote
    : wgmma::Kernel<s12_lazypromote<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PROMOTE_EVERY, Out>,
                    wgmma_sp::LazyPromotingMainloop<typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP,
                                                                            CLUSTER, Out>::Ring,
                                                    PROMOTE_EVERY>,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Scheduler,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Epilogue> {
  // The skeleton's fields and the promotion interval, as the sparse step names it.
  static Params params() {
    Params p = s12_lazypromote::Kernel::params();
    p.push_back({"promote_every", PROMOTE_EVERY});
    return p;
  }
};

}  // namespace sparse24::wgmma_dense
