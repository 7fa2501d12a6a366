// Operations other than GEMM in the registry (kernels/registry.h, Operation): kernels/format's GPU path registered
// as prune_compress variants, their shape rules and refusals, and that nothing GEMM-specific takes them (prepare
// with GemmArgs, the dispatcher). Every refusal happens before any CUDA call, so these run on the CPU machines;
// the bit-for-bit check against the CPU reference is the benchmark's prune_compress row (harness/runner.cpp).
#include "tests/catch.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "kernels/dispatch.h"
#include "kernels/registry.h"

using namespace sparse24;

namespace {

// 16-byte aligned fake device addresses: never dereferenced, because every case below is refused first.
void* fake(uintptr_t p) { return reinterpret_cast<void*>(p); }

const Variant& first_gemm() {
  for (const auto& v : registry())
    if (v.operation == Operation::gemm) return v;
  throw std::logic_error("no GEMM variant registered");
}

// GEMM arguments the first GEMM variant's rules accept, on fake pointers.
GemmArgs gemm_args(const Variant& v) {
  GemmArgs a;
  a.M = v.rule.m_multiple * 2, a.N = v.rule.n_min, a.K = v.rule.k_multiple * 2;
  a.a = fake(0x10000), a.a_meta = fake(0x20000), a.b = fake(0x30000), a.d = fake(0x40000);
  return a;
}

}  // namespace
TEST_CASE("the format's GPU path is registered as a prune_compress operation for fp16 and bf16", "[registry]") {
  for (DType t : {DType::fp16, DType::bf16}) {
    const Variant* found = nullptr;
    for (const auto& v : registry())
      if (v.operation == Operation::prune_compress && v.types.a == t && v.family == "format" && v.step == 1)
        found = &v;
    INFO(name(t));
    REQUIRE(found != nullptr);
    CHECK(found->sparse);
    CHECK(found->meta_layout == format::MetaLayout::LaneBlocks16);
    CHECK(found->name == std::string("format.s01_separate.") + name(t) + ".lane_blocks16");
    // Its shape rule is its layout's: lane_blocks16 needs M and K multiples of 32 (format.h).
    CHECK(shape_error(*found, 32, 1, 32).empty());
    CHECK_THAT(shape_error(*found, 48, 1, 32), test::contains("M = 48"));
    CHECK_THAT(shape_error(*found, 32, 1, 40), test::contains("K = 40"));
  }
}

TEST_CASE("prepare refuses a variant of another operation, and bad prune_compress arguments", "[registry]") {
  const Variant* prune = nullptr;
  for (const auto& v : registry())
    if (v.operation == Operation::prune_compress && v.writes_pruned) prune = &v;   // s01: the rules below are its
  REQUIRE(prune != nullptr);
  const Variant& gemm = first_gemm();

  PruneCompressArgs ok;
  ok.M = 64, ok.K = 64;
  ok.dense = fake(0x10000), ok.pruned = fake(0x20000), ok.values = fake(0x30000), ok.meta = fake(0x40000);
  CHECK_THROWS_WITH(prepare(*prune, gemm_args(gemm)), test::contains("not a GEMM"));
  CHECK_THROWS_AS(prepare(*prune, gemm_args(gemm)), ShapeError);
  CHECK_THROWS_WITH(prepare(gemm, ok), test::contains("not a prune_compress one"));
  CHECK_THROWS_AS(prepare(gemm, ok), ShapeError);

  auto refused = [&](PruneCompressArgs a, const std::string& why) {
    INFO("expected refusal: " << why);
    CHECK_THROWS_AS(prepare(*prune, a), ShapeError);
    CHECK_THROWS_WITH(prepare(*prune, a), test::contains(prune->name) && test::contains(why));
  };
  PruneCompressArgs a = ok;
  a.M = 48;
  refused(a, "M = 48 is not a multiple of 32");
  a = ok, a.K = 0;
  refused(a, "positive");
  a = ok, a.K = int64_t(1) << 33;
  refused(a, "32 bits");
  a = ok, a.meta = nullptr;
  refused(a, "null");
  a = ok, a.values = fake(0x30008);
  refused(a, "16-byte aligned");
}

TEST_CASE("format.s02_onepass is registered per (type, layout its kernels read), and needs no pruned buffer",
          "[registry][onepass]") {
  const std::pair<DType, format::MetaLayout> want[] = {
      {DType::fp16, format::MetaLayout::LaneBlocks16}, {DType::bf16, format::MetaLayout::LaneBlocks16},
      {DType::fp16, format::MetaLayout::Wgmma16x64},   {DType::bf16, format::MetaLayout::Wgmma16x64},
      {DType::int8, format::MetaLayout::LaneBlocks8},  {DType::e4m3, format::MetaLayout::LaneBlocks8}};
  for (const auto& [t, layout] : want) {
    const std::string n = std::string("format.s02_onepass.") + name(t) + "." + format::name(layout);
    INFO(n);
    const Variant* v = find_variant(n);
    REQUIRE(v != nullptr);
    CHECK(v->operation == Operation::prune_compress);
    CHECK_FALSE(v->writes_pruned);
    const format::MetaLayoutDesc& d = format::desc(layout);
    // Its shape rule is its layout's blocks (format.h), refused before any CUDA call.
    CHECK(v->rule.m_multiple == d.block_rows());
    CHECK(v->rule.k_multiple == 4 * d.block_nibble_cols());
    CHECK(shape_error(*v, d.block_rows(), 1, 4 * d.block_nibble_cols()).empty());
    CHECK_THAT(shape_error(*v, d.block_rows() + 8, 1, 4 * d.block_nibble_cols()), test::contains(d.rows_reason));
    PruneCompressArgs a;
    a.M = 48, a.K = 64 * 3;
    a.dense = fake(0x10000), a.values = fake(0x30000), a.meta = fake(0x40000);   // no pruned: accepted past it
    a.M = d.block_rows() + 8;
    CHECK_THROWS_WITH(prepare(*v, a), test::contains(d.rows_reason));
    a.M = d.block_rows(), a.meta = nullptr;
    CHECK_THROWS_WITH(prepare(*v, a), test::contains("a null pointer (dense, values, meta)"));
  }
}

TEST_CASE("pick never returns an operation that is not a GEMM", "[registry]") {
  for (DType t : {DType::fp16, DType::bf16})
    for (int N : {1, 16, 128, 2048}) {
      const Variant* v = pick(t, 4096, N, 4096, 90);
      REQUIRE(v != nullptr);
      CHECK(v->operation == Operation::gemm);
    }
}

// pick() returns what a caller who passes no scales and the magnitude-pruned metadata of the type can run: never an
// ablation (correct only on uniform metadata), never a scaled variant, always the type's pick layout. For the types
// without a table of their own (8-bit, tf32) on Hopper, the wgmma_sp ladder (kernels/dispatch.cpp's fallback), when
// this build has it.
TEST_CASE("pick: no ablation, no scales, the type's layout; 8-bit and tf32 take the wgmma_sp ladder on sm_90",
          "[registry]") {
  const bool have_wgmma = std::any_of(registry().begin(), registry().end(),
                                      [](const Variant& v) { return v.family == "wgmma_sp"; });
  for (DType t : {DType::fp16, DType::bf16, DType::int8, DType::e4m3, DType::tf32})
    for (int N : {1, 16, 128, 2048, 8192}) {
      INFO(name(t) << " N = " << N);
      const Variant* v = pick(t, 8192, N, 8192, 90);
      if (!v) {
        CHECK(!have_wgmma);  // without the wgmma families, 8-bit and tf32 have only mma_sp's s01 (fp8, int8) or none
        continue;
      }
      CHECK(!v->uniform_metadata);
      CHECK(!v->has_scales);
      CHECK(v->types == default_operands(t));
      CHECK(v->meta_layout == (bytes_of(t) == 1 ? format::MetaLayout::LaneBlocks8 : format::MetaLayout::LaneBlocks16));
      if (have_wgmma && (bytes_of(t) != 2)) CHECK(v->family == "wgmma_sp");
    }
}
