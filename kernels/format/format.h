// The sparse formats: prune, compress, decompress, validate and reorder, on the CPU (reference) and on the GPU.
//
// The two implementations agree bit for bit (tests/cpu/test_format.cpp, tests/gpu/test_format_gpu.cu).
// All functions work on raw element bits: element buffers are bytes (void*), read as elements of the dtype's
// storage width (info(t).bits: 8, 16 or 32), so they never round anything and the CPU and GPU versions cannot
// disagree through float arithmetic. A dtype without a sparse format (f32, int32, or a value that names no DType)
// is refused with a FormatError naming it, never handled as another type.
//
// Two sparsities, one metadata code (dtype.h's group and keep):
//   2:4 (fp16, bf16, int8, e4m3, e5m2): a GROUP (chunk) is 4 dense elements of a row, 2 are kept;
//   1:2 (tf32): a group is a PAIR of dense elements, 1 is kept. The hardware reads tf32 metadata as 2:4 metadata
//   over the 16-bit halves of the 32-bit elements (docs/sparse-tensor-cores.md §2): keeping element 0 is halves
//   (0, 1) = nibble 0x4, keeping element 1 is halves (2, 3) = nibble 0xE. Those are the only two valid pair codes.
// Both spend one 4-bit nibble per group, so in metadata everything is "nibble j of row r" and the layouts below
// are permutations of nibbles: a tf32 row of K dense columns has the metadata of a 16-bit row of 2K columns.
//
// Canonical compressed form (the interchange format; docs/sparse-tensor-cores.md section 2):
//   values: M x K/2 elements, row-major (2:4 and 1:2 both keep half). Group c of row r keeps its elements in
//           dense order, the one with the lower dense index first.
//   meta:   M x K/(2 group) bytes, row-major: M x K/8 for 2:4, M x K/4 for tf32. Group c of a row is nibble c of
//           the row, packed LSB-first along K: byte c/2, low nibble for even c. 2:4 nibble = idx0 | idx1 << 2 with
//           idx0 < idx1 (ordered metadata), so the only valid nibbles are 0x4 (0,1), 0x8 (0,2), 0xC (0,3),
//           0x9 (1,2), 0xD (1,3), 0xE (2,3); tf32 pair nibble = 0x4 (element 0) or 0xE (element 1).
//
//      dense row:   | a b c d | e f g h | ...        chunk 0 keeps (a, c): nibble 0 | 2<<2 = 0x8
//      values row:  | a c | f h | ...                chunk 1 keeps (f, h): nibble 1 | 3<<2 = 0xD
//      meta byte 0: 0xD8  (chunk 0 in bits 3:0, chunk 1 in bits 7:4)
//
//      tf32 row:    | a b | c d | ...                pair 0 keeps b: 0xE, pair 1 keeps c: 0x4
//      values row:  | b c | ...                      meta byte 0: 0x4E
//
// Selection rule, shared by prune and compress: keep the `keep` elements of largest magnitude KEY; on equal keys
// the lower index wins. The key per type (dtype.h MagnitudeKey, rules.h magnitude_key):
//   fp16, bf16, tf32 (FloatNanHigh): the bits with the sign cleared. -0.0 is zero; every NaN ranks above inf, so a
//     NaN is never dropped for a number (kept as before this file knew other types; the GPU prune agrees).
//   e4m3, e5m2 (FloatNanLow): NaN is never kept over a nonzero number; it ranks above zero (+0 and -0), so it is
//     kept only in a group with fewer than `keep` nonzero numbers. NOTE: this is how we read issue 16's "NaN never
//     kept over a number unless the group holds only NaNs": a NaN counts as a nonzero for the 2:4 rule (the
//     hardware multiplies it), so ranking it below zero would make compress drop a NaN of a valid 2:4 matrix
//     (a chunk {NaN, 0, 5, 0} has two nonzeros and must keep both). e4m3 has no inf and one NaN per sign
//     (S.1111.111); e5m2 has inf (S.11111.00, the largest number) and NaNs S.11111.{01,10,11}.
//   int8 (TwosComplement): |x| of the signed value: -128 is the largest magnitude, then -127 and 127 (tie: lower
//     index), ..., 0 the smallest.
// Compressing a matrix that is already 2:4 (1:2) therefore keeps every nonzero, and a group with fewer nonzeros
// gets a valid code: 2:4 all zero -> 0x4, one nonzero at i > 0 -> (0, i), at 0 -> (0, 1); a tf32 pair of zeros
// -> 0x4. Dropped elements are written as all-zero bits (+0.0, or integer 0); kept ones keep their exact bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/common/dtype.h"

namespace sparse24::format {

// Thrown for every bad input (shape, not-2:4 data, invalid metadata); the message names the rule and, for data,
// the first offending row and chunk.
struct FormatError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// ---- Sizes and the byte accounting ----------------------------------------------------------------------------
// Canonical shapes need K % (2 group) == 0 (two groups per metadata byte: K % 8 for 2:4, K % 4 for tf32) and
// M >= 1, K >= 2 group. The overloads without a DType are the 2:4 geometry (every type but tf32).
int64_t compressed_cols(int64_t K);       // K / 2
int64_t meta_bytes_per_row(int64_t K);    // K / 8
int64_t compressed_cols(DType t, int64_t K);     // K / 2
int64_t meta_bytes_per_row(DType t, int64_t K);  // K / (2 group): K / 8, or K / 4 for tf32

// Storage of one group of dense elements of `elem_bits` bits: the kept values + a 4-bit nibble.
struct ByteAccount {
  int dense_bits_per_group;        // group * elem_bits
  int compressed_bits_per_group;   // keep * elem_bits + 4
  double fraction_saved;           // 1 - compressed / dense
  double meta_over_values;         // 4 / (keep * elem_bits)
};
ByteAccount byte_account(int elem_bits);  // 2:4: a group of 4, 2 kept
ByteAccount byte_account(DType t);        // the type's own sparsity (tf32: a pair, 1 kept)

// ---- Metadata layouts -----------------------------------------------------------------------------------------
enum class MetaLayout : int {
  Canonical,     // M x K/8 bytes, row-major nibbles (above)
  // Lane blocks for 16-bit m16n8k32 mma.sp (docs/sparse-tensor-cores.md §4): one 128-byte block per (32-row group, 32-wide
  // k-step); 32-bit word `lane` of a block is exactly the `e` register of that lane, serving the block's two m16
  // tiles with selector F = 0 (rows 0..15) and F = 1 (rows 16..31). Inside a block, for row r and column k:
  //   lane = 4*(r%8) + 2*(r/16) + (k/16),   bit = 16*((r%16)/8) + 4*((k%16)/4)
  // Blocks are ordered [row group][k-step], so one row group's metadata for a k-tile of BK columns is
  // BK/32 * 128 contiguous bytes. Needs M % 32 == 0 and K % 32 == 0.
  //
  // Picture of one LaneBlocks16 block (32 rows x 32 dense columns = 8 chunks of 4 per row): each cell is
  // lane/bit of the chunk's nibble (bits bit..bit+3 of that lane's 32-bit word). Rows 0..15 are the m16 tile read
  // with selector F = 0 (lanes q = 0, 1 supply it), rows 16..31 the tile read with F = 1 (lanes q = 2, 3).
  //
  //   row  | k 0-3  k 4-7  k 8-11 k12-15 k16-19 k20-23 k24-27 k28-31
  //     0  |  0/0     0/4     0/8     0/12    1/0     1/4     1/8     1/12    <- F=0 tile
  //     1  |  4/0     4/4     4/8     4/12    5/0     5/4     5/8     5/12
  //     2  |  8/0     8/4     8/8     8/12    9/0     9/4     9/8     9/12
  //     3  | 12/0    12/4    12/8    12/12   13/0    13/4    13/8    13/12
  //     4  | 16/0    16/4    16/8    16/12   17/0    17/4    17/8    17/12
  //     5  | 20/0    20/4    20/8    20/12   21/0    21/4    21/8    21/12
  //     6  | 24/0    24/4    24/8    24/12   25/0    25/4    25/8    25/12
  //     7  | 28/0    28/4    28/8    28/12   29/0    29/4    29/8    29/12
  //     8  |  0/16    0/20    0/24    0/28    1/16    1/20    1/24    1/28
  //     9  |  4/16    4/20    4/24    4/28    5/16    5/20    5/24    5/28
  //   ...  |
  //    15  | 28/16   28/20   28/24   28/28   29/16   29/20   29/24   29/28
  //    16  |  2/0     2/4     2/8     2/12    3/0     3/4     3/8     3/12    <- F=1 tile
  //    17  |  6/0     6/4     6/8     6/12    7/0     7/4     7/8     7/12
  //   ...  |
  //    24  |  2/16    2/20    2/24    2/28    3/16    3/20    3/24    3/28
  //    31  | 30/16   30/20   30/24   30/28   31/16   31/20   31/24   31/28
  LaneBlocks16,
  // The wgmma_sp family's own layout (kernels/wgmma_sp/s07_ownmeta.cuh): one 128-byte block per (16-row warp slab,
  // 64-wide k-tile); word `lane` of a block is that lane's `e` register for BOTH k-steps of the k-tile, because
  // wgmma.sp m64nNk32 with selector 0 reads lanes q = 0, 1 and with selector 1 lanes q = 2, 3
  // (docs/sparse-tensor-cores.md §3a): the first k-step (k 0..31) sits in q = 0, 1 and is issued with selector 0,
  // the second (k 32..63) in q = 2, 3 with selector 1. A warp loads one conflict-free word per k-tile where
  // LaneBlocks16 needs two (one per k-step), and holds one metadata register per k-tile in flight instead of two.
  // Inside a block, for row r and column k:
  //   lane = 4*(r%8) + (k%64)/16,   bit = 16*((r%16)/8) + 4*((k%16)/4)
  // Blocks are ordered [16-row slab][k-tile], so a slab's metadata is one row of K/2 words: a 2-D tensor of
  // M/16 rows x K/2 words, of which one TMA box of BM/16 rows x 32 words is a block tile's k-tile.
  // Needs M % 16 == 0 and K % 64 == 0.
  //
  //   row  | k 0-3  ... k12-15 k16-19 ... k28-31 k32-35 ... k44-47 k48-51 ... k60-63
  //     0  |  0/0   ...  0/12   1/0   ...  1/12   2/0   ...  2/12   3/0   ...  3/12    <- lanes q = 0..3 of g = 0
  //     1  |  4/0   ...  4/12   5/0   ...  5/12   6/0   ...  6/12   7/0   ...  7/12
  //   ...  |
  //     7  | 28/0   ... 28/12  29/0   ... 29/12  30/0   ... 30/12  31/0   ... 31/12
  //     8  |  0/16  ...  0/28   1/16  ...  1/28   2/16  ...  2/28   3/16  ...  3/28    <- bits 31:16: row g + 8
  //   ...  |
  //    15  | 28/16  ... 28/28  29/16  ... 29/28  30/16  ... 30/28  31/16  ... 31/28
  //          `------ k-step 0: selector 0 ------'  `------ k-step 1: selector 1 ------'
  Wgmma16x64,
  // Lane blocks for the 8-bit m16n8k64 mma.sp (int8, e4m3, e5m2; docs/sparse-tensor-cores.md §3, verified on an
  // H200 by tests/gpu/test_instructions_8bit_gpu.cu): one 128-byte block per (16-row group, 64-wide k-step); word
  // `lane` of a block is exactly that lane's `e` register. The 8-bit form has selector 0 only and every lane of a
  // quad supplies metadata: lane q holds 8 nibbles (32 dense columns) of one row, row g (q even) or g + 8 (q odd),
  // k 0..31 (q < 2) or 32..63 (q >= 2). For row r and column k of a block:
  //   lane = 4*(r%8) + 2*((k%64)/32) + (r%16)/8,   bit = 4*((k%32)/4)
  // Blocks are ordered [row group][k-step], as LaneBlocks16's. Needs M % 16 == 0 and K % 64 == 0.
  //
  //   row  | k 0-3  k 4-7 ... k28-31 | k32-35 ... k60-63
  //     0  |  0/0    0/4  ...  0/28  |  2/0   ...  2/28      <- lane q = 0: row g, k 0..31; q = 2: k 32..63
  //     1  |  4/0    4/4  ...  4/28  |  6/0   ...  6/28
  //   ...  |
  //     8  |  1/0    1/4  ...  1/28  |  3/0   ...  3/28      <- q = 1, 3: row g + 8
  //    15  | 29/0   29/4  ... 29/28  | 31/0   ... 31/28
  LaneBlocks8,
};
const char* name(MetaLayout l);

// A metadata layout as data: the one generic reorder (CPU and GPU) reads this description, so a new layout is a
// new description and an enum value, not new code. Every layout is a permutation of the canonical nibbles (the
// same bytes, another order), cut into blocks of 2^row_bits rows x 2^col_bits nibble columns (a nibble column is
// one metadata group: 4 dense columns for 2:4, 2 for tf32's pairs). Blocks are stored one after another, ordered
// [block row][block column], each 2^(row_bits + col_bits) / 2 bytes. Inside a block, the nibble of block row rb
// and block column jb sits at nibble index n (word n / 8, i.e. the lane; nibble n % 8 of the little-endian
// 32-bit word, LSB first), where bit i of n is bit src[i] of the coordinates: src < kColBit names bit src of rb,
// src >= kColBit names bit (src - kColBit) of jb. So "lane = ..., bit = ..." formulas become a list of bits, and
// the inverse (n -> (rb, jb)) is the same list read backwards.
struct MetaLayoutDesc {
  static constexpr int kColBit = 8;   // src values >= kColBit name column bits
  static constexpr int kMaxBits = 16;
  MetaLayout id;
  const char* name;
  int row_bits;                // block rows = 1 << row_bits
  int col_bits;                // block nibble columns = 1 << col_bits
  int8_t src[kMaxBits];        // row_bits + col_bits entries: where bit i of the in-block nibble index comes from
  int widths;                  // storage widths (bits) whose instructions read this layout: bit 8, 16 or 32 set
  const char* rows_reason;     // why M must be a multiple of the block rows (the refusal message)
  const char* cols_reason;     // why the block columns must divide the metadata row (2:4 types)
  const char* cols_reason_pairs;  // the same for tf32's pairs
  constexpr int block_rows() const { return 1 << row_bits; }
  constexpr int block_nibble_cols() const { return 1 << col_bits; }
  constexpr int block_bytes() const { return (1 << (row_bits + col_bits)) / 2; }
  constexpr bool serves(int elem_bits) const { return (widths & elem_bits) != 0; }
};

// The descriptions. Canonical is the degenerate layout of one byte per block (1 row x 2 nibbles): block order
// [row][column] is row-major order, and bit 0 of the in-block index is bit 0 of the column. LaneBlocks16 and
// Wgmma16x64 are the formulas of their comments above with k/4 = j (the nibble column) written bit by bit:
//   LaneBlocks16: n = lane*8 + bit/4, lane = 4*(rb%8) + 2*(rb/16) + jb/4, bit/4 = 4*((rb%16)/8) + jb%4, so
//                 n bits 0..7 = j0 j1 r3 j2 r4 r0 r1 r2;
//   Wgmma16x64:   lane = 4*(rb%8) + jb/4, bit/4 = 4*(rb/8) + jb%4, so n bits 0..7 = j0 j1 r3 j2 j3 r0 r1 r2.
// For tf32 a nibble column is a pair, and docs/sparse-tensor-cores.md §3 shows that the tf32 m16n8k16 metadata
// fragment is the 16-bit m16n8k32 one in nibble terms (q even: row g, pairs 0..3 = dense k 0..7 in bits 15:0;
// q odd: pairs 4..7), so both kernel layouts serve tf32 unchanged (a block is 16 dense tf32 columns for
// LaneBlocks16, 32 for Wgmma16x64). NOTE: the tf32 wgmma.sp m64nNk16 per-warp layout is read from the PTX ISA,
// not yet verified by a one-instruction test. The 8-bit k64 forms read LaneBlocks8:
//   LaneBlocks8:  lane = 4*(rb%8) + 2*(jb/8) + (rb%16)/8, bit/4 = jb%8, so n bits 0..7 = j0 j1 j2 r3 j3 r0 r1 r2.
inline constexpr int kCol = MetaLayoutDesc::kColBit;  // src value of column bit 0
inline constexpr MetaLayoutDesc kMetaLayouts[] = {
    {MetaLayout::Canonical, "canonical", 0, 1, {kCol + 0}, 8 | 16 | 32, "", "", ""},
    {MetaLayout::LaneBlocks16, "lane_blocks16", 5, 3, {kCol + 0, kCol + 1, 3, kCol + 2, 4, 0, 1, 2}, 16 | 32,
     "lane-block metadata serves 32 rows", "lane-block metadata covers one m16n8k32 k-step",
     "lane-block metadata covers one tf32 m16n8k16 k-step"},
    {MetaLayout::Wgmma16x64, "wgmma16x64", 4, 4, {kCol + 0, kCol + 1, 3, kCol + 2, kCol + 3, 0, 1, 2}, 16 | 32,
     "wgmma16x64 metadata serves a warp's 16 rows", "wgmma16x64 metadata covers two m64nNk32 k-steps",
     "wgmma16x64 metadata covers two tf32 m64nNk16 k-steps"},
    {MetaLayout::LaneBlocks8, "lane_blocks8", 4, 4, {kCol + 0, kCol + 1, kCol + 2, 3, kCol + 3, 0, 1, 2}, 8,
     "8-bit lane-block metadata serves 16 rows", "8-bit lane-block metadata covers one m16n8k64 k-step", ""},
};
inline constexpr int kMetaLayoutCount = static_cast<int>(sizeof(kMetaLayouts) / sizeof(kMetaLayouts[0]));
inline constexpr bool valid_layout(MetaLayout l) {
  return static_cast<int>(l) >= 0 && static_cast<int>(l) < kMetaLayoutCount;
}
inline constexpr const MetaLayoutDesc& desc(MetaLayout l) { return kMetaLayouts[static_cast<int>(l)]; }

// Each description is a permutation: every row bit and column bit appears exactly once, and ids are in enum order.
constexpr bool layout_desc_consistent(const MetaLayoutDesc& d, int index) {
  if (static_cast<int>(d.id) != index) return false;
  const int n = d.row_bits + d.col_bits;
  if (n < 1 || n > MetaLayoutDesc::kMaxBits || d.row_bits > kCol) return false;
  for (int r = 0; r < d.row_bits; ++r) {
    int seen = 0;
    for (int i = 0; i < n; ++i) seen += d.src[i] == r;
    if (seen != 1) return false;
  }
  for (int c = 0; c < d.col_bits; ++c) {
    int seen = 0;
    for (int i = 0; i < n; ++i) seen += d.src[i] == kCol + c;
    if (seen != 1) return false;
  }
  return true;
}
constexpr bool layouts_consistent() {
  for (int i = 0; i < kMetaLayoutCount; ++i)
    if (!layout_desc_consistent(kMetaLayouts[i], i)) return false;
  return true;
}
static_assert(layouts_consistent(), "kMetaLayouts: a description is not a bit permutation, or out of enum order");

// LaneBlocks16 geometry, for the kernels that read it.
inline constexpr int kLaneBlockBytes = 128;   // 32 lanes x one 32-bit `e` register
inline constexpr int kLaneBlockRows = 32;     // two m16 tiles (F = 0 and F = 1)
inline constexpr int kLaneBlockCols = 32;     // dense K of one m16n8k32
// LaneBlocks8 geometry (8-bit k64 forms).
inline constexpr int kLaneBlock8Bytes = 128;  // 32 lanes x one 32-bit `e` register
inline constexpr int kLaneBlock8Rows = 16;    // one m16 tile (selector 0 only)
inline constexpr int kLaneBlock8Cols = 64;    // dense K of one m16n8k64
// Wgmma16x64 geometry.
inline constexpr int kWgmmaBlockBytes = 128;  // 32 lanes x one 32-bit `e` register (two k-steps)
inline constexpr int kWgmmaBlockRows = 16;    // one warp's rows of an m64 wgmma tile
inline constexpr int kWgmmaBlockCols = 64;    // dense K of two m64nNk32 k-steps
static_assert(kLaneBlockBytes == desc(MetaLayout::LaneBlocks16).block_bytes() &&
                  kLaneBlockRows == desc(MetaLayout::LaneBlocks16).block_rows() &&
                  kLaneBlockCols == 4 * desc(MetaLayout::LaneBlocks16).block_nibble_cols(),
              "the LaneBlocks16 constants must match its description (16-bit: 4 dense columns per nibble)");
static_assert(kWgmmaBlockBytes == desc(MetaLayout::Wgmma16x64).block_bytes() &&
                  kWgmmaBlockRows == desc(MetaLayout::Wgmma16x64).block_rows() &&
                  kWgmmaBlockCols == 4 * desc(MetaLayout::Wgmma16x64).block_nibble_cols(),
              "the Wgmma16x64 constants must match its description (16-bit: 4 dense columns per nibble)");
static_assert(kLaneBlock8Bytes == desc(MetaLayout::LaneBlocks8).block_bytes() &&
                  kLaneBlock8Rows == desc(MetaLayout::LaneBlocks8).block_rows() &&
                  kLaneBlock8Cols == 4 * desc(MetaLayout::LaneBlocks8).block_nibble_cols(),
              "the LaneBlocks8 constants must match its description (8-bit: 4 dense columns per nibble)");
// A metadata word whose every nibble is 0x4 (keep elements 0 and 1): what kernels put in place of rows past M,
// since zero metadata is not a valid code (docs/sparse-tensor-cores.md §2) and mma.sp must never see it.
inline constexpr uint32_t kPaddingMetaWord = 0x44444444u;
// Bytes of metadata in layout `l` (M*K/8 for every layout of a 2:4 type, M*K/4 for tf32; throws FormatError if
// the shape does not fit `l`, or `l` serves no instruction of type t). Without a DType: the 2:4 geometry.
size_t meta_bytes(MetaLayout l, int64_t M, int64_t K);
size_t meta_bytes(MetaLayout l, DType t, int64_t M, int64_t K);

// ---- CPU reference --------------------------------------------------------------------------------------------
// dense/pruned: M x K row-major raw bits. values: M x K/2. meta: canonical, M x K/(2 group) bytes.
void prune(DType t, const void* dense, int64_t M, int64_t K, void* pruned);
void compress(DType t, const void* pruned, int64_t M, int64_t K, void* values, uint8_t* meta);
void decompress(DType t, const void* values, const uint8_t* meta, int64_t M, int64_t K, void* dense);

// Prune, compress and reorder in one call: dense -> values (canonical, M x K/2) + metadata in layout l. The
// composition of prune, compress and reorder_meta (so the same rules, shape checks and messages), and the reference
// that the GPU's one-pass kernel (gpu::prune_compress) must match bit for bit.
void prune_compress(DType t, MetaLayout l, const void* dense, int64_t M, int64_t K, void* values, uint8_t* meta);

struct Violation {
  bool ok = true;
  int64_t row = -1, chunk = -1;   // first offending (row, group), row-major order (a pair for tf32)
  std::string message;            // empty when ok
};
Violation validate_dense(DType t, const void* dense, int64_t M, int64_t K);  // at most `keep` nonzeros per group
// Every nibble valid: one of the six ordered 2:4 codes (without a DType, or a 2:4 type), 0x4 or 0xE for tf32.
Violation validate_meta(const uint8_t* meta, int64_t M, int64_t K);
Violation validate_meta(DType t, const uint8_t* meta, int64_t M, int64_t K);

// canonical -> layout `to`, and back (the inverse is for tests and for reading a kernel's metadata). Without a
// DType: the 2:4 geometry of 16-bit types.
void reorder_meta(MetaLayout to, const uint8_t* canonical, int64_t M, int64_t K, uint8_t* out);
void reorder_meta_to_canonical(MetaLayout from, const uint8_t* in, int64_t M, int64_t K, uint8_t* canonical);
void reorder_meta(MetaLayout to, DType t, const uint8_t* canonical, int64_t M, int64_t K, uint8_t* out);
void reorder_meta_to_canonical(MetaLayout from, DType t, const uint8_t* in, int64_t M, int64_t K,
                               uint8_t* canonical);

// ---- GPU (device pointers, asynchronous on `stream`, same results bit for bit) -----------------------------------
// Shapes are checked on the host before launch (FormatError); data errors found on the GPU are reported by
// validate_* (which synchronize on the stream to read the answer back). A thread moves the two groups of one
// metadata byte per access, so dense/pruned pointers must be aligned to 2 group elements (16 bytes for 16-bit
// types and tf32, 8 for 8-bit types), values to 2 keep elements (8, and 4 for 8-bit) and a reordered output to
// 4 bytes (cudaMalloc gives 256; checked, FormatError); metadata inputs may sit at any address.
namespace gpu {
void prune(DType t, const void* dense, int64_t M, int64_t K, void* pruned, void* stream = nullptr);
// compress never fails on the GPU: it applies the selection rule, which drops nonzeros of a non-2:4 input.
// Run validate_dense first when the input is not known to be 2:4.
void compress(DType t, const void* pruned, int64_t M, int64_t K, void* values, uint8_t* meta,
              void* stream = nullptr);
// An invalid nibble decodes as if it were 0x4; run validate_meta first on untrusted metadata.
void decompress(DType t, const void* values, const uint8_t* meta, int64_t M, int64_t K, void* dense,
                void* stream = nullptr);
// One pass (onepass_gpu.cu): dense W read once with 16-byte loads, the values and the metadata already in layout
// l written once with coalesced stores; no pruned copy. Bit for bit format::prune_compress. Beyond the layout's
// shape rules (check_layout_shape's messages): 2:4 types only (tf32's pairs: prune, compress, reorder_meta); a
// dense row must be a whole number of 16-byte loads (K a multiple of 8 for 16-bit types, of 16 for 8-bit ones);
// dense and meta 16-byte aligned, values 8-byte aligned (each thread stores 8 bytes of values; the metadata leaves
// in 16-byte stores). NaN groups follow the selection rule above (fp16/bf16: a NaN is kept over any number; e4m3,
// e5m2: never kept over a nonzero number), as on the CPU.
void prune_compress(DType t, MetaLayout l, const void* dense, int64_t M, int64_t K, void* values, uint8_t* meta,
                    void* stream = nullptr);
Violation validate_dense(DType t, const void* dense, int64_t M, int64_t K, void* stream = nullptr);
Violation validate_meta(const uint8_t* meta, int64_t M, int64_t K, void* stream = nullptr);
Violation validate_meta(DType t, const uint8_t* meta, int64_t M, int64_t K, void* stream = nullptr);
void reorder_meta(MetaLayout to, const uint8_t* canonical, int64_t M, int64_t K, uint8_t* out,
                  void* stream = nullptr);
void reorder_meta(MetaLayout to, DType t, const uint8_t* canonical, int64_t M, int64_t K, uint8_t* out,
                  void* stream = nullptr);
}  // namespace gpu

}  // namespace sparse24::format
