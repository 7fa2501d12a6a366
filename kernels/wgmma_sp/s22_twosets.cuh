// wgmma_sp step 22, "twosets": s21's wide k-tiles with one wgmma batch left in flight again, its metadata in a
// register set of its own.
//
// What it adds over s21_widebox: the batch in flight that s21 had to give up. s21 waits for each k-tile's batch
// because s03's InFlightMainloop, on the wide tile, let ptxas load the next k-tile's metadata into the registers
// the batch in flight still read (session 17, call A; docs/sparse-tensor-cores.md §6 item 10). Here the k-loop is
// unrolled by two in the source, k-tiles alternating between two named metadata sets (e0 for even, e1 for odd
// k-tiles of a unit), so that the set a new k-tile writes is the one whose batch the last wait retired. The
// source cannot make ptxas keep the sets apart (an asm statement that names a register emits no PTX); what makes
// the kernel right is checked where it is decided, in the SASS: scripts/check_wgmma_operands.py (CTest `build:
// wgmma_operands`) fails the build if any instruction writes a sparse wgmma's metadata register before the wait
// that retires it, and it passes every row of this step.
//
// Why: at 8 bits and at the band's N = 128 a k-tile's wgmma batch is long enough that waiting for it shows (session
// 17, call B: int8 28672x16x8192 44.74 us waiting for each batch against 41.07 with one in flight; at 128 x 128 the
// batch is ~20% of a k-tile's streaming time).
//
// PREDICTION (H200, same run as s21; results/NOTES.md "Session 17: wgmma_sp.s22_twosets (prediction)"): int8
// 28672x16x8192 44.7 -> 41-42 us (call A's in-flight time); 16-bit decode (N = 16) within +-1% of s21; 128 x 128 at
// 8192x128x8192 and 8192x256x8192 -2 to -6%.
// MEASURED (H200, session 17, calls E and F): int8 28672x16x8192 41.76 / 40.83 us (1.04-1.05x cuSPARSELt); fp16
// 28672x16x8192 71.01 / 71.94 us, 0.970-0.980x cuSPARSELt, the fastest of our rows on both large decode weights (-2%
// against s21, where +-1% was predicted); 128 x 128 -2% to +1% against s21 (the wait was not what held it).
// Preconditions: s21's. sm_90a only.
#pragma once

#include "kernels/wgmma_sp/s21_widebox.cuh"

namespace sparse24::wgmma_sp {

// s03's rhythm (issue k-tile kt, wait until at most one batch is pending, release kt - 1's stage) with the metadata
// of even and odd k-tiles in two register sets.
template <class RingT>
struct TwoSetInFlightMainloop : TmaMainloop<RingT> {
  using Base = TmaMainloop<RingT>;
  using typename Base::Meta;
  using typename Base::Ring;
  using typename Base::Tile;
  static constexpr int kStages = Ring::kStages;
  static_assert(!Tile::Operands::kPromote, "fp8 sums need f32 promotion: s10's PromotingMainloop");

  struct Carried {};

  // One k-tile at ring position `it` with the metadata set `mine`; the batch in flight (the previous k-tile's, if
  // `first` is false) reads the other set.
  static __device__ __forceinline__ void step(typename Tile::Acc (&acc)[Tile::kAccRegs], uint32_t (&mine)[Meta::kRegs],
                                              const typename Ring::Smem& ring, const uint8_t* ring_generic,
                                              const wgmma::ConsumerThread& me, const wgmma::MetaLane& meta_lane,
                                              bool valid, bool first, int& it) {
    const int s = it % kStages;
    ptx::mbarrier_wait(ring.full_bar(s), (it / kStages) & 1);
    Base::read_metadata(mine, ring_generic, s, meta_lane, valid);
    Base::issue(acc, ring.stage(s), me.consumer, mine);
    ptx::wgmma_wait_group<1>();
    ptx::fence_registers(acc);
    if (!first && me.lane == 0) Ring::release(ring.empty_bar((it - 1) % kStages));
    ++it;
  }

  template <bool kSlicesMayBeEmpty>
  static __device__ __forceinline__ void consume(typename Tile::Acc (&acc)[Tile::kAccRegs], Carried&,
                                                 const GemmArgs& args, const wgmma::Work& w,
                                                 const typename Ring::Smem& ring, const uint8_t* ring_generic,
                                                 const wgmma::ConsumerThread& me, const wgmma::MetaLane& meta_lane,
                                                 int& it) {
    const bool valid = Meta::valid(meta_lane, w.o.m, args.M);
#pragma unroll
    for (int i = 0; i < Tile::kAccRegs; ++i) acc[i] = typename Tile::Acc(0);
    uint32_t e0[Meta::kRegs], e1[Meta::kRegs];
    int kt = w.k.begin;
    for (; kt + 1 < w.k.end; kt += 2) {
      step(acc, e0, ring, ring_generic, me, meta_lane, valid, kt == w.k.begin, it);
      step(acc, e1, ring, ring_generic, me, meta_lane, valid, false, it);
    }
    if (kt < w.k.end) step(acc, e0, ring, ring_generic, me, meta_lane, valid, kt == w.k.begin, it);
    ptx::wgmma_wait_group<0>();
    ptx::fence_registers(acc);
    // The unit's last stage (an empty slice used none).
    if ((!kSlicesMayBeEmpty || w.k.end > w.k.begin) && me.lane == 0)
      Ring::release(ring.empty_bar((it - 1) % kStages));
  }
};

// Arguments as s21's; 16-bit and int8 (fp8 promotes each k-tile and so waits for each batch: s21 is its step).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int SPLIT,
          class Out = wgmma::Unscaled>
struct s22_twosets
    : wgmma::Kernel<s22_twosets<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT, Out>,
                    TwoSetInFlightMainloop<wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN, Out>,
                                                            LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN, Out>>, STAGES>>,
                    TriggerAtLastUnit<NarrowSplitKUnits<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP, SPLIT>>,
                    PartialsEpilogue<RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN, Out>>,
                                     DependentLaunchReduction<SparseTile<T, BM, BN, BK, WM, WN, Out>>>> {
  using Tile = SparseTile<T, BM, BN, BK, WM, WN, Out>;
  static_assert(Tile::kARowBytes == 128 && Tile::kBPanels == 2, "s21's wide k-tile");
  static_assert(T == DType::fp16 || T == DType::bf16 || T == DType::int8, "fp16, bf16 or int8");
  static_assert(BM == 128 && (BN == 16 || BN == 32 || BN == 64 || BN == 128), "s21's tiles");
  static_assert(SPLIT != 1, "s16's reduction launch: SPLIT 0 (chosen) or 2..kMaxSplit");
};

}  // namespace sparse24::wgmma_sp
