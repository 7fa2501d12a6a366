// The block skeleton of the wgmma families: one kernel composed of three named components,
//
//   wgmma::Kernel<Derived, Mainloop, Scheduler, Epilogue>
//
// - Mainloop: the stage ring (ring.cuh) and the code on both sides of it: the producer's TMA loads of one unit of
//   work and a consumer warpgroup's wgmma over the same k-tiles into its accumulators (wgmma_sp/s02_tma.cuh's
//   TmaMainloop; s03's InFlightMainloop). The ring's policies: its cluster (SingleCta, s04's Multicast<N>) and its
//   metadata reader (NoMetadata, s02's LaneBlocks16, s07's Wgmma16x64).
// - Scheduler: which units of work (tile of D, K slice) a CTA does, in what order, and the grid (s02's
//   OneTilePerCta, s05's PersistentScheduler, s08's SplitKUnits).
// - Epilogue: what becomes of a unit's accumulators (s02's RegisterEpilogue, s06's TmaStoreEpilogue, s08's
//   PartialsEpilogue with s08's SecondLaunchReduction or s09's InLaunchReduction).
// The skeleton holds what all of them share: the shared-memory layout, the roles (warpgroup 0 produces with
// setmaxnreg.dec, the others consume with setmaxnreg.inc), the loops over a CTA's units of work on both sides, and
// the host hooks (prepare/run, the registry's fields). A component names the fields it adds to the kernel's
// parameters (Params<Base>), its shared memory, its workspace and its host work; the skeleton adds nothing of its
// own to any step.
//
// The wgmma_sp ladder is a tree; each step's file defines the components named beside it and composes the rest
// from its parent by name:
//
//   s02_tma                   TmaMainloop, LaneBlocks16, OneTilePerCta, RegisterEpilogue
//   └ s03_inflight            InFlightMainloop
//     └ s04_multicast         Multicast<N> (the ring's cluster policy)
//       └ s05_persistent      PersistentScheduler
//         └ s06_tmastore      TmaStoreEpilogue (PERSISTENT = false: on s04's OneTilePerCta instead)
//           ├ s07_ownmeta     Wgmma16x64 (a metadata reader)
//           │ └ s15_rsldg     RegisterAMainloop (A and metadata by LDG into registers, RS wgmma.sp, a B-only ring:
//           │                 ARegisterTile, Wgmma16x64Global), ASource::smem_ldmatrix its control
//           ├ s18_pingpong    AlternatingScheduler, AlternatingTmaStore: BM = 64 units, the two consumer warpgroups
//           │                 taking the CTA's units in turn (Alternating<2> below: one stores while the other computes)
//           └ s08_splitk      SplitKUnits, PartialsEpilogue, SecondLaunchReduction: on s06 with PERSISTENT = false,
//             │               s02's LaneBlocks16 (not s07's layout)
//             ├ s09_onelaunch InLaunchReduction
//             └ s11_narrow    NarrowSplitKUnits (s08's units on s05's persistent grid, one CTA per SM) over BN = 16,
//               │             32, 64; s03's mainloop (s10's PromotingMainloop for fp8), s08's partials, s02's
//               │             RegisterEpilogue at split 1
//               ├ s13_tall    three or four consumer warpgroups (BM = 192, 256): nothing new but the tile
//               ├ s14_inlaunch s09's InLaunchReduction on s11's units (WithFlagWord: the flag's shared word)
//               ├ s16_pdl     TriggerAtLastUnit, DependentLaunchReduction: s11's / s13's units with the reduction
//               │ │           as a programmatic dependent launch (splitk::reduce_pdl)
//               │ ├ s19_streamk EqualRunUnits: the k-tiles of all tiles in equal runs, one per CTA (stream-K), a
//               │ │ │         tile's pieces summed by s16's reduction
//               │ │ └ s20_piecesum PieceUnits, PieceSumReduction: a cut tile's pieces summed in the launch (s09's
//               │ │           counters over the tile's piece count)
//               │ └ s21_widebox k-tiles of 128-byte A rows, B in two 128-byte panels a stage (operands.cuh's
//               │   │         kBPanels; TmaMainloop loads and addresses each panel); each batch waited for
//               │   └ s22_twosets TwoSetInFlightMainloop: one batch in flight, metadata in two register sets
//               │     ├ s27_wideclustersum s17's ClusterSliceUnits and ClusterSumEpilogue on s22's mainloop (no new
//               │     │ │       component: the cluster sum on the wide k-tiles)
//               │     │ └ s28_pairsum PairSumEpilogue: at split 2 each consumer's rows summed in its registers, the
//               │     │   │     other CTA's half sent once through DSMEM stores
//               │     │   └ s29_colpairsum ColumnPairSumEpilogue: the pair's halves by columns (every consumer
//               │     │         sends a quarter of the tile and sums and stores another)
//               │     └ s23_handoff HandoffRunUnits, HandoffMainloop, HandoffEpilogue: s19's equal runs over
//               │       │       min(SMs, tiles) CTAs, a cut tile's second piece handed to the CTA that finishes it
//               │       │       through a slot and per-warp flags, added in registers (no reduction)
//               │       ├ s25_fanin FanInRunUnits, FanInMainloop (s23's epilogue): the runs on every SM, a tile's
//               │       │         up to 5 pieces summed by the CTA of its first (a measured negative)
//               │       └ s26_lazyhandoff s12's LazyPromotingMainloop on s23's units (fp8 decode: a batch in
//               │                 flight between promotions)
//               └ s17_clustersum ClusterSliceUnits, ClusterSumEpilogue: the K slices of a tile in one cluster,
//                             summed through distributed shared memory in the same launch (no partials)
//   s05_persistent └ s10_promote  PromotingMainloop (fp8)
//                    └ s12_lazypromote LazyPromotingMainloop (fp8: a promotion every P k-tiles)
//                      └ s24_staggered StaggeredPromotingMainloop (consumer 1's intervals P / 2 k-tiles later)
// wgmma_dense's s02..s06, s08, s10, s12 and s24 are the same compositions with DenseOperands and NoMetadata.
//
// Block (BM = 128: two consumer warpgroups), 384 threads:
//   warpgroup 0 (producer)   setmaxnreg.dec to kProducerRegs; thread 0 runs Mainloop::produce for every unit
//   warpgroup 1 (consumer 0) setmaxnreg.inc to kConsumerRegs; rows 0..63 of each unit's tile: Mainloop::consume,
//   warpgroup 2 (consumer 1)   then Epilogue::store; rows 64..127
// BM = 64 has one consumer warpgroup (256 threads), BM = 192 and 256 three and four (512 and 640 threads: the
// taller tiles of wgmma_sp/s13_tall.cuh, every consumer reading the same B stage); consumer c takes rows
// 64 c..64 c + 63. The register split is a function of the consumer count (consumer_regs below). With a scheduler
// whose Consumers are Alternating<2> (wgmma_sp/s18_pingpong.cuh) the tile is BM = 64 and the block still has two
// consumer warpgroups (384 threads): each takes whole units, rows 0..63 of its own.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/common/launch.cuh"
#include "kernels/common/ptx.cuh"
#include "kernels/common/ptx_sm90.cuh"
#include "kernels/common/raster.h"
#include "kernels/common/splitk.h"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"
#include "kernels/wgmma/operands.cuh"
#include "kernels/wgmma/ring.cuh"

namespace sparse24::wgmma {

// The register split of warp specialisation (setmaxnreg, PTX ISA 9.7.19.5) for a block of one producer and
// `consumers` consumer warpgroups at one block per SM. Under __launch_bounds__(threads, 1) ptxas gives every thread
// the same count at entry: the file (65536) over the block's threads, in the allocation unit of 8 per thread, at most
// 256 (168 at 384 threads, 128 at 512, 96 at 640). Those are all the registers the block has: setmaxnreg moves them
// between its warpgroups through a per-CTA pool (an inc beyond what the decs gave back blocks for ever), so
//   128 x producer + 128 x consumers x consumer <= (1 + consumers) x 128 x entry.
// The producer's one thread issues TMA and keeps a few loop variables: 40 beside one or two consumers (today's
// value, as CUTLASS's sm90 kernels), 32 beside three or four, where each 8 it gives back is 2-3 more per consumer
// thread. The consumers share the rest equally, in multiples of 8 and at most 232 (the two-consumer share,
// (3 x 168 - 40) / 2, kept for one consumer as before): 232, 232, 160, 112 for 1..4 consumers.
// NOTE: ptxas allocates each role's code within its setmaxnreg count (sm_90a, nvcc 13.0: wgmma_sp s13's 192 x 200
// consumers use R0-R129 of their 160, above the entry count 128; the producer's code stays below R32), yet it
// refused a 192 x 256 tile (m64n256, 128 accumulators) at three consumers: "insufficient registers (128) ... try a
// register target of 155" (C7602). So the inc does not always raise ptxas's budget: try a new tile, do not assume.
constexpr int entry_regs(int threads) { return std::min(256, 65536 / threads / 8 * 8); }
constexpr int producer_regs(int consumers) { return consumers <= 2 ? 40 : 32; }
constexpr int consumer_regs(int consumers) {
  const int pool = (1 + consumers) * entry_regs(128 * (1 + consumers));  // per thread of each warpgroup
  return std::min(232, (pool - producer_regs(consumers)) / consumers / 8 * 8);
}
static_assert(entry_regs(384) == 168 && entry_regs(512) == 128 && entry_regs(640) == 96,
              "the entry counts the register account above is written for");
static_assert(producer_regs(1) == 40 && consumer_regs(1) == 232 && producer_regs(2) == 40 && consumer_regs(2) == 232,
              "one and two consumers keep 40 / 232: every existing kernel's SASS is unchanged");
static_assert(consumer_regs(3) == 160 && consumer_regs(4) == 112, "three consumers 160 registers, four 112");

// One unit of work as a scheduler hands it out: the CTA's tile of D (origin), its k-tiles, and for split-K the
// slice's index, the slice count and the CTA tile's index (the in-launch reduction's counter).
struct Work {
  BlockCoord o;    // first row and column of the CTA's BM x BN tile
  splitk::Slice k;  // k-tiles [begin, end)
  int slice, split, cta_tile;
};

// A consumer thread: its row block (which 64 rows of the unit's tile its warpgroup computes: consumer c's rows
// 64 c..64 c + 63 when the consumers cooperate, 0 when each takes whole units of a 64-row tile), its warp in the
// warpgroup, its lane, and its warpgroup's index among the block's consumers (what the warpgroup owns alone:
// its epilogue slab and named barrier; equal to `consumer` when they cooperate).
struct ConsumerThread {
  int consumer, warp, lane, warpgroup;
};

// How the block's consumer warpgroups share the CTA's units of work: the scheduler's choice (Scheduler::Consumers),
// Cooperative when it names none.
// - Cooperative: every consumer warpgroup works on every unit; the tile has one warpgroup per 64 rows
//   (Tile::kConsumers) and consumer c computes rows 64 c..64 c + 63 of each tile, reading those rows of every stage.
// - Alternating<N>: N consumer warpgroups over a tile of ONE warpgroup (BM = 64): consumer c takes the CTA's units
//   c, c + N, c + 2 N, ... (in the CTA's order: first, first + stride, ...), all 64 rows of each, and skips the
//   others' units, advancing its ring position over their k-tiles (the producer loads every unit, in order, into
//   the one ring). The consumers start their units' k-loops in unit order, each after the previous unit's consumer
//   has finished its k-loop (a named barrier of the two warpgroups, pass_turn / wait_turn): the ring's parity
//   waits can tell apart only two consecutive rounds of a stage, and a consumer whose first k-tile is a whole unit
//   ahead of the ring would take a stale round's completion for its own (wgmma_sp/s18_pingpong.cuh says more).
struct Cooperative {
  static constexpr bool kAlternate = false;
  template <class Tile>
  static constexpr int kWarpgroups = Tile::kConsumers;
};
template <int N>
struct Alternating {
  static constexpr bool kAlternate = true;
  template <class Tile>
  static constexpr int kWarpgroups = N;
  static_assert(N >= 2 && N <= 4, "2 to 4 consumer warpgroups (the register split of consumer_regs)");
  // Named barriers 1..4 are the epilogue slabs' (1 + warpgroup, wgmma_sp/s06_tmastore.cuh); the turn of consumer
  // c is barrier kTurnBarrier + c, met by the 128 threads that pass the turn and the 128 that wait for it.
  static constexpr uint32_t kTurnBarrier = 5;
  static_assert(kTurnBarrier + N <= 16, "a CTA has 16 named barriers");
  // Consumer `warpgroup` takes the CTA's nth unit.
  static __device__ __forceinline__ bool takes(int warpgroup, int nth) { return nth % N == warpgroup; }
  // The k-loop of the CTA's unit after this one may start: tell its consumer (arrive without waiting).
  static __device__ __forceinline__ void pass_turn(int warpgroup) {
    ptx::named_barrier_arrive(kTurnBarrier + uint32_t((warpgroup + 1) % N), 256);
  }
  // Wait until the consumer of the CTA's previous unit has finished that unit's k-loop.
  static __device__ __forceinline__ void wait_turn(int warpgroup) {
    ptx::named_barrier_sync(kTurnBarrier + uint32_t(warpgroup), 256);
  }
};
template <class S, class = void>
struct consumers_of {
  using type = Cooperative;
};
template <class S>
struct consumers_of<S, std::void_t<typename S::Consumers>> {
  using type = typename S::Consumers;
};

// A buffer of the CTA's shared memory in both address forms (TMA and barriers take the shared-window address,
// ordinary loads and stores the generic pointer).
struct SharedBuffer {
  uint32_t addr;
  uint8_t* generic;
};

// The launch configuration of a cluster of `ctas` CTAs along x (grid, block, shared memory, cluster dimension).
struct ClusterLaunch {
  cudaLaunchAttribute cluster{};
  cudaLaunchConfig_t config{};
  ClusterLaunch(const Plan& p, cudaStream_t stream, int ctas) {
    config.gridDim = p.grid;
    config.blockDim = p.block;
    config.dynamicSmemBytes = p.smem_bytes;
    config.stream = stream;
    cluster.id = cudaLaunchAttributeClusterDimension;
    cluster.val.clusterDim.x = unsigned(ctas);
    cluster.val.clusterDim.y = 1;
    cluster.val.clusterDim.z = 1;
    config.attrs = &cluster;
    config.numAttrs = 1;
  }
};

// Whether a scheduler chooses the launch's cluster itself (Scheduler::cluster_ctas(params), kernel.cuh's run).
template <class S, class P, class = void>
struct chooses_cluster : std::false_type {};
template <class S, class P>
struct chooses_cluster<S, P, std::void_t<decltype(S::cluster_ctas(std::declval<const P&>()))>> : std::true_type {};

template <class Derived, class MainloopT, class SchedulerT, class EpilogueT>
struct Kernel : BlockTiled<Derived> {
  using Mainloop = MainloopT;
  using Scheduler = SchedulerT;
  using Epilogue = EpilogueT;
  using Ring = typename Mainloop::Ring;
  using Tile = typename Ring::Tile;
  using Cluster = typename Ring::Cluster;
  using Meta = typename Ring::Meta;
  static_assert(std::is_same_v<Tile, typename Scheduler::Tile> && std::is_same_v<Tile, typename Epilogue::Tile>,
                "the components of a kernel share one block tile");
  static_assert(Scheduler::kClusterM == Cluster::kCtas, "the scheduler hands out the ring's cluster tiles");

  static constexpr bool kSparse = Tile::Operands::kSparse;
  static constexpr Operands kTypes = Tile::Operands::kTypes;
  static constexpr bool kHasScales = Tile::Operands::kHasScales;
  static constexpr int kBM = Tile::kBM, kBN = Tile::kBN, kBK = Tile::kBK;
  // The block's consumer warpgroups: the tile's (one per 64 rows) when they cooperate, the scheduler's count when
  // they alternate over whole units of a 64-row tile (Alternating above).
  using Consumers = typename consumers_of<Scheduler>::type;
  static constexpr int kConsumerWarpgroups = Consumers::template kWarpgroups<Tile>;
  static_assert(!Consumers::kAlternate || Tile::kConsumers == 1,
                "consumers that alternate over whole units each compute a tile of one warpgroup (BM = 64)");
  static constexpr int kThreads = 128 * (1 + kConsumerWarpgroups);
  static_assert(Consumers::kAlternate || kThreads == Tile::kThreads, "cooperating consumers: the tile's threads");
  // One block per SM (the ring takes the shared memory); the cap it implies (65536 / kThreads registers) is what
  // setmaxnreg redistributes.
  static constexpr int kMinBlocksPerSm = 1;
  static constexpr int kProducerRegs = producer_regs(kConsumerWarpgroups),
                       kConsumerRegs = consumer_regs(kConsumerWarpgroups);
  static_assert(128 * kProducerRegs + 128 * kConsumerWarpgroups * kConsumerRegs <= kThreads * entry_regs(kThreads),
                "setmaxnreg moves the block's entry registers between warpgroups, it cannot add to them");
  using Instr = typename Tile::Instr;
  static constexpr ArchRule kArch = {Instr::form().min_sm, Instr::form().min_sm, Instr::form().arch_specific};
  static constexpr format::MetaLayout kMetaLayout = Meta::kLayout;
  static constexpr ShapeRule kRule = {Meta::kRowGroup, 1, kBK, 1, 0, Meta::kRowRule, "whole K tiles (TMA boxes)"};

  // Shared memory: the ring's stages, the epilogue's buffer, the ring's barriers; + kAlign: dynamic shared memory
  // is only 16-byte aligned, the kernel rounds its base up.
  static constexpr int kEpilogueOffset = Ring::kBytes;
  static constexpr int kBarrierOffset = kEpilogueOffset + Epilogue::kSmemBytes;
  static constexpr int kSmemBytes = kBarrierOffset + Ring::kBarrierBytes + Ring::kAlign;
  static_assert(kSmemBytes <= 227 * 1024, "a block may have at most 227 KB of shared memory");

  // The kernel's parameters: the mainloop's tensor maps, then the epilogue's fields, then the scheduler's.
  using LaunchParams =
      typename Scheduler::template Params<typename Epilogue::template Params<typename Mainloop::Maps>>;

  static Params params() {
    Params p = {{"bm", kBM},     {"bn", kBN},
                {"bk", kBK},     {"wm", Tile::kWM},
                {"wn", Tile::kWN}, {"stages", Ring::kStages},
                {"group", Scheduler::kGroup}};
    if (Cluster::kCtas > 1) p.push_back({"cluster_m", Cluster::kCtas});
    Scheduler::add_params(p);
    return p;
  }

  static void prepare(Plan& p) {
    const void* fn = reinterpret_cast<const void*>(&gemm_entry_params<Derived>);
    require_kernel_image(fn, p.variant().name);
    const GemmArgs& a = p.args;
    const int split = Scheduler::template split_for<Derived>(a);
    const int units = Scheduler::units(a, split);
    p.grid = Scheduler::launch_grid(a, units, split);
    p.workspace_bytes = Epilogue::workspace_bytes(a, split, Cluster::kCtas * units / split);
    p.block = dim3(kThreads);
    p.smem_bytes = kSmemBytes;
    SPARSE24_CUDA_CHECK(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes));
    Scheduler::template fit_grid<Derived>(p, units);  // s05: as many CTAs as are resident at once
    LaunchParams lp;
    Mainloop::encode(lp, a);
    Epilogue::encode(lp, a);
    Scheduler::encode(lp, split);
    static_assert(sizeof(LaunchParams) <= sizeof(Plan::launch_data), "tensor maps do not fit the plan");
    std::memcpy(p.launch_data, &lp, sizeof lp);
  }

  static void run(const Plan& p, cudaStream_t stream) {
    LaunchParams lp;
    std::memcpy(&lp, p.launch_data, sizeof lp);
    const int cluster = launch_cluster_ctas(lp);
    if (cluster == 1) {
      gemm_entry_params<Derived><<<p.grid, p.block, p.smem_bytes, stream>>>(p.args, lp);
    } else {
      ClusterLaunch l(p, stream, cluster);
      (void)cudaLaunchKernelEx(&l.config, gemm_entry_params<Derived>, p.args, lp);  // errors: cudaGetLastError
    }
    Epilogue::after_launch(p.args, lp, stream);
  }

  // CTAs per cluster at launch: the ring's (s04's multicast), or, for a scheduler that chooses its cluster in
  // prepare() (cluster_ctas(params): wgmma_sp s17's K slices of one tile, one CTA per slice), its choice.
  static int launch_cluster_ctas(const LaunchParams& lp) {
    if constexpr (chooses_cluster<Scheduler, LaunchParams>::value) {
      static_assert(Cluster::kCtas == 1, "a scheduler's own cluster is not the ring's multicast cluster");
      return Scheduler::cluster_ctas(lp);
    } else {
      return Cluster::kCtas;
    }
  }

  // NOTE: the body is a function of its own below run_block, as it was before the split into components: NVVM's
  // inlining order shapes the SASS (scripts/compare_sass.py: identical to 95b03ee's with this structure).
  static __device__ void run_block(const GemmArgs& args, const LaunchParams& maps) { block(args, maps); }

  static __device__ void block(const GemmArgs& args, const LaunchParams& maps) {
    extern __shared__ uint8_t smem_raw[];
    const uint32_t raw = ptx::smem_addr(smem_raw);
    const uint32_t base = (raw + Ring::kAlign - 1) / Ring::kAlign * Ring::kAlign;
    const uint32_t epi_buf = base + kEpilogueOffset;
    const uint32_t full_bar = base + kBarrierOffset;
    const typename Ring::Smem ring = {base, full_bar, full_bar + Ring::kStages * 8};
    const int warpgroup = threadIdx.x / 128;

    // The CTA's units of work: unit `first`, then every `stride`-th one up to u.units.
    const typename Scheduler::Units u = Scheduler::units_of(args, maps);  // also this CTA's rank in its cluster
    const int first = Scheduler::first(u), stride = Scheduler::stride(u);

    Ring::init(ring);

    if (warpgroup == 0) {
      ptx::setmaxnreg_dec<kProducerRegs>();
      if (threadIdx.x == 0) {
        Mainloop::prefetch(maps);
        int it = 0;  // k-tiles loaded so far, over all units: the ring position
        for (int unit = first; unit < u.units; unit += stride)
          Mainloop::produce(maps, Scheduler::work(u, unit), ring, u.rank, it);
      }
      // A CTA may not exit while its peers can still multicast into it or arrive on its barriers.
      Cluster::leave();
      return;
    }

    ptx::setmaxnreg_inc<kConsumerRegs>();
    const int consumer = warpgroup - 1, warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
    // The rows of the tile this warpgroup computes: its own 64 when the consumers cooperate, all of a 64-row tile
    // (row block 0) when they alternate over whole units.
    const int row_block = Consumers::kAlternate ? 0 : consumer;
    // This warp's metadata row group and the word its lane reads in each of the group's blocks, from the reader's
    // geometry. NOTE: written here, not in a reader's function: a function boundary, even inlined, changed how
    // NVVM folds 2 * consumer (other SASS than before the split into components; scripts/compare_sass.py).
    const int meta_group = Meta::kGroupsPerConsumer * row_block + warp / Meta::kWarpsPerGroup;
    const MetaLane meta_lane = {meta_group,
                                meta_group * Meta::kWords + (lane ^ (Meta::kOddWarpLaneXor * (warp % 2)))};
    const ConsumerThread me = {row_block, warp, lane, consumer};
    const uint8_t* ring_generic = smem_raw + (base - raw);
    int it = 0;  // k-tiles consumed so far, over all units: the ring position

    for (int unit = first; unit < u.units; unit += stride) {
      const Work w = Scheduler::work(u, unit);
      if constexpr (Consumers::kAlternate) {
        const int nth = (unit - first) / stride;  // the CTA's nth unit
        // Another consumer's unit: the producer loads its k-tiles into the ring all the same, so step over them.
        if (!Consumers::takes(consumer, nth)) {
          it += w.k.end - w.k.begin;
          continue;
        }
        if (nth > 0) Consumers::wait_turn(consumer);
      }
      typename Tile::Acc acc[Tile::kAccRegs];  // the mainloop starts them at zero
      // Registers the mainloop carries from one k-tile to the next (s03: the metadata of the batch in flight).
      // NOTE: declared here, after acc, not inside the mainloop: the order of the two arrays is the order of
      // their registers' copies in the PTX, and ptxas numbered the registers differently the other way round.
      typename Mainloop::Carried carried;
      Mainloop::template consume<Scheduler::kSlicesMayBeEmpty>(acc, carried, args, w, ring, ring_generic, me,
                                                               meta_lane, it);
      if constexpr (Consumers::kAlternate) {
        if (unit + stride < u.units) Consumers::pass_turn(consumer);  // the next unit's k-loop, during this store
      }
      Epilogue::store(acc, args, maps, w, me, SharedBuffer{epi_buf, smem_raw + (epi_buf - raw)});
    }
    Epilogue::finish();
    Cluster::leave();
  }
};

}  // namespace sparse24::wgmma
