// wgmma_sp step 07, "ownmeta": s06 reading the family's own metadata layout, format::MetaLayout::Wgmma16x64.
//
// What it adds over s06_tmastore (which reads LaneBlocks16, the mma_sp family's layout, s01's header says why):
// wgmma.sp m64nNk32 reads a warp's metadata from lanes q = 0, 1 under selector 0 and from q = 2, 3 under selector 1
// (docs/sparse-tensor-cores.md §3a). In LaneBlocks16 a k-step's word serves 32 rows, so a warp of the m64 tile
// finds its 16 rows in one lane pair of each k-step's block and issues both k-steps with selector 0: two 32-bit
// loads and two registers per k-tile, half of each word unused by this warp. Wgmma16x64 reorders the canonical
// nibbles so that one word per lane carries the warp's 16 rows for BOTH k-steps of a 64-wide k-tile: k-step 0 in
// q = 0, 1 (selector 0), k-step 1 in q = 2, 3 (selector 1). Per k-tile a consumer warp now does
//   s06: LDS, LDS, wgmma.sp(e0, sel 0), wgmma.sp(e1, sel 0)       two metadata registers (four while in flight)
//   s07: LDS,      wgmma.sp(e,  sel 0), wgmma.sp(e,  sel 1)       one metadata register (two while in flight)
// The TMA moves the same 1 KB of metadata per stage (a box of BM/16 slab rows x 32 words instead of BM/32 lane-block
// rows x 64 words), and a warp's 32 loads still hit 32 banks. A 16-row slab past M arrives as zeros and its warp
// substitutes the padding word, as before. Because a block serves 16 rows, not 32, the shape rule relaxes to
// M % 16 == 0.
//
// Effect (results/NOTES.md, session 5; run 2026-11-22_731aa7e and its prof/): the consumers' shared-memory load
// wavefronts fall from 32.7 M to 24.1 M at 8192^3, the time does not move beyond the run-to-run spread (-1.2% to
// +2.4% against s06, s06 itself moving by 3%). The limit is elsewhere: the shared-memory data pipe, which the
// wgmma's own operand reads (144 wavefronts per m64n256k32) fill to 82% of its cycles in s07 and in cuSPARSELt,
// which issue the same instructions as s06 (docs/sparse-tensor-cores.md §5a). What s07 does give: half the metadata registers and loads, M % 16
// shapes, and a layout made for the instruction. The dense twin is s06's (wgmma_dense.s06_tmastore): dense A has
// no metadata.
//
// This step defines the metadata reader Wgmma16x64 (s02's LaneBlocks16 is the other); the kernel is s06's with
// the ring carrying this layout: s06's mainloop, scheduler and epilogue, by name.
// Preconditions: M % 16 == 0, K % 64 == 0, any N >= 1, 16-byte aligned operands and rows. sm_90a only.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 1005.1 TFLOP/s = 106% of the mma.sp m16n8k32 loop (948), 1.47x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_731aa7e).
#pragma once

#include "kernels/wgmma_sp/s06_tmastore.cuh"

namespace sparse24::wgmma_sp {

// The metadata reader of Wgmma16x64: per k-tile one block of 32 words per 16-row warp slab; warp w of consumer c
// reads slab 4c + w, word `lane`, one register for both k-steps: k-step 0 under selector 0 (lanes q = 0, 1 of the
// instruction's metadata), k-step 1 under selector 1 (q = 2, 3). The metadata is a 2-D tensor of M / 16 slab rows
// of K / 2 words (K / 64 blocks of 32), one box of BM / 16 x 32 words: the same 1 KB per stage at BM = 128.
template <class Tile>
struct Wgmma16x64 {
  static_assert(Tile::Operands::kSparse, "metadata belongs to sparse operands");
  static_assert(Tile::kKSteps == 2, "one Wgmma16x64 word serves the two k32 steps of a 64-wide k-tile");
  static_assert(bytes_of(Tile::T) == 2, "Wgmma16x64 is a layout of the 16-bit k32 forms");
  static constexpr format::MetaLayout kLayout = format::MetaLayout::Wgmma16x64;
  static constexpr int kRowGroup = format::kWgmmaBlockRows;  // rows of A one metadata row serves: a warp's 16
  static constexpr const char* kRowRule = "one wgmma16x64 metadata block serves a warp's 16 rows";
  static constexpr int kWords = format::kLaneBlockBytes / 4;  // one block of 32 words per slab and k-tile
  static constexpr int kRegs = 1;                             // per consumer thread and k-tile
  static constexpr int kBytes = Tile::kBM / kRowGroup * kWords * 4;

  static void encode(CUtensorMap& map, const GemmArgs& a) {
    const int64_t row_words = int64_t(a.K) / Tile::kBK * kWords;
    map = tma::encode_2d(a.a_meta, 4, a.M / kRowGroup, row_words, row_words * 4, Tile::kBM / kRowGroup, kWords,
                         tma::Swizzle::None);
  }
  static __device__ __forceinline__ void prefetch(const CUtensorMap* map) { ptx::tma_prefetch_descriptor(map); }
  static __device__ __forceinline__ void load(uint32_t dst, const CUtensorMap* map, uint32_t full, int kt, int m0) {
    ptx::tma_load_2d(dst, map, full, kt * kWords, m0 / kRowGroup);
  }

  // Warp w of consumer c reads slab 4c + w, word `lane`.
  static constexpr int kGroupsPerConsumer = Tile::Instr::kM / kRowGroup;  // 4
  static constexpr int kWarpsPerGroup = kRowGroup / Tile::kWarpRows;      // 1
  static constexpr int kOddWarpLaneXor = 0;
  // A slab past M arrives as zeros: its warp substitutes the padding word, as s02's reader does.
  static __device__ __forceinline__ bool valid(const wgmma::MetaLane& l, int m0, int M) {
    return m0 / kRowGroup + l.group < M / kRowGroup;
  }
  static __device__ __forceinline__ void read(uint32_t (&e)[kRegs], const uint32_t* meta, const wgmma::MetaLane& l,
                                              bool valid) {
    e[0] = valid ? meta[l.word] : format::kPaddingMetaWord;
  }
  // One register, the k-step picks its lanes with the selector.
  static __device__ __forceinline__ void mma(float (&acc)[Tile::kAccRegs], uint64_t da, uint64_t db,
                                             const uint32_t (&e)[kRegs], int ks, bool accumulate) {
    if (ks == 0)
      ptx::wgmma_sp_ss<Tile::T, Tile::kBN, 0>(acc, da, db, e[0], accumulate);
    else
      ptx::wgmma_sp_ss<Tile::T, Tile::kBN, 1>(acc, da, db, e[0], accumulate);
  }
  static __device__ void keep(const uint32_t (&e)[kRegs]) { ptx::keep_register(e[0]); }
};

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          bool PERSISTENT = true>
struct s07_ownmeta
    : wgmma::Kernel<s07_ownmeta<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PERSISTENT>,
                    InFlightMainloop<typename s06_tmastore<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PERSISTENT>::
                                         Ring::template WithMeta<Wgmma16x64<SparseTile<T, BM, BN, BK, WM, WN>>>>,
                    typename s06_tmastore<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PERSISTENT>::Scheduler,
                    typename s06_tmastore<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PERSISTENT>::Epilogue> {};

}  // namespace sparse24::wgmma_sp
