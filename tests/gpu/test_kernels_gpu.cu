// Every registered variant against cuBLAS (on the decompressed A), in both modes, on the smallest legal shapes,
// non-square and odd shapes, and seeded random shapes. Outputs are poisoned before every run (check_variant).
//
// SPARSE24_TEST_SMALL=1 keeps only the small shapes (make sanitize runs this under compute-sanitizer).
#include "tests/catch.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <tuple>
#include <vector>

#include "harness/check.h"
#include "harness/context.h"
#include "harness/problem.h"
#include "harness/reference_cublas.h"
#include "kernels/common/cuda_check.h"
#include "kernels/registry.h"

using namespace sparse24;
using namespace sparse24::harness;

namespace {

constexpr int64_t kGuardBytes = 4096;

struct TestShape {
  int M, N, K;
};

bool small_only() {
  const char* s = std::getenv("SPARSE24_TEST_SMALL");
  return s && *s && *s != '0';
}

// Shapes for a variant whose K tile is bk: the smallest legal one, edges in N (1, odd, just past a tile), partial
// M tiles (96, 160 rows against 64/128-row tiles), several K tiles, and seeded random ones.
std::vector<TestShape> shapes_for(int bk) {
  std::vector<TestShape> s = {{32, 1, bk}, {64, 8, 2 * bk}, {96, 33, 3 * bk}, {32, 17, bk}};
  if (small_only()) return s;
  s.push_back({160, 130, 4 * bk});
  s.push_back({256, 257, 8 * bk});
  s.push_back({512, 64, 16 * bk});
  s.push_back({384, 1000, 6 * bk});
  std::mt19937 rng(20261122);
  for (int i = 0; i < 4; ++i)
    s.push_back({32 * int(1 + rng() % 12), int(1 + rng() % 300), bk * int(1 + rng() % 10)});
  return s;
}

// Problems are shared by every variant that runs the same (dtype, shape): set-up is most of the test's time.
struct Problems {
  std::unique_ptr<Problem> exact, normal;
};
Problems& problems(DType t, const TestShape& s, cudaStream_t stream) {
  static std::map<std::tuple<int, int, int, int>, Problems> cache;
  auto key = std::make_tuple(int(t), s.M, s.N, s.K);
  auto it = cache.find(key);
  if (it == cache.end()) {
    Problems p;
    p.exact = Problem::make(t, s.M, s.N, s.K, Fill::SmallInt, 7 + s.M * 31 + s.N * 17 + s.K, stream);
    p.normal = Problem::make(t, s.M, s.N, s.K, Fill::Normal, 11 + s.M * 31 + s.N * 17 + s.K, stream);
    it = cache.emplace(key, std::move(p)).first;
  }
  return it->second;
}

}  // namespace

TEST_CASE("every variant matches cuBLAS: exact on small integers, within the bound on normal values", "[kernels]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  int ran = 0;
  for (const Variant& v : registry()) {
    if (!arch_error(v, sm).empty()) {
      WARN(v.name << " skipped: " << arch_error(v, sm));
      continue;
    }
    for (const TestShape& s : shapes_for(v.bk)) {
      INFO(v.name << " on " << s.M << "x" << s.N << "x" << s.K);
      REQUIRE(shape_error(v, s.M, s.N, s.K).empty());
      Problems& p = problems(v.dtype, s, stream);
      // D with a guard band behind it, poisoned like D: a store past the last element of D must not happen.
      const size_t d_bytes = p.normal->d_bytes();
      DeviceBuffer d(d_bytes + kGuardBytes);
      poison(d.as<uint8_t>() + d_bytes, kGuardBytes, stream);
      const CheckResult exact = check_variant(v, *p.exact, d.get(), stream);
      INFO("exact: " << exact.message);
      CHECK(exact.passed);
      CHECK(exact.mismatches == 0);
      const CheckResult normal = check_variant(v, *p.normal, d.get(), stream);
      INFO("normal: " << normal.message << " (rel_err " << normal.rel_err << ")");
      CHECK(normal.passed);
      CHECK(normal.over_tolerance == 0);
      std::vector<uint8_t> guard(kGuardBytes);
      SPARSE24_CUDA_CHECK(cudaMemcpy(guard.data(), d.as<uint8_t>() + d_bytes, kGuardBytes, cudaMemcpyDeviceToHost));
      CHECK(std::count(guard.begin(), guard.end(), uint8_t{0xFF}) == kGuardBytes);
      ++ran;
    }
  }
  CHECK(ran > 0);
}

TEST_CASE("alpha and beta: D = alpha * A.B + beta * C, exact on small integers", "[kernels]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  const float alpha = 2.0f, beta = -1.0f;
  for (const Variant& v : registry()) {
    if (!arch_error(v, sm).empty()) continue;
    const TestShape s{96, 45, 2 * v.bk};
    INFO(v.name);
    Problems& p = problems(v.dtype, s, stream);
    const Problem& P = *p.exact;
    DeviceBuffer c(P.d_bytes()), ref(P.d_bytes()), d(P.d_bytes());
    fill_random(v.dtype, Fill::SmallInt, 99, c.get(), int64_t(s.M) * s.N, stream);
    SPARSE24_CUDA_CHECK(cudaMemcpyAsync(ref.get(), c.get(), P.d_bytes(), cudaMemcpyDeviceToDevice, stream));
    cublas().gemm(v.dtype, s.M, s.N, s.K, P.a_pruned.get(), P.b.get(), ref.get(), alpha, beta, stream);
    poison(d.get(), P.d_bytes(), stream);
    GemmArgs a = args_for(v, P, d.get());
    a.c = c.get(), a.alpha = alpha, a.beta = beta;
    launch(v, a, stream);
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    const CheckResult r = compare(v.dtype, Fill::SmallInt, d.get(), ref.get(), int64_t(s.M) * s.N, stream);
    INFO(r.message);
    CHECK(r.passed);

    // C may alias D (gemm_args.h): D starts as C and is updated in place.
    SPARSE24_CUDA_CHECK(cudaMemcpyAsync(d.get(), c.get(), P.d_bytes(), cudaMemcpyDeviceToDevice, stream));
    a.c = d.get();
    launch(v, a, stream);
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    const CheckResult in_place = compare(v.dtype, Fill::SmallInt, d.get(), ref.get(), int64_t(s.M) * s.N, stream);
    INFO("in place: " << in_place.message);
    CHECK(in_place.passed);
  }
}

TEST_CASE("the checks can fail: wrong metadata and unwritten output are caught", "[kernels][meta-test]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  const Variant* v = find_variant("mma_sp.s02_smem.bf16.64x64x64.w2x2.s1");
  REQUIRE(v);
  if (!arch_error(*v, sm).empty()) return;
  const TestShape s{64, 16, 128};
  Problems& p = problems(v->dtype, s, stream);
  const Problem& P = *p.exact;
  DeviceBuffer d(P.d_bytes());

  SECTION("a never-written output is all poison") {
    poison(d.get(), P.d_bytes(), stream);
    const CheckResult r = compare(v->dtype, Fill::SmallInt, d.get(), P.d_ref.get(), int64_t(s.M) * s.N, stream);
    CHECK_FALSE(r.passed);
    CHECK(r.nans == int64_t(s.M) * s.N);
  }
  SECTION("one metadata word replaced by another valid one changes the result") {
    // Word 5 of the first lane block is lane 5's e register (g = 1, q = 1: rows 1 and 9, k 16..31 of the first
    // tile): every nibble becomes another valid one (0x4 -> 0xE, anything else -> 0x4), a different selection.
    const size_t bytes = P.meta_lane16.bytes();
    std::vector<uint32_t> meta(bytes / 4);
    SPARSE24_CUDA_CHECK(cudaMemcpy(meta.data(), P.meta_lane16.get(), bytes, cudaMemcpyDeviceToHost));
    uint32_t w = meta[5], out = 0;
    for (int i = 0; i < 8; ++i) {
      uint32_t nib = (w >> (4 * i)) & 0xF;
      nib = nib == 0x4 ? 0xE : nib == 0xE ? 0x4 : 0x4;
      out |= nib << (4 * i);
    }
    REQUIRE(out != w);
    meta[5] = out;
    DeviceBuffer bad(bytes);
    SPARSE24_CUDA_CHECK(cudaMemcpy(bad.get(), meta.data(), bytes, cudaMemcpyHostToDevice));
    poison(d.get(), P.d_bytes(), stream);
    GemmArgs a = args_for(*v, P, d.get());
    a.a_meta = bad.get();
    launch(*v, a, stream);
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    const CheckResult r = compare(v->dtype, Fill::SmallInt, d.get(), P.d_ref.get(), int64_t(s.M) * s.N, stream);
    CHECK_FALSE(r.passed);
    CHECK(r.mismatches > 0);
  }
}

TEST_CASE("the random-normal check catches one wrong 16x8 tile that the norm alone would let pass",
          "[kernels][meta-test]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  const Variant* v = find_variant("mma_sp.s02_smem.bf16.64x64x64.w2x2.s1");
  REQUIRE(v);
  if (!arch_error(*v, sm).empty()) return;
  // 4096 x 2048: one 16x8 tile is 1/65536 of D, so copying a neighbouring tile over it (each element then off by
  // about sqrt(2) rms) gives a relative Frobenius error near sqrt(2 / 65536) = 0.0055, under the bf16 bound 2^-7:
  // the norm alone would pass it, and the element rule must not.
  const TestShape s{4096, 2048, 128};
  Problems& p = problems(v->dtype, s, stream);
  const Problem& P = *p.normal;
  DeviceBuffer d(P.d_bytes());
  REQUIRE(check_variant(*v, P, d.get(), stream).passed);
  // Tile rows 16..31, columns 8..15 get the values of rows 0..15, columns 0..7.
  for (int r = 0; r < 16; ++r)
    SPARSE24_CUDA_CHECK(cudaMemcpy(d.as<uint16_t>() + int64_t(16 + r) * s.N + 8, d.as<uint16_t>() + int64_t(r) * s.N,
                                   8 * sizeof(uint16_t), cudaMemcpyDeviceToDevice));
  const CheckResult r = compare(v->dtype, Fill::Normal, d.get(), P.d_ref.get(), int64_t(s.M) * s.N, stream);
  INFO(r.message << " (rel_err " << r.rel_err << ", bound " << r.bound << ")");
  CHECK(r.rel_err <= r.bound);  // the premise: the norm is blind to it
  CHECK_FALSE(r.passed);
  CHECK(r.over_tolerance > 100);
}
