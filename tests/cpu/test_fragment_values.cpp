// CPU tests of fragment order (kernels/format/fragment_values.h): the A registers of wgmma.sp RS as 16-byte chunks.
// Golden chunks worked by hand from the m16n8k32 A fragment, the permutation a bijection onto the image's first M
// rows (each value exactly once, the padding rows zero), the inverse a round trip, and the refusals.
#include "tests/catch.h"

#include <cstdint>
#include <vector>

#include "kernels/format/format.h"
#include "kernels/format/fragment_values.h"

namespace f = sparse24::format;
using sparse24::DType;

namespace {

// Values tagged by position: value (r, c) = 1 + r * cols + c (never 0, so a padding zero cannot pass for a value);
// K/2 * M stays below 2^16 in these tests, so every tag is distinct.
std::vector<uint16_t> tagged(int64_t M, int64_t ldv) {
  std::vector<uint16_t> v(size_t(M * ldv));
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < ldv; ++c) v[size_t(r * ldv + c)] = uint16_t(1 + r * ldv + c);
  return v;
}
uint16_t tag(int64_t r, int64_t c, int64_t ldv) { return uint16_t(1 + r * ldv + c); }

}  // namespace

TEST_CASE("fragment order: chunks worked by hand from the m16n8k32 A fragment", "[format][fragment]") {
  const int64_t M = 128, K = 128, ldv = K / 2;  // two slabs, two k-tiles
  const auto v = tagged(M, ldv);
  std::vector<uint16_t> img(f::fragment_values_bytes(DType::fp16, M, K) / 2);
  REQUIRE(img.size() == size_t(M * K / 2));
  f::to_fragment_order(DType::fp16, v.data(), ldv, M, K, img.data());
  // Block (slab 0, k-tile 0), chunk 0 = warp 0, k-step 0, lane 0 (g = 0, q = 0):
  //   a0 = (0, 0..1)  a1 = (8, 0..1)  a2 = (0, 8..9)  a3 = (8, 8..9)
  const uint16_t lane0[8] = {tag(0, 0, ldv), tag(0, 1, ldv), tag(8, 0, ldv), tag(8, 1, ldv),
                             tag(0, 8, ldv), tag(0, 9, ldv), tag(8, 8, ldv), tag(8, 9, ldv)};
  for (int e = 0; e < 8; ++e) CHECK(img[size_t(e)] == lane0[e]);
  // Block (slab 1, k-tile 1) = block 3; chunk (warp 2, k-step 1, lane 7 = g 1, q 3) = (2 * 2 + 1) * 32 + 7:
  //   rows 64 + 32 + 1 (+ 8), values 32 + 16 + 6..7 (+ 8)
  const int64_t at = (3 * 256 + (2 * 2 + 1) * 32 + 7) * 8;
  const int64_t r0 = 64 + 32 + 1, c0 = 32 + 16 + 6;
  const uint16_t lane7[8] = {tag(r0, c0, ldv),         tag(r0, c0 + 1, ldv),     tag(r0 + 8, c0, ldv),
                             tag(r0 + 8, c0 + 1, ldv), tag(r0, c0 + 8, ldv),     tag(r0, c0 + 9, ldv),
                             tag(r0 + 8, c0 + 8, ldv), tag(r0 + 8, c0 + 9, ldv)};
  for (int e = 0; e < 8; ++e) CHECK(img[size_t(at + e)] == lane7[e]);
  // A warp's k-step is 512 contiguous bytes: lane l's chunk follows lane l - 1's.
  CHECK(img[8 * 1] == tag(0, 2, ldv));   // lane 1: q = 1, a0 = (0, 2)
  CHECK(img[8 * 4] == tag(1, 0, ldv));   // lane 4: g = 1, a0 = (1, 0)
  CHECK(img[8 * 32] == tag(0, 16, ldv));  // chunk 32: warp 0, k-step 1, lane 0
}

TEST_CASE("fragment order: a bijection onto the first M rows, padding zero, and its inverse round-trips",
          "[format][fragment]") {
  for (const int64_t M : {16, 64, 80, 192}) {
    for (const int64_t K : {64, 192}) {
      for (const int64_t ldv : {K / 2, K / 2 + 8}) {
        CAPTURE(M, K, ldv);
        const auto v = tagged(M, ldv);
        std::vector<uint16_t> img(f::fragment_values_bytes(DType::bf16, M, K) / 2, 0xFFFF);
        f::to_fragment_order(DType::bf16, v.data(), ldv, M, K, img.data());
        // Every value of the M x K/2 tile appears exactly once; the rest of the image (rows past M) is zero.
        std::vector<int> seen(size_t(M * ldv), 0);
        int64_t zeros = 0;
        for (const uint16_t x : img) {
          if (x == 0) {
            ++zeros;
            continue;
          }
          const int64_t r = (x - 1) / ldv, c = (x - 1) % ldv;
          REQUIRE(r < M);
          REQUIRE(c < K / 2);  // never a value of the stride's padding columns
          ++seen[size_t(x - 1)];
        }
        for (int64_t r = 0; r < M; ++r)
          for (int64_t c = 0; c < K / 2; ++c) REQUIRE(seen[size_t(r * ldv + c)] == 1);
        CHECK(zeros == (f::fragment_slabs(M) * f::kFragmentSlabRows - M) * K / 2);
        // The inverse writes the values back and leaves the stride's padding columns alone.
        std::vector<uint16_t> back(size_t(M * ldv), 0xABCD);
        f::from_fragment_order(DType::bf16, img.data(), M, K, back.data(), ldv);
        for (int64_t r = 0; r < M; ++r)
          for (int64_t c = 0; c < ldv; ++c)
            REQUIRE(back[size_t(r * ldv + c)] == (c < K / 2 ? v[size_t(r * ldv + c)] : uint16_t{0xABCD}));
      }
    }
  }
}

TEST_CASE("fragment order: refuses 8-bit types, K off the k-tile, a short stride", "[format][fragment]") {
  std::vector<uint16_t> v(64 * 64), img(64 * 64);
  CHECK_THROWS_AS(f::fragment_values_bytes(DType::int8, 64, 128), f::FormatError);
  CHECK_THROWS_AS(f::fragment_values_bytes(DType::fp16, 64, 96), f::FormatError);
  CHECK_THROWS_AS(f::to_fragment_order(DType::fp16, v.data(), 16, 64, 64, img.data()), f::FormatError);
  CHECK_THROWS_AS(f::from_fragment_order(DType::e4m3, img.data(), 64, 64, v.data(), 32), f::FormatError);
}
