// The stage ring of the wgmma families: STAGES k-tiles of A, B (and metadata) in shared memory, a "full" and an
// "empty" mbarrier per stage; and the two policies every ring is built from (how many CTAs share it, how the
// metadata travels), in their plain form. Shared by kernels/wgmma_sp and kernels/wgmma_dense; the steps that use
// a ring say why (wgmma_sp/s02_tma.cuh introduces it, s04_multicast.cuh shares it across a cluster).
//
//   shared memory of one CTA (kernel.cuh lays it out):
//     stage 0 | stage 1 | ... | stage STAGES-1 | epilogue buffer (s06) | full[STAGES] | empty[STAGES]
//     stage = A (kABytes) | B (kBBytes) | metadata (Meta::kBytes), each part 1024-byte aligned (the swizzle atoms)
//
// "full" of a stage completes when the producer has armed it with the stage's bytes (arrive.expect_tx) and all of
// them have landed (the TMA's complete_tx); "empty" when every consumer warp that reads the stage (of every CTA
// of the cluster, whose producers all write into it) has arrived. Ring position it (k-tiles so far, over all
// units of work) uses stage it % STAGES in round it / STAGES, whose phase parity is round & 1.
#pragma once

#include <cstdint>

#include "kernels/common/ptx_sm90.cuh"
#include "kernels/format/format.h"
#include "kernels/gemm_args.h"
#include "kernels/wgmma/operands.cuh"

namespace sparse24::wgmma {

// Where a consumer warp's metadata is: its row group (of the reader's kRowGroup rows of A) and the word its lane
// reads in each of the group's blocks. A reader gives the geometry (kGroupsPerConsumer, kWarpsPerGroup,
// kOddWarpLaneXor); the block skeleton computes this once per thread.
struct MetaLane {
  int group, word;
};

// One CTA per ring (no cluster): each CTA loads its whole B tile, its consumers release only its own stages.
// s04_multicast's Multicast<N> is the same interface for N CTAs sharing B.
struct SingleCta {
  static constexpr int kCtas = 1;
  static constexpr int b_box_rows(int bn) { return bn; }  // rows of B this CTA loads per k-tile
  static __device__ __forceinline__ uint32_t rank() { return 0; }
  // After barrier init: every thread of the CTA sees initialised barriers.
  static __device__ __forceinline__ void sync_init() { __syncthreads(); }
  // Before the CTA exits: nothing to wait for.
  static __device__ __forceinline__ void leave() {}
  template <class Tile>
  static __device__ __forceinline__ void load_b(uint32_t dst, const CUtensorMap* map, uint32_t full, int k0, int n0,
                                                uint32_t) {
    ptx::tma_load_2d(dst, map, full, k0, n0);
  }
  static __device__ __forceinline__ void release(uint32_t empty) { ptx::mbarrier_arrive(empty); }
};

// No metadata (the dense twins): the ring carries A and B only, the instruction is the dense one. The shape rule
// keeps the sparse twin's 32-row multiple so that both families run the same shapes.
template <class Tile>
struct NoMetadata {
  static_assert(!Tile::Operands::kSparse, "sparse operands need a metadata reader");
  static constexpr format::MetaLayout kLayout = format::MetaLayout::Canonical;  // unused: no metadata
  static constexpr int kRowGroup = format::kLaneBlockRows;
  static constexpr const char* kRowRule = "kept equal to the sparse twin's lane-block rows";
  static constexpr int kWords = 0, kRegs = 1, kBytes = 0;
  // Unused (no metadata), the sparse twin's lane-block geometry.
  static constexpr int kGroupsPerConsumer = Tile::Instr::kM / kRowGroup, kWarpsPerGroup = kRowGroup / Tile::kWarpRows;
  static constexpr int kOddWarpLaneXor = 0;

  static void encode(CUtensorMap&, const GemmArgs&) {}
  static __device__ __forceinline__ void prefetch(const CUtensorMap*) {}
  static __device__ __forceinline__ void load(uint32_t, const CUtensorMap*, uint32_t, int, int) {}
  static __device__ __forceinline__ bool valid(const MetaLane&, int, int) { return true; }
  static __device__ __forceinline__ void read(uint32_t (&)[kRegs], const uint32_t*, const MetaLane&, bool) {}
  // `accumulate` false: D = A.B (the first k-step of a promoted k-tile, s10), else D += A.B.
  static __device__ __forceinline__ void mma(typename Tile::Acc (&acc)[Tile::kAccRegs], uint64_t da, uint64_t db,
                                             const uint32_t (&)[kRegs], int, bool accumulate) {
    if constexpr (bytes_of(Tile::T) == 1)
      ptx::wgmma8_ss<Tile::T, Tile::kBN>(acc, da, db, accumulate);
    else if constexpr (Tile::T == DType::tf32)
      ptx::wgmma_tf32_ss<Tile::kBN>(acc, da, db, accumulate);
    else
      ptx::wgmma_ss<Tile::T, Tile::kBN>(acc, da, db, accumulate);
  }
  static __device__ void keep(const uint32_t (&)[kRegs]) {}
};

// The ring: sizes and offsets of a stage, the barriers' initialisation and the release of a stage. Meta: the
// metadata reader (NoMetadata, wgmma_sp's LaneBlocks16 or Wgmma16x64); Cluster: SingleCta or Multicast<N>.
template <class TileT, class MetaT, int STAGES, class ClusterT = SingleCta>
struct StageRing {
  using Tile = TileT;
  using Meta = MetaT;
  using Cluster = ClusterT;
  static constexpr int kStages = STAGES;
  static constexpr int kAlign = 1024;  // the 128-byte swizzle atom (8 rows x 128 bytes)
  static constexpr int round_up(int x) { return (x + kAlign - 1) / kAlign * kAlign; }
  static constexpr int kAOffset = 0, kBOffset = round_up(Tile::kABytes);
  static constexpr int kMetaOffset = kBOffset + round_up(Tile::kBBytes);
  static constexpr int kStageBytes = round_up(kMetaOffset + Meta::kBytes);
  static constexpr int kStageTx = Tile::kABytes + Tile::kBBytes + Meta::kBytes;  // bytes the TMA delivers per stage
  static constexpr int kBytes = STAGES * kStageBytes;
  static constexpr int kBarrierBytes = 2 * STAGES * 8;
  static constexpr int kBBoxRows = Cluster::b_box_rows(Tile::kBN);  // rows of B each CTA loads (and multicasts)
  // Arrivals that empty a stage: each consumer warp of every CTA that shares the stage's B. Tile::kConsumers is
  // the warpgroups that READ a stage, one per 64 rows of it, not the block's consumer warpgroups: where those
  // alternate over whole units of a 64-row tile (wgmma/kernel.cuh's Alternating, wgmma_sp/s18_pingpong.cuh) each
  // stage belongs to one unit and is read by that unit's consumer alone, 4 warps per CTA.
  static constexpr int kEmptyArrivals = 4 * Tile::kConsumers * Cluster::kCtas;
  static_assert(STAGES >= 2, "a ring of at least two stages");
  // The same ring shared by a cluster (s04) or carrying another metadata layout (s07).
  template <class OtherCluster>
  using WithCluster = StageRing<Tile, Meta, STAGES, OtherCluster>;
  template <class OtherMeta>
  using WithMeta = StageRing<Tile, OtherMeta, STAGES, Cluster>;
  static_assert(Tile::kBN % Cluster::kCtas == 0, "each CTA of a cluster loads a whole share of B's rows");

  // The ring in one CTA's shared memory (shared-window addresses).
  struct Smem {
    uint32_t stages, full, empty;
    __device__ uint32_t stage(int s) const { return stages + s * kStageBytes; }
    __device__ uint32_t full_bar(int s) const { return full + 8 * s; }
    __device__ uint32_t empty_bar(int s) const { return empty + 8 * s; }
  };

  // One thread initialises the barriers; with clusters, the peers' barriers must be initialised before our
  // multicast or our arrivals reach them (Cluster::sync_init).
  static __device__ __forceinline__ void init(const Smem& ring) {
    if (threadIdx.x == 0) {
      for (int s = 0; s < STAGES; ++s) {
        ptx::mbarrier_init(ring.full_bar(s), 1);                 // the producer's arrive.expect_tx
        ptx::mbarrier_init(ring.empty_bar(s), kEmptyArrivals);  // each consumer warp of the cluster
      }
      ptx::fence_mbarrier_init();
    }
    Cluster::sync_init();
  }

  // A consumer warp is done with a stage: tell every producer that writes into it.
  static __device__ void release(uint32_t empty) { Cluster::release(empty); }
};

}  // namespace sparse24::wgmma
