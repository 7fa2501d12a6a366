// wgmma_sp step 12, "lazypromote": s10's promoted fp8 sums, promoted every P k-tiles with the batch kept in flight
// between promotions, and a 128 x 192 tile.
//
// What it adds over s10_promote: s10 waits for every k-tile's batch (wgmma.wait_group 0, s02's rhythm) and then adds
// its kAccRegs partial sums into the f32 registers, so per k-tile each consumer thread stops its instruction stream
// for the batch's whole latency and issues kAccRegs FADDs (64 at BN = 128), and the second accumulator set limits the
// tile to BN = 128 (128 + 128 registers at BN = 256 do not fit). On the H200 that costs 13-20% against int8's
// unpromoted s05 at the same tile, and the 128-wide tile another 15-20% (results/NOTES.md, session 7). Here:
// 1. the consumer's `part` accumulates P k-tiles (PROMOTE_EVERY) before it is added into the f32 registers, so the
//    wait for the whole batch and the kAccRegs FADDs come once per P k-tiles, not per k-tile;
// 2. inside a promotion interval the consumer keeps one batch in flight (s03's rhythm: wait_group 1, the previous
//    k-tile's stage released, the metadata registers alternated): only the interval's last k-tile is waited for;
// 3. BN = 192 (m64n192k64: 96 + 96 registers) now that the promotion is cheap enough to make the larger tile pay.
//
//   consumer's k-tiles, P = 2     kt0      kt1      | kt2      kt3      | ...
//   part                          =A.B     +=A.B    | =A.B     +=A.B    |      (first instruction: scale-d false)
//   wait_group                    1        0        | 1        0        |
//   stages released               -        kt0,kt1  | -        kt2,kt3  |
//   acc += part                            yes      |          yes      |
//
// Register account per consumer thread (setmaxnreg gives a consumer 232, kernel.cuh): acc and part, kAccRegs each
// (2 x 96 = 192 at BN = 192, 2 x 64 = 128 at BN = 128), the metadata of the batch issued and of the batch in flight
// (2 x kKSteps = 4), descriptors, ring position and loop state: the NOTE at the end of this header has the count.
// A second `part` set (so that the batch after a promotion is issued before the FADDs, and the tensor pipe never
// waits for them) needs 3 x kAccRegs: 192 at BN = 128, 288 at BN = 192; it was not taken: at BN = 128 the FADDs
// of a P = 2 interval (64 per thread per 2 k-tiles) are already covered by the other consumer's batch (256 tensor
// cycles of the SM per k-tile pair), and the 128-wide tile is the larger loss.
//
// Precision. The fp8 wgmma keeps about 14 bits of its running sum (docs/sparse-tensor-cores.md §9: products and the
// incoming accumulator aligned to the largest exponent, 14 significant bits kept). A promotion interval of P k-tiles
// is P x kKSteps instructions of the sparse m64nNk64 form, each summing kK / 2 = 32 nonzero products per output: P x
// 64 nonzero products per output per promotion. At P = 2 that is 4 instructions x 32 products = 128, exactly
// DeepGEMM's interval for dense fp8 (4 x m64nNk32 = 128 K between promotions), the same number of 14-bit
// accumulation steps over the same number of products: the same precision argument holds. P = 4 doubles it (256
// products, 8 instructions): the 14-bit truncations per interval double and the running sum they are relative to
// grows by sqrt(2). A CPU model of that reading of the instruction (results/NOTES.md, session 10) puts the f32
// sum's relative error at 0.7e-4 (P = 1), 1.2e-4 (P = 2), 2.0e-4 (P = 4) for e4m3-rounded normal inputs at K = 4096
// and 16384, an order below the bf16 output's own rounding, so the harness's normal check cannot tell them apart:
// P = 4 is timed beside P = 2 so that the price of DeepGEMM's interval is measured; P = 2 is the default.
// The dense twin (wgmma_dense/s12_lazypromote.cuh) sums P x 128 products per promotion (its k-tile is four
// m64nNk32 = 128 dense products): P = 2 is 256 there, twice DeepGEMM's interval.
// Exact mode (harness/problem.h: A and B in {-1, 0, 1}): every partial sum inside the instruction is an integer of
// magnitude <= P x 64 (sparse), which 14 bits hold exactly while P x 64 < 2^14, i.e. P < 256; the promoted f32 sum
// stays exact below 2^24 (the harness checks sum_k |a||b| < 2^24 on every problem). kProductsPerPromotion below is
// static_asserted against that bound. Small integers up to m in magnitude would need P x 64 x m^2 < 2^14 (m = 4:
// P <= 15; e4m3's largest exact integers, m = 16, fail even s10's P = 1).
//
// PREDICTION (H200, 8192^3 e4m3, bf16 D; written before any run of this step): 1300-1450 TFLOP/s for the 128x192
// P = 2 row, 0.68-0.75x cuSPARSELt e4m3 (1924 at 8192^3 in session 9's run), against s10's 1191 (0.62x). How:
// (a) the tile: the shared-memory data pipe (docs §5a) reads A 16 + B N/2 wavefronts per N/2 tensor cycles of an
//     m64nNk64 instruction pair, so it caps the tensor pipe at 64/80 = 0.80 (BN 128), 96/112 = 0.86 (BN 192) and
//     128/144 = 0.89 (BN 256); int8's unpromoted s05 measured 128x256 15-20% above 128x128 (the cap explains 11% of
//     it, the rest is per-k-tile work that a wider instruction amortises), so 128x192 should recover about 60% of
//     that: +9-12% over 128x128;
// (b) the promotion: s10's 13-20% loss against int8's 128x128 is the wait for every batch plus 64 FADDs per thread
//     per 128 of its own tensor cycles; at BN = 192, P = 2 it is one wait per 384 own tensor cycles and 96 FADDs
//     per 384 (half of s10's FADDs per own tensor cycle and a third of its full waits): expected 3-6% left;
// (c) int8 s05 128x128 measured 1313-1455 on the H200 (session 7/9 runs), e4m3 runs at int8's instruction rate
//     (ceiling 3214 against 3405): 1313-1455 x 1.09-1.12 x 0.94-0.97 = 1350-1580; the power-capped clock at the
//     higher rate takes some of it back: 1300-1450. P = 4 should add 1-3% over P = 2 at BN = 192; at BN = 128,
//     P = 2 alone should give s10 +8-12% (about 1300), which isolates (b) from (a).
// Not enough for the issue's >= 1.0x cuSPARSELt: that needs BN = 256 (promoted sums split across the consumers, or
// a ping-pong schedule with one consumer per tile) or A from registers; this step measures how much of the 38-44%
// gap the promotion's rhythm and the tile explain.
//
// This step defines LazyPromotingMainloop (s02's TmaMainloop: its producer, metadata read and batch issue, by name,
// with this consumer k-loop); the ring, cluster and epilogue are s05's (s04's), the scheduler s05's, as in s10.
// Preconditions, layouts: as s10_promote (8-bit geometry, LaneBlocks8 metadata, M % 16 == 0, K % 128 == 0; K need
// not be a multiple of P k-tiles: the k-tiles past a unit's last whole interval are promoted one by one). sm_90a
// only.
// NOTE (ptxas and cuobjdump, nvcc 13.0, sm_90a, every row of registry.def, sparse and dense): 0 bytes of spills and
// stack, no local loads or stores, no serialized wgmma (scripts/nvcc_guard.sh). ptxas reports 168 registers, the
// launch bound's cap (65536 / 384 threads); the consumer's share after setmaxnreg.inc is 232, and the highest
// register its SASS names is R206-R207 at BN = 192 (R141 at BN = 128): 25 to spare. The loop body per interval is
// what the picture above says: P = 2, BN = 192: 4 QGMMA.SP.64x192x64 (+ 2 for the k-tiles past the last whole
// interval), 2 WARPGROUP.DEPBAR (wait_group 1 and 0), 96 FADD.
// Measured: NVIDIA H200, 8192x8192x8192 e4m3, best tile 128x192x128: 1720.1 TFLOP/s, 1.36x cuBLAS (run nvidia-h200/session19_2026-12-04_3612276).
#pragma once

#include "kernels/wgmma_sp/s06_tmastore.cuh"
#include "kernels/wgmma_sp/s10_promote.cuh"

namespace sparse24::wgmma_sp {

// The fp8 wgmma's running-sum width (docs/sparse-tensor-cores.md §9, measured on an H200, dense and sparse forms).
inline constexpr int kFp8AccumulatorBits = 14;
// The largest |value| of the harness's exact-mode inputs (harness/problem.h, Fill::SmallInt: {-1, 0, 1}).
inline constexpr int kExactModeMaxInput = 1;

// s10's mainloop with the promotion every PROMOTE_EVERY k-tiles and one batch kept in flight inside an interval.
template <class RingT, int PROMOTE_EVERY>
struct LazyPromotingMainloop : TmaMainloop<RingT> {
  using Base = TmaMainloop<RingT>;
  using typename Base::Meta;
  using typename Base::Ring;
  using typename Base::Tile;
  static constexpr int kStages = Ring::kStages;
  static constexpr int kPromoteEvery = PROMOTE_EVERY;
  // Products per output that the instruction's 14-bit sum holds between two promotions: P k-tiles of BK dense k, of
  // which the sparse form multiplies BK / kAPack (2:4 keeps half), the dense twin all.
  static constexpr int kProductsPerPromotion = kPromoteEvery * Tile::kBK / Tile::Operands::kAPack;
  static_assert(std::is_same_v<typename Tile::Acc, float>, "promotion is into f32 registers");
  static_assert(Tile::Operands::kPromote, "the lazy promotion is for the fp8 forms (others: s03's mainloop)");
  static_assert(kPromoteEvery >= 1 && kPromoteEvery <= 8, "1..8 k-tiles per promotion (the loop is unrolled by P)");
  static_assert(kProductsPerPromotion * kExactModeMaxInput * kExactModeMaxInput < (1 << kFp8AccumulatorBits),
                "exact mode: an interval's partial sums must be integers that the fp8 wgmma's 14 bits hold");
  // The f32 sums and the instruction's: 2 x kAccRegs of the consumer's 232 registers (kernel.cuh), with at least 40
  // left for the metadata of two batches, descriptors, the ring position and the loop (ptxas: no spills at 192).
  static_assert(2 * Tile::kAccRegs <= 192, "the promoted sums and the instruction's: at most 192 registers");

  // The metadata registers of the batch in flight.
  struct Carried {
    uint32_t e_prev[Meta::kRegs];
  };

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
    intervals(acc, part, carried, ring, ring_generic, me, meta_lane, valid, it, w.k.begin, w.k.end);
  }

  // k-tiles [kt, end) in whole intervals of P, then the rest one by one. Whole intervals are unrolled, so that which
  // k-tile opens (scale-d false) and which closes (wait for all, promote) an interval is static. NOTE: a
  // wgmma.wait_group under a runtime branch makes ptxas serialize the wgmma (C7518, session 5;
  // scripts/nvcc_guard.sh), so the choice between wait_group 1 and 0 must not depend on the trip count: the k-tiles
  // past the last whole interval are promoted one by one instead (s10's rhythm, at most P - 1 of them per unit,
  // with fewer products per promotion: never less precise).
  static __device__ __forceinline__ void intervals(float (&acc)[Tile::kAccRegs], float (&part)[Tile::kAccRegs],
                                                   Carried& carried, const typename Ring::Smem& ring,
                                                   const uint8_t* ring_generic, const wgmma::ConsumerThread& me,
                                                   const wgmma::MetaLane& meta_lane, bool valid, int& it, int kt,
                                                   int end) {
    for (; kt + kPromoteEvery <= end; kt += kPromoteEvery) {
#pragma unroll
      for (int j = 0; j < kPromoteEvery; ++j) {
        if (j == 0)
          k_tile<true, kPromoteEvery == 1>(acc, part, carried, ring, ring_generic, me, meta_lane, valid, it);
        else if (j == kPromoteEvery - 1)
          k_tile<false, true>(acc, part, carried, ring, ring_generic, me, meta_lane, valid, it);
        else
          k_tile<false, false>(acc, part, carried, ring, ring_generic, me, meta_lane, valid, it);
      }
    }
    for (; kt < end; ++kt) k_tile<true, true>(acc, part, carried, ring, ring_generic, me, meta_lane, valid, it);
  }

  // One k-tile of an interval: wait for its stage, read its metadata, issue its batch into `part` (kFirst: from
  // zero). kLast: wait for every batch, release this stage and the previous one (if it was this interval's), and
  // add `part` into the f32 sums; otherwise leave this batch in flight and release the previous k-tile's stage,
  // whose batch has retired (s03's rhythm; the previous batch's metadata registers kept alive up to that wait).
  template <bool kFirst, bool kLast>
  static __device__ __forceinline__ void k_tile(float (&acc)[Tile::kAccRegs], float (&part)[Tile::kAccRegs],
                                                Carried& carried, const typename Ring::Smem& ring,
                                                const uint8_t* ring_generic, const wgmma::ConsumerThread& me,
                                                const wgmma::MetaLane& meta_lane, bool valid, int& it) {
    const int s = it % kStages;
    const uint32_t stage = ring.stage(s);
    ptx::mbarrier_wait(ring.full_bar(s), (it / kStages) & 1);
    uint32_t e[Meta::kRegs] = {};
    Base::read_metadata(e, ring_generic, s, meta_lane, valid);
    Base::template issue<kFirst>(part, stage, me.consumer, e);
    if constexpr (kLast) {
      ptx::wgmma_wait_group<0>();
      ptx::fence_registers(part);
      Meta::keep(carried.e_prev);
      if (me.lane == 0) {
        if constexpr (!kFirst) Ring::release(ring.empty_bar((it - 1) % kStages));
        Ring::release(ring.empty_bar(s));
      }
#pragma unroll
      for (int i = 0; i < Tile::kAccRegs; ++i) acc[i] += part[i];
    } else {
      ptx::wgmma_wait_group<1>();
      ptx::fence_registers(part);
      Meta::keep(carried.e_prev);
      if (!kFirst && me.lane == 0) Ring::release(ring.empty_bar((it - 1) % kStages));
    }
#pragma unroll
    for (int r = 0; r < Meta::kRegs; ++r) carried.e_prev[r] = e[r];
    ++it;
  }
};

// PROMOTE_EVERY: k-tiles per promotion (registry parameter "promote_every"). Store: the epilogue, by name
// (s06_tmastore.cuh): RegisterStore, s05's (s02's) registers' epilogue, or TmaStore, s06's D through shared-memory
// slabs and TMA stores (registry parameter "tma_store" 1; session 11, results/NOTES.md).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER, int PROMOTE_EVERY,
          class Out = wgmma::Unscaled, class Store = RegisterStore>
struct s12_lazypromote
    : wgmma::Kernel<s12_lazypromote<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PROMOTE_EVERY, Out, Store>,
                    LazyPromotingMainloop<typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER,
                                                                  Out>::Ring,
                                          PROMOTE_EVERY>,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Scheduler,
                    typename Store::template For<
                        typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Ring>> {
  // The skeleton's fields and the promotion interval (it tells two rows of one tile apart in the variant's name),
  // and the epilogue when it is not the registers' one.
  static Params params() {
    Params p = s12_lazypromote::Kernel::params();
    p.push_back({"promote_every", PROMOTE_EVERY});
    if (Store::kTmaStore) p.push_back({"tma_store", 1});
    return p;
  }
};

}  // namespace sparse24::wgmma_sp
