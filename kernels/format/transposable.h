// Transposable 2:4 masks: masks for which both W and Wᵀ are 2:4, i.e. every 4x4 block (rows 4i..4i+3, columns
// 4j..4j+3) keeps exactly two elements in each of its rows AND each of its columns. The backward pass of a sparse
// linear layer multiplies by Wᵀ, so training with 2:4 needs the pattern to hold both ways (issue 18).
//
// A block mask is 16 bits: bit 4 r + c set when element (r, c) of the block is kept (r the row along M, c the
// column along K). Exactly 90 of the 2^16 masks are valid (each row and each column keeps two: the 2-regular
// bipartite graphs on 4 + 4 vertices); kPatterns lists them in ascending mask value, so "the lowest pattern index"
// and "the smallest mask" are the same tie rule.
//
// Three selections, all on magnitudes |w| (a block's 16 magnitudes, row-major, as doubles):
//   exact_pattern:  the pattern that keeps the largest sum of |w|, the sum taken in double as (row 0 + row 1) +
//                   (row 2 + row 3), each row's two kept elements added in column order (the GPU kernel's order);
//                   on equal sums the lowest pattern index wins. For fp16 the sums are exact
//                   (|w| is a multiple of 2^-24 below 2^16, so eight of them fit double's 53 bits); for bf16 they
//                   are exact unless the block's magnitudes span more than about 2^44, where "optimum" means "of
//                   these rounded sums". tests/cpu/test_transposable.cpp proves it against a brute force over all
//                   2^16 masks on random blocks with ties.
//   greedy_pattern: the fast variant (what PyTorch's tile pruning does, in spirit): visit the 16 elements by
//                   decreasing |w| (the lower row-major index first on ties) and keep each whose row and column
//                   hold fewer than two kept so far. That can stall below 8 kept (a column filled before the row
//                   that needs it), so it is completed: the valid pattern that contains the most greedy picks, then
//                   the larger sum, then the lower index (when the greedy keeps 8 this is the greedy set itself).
//   one_d:          not transposable: the 1-D 2:4 selection of each row (format.h's rule), the upper bound on what
//                   any transposable mask can keep.
// NaN: refused (FormatError naming the block), since "the most magnitude" has no meaning with a NaN in the sum;
// inf is a magnitude like any other (a pattern with more infs does not score higher: inf + inf = inf, and the tie
// goes to the lowest index).
#pragma once

#include <array>
#include <cstdint>

#include "kernels/common/dtype.h"
#include "kernels/format/format.h"

namespace sparse24::format::transposable {

inline constexpr int kBlock = 4;                      // a block is 4 x 4
inline constexpr int kPatternCount = 90;              // valid 4x4 transposable 2:4 masks

constexpr int popcount4(uint32_t x) { return (x & 1) + ((x >> 1) & 1) + ((x >> 2) & 1) + ((x >> 3) & 1); }
constexpr uint32_t row_bits(uint16_t mask, int r) { return (mask >> (4 * r)) & 0xFu; }
constexpr uint32_t col_bits(uint16_t mask, int c) {
  return ((mask >> c) & 1u) | (((mask >> (4 + c)) & 1u) << 1) | (((mask >> (8 + c)) & 1u) << 2) |
         (((mask >> (12 + c)) & 1u) << 3);
}
// Every row and every column of the block keeps exactly two.
constexpr bool is_transposable_24(uint16_t mask) {
  for (int i = 0; i < kBlock; ++i)
    if (popcount4(row_bits(mask, i)) != 2 || popcount4(col_bits(mask, i)) != 2) return false;
  return true;
}

// The 90 patterns in ascending mask value, generated once at compile time by scanning every 16-bit mask.
constexpr std::array<uint16_t, kPatternCount> make_patterns() {
  std::array<uint16_t, kPatternCount> p{};
  int n = 0;
  for (uint32_t m = 0; m < (1u << 16); ++m)
    if (is_transposable_24(static_cast<uint16_t>(m)) && n < kPatternCount) p[n++] = static_cast<uint16_t>(m);
  return p;
}
inline constexpr std::array<uint16_t, kPatternCount> kPatterns = make_patterns();
static_assert(kPatterns[kPatternCount - 1] != 0 && is_transposable_24(kPatterns[kPatternCount - 1]),
              "the scan must find at least 90 transposable masks");

// Sum of |w| over the kept elements of `mask`, in the order above (every selection here and the GPU use it).
double kept_sum(const double (&mag)[16], uint16_t mask);

int exact_pattern(const double (&mag)[16]);     // index into kPatterns
int greedy_pattern(const double (&mag)[16]);    // index into kPatterns
uint16_t one_d_mask(const double (&mag)[16]);   // rows 2:4, columns unconstrained

// The magnitude of one element's bits as a double: fp16 and bf16 (the 16-bit float types). Throws FormatError for
// other types.
double magnitude(DType t, uint16_t bits);

// Masks of a whole M x K matrix (M, K multiples of 4; 16-bit float types), one 16-bit mask per block, blocks
// row-major: out[(i * K/4) + j] is block (i, j). NaN refused with the block's position.
enum class Method { exact, greedy, one_d };
void block_masks(Method m, DType t, const uint16_t* dense, int64_t M, int64_t K, uint16_t* out);

// The dense matrix with the mask applied (dropped elements become +0.0, kept ones keep their bits): then format's
// compress gives W's values and metadata, and compress of the transposed result gives Wᵀ's.
void apply_masks(const uint16_t* dense, const uint16_t* masks, int64_t M, int64_t K, uint16_t* pruned);

// W and Wᵀ compressed with the exact transposable mask, the CPU reference of gpu::prune_compress_both: values of W
// (M x K/2) and its metadata in layout l; values of Wᵀ (K x M/2: what a kernel reads as A when the GEMM multiplies
// by Wᵀ) and its metadata in layout l of the K x M matrix. The nibbles are the mask's kept positions (a kept element
// may be a zero: the mask decides, not compress's rule). fp16 and bf16; NaN refused (block_masks).
void prune_compress_both(DType t, MetaLayout l, const uint16_t* dense, int64_t M, int64_t K, uint16_t* values,
                         uint8_t* meta, uint16_t* values_t, uint8_t* meta_t);

// The pattern table as row pairs, for the GPU kernel: row r of pattern p keeps the pair kRowPairs[pair index] with
// pair index (kPatternRowPairs[p] >> (3 r)) & 7.
inline constexpr uint8_t kRowPairs[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
constexpr int row_pair_index(uint32_t row_mask) {
  for (int i = 0; i < 6; ++i)
    if (row_mask == ((1u << kRowPairs[i][0]) | (1u << kRowPairs[i][1]))) return i;
  return -1;
}
constexpr std::array<uint16_t, kPatternCount> make_pattern_row_pairs() {
  std::array<uint16_t, kPatternCount> p{};
  for (int i = 0; i < kPatternCount; ++i)
    for (int r = 0; r < kBlock; ++r)
      p[i] = static_cast<uint16_t>(p[i] | row_pair_index(row_bits(kPatterns[i], r)) << (3 * r));
  return p;
}
inline constexpr std::array<uint16_t, kPatternCount> kPatternRowPairs = make_pattern_row_pairs();

namespace gpu {
inline constexpr int kTile = 64;      // W rows and columns per thread block of the kernel (16 x 16 4x4 blocks)
inline constexpr int kThreads = 256;  // one thread per 4x4 block of the tile
static_assert((kTile / kBlock) * (kTile / kBlock) == kThreads, "one thread per 4x4 block of the tile");
// One pass on the GPU (transposable_gpu.cu): dense W read once; per 4x4 block the exact pattern (the CPU's
// exact_pattern, the same double sums in the same order); W's values and metadata and Wᵀ's values and metadata
// written once each, already in layout l (lane_blocks16 or wgmma16x64). Bit for bit prune_compress_both. Needs
// M and K multiples of 64 (the kernel's 64 x 64 tile), 16-byte aligned pointers. A block holding a NaN (which the
// CPU refuses) gets unspecified outputs and is counted into *nan_blocks (a device counter the caller zeroes and
// reads; not optional: a NaN must never pass unseen).
void prune_compress_both(DType t, MetaLayout l, const void* dense, int64_t M, int64_t K, void* values,
                         uint8_t* meta, void* values_t, uint8_t* meta_t, unsigned long long* nan_blocks,
                         void* stream = nullptr);
}  // namespace gpu

}  // namespace sparse24::format::transposable
