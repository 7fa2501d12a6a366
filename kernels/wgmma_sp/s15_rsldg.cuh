// wgmma_sp step 15, "rsldg": s07_ownmeta with A (and its metadata) loaded from GLOBAL memory straight into the
// consumers' registers and the RS form of wgmma.sp: the shared-memory ring carries B only.
//
// What it adds over s07_ownmeta: s07 (and cuSPARSELt) issue wgmma.sp m64n256k32 with both operands in shared
// memory (SS). Each such instruction reads 128 wavefronts of B and 16 of A through the shared-memory data pipe
// for 128 tensor-pipe cycles (docs/sparse-tensor-cores.md §5a), so the pipe, one wavefront per cycle, caps the
// tensor pipe at 128 / 144 = 89%; session 10's loop measured exactly that (576 cycles per 512 tensor cycles), and
// the same loop with A in registers ran at the tensor time (512 for 512). Here each consumer warp loads its A
// fragments with one 16-byte ld.global.nc per thread and k-step (A in "fragment order", made once in prepare():
// kernels/format/fragment_values.h) and its Wgmma16x64 metadata word with one 4-byte load per k-tile, D k-tiles
// ahead of use, into a register ring; the wgmma reads only B from shared memory.
//
// THE QUESTION (issue 19 item 2): does an LDG's data, returning from L2 through L1TEX into the register file, stay
// off the pipe that the wgmma's shared-memory operand reads fill? The pipe account per k-tile (BK = 64) and SM, two
// consumers x two m64n256k32:
//                           B (gmma)   A              metadata        total   tensor cycles   cap
//   s07 (SS, LDS meta)      512        64 (gmma)      8 (LDS)         584     512             88%
//   s15 if LDG is off it    512        0              0               512     512             100%
//   s15 if LDG shares it    512        64 (LDG data)  8 (LDG data)    584     512             88%
// (an LDG.128 of a warp's 512 contiguous bytes is 4 wavefronts of 128 bytes, the same bytes the SS form reads).
// So either the step runs up to 12% faster than s07 (and past cuSPARSELt, which runs SS), or it ties s07 and the
// data-stage account is the wall for A in any form; results/NOTES.md "Session 11: wgmma_sp.s15_rsldg (prediction)"
// has the prediction per shape. THE CONTROL is the same kernel with ASource::smem_ldmatrix: A through the TMA ring
// (as s07) and ldmatrix.x4 into the same registers, then the same RS wgmma; everything else equal (the metadata
// by LDG in both). If LDG shares the data stage, the two tie; if it does not, the LDG row is ahead of the control.
//
//   consumer warp w of consumer c, one k-tile kt (slot i = (kt - first k-tile) % D of its register ring):
//     wait full(B stage) | [control: 2 x ldmatrix.x4 of A from the stage into slot i]
//     wgmma.sp RS ks 0 (slot i a[0], e, selector 0), ks 1 (slot i a[1], e, selector 1); commit
//     wgmma.wait_group 1: kt-1's batch retired -> release its B stage; slot i-1 is free:
//     [ldg: 2 x LDG.128 of A] + LDG.32 of metadata for k-tile kt + D - 1 into slot i-1
//
// The register account (per consumer thread, m64n256: setmaxnreg 232 with two consumer warpgroups): 128 f32
// accumulators + D slots x (2 k-steps x 4 A registers + 1 metadata word) = 128 + 9 D (146 at D = 2, 164 at D = 4)
// + addresses and loop state; ptxas reports the count (no spills: the build fails on any).
// The wait discipline: a slot's registers are read by the batch in flight until wgmma.wait_group retires it, so
// they are kept alive (ptx::keep_register) up to that wait and written (the next LDG) only after it, as s03 does
// with its metadata; the wgmma.fence before every batch orders the loads' register writes before the wgmma.
// Shared memory: B stages of 32 KB (no A, no metadata): 6 stages (192 KB) + s06's two 8 KB slabs; the control
// keeps s07's 5 stages of A + B (40 KB each).
// Loads: ld.global.nc.L1::no_allocate (kernels/common/ptx_sm90.cuh says why); a warp's 32 lanes read 512
// contiguous bytes of A per k-step and 128 contiguous bytes of metadata per k-tile.
//
// This step defines RegisterAMainloop (the mainloop: B-only producer, the register-ring consumer), ARegisterTile
// (the tile without A in the ring) and Wgmma16x64Global (the metadata reader whose words come by LDG); the
// scheduler (s05's PersistentScheduler, grouped, clusters of CLUSTER sharing B) and the epilogue (s06's
// TmaStoreEpilogue) are s07's, by name.
// Preconditions: M % 16 == 0 (Wgmma16x64), K % 64 == 0, any N >= 1, 16-byte aligned operands and rows; the
// fragment image (M rounded up to 64 rows x K bytes) is the plan's workspace. 16-bit (fp16, bf16). sm_90a only.
// Expected bottleneck: the tensor pipe if LDG stays off the shared-memory pipe, else that pipe as in s07.
// Result (H200, session 11; results/NOTES.md "Session 11, measured"): A via LDG does leave the pipe (ncu at bf16
// 8192^3: gmma wavefronts 151.0 M -> 134.2 M, no shared-memory loads, the pipe 84.9% -> 51.7% busy), yet the step is
// 1.10-1.44x s07's time (DEPTH 2: 1.44-1.60x) and its control 1.13-1.22x at the same pipe traffic as s07: with A in
// registers the consumers wait on their own loads and on each batch's retirement before a slot is refilled, where
// the SS form runs ahead on descriptors. Kept as the measured answer to issue 19's item 2, not as a candidate.
// Measured: NVIDIA H200, 8192x8192x8192 bf16, best tile 128x256x64: 922.6 TFLOP/s = 97% of the mma.sp m16n8k32 loop (950), 1.31x cuBLAS (run nvidia-h200/session11_2026-12-03_d567ef9).
#pragma once

#include <cstdint>
#include <stdexcept>

#include "kernels/common/fragments.h"
#include "kernels/common/ptx.cuh"
#include "kernels/common/ptx_sm90.cuh"
#include "kernels/format/fragment_values.h"
#include "kernels/wgmma_sp/s07_ownmeta.cuh"

namespace sparse24::wgmma_sp {

// Where the consumers' A registers come from.
enum class ASource {
  global_ldg,     // fragment order in global memory (the plan's workspace), LDG.128 D k-tiles ahead: the step
  smem_ldmatrix,  // the control: canonical values through the TMA ring (64-byte swizzle, as s07), ldmatrix.x4
};

// The block tile with A outside the ring (global_ldg): the stage holds B alone. Every other size is the tile's.
template <class Base>
struct ARegisterTile : Base {
  static constexpr int kABytes = 0;  // A never enters shared memory
};

// The metadata reader of Wgmma16x64 whose words a consumer loads from global memory itself (one 4-byte load per
// lane and k-tile, the layout's word `lane` of block (16-row slab, k-tile)): the ring carries no metadata, the
// producer loads none. Geometry, validity and layout as s07's Wgmma16x64.
template <class Tile>
struct Wgmma16x64Global : Wgmma16x64<Tile> {
  using Base = Wgmma16x64<Tile>;
  static constexpr int kBytes = 0;  // nothing in the ring
  static void encode(CUtensorMap&, const GemmArgs&) {}
  static __device__ __forceinline__ void prefetch(const CUtensorMap*) {}
  static __device__ __forceinline__ void load(uint32_t, const CUtensorMap*, uint32_t, int, int) {}
  // Word `lane` of block (slab, 0) of the metadata: the k-tile's block is kWords further on per k-tile.
  static __device__ __forceinline__ const uint32_t* lane_words(const GemmArgs& args, int m0,
                                                               const wgmma::MetaLane& l, int lane) {
    const int64_t slab = m0 / Base::kRowGroup + l.group;
    return static_cast<const uint32_t*>(args.a_meta) + slab * (int64_t(args.K) / Tile::kBK) * Base::kWords + lane;
  }
};

// The mainloop: the producer fills the ring with B (and A for the control); each consumer warp keeps a ring of
// kDepth register slots (A fragments and metadata word of one k-tile each) and issues the RS wgmma.sp from them.
template <class RingT, ASource kSource, int kDepth>
struct RegisterAMainloop : TmaMainloop<RingT> {
  using Base = TmaMainloop<RingT>;
  using typename Base::Cluster;
  using typename Base::Instr;
  using typename Base::Maps;
  using typename Base::Meta;
  using typename Base::Ring;
  using typename Base::Tile;
  static constexpr int kStages = Ring::kStages;
  static constexpr int kKSteps = Tile::kKSteps;
  static constexpr bool kLdg = kSource == ASource::global_ldg;
  static_assert(kDepth >= 2 && kDepth <= 4, "2 to 4 k-tiles of A in registers (9 registers each)");
  static_assert(kKSteps == format::kFragmentStepsPerTile && Tile::kBK == format::kFragmentTileCols,
                "fragment order is cut in the tile's k-tiles and k-steps");
  static_assert(Instr::kM == format::kFragmentSlabRows && Tile::kWarpRows == format::kFragmentWarpRows,
                "a consumer warpgroup's rows are one fragment-order slab, a warp's its 16 rows");
  static_assert(Tile::kAStepBytes == format::kFragmentChunkBytes * 2,
                "a k-step of a row of A is two 16-byte chunks: the 16 x 16 compressed tile of a warp is 32 chunks");
  static_assert(kLdg == (Tile::kABytes == 0), "A is in the ring exactly when ldmatrix reads it from there");
  static_assert(!Tile::Operands::kPromote && bytes_of(Tile::T) == 2, "16-bit operands: the RS k32 form");

  // One k-tile's registers: the A fragment of each k-step (4 x b32, frag::a_m16k16) and the metadata word.
  struct Slot {
    uint32_t a[kKSteps][4];
    uint32_t e;
  };
  // Nothing carried across units: a unit drains its register ring.
  struct Carried {};

  // The producer: B (this CTA's share, multicast to the cluster) and, for the control, A.
  static __device__ __forceinline__ void prefetch(const Maps& maps) {
    ptx::tma_prefetch_descriptor(&maps.b);
    if constexpr (!kLdg) ptx::tma_prefetch_descriptor(&maps.a);
  }
  static __device__ __forceinline__ void produce(const Maps& maps, const wgmma::Work& w,
                                                 const typename Ring::Smem& ring, uint32_t rank, int& it) {
    for (int kt = w.k.begin; kt < w.k.end; ++kt, ++it) {
      const int s = it % kStages, round = it / kStages;
      if (round > 0) ptx::mbarrier_wait(ring.empty_bar(s), (round - 1) & 1);
      const uint32_t stage = ring.stage(s), full = ring.full_bar(s);
      ptx::mbarrier_arrive_expect_tx(full, Ring::kStageTx);
      if constexpr (!kLdg) ptx::tma_load_2d(stage + Ring::kAOffset, &maps.a, full, kt * Tile::kAValues, w.o.m);
      Cluster::template load_b<Tile>(stage + Ring::kBOffset, &maps.b, full, kt * Tile::kBK, w.o.n, rank);
    }
  }

  // Where one consumer thread's loads start for k-tile 0 of its unit's rows.
  struct Sources {
    const uint8_t* a;     // its chunk of k-step 0 of block (slab, 0) of the fragment image (ldg only)
    const uint32_t* e;    // its metadata word of block (16-row slab, 0)
  };

  // Load k-tile kt's A fragments (ldg) and metadata word into a slot: A's block (slab, kt) is kFragmentBlockBytes
  // further on per k-tile, its k-step ks another kFragmentWarpStepBytes (fragment_values.h's chunk order).
  static __device__ __forceinline__ void load_slot(Slot& slot, const Sources& src, int kt) {
    if constexpr (kLdg) {
#pragma unroll
      for (int ks = 0; ks < kKSteps; ++ks)
        ptx::ld_global_nc_na_v4(slot.a[ks], src.a + int64_t(kt) * format::kFragmentBlockBytes +
                                                ks * format::kFragmentWarpStepBytes);
    }
    slot.e = ptx::ld_global_nc_na_u32(src.e + int64_t(kt) * Meta::kWords);
  }
  // The control: k-tile's A from the stage (64-byte swizzle rows: 16-byte chunk c of row r at c ^ (r % 8) / 2),
  // ldmatrix.x4 per k-step, lane l pointing at row / column frag::ldmatrix_x4_a_16x16(l) of the warp's 16 x 16.
  static __device__ __forceinline__ void read_a_stage(Slot& slot, uint32_t stage, const wgmma::ConsumerThread& me) {
    const frag::RowCol rc = frag::ldmatrix_x4_a_16x16(me.lane);
    const int row = me.consumer * Instr::kM + me.warp * Tile::kWarpRows + rc.row;
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) {
      const int chunk = (ks * Tile::kAStepBytes + rc.col * Tile::kElemBytes) / 16;
      ptx::ldmatrix_x4(slot.a[ks],
                       stage + Ring::kAOffset + row * Tile::kARowBytes + ((chunk ^ ((row % 8) / 2)) * 16));
    }
  }
  static_assert(kLdg || Tile::kASwizzle == ptx::SmemSwizzle::B64, "the control reads A rows of 64-byte swizzle");

  // One k-tile's batch: the two k-steps' RS wgmma.sp, B from the stage, k-step 0 under selector 0 and 1 under 1
  // (Wgmma16x64: one word serves both).
  static __device__ __forceinline__ void issue(typename Tile::Acc (&acc)[Tile::kAccRegs], uint32_t stage,
                                               const Slot& slot) {
    ptx::fence_registers(acc);
    ptx::wgmma_fence();
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) {
      const uint64_t db = ptx::smem_desc(stage + Ring::kBOffset + ks * Tile::kBStepBytes, 16, 8 * Tile::kBRowBytes,
                                         Tile::kBSwizzle);
      if (ks == 0)
        ptx::wgmma_sp_rs<Tile::T, Tile::kBN, 0>(acc, slot.a[0], db, slot.e, true);
      else
        ptx::wgmma_sp_rs<Tile::T, Tile::kBN, 1>(acc, slot.a[1], db, slot.e, true);
    }
    ptx::wgmma_commit_group();
  }
  static __device__ __forceinline__ void keep(const Slot& slot) {
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks)
#pragma unroll
      for (int r = 0; r < 4; ++r) ptx::keep_register(slot.a[ks][r]);
    ptx::keep_register(slot.e);
  }

  template <bool kSlicesMayBeEmpty>
  static __device__ __forceinline__ void consume(typename Tile::Acc (&acc)[Tile::kAccRegs], Carried&,
                                                 const GemmArgs& args, const wgmma::Work& w,
                                                 const typename Ring::Smem& ring, const uint8_t*,
                                                 const wgmma::ConsumerThread& me, const wgmma::MetaLane& meta_lane,
                                                 int& it) {
    // A warp whose 16 rows are past M loads nothing: zero A and the padding word (the instruction must not see
    // invalid metadata; the rows are never stored). Uniform per warp.
    const bool valid = Meta::valid(meta_lane, w.o.m, args.M);
    const int64_t slab = (w.o.m + me.consumer * Instr::kM) / format::kFragmentSlabRows;
    const int64_t k_tiles = args.K / Tile::kBK;
    const Sources src = {static_cast<const uint8_t*>(args.workspace) + slab * k_tiles * format::kFragmentBlockBytes +
                             (me.warp * kKSteps * 32 + me.lane) * format::kFragmentChunkBytes,
                         Meta::lane_words(args, w.o.m, meta_lane, me.lane)};
#pragma unroll
    for (int i = 0; i < Tile::kAccRegs; ++i) acc[i] = typename Tile::Acc(0);
    Slot slot[kDepth];
#pragma unroll
    for (int d = 0; d < kDepth; ++d) {
#pragma unroll
      for (int ks = 0; ks < kKSteps; ++ks)
#pragma unroll
        for (int r = 0; r < 4; ++r) slot[d].a[ks][r] = 0;
      slot[d].e = format::kPaddingMetaWord;
    }
    // The ring's first kDepth - 1 k-tiles; each k-tile below loads the one kDepth - 1 ahead of it.
    if (valid) {
#pragma unroll
      for (int d = 0; d < kDepth - 1; ++d)
        if (w.k.begin + d < w.k.end) load_slot(slot[d], src, w.k.begin + d);
    }
    for (int k0 = w.k.begin; k0 < w.k.end; k0 += kDepth) {
#pragma unroll
      for (int i = 0; i < kDepth; ++i) {
        const int kt = k0 + i;
        if (kt >= w.k.end) break;
        const int s = it % kStages;
        const uint32_t stage = ring.stage(s);
        ptx::mbarrier_wait(ring.full_bar(s), (it / kStages) & 1);
        if constexpr (!kLdg) read_a_stage(slot[i], stage, me);
        issue(acc, stage, slot[i]);
        ptx::wgmma_wait_group<1>();
        ptx::fence_registers(acc);
        // kt-1's batch has retired: its slot may be overwritten and its stage released.
        const int prev = (i + kDepth - 1) % kDepth;  // a constant once the loop is unrolled
        keep(slot[prev]);
        if (kt > w.k.begin && me.lane == 0) Ring::release(ring.empty_bar((it + kStages - 1) % kStages));
        if (valid && kt + kDepth - 1 < w.k.end) load_slot(slot[prev], src, kt + kDepth - 1);
        ++it;
      }
    }
    ptx::wgmma_wait_group<0>();
    ptx::fence_registers(acc);
#pragma unroll
    for (int d = 0; d < kDepth; ++d) keep(slot[d]);
    if ((!kSlicesMayBeEmpty || w.k.end > w.k.begin) && me.lane == 0)
      Ring::release(ring.empty_bar((it + kStages - 1) % kStages));
  }
};

// The step: s07's scheduler and epilogue over the tile without A in the ring (or, for the control, s07's tile),
// this mainloop with DEPTH k-tiles of A and metadata in registers.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER, int DEPTH,
          ASource SOURCE = ASource::global_ldg>
struct s15_rsldg;

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER, int DEPTH,
          ASource SOURCE>
struct S15Parts {
  using Tile = std::conditional_t<SOURCE == ASource::global_ldg, ARegisterTile<SparseTile<T, BM, BN, BK, WM, WN>>,
                                  SparseTile<T, BM, BN, BK, WM, WN>>;
  using Ring = wgmma::StageRing<Tile, Wgmma16x64Global<Tile>, STAGES, Multicast<CLUSTER>>;
  using Mainloop = RegisterAMainloop<Ring, SOURCE, DEPTH>;
  using Scheduler = PersistentScheduler<Tile, GROUP, Multicast<CLUSTER>>;
  using Epilogue = TmaStoreEpilogue<Tile>;
};

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER, int DEPTH,
          ASource SOURCE>
struct s15_rsldg
    : wgmma::Kernel<s15_rsldg<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, DEPTH, SOURCE>,
                    typename S15Parts<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, DEPTH, SOURCE>::Mainloop,
                    typename S15Parts<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, DEPTH, SOURCE>::Scheduler,
                    typename S15Parts<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, DEPTH, SOURCE>::Epilogue> {
  using Kernel = wgmma::Kernel<s15_rsldg, typename S15Parts<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, DEPTH,
                                                            SOURCE>::Mainloop,
                               typename S15Parts<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, DEPTH,
                                                 SOURCE>::Scheduler,
                               typename S15Parts<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, DEPTH,
                                                 SOURCE>::Epilogue>;
  static constexpr bool kLdg = SOURCE == ASource::global_ldg;

  // The registry's fields: s07's, plus the register ring's depth and, for the control, where A comes from.
  static sparse24::Params params() {
    sparse24::Params p = Kernel::params();
    p.push_back({"depth", DEPTH});
    if (!kLdg) p.push_back({"a_ldmatrix", 1});
    return p;
  }

  // s07's preparation, plus the fragment image as the plan's workspace (ldg): it starts at offset 0, so the
  // epilogue must have none of its own (s06's TMA store has none).
  static void prepare(Plan& p) {
    Kernel::prepare(p);
    if constexpr (kLdg) {
      if (p.workspace_bytes != 0)
        throw std::logic_error(p.variant().name + ": the epilogue has a workspace; the A fragments assume offset 0");
      p.workspace_bytes = format::fragment_values_bytes(T, p.args.M, p.args.K);
    }
  }
  // After the workspace is allocated: A in fragment order (kernels/format/fragment_values.h), on the GPU, once per
  // problem, never timed. The device is synchronized before (A may still be being written on a stream that does not
  // wait for the legacy default stream, where the permute runs) and after (the plan may run on any stream).
  static void fill_workspace(const Plan& p) {
    if constexpr (kLdg) {
      SPARSE24_CUDA_CHECK(cudaDeviceSynchronize());
      format::gpu::to_fragment_order(T, p.args.a, p.args.lda, p.args.M, p.args.K, p.args.workspace, nullptr);
      SPARSE24_CUDA_CHECK(cudaDeviceSynchronize());
    }
  }
};

}  // namespace sparse24::wgmma_sp
