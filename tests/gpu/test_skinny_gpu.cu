// The skinny family (kernels/skinny/) beyond the per-variant tests: every input type it serves (16-bit, 8-bit, tf32),
// every N from 1 to 16 and a sample up to 128
// at the smallest legal M and K, both check modes (exact small integers: bit for bit against the reference; random
// normal: the element bound), and run-to-run determinism of the split-K reduction (memcmp), on a shape where every
// split variant really splits: two plans, and one plan run three times with its output poisoned before each run,
// so that a run whose in-launch reduction did not happen (s02: arrival counters not back at zero after the run
// before) leaves NaN poison and fails; the counters are read back after every run. A later step gives the bits of
// s01 with the same parameters where both split alike (same partials, same order). Exit 77 without a GPU
// (tests/gpu/main.cpp).
#include "tests/catch.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "harness/check.h"
#include "harness/context.h"
#include "harness/problem.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/splitk.h"
#include "kernels/dispatch.h"
#include "kernels/registry.h"
#include "tests/gpu/host_io.h"
#include "tests/gpu/ring_wrap.h"

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
  for (DType t : {DType::fp16, DType::bf16, DType::int8, DType::e4m3, DType::e5m2, DType::tf32}) {
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

namespace {

// The arrival counters of a plan whose workspace has the one-launch layout (kernels/common/splitk.h: partials, then
// one u32 per row block), read from the device; empty for a plan without them (s01's layout, or split 1). The
// layout is recognised by the workspace size, not by the variant's name.
std::vector<uint32_t> arrival_counters(const Plan& plan) {
  const int split = static_cast<int>(plan.grid.y), row_blocks = static_cast<int>(plan.grid.x);
  const GemmArgs& a = plan.args;
  if (split < 2 || plan.workspace_bytes != splitk::counted_workspace_bytes(split, a.M, a.N, row_blocks)) return {};
  std::vector<uint32_t> c(row_blocks);
  const char* at = static_cast<const char*>(a.workspace) + splitk::counters_offset(split, a.M, a.N);
  SPARSE24_CUDA_CHECK(cudaMemcpy(c.data(), at, c.size() * sizeof(uint32_t), cudaMemcpyDeviceToHost));
  return c;
}

bool all_zero(const std::vector<uint32_t>& c) {
  for (uint32_t x : c)
    if (x) return false;
  return true;
}

}  // namespace

TEST_CASE("skinny: bit-identical results run to run (split-K reduction in a fixed order)", "[skinny]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  int counted = 0;
  for (const Variant* vp : skinny_variants()) {
    const Variant& v = *vp;
    if (!arch_error(v, sm).empty()) continue;
    // K of at least 32 chunks: every split factor of the registry (up to 16, and the SM-count choice) splits it;
    // and at least ring_wrap_k: every slice runs its chunk ring round (the sanitizer runs these shapes too). M of 5
    // lane blocks: the last row block has rows for one warp of four (BN <= 64) or two (BN = 128), the others arrive.
    const int M = 5 * v.rule.m_multiple, K = std::max(32 * v.rule.k_multiple, gputest::ring_wrap_k(v));
    for (int N : {1, 7, v.rule.n_max}) {
      if (!shape_error(v, M, N, K).empty()) continue;
      INFO(v.name << " on " << M << "x" << N << "x" << K);
      auto p = Problem::make(v.types.a, M, N, K, Fill::Normal, 77 + N, stream);
      DeviceBuffer d1(p->d_bytes()), d2(p->d_bytes());
      auto plan1 = prepare(v, args_for(v, *p, d1.get()));
      auto plan2 = prepare(v, args_for(v, *p, d2.get()));
      INFO("split " << plan1->grid.y << ", " << plan1->grid.x << " row blocks");
      poison(d1.get(), p->d_bytes(), stream);
      poison(d2.get(), p->d_bytes(), stream);
      plan1->run(stream);
      plan2->run(stream);
      SPARSE24_CUDA_CHECK(cudaGetLastError());
      SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
      const std::vector<uint8_t> h1 = gputest::download<uint8_t>(d1);
      CHECK(std::memcmp(h1.data(), gputest::download<uint8_t>(d2).data(), h1.size()) == 0);
      const bool has_counters = !arrival_counters(*plan1).empty();
      counted += has_counters;
      CHECK(all_zero(arrival_counters(*plan1)));
      // The same plan (same workspace) twice more, the output poisoned before each run: each run must write all of
      // D again, the same bits, and leave its counters at zero for the next.
      for (int run = 2; run <= 3; ++run) {
        INFO("run " << run << " of the first plan");
        poison(d1.get(), p->d_bytes(), stream);
        plan1->run(stream);
        SPARSE24_CUDA_CHECK(cudaGetLastError());
        SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
        CHECK(std::memcmp(h1.data(), gputest::download<uint8_t>(d1).data(), h1.size()) == 0);
        CHECK(all_zero(arrival_counters(*plan1)));
      }
      const CheckResult r = check_plan(*plan1, *p, stream);
      INFO(r.message);
      CHECK(r.passed);
    }
  }
  // The one-launch step is registered, so some plan above had arrival counters (else the check saw nothing).
  bool any_later_step = false;
  for (const Variant* v : skinny_variants()) any_later_step |= v->step >= 2 && arch_error(*v, sm).empty();
  if (any_later_step) CHECK(counted > 0);
}

TEST_CASE("skinny: a later step gives s01's bits with the same parameters and split (alpha, beta, C too)",
          "[skinny]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  int compared = 0;
  for (const Variant* vp : skinny_variants()) {
    const Variant& v = *vp;
    if (v.step < 2 || !arch_error(v, sm).empty()) continue;
    const Variant* base = nullptr;
    for (const Variant* u : skinny_variants())
      if (u->step == 1 && u->types.a == v.types.a && u->params == v.params) base = u;
    if (!base) continue;
    const int M = 5 * v.rule.m_multiple, K = std::max(32 * v.rule.k_multiple, gputest::ring_wrap_k(v));
    for (int N : {3, v.rule.n_max}) {
      if (!shape_error(v, M, N, K).empty() || !shape_error(*base, M, N, K).empty()) continue;
      INFO(v.name << " against " << base->name << " on " << M << "x" << N << "x" << K);
      auto p = Problem::make(v.types.a, M, N, K, Fill::Normal, 500 + N, stream);
      DeviceBuffer c(p->d_bytes()), d0(p->d_bytes()), d1(p->d_bytes());
      // C: s01's own output of the problem (beta = 0), then D = 1.5 A.B - 0.75 C by both steps.
      auto plan_c = prepare(*base, args_for(*base, *p, c.get()));
      plan_c->run(stream);
      GemmArgs a0 = args_for(*base, *p, d0.get()), a1 = args_for(v, *p, d1.get());
      a0.c = a1.c = c.get(), a0.alpha = a1.alpha = 1.5f, a0.beta = a1.beta = -0.75f;
      auto plan0 = prepare(*base, a0);
      auto plan1 = prepare(v, a1);
      // split_k 0: each step chooses its split with its own fixed cost and occupancy; compare where they agree.
      if (plan0->grid.y != plan1->grid.y) {
        WARN("splits differ (" << plan0->grid.y << " and " << plan1->grid.y << "): not compared");
        continue;
      }
      poison(d0.get(), p->d_bytes(), stream);
      poison(d1.get(), p->d_bytes(), stream);
      plan0->run(stream);
      plan1->run(stream);
      SPARSE24_CUDA_CHECK(cudaGetLastError());
      SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
      const std::vector<uint8_t> h0 = gputest::download<uint8_t>(d0);
      CHECK(std::memcmp(h0.data(), gputest::download<uint8_t>(d1).data(), h0.size()) == 0);
      ++compared;
    }
  }
  bool any_later_step = false;
  for (const Variant* v : skinny_variants()) any_later_step |= v->step >= 2 && arch_error(*v, sm).empty();
  if (any_later_step) CHECK(compared > 0);
}

TEST_CASE("dispatch: pick() returns a variant that accepts the shape", "[skinny][dispatch]") {
  const int sm = compute_capability(0);
  for (DType t : {DType::fp16, DType::bf16})
    for (int N : {1, 3, 16, 17, 64, 100, 128, 129, 4096}) {
      const Variant* v = pick(t, 28672, N, 8192, gpu_of(0));
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
