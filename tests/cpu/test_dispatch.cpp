// The candidates `auto` times off the table (kernels/dispatch.h, "The candidates"): the rule over a synthetic list
// of variants (what the rule must do with steps that do not exist yet, and with none of the table's help), then over
// this build's registry and table at the shapes issue 19 measured on the H200. Pure host code: no GPU.
#include "tests/catch.h"

#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/registry.h"

using namespace sparse24;

namespace {

// The GPUs of the table (dispatch.h: gpu_model_key of the device name), one without rows, and one whose SM count is
// unknown; 132 SMs is the H100 SXM's and the H200's count.
const Gpu kH100{"nvidia-h100-80gb-hbm3", 90, 132};
const Gpu kH200{"nvidia-h200", 90, 132};
const Gpu kNoRows{"nvidia-test-gpu-without-rows", 90, 132};
const Gpu kUnknownSize{"nvidia-test-gpu-without-rows", 90, 0};

// A bf16 sparse GEMM variant in the pick layout, described by the fields the rule reads: family, step, the block
// tile, split_k (absent when split < 0; 0 = chosen in prepare) and the shape rule (M a multiple of 32, K of the tile's
// K, and for the skinny family N up to its tile). The hooks stay null: pickable() and shape_error() never call them.
Variant synthetic(const char* family, int step, const char* technique, int bm, int bn, int bk, int split) {
  const bool hopper = std::string(family) == "wgmma_sp";
  const bool bounded_n = std::string(family) == "skinny";
  Variant v;
  v.operation = Operation::gemm;
  v.family = family;
  v.step = step;
  v.technique = technique;
  v.types = default_operands(DType::bf16);
  v.sparse = true;
  v.meta_layout = pick_layout(DType::bf16);
  v.params = {{"bm", bm}, {"bn", bn}, {"bk", bk}, {"wm", hopper ? 8 : 2}, {"wn", 1}, {"stages", 4}};
  if (split >= 0) v.params.push_back({"split_k", split});
  v.threads = 256;
  v.arch = hopper ? ArchRule{90, 90, true} : ArchRule{80, 0, false};
  v.rule.m_multiple = 32;
  v.rule.k_multiple = bk;
  v.rule.n_max = bounded_n ? bn : 0;
  v.name = variant_name(v);
  return v;
}

// The ladder as registry.def has it today (the tiles the rule must choose between), plus a split-K step over narrow
// tiles that registry.def does not have: wgmma_sp step 11 at BN 16, 32 and 64 (the rule must take it where its tile
// fits without naming it), and a fixed split (split_k 3), which the rule never takes.
std::vector<Variant> synthetic_ladder() {
  return {
      synthetic("mma_sp", 5, "raster", 128, 128, 64, -1),
      synthetic("mma_sp", 5, "raster", 128, 256, 64, -1),
      synthetic("mma_sp", 6, "splitk", 128, 256, 64, 0),
      synthetic("mma_sp", 6, "splitk", 128, 256, 64, 2),
      synthetic("skinny", 1, "splitk", 128, 16, 128, 0),
      synthetic("skinny", 1, "splitk", 128, 64, 64, 0),
      synthetic("skinny", 2, "onelaunch", 128, 16, 128, 0),
      synthetic("skinny", 2, "onelaunch", 128, 64, 64, 0),
      synthetic("wgmma_sp", 3, "inflight", 128, 128, 64, -1),
      synthetic("wgmma_sp", 6, "tmastore", 128, 256, 64, -1),
      synthetic("wgmma_sp", 8, "splitk", 128, 128, 64, 0),
      synthetic("wgmma_sp", 8, "splitk", 128, 256, 64, 0),
      synthetic("wgmma_sp", 8, "splitk", 128, 128, 64, 3),
      synthetic("wgmma_sp", 9, "onelaunch", 128, 128, 64, 0),
      synthetic("wgmma_sp", 11, "narrow", 128, 16, 64, 0),
      synthetic("wgmma_sp", 11, "narrow", 128, 32, 64, 0),
      synthetic("wgmma_sp", 11, "narrow", 128, 64, 64, 0),
  };
}

std::set<std::string> names_of(const std::vector<const Variant*>& list) {
  std::set<std::string> out;
  for (const Variant* v : list) out.insert(v->name);
  return out;
}

const std::string kS08Wide = "wgmma_sp.s08_splitk.bf16.128x256x64.w8x1.s4.split_k0";
const std::string kS08 = "wgmma_sp.s08_splitk.bf16.128x128x64.w8x1.s4.split_k0";
const std::string kS09 = "wgmma_sp.s09_onelaunch.bf16.128x128x64.w8x1.s4.split_k0";
const std::string kMmaSplit = "mma_sp.s06_splitk.bf16.128x256x64.w2x1.s4.split_k0";
const std::string kNarrow16 = "wgmma_sp.s11_narrow.bf16.128x16x64.w8x1.s4.split_k0";
const std::string kNarrow64 = "wgmma_sp.s11_narrow.bf16.128x64x64.w8x1.s4.split_k0";

}  // namespace

// 8192x200x29568 (issue 19): s08 at 128x256 holds N in one column of 64 tiles, under half the 132 SMs, and 462
// k-tiles to cut: the split halves the rounds, so it is a candidate (the best variant measured there, 138.4 us on
// the H200, and not among the candidates of the session-8 rule). s09 has only 128x128: two columns, 128 tiles, a
// full wave: no split pays (the model keeps one slice), not a candidate; neither is the narrow step (BN 64: four
// columns, 256 tiles, just under two waves: 1.3% at best).
TEST_CASE("dispatch rule: a split-K step is tried at the N tile that holds N, where the split can pay",
          "[dispatch]") {
  const std::vector<Variant> pool = synthetic_ladder();
  const std::vector<const Variant*> cs = rule_candidates(DType::bf16, 8192, 200, 29568, kH200, pool);
  const std::set<std::string> names = names_of(cs);
  INFO("candidates: " << [&] {
    std::string s;
    for (const std::string& n : names) s += n + "; ";
    return s;
  }());
  CHECK(names.count(kS08Wide) == 1);
  CHECK(names.count(kMmaSplit) == 1);  // mma_sp s06 at 128x256: the same 64 tiles
  CHECK(names.count(kS08) == 0);       // s08's other tile: the rule tries a step at one tile
  CHECK(names.count(kS09) == 0);
  CHECK(names.count(kNarrow64) == 0);
  // The latest step without split-K of each family that accepts N = 200 (skinny does not), at its largest tile.
  CHECK(names.count("wgmma_sp.s06_tmastore.bf16.128x256x64.w8x1.s4") == 1);
  CHECK(names.count("mma_sp.s05_raster.bf16.128x256x64.w2x1.s4") == 1);
  CHECK(int(cs.size()) <= kMaxCandidates - 1);
  for (const Variant* v : cs) CHECK((!v->has_param("split_k") || v->param("split_k") == 0));
}

// Decode-sized N: every split step at its smallest tile that holds N, the narrow step (registered nowhere, named
// nowhere in the dispatcher) included, where the split pays or the tile fits N better than the family's unsplit
// step; the skinny family (split-K is all it has) with each of its steps.
TEST_CASE("dispatch rule: a new split-K step with narrow tiles is tried where its tile fits", "[dispatch]") {
  const std::vector<Variant> pool = synthetic_ladder();
  // 28672x16x8192: 224 row blocks on 132 SMs (1.7 waves): split 4 cuts the rounds from 2 x 128 to 7 x 32 (1.14x).
  const std::set<std::string> n16 = names_of(rule_candidates(DType::bf16, 28672, 16, 8192, kH200, pool));
  CHECK(n16.count(kNarrow16) == 1);
  CHECK(n16.count(kS08) == 1);
  CHECK(n16.count(kS09) == 1);
  CHECK(n16.count("skinny.s01_splitk.bf16.128x16x128.w2x1.s4.split_k0") == 1);
  CHECK(n16.count("skinny.s02_onelaunch.bf16.128x16x128.w2x1.s4.split_k0") == 1);
  // 32768x16x8192: 256 row blocks, 1.94 waves: no split cuts the rounds by 10% (2 x 128 at best), but a tile that
  // fits N better than the family's unsplit candidate (BN 256) is still that family's N = 16 tile: the narrow step
  // and s08/s09 at 128x128 stay; mma_sp's split step (the same 128x256 tile as its s05) does not.
  const std::set<std::string> wide_m = names_of(rule_candidates(DType::bf16, 32768, 16, 8192, kH200, pool));
  CHECK(wide_m.count(kNarrow16) == 1);
  CHECK(wide_m.count(kS08) == 1);
  CHECK(wide_m.count(kS09) == 1);
  CHECK(wide_m.count(kMmaSplit) == 0);
  // 10240x48x8192: 80 row blocks, under a wave: the narrow step at BN 64 (the smallest that holds 48).
  const std::set<std::string> n48 = names_of(rule_candidates(DType::bf16, 10240, 48, 8192, kH200, pool));
  CHECK(n48.count(kNarrow64) == 1);
  CHECK(n48.count("wgmma_sp.s11_narrow.bf16.128x16x64.w8x1.s4.split_k0") == 0);
  CHECK(n48.count(kS08) == 1);
}

// A split step with tiles of two block heights (wgmma_sp s16: 128 x 32/64 and 256 x 64/128) is tried at the tile
// that holds N and, in the slots left, at the best tile of its other height: at 4096x128x4096 s16 256x128 and
// 128x64 (the H200's fastest there in session 14, 19% ahead of the pick when only 256x128 was tried).
TEST_CASE("dispatch rule: a split step is also tried at its other block height", "[dispatch]") {
  std::vector<Variant> pool = synthetic_ladder();
  for (const auto& [bm, bn] : {std::pair{128, 32}, std::pair{128, 64}, std::pair{256, 64}, std::pair{256, 128}})
    pool.push_back(synthetic("wgmma_sp", 16, "pdl", bm, bn, 64, 0));
  const std::string s16_tall = "wgmma_sp.s16_pdl.bf16.256x128x64.w8x1.s4.split_k0";
  const std::string s16_short = "wgmma_sp.s16_pdl.bf16.128x64x64.w8x1.s4.split_k0";
  const std::vector<const Variant*> n128 = rule_candidates(DType::bf16, 4096, 128, 4096, kH200, pool);
  const std::set<std::string> names = names_of(n128);
  CHECK(names.count(s16_tall) == 1);
  CHECK(names.count(s16_short) == 1);
  CHECK(names.count("wgmma_sp.s16_pdl.bf16.128x32x64.w8x1.s4.split_k0") == 0);  // one tile per height
  // The other height comes after every step's preferred tile: it never takes a slot from another step.
  const auto at = [&](const std::string& n) {
    return std::find_if(n128.begin(), n128.end(), [&](const Variant* v) { return v->name == n; }) - n128.begin();
  };
  CHECK(at(s16_short) > at(s16_tall));
  CHECK(at(s16_short) > at("wgmma_sp.s11_narrow.bf16.128x64x64.w8x1.s4.split_k0"));
  // Tiles of several full waves: no split step at either height.
  for (const Variant* v : rule_candidates(DType::bf16, 10240, 4096, 8192, kH200, pool))
    CHECK(!v->has_param("split_k"));
}

// Large shapes: tiles of several full waves, where no split can pay: no split-K step, whatever the family (the
// session-8 rule timed s09 at 10240x4096x8192 anyway: 966 us against the best 678). The GPU's size unknown: every
// split step is kept, as the rule cannot tell.
TEST_CASE("dispatch rule: no split-K step where the tiles fill the GPU; all of them when its size is unknown",
          "[dispatch]") {
  const std::vector<Variant> pool = synthetic_ladder();
  for (const auto& [M, N, K] : {std::tuple{10240, 4096, 8192}, std::tuple{8192, 8192, 8192},
                                std::tuple{8192, 2048, 28672}, std::tuple{4096, 4096, 4096}}) {
    INFO(M << "x" << N << "x" << K);
    const std::vector<const Variant*> cs = rule_candidates(DType::bf16, M, N, K, kH200, pool);
    for (const Variant* v : cs) CHECK(!v->has_param("split_k"));
    CHECK(names_of(cs).count("wgmma_sp.s06_tmastore.bf16.128x256x64.w8x1.s4") == 1);
    const std::set<std::string> unknown = names_of(rule_candidates(DType::bf16, M, N, K, kUnknownSize, pool));
    CHECK(unknown.count(kS08Wide) == 1);
    CHECK(unknown.count(kS09) == 1);
    CHECK(unknown.count(kMmaSplit) == 1);
  }
}

// The same rule over this build's registry and table (skipped where the build lacks the variants: no wgmma families
// without CMake 3.24+). 8192x200x29568 now has a table row of its own on the H200 (the session-8 run), so its s08
// comes from the rule alone only on a GPU without rows; the table's rows must not crowd the rule out either.
TEST_CASE("dispatch: issue 19's shapes off the table get their best measured variants as candidates", "[dispatch]") {
  const std::string s08_bf16 = "wgmma_sp.s08_splitk.bf16.128x256x64.w8x1.s5.group8.cluster_m2.split_k0";
  const std::string s08_fp16 = "wgmma_sp.s08_splitk.fp16.128x256x64.w8x1.s5.group8.cluster_m2.split_k0";
  const std::string s06_g16 = "wgmma_sp.s06_tmastore.bf16.128x256x64.w8x1.s5.group16.cluster_m2.persistent1";
  const std::string s06_g32 = "wgmma_sp.s06_tmastore.bf16.128x256x64.w8x1.s5.group32.cluster_m2.persistent1";
  if (!find_variant(s08_bf16) || !find_variant(s06_g16) || !find_variant(s06_g32)) return;
  for (const Gpu& gpu : {kH100, kH200, kNoRows}) {
    INFO(gpu.model);
    CHECK(names_of(rule_candidates(DType::bf16, 8192, 200, 29568, gpu, registry())).count(s08_bf16) == 1);
    CHECK(names_of(candidates(DType::bf16, 8192, 200, 29568, gpu)).count(s08_bf16) == 1);
    if (find_variant(s08_fp16)) CHECK(names_of(candidates(DType::fp16, 8192, 200, 29568, gpu)).count(s08_fp16) == 1);
    // 10240x4096x8192: the two best variants on the H200 (678.4 and 686.5 us, session 8), the rule's wgmma_sp step
    // and the H200 table's row for 8192^3.
    const std::set<std::string> large = names_of(candidates(DType::bf16, 10240, 4096, 8192, gpu));
    CHECK(large.count(s06_g16) == 1);
    if (gpu.model == kH200.model) CHECK(large.count(s06_g32) == 1);
  }
}

// The budget holds on every kind of shape and type, with the table's help or not: at most kMaxCandidates, distinct,
// the rule's at most kMaxCandidates - 1 (a slot for the nearest row).
TEST_CASE("dispatch: the candidate budget holds with the split-K steps", "[dispatch]") {
  for (const Gpu& gpu : {kH100, kH200, kNoRows, kUnknownSize})
    for (DType t : {DType::fp16, DType::bf16, DType::int8, DType::e4m3, DType::tf32})
      for (int N : {1, 16, 48, 64, 128, 200, 256, 2048, 8192})
        for (const auto& [M, K] : {std::pair{4096, 14336}, std::pair{8192, 29568}, std::pair{28672, 8192}}) {
          INFO(gpu.model << " sm_count " << gpu.sm_count << " " << name(t) << " " << M << "x" << N << "x" << K);
          const std::vector<const Variant*> rule = rule_candidates(t, M, N, K, gpu, registry());
          const std::vector<const Variant*> all = candidates(t, M, N, K, gpu);
          CHECK(int(rule.size()) <= kMaxCandidates - 1);
          CHECK(int(all.size()) <= kMaxCandidates);
          CHECK(std::set<const Variant*>(all.begin(), all.end()).size() == all.size());
          for (const Variant* v : rule) CHECK(std::find(all.begin(), all.end(), v) != all.end());
        }
}
