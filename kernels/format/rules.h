// The rules of the 2:4 format, written once for the CPU reference (format_cpu.cpp) and the GPU kernels
// (format_gpu.cu), so that the two cannot drift apart: which two elements of a chunk are kept, which nibbles are
// valid, where a nibble lands in the lane-block layout, and the host-side shape checks and messages.
//
// Everything here is internal to kernels/format/; the public interface is format.h.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <utility>

#include "kernels/format/format.h"

// The rule functions run on both sides; g++ never sees the CUDA qualifiers.
#ifdef __CUDACC__
#define S24_HD __host__ __device__
#else
#define S24_HD
#endif

namespace sparse24::format::rules {

// ---- The selection rule ---------------------------------------------------------------------------------------
// For IEEE-like floats (fp16, bf16 and later e4m3/e5m2) the magnitude order of the values is the integer order of
// the bits with the sign cleared. That ordering also puts every NaN above inf (a NaN has the largest exponent
// and a nonzero mantissa), which is what we want: a NaN is never silently pruned. -0.0 gets key 0, so it counts
// as zero everywhere. (A two's-complement int8 will need its own key: its magnitude is not its low bits.)
S24_HD inline uint32_t magnitude_key(uint16_t bits, int sign_bit) {
  return static_cast<uint32_t>(bits) & ~(1u << sign_bit);
}

// The nibble of the two elements the 2:4 rule keeps: the two largest keys, the lower index winning a tie.
// Because ties go to the lower index, a chunk with fewer than two nonzeros gets its missing elements from the
// lowest-indexed zeros, which yields the canonical degenerate codes with no special case:
//   all zero -> (0,1) = 0x4,   one nonzero at 0 -> (0,1) = 0x4,   one nonzero at i > 0 -> (0,i).
// The returned nibble is ordered (idx0 < idx1), as ::ordered_metadata requires.
S24_HD inline uint32_t keep_nibble(uint16_t e0, uint16_t e1, uint16_t e2, uint16_t e3, int sign_bit) {
  const uint32_t key[4] = {magnitude_key(e0, sign_bit), magnitude_key(e1, sign_bit), magnitude_key(e2, sign_bit),
                           magnitude_key(e3, sign_bit)};
  // First pick: strict '>' while scanning upwards makes the lowest index win among equal keys.
  int a = 0;
  for (int i = 1; i < 4; ++i)
    if (key[i] > key[a]) a = i;
  // Second pick: the same scan over the other three.
  int b = (a == 0) ? 1 : 0;
  for (int i = b + 1; i < 4; ++i)
    if (i != a && key[i] > key[b]) b = i;
  const int lo = a < b ? a : b, hi = a < b ? b : a;
  return static_cast<uint32_t>(lo | (hi << 2));
}

// Nonzeros of a chunk in the 2:4 sense (-0.0 is zero).
S24_HD inline int count_nonzeros(uint16_t e0, uint16_t e1, uint16_t e2, uint16_t e3, int sign_bit) {
  return (magnitude_key(e0, sign_bit) != 0) + (magnitude_key(e1, sign_bit) != 0) +
         (magnitude_key(e2, sign_bit) != 0) + (magnitude_key(e3, sign_bit) != 0);
}

// ---- Nibble codes ----------------------------------------------------------------------------------------------
// nibble = idx0 | idx1 << 2. Valid exactly when idx0 < idx1: 0x4, 0x8, 0xC, 0x9, 0xD, 0xE. Equal indices (0x0,
// 0x5, 0xA, 0xF) and descending ones (0x1, 0x2, ...) are undefined behaviour in the hardware, not an error.
S24_HD inline int nibble_idx0(uint32_t nibble) { return static_cast<int>(nibble & 3u); }
S24_HD inline int nibble_idx1(uint32_t nibble) { return static_cast<int>((nibble >> 2) & 3u); }
S24_HD inline bool nibble_valid(uint32_t nibble) { return nibble_idx0(nibble) < nibble_idx1(nibble); }

// Nibble c of a canonical metadata row (LSB-first along K: byte c/2, low nibble for even c).
S24_HD inline uint32_t canonical_nibble(const uint8_t* meta_row, int64_t chunk) {
  return (static_cast<uint32_t>(meta_row[chunk >> 1]) >> (4 * (chunk & 1))) & 0xFu;
}

// ---- LaneBlocks16: where the nibble of (row r, column k) lives -----------------------------------------------------
// Derivation from the m16n8k32 metadata fragment (docs/sparse-tensor-cores.md section 3): a block covers 32 rows
// (two m16 tiles: selector F = 0 reads lanes q = 0,1, F = 1 reads lanes q = 2,3) and 32 columns (one k-step).
// For block row rb = r % 32 and block column kb = k % 32:
//   tile F = rb / 16, row in tile = rb % 16, group g = rb % 8, upper half (bits 31:16) when rb % 16 >= 8;
//   q = 2F + kb / 16 (even q: k 0..15, odd q: k 16..31); lane = 4g + q;
//   within the 16-bit half, nibble (kb % 16) / 4, LSB first.
// So lane = 4*(r%8) + 2*((r%32)/16) + (k%32)/16 and bit = 16*((r%16)/8) + 4*((k%16)/4), as in format.h.
// Blocks are ordered [row group][k-step]; word `lane` of a block is stored little-endian at byte 4*lane, as the
// kernel's 32-bit load reads it. Returns the byte offset in the reordered buffer; *shift is 0 or 4.

S24_HD inline int64_t lane_block16_byte(int64_t r, int64_t k, int64_t K, int* shift) {
  const int64_t block = (r / kLaneBlockRows) * (K / kLaneBlockCols) + k / kLaneBlockCols;
  const int rb = static_cast<int>(r % kLaneBlockRows), kb = static_cast<int>(k % kLaneBlockCols);
  const int lane = 4 * (rb % 8) + 2 * (rb / 16) + kb / 16;
  const int bit = 16 * ((rb % 16) / 8) + 4 * ((kb % 16) / 4);
  *shift = bit % 8;
  return block * kLaneBlockBytes + 4 * lane + bit / 8;
}

// ---- Wgmma16x64: where the nibble of (row r, column k) lives ------------------------------------------------------
// Derivation from the wgmma.sp m64nNk32 metadata (docs/sparse-tensor-cores.md §3a): warp w supplies rows 16w..16w+15
// with the m16n8k32 layout, selector 0 reading lanes q = 0, 1 and selector 1 lanes q = 2, 3. A block covers one
// warp's 16 rows and a k-tile of two k-steps: k-step kb / 32 is issued with selector kb / 32, so its lanes are
// q = 2*(kb/32) + (kb%32)/16 = kb / 16. For block row rb = r % 16 and block column kb = k % 64:
//   group g = rb % 8, upper half (bits 31:16) when rb >= 8; lane = 4g + kb/16; nibble (kb % 16) / 4, LSB first.
// Blocks are ordered [16-row slab][k-tile]; words little-endian, as for LaneBlocks16.
S24_HD inline int64_t wgmma16x64_byte(int64_t r, int64_t k, int64_t K, int* shift) {
  const int64_t block = (r / kWgmmaBlockRows) * (K / kWgmmaBlockCols) + k / kWgmmaBlockCols;
  const int rb = static_cast<int>(r % kWgmmaBlockRows), kb = static_cast<int>(k % kWgmmaBlockCols);
  const int lane = 4 * (rb % 8) + kb / 16;
  const int bit = 16 * (rb / 8) + 4 * ((kb % 16) / 4);
  *shift = bit % 8;
  return block * kWgmmaBlockBytes + 4 * lane + bit / 8;
}

// ---- Metadata layouts as traits ------------------------------------------------------------------------------------
// Every layout is a permutation of the canonical nibbles (the same M*K/8 bytes in another order), so a layout is
// fully described by one function: where the nibble of (row r, dense column k) lives, as a byte offset and a
// shift (0 or 4). The CPU reference reorders through it generically (format_cpu.cpp, reorder_with<Layout>), in
// both directions; a GPU kernel may be specialized for speed and is tested bit for bit against it. A new layout
// is a new trait here, an enum value in format.h and a case in layout_trait() below.
struct CanonicalLayout {
  static constexpr MetaLayout kId = MetaLayout::Canonical;
  S24_HD static int64_t nibble_byte(int64_t r, int64_t k, int64_t K, int* shift) {
    const int64_t c = k / 4;
    *shift = 4 * static_cast<int>(c & 1);
    return r * (K / 8) + c / 2;
  }
};

struct LaneBlocks16Layout {
  static constexpr MetaLayout kId = MetaLayout::LaneBlocks16;
  S24_HD static int64_t nibble_byte(int64_t r, int64_t k, int64_t K, int* shift) {
    return lane_block16_byte(r, k, K, shift);
  }
};

struct Wgmma16x64Layout {
  static constexpr MetaLayout kId = MetaLayout::Wgmma16x64;
  S24_HD static int64_t nibble_byte(int64_t r, int64_t k, int64_t K, int* shift) {
    return wgmma16x64_byte(r, k, K, shift);
  }
};

// ---- Host side: shape checks and messages, shared so that CPU and GPU report identically ----------------------
template <typename... Ts>
std::string cat(const Ts&... parts) {
  std::ostringstream s;
  (s << ... << parts);
  return s.str();
}

[[noreturn]] inline void fail(const char* fn, const std::string& what) {
  throw FormatError(cat("format::", fn, ": ", what));
}

inline void check_ptr(const char* fn, const void* p, const char* what) {
  if (p == nullptr) fail(fn, cat(what, " is a null pointer"));
}

// Only the 16-bit types exist today; the uint16_t storage of these functions is what would have to change for
// 8-bit types. The dtype check also keeps an out-of-range enum value from indexing past kDTypes.
inline const DTypeInfo& check_dtype(const char* fn, DType t) {
  const int i = static_cast<int>(t);
  if (i < 0 || i >= static_cast<int>(sizeof(kDTypes) / sizeof(kDTypes[0])))
    fail(fn, cat("unknown dtype value ", i));
  const DTypeInfo& d = info(t);
  if (d.bits != 16 || d.group != 4 || d.keep != 2)
    fail(fn, cat("dtype ", d.name, " is not a 16-bit 2:4 type (the only storage these functions handle)"));
  return d;
}

inline void check_k(const char* fn, int64_t K) {
  if (K < 8) fail(fn, cat("K = ", K, " is less than 8 (one metadata byte holds two chunks of 4)"));
  if (K % 8 != 0) fail(fn, cat("K = ", K, " is not a multiple of 8 (two chunks per metadata byte)"));
}

inline void check_canonical_shape(const char* fn, int64_t M, int64_t K) {
  if (M < 1) fail(fn, cat("M = ", M, " is less than 1"));
  check_k(fn, K);
}

inline void check_layout_shape(const char* fn, MetaLayout l, int64_t M, int64_t K) {
  check_canonical_shape(fn, M, K);
  switch (l) {
    case MetaLayout::Canonical:
      return;
    case MetaLayout::LaneBlocks16:
      if (M % kLaneBlockRows != 0)
        fail(fn, cat("M = ", M, " is not a multiple of 32 (lane-block metadata serves 32 rows)"));
      if (K % kLaneBlockCols != 0)
        fail(fn, cat("K = ", K, " is not a multiple of 32 (lane-block metadata covers one m16n8k32 k-step)"));
      return;
    case MetaLayout::Wgmma16x64:
      if (M % kWgmmaBlockRows != 0)
        fail(fn, cat("M = ", M, " is not a multiple of 16 (wgmma16x64 metadata serves a warp's 16 rows)"));
      if (K % kWgmmaBlockCols != 0)
        fail(fn, cat("K = ", K, " is not a multiple of 64 (wgmma16x64 metadata covers two m64nNk32 k-steps)"));
      return;
  }
  fail(fn, cat("unknown metadata layout value ", static_cast<int>(l)));
}

inline std::string columns(int64_t chunk) { return cat("columns ", 4 * chunk, "..", 4 * chunk + 3); }

inline std::string dense_violation_message(int64_t row, int64_t chunk, int nonzeros) {
  return cat("row ", row, ", chunk ", chunk, " (", columns(chunk), ") has ", nonzeros,
             " nonzeros; 2:4 allows at most 2");
}

inline std::string meta_violation_message(int64_t row, int64_t chunk, uint32_t nibble) {
  std::ostringstream s;
  s << "row " << row << ", chunk " << chunk << " (" << columns(chunk) << "): nibble 0x" << std::hex
    << std::uppercase << nibble << std::dec << " = indices (" << nibble_idx0(nibble) << ", "
    << nibble_idx1(nibble) << ") "
    << (nibble_idx0(nibble) == nibble_idx1(nibble) ? "repeats an index" : "is descending")
    << "; the valid ordered codes are 0x4 0x8 0xC 0x9 0xD 0xE";
  return s.str();
}

// Calls f(Trait{}) with the trait of layout l; an unknown value is a FormatError (never another layout).
template <class F>
auto with_layout(const char* fn, MetaLayout l, F&& f) {
  switch (l) {
    case MetaLayout::Canonical: return f(CanonicalLayout{});
    case MetaLayout::LaneBlocks16: return f(LaneBlocks16Layout{});
    case MetaLayout::Wgmma16x64: return f(Wgmma16x64Layout{});
  }
  fail(fn, cat("unknown metadata layout value ", static_cast<int>(l)));
}

inline Violation make_violation(int64_t row, int64_t chunk, std::string message) {
  Violation v;
  v.ok = false;
  v.row = row;
  v.chunk = chunk;
  v.message = std::move(message);
  return v;
}

}  // namespace sparse24::format::rules
