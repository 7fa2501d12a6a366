// "Fragment order": the compressed values of a 2:4-sparse A (16-bit types), permuted so that a wgmma.sp RS consumer
// thread loads its A registers for one k32 step with ONE 16-byte global load (wgmma_sp/s15_rsldg.cuh), and the 32
// lanes of a warp read 512 contiguous bytes. Made once per problem, outside timing (like the metadata layouts of
// format.h), from the canonical values (M x K/2 row-major, row stride ldv values).
//
// The RS form of wgmma.sp m64nNk32 takes A as 4 x b32 per thread: warp w of the warpgroup holds rows 16w..16w+15 of
// the m64 tile, and its lanes hold exactly the m16n8k32 compressed A fragment of those 16 rows x 16 compressed
// values (frag::a_m16k16, kernels/common/fragments.h; verified by tests/gpu/test_wgmma_instructions_gpu.cu):
//   register r, half h of lane 4g + q  =  element j = 2r + h  =  (row g + 8 (r % 2), value 8 (r / 2) + 2q + h)
// Fragment order stores those 8 halves (register 0 first, low half first) as one 16-byte chunk, so the load's four
// words ARE the four registers, no shuffle.
//
//   A compressed values (M x K/2)              fragment order (bytes)
//   +--------- k-tile t: 32 values ---------+  block (s, t) = 4 KB at (s * k_tiles + t) * 4096:
//   | warp 0 rows 0..15:  step 0 | step 1   |    chunk c = (w * 2 + ks) * 32 + lane, 16 bytes each:
//   | warp 1 rows 16..31: step 0 | step 1   |    [w0 ks0: lanes 0..31][w0 ks1: 0..31][w1 ks0]...[w3 ks1]
//   | warp 2, warp 3                        |    = 8 x 512 bytes, one warp-wide LDG.128 each
//   +---- slab s: 64 rows (one m64 tile) ---+
//
// Blocks go [64-row slab][k-tile], so a consumer warpgroup's A for a unit of work (one slab, k-tiles begin..end)
// is one contiguous run of 4 KB blocks, read in order: whole DRAM pages and L2 lines, nothing read twice per CTA.
// Rows past M (the last slab when M % 64 != 0) are zeros; the kernel never stores their results (the TMA store
// clips them) and their metadata is the padding word, so zeros are as good as any value. The order is a bijection
// between the M x K/2 values and the first M rows' positions of the padded image (tests/cpu/test_fragment_values.cpp).
// 16-bit types only: the 8-bit RS fragment has another shape (frag::a8_m16k32); K % 64 == 0 (whole k-tiles).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/common/dtype.h"
#include "kernels/common/fragments.h"

#ifdef __CUDACC__
#define SPARSE24_FRAG_HD __host__ __device__
#else
#define SPARSE24_FRAG_HD
#endif

namespace sparse24::format {

inline constexpr int kFragmentSlabRows = 64;       // rows of one m64 wgmma tile: one consumer warpgroup
inline constexpr int kFragmentWarpRows = 16;       // rows per warp of the m64 tile
inline constexpr int kFragmentTileCols = 64;       // dense K of one k-tile (BK = 64 at 16 bits)
inline constexpr int kFragmentStepValues = 16;     // compressed values per row of one k32 step
inline constexpr int kFragmentStepsPerTile = kFragmentTileCols / 2 / kFragmentStepValues;  // 2
inline constexpr int kFragmentChunkBytes = 16;     // one thread's 4 registers of one k-step: 8 x 16-bit
inline constexpr int kFragmentChunkValues = 8;
inline constexpr int kFragmentWarpStepBytes = 32 * kFragmentChunkBytes;  // 512: one warp's load of one k-step
inline constexpr int kFragmentBlockBytes = kFragmentSlabRows * kFragmentTileCols / 2 * 2;  // 4096 (16-bit values)
static_assert(kFragmentBlockBytes ==
                  (kFragmentSlabRows / kFragmentWarpRows) * kFragmentStepsPerTile * kFragmentWarpStepBytes,
              "a block is 4 warps x 2 k-steps x 32 lanes x 16 bytes: every value of the slab's k-tile once");
static_assert(kFragmentWarpRows * kFragmentStepValues == 32 * kFragmentChunkValues,
              "a warp's 16 x 16 compressed values are its 32 lanes' 8 halves each");

// Where element e (0..7) of chunk `chunk` of block (slab, k_tile) comes from: (row, column) in the compressed
// values, column counted in values (0..K/2-1).
struct FragmentSource {
  int64_t row, col;
};
SPARSE24_FRAG_HD constexpr FragmentSource fragment_source(int64_t slab, int64_t k_tile, int chunk, int e) {
  const int lane = chunk % 32, ks = (chunk / 32) % kFragmentStepsPerTile, warp = chunk / 32 / kFragmentStepsPerTile;
  const frag::RowCol rc = frag::a_m16k16(lane, e);  // register e / 2, half e % 2
  return {slab * kFragmentSlabRows + warp * kFragmentWarpRows + rc.row,
          k_tile * (kFragmentTileCols / 2) + ks * kFragmentStepValues + rc.col};
}

// Bytes of the fragment-order image: M rounded up to whole 64-row slabs, x K/2 values x 2 bytes.
SPARSE24_FRAG_HD constexpr int64_t fragment_slabs(int64_t M) { return (M + kFragmentSlabRows - 1) / kFragmentSlabRows; }
size_t fragment_values_bytes(DType t, int64_t M, int64_t K);

// CPU reference: canonical values (row stride ldv values) -> fragment order (fragment_values_bytes(t, M, K) bytes,
// rows past M zero), and back (the inverse reads only the first M rows' positions). FormatError: not a 16-bit type,
// K % 64 != 0, M < 1, ldv < K/2.
void to_fragment_order(DType t, const void* values, int64_t ldv, int64_t M, int64_t K, void* out);
void from_fragment_order(DType t, const void* fragments, int64_t M, int64_t K, void* values, int64_t ldv);

namespace gpu {
// The same on the GPU (device pointers, asynchronous on `stream`), bit for bit the CPU's: one thread per 16-byte
// chunk, four 4-byte loads (a register's two values are adjacent in a row) and one 16-byte store. values and out
// 16-byte aligned (FormatError).
void to_fragment_order(DType t, const void* values, int64_t ldv, int64_t M, int64_t K, void* out,
                       void* stream = nullptr);
}  // namespace gpu

}  // namespace sparse24::format
