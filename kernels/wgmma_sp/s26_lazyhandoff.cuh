// wgmma_sp step 26, "lazyhandoff": s23's hand-off schedule for fp8 decode with s12's lazy promotion, so that one
// wgmma batch stays in flight between promotions.
//
// What it adds over s23_handoff: s23's fp8 rows use s10's PromotingMainloop (as s21's do), which waits for every
// k-tile's batch before it adds the batch's sums into the f32 registers, so an e4m3 decode CTA never has a batch in
// flight while it waits for its next stage and reads its next metadata; its 16-bit and int8 rows keep one in flight
// (s22's TwoSetInFlightMainloop). A second set of partial sums cannot overlap a promotion (ptxas serializes it: docs
// §6 item 11), but s12's LazyPromotingMainloop keeps the batch in flight *between* promotions and waits only at each
// interval's end. Here it runs on s23's units: with the wide k-tile (BK = 256 values, four m64nNk64 instructions,
// 128 nonzero products per output) and P = 2, a promotion comes every 256 products (s12 P = 4's count; s21's e4m3 rows
// promote every 128), and the k-tiles past a piece's last whole interval are promoted one by one.
//
// PREDICTION (H200, e4m3, N = 16; results/NOTES.md "Session 19: wgmma_sp.s26_lazyhandoff (prediction)"): what int8's
// in-flight loop gained over its waiting one at the same tile (s22 against s21: 0-1.6% on the large weights, 3-7% on
// the small ones), i.e. 8192x16x28672 41.8 -> 40.8-41.6 us (1.39-1.42x cuBLASLt fp8), 28672x16x8192 43.1 -> 42.2-43.0,
// 8192x16x8192 16.6 -> 15.6-16.3; rel_err as s12 P = 4's at large K.
// MEASURED (H200, session 19 call G; results/NOTES.md "Session 19, call G, measured"): against s23's e4m3 row, -3.6%
// at 28672x16x8192 (41.54 us, 1.456x cuBLASLt fp8), -1.4% at 8192x16x28672 (41.92, 1.385x: still under 1.4x),
// -0.4% at 8192x16x8192, -7.3% at 14336x16x4096 (14.69, 1.322x); rel_err 0.00166-0.00167.
// Session 20 (results/NOTES.md "Session 20: ..." and calls A-E): P = 4 (a promotion every 512 products, s12 P = 8's
// count; rel_err 0.00168) is 1.3-4.2% faster than P = 2 on four weights (4.1% slower at 14336x16x4096), and s23's
// 64-row tile (one consumer warpgroup, 128 CTAs on the 8192-row weights) takes a further 1-4% there:
// 8192x16x28672 64 x 16 P = 4 39.62-39.95 us, 88.6-90.2% of the copy rate, 1.419-1.442x cuBLASLt fp8 in four runs;
// 28672x16x8192 (128 x 16 P = 4 or P = 2) 41.28-41.89 us, 1.396-1.434x.
// Preconditions: s23's. sm_90a only; fp8 only (the 16-bit and int8 rows are s23's).
#pragma once

#include "kernels/wgmma_sp/s12_lazypromote.cuh"
#include "kernels/wgmma_sp/s23_handoff.cuh"

namespace sparse24::wgmma_sp {

// Arguments as s23's, and PROMOTE_EVERY (>= 2: one batch in flight inside an interval) after GROUP.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int PROMOTE_EVERY,
          class Out = wgmma::Unscaled>
struct s26_lazyhandoff
    : wgmma::Kernel<s26_lazyhandoff<T, BM, BN, BK, WM, WN, STAGES, GROUP, PROMOTE_EVERY, Out>,
                    HandoffMainloop<LazyPromotingMainloop<
                        wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN, Out>,
                                         LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN, Out>>, STAGES>,
                        PROMOTE_EVERY>>,
                    HandoffRunUnits<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP>,
                    HandoffEpilogue<RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN, Out>>>> {
  using Tile = SparseTile<T, BM, BN, BK, WM, WN, Out>;
  static_assert(Tile::kARowBytes == 128 && Tile::kBPanels == 2, "s21's wide k-tile");
  static_assert(T == DType::e4m3 || T == DType::e5m2, "fp8 (the other types keep a batch in flight in s23)");
  static_assert((BM == 128 && (BN == 16 || BN == 32)) || (BM == 64 && BN == 16),
                "the decode tiles, and s23's 64 x 16");
  static_assert(WM * 16 == BM, "one consumer warpgroup (four warps) per 64 rows");
  static_assert(PROMOTE_EVERY >= 2, "P = 1 waits for every batch: s23's own fp8 loop");
  static Params params() {
    Params p = s26_lazyhandoff::Kernel::params();
    p.push_back({"promote_every", PROMOTE_EVERY});
    return p;
  }
};

}  // namespace sparse24::wgmma_sp
