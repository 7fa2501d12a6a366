// wgmma_sp step 18, "pingpong": s06's persistent clusters and TMA-store epilogue, with the two consumer warpgroups
// taking alternate whole units of work (a 64 x BN tile each), so that one stores its tile while the other computes.
//
// Why (results/NOTES.md, "Session 13 (2026-12-03): call A, predictions" and "Session 13, call A, measured"): a
// fit of time per round of 128 x 256 tiles = a + b K to session 11's epi8.json gave int8 s06 a = 5.6 us per round
// that does not shrink with K (b = 4.0 us per 1024 K), cuSPARSELt a ~ 0. Call A's one-run K sweep at 8192 x 8192 x K
// corrected it: int8 s06 a = 3.4 us (5 stages) / 4.2 (4 stages), b = 4.24 / 4.15; cuSPARSELt a = 3.1, b = 4.16 (the
// library pays the same per-round cost; session 11's 0.86-0.89x was its faster run, not our slower one); bf16 s06
// a = 1.2, b = 8.63, s07 a = 3.1, b = 8.24, cuSPARSELt a = 3.2, b = 8.17. So int8 s06 is 0.95-0.99x cuSPARSELt at
// every K, and a per-round cost of ~3.4 us is 9% of a K = 8192 int8 round (~37 us), ~2-4% of a bf16 one. The
// hypothesis this step tests: a is (mostly) the epilogue, during which the tensor pipe idles because BOTH consumer
// warpgroups of s06 store their halves of the same tile at the same time (and the next tile's first k-tiles wait
// behind them); hiding it under the other warpgroup's k-loop puts int8 past cuSPARSELt by up to that much.
//
// What it adds over s06_tmastore: a unit is a 64 x BN tile (BM = 64, one m64nBNk wgmma.sp per k-step), and the
// block's two consumer warpgroups take the CTA's units in turn (wgmma/kernel.cuh's Alternating<2>, named by this
// step's AlternatingScheduler): consumer 0 units 0, 2, 4, ... of the CTA's walk, consumer 1 units 1, 3, 5, ....
// The producer is s05's, unchanged: it loads every unit's k-tiles, in order, into the one ring; a consumer steps its
// ring position over the other's k-tiles. So while consumer 0 converts and TMA-stores its tile, consumer 1 runs its
// k-loop on stages the producer has already filled, and the tensor pipe always has one warpgroup feeding it:
//
//   consumer 0  | k-loop unit 0 | store 0 | (wait) | k-loop unit 2 | store 2 | ...
//   consumer 1  |     (wait)    | k-loop unit 1    | store 1 | (wait) | k-loop unit 3 | ...
//   producer    | unit 0's k-tiles, unit 1's, unit 2's, ... as stages empty
//
// The hand-off (pass_turn / wait_turn, named barriers 5 and 6 of 256 threads: the sender's 128 arrive, the
// receiver's 128 wait): a consumer starts a unit's k-loop only after the previous unit's consumer has finished
// its own. NOTE: this barrier is needed for correctness, not only for the order. The ring's order alone does
// stagger the consumers (the producer fills unit 1's first stage only after unit 0's consumer has emptied the
// stage it reuses), but a consumer waits for "full" by PARITY (round & 1), and a parity wait cannot tell round r
// from round r - 2: consumer 1's first k-tile is K / BK positions, i.e. many rounds, ahead of the ring at the
// start, so its wait on stage s would return on the completion of an older round of s (the stage of unit 0's k-tile
// s, for the first unit) and it would compute on another unit's data. After the hand-off, the previous unit's
// k-tiles have all been full, so every stage is at most one round behind the position a consumer waits for, as in
// s06. The price: at each hand-off the pipe runs only the previous unit's last batch while the next consumer
// wakes up (barrier, zeroing its accumulators, the first stage's metadata and descriptors: a few hundred cycles).
// The hand-off could come one batch earlier (after the last k-tile's full wait, as CUTLASS's ping-pong orders
// its math warpgroups); it is here after the k-loop, in the skeleton, to keep the mainloop s05's by name.
//
// Register account: 2 consumers x 232 registers + a producer of 40 (kernel.cuh's consumer_regs(2), as s06): the
// 64 x 256 accumulator is 128 registers per thread (64 x 256 / 128, f32 or s32), as each of s06's consumers.
// ptxas (sm_90a, nvcc 13.0): 168 at entry, no spills, every HGMMA sparse (scripts/check_sass.py).
// Shared memory (kernel.cuh's layout): stage = A 64 x BK (4 KB: 64 rows of 64 bytes, 128 8-bit or 32 16-bit
// compressed values) + B BK x 256 (32 KB) + metadata (int8 LaneBlocks8: 4 row groups x 64 words = 1 KB; 16-bit
// LaneBlocks16: 2 x 64 words = 0.5 KB), each part 1 KB aligned: 37 KB. 5 stages 185 KB + one 64 x 128-byte slab
// per consumer warpgroup (2 x 8 KB; AlternatingTmaStore) + 80 bytes of barriers + 1 KB for the base's alignment =
// 202.1 KB of the 227 KB; 6 stages (222 + 16 + 1.1 KB) do not fit, nor with 4 KB slabs (222 + 8 + 1.1).
// NOTE: the ring holds 5 k-tiles of ONE consumer's work, half the compute time of s06's 5 stages of 128 rows
// (about 1.25 us of int8 k-loop at the measured b, against 2.5 us): less slack for the L2's latency.
// L2 traffic (per CTA and k-tile, int8; 16-bit has the same bytes): s06 reads A 8 + B 16 (half of 32, the
// cluster's multicast) + metadata 1 = 25 KB per 128 x 256 k-tile; here, cluster 2: A 4 + B 16 + 1 = 21 KB per
// 64 x 256 k-tile, i.e. 1.68x s06's bytes per flop: B is read once per 128 rows of A, not 256. At s06's measured
// int8 rate (0.5 us per 128 x 256 k-tile per SM) that is 6.6 TB/s of L2 to SM reads for s06 and 11.1 TB/s here,
// past what the L2 delivered to s04 at 16 bits (its busiest unit, s04's header). Cluster 4: A 4 + B 8 + 1 = 13 KB,
// 1.04x s06's per flop; it needs four free SMs of one GPC per cluster (s04's header). Both are registered.
//
// PREDICTION (H200, same run as s06 and cuSPARSELt). Model: call A's fit, each round of s06 (a + b K) becoming two
// 64 x 256 units of b K / 2 each plus a hand-off g ~ 0.2 us, and one unhidden epilogue (~3 us) per CTA at the end;
// units per CTA from 66 resident clusters of 2 (33 of 4): 32, 125, 28 and 8 units where s06 has 16, 63, 14 and 4
// rounds. int8 int32 D, b = 4.24 (s06 5 stages), cuSPARSELt's rounds taken as s06's:
//   shape              s06 (model; session 11 measured)  s18 cluster 4 (model)       s18 cluster 2
//   8192^3             597 us (604-622)  0.97x cuSPL     ~552 us  -7.5%  ~1.05x      552-600 us (L2: 1.68x traffic)
//   16384^3            4488   (4445-4526) 0.98x          ~4268    -4.9%  ~1.03x      4268-4490
//   28672x2048x8192    523    (542-548)  0.97x           ~484     -7.5%  ~1.05x      484-525
//   8192x2048x28672    489    (466-479)  0.98x           ~480     -1.8%  ~1.00x      480-490
// bf16 (s06's fit: a = 1.2 is all there is to hide; s18's mainloop is s06's, LaneBlocks16): 8192^3 1124 -> ~1113 us
// (-1%), the other shapes -0.5 to -1%; 0.98-1.03x cuSPARSELt depending on whether s18's b is s06's 8.63 or s07's
// 8.24 (their fits' clocks differed): the 16-bit target (1.05x) is not this step's. Refutation: if int8 cluster 4
// moves by less than half of the predicted step (less than ~20 us at 8192^3), a is not the epilogue; if cluster 4
// moves and cluster 2 does not, the L2 is the next wall for 64-row units.
//
// RESULT (session 13 call C, results/nvidia-h200/session13_2026-12-03_84cc16a/s18.json; results/NOTES.md "Session
// 13, call C, measured"): correct (ctest, the alternation test, memcheck) and **1.37-1.56x SLOWER than s06** at every
// shape, int8 and bf16, cluster 2 and 4 alike (int8 8192^3: 800.8 us against 582.5; bf16 1499.6 against 1070.9).
// The prediction was wrong in kind, not in degree: the step does not test the epilogue hypothesis, because its
// k-loop is slower than s06's by far more than any per-round cost (3.4 us of ~37). Not profiled (no device time
// left in the session); the likely account: with the hand-off after the whole k-loop only ONE warpgroup issues
// wgmma at a time, and s05's mainloop keeps at most two k-tiles of one warpgroup in flight (wgmma.wait_group 1),
// where s06's two cooperating warpgroups keep four; the 5-stage ring holds half of s06's compute time (NOTE above).
// What a next step would try: the hand-off one batch earlier (after the last k-tile's full wait), a deeper
// wait_group, or a 128-row unit per warpgroup (two m64 wgmmas per k-step); measure first with ncu's tensor-pipe
// activity and the consumers' stall reasons. Kept as a measured step; `auto` does not pick it (slower everywhere).
// PROFILED (session 14 call A, results/nvidia-h200/session14_2026-12-03_e0c3611/prof/; NOTES "Session 14, call A,
// measured"), int8 cluster 2 at 8192^3 beside s06: the consumer on its turn waits on FULL stages (the try-wait
// loops: 15% of all samples) and almost never on its wgmma batch (WARPGROUP.DEPBAR < 0.1%), so the account above
// (too few batches in flight) is not what binds: the tensor pipe starves for data. The L2 runs 77.3% busy for the
// whole kernel and moves 1.69x s06's bytes (the 64-row units' B traffic, 1.68x by the account above): at cluster 2
// the L2's throughput is the wall. At cluster 4 (1.04x s06's bytes) the step was no faster (830.6 us), and s06 at
// cluster 4 was 0-11% slower than at cluster 2 (session 14 call B): four-way multicast makes a stage wait for the
// last of four pieces. racecheck on the alternation case alone: 0 hazards (session 14 call A, 184 s).
//
// This step defines AlternatingScheduler (s05's PersistentScheduler naming Alternating<2> as its Consumers) and
// AlternatingTmaStore (s06's TmaStoreEpilogue with a slab per warpgroup); the mainloop is s05's (s04's
// InFlightMainloop on the cluster's ring), by name. The skeleton's hooks (wgmma/kernel.cuh): which of the CTA's
// units a consumer takes and the ring positions it skips (Alternating::takes, the k-tiles of the units it skips),
// the rows it computes (row block 0: the unit's 64; metadata row group 0 for both consumers), its own warpgroup
// index (slab, named barrier), and the block's consumer count (kConsumerWarpgroups, 384 threads). The ring's
// "empty" arrivals are its Tile's consumers (one: 4 warps x the cluster's CTAs), as for any BM = 64 ring.
// Preconditions, layouts: as s06 (M % 16 == 0 for int8, % 32 for 16-bit; K % BK == 0; any N; 16-byte aligned
// operands). sm_90a only.
#pragma once

#include <type_traits>

#include "kernels/wgmma_sp/s06_tmastore.cuh"

namespace sparse24::wgmma_sp {

// s05's persistent walk of the cluster tiles, its units handed to CONSUMERS warpgroups in turn
// (wgmma/kernel.cuh's Alternating): the CTA's nth unit is consumer nth % CONSUMERS's.
template <class TileT, int GROUP, class Cluster, int CONSUMERS>
struct AlternatingScheduler : PersistentScheduler<TileT, GROUP, Cluster> {
  using Base = PersistentScheduler<TileT, GROUP, Cluster>;
  using Consumers = wgmma::Alternating<CONSUMERS>;
  static_assert(TileT::kConsumers == 1, "each consumer computes a whole unit: a tile of one warpgroup (BM = 64)");
  static void add_params(sparse24::Params& p) {
    Base::add_params(p);
    p.push_back({"consumers", CONSUMERS});
  }
};

// s06's TMA-store epilogue with a slab per consumer WARPGROUP (not per 64 rows of the tile: every warpgroup's tile
// is rows 0..63 of its own unit). s06's store_tile_tma takes one index for three things: the rows (origin + 64 x
// index), the slab and the named barrier. Here the rows are the unit's first 64 and the slab and barrier the
// warpgroup's: it is given the warpgroup's index and an origin that many 64-row blocks above the unit's, so that
// its rows come out as the unit's own (row0 = o.m - 64 w + 64 w). The register fallback (beta != 0, unaligned D)
// reads the row block (me.consumer = 0) as it is.
template <class Ring, int WARPGROUPS>
struct AlternatingTmaStore;

// The widest slab row (128, else 64 bytes) for which WARPGROUPS slabs fit beside the ring in 227 KB (the
// skeleton's layout: ring, epilogue buffer, barriers, + kAlign for the base's rounding), as s06's
// tma_store_slab_row_bytes for a slab per warpgroup.
template <class Ring, int WARPGROUPS>
constexpr int alternating_slab_row_bytes() {
  constexpr int kFixed = Ring::kBytes + Ring::kBarrierBytes + Ring::kAlign;
  constexpr int kSlabsOfOneRow = WARPGROUPS * Ring::Tile::Instr::kM;  // bytes per byte of slab row
  return kFixed + kSlabsOfOneRow * 128 <= 227 * 1024 ? 128 : kFixed + kSlabsOfOneRow * 64 <= 227 * 1024 ? 64 : 0;
}

template <class Ring, int WARPGROUPS>
struct AlternatingTmaStore : TmaStoreEpilogue<typename Ring::Tile, alternating_slab_row_bytes<Ring, WARPGROUPS>()> {
  using Base = TmaStoreEpilogue<typename Ring::Tile, alternating_slab_row_bytes<Ring, WARPGROUPS>()>;
  using Tile = typename Ring::Tile;
  static_assert(alternating_slab_row_bytes<Ring, WARPGROUPS>() != 0,
                "the ring leaves no room for a 64-byte-row slab per consumer warpgroup: drop a stage");
  static_assert(Tile::kConsumers == 1, "one warpgroup's rows per unit");
  static constexpr int kSmemBytes = WARPGROUPS * Base::kEpiSlabBytes;

  template <class P>
  static __device__ __forceinline__ void store(const typename Tile::Acc (&acc)[Tile::kAccRegs], const GemmArgs& args,
                                               const P& maps, const wgmma::Work& w, const wgmma::ConsumerThread& me,
                                               const wgmma::SharedBuffer& epi) {
    if (maps.tma_store) {
      const BlockCoord shifted = {w.o.m - me.warpgroup * Tile::Instr::kM, w.o.n};
      Base::store_tile_tma(acc, args, maps, shifted, me.warpgroup, epi.addr + me.warpgroup * Base::kEpiSlabBytes,
                           epi.generic + me.warpgroup * Base::kEpiSlabBytes);
    } else {
      Base::Fallback::store(acc, args, maps, w, me, epi);
    }
  }
};

// BM = 64 (one unit: one warpgroup's m64 tile), WM = 4. CLUSTER: CTAs per cluster along M sharing B by multicast
// (2: B read once per 128 rows of A, as s06's per-CTA 128 rows; 4: once per 256, as s06's cluster of 2).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          class Out = wgmma::Unscaled>
struct s18_pingpong
    : wgmma::Kernel<s18_pingpong<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Mainloop,
                    AlternatingScheduler<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP, Multicast<CLUSTER>, 2>,
                    AlternatingTmaStore<typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER,
                                                                Out>::Ring, 2>> {
  static_assert(BM == 64 && WM == 4, "a unit is one consumer warpgroup's m64 tile");
};

}  // namespace sparse24::wgmma_sp
