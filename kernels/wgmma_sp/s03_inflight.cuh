// wgmma_sp step 03, "inflight": s02's TMA ring, with each consumer keeping one wgmma batch in flight across
// k-tiles, its metadata registers double-buffered.
//
// What it adds over s02_tma: a consumer of s02 issues the k-tile's wgmma, then waits for all of them
// (wgmma.wait_group 0) before it releases the stage and reads the next metadata, so its instruction stream stops
// at every k-tile and only the other consumer keeps the tensor cores busy meanwhile. Here it waits with
// wait_group 1: the batch of k-tile kt may still run while the consumer reads k-tile kt+1's metadata and issues
// its wgmma; the stage of kt-1, whose batch is then known complete, is the one released. The metadata register
// that the in-flight batch reads must not be overwritten, so the k-tile's `e` registers alternate with the previous
// one's (e / e_prev, the previous kept alive up to the wait that retires its batch: ptx::keep_register). This is
// the difference the issue points out in CUTLASS's sm90 sparse mainloops, which wait for every wgmma before
// reloading their single metadata register buffer.
//
// This step defines InFlightMainloop: s02's TmaMainloop (its producer, metadata read and batch issue, by name) with
// this consumer k-loop; the scheduler and epilogue are s02's.
//
// Preconditions, layouts, tile: as s02_tma.
// Expected: the consumer's gap between k-tiles (barrier poll, two shared loads, descriptor arithmetic, issue) no
// longer leaves its share of the tensor pipe idle; see results/NOTES.md for the prediction.
// NOTE: results/NOTES.md's table for this step (850.7 TFLOP/s at 8192^3, bf16 128x256) is run 2026-11-22_9940e5f,
// the step's first; the line below is the newest committed run that has the step (scripts/make_results_readme.py
// writes it), where the same variant measured 838.0 (bench.json of both runs).
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 838.0 TFLOP/s = 87% of the mma.sp m16n8k32 loop (959), 1.16x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_fff01ae).
#pragma once

#include "kernels/wgmma_sp/s02_tma.cuh"

namespace sparse24::wgmma_sp {

// s02's mainloop with one wgmma batch left in flight per consumer: after issuing k-tile kt's batch the consumer
// waits until at most one batch is pending (wait_group 1), so kt-1's batch is complete: its stage is released and
// its metadata registers may be reused. The last batch of a unit is waited for (wait_group 0) before the epilogue
// reads the accumulators, and its stage released then.
template <class RingT>
struct InFlightMainloop : TmaMainloop<RingT> {
  using Base = TmaMainloop<RingT>;
  using typename Base::Meta;
  using typename Base::Ring;
  using typename Base::Tile;
  static constexpr int kStages = Ring::kStages;

  // kSlicesMayBeEmpty: a unit may have no k-tile (s08's split-K with more slices than k-tiles); then there is no
  // last stage to release.
  // The metadata registers of the batch still in flight.
  struct Carried {
    uint32_t e_prev[Meta::kRegs];
  };

  template <bool kSlicesMayBeEmpty>
  static __device__ __forceinline__ void consume(typename Tile::Acc (&acc)[Tile::kAccRegs], Carried& carried,
                                                 const GemmArgs& args, const wgmma::Work& w,
                                                 const typename Ring::Smem& ring, const uint8_t* ring_generic,
                                                 const wgmma::ConsumerThread& me, const wgmma::MetaLane& meta_lane,
                                                 int& it) {
    static_assert(!Tile::Operands::kPromote, "fp8 sums need f32 promotion: s10's PromotingMainloop");
    const bool valid = Meta::valid(meta_lane, w.o.m, args.M);
#pragma unroll
    for (int i = 0; i < Tile::kAccRegs; ++i) acc[i] = typename Tile::Acc(0);
    uint32_t(&e_prev)[Meta::kRegs] = carried.e_prev;
#pragma unroll
    for (int r = 0; r < Meta::kRegs; ++r) e_prev[r] = 0;
    for (int kt = w.k.begin; kt < w.k.end; ++kt, ++it) {
      const int s = it % kStages;
      const uint32_t stage = ring.stage(s);
      ptx::mbarrier_wait(ring.full_bar(s), (it / kStages) & 1);
      uint32_t e[Meta::kRegs] = {};
      Base::read_metadata(e, ring_generic, s, meta_lane, valid);
      Base::issue(acc, stage, me.consumer, e);
      ptx::wgmma_wait_group<1>();
      ptx::fence_registers(acc);
      // The previous k-tile's batch has completed: its metadata registers may be reused and its stage released.
      Meta::keep(e_prev);
      if (kt > w.k.begin && me.lane == 0) Ring::release(ring.empty_bar((it - 1) % kStages));
#pragma unroll
      for (int r = 0; r < Meta::kRegs; ++r) e_prev[r] = e[r];
    }
    ptx::wgmma_wait_group<0>();
    ptx::fence_registers(acc);
    Meta::keep(e_prev);
    // The unit's last stage (an empty slice used none).
    if ((!kSlicesMayBeEmpty || w.k.end > w.k.begin) && me.lane == 0)
      Ring::release(ring.empty_bar((it - 1) % kStages));
  }
};

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, class Out = wgmma::Unscaled>
struct s03_inflight
    : wgmma::Kernel<s03_inflight<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>,
                    InFlightMainloop<typename s02_tma<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>::Ring>,
                    typename s02_tma<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>::Scheduler,
                    typename s02_tma<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>::Epilogue> {};

}  // namespace sparse24::wgmma_sp
