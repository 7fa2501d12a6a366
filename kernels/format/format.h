// The 2:4 format: prune, compress, decompress, validate and reorder, on the CPU (reference) and on the GPU.
//
// The two implementations agree bit for bit (tests/cpu/test_format.cpp, tests/gpu/test_format_gpu.cu).
// All functions work on raw element bits: element buffers are bytes (void*), read as elements of the dtype's
// size (info(t).bits), so they never round anything and the CPU and GPU versions cannot disagree through float
// arithmetic. A dtype the functions have no storage for (today: anything but a 16-bit 2:4 type) is refused with
// a FormatError naming it, never handled as another type.
//
// Canonical compressed form (the interchange format; docs/sparse-tensor-cores.md section 2):
//   values: M x K/2 elements, row-major. Chunk c of row r (dense columns 4c..4c+3) keeps two elements, the one
//           with the lower dense index first.
//   meta:   M x K/8 bytes, row-major. Chunk c of a row is nibble c of the row, packed LSB-first along K: byte c/2,
//           low nibble for even c. Nibble = idx0 | idx1 << 2 with idx0 < idx1 (ordered metadata), so the only
//           valid nibbles are 0x4 (0,1), 0x8 (0,2), 0xC (0,3), 0x9 (1,2), 0xD (1,3), 0xE (2,3).
//
//      dense row:   | a b c d | e f g h | ...        chunk 0 keeps (a, c): nibble 0 | 2<<2 = 0x8
//      values row:  | a c | f h | ...                chunk 1 keeps (f, h): nibble 1 | 3<<2 = 0xD
//      meta byte 0: 0xD8  (chunk 0 in bits 3:0, chunk 1 in bits 7:4)
//
// Selection rule, shared by prune and compress: keep the two elements of largest magnitude; on equal magnitudes
// the lower index wins; -0.0 is zero; NaN counts as larger than every number (so it is never silently dropped).
// Compressing a matrix that is already 2:4 therefore keeps every nonzero, and a chunk with fewer than two
// nonzeros gets a valid code: all zero -> 0x4, one nonzero at i > 0 -> (0, i), at 0 -> (0, 1).
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
// Canonical shapes need K % 8 == 0 (two chunks per metadata byte) and M >= 1, K >= 8.
int64_t compressed_cols(int64_t K);       // K / 2
int64_t meta_bytes_per_row(int64_t K);    // K / 8

// Storage of one chunk of 4 dense elements of `elem_bits` bits: 2 kept values + a 4-bit nibble.
struct ByteAccount {
  int dense_bits_per_group;        // 4 * elem_bits
  int compressed_bits_per_group;   // 2 * elem_bits + 4
  double fraction_saved;           // 1 - compressed / dense
  double meta_over_values;         // 4 / (2 * elem_bits)
};
ByteAccount byte_account(int elem_bits);

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
};
const char* name(MetaLayout l);

// LaneBlocks16 geometry, for the kernels that read it.
inline constexpr int kLaneBlockBytes = 128;   // 32 lanes x one 32-bit `e` register
inline constexpr int kLaneBlockRows = 32;     // two m16 tiles (F = 0 and F = 1)
inline constexpr int kLaneBlockCols = 32;     // dense K of one m16n8k32
// Wgmma16x64 geometry.
inline constexpr int kWgmmaBlockBytes = 128;  // 32 lanes x one 32-bit `e` register (two k-steps)
inline constexpr int kWgmmaBlockRows = 16;    // one warp's rows of an m64 wgmma tile
inline constexpr int kWgmmaBlockCols = 64;    // dense K of two m64nNk32 k-steps
// A metadata word whose every nibble is 0x4 (keep elements 0 and 1): what kernels put in place of rows past M,
// since zero metadata is not a valid code (docs/sparse-tensor-cores.md §2) and mma.sp must never see it.
inline constexpr uint32_t kPaddingMetaWord = 0x44444444u;
// Bytes of metadata in layout `l` (M*K/8 for every layout; throws FormatError if the shape does not fit `l`).
size_t meta_bytes(MetaLayout l, int64_t M, int64_t K);

// ---- CPU reference --------------------------------------------------------------------------------------------
// dense/pruned: M x K row-major raw bits. values: M x K/2. meta: canonical, M x K/8 bytes.
void prune(DType t, const void* dense, int64_t M, int64_t K, void* pruned);
void compress(DType t, const void* pruned, int64_t M, int64_t K, void* values, uint8_t* meta);
void decompress(DType t, const void* values, const uint8_t* meta, int64_t M, int64_t K, void* dense);

struct Violation {
  bool ok = true;
  int64_t row = -1, chunk = -1;   // first offending (row, chunk), row-major order
  std::string message;            // empty when ok
};
Violation validate_dense(DType t, const void* dense, int64_t M, int64_t K);  // at most 2 nonzeros per chunk
Violation validate_meta(const uint8_t* meta, int64_t M, int64_t K);              // every nibble one of the six

// canonical -> layout `to`, and back (the inverse is for tests and for reading a kernel's metadata).
void reorder_meta(MetaLayout to, const uint8_t* canonical, int64_t M, int64_t K, uint8_t* out);
void reorder_meta_to_canonical(MetaLayout from, const uint8_t* in, int64_t M, int64_t K, uint8_t* canonical);

// ---- GPU (device pointers, asynchronous on `stream`, same results bit for bit) -----------------------------------
// Shapes are checked on the host before launch (FormatError); data errors found on the GPU are reported by
// validate_* (which synchronize on the stream to read the answer back). The kernels move whole chunks per access,
// so dense/pruned pointers must be 16-byte aligned, values 8-byte and a reordered output 4-byte (cudaMalloc
// gives 256; checked, FormatError); metadata inputs may sit at any address.
namespace gpu {
void prune(DType t, const void* dense, int64_t M, int64_t K, void* pruned, void* stream = nullptr);
// compress never fails on the GPU: it applies the selection rule, which drops nonzeros of a non-2:4 input.
// Run validate_dense first when the input is not known to be 2:4.
void compress(DType t, const void* pruned, int64_t M, int64_t K, void* values, uint8_t* meta,
              void* stream = nullptr);
// An invalid nibble decodes as if it were 0x4; run validate_meta first on untrusted metadata.
void decompress(DType t, const void* values, const uint8_t* meta, int64_t M, int64_t K, void* dense,
                void* stream = nullptr);
Violation validate_dense(DType t, const void* dense, int64_t M, int64_t K, void* stream = nullptr);
Violation validate_meta(const uint8_t* meta, int64_t M, int64_t K, void* stream = nullptr);
void reorder_meta(MetaLayout to, const uint8_t* canonical, int64_t M, int64_t K, uint8_t* out,
                  void* stream = nullptr);
}  // namespace gpu

}  // namespace sparse24::format
