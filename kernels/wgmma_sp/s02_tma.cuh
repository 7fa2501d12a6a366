// wgmma_sp step 02, "tma": a TMA stage ring fed by a producer warp, two consumer warpgroups, 128-byte swizzle.
//
// What it adds over s01_smem (where all four warps load, wait at a barrier, compute, wait again):
// 1. TMA (cp.async.bulk.tensor) moves each k-tile of A values, B and metadata straight from global to shared memory:
//    one thread issues three copies per k-tile, no registers carry the data, and rows past M or N arrive as zeros
//    (partial tiles cost nothing extra). Tensor maps are built once in prepare() (kernels/common/tma.h).
// 2. A ring of STAGES k-tiles with two mbarriers per stage: "full" completes when the producer has armed it and all
//    of the stage's bytes have landed; "empty" when every consumer warp is done reading the stage. The producer runs
//    up to STAGES k-tiles ahead of the math; nobody waits at a block-wide barrier inside the k-loop.
// 3. Warp specialisation: warpgroup 0 is the producer (one thread issues the TMA; the warpgroup gives registers back
//    with setmaxnreg.dec), warpgroups 1 and 2 are consumers, one m64 tile of the block each (setmaxnreg.inc: 128 f32
//    accumulators per thread for m64n256). While one consumer waits for its wgmma, the other's run: the tensor
//    cores of the SM see two independent instruction streams.
// 4. Swizzled shared memory as TMA writes it and wgmma reads it, no padding, no bank conflicts: B (X) rows of
//    BK = 64 values = 128 bytes in 128-byte swizzle atoms (8 rows x 128 bytes, chunk c of row r at c ^ r % 8), the
//    compressed A rows of 32 values = 64 bytes in 64-byte swizzle atoms (8 rows x 64 bytes, c ^ (r / 2) % 4). A
//    k-step's descriptor starts 32 (A) or 64 (B) bytes into the atom row, as the one-instruction test checks for
//    both modes (tests/gpu/test_wgmma_instructions_gpu.cu).
// Each consumer still waits for its own wgmma (wait_group 0) before it releases the stage and loads the next
// metadata; s03 keeps one batch in flight.
//
// The kernel is composed of named components (kernels/wgmma/kernel.cuh); the shared ones live in kernels/wgmma/
// (the stage ring and its mbarriers in ring.cuh, the roles and block skeleton in kernel.cuh, the operand
// description and tile sizes in operands.cuh), this step defines the first of each kind, which later steps keep
// or replace by name:
//   LaneBlocks16     the metadata reader: s01's layout, as a 2-D TMA tensor (below)
//   TmaMainloop      the producer's three TMA copies per k-tile, and the consumer that waits for its wgmma
//   OneTilePerCta    the scheduler: one tile of D per CTA, in grouped (L2-friendly) order
//   RegisterEpilogue alpha/beta epilogue straight from the accumulator registers
// The components take the operand description as a parameter (wgmma::SparseOperands here); the dense twins
// (kernels/wgmma_dense/) compose the same ones with wgmma::DenseOperands and wgmma::NoMetadata.
//
// Preconditions (ShapeRule and the common checks): M % 32 == 0 (metadata lane blocks), K % BK == 0, any N >= 1,
// 16-byte aligned operands and rows (TMA's own requirement too). sm_90a only.
// Metadata in format::MetaLayout::LaneBlocks16, as s01 reads it: a k-tile of one 32-row group is BK contiguous
// words in global memory, so the metadata is a 2-D tensor of M/32 rows x K words and one TMA box of BM/32 x BK
// words brings a stage's worth (lane blocks land as they are; word `lane` of a block is read by lane `lane`: no
// bank conflict). A row group past M arrives as zeros, which is not valid metadata: its warps substitute the
// padding word (their rows are never stored, but the instruction must not see invalid metadata).
//
// NOTE: results/NOTES.md's table for this step (850.8 TFLOP/s at 8192^3, bf16 128x256) is run 2026-11-22_9940e5f,
// the step's first; the line below is the newest committed run that has the step (scripts/make_results_readme.py
// writes it), where the same variant measured 803.8 (bench.json of both runs).
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 803.8 TFLOP/s = 84% of the mma.sp m16n8k32 loop (959), 1.12x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_fff01ae).
//
// Block (BM = 128, BN = 256 shown), 384 threads:
//
//   warpgroup 0 (producer)   thread 0: for each k-tile, wait "empty", arm "full" with the stage's bytes, 3 TMA
//   warpgroup 1 (consumer 0) rows   0..63  of the tile: wgmma.sp m64n256k32, 2 per k-tile (BK = 64)
//   warpgroup 2 (consumer 1) rows  64..127 of the tile
//
//   shared memory, STAGES x (A 8 KB | B 32 KB | metadata 1 KB), each part 1024-byte aligned (the swizzle atoms),
//   then 2 x STAGES mbarriers. 5 stages: 210 KB of the 227 KB a block may have.
//
// Why this tile: wgmma.sp reads B from shared memory for every instruction, and B is the larger operand (the
// instruction's A is only 64 x 16 values): m64n256k32 moves 2 KB of A and 16 KB of B for 2 x 64 x 256 x 32 flops,
// the best bytes-per-flop the instruction offers, so N = 256 per instruction. Two consumers share each B tile
// (BM = 128), the accumulators fill 128 of a consumer's registers, and one block (384 threads) per SM leaves the
// shared memory to the ring. 128 x 128 (64 accumulators, 8 stages) is the cheaper-register variant.
#pragma once

#include <cstdint>

#include "kernels/common/elem.cuh"
#include "kernels/common/epilogue.cuh"
#include "kernels/common/ptx_sm90.cuh"
#include "kernels/common/raster.h"
#include "kernels/common/splitk.h"
#include "kernels/common/tma.h"
#include "kernels/format/format.h"
#include "kernels/gemm_args.h"
#include "kernels/wgmma/kernel.cuh"
#include "kernels/wgmma/operands.cuh"
#include "kernels/wgmma/ring.cuh"

namespace sparse24::wgmma_sp {

// The block tile of this family: 2:4 A through wgmma.mma_async.sp m64nNk32.
template <DType T, int BM, int BN, int BK, int WM, int WN, class Out = wgmma::Unscaled>
using SparseTile = wgmma::Tile<wgmma::SparseOperands<T, Out>, BM, BN, BK, WM, WN>;

// What both lane-block metadata readers share: the metadata of one row group (kRowGroup rows of A) and one k-tile is
// one block of kBlockBytes (32 lanes x one 32-bit `e` register) per k-step, contiguous, so the metadata is a 2-D
// TMA tensor of M / kRowGroup rows x K / BK * kWords words and a stage's box is BM / kRowGroup x kWords words. A
// warp reads its word of each of its group's blocks, one register per k-step; a row group past M arrives as zeros,
// which is not valid metadata, so its warps substitute the padding word.
template <class Tile, int kRowGroupRows, int kBlockBytes>
struct LaneBlockRows {
  static_assert(Tile::Operands::kSparse, "metadata belongs to sparse operands");
  static constexpr int kRowGroup = kRowGroupRows;                      // rows of A one metadata row serves
  static constexpr int kWords = Tile::kKSteps * kBlockBytes / 4;       // per row group and k-tile
  static constexpr int kRegs = Tile::kKSteps;                          // per consumer thread and k-tile
  static constexpr int kBytes = Tile::kBM / kRowGroup * kWords * 4;    // per stage
  static constexpr int kGroupsPerConsumer = Tile::Instr::kM / kRowGroup;
  static constexpr int kWarpsPerGroup = kRowGroup / Tile::kWarpRows;

  static void encode(CUtensorMap& map, const GemmArgs& a) {
    const int64_t row_words = int64_t(a.K) / Tile::kBK * kWords;
    map = tma::encode_2d(a.a_meta, 4, a.M / kRowGroup, row_words, row_words * 4, Tile::kBM / kRowGroup, kWords,
                         tma::Swizzle::None);
  }
  static __device__ __forceinline__ void prefetch(const CUtensorMap* map) { ptx::tma_prefetch_descriptor(map); }
  static __device__ __forceinline__ void load(uint32_t dst, const CUtensorMap* map, uint32_t full, int kt, int m0) {
    ptx::tma_load_2d(dst, map, full, kt * kWords, m0 / kRowGroup);
  }
  static __device__ __forceinline__ bool valid(const wgmma::MetaLane& l, int m0, int M) {
    return m0 / kRowGroup + l.group < M / kRowGroup;
  }
  static __device__ __forceinline__ void read(uint32_t (&e)[kRegs], const uint32_t* meta, const wgmma::MetaLane& l,
                                              bool valid) {
#pragma unroll
    for (int r = 0; r < kRegs; ++r) e[r] = valid ? meta[l.word + r * kBlockBytes / 4] : format::kPaddingMetaWord;
  }
  // The metadata registers of a batch left in flight stay allocated until the wait that retires it (s03).
  static __device__ void keep(const uint32_t (&e)[kRegs]) {
#pragma unroll
    for (int r = 0; r < kRegs; ++r) ptx::keep_register(e[r]);
  }
};

// The metadata reader of LaneBlocks16 (the layout above), for the 16-bit k32 forms and tf32's k16 (the same layout
// in pair-nibbles). Per k-tile a row group of 32 rows has one lane block of 32 words per k-step (BK words at 16
// bits, 1 KB a stage at BM = 128): a warp of the m64 tile finds its 16 rows in lanes q = 0, 1 of the block (odd
// warps: word lane ^ 2, rows 16..31 sit in lanes q = 2, 3) and issues every k-step with selector 0. A warp's row
// group is 2 * consumer + warp / 2 (two warps of 16 rows per group).
template <class Tile>
struct LaneBlocks16 : LaneBlockRows<Tile, format::kLaneBlockRows, format::kLaneBlockBytes> {
  using Rows = LaneBlockRows<Tile, format::kLaneBlockRows, format::kLaneBlockBytes>;
  using Rows::kRegs;
  static_assert(bytes_of(Tile::T) != 1, "LaneBlocks16 is the 16-bit k32 and tf32 k16 forms' layout (8-bit: LaneBlocks8)");
  static constexpr format::MetaLayout kLayout = format::MetaLayout::LaneBlocks16;
  static constexpr const char* kRowRule = "one metadata lane block serves 32 rows";
  static constexpr int kOddWarpLaneXor = 2;
  // k-step ks: its own register, selector 0. `accumulate` false: D = A.B (s10's first k-step of a k-tile).
  static __device__ __forceinline__ void mma(float (&acc)[Tile::kAccRegs], uint64_t da, uint64_t db,
                                             const uint32_t (&e)[kRegs], int ks, bool accumulate) {
    if constexpr (Tile::T == DType::tf32)
      ptx::wgmma_tf32_sp_ss<Tile::kBN, 0>(acc, da, db, e[ks], accumulate);
    else
      ptx::wgmma_sp_ss<Tile::T, Tile::kBN, 0>(acc, da, db, e[ks], accumulate);
  }
};

// The metadata reader of LaneBlocks8, the layout of the 8-bit k64 forms (format.h): one block of 32 words per 16
// rows and 64 dense k, which is one warp's share of one m64nNk64 k-step: every lane of the warp reads its own word
// (warp w of consumer c: row group 4 c + w) and the instruction takes selector 0 (the k64 forms have no other). A
// k-tile (BK = 128 values, the same 128 bytes of B per row as BK = 64 at 16 bits) of a 16-row group is 64 words, 2
// KB a stage at BM = 128, twice the 16-bit stage's (8-bit metadata is 4 bits per 4 values of one byte). Each warp
// reads 32 consecutive words: no bank conflict.
template <class Tile>
struct LaneBlocks8 : LaneBlockRows<Tile, format::kLaneBlock8Rows, format::kLaneBlock8Bytes> {
  using Rows = LaneBlockRows<Tile, format::kLaneBlock8Rows, format::kLaneBlock8Bytes>;
  using Rows::kRegs;
  static_assert(bytes_of(Tile::T) == 1, "LaneBlocks8 is the 8-bit k64 forms' layout (16-bit: LaneBlocks16)");
  static_assert(Tile::Instr::kK == format::kLaneBlock8Cols, "one block per warp and k-step");
  static constexpr format::MetaLayout kLayout = format::MetaLayout::LaneBlocks8;
  static constexpr const char* kRowRule = "one 8-bit metadata lane block serves 16 rows";
  static constexpr int kOddWarpLaneXor = 0;
  static __device__ __forceinline__ void mma(typename Tile::Acc (&acc)[Tile::kAccRegs], uint64_t da, uint64_t db,
                                             const uint32_t (&e)[kRegs], int ks, bool accumulate) {
    ptx::wgmma8_sp_ss<Tile::T, Tile::kBN>(acc, da, db, e[ks], accumulate);
  }
};

// The metadata reader an input type's instruction reads in this ladder: LaneBlocks16 at 16 bits, LaneBlocks8 at 8.
template <class Tile>
using LaneBlocks = std::conditional_t<bytes_of(Tile::T) == 1, LaneBlocks8<Tile>, LaneBlocks16<Tile>>;

// The mainloop: the producer's copies of one unit of work into the ring, and a consumer warpgroup's wgmma over the
// same k-tiles. The consumer waits for its own batch (wait_group 0) at every k-tile before it releases the stage.
template <class RingT>
struct TmaMainloop {
  using Ring = RingT;
  using Tile = typename Ring::Tile;
  using Meta = typename Ring::Meta;
  using Cluster = typename Ring::Cluster;
  using Instr = typename Tile::Instr;
  static constexpr int kStages = Ring::kStages;

  // The tensor maps the producer reads (meta stays unset without metadata). The kernel's parameters start here.
  struct Maps {
    CUtensorMap a, b, meta;
  };

  static void encode(Maps& m, const GemmArgs& a) {
    constexpr int kElemBytes = Tile::kElemBytes;
    m.a = tma::encode_2d(a.a, kElemBytes, a.M, a.K / Tile::Operands::kAPack, a.lda * kElemBytes, Tile::kBM,
                         Tile::kAValues, Tile::kATmaSwizzle);
    m.b = tma::encode_2d(a.b, kElemBytes, a.N, a.K, a.ldb * kElemBytes, Ring::kBBoxRows, Tile::kBPanelValues,
                         Tile::kBTmaSwizzle);
    Meta::encode(m.meta, a);
  }

  static __device__ __forceinline__ void prefetch(const Maps& maps) {
    ptx::tma_prefetch_descriptor(&maps.a);
    ptx::tma_prefetch_descriptor(&maps.b);
    Meta::prefetch(&maps.meta);
  }

  // The producer thread: for each k-tile of the unit, wait until the stage is empty (not in the first round), arm
  // "full" with the stage's bytes, and issue the copies of A, B (the cluster's share; one box per 128-byte panel of
  // B's rows: operands.cuh) and the metadata.
  static __device__ __forceinline__ void produce(const Maps& maps, const wgmma::Work& w,
                                                 const typename Ring::Smem& ring, uint32_t rank, int& it) {
    for (int kt = w.k.begin; kt < w.k.end; ++kt, ++it) {
      const int s = it % kStages, round = it / kStages;
      if (round > 0) ptx::mbarrier_wait(ring.empty_bar(s), (round - 1) & 1);
      const uint32_t stage = ring.stage(s), full = ring.full_bar(s);
      ptx::mbarrier_arrive_expect_tx(full, Ring::kStageTx);
      ptx::tma_load_2d(stage + Ring::kAOffset, &maps.a, full, kt * Tile::kAValues, w.o.m);
      Cluster::template load_b<Tile>(stage + Ring::kBOffset, &maps.b, full, kt * Tile::kBK, w.o.n, rank);
      if constexpr (Tile::kBPanels == 2)  // the wide k-tile's second 128-byte panel of B's rows (operands.cuh)
        Cluster::template load_b<Tile>(stage + Ring::kBOffset + Tile::kBPanelBytes, &maps.b, full,
                                       kt * Tile::kBK + Tile::kBPanelValues, w.o.n, rank);
      Meta::load(stage + Ring::kMetaOffset, &maps.meta, full, kt, w.o.m);
    }
  }

  // The consumer's half of a k-tile: its metadata from the stage, then the k-steps' wgmma as one committed batch.
  // A's rows of this consumer start consumer * 64 rows into the stage; a k-step moves kAStepBytes along A's row
  // and kBStepBytes along B's, inside the swizzle atom (the descriptors' leading byte offset 16, stride 8 rows),
  // B's into its next 128-byte panel where the row is two (Tile::b_step_offset).
  static __device__ __forceinline__ void read_metadata(uint32_t (&e)[Meta::kRegs], const uint8_t* ring_generic, int s,
                                       const wgmma::MetaLane& meta_lane, bool valid) {
    const uint32_t* meta =
        reinterpret_cast<const uint32_t*>(ring_generic + s * Ring::kStageBytes + Ring::kMetaOffset);
    Meta::read(e, meta, meta_lane, valid);
  }
  // kFresh: the batch's first k-step overwrites acc (D = A.B) instead of adding to it (s10's per-k-tile sums).
  template <bool kFresh = false>
  static __device__ __forceinline__ void issue(typename Tile::Acc (&acc)[Tile::kAccRegs], uint32_t stage,
                                               int consumer, const uint32_t (&e)[Meta::kRegs]) {
    ptx::fence_registers(acc);
    ptx::wgmma_fence();
#pragma unroll
    for (int ks = 0; ks < Tile::kKSteps; ++ks) {
      const uint64_t da =
          ptx::smem_desc(stage + Ring::kAOffset + consumer * Instr::kM * Tile::kARowBytes + ks * Tile::kAStepBytes,
                         16, 8 * Tile::kARowBytes, Tile::kASwizzle);
      const uint64_t db = ptx::smem_desc(stage + Ring::kBOffset + Tile::b_step_offset(ks), 16, Tile::kBAtomBytes,
                                         Tile::kBSwizzle);
      Meta::mma(acc, da, db, e, ks, !(kFresh && ks == 0));
    }
    ptx::wgmma_commit_group();
  }

  // Registers carried from one k-tile to the next: none, every batch is complete before the next k-tile.
  struct Carried {};

  // A consumer warpgroup's k-loop over one unit: wait "full", read, issue, wait for the batch, release the stage.
  template <bool kSlicesMayBeEmpty>
  static __device__ __forceinline__ void consume(typename Tile::Acc (&acc)[Tile::kAccRegs], Carried&,
                                                 const GemmArgs& args,
                                                 const wgmma::Work& w, const typename Ring::Smem& ring,
                                                 const uint8_t* ring_generic, const wgmma::ConsumerThread& me,
                                                 const wgmma::MetaLane& meta_lane, int& it) {
    static_assert(!Tile::Operands::kPromote, "fp8 sums need f32 promotion: s10's PromotingMainloop");
    const bool valid = Meta::valid(meta_lane, w.o.m, args.M);
#pragma unroll
    for (int i = 0; i < Tile::kAccRegs; ++i) acc[i] = typename Tile::Acc(0);
    for (int kt = w.k.begin; kt < w.k.end; ++kt, ++it) {
      const int s = it % kStages;
      const uint32_t stage = ring.stage(s);
      ptx::mbarrier_wait(ring.full_bar(s), (it / kStages) & 1);
      uint32_t e[Meta::kRegs] = {};
      read_metadata(e, ring_generic, s, meta_lane, valid);
      issue(acc, stage, me.consumer, e);
      ptx::wgmma_wait_group<0>();
      ptx::fence_registers(acc);
      if (me.lane == 0) Ring::release(ring.empty_bar(s));
    }
  }
};

// The scheduler: one unit of work per CTA (cluster), a tile of D with all of K, the tiles in grouped order
// (kernels/common/raster.h: GROUP row blocks down a column, then the next column). Without a cluster the grid is
// 2-D (column blocks on x, row blocks on y); with one (s04) it is 1-D, whole clusters of row blocks: a unit is a
// cluster tile of kClusterM row blocks x 1 column block, the CTAs of a cluster taking its row blocks in rank order
// (a last cluster with fewer row blocks gets idle partners whose rows are all past M: they load zeros, compute,
// store nothing, and keep the protocol whole).
template <class TileT, int GROUP, class Cluster = wgmma::SingleCta>
struct OneTilePerCta {
  using Tile = TileT;
  static constexpr int kGroup = GROUP, kClusterM = Cluster::kCtas;
  static constexpr int kBM = Tile::kBM, kBN = Tile::kBN;
  static constexpr bool kSlicesMayBeEmpty = false;  // every unit has all of K
  static_assert(GROUP % kClusterM == 0, "a rasterization group holds whole clusters");
  static_assert(GROUP >= 1 && GROUP <= 64 && grouped_order_is_bijective<GROUP>(7, 5) &&
                    grouped_order_is_bijective<GROUP>(GROUP + 3, 4),
                "grouped order must visit every tile exactly once");

  // No fields of its own in the kernel's parameters.
  template <class Base>
  using Params = Base;
  template <class P>
  static void encode(P&, int) {}
  static void add_params(sparse24::Params&) {}

  template <class Kernel>
  static int split_for(const GemmArgs&) {
    return 1;
  }
  static int units(const GemmArgs& a, int split) {
    const int grid_m = (a.M + kBM - 1) / kBM, grid_n = (a.N + kBN - 1) / kBN;
    return (grid_m + kClusterM - 1) / kClusterM * grid_n * split;
  }
  static dim3 launch_grid(const GemmArgs& a, int units, int split) {
    const int grid_m = (a.M + kBM - 1) / kBM, grid_n = (a.N + kBN - 1) / kBN;
    return kClusterM == 1 ? dim3(grid_n, grid_m, split) : dim3(unsigned(kClusterM * units));
  }
  template <class Kernel>
  static void fit_grid(Plan&, int) {}

  // What every CTA knows about the units of work.
  struct Units {
    uint32_t rank;  // this CTA's rank in its cluster
    int k_tiles, grid_n, unit_rows, tiles, split, units;
  };
  template <class P>
  static __device__ __forceinline__ Units units_of(const GemmArgs& args, const P&) {
    const int k_tiles = args.K / Tile::kBK;
    const uint32_t rank = Cluster::rank();
    const int grid_m = (args.M + kBM - 1) / kBM, grid_n = (args.N + kBN - 1) / kBN;
    const int unit_rows = (grid_m + kClusterM - 1) / kClusterM, tiles = unit_rows * grid_n;
    return {rank, k_tiles, grid_n, unit_rows, tiles, 1, tiles};
  }
  static __device__ __forceinline__ int first(const Units&) {
    return kClusterM == 1 ? int(blockIdx.y * gridDim.x + blockIdx.x) : int(blockIdx.x) / kClusterM;
  }
  static __device__ __forceinline__ int stride(const Units& u) { return u.units; }
  // The unit's tile (this CTA's row block of its cluster tile) and its k-tiles: all of K.
  static __device__ BlockCoord origin(const Units& u, int unit) {
    const BlockCoord c = grouped_block<GROUP / kClusterM>(unit, u.unit_rows, u.grid_n);
    return BlockCoord{(c.m * kClusterM + int(u.rank)) * kBM, c.n * kBN};
  }
  static __device__ splitk::Slice slice(const Units& u, int) { return splitk::Slice{0, u.k_tiles}; }
  static __device__ __forceinline__ wgmma::Work work(const Units& u, int unit) {
    return {origin(u, unit), slice(u, unit), 0, 1, unit * kClusterM + int(u.rank)};
  }
};

// The epilogue: each consumer warp's 16 rows of the tile, alpha * acc (+ beta * C) converted and stored from the
// accumulator registers, 4-byte pairs per lane (kernels/common/epilogue.cuh), rows past M and columns past N
// skipped. D is the operands' output type (the input type at 16 bits, int32 for int8, bf16 for fp8); with
// ScaledTo<D> operands the factor is EpilogueScales' alpha * sa * sb * r[m] * c[n] instead of alpha.
template <class TileT>
struct RegisterEpilogue {
  using Tile = TileT;
  static constexpr int kSmemBytes = 0;
  template <class Base>
  using Params = Base;
  template <class P>
  static void encode(P&, const GemmArgs&) {}
  static size_t workspace_bytes(const GemmArgs&, int, int) { return 0; }
  template <class P>
  static void after_launch(const GemmArgs&, const P&, cudaStream_t) {}

  template <class P>
  static __device__ __forceinline__ void store(const typename Tile::Acc (&acc)[Tile::kAccRegs],
                                               const GemmArgs& args, const P&, const wgmma::Work& w,
                                               const wgmma::ConsumerThread& me, const wgmma::SharedBuffer&) {
    using E = Elem<Tile::kD>;
    const int row0 = w.o.m + me.consumer * Tile::Instr::kM + me.warp * Tile::kWarpRows;
    if constexpr (Tile::Operands::kHasScales) {
      store_scaled(acc, args, row0, w.o.n);
    } else if constexpr (Tile::kD == DType::int32) {
#pragma unroll
      for (int nt = 0; nt < Tile::kBN / 8; ++nt)
        store_acc_m16n8(*reinterpret_cast<const int32_t(*)[4]>(&acc[4 * nt]), row0, w.o.n + nt * 8, args.M,
                        args.N, static_cast<int32_t*>(args.d), args.ldd, static_cast<const int32_t*>(args.c),
                        args.ldc, args.alpha, args.beta);
    } else {
#pragma unroll
      for (int nt = 0; nt < Tile::kBN / 8; ++nt)
        store_acc_m16n8<Tile::kD>(*reinterpret_cast<const float(*)[4]>(&acc[4 * nt]), row0, w.o.n + nt * 8, args.M,
                                  args.N, static_cast<typename E::type*>(args.d), args.ldd,
                                  static_cast<const typename E::type*>(args.c), args.ldc, args.alpha, args.beta);
    }
  }
  // ScaledTo<D>: the factor of each element from EpilogueScales (per-tensor, per-row, per-column), then beta * C.
  // The row part of the factor once per thread (its rows g and g + 8 of the warp's 16), the column scales as one
  // pair per m16n8 tile, all loaded before the first store (store_acc_m16n8_prescaled: the same factor, bit for bit).
  static __device__ __forceinline__ void store_scaled(const typename Tile::Acc (&acc)[Tile::kAccRegs],
                                                      const GemmArgs& args, int row0, int col0) {
    using E = Elem<Tile::kD>;
    const EpilogueScales scales = EpilogueScales::load(args);
    const int lane = threadIdx.x % 32;
    const float row_factor[2] = {scales.row_factor(row0 + frag::acc_m16n8(lane, 0).row, args.M),
                                 scales.row_factor(row0 + frag::acc_m16n8(lane, 2).row, args.M)};
    // The column pairs' scales of kChunk tiles first, then their stores: a load after a store to D would wait for
    // it (one L2 round trip per tile); all kBN / 8 at once would need kBN / 4 more registers (spills at BN = 256).
    constexpr int kTiles = Tile::kBN / 8, kChunk = kTiles < 8 ? kTiles : 8;
    static_assert(kTiles % kChunk == 0, "whole chunks of m16n8 tiles");
#pragma unroll
    for (int c = 0; c < kTiles; c += kChunk) {
      float2 col_factor[kChunk];
#pragma unroll
      for (int j = 0; j < kChunk; ++j)
        col_factor[j] = scales.col_factors(col0 + (c + j) * 8 + frag::acc_m16n8(lane, 0).col, args.N);
#pragma unroll
      for (int j = 0; j < kChunk; ++j)
        store_acc_m16n8_prescaled<Tile::kD>(*reinterpret_cast<const typename Tile::Acc(*)[4]>(&acc[4 * (c + j)]),
                                            row0, col0 + (c + j) * 8, args.M, args.N,
                                            static_cast<typename E::type*>(args.d), args.ldd,
                                            static_cast<const typename E::type*>(args.c), args.ldc, row_factor,
                                            col_factor[j], args.beta);
    }
  }
  static __device__ __forceinline__ void finish() {}
};

// Out: what the epilogue writes (wgmma::Unscaled, or wgmma::ScaledTo<D>: operands.cuh).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, class Out = wgmma::Unscaled>
struct s02_tma
    : wgmma::Kernel<s02_tma<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>,
                    TmaMainloop<wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN, Out>,
                                                 LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN, Out>>, STAGES>>,
                    OneTilePerCta<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP>,
                    RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN, Out>>> {};

}  // namespace sparse24::wgmma_sp
