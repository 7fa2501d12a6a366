// The rules of the sparse formats, written once for the CPU reference (format_cpu.cpp) and the GPU kernels
// (format_gpu.cu), so that the two cannot drift apart: the magnitude key of each type, which elements of a group
// are kept, which nibbles are valid, where a nibble lands in a layout (from its description in format.h), and the
// host-side shape checks and messages.
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
// Full unrolling in the device pass only (the host compiler does not know the pragma).
#ifdef __CUDA_ARCH__
#define S24_UNROLL _Pragma("unroll")
#else
#define S24_UNROLL
#endif

namespace sparse24::format::rules {

// ---- Per-type facts, as the kernels take them ------------------------------------------------------------------
// The subset of DTypeInfo that the rules read, small enough to pass to a kernel by value.
struct ElemSpec {
  int bits;              // storage bits: 8, 16 or 32
  int group, keep;       // 4/2 (2:4) or 2/1 (tf32's 1:2)
  MagnitudeKey key;      // how magnitudes rank (dtype.h)
  uint32_t max_non_nan;  // floats: a magnitude above this is a NaN
};
inline ElemSpec spec_of(const DTypeInfo& d) { return {d.bits, d.group, d.keep, d.key, d.max_non_nan}; }

// ---- The selection rule ---------------------------------------------------------------------------------------
// The magnitude key of one element's bits (the low s.bits bits of `bits`); larger key = kept first. format.h states
// the rule per type; here is its arithmetic:
//   FloatNanHigh: for IEEE-like floats the magnitude order of the values is the integer order of the bits with the
//     sign cleared; that also puts every NaN above inf (the largest exponent and a nonzero mantissa), and -0.0 at 0.
//   FloatNanLow: the same order shifted up by one for numbers, with every NaN at 1: above +-0 (key 0), below the
//     smallest nonzero number (key 2). Only 8-bit types use it, so abs + 1 cannot overflow.
//   TwosComplement: |x| of the sign-extended value, computed in unsigned arithmetic so the most negative value
//     (-128 for int8) gets 2^(bits-1), the largest key.
S24_HD inline uint32_t magnitude_key(uint32_t bits, const ElemSpec& s) {
  const uint32_t mask = s.bits == 32 ? 0xFFFFFFFFu : ((1u << s.bits) - 1u);
  const uint32_t sign = 1u << (s.bits - 1);
  bits &= mask;
  const uint32_t abs_float = bits & ~sign;
  switch (s.key) {
    case MagnitudeKey::FloatNanHigh: return abs_float;
    case MagnitudeKey::FloatNanLow: return abs_float == 0 ? 0u : (abs_float > s.max_non_nan ? 1u : abs_float + 1u);
    case MagnitudeKey::TwosComplement: return (bits & sign) ? ((~bits + 1u) & mask) : bits;
  }
  return abs_float;
}

// The 16-bit form the rules were first written in (fp16, bf16: FloatNanHigh): kept for readers and tests.
S24_HD inline uint32_t magnitude_key(uint16_t bits, int sign_bit) {
  return static_cast<uint32_t>(bits) & ~(1u << sign_bit);
}

// The 2:4 nibble of the two elements kept from four keys: the two largest keys, the lower index winning a tie.
// Because ties go to the lower index, a chunk with fewer than two nonzeros gets its missing elements from the
// lowest-indexed zeros, which yields the canonical degenerate codes with no special case:
//   all zero -> (0,1) = 0x4,   one nonzero at 0 -> (0,1) = 0x4,   one nonzero at i > 0 -> (0,i).
// The returned nibble is ordered (idx0 < idx1), as ::ordered_metadata requires.
S24_HD inline uint32_t keep_nibble_of_keys(const uint32_t (&key)[4]) {
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

// The same selection written as ranks, for kernels that want no data-dependent index (the one-pass kernel,
// onepass_gpu.cu): element i beats element j when key_i > key_j, or the keys are equal and i < j. That order is
// total, so exactly two elements beat at least two of the other three, and they are the two that the two scans
// of keep_nibble_of_keys pick (the largest, then the largest of the rest, the lower index winning each tie).
// tests/cpu/test_format.cpp checks the two against each other on every 4-tuple of keys 0..4 (every pattern of ties).
// Returns the keep mask: bit i set for each kept element (two bits set).
S24_HD inline uint32_t keep_mask_by_rank(const uint32_t (&key)[4]) {
  const uint32_t b01 = key[0] >= key[1], b02 = key[0] >= key[2], b03 = key[0] >= key[3];   // i < j: ties go to i
  const uint32_t b12 = key[1] >= key[2], b13 = key[1] >= key[3], b23 = key[2] >= key[3];
  const uint32_t wins0 = b01 + b02 + b03, wins1 = (1u - b01) + b12 + b13, wins2 = (2u - b02 - b12) + b23,
                 wins3 = 3u - b03 - b13 - b23;
  return (wins0 >= 2u ? 1u : 0u) | (wins1 >= 2u ? 2u : 0u) | (wins2 >= 2u ? 4u : 0u) | (wins3 >= 2u ? 8u : 0u);
}

// The ordered nibble (idx0 | idx1 << 2) of a keep mask with two bits set: idx0 the lowest set bit, idx1 the highest.
S24_HD inline uint32_t nibble_of_keep_mask(uint32_t mask) {
  const uint32_t lo = (mask & 1u) ? 0u : ((mask & 2u) ? 1u : 2u);
  const uint32_t hi = (mask & 8u) ? 3u : ((mask & 4u) ? 2u : 1u);
  return lo | (hi << 2);
}

// ---- The same selection in packed arithmetic (the one-pass kernel's inner loop, onepass_gpu.cu) -----------------
// Keys below 2^15 travel two per 32-bit word: A = (k0, k1), B = (k2, k3), element 0 and 2 in the low halves. With a
// guard bit set in each half of the minuend, one 32-bit subtraction makes two comparisons and no borrow crosses
// the halves: (0x8000 + ki) - kj lies in [1, 0xFFFF], and its bit 15 is set exactly when ki >= kj. Three
// subtractions give the six comparisons "i beats j" (i < j: ki >= kj, the tie to the lower index), packed into a
// 6-bit index: bit 0 c02, bit 1 c13, bit 2 c03, bit 3 c12, bit 4 c01, bit 5 c23.
inline constexpr uint32_t kHalfGuard = 0x80008000u;
S24_HD inline uint32_t compare_index(uint32_t A, uint32_t B) {
  const uint32_t d1 = (A | kHalfGuard) - B;                                  // k0 - k2 | k1 - k3
  const uint32_t d2 = (A | kHalfGuard) - ((B >> 16) | (B << 16));            // k0 - k3 | k1 - k2
  const uint32_t x = (A & 0xFFFFu) | (B << 16), y = (A >> 16) | (B & 0xFFFF0000u);
  const uint32_t d3 = (x | kHalfGuard) - y;                                  // k0 - k1 | k2 - k3
  const uint32_t t = ((d1 >> 15) & 0x10001u) | ((d2 >> 13) & 0x40004u) | ((d3 >> 11) & 0x100010u);
  return (t | (t >> 15)) & 0x3Fu;
}

// What the kernel needs of one group, per compare index: bits 15:0 the PRMT selector that gathers the two kept
// 16-bit elements of (lo, hi) (bytes 2 idx0, 2 idx0 + 1, 2 idx1, 2 idx1 + 1), bits 19:16 the nibble, bits 27:20 the
// byte selector of the two kept 8-bit elements of one word (idx0 | idx1 << 4). The keep set is keep_mask_by_rank's
// (an element is kept when it beats two of the other three); an index no total order produces (a cycle of
// comparisons) never occurs, and gets whatever the rank count gives.
S24_HD inline uint32_t selection_entry(uint32_t index) {
  const uint32_t c02 = index & 1u, c13 = (index >> 1) & 1u, c03 = (index >> 2) & 1u, c12 = (index >> 3) & 1u,
                 c01 = (index >> 4) & 1u, c23 = (index >> 5) & 1u;
  const uint32_t wins0 = c01 + c02 + c03, wins1 = (1u - c01) + c12 + c13, wins2 = (1u - c02) + (1u - c12) + c23,
                 wins3 = (1u - c03) + (1u - c13) + (1u - c23);
  const uint32_t mask = (wins0 >= 2u ? 1u : 0u) | (wins1 >= 2u ? 2u : 0u) | (wins2 >= 2u ? 4u : 0u) |
                        (wins3 >= 2u ? 8u : 0u);
  // A total order keeps exactly two; a cyclic index (never produced) may give another count: any valid code.
  const bool two = mask == 3u || mask == 5u || mask == 9u || mask == 6u || mask == 10u || mask == 12u;
  const uint32_t nibble = two ? nibble_of_keep_mask(mask) : 0x4u;
  const uint32_t a = nibble & 3u, b = (nibble >> 2) & 3u;   // idx0, idx1
  const uint32_t sel16 = (2 * a) | ((2 * a + 1) << 4) | ((2 * b) << 8) | ((2 * b + 1) << 12);
  return sel16 | (nibble << 16) | ((a | (b << 4)) << 20);
}
inline constexpr int kSelectionEntries = 64;
S24_HD inline uint32_t entry_nibble(uint32_t entry) { return (entry >> 16) & 0xFu; }
S24_HD inline uint32_t entry_select8(uint32_t entry) { return (entry >> 20) & 0xFFu; }

S24_HD inline uint32_t keep_nibble(uint16_t e0, uint16_t e1, uint16_t e2, uint16_t e3, int sign_bit) {
  const uint32_t key[4] = {magnitude_key(e0, sign_bit), magnitude_key(e1, sign_bit), magnitude_key(e2, sign_bit),
                           magnitude_key(e3, sign_bit)};
  return keep_nibble_of_keys(key);
}

// The two tf32 pair codes (docs/sparse-tensor-cores.md §2): element 0 is 16-bit halves (0, 1), element 1 halves
// (2, 3) of the hardware's 2:4 view.
inline constexpr uint32_t kPairKeep0 = 0x4u, kPairKeep1 = 0xEu;

// The nibble of a group of s.group elements (e[0..group-1], raw bits): 2:4 as above; a pair keeps the larger key,
// element 0 on a tie (so a pair of zeros gets 0x4).
S24_HD inline uint32_t group_nibble(const uint32_t* e, const ElemSpec& s) {
  if (s.group == 2) return magnitude_key(e[1], s) > magnitude_key(e[0], s) ? kPairKeep1 : kPairKeep0;
  const uint32_t key[4] = {magnitude_key(e[0], s), magnitude_key(e[1], s), magnitude_key(e[2], s),
                           magnitude_key(e[3], s)};
  return keep_nibble_of_keys(key);
}

// Nonzeros of a chunk in the 2:4 sense (-0.0 is zero).
S24_HD inline int count_nonzeros(uint16_t e0, uint16_t e1, uint16_t e2, uint16_t e3, int sign_bit) {
  return (magnitude_key(e0, sign_bit) != 0) + (magnitude_key(e1, sign_bit) != 0) +
         (magnitude_key(e2, sign_bit) != 0) + (magnitude_key(e3, sign_bit) != 0);
}

// Nonzeros of a group: elements whose key is not 0 (-0.0 is zero, a NaN is a nonzero in every key).
S24_HD inline int group_nonzeros(const uint32_t* e, const ElemSpec& s) {
  int n = 0;
  for (int j = 0; j < s.group; ++j) n += magnitude_key(e[j], s) != 0;
  return n;
}

// ---- Nibble codes ----------------------------------------------------------------------------------------------
// nibble = idx0 | idx1 << 2. Valid exactly when idx0 < idx1: 0x4, 0x8, 0xC, 0x9, 0xD, 0xE. Equal indices (0x0,
// 0x5, 0xA, 0xF) and descending ones (0x1, 0x2, ...) are undefined behaviour in the hardware, not an error.
S24_HD inline int nibble_idx0(uint32_t nibble) { return static_cast<int>(nibble & 3u); }
S24_HD inline int nibble_idx1(uint32_t nibble) { return static_cast<int>((nibble >> 2) & 3u); }
S24_HD inline bool nibble_valid(uint32_t nibble) { return nibble_idx0(nibble) < nibble_idx1(nibble); }

// A nibble is valid for the group size: one of the six 2:4 codes, or one of the two pair codes.
S24_HD inline bool nibble_valid(uint32_t nibble, int group) {
  return group == 2 ? (nibble == kPairKeep0 || nibble == kPairKeep1) : nibble_valid(nibble);
}
// Dense index inside its group of the j-th kept element (j < keep) of a VALID nibble: idx_j for 2:4; for a pair,
// 0x4 -> 0 and 0xE -> 1, which is idx0 / 2 (the 16-bit half index of the kept 32-bit element).
S24_HD inline int kept_index(uint32_t nibble, int j, int group) {
  if (group == 2) return nibble_idx0(nibble) >> 1;
  return j == 0 ? nibble_idx0(nibble) : nibble_idx1(nibble);
}

// Nibble c of a canonical metadata row (LSB-first along K: byte c/2, low nibble for even c).
S24_HD inline uint32_t canonical_nibble(const uint8_t* meta_row, int64_t chunk) {
  return (static_cast<uint32_t>(meta_row[chunk >> 1]) >> (4 * (chunk & 1))) & 0xFu;
}

// ---- Layouts: where the nibble of (row r, nibble column j) lives -------------------------------------------------
// The description's bit list (format.h, MetaLayoutDesc) read forwards and backwards; `cols` is the number of nibble
// columns of the matrix (K / group), a multiple of the block's. Returns the byte offset of the nibble in the
// layout's buffer and sets *shift to 0 or 4. Words are little-endian (the kernels' 32-bit loads read them so), so
// nibble n of a block is byte n / 2, high half for odd n.
S24_HD inline int64_t layout_nibble_byte(const MetaLayoutDesc& d, int64_t r, int64_t j, int64_t cols, int* shift) {
  const int64_t block = (r >> d.row_bits) * (cols >> d.col_bits) + (j >> d.col_bits);
  const uint32_t rb = static_cast<uint32_t>(r & ((int64_t{1} << d.row_bits) - 1));
  const uint32_t jb = static_cast<uint32_t>(j & ((int64_t{1} << d.col_bits) - 1));
  uint32_t n = 0;
  // Unrolled over the fixed maximum, so that a kernel indexes its by-value description with constants only.
  S24_UNROLL
  for (int i = 0; i < MetaLayoutDesc::kMaxBits; ++i) {
    if (i >= d.row_bits + d.col_bits) break;
    const int src = d.src[i];
    const uint32_t bit =
        src < MetaLayoutDesc::kColBit ? (rb >> src) & 1u : (jb >> (src - MetaLayoutDesc::kColBit)) & 1u;
    n |= bit << i;
  }
  *shift = 4 * static_cast<int>(n & 1u);
  const int64_t block_bytes = (int64_t{1} << (d.row_bits + d.col_bits)) / 2;   // d.block_bytes(), device-side
  return block * block_bytes + (n >> 1);
}

// The inverse for one nibble: the (row, nibble column) of nibble `n` (0 <= n < 2^(row_bits + col_bits)) of block
// number `block`.
S24_HD inline void layout_coordinates(const MetaLayoutDesc& d, int64_t block, uint32_t n, int64_t cols, int64_t* r,
                                      int64_t* j) {
  uint32_t rb = 0, jb = 0;
  S24_UNROLL
  for (int i = 0; i < MetaLayoutDesc::kMaxBits; ++i) {
    if (i >= d.row_bits + d.col_bits) break;
    const int src = d.src[i];
    const uint32_t bit = (n >> i) & 1u;
    if (src < MetaLayoutDesc::kColBit)
      rb |= bit << src;
    else
      jb |= bit << (src - MetaLayoutDesc::kColBit);
  }
  const int64_t col_blocks = cols >> d.col_bits;
  *r = (block / col_blocks) * (int64_t{1} << d.row_bits) + rb;
  *j = (block % col_blocks) * (int64_t{1} << d.col_bits) + jb;
}

// The 16-bit forms of the two kernel layouts, in dense columns k (the nibble column is k / 4), kept because the
// kernels' comments and the tests quote them; they are the descriptions above, not separate code. Host only (the
// description table is a host constant; kernels get their description as a parameter).
inline int64_t lane_block16_byte(int64_t r, int64_t k, int64_t K, int* shift) {
  return layout_nibble_byte(desc(MetaLayout::LaneBlocks16), r, k / 4, K / 4, shift);
}
inline int64_t wgmma16x64_byte(int64_t r, int64_t k, int64_t K, int* shift) {
  return layout_nibble_byte(desc(MetaLayout::Wgmma16x64), r, k / 4, K / 4, shift);
}

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

// The dtype must name a type with a sparse format (dtype.h: sparse_input). The range check also keeps a value
// that names no DType from indexing past kDTypes.
inline const DTypeInfo& check_dtype(const char* fn, DType t) {
  if (!valid_dtype(t)) fail(fn, cat("unknown dtype value ", static_cast<int>(t)));
  const DTypeInfo& d = info(t);
  if (!d.sparse_input)
    fail(fn, cat("dtype ", d.name, " has no sparse format (the sparse inputs are fp16, bf16, tf32, int8, e4m3, e5m2)"));
  return d;
}

// "chunk" for a 2:4 group of 4, "pair" for tf32's groups of 2: the word every message uses.
inline const char* group_word(int group) { return group == 2 ? "pair" : "chunk"; }

inline void check_k(const char* fn, int64_t K, int group = 4) {
  const int per_byte = 2 * group;
  const char* w = group_word(group);
  if (K < per_byte)
    fail(fn, cat("K = ", K, " is less than ", per_byte, " (one metadata byte holds two ", w, "s of ", group, ")"));
  if (K % per_byte != 0)
    fail(fn, cat("K = ", K, " is not a multiple of ", per_byte, " (two ", w, "s per metadata byte)"));
}

inline void check_canonical_shape(const char* fn, int64_t M, int64_t K, int group = 4) {
  if (M < 1) fail(fn, cat("M = ", M, " is less than 1"));
  check_k(fn, K, group);
}

inline const MetaLayoutDesc& check_layout(const char* fn, MetaLayout l) {
  if (!valid_layout(l)) fail(fn, cat("unknown metadata layout value ", static_cast<int>(l)));
  return desc(l);
}

// The shape fits layout l for a type of `elem_bits` storage and `group` (nibble columns = K / group), and the
// layout is one that the type's instructions read.
inline const MetaLayoutDesc& check_layout_shape(const char* fn, MetaLayout l, int64_t M, int64_t K, int elem_bits = 16,
                                                int group = 4) {
  const MetaLayoutDesc& d = check_layout(fn, l);
  check_canonical_shape(fn, M, K, group);
  if (!d.serves(elem_bits))
    fail(fn, cat("metadata layout ", d.name, " is read by no instruction of ", elem_bits,
                 "-bit types (only the canonical form exists for them)"));
  const int64_t rows = d.block_rows(), cols = int64_t{d.block_nibble_cols()} * group;
  if (M % rows != 0) fail(fn, cat("M = ", M, " is not a multiple of ", rows, " (", d.rows_reason, ")"));
  if (K % cols != 0)
    fail(fn, cat("K = ", K, " is not a multiple of ", cols, " (",
                 group == 2 ? d.cols_reason_pairs : d.cols_reason, ")"));
  return d;
}

inline std::string columns(int64_t chunk, int group = 4) {
  return cat("columns ", group * chunk, "..", group * chunk + group - 1);
}

inline std::string dense_violation_message(int64_t row, int64_t chunk, int nonzeros, int group = 4, int keep = 2) {
  return cat("row ", row, ", ", group_word(group), " ", chunk, " (", columns(chunk, group), ") has ", nonzeros,
             " nonzeros; ", keep, ":", group, " allows at most ", keep);
}

inline std::string meta_violation_message(int64_t row, int64_t chunk, uint32_t nibble, int group = 4) {
  std::ostringstream s;
  s << "row " << row << ", " << group_word(group) << " " << chunk << " (" << columns(chunk, group) << "): nibble 0x"
    << std::hex << std::uppercase << nibble << std::dec;
  if (group == 2) {
    s << " is not a pair code; the valid tf32 codes are 0x4 (keeps element 0) and 0xE (keeps element 1)";
    return s.str();
  }
  s << " = indices (" << nibble_idx0(nibble) << ", " << nibble_idx1(nibble) << ") "
    << (nibble_idx0(nibble) == nibble_idx1(nibble) ? "repeats an index" : "is descending")
    << "; the valid ordered codes are 0x4 0x8 0xC 0x9 0xD 0xE";
  return s.str();
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
