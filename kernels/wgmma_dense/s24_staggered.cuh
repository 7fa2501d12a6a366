// wgmma_dense step 24 (the dense twin of wgmma_sp/s24_staggered.cuh), "staggered": s12's promoted fp8 sums with
// consumer 1's promotion intervals P / 2 k-tiles after consumer 0's, on the same tiles as the sparse rows. The sparse
// header gives the reason (the two consumers' promotions no longer leave the tensor pipe empty at the same time);
// the precision argument is s12's (wgmma_dense/s12_lazypromote.cuh: P x 128 products per promotion).
// Preconditions, layouts: as wgmma_dense s12_lazypromote. sm_90a only.
#pragma once

#include "kernels/wgmma_dense/s05_persistent.cuh"
#include "kernels/wgmma_sp/s24_staggered.cuh"

namespace sparse24::wgmma_dense {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER, int PROMOTE_EVERY,
          class Out = wgmma::Unscaled>
struct s24_staggered
    : wgmma::Kernel<s24_staggered<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PROMOTE_EVERY, Out>,
                    wgmma_sp::StaggeredPromotingMainloop<typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES,
                                                                                 GROUP, CLUSTER, Out>::Ring,
                                                         PROMOTE_EVERY>,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Scheduler,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Epilogue> {
  // The skeleton's fields and the promotion interval, as the sparse step names it.
  static Params params() {
    Params p = s24_staggered::Kernel::params();
    p.push_back({"promote_every", PROMOTE_EVERY});
    return p;
  }
};

}  // namespace sparse24::wgmma_dense
