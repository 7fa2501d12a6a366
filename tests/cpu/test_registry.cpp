// The registry: names, descriptions and shape refusals (no GPU needed: refusals happen before any CUDA call).
#include "tests/catch.h"

#include <cstdint>
#include <regex>
#include <set>

#include "kernels/registry.h"

using namespace sparse24;

TEST_CASE("every variant has a unique, well-formed name that matches its fields", "[registry]") {
  const auto& all = registry();
  REQUIRE(all.size() >= 10);
  const std::regex form(R"(^(mma_sp|dense)\.s(\d\d)_([a-z0-9]+)\.(fp16|bf16)\.(\d+)x(\d+)x(\d+)\.w(\d+)x(\d+)\.s(\d+)$)");
  std::set<std::string> names;
  for (const auto& v : all) {
    INFO(v.name);
    CHECK(names.insert(v.name).second);
    std::smatch m;
    REQUIRE(std::regex_match(v.name, m, form));
    CHECK(m[1] == name(v.family));
    CHECK(std::stoi(m[2]) == v.step);
    CHECK(m[3] == v.technique);
    CHECK(m[4] == name(v.dtype));
    CHECK(std::stoi(m[5]) == v.bm);
    CHECK(std::stoi(m[6]) == v.bn);
    CHECK(std::stoi(m[7]) == v.bk);
    CHECK(std::stoi(m[8]) == v.wm);
    CHECK(std::stoi(m[9]) == v.wn);
    CHECK(std::stoi(m[10]) == v.stages);
    CHECK(v.threads == v.wm * v.wn * 32);
    CHECK(find_variant(v.name) == &v);
  }
  CHECK(find_variant("mma_sp.s99_nothing.bf16.1x1x1.w1x1.s1") == nullptr);
}

TEST_CASE("every variant states its constraints", "[registry]") {
  for (const auto& v : registry()) {
    INFO(v.name);
    CHECK(v.min_sm >= 80);
    CHECK(v.rule.m_multiple == 32);        // the lane-block metadata row group (dense: kept equal)
    CHECK(v.rule.k_multiple == v.bk);      // whole K tiles
    CHECK(v.rule.n_min == 1);              // any N: the kernels guard the N edge
    CHECK(v.launch_unchecked != nullptr);
    if (v.sparse) CHECK(v.meta_layout == format::MetaLayout::LaneBlocks16);
    CHECK(v.sparse == (v.family == Family::mma_sp));
  }
}

TEST_CASE("the first ladder is complete in both 16-bit types", "[registry]") {
  for (const char* dt : {"fp16", "bf16"}) {
    INFO(dt);
    const std::string d(dt);
    CHECK(find_variant("mma_sp.s01_global." + d + ".32x16x32.w2x2.s1"));
    CHECK(find_variant("mma_sp.s02_smem." + d + ".128x128x64.w2x2.s1"));
    CHECK(find_variant("mma_sp.s02_smem." + d + ".64x64x64.w2x2.s1"));
    CHECK(find_variant("dense.s02_smem." + d + ".128x128x64.w2x2.s1"));
    CHECK(find_variant("dense.s02_smem." + d + ".64x64x64.w2x2.s1"));
  }
}

TEST_CASE("illegal shapes are refused with the rule named", "[registry]") {
  for (const auto& v : registry()) {
    INFO(v.name);
    CHECK(shape_error(v, 32, 1, v.bk).empty());
    CHECK(shape_error(v, 64 * 3, 1000, 7 * v.bk).empty());
    CHECK_THAT(shape_error(v, 48, 8, v.bk), test::contains("M = 48 is not a multiple of 32"));
    CHECK_THAT(shape_error(v, 32, 8, v.bk + 16), test::contains("is not a multiple of the tile K"));
    CHECK_THAT(shape_error(v, 32, 0, v.bk), test::contains("must be positive"));
    CHECK_THAT(shape_error(v, -32, 8, v.bk), test::contains("must be positive"));
    CHECK_THAT(arch_error(v, 75), test::contains("needs sm_80"));
    CHECK(arch_error(v, 90).empty());
  }
}

TEST_CASE("launch refuses bad shapes and pointers before touching the GPU", "[registry]") {
  // 16-byte aligned fake addresses: never dereferenced, because every case below is refused first.
  auto fake = [](uintptr_t p) { return reinterpret_cast<void*>(p); };
  for (const auto& v : registry()) {
    INFO(v.name);
    GemmArgs a;
    a.M = 64, a.N = 8, a.K = v.bk;
    a.a = fake(0x1000), a.a_meta = fake(0x2000), a.b = fake(0x3000), a.d = fake(0x4000);
    GemmArgs bad_k = a;
    bad_k.K = v.bk + 8;
    CHECK_THROWS_AS(launch(v, bad_k, nullptr), ShapeError);
    CHECK_THROWS_WITH(launch(v, bad_k, nullptr), test::contains(v.name) && test::contains("tile K"));
    GemmArgs bad_m = a;
    bad_m.M = 40;
    CHECK_THROWS_WITH(launch(v, bad_m, nullptr), test::contains("M = 40"));
    GemmArgs misaligned = a;
    misaligned.b = fake(0x3002);
    CHECK_THROWS_WITH(launch(v, misaligned, nullptr), test::contains("16-byte aligned"));
    GemmArgs no_d = a;
    no_d.d = nullptr;
    CHECK_THROWS_WITH(launch(v, no_d, nullptr), test::contains("null"));
    GemmArgs beta_without_c = a;
    beta_without_c.beta = 1.0f;
    CHECK_THROWS_WITH(launch(v, beta_without_c, nullptr), test::contains("null"));
    if (v.sparse) {
      GemmArgs no_meta = a;
      no_meta.a_meta = nullptr;
      CHECK_THROWS_WITH(launch(v, no_meta, nullptr), test::contains("metadata"));
    }
  }
}
