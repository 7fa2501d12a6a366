// wgmma_sp step 18, "pingpong": s06's persistent clusters and TMA-store epilogue, with the two consumer warpgroups
// taking alternate whole units of work (a 64 x BN tile each), so that one stores its tile while the other computes.
//
// (header: see below the code's first version; filled in the next commit)
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
