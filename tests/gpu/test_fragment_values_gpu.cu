// The GPU fragment order (kernels/format/fragment_values.cu) against the CPU reference, bit for bit: random 16-bit
// patterns (every bit pattern is a value here: the permute moves bits), row strides with padding, M off the 64-row
// slab (the padding rows must come out zero), several k-tiles. The GEMM that reads the image
// (wgmma_sp.s15_rsldg) is checked by the variant tests; this pins the permute itself.
#include "tests/catch.h"

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/format/format.h"
#include "kernels/format/fragment_values.h"
#include "tests/gpu/host_io.h"

namespace f = sparse24::format;
using sparse24::DType;
using sparse24::gputest::download;
using sparse24::gputest::upload;

TEST_CASE("fragment order on the GPU equals the CPU reference, bit for bit", "[format][fragment]") {
  struct Case {
    int64_t M, K, ldv;
  };
  const Case cases[] = {{64, 64, 32}, {16, 128, 64}, {80, 192, 104}, {4096, 512, 256}, {200, 1024, 520}};
  std::mt19937 rng(20261203);
  for (const DType t : {DType::fp16, DType::bf16}) {
    for (const Case& c : cases) {
      CAPTURE(name(t), c.M, c.K, c.ldv);
      std::vector<uint16_t> values(size_t(c.M * c.ldv));
      for (auto& v : values) v = uint16_t(rng());
      const size_t bytes = f::fragment_values_bytes(t, c.M, c.K);
      std::vector<uint16_t> want(bytes / 2);
      f::to_fragment_order(t, values.data(), c.ldv, c.M, c.K, want.data());
      const auto dv = upload(values);
      // The output starts as a pattern no correct permute leaves behind (the padding rows must be written as zero).
      const auto dout = upload(std::vector<uint16_t>(bytes / 2, 0xA5A5));
      f::gpu::to_fragment_order(t, dv.get(), c.ldv, c.M, c.K, dout.get());
      const std::vector<uint16_t> got = download<uint16_t>(dout);
      REQUIRE(got.size() == want.size());
      size_t mismatches = 0;
      for (size_t i = 0; i < got.size(); ++i) mismatches += got[i] != want[i];
      CHECK(mismatches == 0);
    }
  }
}

TEST_CASE("fragment order on the GPU refuses what the CPU refuses, and misaligned pointers",
          "[format][fragment]") {
  const auto dv = upload(std::vector<uint16_t>(64 * 64 + 8));
  const auto dout = upload(std::vector<uint16_t>(64 * 64 + 8));
  CHECK_THROWS_AS(f::gpu::to_fragment_order(DType::int8, dv.get(), 64, 64, 128, dout.get()), f::FormatError);
  CHECK_THROWS_AS(f::gpu::to_fragment_order(DType::fp16, dv.get(), 48, 64, 96, dout.get()), f::FormatError);
  CHECK_THROWS_AS(f::gpu::to_fragment_order(DType::fp16, static_cast<const uint16_t*>(dv.get()) + 1, 32, 64, 64,
                                            dout.get()),
                  f::FormatError);
}
