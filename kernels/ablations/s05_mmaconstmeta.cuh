// ablation of mma_sp step 05 (s05_raster, the warp-level ladder's fastest step: kernels/dispatch_table.inc picks it
// at 10 of its 12 mma_sp entries), "mmaconstmeta": the same kernel with the metadata taken from a constant
// register instead of the stages, the time difference being the cost of getting the metadata to the mma.sp
// (issue 17: the metadata overhead measured three ways, bytes, time and instructions). The wgmma twin is
// s05_constmeta.cuh; this is the same idea on the warp-level kernel.
//
// What it removes from mma_sp.s05_raster: the metadata's 4-byte cp.async per lane word and k-step (kMetaGroups x
// 32 lanes x BK / 32 words per k-tile: 256 at 128 rows, BK = 64, two per thread of a 4-warp block), their L2 and
// DRAM traffic (1/8 of the compressed A's bytes at 16 bits), the padding of row groups past M, and each warp's
// shared loads of its words (one ld.shared.v2 per row group and k-tile, 2 per warp tile of 64 rows). It keeps
// everything else: the same stages (their metadata slot left unwritten, so that shared memory per block and blocks
// per SM are s05's), the same mma.sp with the same selectors and the same `e` registers, the same register double
// buffering and block order. It is s04_swizzle::tile with another MetaReader (the hook in s04_swizzle.cuh), so the
// SASS differs only in those copies and loads and their addresses: per k-tile (scripts/meta_sass.py, sm_90a, nvcc
// 13.0) 35 of s05's 231 loop instructions at 128x128 (2 LDS, 2 LDGSTS, 23 integer ops), 21 of 203 at 128x256
// (2, 1, 12); the 64 mma.sp and 24 ldmatrix are the same.
//
// It is a correct kernel on one kind of problem: every group of four keeps its first two elements, so every
// metadata nibble is 0x4 and every word format::kPaddingMetaWord (the word s04 already writes for row groups past
// M). The registry marks it uniform_metadata; the harness builds its problem with elements 2 and 3 of every group
// zeroed before pruning and checks it against that problem's reference like any variant (s05_constmeta.cuh says
// how). It is an ablation, not a ladder step: the dispatcher never picks it.
//
// Architectures: the ablations family is built for sm_90a only (family.cmake), so the registry says sm_90a; the
// code is s05's and would run on sm_80+.
#pragma once

#include "kernels/format/format.h"
#include "kernels/mma_sp/s05_raster.cuh"

namespace sparse24::ablations {

// The reader of s04_swizzle::tile without its copies and loads: every word the uniform one, in the same registers.
struct ConstantLaneMetadata {
  static constexpr bool kStaged = false;  // nothing copied into the stages, no padding written
  template <class Vec>
  static __device__ __forceinline__ Vec read(const uint8_t*) {
    static_assert(sizeof(Vec) % sizeof(uint32_t) == 0, "a lane's metadata is whole 32-bit words");
    Vec v;
    auto* words = reinterpret_cast<uint32_t*>(&v);
#pragma unroll
    for (int i = 0; i < int(sizeof(Vec) / sizeof(uint32_t)); ++i) words[i] = format::kPaddingMetaWord;
    return v;
  }
};

// s05_raster's description, block order and tile, with the tile's metadata reader replaced.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP>
struct s05_mmaconstmeta
    : WarpTiled<s05_mmaconstmeta<T, BM, BN, BK, WM, WN, STAGES, GROUP>, T, BM, BN, BK, WM, WN, STAGES> {
  using Real = mma_sp::s05_raster<T, BM, BN, BK, WM, WN, STAGES, GROUP>;
  static constexpr ArchRule kArch = {90, 90, true};  // where the ablations family has code (see above)
  static constexpr bool kSparse = Real::kSparse;
  static constexpr format::MetaLayout kMetaLayout = Real::kMetaLayout;
  static constexpr ShapeRule kRule = Real::kRule;
  static constexpr int kSmemBytes = Real::kSmemBytes;  // the stages keep their metadata slot: s05's occupancy
  static constexpr int kMinBlocksPerSm = Real::kMinBlocksPerSm;
  static constexpr bool kUniformMetadata = true;  // correct only on problems whose every nibble is 0x4
  static_assert(Real::kArch.min_sm <= kArch.min_sm, "the twin runs only where its step runs");

  static Params params() { return Real::params(); }

  static __device__ void run_block(const GemmArgs& args) {
    const BlockCoord c = Real::block_coord();
    Real::Tile::template tile<ConstantLaneMetadata>(args, c.m * BM, c.n * BN);
  }
};

}  // namespace sparse24::ablations
