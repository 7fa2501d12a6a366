// format.s02_onepass: prune + compress + reorder in ONE kernel pass (format.h, gpu::prune_compress).
//
// What it adds over s01 (format_gpu.cu's prune, compress and reorder_meta as three launches): the dense W is read
// once, and each output is written once, already final: the values row-major, the metadata in the requested
// layout. s01 reads W, writes the pruned copy, reads it again, writes the canonical metadata, reads that again and
// writes the layout: 2 + 2 + 1/2 + 1/8 + 1/8 + 1/8 bytes per element moved for the 1/2 + 1/8 that matter (16-bit).
//
// The one idea: a thread block owns whole metadata blocks. Every layout (format.h, MetaLayoutDesc) is a
// permutation of nibbles inside blocks of 2^row_bits rows x 2^col_bits nibble columns, stored one after another in
// [block row][block column] order. A tile of one block row x several block columns therefore has its metadata in
// ONE contiguous range of the output. The block loads its tile of W, decides every group, stores the values at
// once, drops each canonical metadata byte into shared memory at its layout position, and after one barrier writes
// the tile's metadata range with 16-byte stores. The reorder costs a shared-memory byte store per metadata byte.
//
//   tile of W (LaneBlocks16, 16-bit: 32 rows x 256 columns = 16 KB, 8 lane blocks of 32 x 32):
//
//     row 0   | t0 t1 ... t31 |            thread t loads the 16 bytes (8 elements = 2 groups = 1 metadata byte)
//     row 1   | t0 t1 ... t31 |  x 4       at column 8 (t % 32) of row t / 32 (+ 8 rows per repetition): a warp
//     ...     |               |            reads 512 contiguous bytes of one row, stores 256 contiguous bytes of
//     row 31  |               |            values, and 32 metadata bytes into the shared stage
//             `- 8 blocks ----'            stage (1 KB) = the tile's 8 lane blocks, in output order -> 64 x 16 B
//
// A canonical metadata byte (nibble columns 2c, 2c+1 of a row) stays one byte in every layout, because every
// description's in-block bit 0 is column bit 0 (static_assert below); an 8-bit thread's 4 groups are two such bytes.
//
// The per-group decision is rules.h's, written branch-free (compare_index: six comparisons in three subtractions,
// then a 64-entry table) and the kept elements are gathered with one byte permute (__byte_perm, PRMT) per 16-bit
// group or per two 8-bit groups.
//
// Preconditions (gpu::prune_compress refuses anything else, with the rule): 2:4 types (8- or 16-bit storage); M a
// multiple of the layout's block rows and K of its block columns (check_layout_shape); a dense row a whole number
// of 16-byte loads; dense and meta 16-byte aligned, values 8-byte aligned.
//
// Expected bottleneck: HBM bandwidth. Per 16-bit element: 2 bytes read, 1 + 1/8 written; about 12 integer
// instructions per element, below the issue rate needed to keep up with HBM (results/NOTES.md has the count
// and the prediction). Measured: see results/NOTES.md (format.s02_onepass).
#include <cuda_runtime.h>

#include <cstdint>
#include <limits>

#include "kernels/common/cuda_check.h"
#include "kernels/format/format.h"
#include "kernels/format/rules.h"

namespace sparse24::format::gpu {
namespace {

using rules::cat;
using rules::fail;

constexpr int kThreads = 256;
constexpr int kPiecesPerThread = 4;    // 4 independent 16-byte loads in flight per thread: 16 KB per block
constexpr int kLoadBytes = 16;         // one piece = one 16-byte load of W
constexpr int kValueStoreBytes = 8;    // a piece keeps half its bytes
constexpr int kPiecesPerTile = kThreads * kPiecesPerThread;

// ---- A layout description as template arguments -----------------------------------------------------------------
// C++17 takes no struct as a template argument, so the bit list travels packed, 4 bits per entry (a source bit is a
// row bit 0..7 or kColBit + column bit, at most 15). Known at compile time, the in-block position below becomes a
// handful of shifts and masks instead of format_gpu.cu's loop over a description passed by value.
static_assert(MetaLayoutDesc::kColBit == 8 && MetaLayoutDesc::kMaxBits * 4 <= 64,
              "the packed bit list needs sources below 16 and at most 16 entries of 4 bits");
constexpr uint64_t packed_src(const MetaLayoutDesc& d) {
  uint64_t s = 0;
  for (int i = 0; i < d.row_bits + d.col_bits; ++i) s |= static_cast<uint64_t>(d.src[i] & 0xF) << (4 * i);
  return s;
}
constexpr bool byte_stays_byte(const MetaLayoutDesc& d) { return d.src[0] == MetaLayoutDesc::kColBit; }
constexpr bool all_bytes_stay_bytes() {
  for (const MetaLayoutDesc& d : kMetaLayouts)
    if (!byte_stays_byte(d)) return false;
  return true;
}
static_assert(all_bytes_stay_bytes(),
              "the one-pass kernel moves canonical metadata bytes whole: every layout's in-block bit 0 must be "
              "column bit 0 (the two nibbles of a byte stay together)");

// The in-block nibble index n of (block row rb, block nibble column jb) is a bit permutation, so it splits into a row
// part and a column part with disjoint bits: n = row_part(rb) | col_part(jb). The kernel computes the column part
// once per thread and the row part of its rows as constants or-ed onto the first row's (rows r + i * step with
// step a power of two above r: the or of two disjoint row-bit sets).
template <int kRowBits, int kColBits, uint64_t kSrc, bool kRowSide>
__device__ __forceinline__ uint32_t nibble_part(uint32_t x) {
  uint32_t n = 0;
#pragma unroll
  for (int i = 0; i < kRowBits + kColBits; ++i) {
    const int src = static_cast<int>((kSrc >> (4 * i)) & 0xF);
    if (kRowSide == (src < MetaLayoutDesc::kColBit))
      n |= ((x >> (kRowSide ? src : src - MetaLayoutDesc::kColBit)) & 1u) << i;
  }
  return n;
}

// ---- The tile geometry of one (storage width, layout) -------------------------------------------------------------
template <int kBits, int kRowBits, int kColBits>
struct Tile {
  static constexpr int kElems = kLoadBytes * 8 / kBits;           // elements per piece: 8 (16-bit) or 16 (8-bit)
  static constexpr int kGroups = kElems / 4;                      // 2:4 groups per piece: 2 or 4
  static constexpr int kMetaBytes = kGroups / 2;                  // canonical metadata bytes per piece: 1 or 2
  static constexpr int kRows = 1 << kRowBits;                     // a tile is one block row ...
  static constexpr int kPiecesPerRow = kPiecesPerTile / kRows;
  static constexpr int kCols = kPiecesPerRow * kElems;            // ... by this many dense columns
  static constexpr int kBlockNibbleCols = 1 << kColBits;
  static constexpr int kBlockBytes = (1 << (kRowBits + kColBits)) / 2;
  static constexpr int kStageBytes = kPiecesPerTile * kMetaBytes; // the tile's metadata, in output order
  static_assert(kBits == 8 || kBits == 16, "2:4 storage is 8 or 16 bits (tf32's pairs take the separate path)");
  static_assert(kPiecesPerTile % kRows == 0 && kPiecesPerRow >= 1, "a tile holds whole rows of pieces");
  static_assert((kCols / 4) % kBlockNibbleCols == 0, "a tile holds whole metadata blocks along K");
  static_assert(kValueStoreBytes * 8 == kElems / 2 * kBits, "a piece keeps half of its 16 bytes: one 8-byte store");
  static_assert(kStageBytes % 16 == 0, "the stage leaves in 16-byte stores");
};

// ---- The per-group decision, branch-free ----------------------------------------------------------------------------
// rules.h: the four keys go two per word, three guarded subtractions make the six comparisons (compare_index), and a
// 64-entry table in shared memory (selection_entry) turns them into the nibble and the byte-permute selector that
// gathers the kept elements. About 20 instructions per group where the rank count (keep_mask_by_rank) took 60.
// NOTE: the first version computed keep_mask_by_rank and the selectors arithmetically: 145 SASS instructions per
// 16-bit piece, about 18 per element, which at the copy rate would keep every SM's issue slots as busy as HBM.

// The keys of the four elements of one 8-bit group (one word), packed for compare_index: (k0, k1), (k2, k3).
template <MagnitudeKey kKey>
__device__ __forceinline__ void keys8(uint32_t x, uint32_t max_non_nan, uint32_t* A, uint32_t* B) {
  const rules::ElemSpec spec{8, 4, 2, kKey, max_non_nan};   // constant kKey: the key's switch folds
  uint32_t k[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) k[i] = rules::magnitude_key((x >> (8 * i)) & 0xFFu, spec);   // at most 0x100
  *A = k[0] | (k[1] << 16);
  *B = k[2] | (k[3] << 16);
}

// One piece: 16 bytes of W -> 8 bytes of values and kMetaBytes canonical metadata bytes (packed LSB-first).
template <int kBits, MagnitudeKey kKey>
__device__ __forceinline__ uint2 decide_piece(const uint4& w, const uint32_t* table, uint32_t max_non_nan,
                                              uint32_t* meta_bytes) {
  const uint32_t word[4] = {w.x, w.y, w.z, w.w};
  uint32_t out[2];
  if constexpr (kBits == 16) {
    static_assert(kKey == MagnitudeKey::FloatNanHigh, "the 16-bit types rank by the bits without the sign");
    uint32_t nib[2];
#pragma unroll
    for (int g = 0; g < 2; ++g) {
      const uint32_t lo = word[2 * g], hi = word[2 * g + 1];
      constexpr uint32_t kNoSigns = 0x7FFF7FFFu;   // magnitude_key of both halves at once
      const uint32_t entry = table[rules::compare_index(lo & kNoSigns, hi & kNoSigns)];
      nib[g] = rules::entry_nibble(entry);
      out[g] = __byte_perm(lo, hi, entry);   // PRMT reads the selector from bits 15:0 only
    }
    *meta_bytes = nib[0] | (nib[1] << 4);
  } else {
    uint32_t nib[4], sel[4];
#pragma unroll
    for (int g = 0; g < 4; ++g) {
      uint32_t A = 0, B = 0;
      keys8<kKey>(word[g], max_non_nan, &A, &B);
      const uint32_t entry = table[rules::compare_index(A, B)];
      nib[g] = rules::entry_nibble(entry);
      sel[g] = rules::entry_select8(entry);
    }
#pragma unroll
    for (int h = 0; h < 2; ++h)   // groups 2h and 2h+1 -> one word of their kept bytes (selectors 4..7: 2nd word)
      out[h] = __byte_perm(word[2 * h], word[2 * h + 1], sel[2 * h] | ((sel[2 * h + 1] + 0x44u) << 8));
    *meta_bytes = (nib[0] | (nib[1] << 4)) | ((nib[2] | (nib[3] << 4)) << 8);
  }
  return make_uint2(out[0], out[1]);
}

// One block per tile: tile = blockIdx.x, ordered [block row][tile column]; the last tile of a row may be narrower
// (K need only be a multiple of the layout's block columns), its threads past the edge only take part in the barriers.
// Thread t handles pieces q = t + i * kThreads (i < kPiecesPerThread): row q / kPiecesPerRow, column piece
// q % kPiecesPerRow. When a row has at most kThreads pieces, every piece of a thread lies in the same column and its
// rows step by kRowStep = kThreads / kPiecesPerRow; otherwise (a one-row tile: the canonical layout) in one row.
template <int kBits, MagnitudeKey kKey, int kRowBits, int kColBits, uint64_t kSrc>
__global__ void __launch_bounds__(kThreads)
    prune_compress_onepass_kernel(const uint4* __restrict__ dense, uint2* __restrict__ values,
                                  uint8_t* __restrict__ meta, int64_t K, int64_t col_tiles, uint32_t max_non_nan) {
  using T = Tile<kBits, kRowBits, kColBits>;
  constexpr bool kColumnPerThread = T::kPiecesPerRow <= kThreads;
  static_assert(kColumnPerThread ? kThreads % T::kPiecesPerRow == 0 : T::kRows == 1,
                "pieces of a thread share a column (rows stepping by a power of two), or the tile is one row");
  constexpr int kRowStep = kColumnPerThread ? kThreads / T::kPiecesPerRow : 0;
  __shared__ alignas(16) uint8_t stage[T::kStageBytes];
  __shared__ uint32_t table[rules::kSelectionEntries];
  static_assert(kThreads >= rules::kSelectionEntries, "one thread per table entry");

  const int64_t row_tile = blockIdx.x / col_tiles, col_tile = blockIdx.x % col_tiles;
  const int64_t r0 = row_tile * T::kRows, c0 = col_tile * T::kCols;
  const int width = static_cast<int>(K - c0 < T::kCols ? K - c0 : T::kCols);
  const uint32_t pieces_here = static_cast<uint32_t>(width / T::kElems);
  // A dense row is K / kElems 16-byte pieces, and its values row as many 8-byte pieces: the same index serves both.
  const int64_t row_pieces = K / T::kElems;
  const int64_t tile_first = r0 * row_pieces + c0 / T::kElems;
  const uint32_t t = threadIdx.x;
  auto row_of = [&](int i) -> uint32_t {
    return kColumnPerThread ? t / T::kPiecesPerRow + static_cast<uint32_t>(i * kRowStep) : 0u;
  };
  auto col_of = [&](int i) -> uint32_t {
    return kColumnPerThread ? t % T::kPiecesPerRow : t + static_cast<uint32_t>(i * kThreads);
  };

  // Loads first, all of them, so that kPiecesPerThread requests are in flight before any decision waits; the table
  // is built meanwhile (one entry per thread, a few dozen instructions once per block).
  uint4 w[kPiecesPerThread] = {};
#pragma unroll
  for (int i = 0; i < kPiecesPerThread; ++i)
    if (col_of(i) < pieces_here) w[i] = __ldcs(dense + tile_first + row_of(i) * row_pieces + col_of(i));
  if (t < rules::kSelectionEntries) table[t] = rules::selection_entry(t);
  __syncthreads();

  const uint32_t first_row_part = nibble_part<kRowBits, kColBits, kSrc, true>(row_of(0));
#pragma unroll
  for (int i = 0; i < kPiecesPerThread; ++i) {
    const uint32_t cp = col_of(i);
    if (cp >= pieces_here) continue;
    uint32_t bytes = 0;
    const uint2 kept = decide_piece<kBits, kKey>(w[i], table, max_non_nan, &bytes);
    __stcs(values + tile_first + row_of(i) * row_pieces + cp, kept);
    // Metadata: canonical byte b of the piece holds nibble columns jt, jt + 1 of the tile (jt even).
    const uint32_t row_part =
        kColumnPerThread
            ? first_row_part | nibble_part<kRowBits, kColBits, kSrc, true>(static_cast<uint32_t>(i * kRowStep))
            : 0u;
#pragma unroll
    for (int b = 0; b < T::kMetaBytes; ++b) {
      const uint32_t jt = cp * T::kGroups + 2 * b;
      const uint32_t n = row_part | nibble_part<kRowBits, kColBits, kSrc, false>(jt & (T::kBlockNibbleCols - 1));
      stage[(jt >> kColBits) * T::kBlockBytes + n / 2] = static_cast<uint8_t>(bytes >> (8 * b));
    }
  }
  __syncthreads();

  // The tile's metadata: blocks (row_tile, first .. first + blocks - 1), contiguous in the output.
  const int64_t col_blocks = (K / 4) >> kColBits;
  const int64_t first = row_tile * col_blocks + ((c0 / 4) >> kColBits);
  const int tile_bytes = ((width / 4) >> kColBits) * T::kBlockBytes;
  uint8_t* out = meta + first * T::kBlockBytes;
  if (tile_bytes % 16 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0) {
    for (int k = t; k < tile_bytes / 16; k += kThreads)
      reinterpret_cast<uint4*>(out)[k] = reinterpret_cast<const uint4*>(stage)[k];
  } else {  // the canonical layout's 1-byte blocks at a row edge: no 16-byte range to write
    for (int k = t; k < tile_bytes; k += kThreads) out[k] = stage[k];
  }
}

// The launch of one (width, key, layout) instantiation.
template <int kBits, MagnitudeKey kKey, MetaLayout kLayout>
void launch(const void* dense, int64_t M, int64_t K, void* values, uint8_t* meta, uint32_t max_non_nan,
            cudaStream_t stream, const char* fn) {
  constexpr int kRowBits = desc(kLayout).row_bits, kColBits = desc(kLayout).col_bits;
  constexpr uint64_t kSrc = packed_src(desc(kLayout));
  using T = Tile<kBits, kRowBits, kColBits>;
  const int64_t col_tiles = (K + T::kCols - 1) / T::kCols;
  const int64_t tiles = (M / T::kRows) * col_tiles;
  if (tiles > std::numeric_limits<int32_t>::max())
    fail(fn, cat(M, " x ", K, " needs ", tiles, " tiles, above CUDA's grid limit of 2^31 - 1 blocks"));
  prune_compress_onepass_kernel<kBits, kKey, kRowBits, kColBits, kSrc>
      <<<static_cast<unsigned>(tiles), kThreads, 0, stream>>>(static_cast<const uint4*>(dense),
                                                              static_cast<uint2*>(values), meta, K, col_tiles,
                                                              max_non_nan);
  SPARSE24_CUDA_CHECK(cudaGetLastError());
}

void check_aligned(const char* fn, const void* p, int bytes, const char* what, const char* why) {
  if (reinterpret_cast<uintptr_t>(p) % bytes != 0) fail(fn, cat(what, " is not ", bytes, "-byte aligned (", why, ")"));
}

}  // namespace

void prune_compress(DType t, MetaLayout l, const void* dense, int64_t M, int64_t K, void* values, uint8_t* meta,
                    void* stream) {
  const char* fn = "gpu::prune_compress";
  const DTypeInfo& d = rules::check_dtype(fn, t);
  if (d.group != 4)
    fail(fn, cat("dtype ", d.name, ": the one-pass kernel handles 2:4 types; tf32's 1:2 pairs take prune, compress "
                 "and reorder_meta"));
  rules::check_layout_shape(fn, l, M, K, d.bits, d.group);
  const int eb = d.bits / 8;
  if ((K * eb) % kLoadBytes != 0)
    fail(fn, cat("K = ", K, " is not a multiple of ", kLoadBytes / eb, " (the kernel reads a ", d.name,
                 " row in 16-byte loads)"));
  rules::check_ptr(fn, dense, "dense");
  rules::check_ptr(fn, values, "values");
  rules::check_ptr(fn, meta, "meta");
  check_aligned(fn, dense, kLoadBytes, "dense", "the kernel reads 16 bytes per access");
  check_aligned(fn, values, kValueStoreBytes, "values", "the kernel stores 8 bytes per access");
  check_aligned(fn, meta, 16, "meta", "the kernel stores whole metadata blocks in 16-byte pieces");
  const cudaStream_t s = static_cast<cudaStream_t>(stream);
  const uint32_t nan = d.max_non_nan;
  // One instantiation per (storage, key, layout) that a type's instructions read (check_layout_shape refused the
  // others): 16-bit FloatNanHigh (fp16, bf16) and the two 8-bit keys (int8; e4m3 and e5m2).
  switch (d.key) {
    case MagnitudeKey::FloatNanHigh:
      if (d.bits != 16) break;
      switch (l) {
        case MetaLayout::Canonical:
          return launch<16, MagnitudeKey::FloatNanHigh, MetaLayout::Canonical>(dense, M, K, values, meta, nan, s, fn);
        case MetaLayout::LaneBlocks16:
          return launch<16, MagnitudeKey::FloatNanHigh, MetaLayout::LaneBlocks16>(dense, M, K, values, meta, nan, s,
                                                                                  fn);
        case MetaLayout::Wgmma16x64:
          return launch<16, MagnitudeKey::FloatNanHigh, MetaLayout::Wgmma16x64>(dense, M, K, values, meta, nan, s,
                                                                                fn);
        default: break;
      }
      break;
    case MagnitudeKey::FloatNanLow:
    case MagnitudeKey::TwosComplement:
      if (d.bits != 8) break;
      if (d.key == MagnitudeKey::FloatNanLow) {
        if (l == MetaLayout::Canonical)
          return launch<8, MagnitudeKey::FloatNanLow, MetaLayout::Canonical>(dense, M, K, values, meta, nan, s, fn);
        if (l == MetaLayout::LaneBlocks8)
          return launch<8, MagnitudeKey::FloatNanLow, MetaLayout::LaneBlocks8>(dense, M, K, values, meta, nan, s, fn);
      } else {
        if (l == MetaLayout::Canonical)
          return launch<8, MagnitudeKey::TwosComplement, MetaLayout::Canonical>(dense, M, K, values, meta, nan, s,
                                                                                fn);
        if (l == MetaLayout::LaneBlocks8)
          return launch<8, MagnitudeKey::TwosComplement, MetaLayout::LaneBlocks8>(dense, M, K, values, meta, nan, s,
                                                                                  fn);
      }
      break;
  }
  fail(fn, cat("no one-pass kernel for ", d.name, " with metadata layout ", name(l)));
}

}  // namespace sparse24::format::gpu
