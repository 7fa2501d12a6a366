// The skinny family (kernels/skinny/) beyond the per-variant tests: every N from 1 to 16 and a sample up to 128
// at the smallest legal M and K, both check modes (exact small integers: bit for bit against cuBLAS; random
// normal: the element bound), and run-to-run determinism of the split-K reduction (two runs, memcmp), on a shape
// where every split variant really splits. Exit 77 without a GPU (tests/gpu/main.cpp).
#include "tests/catch.h"

#include <cstring>
#include <memory>
#include <vector>

#include "harness/check.h"
#include "harness/context.h"
#include "harness/problem.h"
#include "kernels/common/cuda_check.h"
#include "kernels/dispatch.h"
#include "kernels/registry.h"

using namespace sparse24;
using namespace sparse24::harness;

namespace {

std::vector<const Variant*> skinny_variants() {
  std::vector<const Variant*> out;
  for (const Variant& v : registry())
    if (v.family == "skinny") out.push_back(&v);
  return out;
}

std::vector<int> n_values(int n_max) {
  std::vector<int> n;
  for (int i = 1; i <= 16; ++i) n.push_back(i);
  for (int i : {17, 23, 31, 32, 33, 47, 63, 64, 65, 96, 101, 127, 128})
    if (n_max == 0 || i <= n_max) n.push_back(i);
  while (!n.empty() && n_max && n.back() > n_max) n.pop_back();
  return n;
}

}  // namespace

TEST_CASE("skinny: every N in 1..16 and a sample up to BN, smallest M and K, both modes", "[skinny]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  const auto vs = skinny_variants();
  REQUIRE(!vs.empty());
  int ran = 0;
  for (DType t : {DType::fp16, DType::bf16}) {
    for (int N : n_values(128)) {
      // The problems depend on (M, K) of the variant's rule: build them per rule, shared by the variants.
      struct Cached {
        int M, K;
        std::unique_ptr<Problem> exact, normal;
      };
      std::vector<Cached> cache;
      for (const Variant* vp : vs) {
        const Variant& v = *vp;
        if (v.types.a != t || !arch_error(v, sm).empty()) continue;
        const int M = v.rule.m_multiple, K = v.rule.k_multiple;
        if (!shape_error(v, M, N, K).empty()) continue;
        Problem* exact = nullptr;
        Problem* normal = nullptr;
        for (auto& c : cache)
          if (c.M == M && c.K == K) exact = c.exact.get(), normal = c.normal.get();
        if (!exact) {
          auto e = Problem::make(t, M, N, K, Fill::SmallInt, 1000 + N, stream);
          auto n = Problem::make(t, M, N, K, Fill::Normal, 2000 + N, stream);
          exact = e.get(), normal = n.get();
          cache.push_back(Cached{M, K, std::move(e), std::move(n)});
        }
        INFO(v.name << " on " << M << "x" << N << "x" << K);
        DeviceBuffer d(exact->d_bytes());
        const CheckResult rx = check_variant(v, *exact, d.get(), stream);
        INFO("exact: " << rx.message);
        CHECK(rx.passed);
        const CheckResult rn = check_variant(v, *normal, d.get(), stream);
        INFO("normal: " << rn.message << " (rel_err " << rn.rel_err << ")");
        CHECK(rn.passed);
        ++ran;
      }
    }
  }
  CHECK(ran > 0);
}

TEST_CASE("skinny: bit-identical results run to run (split-K reduction in a fixed order)", "[skinny]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  for (const Variant* vp : skinny_variants()) {
    const Variant& v = *vp;
    if (!arch_error(v, sm).empty()) continue;
    // K of 32 chunks: every split factor of the registry (up to 16, and the SM-count choice) splits it.
    const int M = 4 * v.rule.m_multiple, K = 32 * v.rule.k_multiple;
    for (int N : {1, 7, v.rule.n_max}) {
      if (!shape_error(v, M, N, K).empty()) continue;
      INFO(v.name << " on " << M << "x" << N << "x" << K);
      auto p = Problem::make(v.types.a, M, N, K, Fill::Normal, 77 + N, stream);
      DeviceBuffer d1(p->d_bytes()), d2(p->d_bytes());
      auto plan1 = prepare(v, args_for(v, *p, d1.get()));
      auto plan2 = prepare(v, args_for(v, *p, d2.get()));
      poison(d1.get(), p->d_bytes(), stream);
      poison(d2.get(), p->d_bytes(), stream);
      plan1->run(stream);
      plan2->run(stream);
      SPARSE24_CUDA_CHECK(cudaGetLastError());
      SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
      std::vector<uint8_t> h1(p->d_bytes()), h2(p->d_bytes());
      SPARSE24_CUDA_CHECK(cudaMemcpy(h1.data(), d1.get(), h1.size(), cudaMemcpyDeviceToHost));
      SPARSE24_CUDA_CHECK(cudaMemcpy(h2.data(), d2.get(), h2.size(), cudaMemcpyDeviceToHost));
      CHECK(std::memcmp(h1.data(), h2.data(), h1.size()) == 0);
      // And the same plan run again into the same buffer.
      plan1->run(stream);
      SPARSE24_CUDA_CHECK(cudaMemcpy(h2.data(), d1.get(), h2.size(), cudaMemcpyDeviceToHost));
      CHECK(std::memcmp(h1.data(), h2.data(), h1.size()) == 0);
      const CheckResult r = check_plan(*plan1, *p, stream);
      INFO(r.message);
      CHECK(r.passed);
    }
  }
}

TEST_CASE("dispatch: pick() returns a variant that accepts the shape", "[skinny][dispatch]") {
  const int sm = compute_capability(0);
  for (DType t : {DType::fp16, DType::bf16})
    for (int N : {1, 3, 16, 17, 64, 100, 128, 129, 4096}) {
      const Variant* v = pick(t, 28672, N, 8192, sm);
      INFO(name(t) << " N = " << N);
      REQUIRE(v != nullptr);
      CHECK(v->types.a == t);
      CHECK(shape_error(*v, 28672, N, 8192).empty());
      CHECK(arch_error(*v, sm).empty());
      // Any family may win a decode shape in the table (kernels/dispatch.h), but only a variant that reads the
      // caller's compressed A and its lane_blocks16 metadata.
      CHECK(v->sparse);
      CHECK(v->meta_layout == format::MetaLayout::LaneBlocks16);
    }
}
