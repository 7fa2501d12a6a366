// Shared by the CPU and GPU tests of the sparse formats: the refusal check, named bit patterns (fp16, and int8, e4m3,
// e5m2, tf32), nibble access, and random matrices whose groups exercise every rule (degenerate groups, ties, -0.0,
// NaN and inf, -128).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/format/format.h"
#include "tests/catch.h"

// The call throws FormatError and its message contains `text` (the rule, and for data the row and chunk).
#define REQUIRE_FORMAT_ERROR(expr, text)                            \
  do {                                                              \
    REQUIRE_THROWS_AS(expr, ::sparse24::format::FormatError);       \
    REQUIRE_THROWS_WITH(expr, test::contains(text));                \
  } while (0)

namespace test {

constexpr sparse24::DType kBothTypes[] = {sparse24::DType::fp16, sparse24::DType::bf16};

constexpr uint16_t kZ = 0x0000, kNZ = 0x8000;   // +0.0 and -0.0
constexpr uint16_t kOne = 0x3C00, kTwo = 0x4000, kThree = 0x4200, kFour = 0x4400, kEight = 0x4800;
constexpr uint16_t kHalf = 0x3800, kQuarter = 0x3400, kMax = 0x7BFF, kInf = 0x7C00, kNaN = 0x7E00, kSub = 0x0001;
constexpr uint16_t neg(uint16_t x) { return static_cast<uint16_t>(x | 0x8000); }

inline uint32_t nibble_at(const std::vector<uint8_t>& meta, int64_t K, int64_t row, int64_t chunk) {
  return (meta[static_cast<size_t>(row * (K / 8) + chunk / 2)] >> (4 * (chunk % 2))) & 0xFu;
}

inline void set_nibble(std::vector<uint8_t>& meta, int64_t K, int64_t row, int64_t chunk, uint32_t nibble) {
  uint8_t& b = meta[static_cast<size_t>(row * (K / 8) + chunk / 2)];
  const int shift = 4 * static_cast<int>(chunk % 2);
  b = static_cast<uint8_t>((b & ~(0xF << shift)) | (nibble << shift));
}

// ---- Random inputs that exercise every rule: degenerate chunks, ties, -0.0, NaN and inf ---------------------------

inline std::vector<uint16_t> random_dense(int64_t M, int64_t K, uint32_t seed) {
  std::mt19937 rng(seed);
  auto bits = [&] { return static_cast<uint16_t>(rng()); };
  auto zero = [&] { return (rng() & 1) ? kNZ : kZ; };
  auto sign = [&](uint16_t x) { return (rng() & 1) ? neg(x) : x; };
  static constexpr uint16_t kSpecial[] = {kInf, kNaN, neg(kInf), 0x7C01, 0x7F80, 0x7FC0, 0xFFFF, kMax, kSub, kNZ, kZ};
  std::vector<uint16_t> x(static_cast<size_t>(M * K));
  for (size_t i = 0; i < x.size(); i += 4) {
    uint16_t* c = &x[i];
    switch (rng() % 10) {
      case 0:   // all zero, with both signs
        for (int j = 0; j < 4; ++j) c[j] = zero();
        break;
      case 1:   // a single nonzero
        for (int j = 0; j < 4; ++j) c[j] = zero();
        c[rng() % 4] = sign(kOne);
        break;
      case 2: {  // exactly two nonzeros
        for (int j = 0; j < 4; ++j) c[j] = zero();
        const int a = static_cast<int>(rng() % 4), b = (a + 1 + static_cast<int>(rng() % 3)) % 4;
        c[a] = static_cast<uint16_t>(bits() | 1);   // | 1: never a zero
        c[b] = static_cast<uint16_t>(bits() | 1);
        break;
      }
      case 3: {  // one magnitude everywhere: the lower index must win
        const uint16_t v = bits();
        for (int j = 0; j < 4; ++j) c[j] = sign(v);
        break;
      }
      case 4: {  // ties among a few magnitudes
        const uint16_t v[2] = {bits(), bits()};
        for (int j = 0; j < 4; ++j) c[j] = sign(v[rng() % 2]);
        break;
      }
      case 5:    // NaN, inf, extremes
        for (int j = 0; j < 4; ++j) c[j] = kSpecial[rng() % (sizeof(kSpecial) / sizeof(kSpecial[0]))];
        break;
      default:
        for (int j = 0; j < 4; ++j) c[j] = bits();
    }
  }
  return x;
}

// ---- The other storage widths: named bit patterns, and generic random inputs ------------------------------------
// int8 (two's complement): raw bytes. e4m3 (1.4.3, bias 7, NaN S.1111.111 only, no inf), e5m2 (1.5.2, bias 15,
// inf S.11111.00, NaN S.11111.{01,10,11}), tf32 (f32 bits, 1.8.10 significant).
constexpr uint8_t kI8Min = 0x80, kI8Max = 0x7F, kI8MinusOne = 0xFF, kI8MinusMax = 0x81;   // -128, 127, -1, -127
constexpr uint8_t kE4One = 0x38, kE4Two = 0x40, kE4Max = 0x7E, kE4NaN = 0x7F, kE4NegNaN = 0xFF, kE4Sub = 0x01;
constexpr uint8_t kE5One = 0x3C, kE5Two = 0x40, kE5Max = 0x7B, kE5Inf = 0x7C, kE5NaN = 0x7E, kE5Sub = 0x01;
constexpr uint8_t kF8NegZero = 0x80;
constexpr uint32_t kT32One = 0x3F800000u, kT32Two = 0x40000000u, kT32Three = 0x40400000u, kT32Inf = 0x7F800000u,
                   kT32NaN = 0x7FC00000u, kT32NegZero = 0x80000000u, kT32Sign = 0x80000000u;

constexpr sparse24::DType kNewSparseTypes[] = {sparse24::DType::int8, sparse24::DType::e4m3, sparse24::DType::e5m2,
                                               sparse24::DType::tf32};

// Random raw bits of type t's width (S its storage), grouped as the type's groups, every group one of: all zero (both
// signs), one nonzero, `keep` nonzeros, one magnitude everywhere (ties), a few magnitudes, specials (NaN, inf,
// extremes), or anything.
template <class S>
std::vector<S> random_dense_of(sparse24::DType t, int64_t M, int64_t K, uint32_t seed) {
  const sparse24::DTypeInfo& d = sparse24::info(t);
  const int G = d.group;
  const S sign_bit = static_cast<S>(S{1} << (d.bits - 1));
  std::mt19937 rng(seed);
  auto bits = [&] { return static_cast<S>(rng()); };
  auto zero = [&] { return d.is_integer ? S{0} : ((rng() & 1) ? sign_bit : S{0}); };
  auto negate = [&](S x) {
    return d.is_integer ? static_cast<S>(S{0} - x) : static_cast<S>(x ^ sign_bit);
  };
  auto sign = [&](S x) { return (rng() & 1) ? negate(x) : x; };
  std::vector<S> special;
  switch (t) {
    case sparse24::DType::int8: special = {S(kI8Min), S(kI8Max), S(kI8MinusOne), S(kI8MinusMax), S(1), S(0)}; break;
    case sparse24::DType::e4m3:
      special = {S(kE4NaN), S(kE4NegNaN), S(kE4Max), S(kE4Max | 0x80), S(kE4Sub), S(kF8NegZero), S(0)};
      break;
    case sparse24::DType::e5m2:
      special = {S(kE5Inf), S(kE5NaN), S(0x7D), S(0xFF), S(kE5Inf | 0x80), S(kE5Max), S(kE5Sub), S(kF8NegZero), S(0)};
      break;
    default:  // tf32 (and any 32-bit float)
      special = {S(kT32Inf), S(kT32NaN), S(0x7F800001u), S(0xFFFFFFFFu), S(kT32Inf | kT32Sign), S(0x7F7FE000u),
                 S(0x00002000u), S(kT32NegZero), S(0)};
  }
  std::vector<S> x(static_cast<size_t>(M * K));
  for (size_t i = 0; i < x.size(); i += static_cast<size_t>(G)) {
    S* c = &x[i];
    switch (rng() % 9) {
      case 0:
        for (int j = 0; j < G; ++j) c[j] = zero();
        break;
      case 1:
        for (int j = 0; j < G; ++j) c[j] = zero();
        c[rng() % G] = sign(S(1));
        break;
      case 2:   // exactly `keep` nonzeros (2 for 2:4; 1 for pairs)
        for (int j = 0; j < G; ++j) c[j] = zero();
        for (int n = 0; n < d.keep; ++n) c[(rng() % G)] = static_cast<S>(bits() | 1);
        break;
      case 3: {
        const S v = bits();
        for (int j = 0; j < G; ++j) c[j] = sign(v);
        break;
      }
      case 4: {
        const S v[2] = {bits(), bits()};
        for (int j = 0; j < G; ++j) c[j] = sign(v[rng() % 2]);
        break;
      }
      case 5:
      case 6:
        for (int j = 0; j < G; ++j) c[j] = special[rng() % special.size()];
        break;
      default:
        for (int j = 0; j < G; ++j) c[j] = bits();
    }
  }
  return x;
}

inline std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

}  // namespace test
