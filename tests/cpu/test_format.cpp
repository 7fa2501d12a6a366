// CPU tests of the sparse formats (kernels/format/format.h): golden values worked by hand, random round trips, the
// LaneBlocks16 layout against the m16n8k32 fragment description, the byte accounting, and every bad input; then the
// same for int8, e4m3, e5m2 (2:4 over 8-bit storage) and tf32 (1:2 pairs over 32-bit storage), the layout
// descriptions, and the type table and operand combinations (kernels/common/dtype.h, operands.h).
//
// Element values are written as raw fp16 bits (the rule is the same for bf16: only the sign bit matters):
//   1.0 = 0x3C00, 2.0 = 0x4000, 3.0 = 0x4200, 4.0 = 0x4400, 8.0 = 0x4800, 0.5 = 0x3800, 0.25 = 0x3400,
//   65504 (largest finite) = 0x7BFF, inf = 0x7C00, NaN = 0x7E00, smallest subnormal = 0x0001, -x = x | 0x8000.
#include "tests/catch.h"
#include "tests/format_inputs.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/common/dtype.h"
#include "kernels/common/operands.h"
#include "kernels/format/format.h"
#include "kernels/format/rules.h"

namespace {

namespace f = sparse24::format;
using namespace test;  // tests/format_inputs.h
using sparse24::DType;
using f::MetaLayout;

// ---- Whole-matrix helpers ---------------------------------------------------------------------------------------

std::vector<uint16_t> prune_all(DType t, const std::vector<uint16_t>& dense, int64_t M, int64_t K) {
  std::vector<uint16_t> out(static_cast<size_t>(M * K), 0xDEAD);
  f::prune(t, dense.data(), M, K, out.data());
  return out;
}

struct Compressed {
  std::vector<uint16_t> values;
  std::vector<uint8_t> meta;
};

Compressed compress_all(DType t, const std::vector<uint16_t>& pruned, int64_t M, int64_t K) {
  Compressed c{std::vector<uint16_t>(static_cast<size_t>(M * K / 2), 0xDEAD),
               std::vector<uint8_t>(static_cast<size_t>(M * K / 8), 0xFF)};
  f::compress(t, pruned.data(), M, K, c.values.data(), c.meta.data());
  return c;
}

std::vector<uint16_t> decompress_all(DType t, const Compressed& c, int64_t M, int64_t K) {
  std::vector<uint16_t> out(static_cast<size_t>(M * K), 0xDEAD);
  f::decompress(t, c.values.data(), c.meta.data(), M, K, out.data());
  return out;
}

bool is_zero(uint16_t x) { return (x & 0x7FFF) == 0; }

// A 2:4 matrix not made by prune: up to two nonzeros per chunk anywhere, +0.0 elsewhere.
std::vector<uint16_t> random_sparse(int64_t M, int64_t K, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint16_t> x(static_cast<size_t>(M * K), kZ);
  for (size_t i = 0; i < x.size(); i += 4)
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) x[i + rng() % 4] = static_cast<uint16_t>(rng() | 1);
  return x;
}


std::vector<uint8_t> random_valid_meta(int64_t M, int64_t K, uint32_t seed) {
  static constexpr uint8_t kValid[] = {0x4, 0x8, 0xC, 0x9, 0xD, 0xE};
  std::mt19937 rng(seed);
  std::vector<uint8_t> m(static_cast<size_t>(M * K / 8));
  for (auto& b : m) b = static_cast<uint8_t>(kValid[rng() % 6] | (kValid[rng() % 6] << 4));
  return m;
}

// Independent statement of the selection rule: sort the four indices by (magnitude key descending, index
// ascending), keep the first two, write them in increasing order.
uint32_t oracle_nibble(const uint16_t* x) {
  int idx[4] = {0, 1, 2, 3};
  std::stable_sort(idx, idx + 4, [&](int a, int b) { return (x[a] & 0x7FFF) > (x[b] & 0x7FFF); });
  return static_cast<uint32_t>(std::min(idx[0], idx[1]) | (std::max(idx[0], idx[1]) << 2));
}

// Real values, to check that the bit-key order is the magnitude order.
double fp16_value(uint16_t h) {
  const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
  const double mag = e == 0 ? std::ldexp(m, -24) : (e == 31 ? std::numeric_limits<double>::infinity()
                                                            : std::ldexp(1024 + m, e - 25));
  return (h & 0x8000) ? -mag : mag;
}
double bf16_value(uint16_t b) {
  const int e = (b >> 7) & 0xFF, m = b & 0x7F;
  const double mag = e == 0 ? std::ldexp(m, -133) : (e == 255 ? std::numeric_limits<double>::infinity()
                                                              : std::ldexp(128 + m, e - 134));
  return (b & 0x8000) ? -mag : mag;
}
bool is_nan(DType t, uint16_t x) {
  return t == DType::fp16 ? ((x & 0x7C00) == 0x7C00 && (x & 0x3FF) != 0) : ((x & 0x7F80) == 0x7F80 && (x & 0x7F) != 0);
}

}  // namespace

// =====================================================================================================================
// Golden values worked by hand
// =====================================================================================================================

TEST_CASE("format: the example of format.h's header comment", "[format]") {
  // | a b c d | e f g h |  with a = 3, b = 1, c = -2, d = 0.5, e = 0.25, f = 4, g = -0.5, h = -8.
  // Chunk 0 keeps a, c (|3|, |-2|): (0,2) = 0x8. Chunk 1 keeps f, h (|4|, |-8|): (1,3) = 0xD. Meta byte 0xD8.
  const uint16_t a = kThree, b = kOne, c = neg(kTwo), d = kHalf, e = kQuarter, f_ = kFour, g = neg(kHalf),
                 h = neg(kEight);
  for (DType t : kBothTypes) {
    const std::vector<uint16_t> dense = {a, b, c, d, e, f_, g, h};
    const auto pruned = prune_all(t, dense, 1, 8);
    CHECK(pruned == std::vector<uint16_t>{a, kZ, c, kZ, kZ, f_, kZ, h});
    const auto comp = compress_all(t, pruned, 1, 8);
    CHECK(comp.values == std::vector<uint16_t>{a, c, f_, h});
    CHECK(comp.meta == std::vector<uint8_t>{0xD8});
    CHECK(decompress_all(t, comp, 1, 8) == pruned);
    CHECK(f::validate_dense(t, pruned.data(), 1, 8).ok);
    CHECK(f::validate_meta(comp.meta.data(), 1, 8).ok);
  }
}

TEST_CASE("format: one chunk at a time, nibbles worked by hand", "[format]") {
  struct Case {
    const char* what;
    uint16_t x[4];
    uint32_t nibble;
  };
  const Case cases[] = {
      // Degenerate chunks: missing elements come from the lowest-indexed zeros.
      {"all zero", {kZ, kZ, kZ, kZ}, 0x4},
      {"single nonzero at 0", {kOne, kZ, kZ, kZ}, 0x4},
      {"single nonzero at 1", {kZ, kOne, kZ, kZ}, 0x4},
      {"single nonzero at 2", {kZ, kZ, kOne, kZ}, 0x8},
      {"single nonzero at 3", {kZ, kZ, kZ, kOne}, 0xC},
      // Exactly two nonzeros: all six codes.
      {"two at (0,1)", {kOne, kTwo, kZ, kZ}, 0x4},
      {"two at (0,2)", {kOne, kZ, kTwo, kZ}, 0x8},
      {"two at (0,3)", {kOne, kZ, kZ, kTwo}, 0xC},
      {"two at (1,2)", {kZ, kOne, kTwo, kZ}, 0x9},
      {"two at (1,3)", {kZ, kOne, kZ, kTwo}, 0xD},
      {"two at (2,3)", {kZ, kZ, kOne, kTwo}, 0xE},
      // Four nonzeros: the two largest magnitudes, all six codes again.
      {"drop 2,3", {kFour, neg(kEight), kTwo, kThree}, 0x4},
      {"drop 1,3", {kThree, kOne, kFour, kTwo}, 0x8},
      {"drop 1,2", {kFour, kOne, kTwo, kThree}, 0xC},
      {"drop 0,3", {kOne, kFour, kThree, kTwo}, 0x9},
      {"drop 0,2", {kOne, kFour, kTwo, kThree}, 0xD},
      {"drop 0,1", {kOne, kTwo, kThree, kFour}, 0xE},
      // -0.0 is zero: it loses to the smallest subnormal, and ties with +0.0 by index.
      {"-0.0 and one", {kNZ, kOne, kZ, kNZ}, 0x4},
      {"all -0.0", {kNZ, kNZ, kNZ, kNZ}, 0x4},
      {"-0.0 before a nonzero at 3", {kZ, kNZ, kZ, kTwo}, 0xC},
      {"subnormals beat -0.0", {kNZ, kSub, kZ, neg(kSub)}, 0xD},
      // Ties: the lower index wins, whatever the signs.
      {"three-way tie", {kTwo, neg(kTwo), kTwo, kOne}, 0x4},
      {"tie for the last place", {kOne, kThree, neg(kThree), kThree}, 0x9},
      {"two ties", {kHalf, kOne, kHalf, neg(kOne)}, 0xD},
      {"all equal", {kOne, kOne, kOne, kOne}, 0x4},
      // NaN counts as larger than every number, inf included.
      {"NaN beats inf and max", {kInf, kNaN, kMax, kOne}, 0x4},
      {"negative NaN kept", {kOne, kTwo, kThree, neg(kNaN)}, 0xE},
      {"NaN with -inf", {kZ, neg(kInf), kZ, kNaN}, 0xD},
      {"two NaNs beat the largest finite", {kMax, 0x7C01, kMax, kNaN}, 0xD},
  };
  for (DType t : kBothTypes)
    for (const Case& cs : cases)
      for (int64_t at = 0; at < 2; ++at) {   // the chunk in the low (chunk 0) and the high (chunk 1) nibble
        INFO(cs.what << ", dtype " << sparse24::name(t) << ", chunk " << at);
        std::vector<uint16_t> dense(8, kZ);
        std::copy(cs.x, cs.x + 4, dense.begin() + 4 * at);
        const int i0 = static_cast<int>(cs.nibble & 3), i1 = static_cast<int>(cs.nibble >> 2);
        std::vector<uint16_t> want_pruned(8, kZ);
        want_pruned[static_cast<size_t>(4 * at + i0)] = cs.x[i0];
        want_pruned[static_cast<size_t>(4 * at + i1)] = cs.x[i1];
        // The other chunk is all zero: code 0x4, values (0, 0).
        std::vector<uint16_t> want_values(4, kZ);
        want_values[static_cast<size_t>(2 * at)] = cs.x[i0];
        want_values[static_cast<size_t>(2 * at + 1)] = cs.x[i1];
        const uint8_t want_meta = static_cast<uint8_t>(at == 0 ? (cs.nibble | 0x40) : (0x4 | (cs.nibble << 4)));

        const auto pruned = prune_all(t, dense, 1, 8);
        CHECK(pruned == want_pruned);
        CHECK(oracle_nibble(cs.x) == cs.nibble);   // the hand-worked nibble agrees with the sorted statement
        const auto comp = compress_all(t, pruned, 1, 8);
        CHECK(comp.values == want_values);
        CHECK(comp.meta == std::vector<uint8_t>{want_meta});
        CHECK(decompress_all(t, comp, 1, 8) == pruned);
      }
}

TEST_CASE("format: a kept -0.0 keeps its bits, a dropped one becomes +0.0", "[format]") {
  const std::vector<uint16_t> dense = {kNZ, kOne, kZ, kNZ, kNZ, kNZ, kNZ, kNZ};
  const auto pruned = prune_all(DType::fp16, dense, 1, 8);
  CHECK(pruned == std::vector<uint16_t>{kNZ, kOne, kZ, kZ, kNZ, kNZ, kZ, kZ});
  const auto comp = compress_all(DType::fp16, pruned, 1, 8);
  CHECK(comp.values == std::vector<uint16_t>{kNZ, kOne, kNZ, kNZ});
  CHECK(comp.meta == std::vector<uint8_t>{0x44});
}

TEST_CASE("format: several rows, nibbles packed LSB-first along K", "[format]") {
  // Row 0 chunks: (0,1) (0,2) (0,3) (1,2) -> nibbles 4 8 C 9 -> bytes 0x84 0x9C.
  // Row 1 chunks: (1,3) (2,3) (0,1) (0,3) -> nibbles D E 4 C -> bytes 0xED 0xC4.
  const int64_t M = 2, K = 16;
  const uint16_t v1 = 0x3C01, v2 = 0x3C02, v3 = 0x3C03, v4 = 0x3C04, v5 = 0x3C05, v6 = 0x3C06, v7 = 0x3C07,
                 v8 = 0x3C08, w1 = 0xBC01, w2 = 0xBC02, w3 = 0xBC03, w4 = 0xBC04, w5 = 0xBC05, w6 = 0xBC06;
  const std::vector<uint16_t> dense = {
      v1, v2, kZ, kZ, /**/ v3, kZ, v4, kZ, /**/ v5, kZ, kZ, v6, /**/ kZ, v7, v8, kZ,   // row 0
      kZ, w1, kZ, w2, /**/ kZ, kZ, w3, w4, /**/ w5, kZ, kZ, kZ, /**/ kZ, kZ, kZ, w6,   // row 1
  };
  for (DType t : kBothTypes) {
    const auto comp = compress_all(t, dense, M, K);
    CHECK(comp.meta == std::vector<uint8_t>{0x84, 0x9C, 0xED, 0xC4});
    CHECK(comp.values == std::vector<uint16_t>{v1, v2, v3, v4, v5, v6, v7, v8, w1, w2, w3, w4, w5, kZ, kZ, w6});
    CHECK(decompress_all(t, comp, M, K) == dense);
    CHECK(prune_all(t, dense, M, K) == dense);   // already 2:4: prune changes nothing
  }
}

TEST_CASE("format: bf16 row worked by hand", "[format]") {
  // bf16: 1.0 = 0x3F80, 2.0 = 0x4000, 3.0 = 0x4040, -4.0 = 0xC080, NaN = 0x7FC0.
  // Chunk 0 keeps -4 and 3: (1,3) = 0xD. Chunk 1 is NaN plus -0.0s: NaN at 2 and the lowest zero, (0,2) = 0x8.
  const std::vector<uint16_t> dense = {0x3F80, 0xC080, 0x4000, 0x4040, kZ, kNZ, 0x7FC0, kZ};
  const auto pruned = prune_all(DType::bf16, dense, 1, 8);
  CHECK(pruned == std::vector<uint16_t>{kZ, 0xC080, kZ, 0x4040, kZ, kZ, 0x7FC0, kZ});
  const auto comp = compress_all(DType::bf16, pruned, 1, 8);
  CHECK(comp.values == std::vector<uint16_t>{0xC080, 0x4040, kZ, 0x7FC0});
  CHECK(comp.meta == std::vector<uint8_t>{0x8D});
}

TEST_CASE("format: decompress worked by hand", "[format]") {
  const std::vector<uint16_t> values = {0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666, 0x7777, 0x8888};
  const std::vector<uint8_t> meta = {0xE9, 0xC4};   // chunks: (1,2) (2,3) (0,1) (0,3)
  std::vector<uint16_t> dense(16, 0xDEAD);
  f::decompress(DType::fp16, values.data(), meta.data(), 1, 16, dense.data());
  CHECK(dense == std::vector<uint16_t>{kZ, 0x1111, 0x2222, kZ, kZ, kZ, 0x3333, 0x4444, 0x5555, 0x6666, kZ, kZ,
                                       0x7777, kZ, kZ, 0x8888});
}

TEST_CASE("format: validate reports nothing on good input", "[format]") {
  const std::vector<uint16_t> dense = {kOne, kNZ, kTwo, kNZ, kNZ, kNZ, kNZ, kNZ};   // -0.0 is zero
  const f::Violation v = f::validate_dense(DType::fp16, dense.data(), 1, 8);
  CHECK(v.ok);
  CHECK(v.row == -1);
  CHECK(v.chunk == -1);
  CHECK(v.message.empty());
  const std::vector<uint8_t> meta = {0x4C, 0xE9};
  const f::Violation w = f::validate_meta(meta.data(), 1, 16);
  CHECK(w.ok);
  CHECK(w.message.empty());
}

// =====================================================================================================================
// Properties on random inputs
// =====================================================================================================================

TEST_CASE("format: random round trips", "[format]") {
  const std::pair<int64_t, int64_t> shapes[] = {{1, 8}, {3, 64}, {7, 40}, {64, 128}, {33, 264}};
  for (DType t : kBothTypes)
    for (const auto& [M, K] : shapes)
      for (uint32_t seed : {1u, 2u, 3u, 4u}) {
        INFO("dtype " << sparse24::name(t) << ", " << M << " x " << K << ", seed " << seed);
        const auto dense = random_dense(M, K, seed);
        const auto pruned = prune_all(t, dense, M, K);
        REQUIRE(f::validate_dense(t, pruned.data(), M, K).ok);
        CHECK(prune_all(t, pruned, M, K) == pruned);   // idempotent, bit for bit
        const auto comp = compress_all(t, pruned, M, K);
        REQUIRE(f::validate_meta(comp.meta.data(), M, K).ok);
        CHECK(decompress_all(t, comp, M, K) == pruned);

        int64_t bad_chunks = 0, nz_pruned = 0, nz_values = 0;
        for (int64_t i = 0; i < M * K; i += 4) {
          const uint16_t* x = &dense[static_cast<size_t>(i)];
          // The kept pair is the independent oracle's; kept elements keep their bits, the rest are +0.0.
          const uint32_t want = oracle_nibble(x);
          if (nibble_at(comp.meta, K, i / K, (i % K) / 4) != want) ++bad_chunks;
          for (int j = 0; j < 4; ++j) {
            const bool kept = j == static_cast<int>(want & 3) || j == static_cast<int>(want >> 2);
            if (pruned[static_cast<size_t>(i + j)] != (kept ? x[j] : kZ)) ++bad_chunks;
          }
        }
        CHECK(bad_chunks == 0);
        // Compressing the pruned matrix keeps every nonzero.
        for (uint16_t x : pruned) nz_pruned += !is_zero(x);
        for (uint16_t x : comp.values) nz_values += !is_zero(x);
        CHECK(nz_pruned == nz_values);
      }
}

TEST_CASE("format: compress then decompress restores any 2:4 matrix", "[format]") {
  for (DType t : kBothTypes)
    for (uint32_t seed : {11u, 12u, 13u}) {
      const int64_t M = 17, K = 96;
      const auto sparse = random_sparse(M, K, seed);
      REQUIRE(f::validate_dense(t, sparse.data(), M, K).ok);
      const auto comp = compress_all(t, sparse, M, K);
      CHECK(f::validate_meta(comp.meta.data(), M, K).ok);
      CHECK(decompress_all(t, comp, M, K) == sparse);
      CHECK(prune_all(t, sparse, M, K) == sparse);
    }
}

TEST_CASE("format: prune keeps the two largest magnitudes as real numbers", "[format]") {
  // The bit-key order must be the order of |x| for every non-NaN value; checked here with double arithmetic.
  for (DType t : kBothTypes) {
    std::mt19937 rng(99);
    auto mag = [&](uint16_t e) { return std::fabs(t == DType::fp16 ? fp16_value(e) : bf16_value(e)); };
    int64_t wrong = 0;
    for (int n = 0; n < 20000; ++n) {
      std::vector<uint16_t> dense(8, kZ);
      for (int j = 0; j < 4; ++j) {
        uint16_t e;
        do e = static_cast<uint16_t>(rng() >> (rng() % 8));   // spread over many exponents, small ones included
        while (is_nan(t, e));
        dense[static_cast<size_t>(j)] = (rng() % 4 == 0) ? neg(e) : e;
      }
      const auto comp = compress_all(t, prune_all(t, dense, 1, 8), 1, 8);
      const int i0 = comp.meta[0] & 3, i1 = (comp.meta[0] >> 2) & 3;
      for (int a : {i0, i1})
        for (int d = 0; d < 4; ++d) {
          if (d == i0 || d == i1) continue;
          const double ma = mag(dense[static_cast<size_t>(a)]), md = mag(dense[static_cast<size_t>(d)]);
          // A kept element is larger than a dropped one, or as large and earlier.
          if (!(ma > md || (ma == md && a < d))) ++wrong;
        }
    }
    CHECK(wrong == 0);
  }
}

// =====================================================================================================================
// LaneBlocks16
// =====================================================================================================================

namespace {

// Word `lane` of lane block (row group rg, k-step ks), written straight from the m16n8k32 metadata fragment
// (docs/sparse-tensor-cores.md section 3), independently of the formula in format.h: lane = 4g + q; q = 0,1
// serve the block's first m16 tile (F = 0), q = 2,3 the second (F = 1); even q covers k 0..15, odd q k 16..31;
// bits 15:0 hold row g of the tile, bits 31:16 row g + 8, four nibbles each, LSB-first along K.
uint32_t fragment_word(const std::vector<uint8_t>& canonical, int64_t K, int64_t rg, int64_t ks, int lane) {
  const int g = lane / 4, q = lane % 4;
  const int64_t row = 32 * rg + 16 * (q / 2) + g;
  const int64_t first_chunk = (32 * ks + 16 * (q % 2)) / 4;
  uint32_t w = 0;
  for (int j = 0; j < 4; ++j) {
    w |= nibble_at(canonical, K, row, first_chunk + j) << (4 * j);
    w |= nibble_at(canonical, K, row + 8, first_chunk + j) << (16 + 4 * j);
  }
  return w;
}

std::vector<uint8_t> reorder_all(const std::vector<uint8_t>& canonical, int64_t M, int64_t K,
                                 MetaLayout to = MetaLayout::LaneBlocks16) {
  std::vector<uint8_t> out(f::meta_bytes(to, M, K), 0xA5);
  f::reorder_meta(to, canonical.data(), M, K, out.data());
  return out;
}

// Word `i` of a reordered buffer, little-endian, as a kernel's 32-bit load reads it.
uint32_t word_at(const std::vector<uint8_t>& out, size_t i) {
  const size_t at = 4 * i;
  return out[at] | (out[at + 1] << 8) | (out[at + 2] << 16) | (static_cast<uint32_t>(out[at + 3]) << 24);
}

// Where a single marked nibble lands: returns (byte, shift) of the only nonzero nibble of the reordered buffer.
std::pair<int64_t, int> landing(int64_t M, int64_t K, int64_t row, int64_t k,
                                MetaLayout to = MetaLayout::LaneBlocks16) {
  std::vector<uint8_t> canonical(static_cast<size_t>(M * K / 8), 0);
  set_nibble(canonical, K, row, k / 4, 0xF);
  const auto out = reorder_all(canonical, M, K, to);
  std::pair<int64_t, int> at{-1, -1};
  int found = 0;
  for (size_t i = 0; i < out.size(); ++i)
    for (int s : {0, 4})
      if ((out[i] >> s) & 0xF) {
        at = {static_cast<int64_t>(i), s};
        ++found;
      }
  return found == 1 ? at : std::pair<int64_t, int>{-2, -2};
}

}  // namespace

TEST_CASE("format: LaneBlocks16 positions worked by hand", "[format]") {
  // Row 17, k 40, M = 64, K = 64: row group 0, k-step 1 -> block 1 (blocks ordered [row group][k-step], 2 k-steps
  // per row group). Block row 17 is row 1 of the second m16 tile (F = 1): g = 1, bits 15:0. k 40 is block column
  // 8: even q, so q = 2 (F = 1) -> lane 4*1 + 2 = 6; nibble (8 % 16) / 4 = 2 -> bits 11:8.
  // Byte = 128 * 1 + 4 * 6 + 1 = 153, low nibble.
  CHECK(landing(64, 64, 17, 40) == std::pair<int64_t, int>{153, 0});
  CHECK(landing(32, 32, 0, 0) == std::pair<int64_t, int>{0, 0});     // lane 0, bits 3:0
  CHECK(landing(32, 32, 8, 0) == std::pair<int64_t, int>{2, 0});     // row g + 8: lane 0, bits 19:16
  CHECK(landing(32, 32, 0, 16) == std::pair<int64_t, int>{4, 0});    // k 16..31: odd q, lane 1
  CHECK(landing(32, 32, 16, 0) == std::pair<int64_t, int>{8, 0});    // second tile: q = 2, lane 2
  CHECK(landing(32, 32, 1, 0) == std::pair<int64_t, int>{16, 0});    // g = 1: lane 4
  CHECK(landing(32, 32, 5, 20) == std::pair<int64_t, int>{84, 4});   // lane 21, bits 7:4
  CHECK(landing(32, 32, 31, 31) == std::pair<int64_t, int>{127, 4}); // lane 31, bits 31:28
  CHECK(landing(64, 64, 32, 0) == std::pair<int64_t, int>{256, 0});  // second row group starts at block 2
  // Row 40, k 100, M = 64, K = 128: block 1 * 4 + 3 = 7; block row 8 -> g 0, bits 31:16; block column 4 -> lane 0,
  // nibble 1 -> bits 23:20. Byte 7 * 128 + 2 = 898, high nibble.
  CHECK(landing(64, 128, 40, 100) == std::pair<int64_t, int>{898, 4});
}

TEST_CASE("format: LaneBlocks16 words equal the m16n8k32 metadata fragment", "[format]") {
  const std::pair<int64_t, int64_t> shapes[] = {{32, 32}, {64, 96}, {96, 256}};
  for (const auto& [M, K] : shapes)
    for (uint32_t seed : {5u, 6u}) {
      INFO(M << " x " << K << ", seed " << seed);
      const auto canonical = random_bytes(static_cast<size_t>(M * K / 8), seed);
      const auto out = reorder_all(canonical, M, K);
      int64_t wrong = 0;
      for (int64_t rg = 0; rg < M / 32; ++rg)
        for (int64_t ks = 0; ks < K / 32; ++ks)
          for (int lane = 0; lane < 32; ++lane)
            if (word_at(out, static_cast<size_t>(32 * (rg * (K / 32) + ks) + lane)) !=
                fragment_word(canonical, K, rg, ks, lane))
              ++wrong;
      CHECK(wrong == 0);
    }
}

// =====================================================================================================================
// Wgmma16x64
// =====================================================================================================================

namespace {

// Word `lane` of Wgmma16x64 block (slab s, k-tile kt), written straight from the wgmma.sp m64nNk32 metadata
// (docs/sparse-tensor-cores.md §3a), independently of the formula in format.h: a warp supplies its 16 rows with the
// m16n8k32 layout; selector 0 reads lanes q = 0 (k 0..15 of the k-step) and q = 1 (k 16..31), selector 1 reads
// q = 2 and 3 with the same meaning; k-step 0 of the k-tile is issued with selector 0 and k-step 1 with selector 1.
// Bits 15:0 hold row g, bits 31:16 row g + 8, four nibbles each, LSB-first along K.
uint32_t wgmma_word(const std::vector<uint8_t>& canonical, int64_t K, int64_t s, int64_t kt, int lane) {
  const int g = lane / 4, q = lane % 4;
  const int selector = q / 2, half = q % 2;  // half 0: k 0..15 of the k-step, 1: k 16..31
  const int64_t row = 16 * s + g;
  const int64_t first_chunk = (64 * kt + 32 * selector + 16 * half) / 4;
  uint32_t w = 0;
  for (int j = 0; j < 4; ++j) {
    w |= nibble_at(canonical, K, row, first_chunk + j) << (4 * j);
    w |= nibble_at(canonical, K, row + 8, first_chunk + j) << (16 + 4 * j);
  }
  return w;
}

}  // namespace

TEST_CASE("format: Wgmma16x64 positions worked by hand", "[format]") {
  const MetaLayout W = MetaLayout::Wgmma16x64;
  CHECK(landing(16, 64, 0, 0, W) == std::pair<int64_t, int>{0, 0});      // lane 0, bits 3:0
  CHECK(landing(16, 64, 8, 0, W) == std::pair<int64_t, int>{2, 0});      // row g + 8: lane 0, bits 19:16
  CHECK(landing(16, 64, 0, 16, W) == std::pair<int64_t, int>{4, 0});     // k 16..31: q = 1, lane 1
  CHECK(landing(16, 64, 0, 32, W) == std::pair<int64_t, int>{8, 0});     // second k-step (selector 1): q = 2
  CHECK(landing(16, 64, 0, 48, W) == std::pair<int64_t, int>{12, 0});    // q = 3
  CHECK(landing(16, 64, 1, 0, W) == std::pair<int64_t, int>{16, 0});     // g = 1: lane 4
  CHECK(landing(16, 64, 15, 63, W) == std::pair<int64_t, int>{127, 4});  // lane 31, bits 31:28
  // Row 21, k 100, M = 32, K = 128: slab 1, k-tile 1 -> block 1 * 2 + 1 = 3; block row 5 -> g 5, bits 15:0;
  // block column 36 -> q = 2 -> lane 22; nibble (36 % 16) / 4 = 1 -> bits 7:4. Byte 3 * 128 + 4 * 22 + 0 = 472,
  // high nibble.
  CHECK(landing(32, 128, 21, 100, W) == std::pair<int64_t, int>{472, 4});
  CHECK(landing(32, 64, 16, 0, W) == std::pair<int64_t, int>{128, 0});   // the second slab starts at block 1
}

TEST_CASE("format: Wgmma16x64 words equal the wgmma.sp metadata of both selectors", "[format]") {
  const std::pair<int64_t, int64_t> shapes[] = {{16, 64}, {48, 128}, {96, 320}};
  for (const auto& [M, K] : shapes)
    for (uint32_t seed : {5u, 6u}) {
      INFO(M << " x " << K << ", seed " << seed);
      const auto canonical = random_bytes(static_cast<size_t>(M * K / 8), seed);
      const auto out = reorder_all(canonical, M, K, MetaLayout::Wgmma16x64);
      int64_t wrong = 0;
      for (int64_t s = 0; s < M / 16; ++s)
        for (int64_t kt = 0; kt < K / 64; ++kt)
          for (int lane = 0; lane < 32; ++lane)
            if (word_at(out, static_cast<size_t>(32 * (s * (K / 64) + kt) + lane)) !=
                wgmma_word(canonical, K, s, kt, lane))
              ++wrong;
      CHECK(wrong == 0);
    }
}

TEST_CASE("format: Wgmma16x64 holds the LaneBlocks16 words of two k-steps, one selector each", "[format]") {
  // The relation the wgmma_sp steps rely on when they move from LaneBlocks16 (s06) to Wgmma16x64 (s07): for rows
  // 0..15 of a 32-row group (selector 0 in LaneBlocks16, lanes q = 0, 1), lane q < 2 of Wgmma16x64 block (slab,
  // k-tile kt) equals lane q of the LaneBlocks16 block of k-step 2kt, and lane q + 2 equals lane q of k-step 2kt + 1.
  const int64_t M = 64, K = 256;
  const auto canonical = random_bytes(static_cast<size_t>(M * K / 8), 11);
  const auto lanes = reorder_all(canonical, M, K, MetaLayout::LaneBlocks16);
  const auto wgmma = reorder_all(canonical, M, K, MetaLayout::Wgmma16x64);
  int64_t wrong = 0;
  for (int64_t rg = 0; rg < M / 32; ++rg)
    for (int64_t kt = 0; kt < K / 64; ++kt)
      for (int g = 0; g < 8; ++g)
        for (int q = 0; q < 2; ++q)
          for (int step = 0; step < 2; ++step)
            for (int tile = 0; tile < 2; ++tile) {  // the two m16 tiles of the row group: slabs 2rg and 2rg + 1
              const uint32_t from_lanes =
                  word_at(lanes, static_cast<size_t>(32 * (rg * (K / 32) + 2 * kt + step) + 4 * g + 2 * tile + q));
              const uint32_t from_wgmma =
                  word_at(wgmma, static_cast<size_t>(32 * ((2 * rg + tile) * (K / 64) + kt) + 4 * g + 2 * step + q));
              if (from_lanes != from_wgmma) ++wrong;
            }
  CHECK(wrong == 0);
}

TEST_CASE("format: reorder then its inverse is the identity", "[format]") {
  struct Case {
    MetaLayout layout;
    int64_t M, K;
  };
  const Case cases[] = {{MetaLayout::LaneBlocks16, 32, 32},  {MetaLayout::LaneBlocks16, 32, 64},
                        {MetaLayout::LaneBlocks16, 64, 32},  {MetaLayout::LaneBlocks16, 128, 160},
                        {MetaLayout::Wgmma16x64, 16, 64},    {MetaLayout::Wgmma16x64, 48, 128},
                        {MetaLayout::Wgmma16x64, 128, 320}};
  for (const auto& [layout, M, K] : cases)
    for (uint32_t seed : {7u, 8u, 9u}) {
      INFO(f::name(layout) << ", " << M << " x " << K << ", seed " << seed);
      // Any bytes (a reorder only moves nibbles) and valid metadata.
      for (const auto& canonical :
           {random_bytes(static_cast<size_t>(M * K / 8), seed), random_valid_meta(M, K, seed)}) {
        const auto out = reorder_all(canonical, M, K, layout);
        std::vector<uint8_t> back(canonical.size(), 0x5A);
        f::reorder_meta_to_canonical(layout, out.data(), M, K, back.data());
        CHECK(back == canonical);
        // The canonical "reorder" is a copy, both ways.
        std::vector<uint8_t> copy(canonical.size(), 0x5A), copy_back(canonical.size(), 0x5A);
        f::reorder_meta(MetaLayout::Canonical, canonical.data(), M, K, copy.data());
        f::reorder_meta_to_canonical(MetaLayout::Canonical, copy.data(), M, K, copy_back.data());
        CHECK(copy == canonical);
        CHECK(copy_back == canonical);
      }
    }
}

TEST_CASE("format: layout names and sizes", "[format]") {
  CHECK(std::string(f::name(MetaLayout::Canonical)) == "canonical");
  CHECK(std::string(f::name(MetaLayout::LaneBlocks16)) == "lane_blocks16");
  CHECK(f::meta_bytes(MetaLayout::Canonical, 3, 40) == 15u);
  CHECK(f::meta_bytes(MetaLayout::LaneBlocks16, 64, 96) == 768u);   // 2 x 3 blocks of 128 bytes
  CHECK(std::string(f::name(MetaLayout::Wgmma16x64)) == "wgmma16x64");
  CHECK(f::meta_bytes(MetaLayout::Wgmma16x64, 48, 128) == 768u);    // 3 x 2 blocks of 128 bytes
  CHECK(f::compressed_cols(4096) == 2048);
  CHECK(f::meta_bytes_per_row(4096) == 512);
}

// =====================================================================================================================
// Byte accounting
// =====================================================================================================================

// The paper: Mishra et al., "Accelerating Sparse Deep Neural Networks" (2021, arXiv 2104.08378), which gives the
// 2:4 storage cost: 16-bit values with 2-bit indices per kept value (a 4-bit nibble per group of 4) save 43.75%
// of the dense bytes, with metadata at 1/8 of the values; 8-bit values save 37.5%, metadata 1/4 of the values.
TEST_CASE("format: byte accounting reproduces the paper's numbers", "[format]") {
  const f::ByteAccount a16 = f::byte_account(16);
  CHECK(a16.dense_bits_per_group == 64);
  CHECK(a16.compressed_bits_per_group == 36);       // 2 x 16 value bits + a 4-bit nibble
  CHECK(a16.fraction_saved == Approx(0.4375));      // 43.75% saved
  CHECK(a16.meta_over_values == Approx(0.125));     // metadata 12.5% of the 16-bit values
  const f::ByteAccount a8 = f::byte_account(8);
  CHECK(a8.dense_bits_per_group == 32);
  CHECK(a8.compressed_bits_per_group == 20);
  CHECK(a8.fraction_saved == Approx(0.375));
  CHECK(a8.meta_over_values == Approx(0.25));
  // The same numbers from the buffer sizes of a real 16-bit matrix: values + metadata bits per group of 4.
  const int64_t M = 96, K = 4096;
  const int64_t value_bits = M * f::compressed_cols(K) * 16;
  const int64_t meta_bits = static_cast<int64_t>(f::meta_bytes(MetaLayout::Canonical, M, K)) * 8;
  const int64_t bits = value_bits + meta_bits;
  CHECK(meta_bits * 8 == value_bits);               // metadata = 1/8 of the values
  CHECK(bits / (M * K / 4) == a16.compressed_bits_per_group);
  CHECK(bits % (M * K / 4) == 0);
  REQUIRE_FORMAT_ERROR(f::byte_account(0), "elem_bits = 0 is less than 1");
}

// =====================================================================================================================
// Every bad input
// =====================================================================================================================

TEST_CASE("format: shapes that the canonical form refuses", "[format]") {
  std::vector<uint16_t> e(256, kZ);
  std::vector<uint8_t> m(64, 0x44);
  const DType t = DType::fp16;
  using Fn = std::function<void(int64_t, int64_t)>;
  const std::pair<const char*, Fn> fns[] = {
      {"prune", [&](int64_t M, int64_t K) { f::prune(t, e.data(), M, K, e.data()); }},
      {"compress", [&](int64_t M, int64_t K) { f::compress(t, e.data(), M, K, e.data(), m.data()); }},
      {"decompress", [&](int64_t M, int64_t K) { f::decompress(t, e.data(), m.data(), M, K, e.data()); }},
      {"validate_dense", [&](int64_t M, int64_t K) { f::validate_dense(t, e.data(), M, K); }},
      {"validate_meta", [&](int64_t M, int64_t K) { f::validate_meta(m.data(), M, K); }},
      {"reorder_meta", [&](int64_t M, int64_t K) { f::reorder_meta(MetaLayout::Canonical, m.data(), M, K, m.data()); }},
      {"reorder_meta",
       [&](int64_t M, int64_t K) { f::reorder_meta(MetaLayout::LaneBlocks16, m.data(), M, K, m.data()); }},
      {"reorder_meta_to_canonical",
       [&](int64_t M, int64_t K) { f::reorder_meta_to_canonical(MetaLayout::Canonical, m.data(), M, K, m.data()); }},
      {"reorder_meta_to_canonical",
       [&](int64_t M, int64_t K) { f::reorder_meta_to_canonical(MetaLayout::LaneBlocks16, m.data(), M, K, m.data()); }},
      {"meta_bytes", [&](int64_t M, int64_t K) { f::meta_bytes(MetaLayout::Canonical, M, K); }},
      {"meta_bytes", [&](int64_t M, int64_t K) { f::meta_bytes(MetaLayout::LaneBlocks16, M, K); }},
      {"reorder_meta",
       [&](int64_t M, int64_t K) { f::reorder_meta(MetaLayout::Wgmma16x64, m.data(), M, K, m.data()); }},
      {"meta_bytes", [&](int64_t M, int64_t K) { f::meta_bytes(MetaLayout::Wgmma16x64, M, K); }},
  };
  struct Bad {
    int64_t M, K;
    const char* rule;
  };
  const Bad bad[] = {
      {1, 12, "K = 12 is not a multiple of 8 (two chunks per metadata byte)"},
      {32, 36, "K = 36 is not a multiple of 8"},
      {1, 4, "K = 4 is less than 8"},
      {1, 0, "K = 0 is less than 8"},
      {1, -8, "K = -8 is less than 8"},
      {0, 8, "M = 0 is less than 1"},
      {-32, 32, "M = -32 is less than 1"},
  };
  for (const auto& [fn, call] : fns)
    for (const Bad& b : bad) {
      INFO(fn << " with M = " << b.M << ", K = " << b.K);
      REQUIRE_FORMAT_ERROR(call(b.M, b.K), b.rule);
      REQUIRE_FORMAT_ERROR(call(b.M, b.K), std::string("format::") + fn + ": ");
    }
  REQUIRE_FORMAT_ERROR(f::compressed_cols(12), "format::compressed_cols: K = 12 is not a multiple of 8");
  REQUIRE_FORMAT_ERROR(f::meta_bytes_per_row(4), "format::meta_bytes_per_row: K = 4 is less than 8");
}

TEST_CASE("format: shapes that LaneBlocks16 refuses", "[format]") {
  std::vector<uint8_t> m(1024, 0x44), out(1024);
  struct Bad {
    int64_t M, K;
    const char* rule;
  };
  const Bad bad[] = {
      {48, 32, "M = 48 is not a multiple of 32 (lane-block metadata serves 32 rows)"},
      {16, 64, "M = 16 is not a multiple of 32"},
      {1, 32, "M = 1 is not a multiple of 32"},
      {32, 48, "K = 48 is not a multiple of 32 (lane-block metadata covers one m16n8k32 k-step)"},
      {64, 40, "K = 40 is not a multiple of 32"},
  };
  for (const Bad& b : bad) {
    INFO("M = " << b.M << ", K = " << b.K);
    REQUIRE_FORMAT_ERROR(f::reorder_meta(MetaLayout::LaneBlocks16, m.data(), b.M, b.K, out.data()), b.rule);
    REQUIRE_FORMAT_ERROR(f::reorder_meta_to_canonical(MetaLayout::LaneBlocks16, m.data(), b.M, b.K, out.data()),
                         b.rule);
    REQUIRE_FORMAT_ERROR(f::meta_bytes(MetaLayout::LaneBlocks16, b.M, b.K), b.rule);
    // The canonical form has no such rule.
    CHECK(f::meta_bytes(MetaLayout::Canonical, b.M, b.K) == static_cast<size_t>(b.M * b.K / 8));
    CHECK_NOTHROW(f::reorder_meta(MetaLayout::Canonical, m.data(), b.M, b.K, out.data()));
  }
}

TEST_CASE("format: shapes that Wgmma16x64 refuses", "[format]") {
  std::vector<uint8_t> m(1024, 0x44), out(1024);
  struct Bad {
    int64_t M, K;
    const char* rule;
  };
  const Bad bad[] = {
      {24, 64, "M = 24 is not a multiple of 16 (wgmma16x64 metadata serves a warp's 16 rows)"},
      {1, 64, "M = 1 is not a multiple of 16"},
      {16, 32, "K = 32 is not a multiple of 64 (wgmma16x64 metadata covers two m64nNk32 k-steps)"},
      {32, 96, "K = 96 is not a multiple of 64"},
  };
  for (const Bad& b : bad) {
    INFO("M = " << b.M << ", K = " << b.K);
    REQUIRE_FORMAT_ERROR(f::reorder_meta(MetaLayout::Wgmma16x64, m.data(), b.M, b.K, out.data()), b.rule);
    REQUIRE_FORMAT_ERROR(f::reorder_meta_to_canonical(MetaLayout::Wgmma16x64, m.data(), b.M, b.K, out.data()),
                         b.rule);
    REQUIRE_FORMAT_ERROR(f::meta_bytes(MetaLayout::Wgmma16x64, b.M, b.K), b.rule);
  }
  // 16 rows suffice (LaneBlocks16 needs 32).
  CHECK(f::meta_bytes(MetaLayout::Wgmma16x64, 16, 64) == 128u);
}

TEST_CASE("format: unknown dtype and layout values", "[format]") {
  std::vector<uint16_t> e(8, kZ);
  std::vector<uint8_t> m(1, 0x44);
  const auto bad_t = static_cast<DType>(99);
  const auto bad_l = static_cast<MetaLayout>(5);
  REQUIRE_FORMAT_ERROR(f::prune(bad_t, e.data(), 1, 8, e.data()), "unknown dtype value 99");
  REQUIRE_FORMAT_ERROR(f::compress(bad_t, e.data(), 1, 8, e.data(), m.data()), "unknown dtype value 99");
  REQUIRE_FORMAT_ERROR(f::decompress(bad_t, e.data(), m.data(), 1, 8, e.data()), "unknown dtype value 99");
  REQUIRE_FORMAT_ERROR(f::validate_dense(bad_t, e.data(), 1, 8), "unknown dtype value 99");
  REQUIRE_FORMAT_ERROR(f::reorder_meta(bad_l, m.data(), 1, 8, m.data()), "unknown metadata layout value 5");
  REQUIRE_FORMAT_ERROR(f::reorder_meta_to_canonical(bad_l, m.data(), 1, 8, m.data()), "unknown metadata layout");
  REQUIRE_FORMAT_ERROR(f::meta_bytes(bad_l, 1, 8), "unknown metadata layout");
  CHECK(std::string(f::name(bad_l)) == "unknown");
}

TEST_CASE("format: null pointers", "[format]") {
  std::vector<uint16_t> e(64, kZ);
  std::vector<uint8_t> m(16, 0x44);
  const DType t = DType::fp16;
  uint16_t* const n16 = nullptr;
  uint8_t* const n8 = nullptr;
  REQUIRE_FORMAT_ERROR(f::prune(t, n16, 1, 8, e.data()), "format::prune: dense is a null pointer");
  REQUIRE_FORMAT_ERROR(f::prune(t, e.data(), 1, 8, n16), "format::prune: pruned is a null pointer");
  REQUIRE_FORMAT_ERROR(f::compress(t, n16, 1, 8, e.data(), m.data()), "pruned is a null pointer");
  REQUIRE_FORMAT_ERROR(f::compress(t, e.data(), 1, 8, n16, m.data()), "values is a null pointer");
  REQUIRE_FORMAT_ERROR(f::compress(t, e.data(), 1, 8, e.data(), n8), "meta is a null pointer");
  REQUIRE_FORMAT_ERROR(f::decompress(t, n16, m.data(), 1, 8, e.data()), "values is a null pointer");
  REQUIRE_FORMAT_ERROR(f::decompress(t, e.data(), n8, 1, 8, e.data()), "meta is a null pointer");
  REQUIRE_FORMAT_ERROR(f::decompress(t, e.data(), m.data(), 1, 8, n16), "dense is a null pointer");
  REQUIRE_FORMAT_ERROR(f::validate_dense(t, n16, 1, 8), "dense is a null pointer");
  REQUIRE_FORMAT_ERROR(f::validate_meta(n8, 1, 8), "meta is a null pointer");
  for (MetaLayout l : {MetaLayout::Canonical, MetaLayout::LaneBlocks16, MetaLayout::Wgmma16x64}) {
    REQUIRE_FORMAT_ERROR(f::reorder_meta(l, n8, 32, 64, m.data()), "canonical is a null pointer");
    REQUIRE_FORMAT_ERROR(f::reorder_meta(l, m.data(), 32, 64, n8), "out is a null pointer");
    REQUIRE_FORMAT_ERROR(f::reorder_meta_to_canonical(l, n8, 32, 64, m.data()), "in is a null pointer");
    REQUIRE_FORMAT_ERROR(f::reorder_meta_to_canonical(l, m.data(), 32, 64, n8), "canonical is a null pointer");
  }
}

TEST_CASE("format: data that is not 2:4", "[format]") {
  const int64_t M = 6, K = 32;   // 8 chunks per row
  for (DType t : kBothTypes) {
    auto dense = prune_all(t, random_dense(M, K, 21), M, K);
    auto plant = [&](int64_t r, int64_t c, std::initializer_list<uint16_t> x) {
      std::copy(x.begin(), x.end(), dense.begin() + r * K + 4 * c);
    };
    // Chunks that look bad but are fine: -0.0 is zero.
    plant(0, 0, {kOne, kNZ, kNZ, kTwo});
    plant(0, 1, {kNZ, kNZ, kNZ, kNZ});
    REQUIRE(f::validate_dense(t, dense.data(), M, K).ok);

    // Planted in an order other than row-major; (2, 3) is the first in row-major order.
    plant(4, 0, {kOne, kOne, kOne, kOne});
    plant(2, 5, {kNaN, kOne, kZ, kInf});
    plant(2, 3, {kOne, kNZ, kSub, neg(kTwo)});
    plant(3, 7, {kOne, kOne, kOne, kZ});
    const f::Violation v = f::validate_dense(t, dense.data(), M, K);
    CHECK_FALSE(v.ok);
    CHECK(v.row == 2);
    CHECK(v.chunk == 3);
    CHECK(v.message == "row 2, chunk 3 (columns 12..15) has 3 nonzeros; 2:4 allows at most 2");
    std::vector<uint16_t> values(static_cast<size_t>(M * K / 2));
    std::vector<uint8_t> meta(static_cast<size_t>(M * K / 8));
    REQUIRE_FORMAT_ERROR(f::compress(t, dense.data(), M, K, values.data(), meta.data()),
                         "format::compress: input is not 2:4: row 2, chunk 3 (columns 12..15) has 3 nonzeros");

    // Remove offenders one at a time: the next one in row-major order is reported.
    plant(2, 3, {kOne, kZ, kZ, kZ});
    auto w = f::validate_dense(t, dense.data(), M, K);
    CHECK((w.row == 2 && w.chunk == 5));
    CHECK(w.message == "row 2, chunk 5 (columns 20..23) has 3 nonzeros; 2:4 allows at most 2");
    plant(2, 5, {kZ, kZ, kZ, kZ});
    w = f::validate_dense(t, dense.data(), M, K);
    CHECK((w.row == 3 && w.chunk == 7));
    plant(3, 7, {kZ, kZ, kZ, kZ});
    w = f::validate_dense(t, dense.data(), M, K);
    CHECK((w.row == 4 && w.chunk == 0));
    CHECK(w.message == "row 4, chunk 0 (columns 0..3) has 4 nonzeros; 2:4 allows at most 2");
    REQUIRE_FORMAT_ERROR(f::compress(t, dense.data(), M, K, values.data(), meta.data()), "row 4, chunk 0");
    // The very last chunk of the matrix.
    plant(4, 0, {kZ, kZ, kZ, kZ});
    plant(5, 7, {kNZ, kOne, kTwo, kThree});
    w = f::validate_dense(t, dense.data(), M, K);
    CHECK((w.row == 5 && w.chunk == 7));
    plant(5, 7, {kNZ, kOne, kTwo, kNZ});
    CHECK(f::validate_dense(t, dense.data(), M, K).ok);
    CHECK_NOTHROW(f::compress(t, dense.data(), M, K, values.data(), meta.data()));
  }
}

TEST_CASE("format: every nibble is judged, and invalid ones are refused", "[format]") {
  const int64_t M = 3, K = 16;   // 4 chunks, 2 bytes per row
  const std::vector<uint16_t> values(static_cast<size_t>(M * K / 2), kOne);
  for (uint32_t nibble = 0; nibble < 16; ++nibble) {
    const bool valid = nibble == 0x4 || nibble == 0x8 || nibble == 0xC || nibble == 0x9 || nibble == 0xD ||
                       nibble == 0xE;
    for (int64_t chunk : {2, 3}) {   // low and high nibble of a byte
      INFO("nibble " << nibble << " at chunk " << chunk);
      auto meta = random_valid_meta(M, K, 31);
      set_nibble(meta, K, 1, chunk, nibble);
      std::vector<uint16_t> dense(static_cast<size_t>(M * K));
      if (valid) {
        CHECK(f::validate_meta(meta.data(), M, K).ok);
        CHECK_NOTHROW(f::decompress(DType::fp16, values.data(), meta.data(), M, K, dense.data()));
        continue;
      }
      // Later offenders (row 2) and an earlier valid region must not change the answer.
      set_nibble(meta, K, 2, 0, 0x0);
      set_nibble(meta, K, 2, 3, 0xF);
      const f::Violation v = f::validate_meta(meta.data(), M, K);
      CHECK_FALSE(v.ok);
      CHECK(v.row == 1);
      CHECK(v.chunk == chunk);
      const int i0 = static_cast<int>(nibble & 3), i1 = static_cast<int>(nibble >> 2);
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%X", nibble);
      const std::string want = "row 1, chunk " + std::to_string(chunk) + " (columns " + std::to_string(4 * chunk) +
                               ".." + std::to_string(4 * chunk + 3) + "): nibble " + hex + " = indices (" +
                               std::to_string(i0) + ", " + std::to_string(i1) + ") " +
                               (i0 == i1 ? "repeats an index" : "is descending") +
                               "; the valid ordered codes are 0x4 0x8 0xC 0x9 0xD 0xE";
      CHECK(v.message == want);
      REQUIRE_FORMAT_ERROR(f::decompress(DType::fp16, values.data(), meta.data(), M, K, dense.data()),
                           "format::decompress: invalid metadata: " + want);
    }
  }
}

TEST_CASE("format: the invalid codes named in the notes", "[format]") {
  // 0x0, 0x5, 0xA, 0xF repeat an index; 0x1 = (1,0) is descending.
  const struct {
    uint8_t byte;
    int64_t chunk;
    const char* text;
  } cases[] = {
      {0x40, 0, "nibble 0x0 = indices (0, 0) repeats an index"},
      {0x54, 1, "nibble 0x5 = indices (1, 1) repeats an index"},
      {0x4A, 0, "nibble 0xA = indices (2, 2) repeats an index"},
      {0xF4, 1, "nibble 0xF = indices (3, 3) repeats an index"},
      {0x41, 0, "nibble 0x1 = indices (1, 0) is descending"},
      {0xB4, 1, "nibble 0xB = indices (3, 2) is descending"},
  };
  for (const auto& c : cases) {
    const std::vector<uint8_t> meta = {0x84, c.byte};   // row 0: chunks 0, 1 valid; chunks 2, 3 in the second byte
    const f::Violation v = f::validate_meta(meta.data(), 1, 16);
    CHECK(v.row == 0);
    CHECK(v.chunk == 2 + c.chunk);
    CHECK_THAT(v.message, test::contains(c.text));
  }
}

// =====================================================================================================================
// The other storage types: int8, e4m3, e5m2 (2:4 over 8-bit storage) and tf32 (1:2 pairs over 32-bit storage)
// =====================================================================================================================

namespace {

using sparse24::DTypeInfo;

template <class S>
std::vector<S> prune_of(DType t, const std::vector<S>& dense, int64_t M, int64_t K) {
  std::vector<S> out(dense.size(), static_cast<S>(0xA5));
  f::prune(t, dense.data(), M, K, out.data());
  return out;
}

template <class S>
struct CompressedOf {
  std::vector<S> values;
  std::vector<uint8_t> meta;
};

template <class S>
CompressedOf<S> compress_of(DType t, const std::vector<S>& pruned, int64_t M, int64_t K) {
  CompressedOf<S> c{std::vector<S>(static_cast<size_t>(M * K / 2), static_cast<S>(0xA5)),
                    std::vector<uint8_t>(static_cast<size_t>(M * f::meta_bytes_per_row(t, K)), 0xFF)};
  f::compress(t, pruned.data(), M, K, c.values.data(), c.meta.data());
  return c;
}

template <class S>
std::vector<S> decompress_of(DType t, const CompressedOf<S>& c, int64_t M, int64_t K) {
  std::vector<S> out(static_cast<size_t>(M * K), static_cast<S>(0xA5));
  f::decompress(t, c.values.data(), c.meta.data(), M, K, out.data());
  return out;
}

// An independent statement of each type's ranking (format.h), from decoded VALUES rather than bit keys: a rank is
// (class, magnitude), compared lexicographically. Classes: 0 zero, 1 NaN of an 8-bit float (below every nonzero
// number, above zero), 2 a nonzero number (inf included), 3 NaN of fp16/bf16/tf32 (above every number; among
// themselves by payload bits, as the key orders them).
struct Rank {
  int cls;
  double mag;
  bool operator>(const Rank& o) const { return cls != o.cls ? cls > o.cls : mag > o.mag; }
};

double e4m3_value(uint8_t b) {   // NaN for S.1111.111
  const int e = (b >> 3) & 0xF, m = b & 7;
  if (e == 15 && m == 7) return std::numeric_limits<double>::quiet_NaN();
  const double mag = e == 0 ? std::ldexp(m, -9) : std::ldexp(8 + m, e - 10);
  return (b & 0x80) ? -mag : mag;
}
double e5m2_value(uint8_t b) {
  const int e = (b >> 2) & 0x1F, m = b & 3;
  if (e == 31) return m == 0 ? ((b & 0x80) ? -HUGE_VAL : HUGE_VAL) : std::numeric_limits<double>::quiet_NaN();
  const double mag = e == 0 ? std::ldexp(m, -16) : std::ldexp(4 + m, e - 17);
  return (b & 0x80) ? -mag : mag;
}
double f32_value(uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof(v));
  return static_cast<double>(v);
}

Rank rank_of(DType t, uint32_t bits) {
  switch (t) {
    case DType::int8: {
      const int v = static_cast<int8_t>(static_cast<uint8_t>(bits));
      return {0, static_cast<double>(v < 0 ? -v : v)};
    }
    case DType::e4m3:
    case DType::e5m2: {
      const uint8_t b = static_cast<uint8_t>(bits);
      const double v = t == DType::e4m3 ? e4m3_value(b) : e5m2_value(b);
      if (std::isnan(v)) return {1, 0.0};
      return v == 0.0 ? Rank{0, 0.0} : Rank{2, std::fabs(v)};
    }
    default: {  // tf32
      const double v = f32_value(bits);
      if (std::isnan(v)) return {3, static_cast<double>(bits & 0x7FFFFFFFu)};
      return v == 0.0 ? Rank{0, 0.0} : Rank{2, std::fabs(v)};
    }
  }
}

// Sort the group's indices by rank (descending), the lower index first among equals; keep the first `keep`; the
// code of the kept set.
template <class S>
uint32_t oracle_code(DType t, const S* x) {
  const DTypeInfo& d = sparse24::info(t);
  int idx[4] = {0, 1, 2, 3};
  std::stable_sort(idx, idx + d.group, [&](int a, int b) { return rank_of(t, x[a]) > rank_of(t, x[b]); });
  if (d.group == 2) return idx[0] == 0 ? 0x4u : 0xEu;
  return static_cast<uint32_t>(std::min(idx[0], idx[1]) | (std::max(idx[0], idx[1]) << 2));
}

template <class S>
bool nonzero_of(DType t, S x) {
  return rank_of(t, x).cls != 0 || rank_of(t, x).mag != 0.0;
}

// Kept dense indices of a code, for a group of G.
std::vector<int> kept_of(uint32_t code, int G) {
  if (G == 2) return {code == 0xEu ? 1 : 0};
  return {static_cast<int>(code & 3), static_cast<int>(code >> 2)};
}

// One group, worked by hand, run through prune, compress and decompress in both nibbles of a metadata byte.
template <class S>
void check_group_by_hand(DType t, const char* what, std::vector<S> x, uint32_t code) {
  const int G = sparse24::info(t).group;
  REQUIRE(static_cast<int>(x.size()) == G);
  CHECK(oracle_code(t, x.data()) == code);   // the hand-worked code agrees with the value-based statement
  for (int at = 0; at < 2; ++at) {
    INFO(what << ", dtype " << sparse24::name(t) << ", group " << at);
    const int64_t K = 2 * G;
    std::vector<S> dense(static_cast<size_t>(K), S{0});
    std::copy(x.begin(), x.end(), dense.begin() + G * at);
    std::vector<S> want_pruned(static_cast<size_t>(K), S{0}), want_values(static_cast<size_t>(K / 2), S{0});
    const std::vector<int> kept = kept_of(code, G);
    for (size_t j = 0; j < kept.size(); ++j) {
      want_pruned[static_cast<size_t>(G * at + kept[j])] = x[static_cast<size_t>(kept[j])];
      want_values[static_cast<size_t>(static_cast<int>(kept.size()) * at) + j] = x[static_cast<size_t>(kept[j])];
    }
    // The other group is all zero: code 0x4 (for a pair too: "keep element 0").
    const uint8_t want_meta = static_cast<uint8_t>(at == 0 ? (code | 0x40) : (0x4 | (code << 4)));
    const auto pruned = prune_of(t, dense, 1, K);
    CHECK(pruned == want_pruned);
    const auto comp = compress_of(t, pruned, 1, K);
    CHECK(comp.values == want_values);
    CHECK(comp.meta == std::vector<uint8_t>{want_meta});
    CHECK(decompress_of(t, comp, 1, K) == pruned);
    CHECK(f::validate_dense(t, pruned.data(), 1, K).ok);
    CHECK(f::validate_meta(t, comp.meta.data(), 1, K).ok);
  }
}

}  // namespace

TEST_CASE("format int8: groups worked by hand (|x|, -128 the largest, ties to the lower index)", "[format][int8]") {
  using V = std::vector<uint8_t>;
  const DType t = DType::int8;
  check_group_by_hand(t, "all zero", V{0, 0, 0, 0}, 0x4);
  check_group_by_hand(t, "single -1 at 3", V{0, 0, 0, kI8MinusOne}, 0xC);
  check_group_by_hand(t, "-128 beats 127", V{1, kI8Min, kI8Max, kI8MinusMax}, 0x9);   // 127 and -127 tie: index 2
  check_group_by_hand(t, "two -128", V{5, kI8Min, 0x7F, kI8Min}, 0xD);
  check_group_by_hand(t, "-127 ties 127, lower index", V{kI8MinusMax, 3, kI8Max, 2}, 0x8);
  check_group_by_hand(t, "-1 beats 0, 1 ties -1", V{0, kI8MinusOne, 1, 0}, 0x9);
  check_group_by_hand(t, "all equal magnitudes", V{0xFB, 5, 0xFB, 5}, 0x4);   // -5, 5, -5, 5
  check_group_by_hand(t, "drop 0,1", V{1, 2, 3, 4}, 0xE);
}

TEST_CASE("format e4m3: groups worked by hand (NaN never kept over a nonzero number)", "[format][e4m3]") {
  using V = std::vector<uint8_t>;
  const DType t = DType::e4m3;
  check_group_by_hand(t, "NaN loses to 1 and 2", V{kE4NaN, kE4One, 0, kE4Two}, 0xD);
  check_group_by_hand(t, "NaN loses to the smallest subnormal but beats zero", V{kE4NaN, 0, 0, kE4Sub}, 0xC);
  check_group_by_hand(t, "NaN beats -0.0", V{kF8NegZero, kE4NaN, kE4NegNaN, 0}, 0x9);
  check_group_by_hand(t, "all NaN: lower index", V{kE4NaN, kE4NegNaN, kE4NaN, kE4NaN}, 0x4);
  check_group_by_hand(t, "448 ties -448", V{kE4Max, kE4Max | 0x80, kE4NaN, kE4Sub}, 0x4);
  check_group_by_hand(t, "a kept -0.0 keeps its bits", V{kF8NegZero, kF8NegZero, kE4One, 0}, 0x8);
  check_group_by_hand(t, "drop 0,1", V{kE4One, kE4One | 0x80, kE4Two, kE4Max}, 0xE);
}

TEST_CASE("format e5m2: groups worked by hand (inf is a number, NaNs below every nonzero)", "[format][e5m2]") {
  using V = std::vector<uint8_t>;
  const DType t = DType::e5m2;
  check_group_by_hand(t, "inf and -inf beat NaN and 1", V{0x7F, kE5Inf, kE5One, kE5Inf | 0x80}, 0xD);
  check_group_by_hand(t, "inf beats the largest finite", V{kE5Max, kE5Two, 0, kE5Inf}, 0xC);
  check_group_by_hand(t, "NaN only over zeros", V{kE5NaN, kE5Sub, 0, 0}, 0x4);
  check_group_by_hand(t, "NaN payloads tie: lower index", V{0, 0x7D, 0xFF, kE5NaN}, 0x9);
  check_group_by_hand(t, "one number, three NaNs", V{0x7D, 0x7E, 0x7F, kE5Sub | 0x80}, 0xC);
}

TEST_CASE("format tf32: pairs worked by hand (1:2, codes 0x4 and 0xE)", "[format][tf32]") {
  using V = std::vector<uint32_t>;
  const DType t = DType::tf32;
  check_group_by_hand(t, "the larger magnitude", V{kT32One, kT32Two | kT32Sign}, 0xE);
  check_group_by_hand(t, "zero pair", V{0, 0}, 0x4);
  check_group_by_hand(t, "-0.0 and +0.0", V{kT32NegZero, 0}, 0x4);
  check_group_by_hand(t, "tie: element 0", V{kT32Three | kT32Sign, kT32Three}, 0x4);
  check_group_by_hand(t, "NaN beats inf (as fp16, bf16)", V{kT32Inf, kT32NaN}, 0xE);
  check_group_by_hand(t, "a lone nonzero at 1", V{kT32NegZero, 0x00002000u}, 0xE);
  // format.h's example: | a b | c d | keeps b, then c: meta byte 0x4E.
  const V row = {kT32One, kT32Two, kT32Three | kT32Sign, kT32One};
  const auto pruned = prune_of(t, row, 1, 4);
  CHECK(pruned == V{0, kT32Two, kT32Three | kT32Sign, 0});
  const auto comp = compress_of(t, pruned, 1, 4);
  CHECK(comp.values == V{kT32Two, kT32Three | kT32Sign});
  CHECK(comp.meta == std::vector<uint8_t>{0x4E});
}

TEST_CASE("format, new types: prune follows the value-based statement of the rule", "[format]") {
  const int64_t M = 8, K = 64;
  for (DType t : kNewSparseTypes)
    for (uint32_t seed : {31u, 32u, 33u}) {
      INFO("dtype " << sparse24::name(t) << ", seed " << seed);
      const int G = sparse24::info(t).group;
      auto check_type = [&](auto tag) {
        using S = decltype(tag);
        const auto dense = random_dense_of<S>(t, M, K, seed);
        const auto pruned = prune_of(t, dense, M, K);
        const auto comp = compress_of(t, pruned, M, K);
        int64_t wrong = 0;
        for (int64_t r = 0; r < M; ++r)
          for (int64_t c = 0; c < K / G; ++c) {
            const S* x = dense.data() + r * K + G * c;
            const uint32_t code = oracle_code(t, x);
            const uint32_t got = (comp.meta[static_cast<size_t>(r * (K / G / 2) + c / 2)] >> (4 * (c % 2))) & 0xF;
            // prune's kept elements are the oracle's, and compress of the pruned group keeps every nonzero of it
            // (its code may differ from the dense group's only where the oracle kept a zero).
            std::vector<S> want(static_cast<size_t>(G), S{0});
            for (int i : kept_of(code, G)) want[static_cast<size_t>(i)] = x[i];
            const S* p = pruned.data() + r * K + G * c;
            if (!std::equal(want.begin(), want.end(), p)) ++wrong;
            const std::vector<int> kept_by_compress = kept_of(got, G);
            for (int i = 0; i < G; ++i)
              if (nonzero_of(t, p[i]) &&
                  std::find(kept_by_compress.begin(), kept_by_compress.end(), i) == kept_by_compress.end())
                ++wrong;
          }
        CHECK(wrong == 0);
      };
      if (t == DType::tf32)
        check_type(uint32_t{});
      else
        check_type(uint8_t{});
    }
}

TEST_CASE("format, new types: round trips and validation", "[format]") {
  const std::pair<int64_t, int64_t> shapes[] = {{1, 16}, {3, 40}, {32, 64}, {17, 128}};
  for (DType t : kNewSparseTypes)
    for (const auto& [M, K] : shapes)
      for (uint32_t seed : {41u, 42u}) {
        INFO("dtype " << sparse24::name(t) << ", " << M << " x " << K << ", seed " << seed);
        auto run = [&](auto tag) {
          using S = decltype(tag);
          const auto dense = random_dense_of<S>(t, M, K, seed);
          const auto pruned = prune_of(t, dense, M, K);
          CHECK(f::validate_dense(t, pruned.data(), M, K).ok);
          const auto comp = compress_of(t, pruned, M, K);
          CHECK(f::validate_meta(t, comp.meta.data(), M, K).ok);
          CHECK(decompress_of(t, comp, M, K) == pruned);
          // prune is idempotent and may run in place.
          auto again = pruned;
          f::prune(t, again.data(), M, K, again.data());
          CHECK(again == pruned);
        };
        if (t == DType::tf32)
          run(uint32_t{});
        else
          run(uint8_t{});
      }
}

TEST_CASE("format, new types: data that breaks the sparsity and metadata that is no code", "[format]") {
  {  // int8: three nonzeros in chunk 1 of row 0
    const std::vector<uint8_t> x = {0, 0, 0, 0, 1, 0xFF, 2, 0};
    const f::Violation v = f::validate_dense(DType::int8, x.data(), 1, 8);
    CHECK_FALSE(v.ok);
    CHECK(v.row == 0);
    CHECK(v.chunk == 1);
    CHECK(v.message == "row 0, chunk 1 (columns 4..7) has 3 nonzeros; 2:4 allows at most 2");
    std::vector<uint8_t> values(4), meta(1);
    REQUIRE_FORMAT_ERROR(f::compress(DType::int8, x.data(), 1, 8, values.data(), meta.data()),
                         "input is not 2:4: row 0, chunk 1");
  }
  {  // e4m3: a NaN is a nonzero for the 2:4 rule
    const std::vector<uint8_t> x = {kE4NaN, kE4One, kE4Two, 0, 0, 0, 0, 0};
    CHECK_FALSE(f::validate_dense(DType::e4m3, x.data(), 1, 8).ok);
  }
  {  // tf32: two nonzeros in pair 2 of row 1 (K = 8: four pairs per row)
    std::vector<uint32_t> x(16, 0);
    x[8 + 4] = kT32One, x[8 + 5] = kT32NaN;
    const f::Violation v = f::validate_dense(DType::tf32, x.data(), 2, 8);
    CHECK_FALSE(v.ok);
    CHECK(v.row == 1);
    CHECK(v.chunk == 2);
    CHECK(v.message == "row 1, pair 2 (columns 4..5) has 2 nonzeros; 1:2 allows at most 1");
    std::vector<uint32_t> values(8);
    std::vector<uint8_t> meta(4);
    REQUIRE_FORMAT_ERROR(f::compress(DType::tf32, x.data(), 2, 8, values.data(), meta.data()),
                         "input is not 1:2: row 1, pair 2");
  }
  {  // tf32 metadata: only 0x4 and 0xE; a 2:4 code such as 0x8 is refused
    for (uint32_t nib = 0; nib < 16; ++nib) {
      const std::vector<uint8_t> meta = {static_cast<uint8_t>(0x4 | (nib << 4)), 0xE4};
      const f::Violation v = f::validate_meta(DType::tf32, meta.data(), 1, 8);
      INFO("nibble " << nib);
      CHECK(v.ok == (nib == 0x4 || nib == 0xE));
      if (!v.ok) {
        CHECK(v.chunk == 1);
        CHECK(v.message.find("is not a pair code") != std::string::npos);
        std::vector<uint32_t> values(4), dense(8);
        REQUIRE_FORMAT_ERROR(f::decompress(DType::tf32, values.data(), meta.data(), 1, 8, dense.data()),
                             "invalid metadata: row 0, pair 1 (columns 2..3)");
      }
    }
  }
  // 8-bit metadata uses the 2:4 codes: validate_meta(int8) is validate_meta() without a type.
  const auto meta = random_bytes(64, 51);
  for (DType t : {DType::int8, DType::e4m3, DType::e5m2}) {
    const f::Violation a = f::validate_meta(t, meta.data(), 8, 64), b = f::validate_meta(meta.data(), 8, 64);
    CHECK(a.ok == b.ok);
    CHECK(a.message == b.message);
  }
}

TEST_CASE("format, new types: shapes, sizes and the types without a format", "[format]") {
  // tf32: two pairs per metadata byte, so K % 4; 8-bit types: as 16-bit, K % 8.
  std::vector<uint32_t> e32(64);
  std::vector<uint8_t> e8(64), m(64);
  REQUIRE_FORMAT_ERROR(f::prune(DType::tf32, e32.data(), 1, 6, e32.data()),
                       "K = 6 is not a multiple of 4 (two pairs per metadata byte)");
  REQUIRE_FORMAT_ERROR(f::prune(DType::tf32, e32.data(), 1, 2, e32.data()),
                       "K = 2 is less than 4 (one metadata byte holds two pairs of 2)");
  REQUIRE_FORMAT_ERROR(f::prune(DType::int8, e8.data(), 1, 12, e8.data()), "K = 12 is not a multiple of 8");
  CHECK(f::meta_bytes_per_row(DType::tf32, 64) == 16);
  CHECK(f::meta_bytes_per_row(DType::int8, 64) == 8);
  CHECK(f::compressed_cols(DType::tf32, 64) == 32);
  CHECK(f::meta_bytes(MetaLayout::Canonical, DType::tf32, 3, 12) == 9u);
  CHECK(f::meta_bytes(MetaLayout::LaneBlocks16, DType::tf32, 32, 16) == 128u);   // one block: 32 rows x 16 tf32 k
  CHECK(f::meta_bytes(MetaLayout::Wgmma16x64, DType::tf32, 16, 32) == 128u);     // 16 rows x 32 tf32 k
  CHECK(f::meta_bytes(MetaLayout::Canonical, DType::e4m3, 3, 40) == 15u);
  REQUIRE_FORMAT_ERROR(f::meta_bytes(MetaLayout::LaneBlocks16, DType::tf32, 32, 8),
                       "K = 8 is not a multiple of 16 (lane-block metadata covers one tf32 m16n8k16 k-step)");
  REQUIRE_FORMAT_ERROR(f::meta_bytes(MetaLayout::Wgmma16x64, DType::tf32, 16, 16),
                       "K = 16 is not a multiple of 32 (wgmma16x64 metadata covers two tf32 m64nNk16 k-steps)");
  // The kernel layouts serve 16-bit and tf32 instructions; 8-bit types have the canonical form only (for now).
  for (DType t : {DType::int8, DType::e4m3, DType::e5m2}) {
    REQUIRE_FORMAT_ERROR(f::reorder_meta(MetaLayout::LaneBlocks16, t, m.data(), 32, 64, e8.data()),
                         "metadata layout lane_blocks16 is read by no instruction of 8-bit types");
    REQUIRE_FORMAT_ERROR(f::meta_bytes(MetaLayout::Wgmma16x64, t, 16, 64), "wgmma16x64 is read by no instruction");
    CHECK(f::meta_bytes(MetaLayout::Canonical, t, 16, 64) == 128u);
  }
  for (DType t : {DType::f32, DType::int32}) {
    REQUIRE_FORMAT_ERROR(f::prune(t, e32.data(), 1, 8, e32.data()), "has no sparse format");
    REQUIRE_FORMAT_ERROR(f::validate_meta(t, m.data(), 1, 8), "has no sparse format");
    REQUIRE_FORMAT_ERROR(f::reorder_meta(MetaLayout::Canonical, t, m.data(), 1, 8, e8.data()), "has no sparse format");
  }
  // The byte accounting of each type's own sparsity: int8 keeps 62.5% of the dense bytes, tf32 56.25% (a nibble per
  // kept 32-bit value: the 16-bit proportion; docs/sparse-tensor-cores.md §2).
  CHECK(f::byte_account(DType::int8).fraction_saved == Approx(0.375));
  CHECK(f::byte_account(DType::e5m2).meta_over_values == Approx(0.25));
  CHECK(f::byte_account(DType::tf32).dense_bits_per_group == 64);
  CHECK(f::byte_account(DType::tf32).compressed_bits_per_group == 36);
  CHECK(f::byte_account(DType::tf32).fraction_saved == Approx(0.4375));
  CHECK(f::byte_account(DType::fp16).fraction_saved == Approx(f::byte_account(16).fraction_saved));
}

TEST_CASE("format tf32: the layouts are the 16-bit ones over pair nibbles", "[format][tf32]") {
  // A tf32 row of K columns has the metadata of a 16-bit row of 2K columns (K/2 nibbles), and the tf32 m16n8k16
  // fragment is the m16n8k32 one in nibbles (docs/sparse-tensor-cores.md §3), so the reorders must agree byte for
  // byte with the 16-bit reorder of the same bytes at 2K.
  const std::pair<int64_t, int64_t> shapes[] = {{32, 32}, {64, 64}, {96, 160}};
  for (const auto& [M, K] : shapes)
    for (MetaLayout l : {MetaLayout::LaneBlocks16, MetaLayout::Wgmma16x64}) {
      INFO(f::name(l) << ", " << M << " x " << K);
      const auto canonical = random_bytes(static_cast<size_t>(M * K / 4), 61);
      std::vector<uint8_t> as_tf32(canonical.size(), 0x5A), as_16(canonical.size(), 0xA5), back(canonical.size());
      f::reorder_meta(l, DType::tf32, canonical.data(), M, K, as_tf32.data());
      f::reorder_meta(l, canonical.data(), M, 2 * K, as_16.data());
      CHECK(as_tf32 == as_16);
      f::reorder_meta_to_canonical(l, DType::tf32, as_tf32.data(), M, K, back.data());
      CHECK(back == canonical);
    }
  // And by hand against the tf32 fragment: LaneBlocks16, row g = 3 (q even: bits 15:0), pair p = 5 (dense k 10,
  // 11: q odd, the lane's 16-bit field holds pairs 4..7, nibble 5 - 4 = 1): lane 4*3 + 1 = 13, bits 7:4 -> byte
  // 4*13 + 0 = 52, high nibble. Row 27 (second m16 tile, g = 3, rows g + 8: bits 31:16), pair 2: lane 4*3 + 2 = 14,
  // bits 27:24 -> byte 4*14 + 3 = 59, low nibble.
  std::vector<uint8_t> canonical(32 * 16 / 4, 0x44), out(canonical.size());
  canonical[3 * 4 + 5 / 2] = static_cast<uint8_t>(0x4 | (0xE << 4));    // row 3, pair 5 (odd: high nibble) = 0xE
  canonical[27 * 4 + 2 / 2] = static_cast<uint8_t>(0xE | (0x4 << 4));   // row 27, pair 2 (even: low nibble) = 0xE
  f::reorder_meta(MetaLayout::LaneBlocks16, DType::tf32, canonical.data(), 32, 16, out.data());
  for (size_t i = 0; i < out.size(); ++i) {
    INFO("byte " << i);
    const uint8_t want = i == 52 ? 0xE4 : (i == 59 ? 0x4E : 0x44);
    CHECK(out[i] == want);
  }
}

TEST_CASE("format: layout descriptions are bit permutations with a true inverse", "[format]") {
  for (MetaLayout l : {MetaLayout::Canonical, MetaLayout::LaneBlocks16, MetaLayout::Wgmma16x64}) {
    const f::MetaLayoutDesc& d = f::desc(l);
    INFO(d.name);
    const int64_t M = 2 * d.block_rows(), cols = 4 * d.block_nibble_cols();
    std::vector<int> hits(static_cast<size_t>(M * cols), 0);
    for (int64_t r = 0; r < M; ++r)
      for (int64_t j = 0; j < cols; ++j) {
        int shift = -1;
        const int64_t byte = f::rules::layout_nibble_byte(d, r, j, cols, &shift);
        REQUIRE((shift == 0 || shift == 4));
        REQUIRE(byte >= 0);
        REQUIRE(byte < M * cols / 2);
        const int64_t nibble = 2 * byte + shift / 4;
        ++hits[static_cast<size_t>(nibble)];
        int64_t rr = -1, jj = -1;
        const int64_t block_nibbles = 2 * d.block_bytes();
        f::rules::layout_coordinates(d, nibble / block_nibbles, static_cast<uint32_t>(nibble % block_nibbles), cols,
                                     &rr, &jj);
        CHECK(rr == r);
        CHECK(jj == j);
      }
    CHECK(std::count(hits.begin(), hits.end(), 1) == static_cast<long>(hits.size()));   // every nibble once
  }
  CHECK(f::desc(MetaLayout::LaneBlocks16).block_bytes() == f::kLaneBlockBytes);
  CHECK(f::desc(MetaLayout::Wgmma16x64).block_rows() == f::kWgmmaBlockRows);
}

// =====================================================================================================================
// The type table and the operand combinations (kernels/common/dtype.h, operands.h)
// =====================================================================================================================

TEST_CASE("types: the table's facts per type", "[types]") {
  using sparse24::info;
  using sparse24::MagnitudeKey;
  CHECK(info(DType::int8).bits == 8);
  CHECK(info(DType::e4m3).bits == 8);
  CHECK(info(DType::tf32).bits == 32);
  CHECK(info(DType::tf32).group == 2);
  CHECK(info(DType::tf32).keep == 1);
  CHECK(info(DType::int8).group == 4);
  CHECK(info(DType::int8).is_integer);
  CHECK_FALSE(info(DType::int32).sparse_input);
  CHECK(info(DType::e4m3).unit_roundoff == std::ldexp(1.0, -4));
  CHECK(info(DType::e5m2).unit_roundoff == std::ldexp(1.0, -3));
  CHECK(info(DType::tf32).unit_roundoff == info(DType::fp16).unit_roundoff);   // both have 11 significand bits
  CHECK(info(DType::int32).poison == 0x80000000u);
  CHECK(info(DType::e4m3).poison == 0xFFu);
  CHECK(std::isnan(e4m3_value(static_cast<uint8_t>(info(DType::e4m3).poison))));
  CHECK(std::isnan(e5m2_value(static_cast<uint8_t>(info(DType::e5m2).poison))));
  CHECK(std::isnan(f32_value(info(DType::tf32).poison)));
  CHECK(info(DType::e4m3).key == MagnitudeKey::FloatNanLow);
  CHECK(info(DType::bf16).key == MagnitudeKey::FloatNanHigh);
  // max_non_nan: the last magnitude that is a number.
  CHECK(!std::isnan(e4m3_value(static_cast<uint8_t>(info(DType::e4m3).max_non_nan))));
  CHECK(std::isnan(e4m3_value(static_cast<uint8_t>(info(DType::e4m3).max_non_nan + 1))));
  CHECK(std::isinf(e5m2_value(static_cast<uint8_t>(info(DType::e5m2).max_non_nan))));
  CHECK(std::isnan(e5m2_value(static_cast<uint8_t>(info(DType::e5m2).max_non_nan + 1))));
  for (const char* n : {"int8", "e4m3", "e5m2", "tf32", "int32"}) {
    DType t{};
    CHECK(sparse24::parse_dtype(n, &t));
    CHECK(std::string(sparse24::name(t)) == n);
  }
}

TEST_CASE("types: legal operand combinations and the rule for each refusal", "[types]") {
  using sparse24::Operands;
  using sparse24::operands_rule;
  auto rule = [](Operands o, bool scales) {
    const char* r = operands_rule(o, scales);
    return std::string(r ? r : "");
  };
  const DType i8 = DType::int8, i32 = DType::int32, f32 = DType::f32, bf = DType::bf16, fp = DType::fp16;
  CHECK(rule({bf, bf, bf, f32}, false).empty());
  CHECK(rule({fp, fp, f32, f32}, false).empty());
  CHECK(rule({i8, i8, i32, i32}, false).empty());
  CHECK(rule({i8, i8, bf, i32}, true).empty());
  CHECK(rule({DType::e4m3, DType::e5m2, bf, f32}, true).empty());
  CHECK(rule({DType::tf32, DType::tf32, f32, f32}, false).empty());
  CHECK(rule({i8, i8, fp, i32}, false).find("int8 with a float D needs scales") != std::string::npos);
  CHECK(rule({i8, i8, i32, i32}, true).find("int32 D takes no scales") != std::string::npos);
  CHECK(rule({i8, i8, i32, f32}, false) == "int8 accumulates in int32");
  CHECK(rule({bf, fp, bf, f32}, false).find("same type") != std::string::npos);
  CHECK(rule({bf, bf, fp, f32}, false).find("16-bit inputs write D") != std::string::npos);
  CHECK(rule({DType::e4m3, DType::e4m3, DType::e4m3, f32}, true).find("bf16, fp16 or f32") != std::string::npos);
  CHECK(rule({f32, f32, f32, f32}, false).find("sparse input") != std::string::npos);
  CHECK(rule({static_cast<DType>(99), bf, bf, f32}, false).find("not a DType") != std::string::npos);
  // Every input type's default combination is legal (with scales where its D needs them).
  for (DType t : {fp, bf, DType::tf32, i8, DType::e4m3, DType::e5m2})
    CHECK((sparse24::operands_legal(sparse24::default_operands(t), false) ||
           sparse24::operands_legal(sparse24::default_operands(t), true)));
  // Instruction K per combination: 256 bits of compressed A per row per sparse instruction.
  CHECK(sparse24::operand_info({i8, i8, i32, i32}).sparse_k == 64);
  CHECK(sparse24::operand_info({i8, i8, i32, i32}).dense_k == 32);
  CHECK(sparse24::operand_info({i8, i8, i32, i32}).mma_sp_selectors == 1);
  CHECK(sparse24::operand_info({DType::tf32, DType::tf32, f32, f32}).sparse_k == 16);
  CHECK(sparse24::operand_info({bf, bf, bf, f32}).sparse_k == 32);
  CHECK(sparse24::operand_info({i8, i8, bf, i32}).d_bytes == 2);
  CHECK(sparse24::operand_info({i8, i8, i32, i32}).epilogue == i32);
  CHECK(sparse24::operand_info({DType::e4m3, DType::e4m3, bf, f32}).epilogue == f32);
}

// ---- LaneBlocks8: the 8-bit m16n8k64 metadata register, word for word ------------------------------------------
namespace {

// Lane `lane`'s e register of mma.sp m16n8k64 for the 16-row group rg and the 64-wide k-step ks, built straight
// from docs/sparse-tensor-cores.md §3 (verified on an H200 by tests/gpu/test_instructions_8bit_gpu.cu): lane q
// holds row g (q even) or g + 8 (q odd), dense k 0..31 (q < 2) or 32..63 (q >= 2) of the k-step, 8 nibbles LSB
// first.
uint32_t k64_word(const std::vector<uint8_t>& canonical, int64_t K, int64_t rg, int64_t ks, int lane) {
  const int g = lane / 4, q = lane % 4;
  const int64_t row = 16 * rg + g + 8 * (q % 2);
  const int64_t first_chunk = (64 * ks + 32 * (q / 2)) / 4;
  uint32_t w = 0;
  for (int j = 0; j < 8; ++j) w |= nibble_at(canonical, K, row, first_chunk + j) << (4 * j);
  return w;
}

}  // namespace

TEST_CASE("format: LaneBlocks8 words equal the 8-bit m16n8k64 metadata register", "[format][8bit]") {
  const std::pair<int64_t, int64_t> shapes[] = {{16, 64}, {48, 128}, {96, 320}};
  for (DType t : {DType::int8, DType::e4m3, DType::e5m2})
    for (const auto& [M, K] : shapes) {
      INFO(name(t) << " " << M << " x " << K);
      const auto canonical = random_bytes(static_cast<size_t>(M * K / 8), 17);
      std::vector<uint8_t> out(f::meta_bytes(MetaLayout::LaneBlocks8, t, M, K), 0xA5);
      f::reorder_meta(MetaLayout::LaneBlocks8, t, canonical.data(), M, K, out.data());
      int64_t wrong = 0;
      for (int64_t rg = 0; rg < M / 16; ++rg)
        for (int64_t ks = 0; ks < K / 64; ++ks)
          for (int lane = 0; lane < 32; ++lane)
            wrong += word_at(out, static_cast<size_t>(32 * (rg * (K / 64) + ks) + lane)) !=
                     k64_word(canonical, K, rg, ks, lane);
      CHECK(wrong == 0);
      std::vector<uint8_t> back(canonical.size(), 0);
      f::reorder_meta_to_canonical(MetaLayout::LaneBlocks8, t, out.data(), M, K, back.data());
      CHECK(back == canonical);
    }
}

TEST_CASE("format: LaneBlocks8 serves 8-bit types only, and whole blocks", "[format][8bit]") {
  CHECK(std::string(f::name(MetaLayout::LaneBlocks8)) == "lane_blocks8");
  CHECK(f::meta_bytes(MetaLayout::LaneBlocks8, DType::int8, 32, 128) == 512u);  // 2 x 2 blocks of 128 bytes
  std::vector<uint8_t> m(16 * 64 / 8, 0x44), out(m.size());
  REQUIRE_FORMAT_ERROR(f::meta_bytes(MetaLayout::LaneBlocks8, DType::bf16, 16, 64), "lane_blocks8");
  REQUIRE_FORMAT_ERROR(f::meta_bytes(MetaLayout::LaneBlocks8, DType::int8, 8, 64), "serves 16 rows");
  REQUIRE_FORMAT_ERROR(f::meta_bytes(MetaLayout::LaneBlocks8, DType::int8, 16, 32), "one m16n8k64 k-step");
}

// ---- format.s02_onepass: the packed selection and the one-call reference ---------------------------------------

TEST_CASE("format: the one-pass kernel's packed selection equals keep_nibble_of_keys on every tie pattern",
          "[format][onepass]") {
  namespace r = f::rules;
  // Keys from a set with repeats, zero and the largest 16-bit key (0x7FFF: a NaN's), every 4-tuple: all tie
  // patterns, and the guard-bit subtraction at both ends of its range.
  const uint32_t keys[] = {0u, 1u, 2u, 0x100u, 0x7FFEu, 0x7FFFu};
  int tuples = 0;
  for (uint32_t a : keys)
    for (uint32_t b : keys)
      for (uint32_t c : keys)
        for (uint32_t d : keys) {
          const uint32_t key[4] = {a, b, c, d};
          const uint32_t want = r::keep_nibble_of_keys(key);
          INFO("keys " << a << " " << b << " " << c << " " << d);
          // The rank count keeps the same two.
          CHECK(r::nibble_of_keep_mask(r::keep_mask_by_rank(key)) == want);
          // The packed comparisons and the table: the same nibble, and selectors that gather the kept elements.
          const uint32_t entry = r::selection_entry(r::compare_index(a | (b << 16), c | (d << 16)));
          REQUIRE(r::entry_nibble(entry) == want);
          const int i0 = r::nibble_idx0(want), i1 = r::nibble_idx1(want);
          CHECK((entry & 0xFFFFu) == (uint32_t(2 * i0) | uint32_t(2 * i0 + 1) << 4 | uint32_t(2 * i1) << 8 |
                                      uint32_t(2 * i1 + 1) << 12));
          CHECK(r::entry_select8(entry) == (uint32_t(i0) | uint32_t(i1) << 4));
          ++tuples;
        }
  CHECK(tuples == 6 * 6 * 6 * 6);
  // Every index a total order produces has exactly two winners; the table has an entry for each of the 64.
  for (uint32_t i = 0; i < r::kSelectionEntries; ++i) CHECK(r::nibble_valid(r::entry_nibble(r::selection_entry(i))));
}

TEST_CASE("format: prune_compress is prune + compress + reorder_meta, and refuses what they refuse", "[format][onepass]") {
  const int64_t M = 64, K = 128;
  for (DType t : kBothTypes)
    for (MetaLayout l : {MetaLayout::Canonical, MetaLayout::LaneBlocks16, MetaLayout::Wgmma16x64}) {
      const auto dense = random_dense(M, K, 11);
      std::vector<uint16_t> pruned(dense.size()), values(dense.size() / 2), got_values(dense.size() / 2);
      std::vector<uint8_t> canonical(static_cast<size_t>(M * K / 8)), meta(canonical.size()), got_meta(meta.size());
      f::prune(t, dense.data(), M, K, pruned.data());
      f::compress(t, pruned.data(), M, K, values.data(), canonical.data());
      f::reorder_meta(l, t, canonical.data(), M, K, meta.data());
      f::prune_compress(t, l, dense.data(), M, K, got_values.data(), got_meta.data());
      CHECK(got_values == values);
      CHECK(got_meta == meta);
    }
  std::vector<uint8_t> buf(64 * 1024);
  uint8_t* p = buf.data();
  REQUIRE_FORMAT_ERROR(f::prune_compress(DType::fp16, MetaLayout::LaneBlocks16, p, 16, 32, p, p),
                       "format::prune_compress: M = 16 is not a multiple of 32 (lane-block metadata serves 32 rows)");
  REQUIRE_FORMAT_ERROR(f::prune_compress(DType::int8, MetaLayout::LaneBlocks8, p, 16, 96, p, p),
                       "K = 96 is not a multiple of 64");
  REQUIRE_FORMAT_ERROR(f::prune_compress(DType::e4m3, MetaLayout::Wgmma16x64, p, 16, 64, p, p),
                       "metadata layout wgmma16x64 is read by no instruction of 8-bit types");
  REQUIRE_FORMAT_ERROR(f::prune_compress(DType::int32, MetaLayout::Canonical, p, 16, 64, p, p), "has no sparse format");
  REQUIRE_FORMAT_ERROR(f::prune_compress(DType::bf16, MetaLayout::Canonical, p, 1, 8, nullptr, p),
                       "values is a null pointer");
  // NaN groups are not refused: the selection rule handles them (fp16: a NaN is kept over any number).
  const uint16_t nan_group[8] = {kNaN, kOne, kTwo, kNaN, kZ, kZ, kZ, kZ};
  uint16_t v[4] = {};
  uint8_t m = 0;
  f::prune_compress(DType::fp16, MetaLayout::Canonical, nan_group, 1, 8, v, &m);
  CHECK(m == 0x4C);   // chunk 0 keeps the NaNs (0, 3): 0xC; chunk 1, all zero: 0x4
  CHECK(v[0] == kNaN);
  CHECK(v[1] == kNaN);
}
