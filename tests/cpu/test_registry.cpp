// The registry and prepare(): behaviour that holds for every variant, present and future, with no GPU. Every
// refusal happens before any CUDA call, so these run on the CPU machines; that every shape the registry accepts
// also computes the right answer is the GPU tests' half (tests/gpu/test_kernels_gpu.cu, one CTest entry per
// variant).
#include "tests/catch.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>

#include "kernels/dispatch.h"
#include "kernels/registry.h"

using namespace sparse24;

namespace {

// 16-byte aligned fake device addresses: never dereferenced, because every case below is refused first.
void* fake(uintptr_t p) { return reinterpret_cast<void*>(p); }

// Arguments that the variant's rules accept (the smallest legal shape), on fake pointers.
GemmArgs legal_args(const Variant& v) {
  GemmArgs a;
  a.M = v.rule.m_multiple * 2, a.N = std::max(v.rule.n_min, v.rule.n_multiple) * 3, a.K = v.rule.k_multiple * 2;
  if (v.rule.n_max && a.N > v.rule.n_max) a.N = v.rule.n_max;
  a.a = fake(0x10000), a.a_meta = fake(0x20000), a.b = fake(0x30000), a.d = fake(0x40000);
  return a;
}

}  // namespace

// The GEMM variants: what the GEMM-specific cases below run over (the registry also holds other operations).
std::vector<const Variant*> gemms() {
  std::vector<const Variant*> out;
  for (const auto& v : registry())
    if (v.operation == Operation::gemm) out.push_back(&v);
  return out;
}

TEST_CASE("names are unique labels built from the fields", "[registry]") {
  const auto& all = registry();
  REQUIRE(!all.empty());
  std::set<std::string> names;
  for (const auto& v : all) {
    INFO(v.name);
    CHECK(names.insert(v.name).second);
    CHECK(v.name == variant_name(v));
    CHECK(find_variant(v.name) == &v);
    CHECK((v.prepare && v.run));
    Operation parsed;
    CHECK((parse_operation(name(v.operation), &parsed) && parsed == v.operation));
    if (v.operation == Operation::gemm) {
      CHECK(v.threads > 0);
      CHECK(v.refuse);
      CHECK(info(v.types.acc).bits == 32);  // f32 accumulators today (s32 for int8 later)
    }
  }
  CHECK(find_variant("mma_sp.s99_nothing.bf16.1x1x1.w1x1.s1") == nullptr);
  Operation op;
  CHECK_FALSE(parse_operation("conv", &op));
}

TEST_CASE("every shape the rule refuses is refused by prepare, naming the variant and the rule", "[registry]") {
  for (const Variant* vp : gemms()) {
    const Variant& v = *vp;
    INFO(v.name);
    const GemmArgs ok = legal_args(v);
    REQUIRE(shape_error(v, ok.M, ok.N, ok.K).empty());
    const int mm = v.rule.m_multiple, km = v.rule.k_multiple;
    struct Case {
      int M, N, K;
    };
    std::vector<Case> cases = {{0, ok.N, ok.K}, {ok.M, 0, ok.K}, {ok.M, ok.N, 0}, {-mm, ok.N, ok.K}};
    if (mm > 1) cases.push_back({mm + mm / 2, ok.N, ok.K});
    if (km > 1) cases.push_back({ok.M, ok.N, km + km / 2});
    if (v.rule.n_max) cases.push_back({ok.M, v.rule.n_max + 1, ok.K});
    for (const Case& c : cases) {
      INFO(c.M << " x " << c.N << " x " << c.K);
      const std::string rule = shape_error(v, c.M, c.N, c.K);
      REQUIRE(!rule.empty());
      GemmArgs a = ok;
      a.M = c.M, a.N = c.N, a.K = c.K;
      CHECK_THROWS_AS(prepare(v, a), ShapeError);
      CHECK_THROWS_WITH(prepare(v, a), test::contains(v.name) && test::contains(rule));
    }
  }
}

TEST_CASE("prepare refuses bad pointers, strides, scales and grids before touching the GPU", "[registry]") {
  for (const Variant* vp : gemms()) {
    const Variant& v = *vp;
    INFO(v.name);
    const GemmArgs ok = legal_args(v);
    auto refused = [&](GemmArgs a, const std::string& why) {
      INFO("expected refusal: " << why);
      CHECK_THROWS_AS(prepare(v, a), ShapeError);
      CHECK_THROWS_WITH(prepare(v, a), test::contains(why));
    };
    GemmArgs a = ok;
    a.d = nullptr;
    refused(a, "null");
    a = ok, a.beta = 1.0f;  // C needed
    refused(a, "null");
    a = ok, a.b = fake(0x30002);
    refused(a, "16-byte aligned");
    a = ok, a.d = fake(0x40008);
    refused(a, "16-byte aligned");
    a = ok, a.beta = 1.0f, a.c = fake(0x50004);
    refused(a, "16-byte aligned");
    if (v.sparse) {
      a = ok, a.a_meta = nullptr;
      refused(a, "metadata");
      a = ok, a.a_meta = fake(0x20004);
      refused(a, "16-byte aligned");
    }
    const int64_t a_cols = v.sparse ? ok.K / 2 : ok.K;
    a = ok, a.lda = a_cols - 1;
    refused(a, "lda");
    a = ok, a.ldb = ok.K - 1;
    refused(a, "ldb");
    a = ok, a.ldd = ok.N - 1;
    refused(a, "ldd");
    a = ok, a.lda = a_cols + 1;  // rows of A no longer 16-byte aligned
    refused(a, "16-byte aligned");
    a = ok, a.beta = 1.0f, a.c = a.d, a.ldc = ok.N + 8, a.ldd = ok.N;
    refused(a, "aliases");
    if (!v.has_scales) {
      float s = 1;
      a = ok, a.scale_a = &s;
      refused(a, "scales");
    }
    int ws = 0;
    a = ok, a.workspace = &ws;
    refused(a, "workspace");
    // CUDA's grid-y limit of 65535 row blocks, for the block-tiled variants (those that tile M by bm).
    if (v.has_param("bm")) {
      a = ok;
      const long long rows = 65536LL * v.param("bm");
      if (rows <= 2147483647LL && rows % v.rule.m_multiple == 0) {
        a.M = static_cast<int>(rows);
        refused(a, "65535");
      }
    }
  }
}

TEST_CASE("architecture rules", "[registry]") {
  for (const auto& v : registry()) {
    INFO(v.name);
    CHECK_THAT(arch_error(v, v.arch.min_sm - 5), test::contains("needs sm_" + std::to_string(v.arch.min_sm)));
    CHECK(arch_error(v, v.arch.min_sm).empty());
    if (v.arch.max_sm) CHECK_FALSE(arch_error(v, v.arch.max_sm + 10).empty());
    else CHECK(arch_error(v, 120).empty());
  }
  ArchRule hopper_only{90, 90, true};
  CHECK(hopper_only.str() == "sm_90a");
  CHECK(ArchRule{80}.str() == "sm_80+");
}

// The dispatch table (kernels/dispatch_table.inc, generated from sweeps by scripts/make_dispatch_table.py) names
// variants by string. pick() skips a row whose variant is gone or cannot run the row's own shape, silently, so a
// stale table would fall back to the rule without anyone seeing it: every row must name a registered variant of
// the row's type that pick() may return (sparse, the type's pick layout: kernels/dispatch.h), accepts the row's
// shape and runs on the row's architecture, and pick() at exactly that row, on the row's GPU, returns it. A row of a family this build
// left out (the sm_90a families under CMake 3.24) is counted, not checked.
TEST_CASE("every dispatch-table row names a registered variant that pick() returns for its shape", "[dispatch]") {
  int count = 0, checked = 0;
  const DispatchRow* rows = dispatch_table(&count);
  REQUIRE(count > 0);
  std::set<std::string> built_families;
  for (const auto& v : registry()) built_families.insert(v.family);
  for (int i = 0; i < count; ++i) {
    const DispatchRow& r = rows[i];
    const std::string name = r.variant;
    INFO(name << " at " << r.M << "x" << r.N << "x" << r.K << " on " << r.gpu << ", sm " << r.sm);
    const Variant* v = find_variant(name);
    if (!v && !built_families.count(name.substr(0, name.find('.')))) continue;  // family not in this build
    REQUIRE(v != nullptr);
    CHECK(v->types.a == r.dtype);
    CHECK(v->sparse);
    CHECK(v->meta_layout == pick_layout(r.dtype));
    CHECK(shape_error(*v, r.M, r.N, r.K).empty());
    CHECK(arch_error(*v, r.sm).empty());
    CHECK(pick(r.dtype, r.M, r.N, r.K, Gpu{r.gpu, r.sm, 0}) == v);
    // Its near ties: registered variants that pick() may return for the row's shape, none of them the variant.
    std::istringstream ties(r.ties);
    for (std::string t; ties >> t;) {
      INFO("near tie " << t);
      const Variant* w = find_variant(t);
      if (!w && !built_families.count(t.substr(0, t.find('.')))) continue;
      REQUIRE(w != nullptr);
      CHECK(w != v);
      CHECK(pickable(*w, r.dtype, r.M, r.N, r.K, r.sm));
    }
    ++checked;
  }
  CHECK(checked > 0);
}
