// wgmma_sp step 24, "staggered": s12's promoted fp8 sums with the two consumer warpgroups' promotions half an
// interval apart, so that one consumer's promotion runs while the other's batches keep the tensor pipe busy.
//
// What it adds over s12_lazypromote: in s12 both consumers of a tile open and close their promotion intervals at the
// same k-tiles. They wait on the same stages and issue the same amount of work, so they run in step, and at every
// interval's end both wait for their last batch to retire (wgmma.wait_group 0) and then issue their kAccRegs FADDs
// (96 at BN = 192) at the same time: the SM's tensor pipe has nothing queued from either until the next batch is
// issued. Here consumer 1 first promotes P / 2 k-tiles one by one (the same one-by-one rhythm as the k-tiles past a
// unit's last whole interval) and then runs whole intervals of P, so its interval boundaries fall in the middle of
// consumer 0's intervals:
//
//   k-tile                  0     1     2     3     4     5     ...     (P = 2)
//   consumer 0 promotes           yes         yes         yes
//   consumer 1 promotes     yes         yes         yes         ...      (its first k-tile alone: the stagger)
//
// While one consumer waits for its last batch and adds `part` into `acc`, the other has a batch in flight and the
// next one about to issue. Nothing else changes: the tile, the ring, the epilogue and the scheduler are s12's, and
// each consumer's intervals still sum at most P x 64 products in the instruction's 14 bits (consumer 1's head
// intervals sum fewer: never less precise). The cost is one more promotion per unit in consumer 1 (at P = 2 and
// K = 8192, 33 instead of 32; at P = 4, two more), each overlapped with consumer 0's work.
//
// Why only across consumers: a consumer cannot overlap its own promotion with its own next batch. ptxas serializes a
// non-wgmma read of accumulators while a batch is in flight, even of other registers (C7514; docs §6 item 11), and a
// second `part` set needs 3 x 96 registers at BN = 192. The two consumers are separate instruction streams, so
// ptxas sees in each one a promotion after wait_group 0, as in s12.
//
// The premise, from before the run (results/NOTES.md, session 12): ncu at 8192^3 puts s12 P = 2's FMA
// pipe at 24% busy, which is its FADDs alone (2 warps x 96 per SMSP per 768 SM tensor cycles = 25%), and s12 runs
// 1.17-1.37x the time of the same tile family without promotion (ablations.s06_fp8fastaccum, 128 x 256). How much of
// that is the promotion's bubble and how much the narrower tile is what the 128 x 192 ablation row beside this step
// measures (results/NOTES.md, "Session 19: wgmma_sp.s24_staggered (prediction)").
//
// MEASURED (H200, session 19 call A, results/nvidia-h200/session19_2026-12-04_022c145/; results/NOTES.md "Session 19,
// call A, measured"): a measured negative. s24 is 1.02-1.03x s12's time at P = 2 and 0.996-1.024x at P = 4 over the
// four large shapes (8192³: 715.7 against 703.1 us, 659.1 against 652.4), and ncu's durations agree (8192³: 594.9
// against 595.6 us at P = 2, 552.9 against 545.2 at P = 4; the FMA pipe 22.8% / 23.4% and 16.2% / 16.2%). The dense
// twin is 4-6% slower than s12's dense row. So the premise is wrong: a promotion does not cost the SM's tensor pipe a
// bubble that the other consumer's batches can fill. It costs the promoting consumer its own time (the drain, the
// FADDs, the refill). Our reading (not profiled at the instruction level): each consumer's own k-loop sets its
// share of the rate, and one consumer's batches alone in flight do not keep the pipe as busy as both do, so whichever
// consumer is promoting, the SM loses that consumer's share for the promotion's time. Kept as the evidence; the way
// forward is fewer promotions (s12's P = 8 row) and a wider tile, not a different phase.
//
// This step defines StaggeredPromotingMainloop (s12's LazyPromotingMainloop with a head of P / 2 single k-tiles in
// consumer 1); the rest is s12's composition. Preconditions, layouts: as s12_lazypromote. sm_90a only.
// NOTE (ptxas, nvcc 13.0, sm_90a): see the registry's rows; the consumer's head loop is the tail loop's form (a
// runtime trip count around a statically chosen wait_group 0), which ptxas compiles without serializing (s12).
#pragma once

#include "kernels/wgmma_sp/s12_lazypromote.cuh"

namespace sparse24::wgmma_sp {

// s12's mainloop with consumer 1's intervals shifted by P / 2 k-tiles.
template <class RingT, int PROMOTE_EVERY>
struct StaggeredPromotingMainloop : LazyPromotingMainloop<RingT, PROMOTE_EVERY> {
  using Base = LazyPromotingMainloop<RingT, PROMOTE_EVERY>;
  using typename Base::Carried;
  using typename Base::Meta;
  using typename Base::Ring;
  using typename Base::Tile;
  // Consumer 1's head: this many k-tiles promoted one by one before its first whole interval.
  static constexpr int kStagger = PROMOTE_EVERY / 2;
  static_assert(kStagger >= 1, "a stagger needs intervals of at least 2 k-tiles (P = 1 promotes every k-tile)");
  static_assert(Tile::kConsumers == 2, "the stagger is between the two consumers of a 128-row tile");

  template <bool kSlicesMayBeEmpty>
  static __device__ __forceinline__ void consume(float (&acc)[Tile::kAccRegs], Carried& carried,
                                                 const GemmArgs& args, const wgmma::Work& w,
                                                 const typename Ring::Smem& ring, const uint8_t* ring_generic,
                                                 const wgmma::ConsumerThread& me, const wgmma::MetaLane& meta_lane,
                                                 int& it) {
    const bool valid = Meta::valid(meta_lane, w.o.m, args.M);
#pragma unroll
    for (int i = 0; i < Tile::kAccRegs; ++i) acc[i] = 0.0f;
#pragma unroll
    for (int r = 0; r < Meta::kRegs; ++r) carried.e_prev[r] = 0;
    float part[Tile::kAccRegs];  // written, not read, by each interval's first instruction (scale-d false)
    int kt = w.k.begin;
    const int head_end = min(w.k.end, kt + (me.consumer == 1 ? kStagger : 0));
    for (; kt < head_end; ++kt)
      Base::template k_tile<true, true>(acc, part, carried, ring, ring_generic, me, meta_lane, valid, it);
    Base::intervals(acc, part, carried, ring, ring_generic, me, meta_lane, valid, it, kt, w.k.end);
  }
};

// Parameters: as s12_lazypromote (PROMOTE_EVERY >= 2; Store: RegisterStore or TmaStore, s06_tmastore.cuh).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER, int PROMOTE_EVERY,
          class Out = wgmma::Unscaled, class Store = RegisterStore>
struct s24_staggered
    : wgmma::Kernel<s24_staggered<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PROMOTE_EVERY, Out, Store>,
                    StaggeredPromotingMainloop<typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER,
                                                                       Out>::Ring,
                                               PROMOTE_EVERY>,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Scheduler,
                    typename Store::template For<
                        typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Ring>> {
  // The skeleton's fields, the promotion interval and the epilogue when it is not the registers' one (as s12).
  static Params params() {
    Params p = s24_staggered::Kernel::params();
    p.push_back({"promote_every", PROMOTE_EVERY});
    if (Store::kTmaStore) p.push_back({"tma_store", 1});
    return p;
  }
};

}  // namespace sparse24::wgmma_sp
