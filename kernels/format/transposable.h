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
#include <cstring>
#include <utility>

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

// ---- The exact pattern in two halves (the GPU kernel's Scoring::halves, the same answer as exact_pattern) ---------
// A pattern is a top half t (the kept pairs of rows 0 and 1) and a bottom half u (rows 2 and 3) whose column counts
// add up to two in every column; its score is A_t + B_u with A_t = pair(row 0) + pair(row 1) and B_u = pair(row 2)
// + pair(row 3) (kept_sum's order). Its mask is t | u << 8, so "the lowest mask" is the lowest u, then the lowest t.
// For a fixed u every valid t has the same column counts (2 - counts(u): the top's class, one of 19), and when the
// sums are exact A_t + B_u orders the tops as A_t does, so the best pattern with bottom u is (the best top of its
// class, u):
//   per class, the largest A_t (the lowest t on ties: tops visited in ascending t, strict '>'); then the bottoms in
//   ascending u, each scored A*_class + B_u, the largest kept (strict '>': the lowest u keeps a tie).
// 24 pair sums, 36 + 36 half sums, 36 final sums and 17 + 36 comparisons, where the full scan (after the compiler
// shares the half sums) does 24 + 36 + 36 + 90 additions and 89 comparisons. Exact sums are the condition: fp16's
// always are (multiples of 2^-24 below 2^19, see above); bf16's are when the block's nonzero magnitudes span at most
// kHalvesMaxExponentSpan binades; an inf breaks it (B_u = inf absorbs every A_t, and then the lowest t wins, not the
// largest A_t). halves_applies() says when; elsewhere the full scan of exact_pattern runs.
// The schedule lists the 72 steps in the order the kernel unrolls them: the 36 tops class by class (ascending t in
// each), then the 36 bottoms in ascending u, each naming the class it needs.
struct HalvesStep {
  bool top;        // a top (rows 0, 1) or a bottom (rows 2, 3)
  bool first;      // the first top of its class (starts the class's running maximum)
  uint8_t cls;     // the class: of the top's column counts, or of the counts the bottom needs (0..18)
  uint8_t qa, qb;  // the kRowPairs index of the half's first and second row
  uint8_t bits;    // the half's 8 mask bits: row a | row b << 4
};
inline constexpr int kHalvesSteps = 72;
inline constexpr int kHalvesClasses = 19;           // column-count vectors of two 2-subsets of 4 columns
inline constexpr int kHalvesMaxExponentSpan = 42;   // bf16: see halves_applies in transposable_cpu.cpp
constexpr uint32_t pair_bits(int q) { return (1u << kRowPairs[q][0]) | (1u << kRowPairs[q][1]); }
// Column counts of two rows' pairs as a base-3 number (each count 0..2); `complement`: of 2 - count.
constexpr int counts_key(int qa, int qb, bool complement) {
  int key = 0;
  for (int c = 3; c >= 0; --c) {
    const int n = static_cast<int>(((pair_bits(qa) >> c) & 1u) + ((pair_bits(qb) >> c) & 1u));
    key = 3 * key + (complement ? 2 - n : n);
  }
  return key;
}
constexpr std::array<HalvesStep, kHalvesSteps> make_halves_schedule() {
  // kRowPairs indices in ascending pair_bits (3, 5, 6, 9, 10, 12), so that (row b, row a) loops ascend in bits.
  constexpr int kByBits[6] = {0, 1, 3, 2, 4, 5};
  constexpr int kKeys = 81;   // 3^4 base-3 keys, of which 19 occur
  std::array<HalvesStep, kHalvesSteps> s{};
  int cls_of_key[kKeys] = {};
  for (int& c : cls_of_key) c = -1;
  int n = 0, classes = 0;
  for (int key = 0; key < kKeys; ++key)
    for (int ib : kByBits)
      for (int ia : kByBits)
        if (counts_key(ia, ib, false) == key && n < kHalvesSteps) {
          const bool first = cls_of_key[key] < 0;
          if (first) cls_of_key[key] = classes++;
          s[n++] = {true, first, static_cast<uint8_t>(cls_of_key[key]), static_cast<uint8_t>(ia),
                    static_cast<uint8_t>(ib), static_cast<uint8_t>(pair_bits(ia) | pair_bits(ib) << 4)};
        }
  for (int ib : kByBits)
    for (int ia : kByBits)
      if (n < kHalvesSteps)
        s[n++] = {false, false, static_cast<uint8_t>(cls_of_key[counts_key(ia, ib, true)]), static_cast<uint8_t>(ia),
                  static_cast<uint8_t>(ib), static_cast<uint8_t>(pair_bits(ia) | pair_bits(ib) << 4)};
  return s;
}
inline constexpr std::array<HalvesStep, kHalvesSteps> kHalvesSchedule = make_halves_schedule();
// 36 tops in 19 classes, then 36 bottoms in ascending u, each needing a class that has a top.
constexpr bool halves_schedule_sound() {
  int firsts = 0;
  for (int i = 0; i < 36; ++i) {
    if (!kHalvesSchedule[i].top || kHalvesSchedule[i].cls >= kHalvesClasses) return false;
    firsts += kHalvesSchedule[i].first;
  }
  for (int i = 36; i < kHalvesSteps; ++i) {
    const HalvesStep& x = kHalvesSchedule[i];
    if (x.top || x.cls >= kHalvesClasses || (i > 36 && x.bits <= kHalvesSchedule[i - 1].bits)) return false;
  }
  return firsts == kHalvesClasses;
}
static_assert(halves_schedule_sound(), "the halves schedule: 36 tops in 19 classes, then 36 bottoms in ascending u");
// Whether the halves give exact_pattern's answer for this block (see above): no inf or NaN, and for bf16 the
// nonzero magnitudes' exponent fields (subnormals counted as 1) within kHalvesMaxExponentSpan.
bool halves_applies(DType t, const uint16_t (&bits)[16]);
// The pattern's mask by the halves (host version of the kernel's; tests compare it with exact_pattern).
uint16_t halves_mask(const double (&mag)[16]);

// ---- The halves in 32-bit integer keys (format.s06_intkeys, the same answer as halves_mask) ---------------------
// s04/s05 run the halves in double: a compare-select there is DSETP + two FSEL per double + a SEL per index, and the
// kernel is issue-bound (results/NOTES.md, session 9). Here the same schedule runs on unsigned 32-bit keys where that
// is exact, so a class's running maximum is one IADD3 + one IMNMX per top:
//   magnitudes as integers: every magnitude of the block times 2^s, s chosen from the block's smallest nonzero
//   exponent E_min (clamped to the smallest normal exponent: a subnormal lies on the grid of the smallest normal):
//   a value of exponent E >= E_min is a multiple of 2^(E - f) (f = fraction bits: 10 fp16, 7 bf16), so with
//   s = f + kIntKeyRankBits - E_min every scaled magnitude is an integer multiple of 2^kIntKeyRankBits (its low
//   kIntKeyRankBits bits are zero), and below 2^(E_max + 1 + s) = 2^(span + f + 1 + kIntKeyRankBits).
//   Eight of them (a pattern's sum) stay below 2^(span + f + 4 + kIntKeyRankBits): no wrap in 32 bits when
//   span = E_max - E_min <= IntKeyRule::kMaxSpan (15 fp16, 18 bf16). Scaling by 2^s is exact and preserves order
//   and equality, and the CPU's double sums are exact there too (fp16 always, bf16 within 42 binades), so every
//   comparison gives the same answer as in double.
//   the tie rule: a top's key is (its two pair sums) + (kIntKeyRankMax - its rank in its class), the rank counting
//   the class's tops in schedule order (ascending t); the low bits are otherwise zero, so no carry reaches the sum,
//   and max() keeps the larger sum, then the lower rank = the lowest t: the strict '>' in ascending t. The bottoms
//   compare sums with those rank bits cleared (strict '>' in ascending u, as halves_mask), and keep the winning
//   class's key, whose rank bits name its top: kTopOfClassRank[class << kIntKeyRankBits | rank].
//   not here (int_keys_choice returns false, the caller runs the double path): inf or NaN, a span wider than
//   kMaxSpan, and bf16 subnormals (f32 subnormals: an f32 multiply may flush them to zero under -ftz).
inline constexpr int kIntKeyRankBits = 3;
inline constexpr uint32_t kIntKeyRankMax = (1u << kIntKeyRankBits) - 1;
constexpr std::array<uint8_t, kHalvesSteps> make_halves_rank() {
  std::array<uint8_t, kHalvesSteps> rank{};
  int seen[kHalvesClasses] = {};
  for (int i = 0; i < kHalvesSteps; ++i)
    if (kHalvesSchedule[i].top) rank[i] = static_cast<uint8_t>(seen[kHalvesSchedule[i].cls]++);
  return rank;
}
inline constexpr std::array<uint8_t, kHalvesSteps> kHalvesRank = make_halves_rank();
constexpr bool halves_ranks_fit() {
  for (int i = 0; i < kHalvesSteps; ++i)
    if (kHalvesRank[i] > kIntKeyRankMax ||
        kHalvesSchedule[i].first != (kHalvesSchedule[i].top && kHalvesRank[i] == 0))
      return false;
  return true;
}
static_assert(halves_ranks_fit(), "a class's tops must be numbered within kIntKeyRankBits bits, the first as rank 0");
inline constexpr int kTopSlots = kHalvesClasses << kIntKeyRankBits;
constexpr std::array<uint8_t, kTopSlots> make_top_of_class_rank() {
  std::array<uint8_t, kTopSlots> t{};
  for (int i = 0; i < kHalvesSteps; ++i)
    if (kHalvesSchedule[i].top) t[kHalvesSchedule[i].cls << kIntKeyRankBits | kHalvesRank[i]] = kHalvesSchedule[i].bits;
  return t;
}
inline constexpr std::array<uint8_t, kTopSlots> kTopOfClassRank = make_top_of_class_rank();

template <bool kBf16>
struct IntKeyRule {
  static constexpr int kFracBits = kBf16 ? 7 : 10;
  static constexpr int kSumTerms = 8;          // a pattern keeps 8 elements
  static constexpr int kSumTermsLog2 = 3;
  static constexpr int kMaxSpan = 32 - (kFracBits + 1) - kSumTermsLog2 - kIntKeyRankBits;
  static constexpr int kF32Bias = 127;
  // The smallest normal exponent of the 16-bit type, as an f32 exponent field (fp16 2^-14, bf16 2^-126).
  static constexpr int kMinGridField = kF32Bias + (kBf16 ? -126 : -14);
  static_assert((1 << kSumTermsLog2) == kSumTerms, "eight terms per pattern");
  static_assert(kMaxSpan >= 1 && kFracBits + 1 + kMaxSpan + kSumTermsLog2 + kIntKeyRankBits <= 32,
                "eight scaled magnitudes with the rank bits must fit 32 bits");
};
static_assert(IntKeyRule<false>::kMaxSpan == 15 && IntKeyRule<true>::kMaxSpan == 18, "the spans the NOTES quote");

#ifdef __CUDACC__
#define SPARSE24_TR_HD __host__ __device__
#else
#define SPARSE24_TR_HD
#endif
#ifdef __CUDA_ARCH__   // fully unrolled on the GPU (registers, constant indices); host compilers need no hint
#define SPARSE24_TR_UNROLL _Pragma("unroll")
#else
#define SPARSE24_TR_UNROLL
#endif
// The bits of one 4-byte value as another type (a float's bits, or bits as a float), on the host and the device
// (memcpy of a register is a move in device code).
template <class To, class From>
SPARSE24_TR_HD inline To bits_as(From x) {
  static_assert(sizeof(To) == sizeof(From), "a bit cast keeps the size");
  To y;
  std::memcpy(&y, &x, sizeof y);
  return y;
}

// kRowPairs as arithmetic, usable in device code: pairs (0,1) (0,2) (0,3) (1,2) (1,3) (2,3).
SPARSE24_TR_HD constexpr int pair_lo(int q) { return q < 3 ? 0 : (q < 5 ? 1 : 2); }
SPARSE24_TR_HD constexpr int pair_hi(int q) { return q < 3 ? q + 1 : (q < 5 ? q - 1 : 3); }
constexpr bool pair_arithmetic_matches() {
  for (int q = 0; q < 6; ++q)
    if (pair_lo(q) != kRowPairs[q][0] || pair_hi(q) != kRowPairs[q][1]) return false;
  return true;
}
static_assert(pair_arithmetic_matches(), "pair_lo/pair_hi must list kRowPairs");

// The schedule folded at compile time (every index a constant, so the keys stay in registers on the GPU).
struct IntKeyState {
  uint32_t pair[kBlock][6];
  uint32_t akey[kHalvesClasses];     // per class: the best top's key (sum + rank bits)
  uint32_t aclear[kHalvesClasses];   // the same with the rank bits cleared (the sum only)
  uint32_t best = 0, chosen_key = 0, chosen_u = 0;   // chosen_u: the bottom's 8 bits | its class << 8
};
template <int S>
SPARSE24_TR_HD inline void int_key_step(IntKeyState& k) {
  constexpr HalvesStep x = kHalvesSchedule[S];
  if constexpr (x.top) {
    const uint32_t a = k.pair[0][x.qa] + k.pair[1][x.qb] + (kIntKeyRankMax - kHalvesRank[S]);
    if constexpr (x.first) {
      k.akey[x.cls] = a;
    } else {
      k.akey[x.cls] = k.akey[x.cls] > a ? k.akey[x.cls] : a;   // max: larger sum, then the lower rank
    }
    if constexpr (S + 1 < kHalvesSteps && !kHalvesSchedule[S + 1].top)   // the last top: clear the rank bits
      SPARSE24_TR_UNROLL for (int c = 0; c < kHalvesClasses; ++c) k.aclear[c] = k.akey[c] & ~kIntKeyRankMax;
  } else {
    const uint32_t score = k.aclear[x.cls] + k.pair[2][x.qa] + k.pair[3][x.qb];
    constexpr bool kFirstBottom = S > 0 && kHalvesSchedule[S > 0 ? S - 1 : 0].top;
    if (kFirstBottom || score > k.best)   // the first bottom takes; then strict: the lowest u keeps a tie
      k.best = score, k.chosen_key = k.akey[x.cls], k.chosen_u = x.bits | uint32_t(x.cls) << 8;
  }
}
template <int... S>
SPARSE24_TR_HD inline void int_key_fold(IntKeyState& k, std::integer_sequence<int, S...>) {
  (int_key_step<S>(k), ...);
}

// The integer scaling of s06 and s07 (the rule above): false where the keys are not exact, else m[] holds the
// block's 16 magnitudes as integers with kIntKeyRankBits zero low bits and no wrap in a sum of eight.
template <bool kBf16>
SPARSE24_TR_HD inline bool int_key_magnitudes(const float (&mag)[16], uint32_t (&m)[16]) {
  using R = IntKeyRule<kBf16>;
  constexpr uint32_t kF32InfBits = 0x7F800000u, kExpShift = 23;
  uint32_t max_bits = 0, min_nonzero_m1 = ~0u;   // bits - 1: a zero wraps to the largest, out of the minimum
  SPARSE24_TR_UNROLL for (int i = 0; i < 16; ++i) {
    const uint32_t b = bits_as<uint32_t>(mag[i]);
    max_bits = max_bits > b ? max_bits : b;
    min_nonzero_m1 = min_nonzero_m1 < b - 1u ? min_nonzero_m1 : b - 1u;
  }
  if (max_bits >= kF32InfBits) return false;   // inf or NaN (a NaN's bits are above inf's)
  const int emax = static_cast<int>(max_bits >> kExpShift);
  const int emin_field = static_cast<int>((min_nonzero_m1 + 1u) >> kExpShift);   // 0 when all are zero
  if (kBf16 && max_bits != 0 && emin_field == 0) return false;   // an f32 subnormal
  const int emin = emin_field > R::kMinGridField ? emin_field : R::kMinGridField;
  if (emax - emin > R::kMaxSpan) return false;
  // s = f + rank bits - (E_min - bias): fp16 -2..27 (one factor), bf16 -117..136 (two: 2^136 is not an f32).
  const int s = R::kFracBits + kIntKeyRankBits - (emin - R::kF32Bias);
  const int s1 = kBf16 ? (s >> 1) : s, s2 = s - s1;
  const float scale1 = bits_as<float>(static_cast<uint32_t>(R::kF32Bias + s1) << kExpShift);
  const float scale2 = bits_as<float>(static_cast<uint32_t>(R::kF32Bias + s2) << kExpShift);
  SPARSE24_TR_UNROLL for (int i = 0; i < 16; ++i) {
    const float scaled = kBf16 ? (mag[i] * scale1) * scale2 : mag[i] * scale1;   // exact: powers of two, in range
#ifdef __CUDA_ARCH__
    m[i] = __float2uint_rz(scaled);
#else
    m[i] = static_cast<uint32_t>(scaled);
#endif
  }
  return true;
}

// The choice for one block from its 16 magnitudes (row-major, exact f32 values of the 16-bit elements): false where
// the keys are not exact (see above; the caller runs the double path); else *top_slot indexes kTopOfClassRank (the
// top half's 8 mask bits) and *u_bits holds the bottom half's: mask = top | u << 8.
template <bool kBf16>
SPARSE24_TR_HD inline bool int_keys_choice(const float (&mag)[16], uint32_t* top_slot, uint32_t* u_bits) {
  uint32_t m[16];
  if (!int_key_magnitudes<kBf16>(mag, m)) return false;
  IntKeyState k;
  SPARSE24_TR_UNROLL for (int r = 0; r < kBlock; ++r)
    SPARSE24_TR_UNROLL for (int q = 0; q < 6; ++q)
      k.pair[r][q] = m[kBlock * r + pair_lo(q)] + m[kBlock * r + pair_hi(q)];
  int_key_fold(k, std::make_integer_sequence<int, kHalvesSteps>{});
  *top_slot = (k.chosen_u >> 8) << kIntKeyRankBits | (kIntKeyRankMax - (k.chosen_key & kIntKeyRankMax));
  *u_bits = k.chosen_u & 0xFFu;
  return true;
}

// Host form for the CPU tests: the mask int_keys_choice gives, or -1 where it leaves the block to the double path.
template <bool kBf16>
inline int int_keys_mask(const float (&mag)[16]) {
  uint32_t slot = 0, u = 0;
  if (!int_keys_choice<kBf16>(mag, &slot, &u)) return -1;
  return static_cast<int>(kTopOfClassRank[slot] | u << 8);
}

// ---- format.s07_slots: the tops' tie rank folded into the pair sums, the choice as one table slot --------------
// s06's keys with two changes, the same answer (tests/cpu/test_transposable.cpp compares it with exact_pattern):
//   the tops' rank: within a class every top has a different row-1 pair qb (a class of one top; of two, (x, y) and
//   (y, x); the class of six, complementary pairs: qb names qa), and ascending t is ascending qb bits there, so
//   kIntKeyRankMax - (qb's rank in ascending pair bits) is a rank that falls as t rises within every class. It
//   depends on qb only, so it is added once to row 1's six pair sums (free in the IADD3 that forms them) and
//   each top is one add-and-max (VIADDMNMX on sm_90) where s06 spent IADD3 + IMNMX;
//   the answer: the chosen bottom's ordinal among the 36 (ascending u) and the chosen class's key's rank bits,
//   slot = ordinal << kIntKeyRankBits | rank bits, one index into kPatternOfSlot (and the kernel's output table:
//   W's and Wᵀ's selectors and nibbles per slot), where s06 looked up the top's bits, then per row and per column
//   of the block a keep mask's selector.
// The span rule (IntKeyRule) and the cases left to the double path are s06's.
constexpr int pair_bits_rank(int q) {   // q's position among the pairs in ascending pair_bits (3 5 6 9 10 12)
  int rank = 0;
  for (int i = 0; i < 6; ++i) rank += pair_bits(i) < pair_bits(q);
  return rank;
}
inline constexpr int kBottoms = 36;   // u in ascending order: ordinal 6 * rank(qb) + rank(qa)
inline constexpr int kSlotCount = kBottoms << kIntKeyRankBits;
inline constexpr uint8_t kNoPattern = 0xFF;
// pair_bits_rank as arithmetic (device code cannot read kRowPairs at run time): pairs 2 (0,3) and 3 (1,2) swap.
SPARSE24_TR_HD constexpr int pair_rank(int q) { return q == 2 ? 3 : (q == 3 ? 2 : q); }
// A top's rank field (what its key carries in the rank bits), from its row-1 pair.
SPARSE24_TR_HD constexpr uint32_t top_rank_field(int qb) {
  return kIntKeyRankMax - static_cast<uint32_t>(pair_rank(qb));
}
constexpr bool pair_rank_matches() {
  for (int q = 0; q < 6; ++q)
    if (pair_rank(q) != pair_bits_rank(q)) return false;
  return true;
}
static_assert(pair_rank_matches(), "pair_rank must be the pair's rank in ascending bits");
// Within every class the tops' qb differ and ascend with t: the field orders a class's tops as the tie rule does.
constexpr bool top_rank_field_orders_classes() {
  for (int i = 0; i < 36; ++i)
    for (int j = i + 1; j < 36; ++j) {
      const HalvesStep& a = kHalvesSchedule[i];
      const HalvesStep& b = kHalvesSchedule[j];
      if (a.cls == b.cls && !(a.bits < b.bits && top_rank_field(a.qb) > top_rank_field(b.qb))) return false;
    }
  return true;
}
static_assert(top_rank_field_orders_classes(), "within a class, a lower t must carry a larger rank field");
SPARSE24_TR_HD constexpr int bottom_ordinal(int qa, int qb) { return 6 * pair_rank(qb) + pair_rank(qa); }
// The schedule's bottoms are in ascending u = ascending (qb bits, qa bits): their ordinals are 0..35 in order.
constexpr bool bottom_ordinals_ascend() {
  for (int i = 36; i < kHalvesSteps; ++i)
    if (bottom_ordinal(kHalvesSchedule[i].qa, kHalvesSchedule[i].qb) != i - 36) return false;
  return true;
}
static_assert(bottom_ordinals_ascend(), "the bottoms' ordinals must count the schedule's bottoms in order");
// slot -> pattern index (kNoPattern where no top of the bottom's class carries that rank field).
constexpr std::array<uint8_t, kSlotCount> make_pattern_of_slot() {
  std::array<uint8_t, kSlotCount> s{};
  for (auto& x : s) x = kNoPattern;
  for (int b = 36; b < kHalvesSteps; ++b)
    for (int t = 0; t < 36; ++t) {
      const HalvesStep& u = kHalvesSchedule[b];
      const HalvesStep& top = kHalvesSchedule[t];
      if (top.cls != u.cls) continue;
      const uint32_t mask = top.bits | uint32_t(u.bits) << 8;
      for (int p = 0; p < kPatternCount; ++p)
        if (kPatterns[p] == mask)
          s[static_cast<size_t>((b - 36) << kIntKeyRankBits | static_cast<int>(top_rank_field(top.qb)))] =
              static_cast<uint8_t>(p);
    }
  return s;
}
inline constexpr std::array<uint8_t, kSlotCount> kPatternOfSlot = make_pattern_of_slot();
constexpr bool slots_cover_patterns() {
  int seen[kPatternCount] = {};
  for (uint8_t p : kPatternOfSlot)
    if (p != kNoPattern) ++seen[p];
  for (int n : seen)
    if (n != 1) return false;
  return true;
}
static_assert(slots_cover_patterns(), "every pattern must have exactly one slot");

struct SlotKeyState {
  uint32_t pair[kBlock][6];        // row 1's sums carry top_rank_field(q)
  uint32_t akey[kHalvesClasses];   // per class: the best top's key (sum + rank field)
  uint32_t aclear[kHalvesClasses];
  uint32_t best = 0, chosen_key = 0, chosen_ordinal = 0;   // chosen_ordinal: the bottom's ordinal << rank bits
  uint32_t one = 1;   // 1, but a value the device compiler cannot fold: see int_keys_slot
};
template <int S>
SPARSE24_TR_HD inline void slot_key_step(SlotKeyState& k) {
  constexpr HalvesStep x = kHalvesSchedule[S];
  if constexpr (x.top) {
    const uint32_t a = k.pair[0][x.qa] + k.pair[1][x.qb];   // the rank field rides in pair[1]
    if constexpr (x.first) {
      k.akey[x.cls] = a;
    } else {
      k.akey[x.cls] = k.akey[x.cls] > a ? k.akey[x.cls] : a;   // max: larger sum, then the lower t
    }
    if constexpr (S + 1 < kHalvesSteps && !kHalvesSchedule[S + 1].top)   // the last top: clear the rank bits
      SPARSE24_TR_UNROLL for (int c = 0; c < kHalvesClasses; ++c) k.aclear[c] = k.akey[c] & ~kIntKeyRankMax;
  } else {
    // aclear + pair2 + pair3 as two multiply-adds by `one` (IMAD, the FMA pipe) rather than one IADD3 (the ALU
    // pipe, which bounds the kernel: int_keys_slot).
    const uint32_t score = (k.pair[2][x.qa] * k.one + k.pair[3][x.qb]) * k.one + k.aclear[x.cls];
    constexpr bool kFirstBottom = S > 0 && kHalvesSchedule[S > 0 ? S - 1 : 0].top;
    if (kFirstBottom || score > k.best)   // the first bottom takes; then strict: the lowest u keeps a tie
      k.best = score, k.chosen_key = k.akey[x.cls], k.chosen_ordinal = uint32_t(S - 36) << kIntKeyRankBits;
  }
}
template <int... S>
SPARSE24_TR_HD inline void slot_key_fold(SlotKeyState& k, std::integer_sequence<int, S...>) {
  (slot_key_step<S>(k), ...);
}

// s07's choice: false where the keys are not exact (as int_keys_choice), else *slot indexes kPatternOfSlot.
// `one` must be 1. NOTE: the kernel is bound by the ALU pipe (16 lanes per SM sub-partition on sm_90: a warp's
// integer add, compare, select or max takes 2 cycles there; NOTES.md, session 10: the measured s05 and s06 rates
// follow max(issued, 2 x ALU instructions) per tile within 4%), while the FMA pipe's IMAD has room. The device
// passes a 1 the compiler cannot fold (blockDim.x / kThreads), so the bottoms' 36 three-input sums become 72 IMADs
// on the FMA pipe instead of 36 IADD3s on the ALU pipe: 36 more instructions issued, 36 fewer ALU ones.
template <bool kBf16>
SPARSE24_TR_HD inline bool int_keys_slot(const float (&mag)[16], uint32_t* slot, uint32_t one = 1) {
  uint32_t m[16];
  if (!int_key_magnitudes<kBf16>(mag, m)) return false;
  SlotKeyState k;
  k.one = one;
  SPARSE24_TR_UNROLL for (int r = 0; r < kBlock; ++r)
    SPARSE24_TR_UNROLL for (int q = 0; q < 6; ++q)
      k.pair[r][q] = m[kBlock * r + pair_lo(q)] + m[kBlock * r + pair_hi(q)] + (r == 1 ? top_rank_field(q) : 0u);
  slot_key_fold(k, std::make_integer_sequence<int, kHalvesSteps>{});
  *slot = k.chosen_ordinal | (k.chosen_key & kIntKeyRankMax);
  return true;
}
// Host form for the CPU tests: the mask int_keys_slot gives (through kPatternOfSlot), or -1 where it leaves the
// block to the double path.
template <bool kBf16>
inline int int_keys_slot_mask(const float (&mag)[16]) {
  uint32_t slot = 0;
  if (!int_keys_slot<kBf16>(mag, &slot)) return -1;
  if (slot >= static_cast<uint32_t>(kSlotCount) || kPatternOfSlot[slot] == kNoPattern) return -2;
  return kPatterns[kPatternOfSlot[slot]];
}
// The slot of a mask (the double path's answer, for s07's output table): the bottom's ordinal and the top's rank
// field from the pair ranks of rows 1, 2 and 3. kPairOfBits: a row's 4-bit keep mask -> its pair index.
SPARSE24_TR_HD constexpr int pair_of_bits(uint32_t bits4) {
  return bits4 == 3 ? 0 : bits4 == 5 ? 1 : bits4 == 9 ? 2 : bits4 == 6 ? 3 : bits4 == 10 ? 4 : 5;
}
SPARSE24_TR_HD constexpr uint32_t slot_of_mask(uint32_t mask) {
  const int q1 = pair_of_bits((mask >> 4) & 0xFu), q2 = pair_of_bits((mask >> 8) & 0xFu);
  const int q3 = pair_of_bits((mask >> 12) & 0xFu);
  return static_cast<uint32_t>(bottom_ordinal(q2, q3)) << kIntKeyRankBits | top_rank_field(q1);
}
constexpr bool slot_of_mask_inverts() {
  for (int p = 0; p < kPatternCount; ++p)
    if (kPatternOfSlot[slot_of_mask(kPatterns[p])] != p) return false;
  return true;
}
static_assert(slot_of_mask_inverts(), "slot_of_mask must name each pattern's own slot");

// ---- format.s08_occupancy: s07's keys in fewer registers ----------------------------------------------------------
// The same slot as int_keys_slot, with fewer values live at once (s08 runs at 64 registers a thread, s07 at ~80 on
// its fast path; ptxas, sm_90a). Two changes:
//   1. no cleared copy of the class maxima: s07 keeps akey (with the rank field) and aclear (without) through the
//      bottoms, and the winner's key. Here a bottom's score is akey + pair2 + pair3 = S + r, S the sum (a multiple
//      of 2^kIntKeyRankBits: every scaled magnitude is, and row 1's rank fields ride in akey only) and r the class's
//      rank field (0..kIntKeyRankMax); it is compared with the best so far with that one's rank bits set:
//      S' + r' > (S + r) | kIntKeyRankMax = S + kIntKeyRankMax exactly when S' >= S + 2^kIntKeyRankBits - r', i.e.
//      (S' a multiple of 2^kIntKeyRankBits, 2^kIntKeyRankBits - r' in 1..2^kIntKeyRankBits) when S' > S: s07's
//      strict '>' on the sums. The winner's rank field is then the low bits of the best score itself. Per bottom
//      IMAD, IMAD, LOP3 (the OR), ISETP, SEL (best), SEL (ordinal), where s07 ran IMAD, IMAD, ISETP and three SELs
//      (best, key, ordinal); the 19 ANDs that filled aclear are gone. No wrap: S + kIntKeyRankMax fits 32 bits
//      as akey does (IntKeyRule).
//   2. the tops of a class folded just before the first bottom that needs it (kLeanOrder), where s07 folds all 36
//      tops first: the bottoms keep their order (ascending u, the tie rule) and a class its tops' order (ascending
//      t), so every akey and every comparison is s07's; but at most 7 class maxima are live at once (the classes
//      between their first and last bottom; static_assert below) instead of all 19 with the 24 pair sums.
inline constexpr int kBottomsBegin = 36;   // the schedule's bottoms are steps 36..71 (halves_schedule_sound)
constexpr std::array<uint8_t, kHalvesSteps> make_lean_order() {
  std::array<uint8_t, kHalvesSteps> order{};
  bool folded[kHalvesClasses] = {};
  int n = 0;
  for (int b = kBottomsBegin; b < kHalvesSteps; ++b) {
    const int cls = kHalvesSchedule[b].cls;
    if (!folded[cls])
      for (int t = 0; t < kBottomsBegin; ++t)
        if (kHalvesSchedule[t].cls == cls && n < kHalvesSteps) order[n++] = static_cast<uint8_t>(t);
    folded[cls] = true;
    if (n < kHalvesSteps) order[n++] = static_cast<uint8_t>(b);
  }
  return order;
}
inline constexpr std::array<uint8_t, kHalvesSteps> kLeanOrder = make_lean_order();
// A permutation of the 72 steps; the bottoms in ascending order; a class's tops in schedule order, all before the
// class's first bottom, the first of them flagged `first`.
constexpr bool lean_order_sound() {
  bool seen[kHalvesSteps] = {};
  int last_bottom = kBottomsBegin - 1, last_top[kHalvesClasses] = {};
  bool started[kHalvesClasses] = {};
  for (int& x : last_top) x = -1;
  for (int i = 0; i < kHalvesSteps; ++i) {
    const int s = kLeanOrder[i];
    if (seen[s]) return false;
    seen[s] = true;
    const HalvesStep& x = kHalvesSchedule[s];
    if (x.top) {
      if (s < last_top[x.cls] || x.first != !started[x.cls]) return false;
      last_top[x.cls] = s, started[x.cls] = true;
    } else {
      if (s != last_bottom + 1 || !started[x.cls]) return false;
      last_bottom = s;
    }
  }
  return last_bottom == kHalvesSteps - 1;
}
static_assert(lean_order_sound(), "kLeanOrder: every step once, bottoms ascending, each class's tops first");
// The class maxima live at once in kLeanOrder: a class is live from its first top to its last bottom.
constexpr int lean_order_live_classes() {
  int first[kHalvesClasses] = {}, last[kHalvesClasses] = {}, most = 0;
  for (int c = 0; c < kHalvesClasses; ++c) first[c] = kHalvesSteps, last[c] = -1;
  for (int i = 0; i < kHalvesSteps; ++i) {
    const int c = kHalvesSchedule[kLeanOrder[i]].cls;
    first[c] = first[c] < i ? first[c] : i, last[c] = i;
  }
  for (int i = 0; i < kHalvesSteps; ++i) {
    int live = 0;
    for (int c = 0; c < kHalvesClasses; ++c) live += first[c] <= i && i <= last[c];
    most = most > live ? most : live;
  }
  return most;
}
static_assert(lean_order_live_classes() == 7, "the NOTE above quotes 7 class maxima live at most");
struct LeanKeyState {
  uint32_t pair[kBlock][6];        // row 1's sums carry top_rank_field(q), as s07's
  uint32_t akey[kHalvesClasses];   // per class: the best top's key (sum + rank field)
  uint32_t best = 0, chosen_ordinal = 0;   // best: the winning score, its rank field in the low bits
  uint32_t one = 1;                        // as SlotKeyState::one
};
template <int I>
SPARSE24_TR_HD inline void lean_key_step(LeanKeyState& k) {
  constexpr int S = kLeanOrder[I];
  constexpr HalvesStep x = kHalvesSchedule[S];
  if constexpr (x.top) {
    const uint32_t a = k.pair[0][x.qa] + k.pair[1][x.qb];
    if constexpr (x.first) {
      k.akey[x.cls] = a;
    } else {
      k.akey[x.cls] = k.akey[x.cls] > a ? k.akey[x.cls] : a;
    }
  } else {
    const uint32_t score = (k.pair[2][x.qa] * k.one + k.pair[3][x.qb]) * k.one + k.akey[x.cls];
    if (S == kBottomsBegin || score > (k.best | kIntKeyRankMax))   // the first bottom takes; then strict on sums
      k.best = score, k.chosen_ordinal = uint32_t(S - kBottomsBegin) << kIntKeyRankBits;
  }
}
template <int... I>
SPARSE24_TR_HD inline void lean_key_fold(LeanKeyState& k, std::integer_sequence<int, I...>) {
  (lean_key_step<I>(k), ...);
}
// s08's choice: int_keys_slot's slot (the same blocks taken, the same answer), from LeanKeyState. `one` must be 1.
template <bool kBf16>
SPARSE24_TR_HD inline bool int_keys_lean_slot(const float (&mag)[16], uint32_t* slot, uint32_t one = 1) {
  uint32_t m[16];
  if (!int_key_magnitudes<kBf16>(mag, m)) return false;
  LeanKeyState k;
  k.one = one;
  SPARSE24_TR_UNROLL for (int r = 0; r < kBlock; ++r)
    SPARSE24_TR_UNROLL for (int q = 0; q < 6; ++q)
      k.pair[r][q] = m[kBlock * r + pair_lo(q)] + m[kBlock * r + pair_hi(q)] + (r == 1 ? top_rank_field(q) : 0u);
  lean_key_fold(k, std::make_integer_sequence<int, kHalvesSteps>{});
  *slot = k.chosen_ordinal | (k.best & kIntKeyRankMax);
  return true;
}
// Host form for the CPU tests: the mask int_keys_lean_slot gives, -1 where it leaves the block to the fallback.
template <bool kBf16>
inline int int_keys_lean_slot_mask(const float (&mag)[16]) {
  uint32_t slot = 0;
  if (!int_keys_lean_slot<kBf16>(mag, &slot)) return -1;
  if (slot >= static_cast<uint32_t>(kSlotCount) || kPatternOfSlot[slot] == kNoPattern) return -2;
  return kPatterns[kPatternOfSlot[slot]];
}

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
// Scoring::full scores all 90 patterns (format.s03_transposable); Scoring::halves scores the two halves where
// halves_applies() and falls back to the full scan elsewhere (format.s04_halves): the same outputs bit for bit.
// Grid::tile_per_block launches a block per 64 x 64 tile (s03, s04); Grid::persistent launches as many blocks as
// are resident (max_blocks > 0: at most that many, which the tests use to make every block take several tiles),
// each loading its next tile while it works on the current one (format.s05_pipelined): the same outputs again.
// Scoring::int_keys scores the halves on 32-bit integer keys where they are exact (int_keys_choice above), the
// halves in double elsewhere, and those fall back to the full scan as in s04 (format.s06_intkeys on the persistent
// grid): the same outputs bit for bit.
// Scoring::slots is int_keys with s07's keys (int_keys_slot: the tops' rank in the pair sums) and its outputs from
// one table entry per slot (format.s07_slots): the same outputs bit for bit.
// Scoring::lean_slots is slots in fewer registers, at four blocks per SM (format.s08_occupancy: int_keys_lean_slot
// above; the blocks its keys leave are scored by the whole warp, the 90 patterns in double, three per lane); on
// either grid (Grid::tile_per_block: the same kernel with one tile per block): the same outputs bit for bit.
enum class Scoring { full, halves, int_keys, slots, lean_slots };
enum class Grid { tile_per_block, persistent };
void prune_compress_both(DType t, MetaLayout l, const void* dense, int64_t M, int64_t K, void* values,
                         uint8_t* meta, void* values_t, uint8_t* meta_t, unsigned long long* nan_blocks,
                         void* stream = nullptr, Scoring scoring = Scoring::full, Grid grid = Grid::tile_per_block,
                         int max_blocks = 0);
}  // namespace gpu

}  // namespace sparse24::format::transposable
