// The registry and prepare(): behaviour that holds for every variant, present and future, with no GPU. Every
// refusal happens before any CUDA call, so these run on the CPU machines; that every shape the registry accepts
// also computes the right answer is the GPU tests' half (tests/gpu/test_kernels_gpu.cu, one CTest entry per
// variant).
#include "tests/catch.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>

#include "kernels/common/splitk.cuh"  // the host half: split choices and slice bounds (no CUDA code above __CUDACC__)
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

TEST_CASE("names are unique labels built from the fields", "[registry]") {
  const auto& all = registry();
  REQUIRE(!all.empty());
  std::set<std::string> names;
  for (const auto& v : all) {
    INFO(v.name);
    CHECK(names.insert(v.name).second);
    CHECK(v.name == variant_name(v));
    CHECK(find_variant(v.name) == &v);
    CHECK(v.threads > 0);
    CHECK((v.refuse && v.prepare && v.run));
    CHECK(info(v.types.acc).bits == 32);  // f32 accumulators today (s32 for int8 later)
  }
  CHECK(find_variant("mma_sp.s99_nothing.bf16.1x1x1.w1x1.s1") == nullptr);
}

TEST_CASE("every shape the rule refuses is refused by prepare, naming the variant and the rule", "[registry]") {
  for (const auto& v : registry()) {
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
  for (const auto& v : registry()) {
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

// The split-K choice of the block-tiled s06_splitk steps (kernels/common/splitk.cuh, choose_split_compute): a model
// in rounds of BK tiles, so the cases below are worked out by hand from it. The GPU figures are an H100 SXM's
// published peaks (132 SMs, 1980 MHz, 3.35 TB/s HBM3) and the sparse 128x256x64 tile at 1 block per SM; the cases
// that must not depend on those figures are checked with the bytes per round scaled from a quarter to four times.
TEST_CASE("split-K for compute-bound tiles: wave quantization against the partials' traffic", "[splitk]") {
  const double h100_round = splitk::round_bytes(2.0 * 128 * 256 * 64, 1, 2 * splitk::kMmaDenseFlopsPerClkSm, 1980e6,
                                                3.35e12);
  REQUIRE(h100_round > 0);
  const int slots = 132;
  auto split = [&](int M, int N, int K, double round) {
    return splitk::choose_split_compute((M / 128) * (N / 256), K / 64, slots, M, N, 2, round);
  };
  for (double scale : {0.25, 0.5, 1.0, 2.0, 4.0}) {
    INFO("bytes per round x " << scale);
    const double round = h100_round * scale;
    // 512 tiles = 3.88 waves: split s costs ceil(512 s / 132) * ceil(448 / s) >= 1750 rounds against 1792 at s = 1
    // (at most 2.3% back), and every slice's partials (8 s M N bytes) cost more than that.
    CHECK(split(8192, 2048, 28672, round) == 1);
    // 2048 tiles = 15.5 waves, K = 128 BK tiles: the same, with less K to share.
    CHECK(split(8192, 8192, 8192, round) == 1);
    // 64 tiles fill half the slots: split 2 is one full wave of 224 tiles instead of a half-empty one of 448.
    CHECK(split(1024, 2048, 28672, round) == 2);
  }
  // 160 tiles = 1.2 waves, where the trade-off decides: s = 2, 3, 4 cost 672, 600, 560 rounds of main loop plus
  // 56, 80, 104 rounds of partials (at the H100 figures) against 896 rounds at s = 1: 4 wins.
  CHECK(split(1280, 4096, 28672, h100_round) == 4);
  // With free partials the choice is wave quantization alone: main(s) = ceil(160 s / 132) * ceil(448 / s) is lowest
  // at s = 14 (17 waves x 32 tiles = 544; s = 28 ties, and the smaller split wins).
  CHECK(splitk::choose_split_compute(160, 448, slots, 1280, 4096, 2, 1e30) == 14);
  // A slice never has fewer than kMinSliceTiles (8) BK tiles: 16 tiles allow 2 slices, 15 allow 1.
  CHECK(splitk::choose_split_compute(4, 16, slots, 256, 512, 2, 1e30) == 2);
  CHECK(splitk::choose_split_compute(4, 15, slots, 256, 512, 2, 1e30) == 1);
  // No figures (an attribute the device did not report): no split.
  CHECK(splitk::choose_split_compute(64, 448, slots, 1024, 2048, 2, 0) == 1);
  CHECK(splitk::round_bytes(2.0 * 128 * 256 * 64, 1, 4096, 1980e6, 0) == 0);
}

TEST_CASE("split-K slices are contiguous runs of whole BK tiles, at most one tile apart", "[splitk]") {
  for (int k_tiles : {1, 7, 8, 128, 448})
    for (int split = 1; split <= splitk::kMaxSplit; ++split) {
      INFO(k_tiles << " BK tiles in " << split << " slices");
      int next = 0, shortest = k_tiles, longest = 0;
      for (int z = 0; z < split; ++z) {
        const splitk::Slice s = splitk::slice_of(z, split, k_tiles);
        CHECK(s.begin == next);
        CHECK(s.end >= s.begin);
        next = s.end;
        shortest = std::min(shortest, s.end - s.begin), longest = std::max(longest, s.end - s.begin);
      }
      CHECK(next == k_tiles);
      CHECK(longest - shortest <= 1);
      CHECK(longest == (k_tiles + split - 1) / split);  // what choose_split_compute charges a wave
    }
}
