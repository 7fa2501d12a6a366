// Shared by the CPU and GPU tests of the 2:4 format: the refusal check, named fp16 bit patterns, nibble access, and
// random matrices whose chunks exercise every rule (degenerate chunks, ties, -0.0, NaN and inf).
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

inline std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

}  // namespace test
