// Transposable 2:4 masks on the CPU (transposable.h): the exact per-block optimum over the 90 patterns, the greedy
// variant and the 1-D bound. Written for reading: one block at a time.
#include "kernels/format/transposable.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <thread>
#include <vector>

#include "kernels/format/rules.h"

namespace sparse24::format::transposable {

using rules::cat;
using rules::fail;

namespace {

// Rows (or block rows) a thread takes at least: below this a thread costs more than it saves.
constexpr int64_t kMinRowsPerThread = 64;

// Runs body(begin, end) over [0, n) split into one contiguous range per hardware thread (none shorter than
// min_per_thread, so one range when n is small), and rethrows the exception of the lowest range that threw: a range stops at its first error, so the
// lowest failing range holds the first error in row order, the one a single-threaded loop would have reported.
template <class Body>
void parallel_ranges(int64_t n, int64_t min_per_thread, Body body) {
  const int64_t hw = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t parts = std::clamp<int64_t>(n / min_per_thread, 1, hw);
  if (parts == 1) return body(int64_t{0}, n);
  std::vector<std::exception_ptr> errors(static_cast<size_t>(parts));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(parts));
  for (int64_t i = 0; i < parts; ++i)
    threads.emplace_back([&, i] {
      try {
        body(n * i / parts, n * (i + 1) / parts);
      } catch (...) {
        errors[static_cast<size_t>(i)] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace

double kept_sum(const double (&mag)[16], uint16_t mask) {
  // Per row, the kept elements in column order, summed as (row 0 + row 1) + (row 2 + row 3): the order the GPU
  // kernel uses (transposable.h). A row of a valid pattern keeps two; other masks (the 1-D bound's, the brute
  // force's candidates) are summed the same way over whatever each row keeps.
  double row[4] = {0.0, 0.0, 0.0, 0.0};
  for (int r = 0; r < 4; ++r) {
    bool first = true;
    for (int c = 0; c < 4; ++c)
      if ((mask >> (4 * r + c)) & 1u) row[r] = first ? mag[4 * r + c] : row[r] + mag[4 * r + c], first = false;
  }
  return (row[0] + row[1]) + (row[2] + row[3]);
}

int exact_pattern(const double (&mag)[16]) {
  // kept_sum of a valid pattern, computed from the 24 row-pair sums: a row's two kept elements (a < b) are summed as
  // mag[a] + mag[b] in kept_sum too, and the rows as (row 0 + row 1) + (row 2 + row 3), so every score is the same
  // double as kept_sum's (the brute-force test compares against kept_sum itself). 3 additions per pattern instead
  // of kept_sum's 16-bit scan: the runner's reference at 28672 x 8192 (14.7M blocks) takes seconds, not minutes.
  double pair[kBlock][6];
  for (int r = 0; r < kBlock; ++r)
    for (int q = 0; q < 6; ++q) pair[r][q] = mag[kBlock * r + kRowPairs[q][0]] + mag[kBlock * r + kRowPairs[q][1]];
  auto score = [&](int p) {
    const uint32_t rp = kPatternRowPairs[p];
    return (pair[0][rp & 7] + pair[1][(rp >> 3) & 7]) + (pair[2][(rp >> 6) & 7] + pair[3][(rp >> 9) & 7]);
  };
  int best = 0;
  double best_sum = score(0);
  for (int p = 1; p < kPatternCount; ++p) {
    const double s = score(p);
    if (s > best_sum) best = p, best_sum = s;   // strict: the lowest index keeps a tie
  }
  return best;
}

bool halves_applies(DType t, const uint16_t (&bits)[16]) {
  // fp16: multiples of 2^-24 below 2^16, so every sum of eight is exact in double; only inf (and NaN) break it.
  // bf16 (8-bit significands): a value of exponent field e >= 1 is a multiple of 2^(e - 134) below 2^(e - 126), a
  // subnormal a multiple of 2^-133 (field 1's grid); eight of them sum below 2^(emax - 123), exact in 53 bits when
  // (emax - 123) - (emin - 134) <= 53: emax - emin <= 42 = kHalvesMaxExponentSpan.
  constexpr uint32_t kFp16ExpShift = 10, kFp16ExpAllOnes = 0x1F, kBf16ExpShift = 7, kBf16ExpAllOnes = 0xFF;
  if (t != DType::fp16 && t != DType::bf16) return false;
  int emax = -1, emin = 1 << 30;
  for (uint16_t b : bits) {
    const uint32_t abs = b & 0x7FFFu;
    if (t == DType::fp16) {
      if ((abs >> kFp16ExpShift) == kFp16ExpAllOnes) return false;
      continue;
    }
    const uint32_t e = abs >> kBf16ExpShift;
    if (e == kBf16ExpAllOnes) return false;
    if (abs == 0) continue;
    const int field = std::max(static_cast<int>(e), 1);
    emax = std::max(emax, field), emin = std::min(emin, field);
  }
  return emax < 0 || emax - emin <= kHalvesMaxExponentSpan;
}

uint16_t halves_mask(const double (&mag)[16]) {
  double pair[kBlock][6];
  for (int r = 0; r < kBlock; ++r)
    for (int q = 0; q < 6; ++q) pair[r][q] = mag[kBlock * r + kRowPairs[q][0]] + mag[kBlock * r + kRowPairs[q][1]];
  double a_best[kHalvesClasses] = {}, best = -1.0;   // every score is >= 0: the first bottom always takes over
  uint32_t t_best[kHalvesClasses] = {}, u_chosen = 0, t_chosen = 0;
  for (const HalvesStep& x : kHalvesSchedule) {
    if (x.top) {
      const double a = pair[0][x.qa] + pair[1][x.qb];
      if (x.first || a > a_best[x.cls]) a_best[x.cls] = a, t_best[x.cls] = x.bits;
    } else {
      const double score = a_best[x.cls] + (pair[2][x.qa] + pair[3][x.qb]);
      if (score > best) best = score, u_chosen = x.bits, t_chosen = t_best[x.cls];
    }
  }
  return static_cast<uint16_t>(t_chosen | u_chosen << 8);
}

int greedy_pattern(const double (&mag)[16]) {
  int order[16];
  for (int i = 0; i < 16; ++i) order[i] = i;
  std::stable_sort(order, order + 16, [&](int a, int b) { return mag[a] > mag[b]; });   // ties: lower index first
  int rows[4] = {}, cols[4] = {};
  uint16_t picked = 0;
  for (int i : order) {
    const int r = i / 4, c = i % 4;
    if (rows[r] < 2 && cols[c] < 2) {
      ++rows[r], ++cols[c];
      picked = static_cast<uint16_t>(picked | (1u << i));
    }
  }
  // Completion: the pattern with the most greedy picks, then the larger sum, then the lower index.
  int best = 0, best_common = -1;
  double best_sum = 0.0;
  for (int p = 0; p < kPatternCount; ++p) {
    const int common = __builtin_popcount(static_cast<unsigned>(kPatterns[p] & picked));
    const double s = kept_sum(mag, kPatterns[p]);
    if (common > best_common || (common == best_common && s > best_sum)) best = p, best_common = common, best_sum = s;
  }
  return best;
}

uint16_t one_d_mask(const double (&mag)[16]) {
  uint16_t mask = 0;
  for (int r = 0; r < 4; ++r) {
    // format.h's rule on magnitudes: the two largest, the lower index on ties.
    int a = 0;
    for (int c = 1; c < 4; ++c)
      if (mag[4 * r + c] > mag[4 * r + a]) a = c;
    int b = a == 0 ? 1 : 0;
    for (int c = b + 1; c < 4; ++c)
      if (c != a && mag[4 * r + c] > mag[4 * r + b]) b = c;
    mask = static_cast<uint16_t>(mask | (1u << (4 * r + a)) | (1u << (4 * r + b)));
  }
  return mask;
}

double magnitude(DType t, uint16_t bits) {
  const uint32_t abs = bits & 0x7FFFu;
  if (t == DType::bf16) {
    const uint32_t f = abs << 16;
    float x;
    std::memcpy(&x, &f, sizeof x);
    return x;
  }
  if (t == DType::fp16) {
    // Exact, by fields (every fp16 value is an f32 value), as the GPU kernel's magnitude16 does; no ldexp, which
    // took most of block_masks' time at 28672 x 8192.
    const uint32_t e = abs >> 10, m = abs & 0x3FFu;
    if (e == 31) return m ? std::nan("") : INFINITY;
    if (e == 0) return static_cast<double>(m) * 0x1p-24;                 // subnormal: m * 2^-24
    const uint32_t f = ((e + 112u) << 23) | (m << 13);                      // rebias 15 -> 127
    float x;
    std::memcpy(&x, &f, sizeof x);
    return x;
  }
  fail("transposable::magnitude", cat("dtype ", name(t), ": transposable masks are implemented for fp16 and bf16"));
}

void block_masks(Method method, DType t, const uint16_t* dense, int64_t M, int64_t K, uint16_t* out) {
  const char* fn = "transposable::block_masks";
  if (t != DType::fp16 && t != DType::bf16)
    fail(fn, cat("dtype ", name(t), ": transposable masks are implemented for fp16 and bf16"));
  if (M < 4 || M % 4 != 0) fail(fn, cat("M = ", M, " is not a positive multiple of 4 (4 x 4 blocks)"));
  if (K < 4 || K % 4 != 0) fail(fn, cat("K = ", K, " is not a positive multiple of 4 (4 x 4 blocks)"));
  rules::check_ptr(fn, dense, "dense");
  rules::check_ptr(fn, out, "out");
  parallel_ranges(M / 4, kMinRowsPerThread, [&](int64_t bi_begin, int64_t bi_end) {
    for (int64_t bi = bi_begin; bi < bi_end; ++bi)
      for (int64_t bj = 0; bj < K / 4; ++bj) {
        double mag[16];
        for (int r = 0; r < 4; ++r)
          for (int c = 0; c < 4; ++c) {
            mag[4 * r + c] = magnitude(t, dense[(4 * bi + r) * K + 4 * bj + c]);
            if (std::isnan(mag[4 * r + c]))
              fail(fn, cat("block (", bi, ", ", bj, ") (rows ", 4 * bi, "..", 4 * bi + 3, ", columns ", 4 * bj, "..",
                           4 * bj + 3, ") holds a NaN at row ", 4 * bi + r, ", column ", 4 * bj + c,
                           ": a transposable mask keeps the most magnitude, which a NaN leaves undefined"));
          }
        uint16_t m = 0;
        switch (method) {
          case Method::exact: m = kPatterns[exact_pattern(mag)]; break;
          case Method::greedy: m = kPatterns[greedy_pattern(mag)]; break;
          case Method::one_d: m = one_d_mask(mag); break;
        }
        out[bi * (K / 4) + bj] = m;
      }
  });
}

void apply_masks(const uint16_t* dense, const uint16_t* masks, int64_t M, int64_t K, uint16_t* pruned) {
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < K; ++c) {
      const uint16_t m = masks[(r / 4) * (K / 4) + c / 4];
      const bool keep = (m >> (4 * (r % 4) + c % 4)) & 1u;
      pruned[r * K + c] = keep ? dense[r * K + c] : uint16_t{0};
    }
}

void prune_compress_both(DType t, MetaLayout l, const uint16_t* dense, int64_t M, int64_t K, uint16_t* values,
                         uint8_t* meta, uint16_t* values_t, uint8_t* meta_t) {
  const char* fn = "transposable::prune_compress_both";
  rules::check_layout_shape(fn, l, M, K, 16, 4);
  rules::check_layout_shape(fn, l, K, M, 16, 4);   // Wᵀ is K x M
  rules::check_ptr(fn, values, "values");
  rules::check_ptr(fn, meta, "meta");
  rules::check_ptr(fn, values_t, "values_t");
  rules::check_ptr(fn, meta_t, "meta_t");
  std::vector<uint16_t> masks(static_cast<size_t>(M / 4 * (K / 4)));
  block_masks(Method::exact, t, dense, M, K, masks.data());
  // The canonical forms from the masks: a group's nibble is the ordered pair of its kept positions (a valid pattern
  // keeps exactly two per row and per column), its values the two kept elements in that order.
  std::vector<uint8_t> canonical(static_cast<size_t>(M * K / 8), 0), canonical_t(canonical.size(), 0);
  // W: row r, group g is block (r / 4, g), row r % 4 of the mask; rows write disjoint values and metadata bytes.
  parallel_ranges(M, kMinRowsPerThread, [&](int64_t r_begin, int64_t r_end) {
    for (int64_t r = r_begin; r < r_end; ++r)
      for (int64_t g = 0; g < K / 4; ++g) {
        const uint32_t nibble = rules::nibble_of_keep_mask(row_bits(masks[(r / 4) * (K / 4) + g], int(r % 4)));
        values[r * (K / 2) + 2 * g] = dense[r * K + 4 * g + rules::nibble_idx0(nibble)];
        values[r * (K / 2) + 2 * g + 1] = dense[r * K + 4 * g + rules::nibble_idx1(nibble)];
        canonical[static_cast<size_t>(r * (K / 8) + g / 2)] |= static_cast<uint8_t>(nibble << (4 * (g % 2)));
      }
  });
  // Wᵀ (K x M): row c is W's column c, its group g is W's rows 4g..4g+3 = block (g, c / 4), column c % 4 of the
  // mask. A thread takes tiles of kTileCols Wᵀ rows and walks W's rows down them, so it reads W in row pieces of
  // kTileCols elements rather than one element per row (a column walk would miss the cache on every read).
  constexpr int64_t kTileCols = 64;
  const int64_t tiles = (K + kTileCols - 1) / kTileCols;
  parallel_ranges(tiles, 1, [&](int64_t tile_begin, int64_t tile_end) {
    for (int64_t tile = tile_begin; tile < tile_end; ++tile)
      for (int64_t g = 0; g < M / 4; ++g)
        for (int64_t c = tile * kTileCols; c < std::min(K, (tile + 1) * kTileCols); ++c) {
          const uint32_t nibble = rules::nibble_of_keep_mask(col_bits(masks[g * (K / 4) + c / 4], int(c % 4)));
          values_t[c * (M / 2) + 2 * g] = dense[(4 * g + rules::nibble_idx0(nibble)) * K + c];
          values_t[c * (M / 2) + 2 * g + 1] = dense[(4 * g + rules::nibble_idx1(nibble)) * K + c];
          canonical_t[static_cast<size_t>(c * (M / 8) + g / 2)] |= static_cast<uint8_t>(nibble << (4 * (g % 2)));
        }
  });
  reorder_meta(l, t, canonical.data(), M, K, meta);
  reorder_meta(l, t, canonical_t.data(), K, M, meta_t);
}

}  // namespace sparse24::format::transposable
