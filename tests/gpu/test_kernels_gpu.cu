// Every registered variant against the f64 reference (on the decompressed A, harness/check.h), in both modes, on
// the smallest legal shapes, non-square and odd shapes, a K that wraps every ring, and seeded random shapes.
// Outputs are poisoned before every run (check_variant).
//
// SPARSE24_TEST_SMALL=1 keeps only the small shapes (make sanitize runs this under compute-sanitizer).
// SPARSE24_VARIANT=<name> tests that variant alone: CTest runs one entry per registered variant this way
// (scripts/discover_variants.cmake), so a failure names its variant and the variants run in parallel.
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
#include "kernels/common/splitk.h"
#include "kernels/registry.h"
#include "tests/gpu/ring_wrap.h"

using namespace sparse24;
using namespace sparse24::harness;
using sparse24::gputest::ring_wrap_k;
using sparse24::gputest::round_up;

namespace {

constexpr int64_t kGuardBytes = 4096;

struct TestShape {
  int M, N, K;
};

bool small_only() {
  const char* s = std::getenv("SPARSE24_TEST_SMALL");
  return s && *s && *s != '0';
}

// The variants under test: every registered GEMM, or the one SPARSE24_VARIANT names (an unknown name, or a variant
// of another operation, fails). The prune_compress operations are checked by the benchmark's own rows.
std::vector<const Variant*> variants_under_test() {
  std::vector<const Variant*> out;
  const char* only = std::getenv("SPARSE24_VARIANT");
  if (only && *only) {
    const Variant* v = find_variant(only);
    INFO("SPARSE24_VARIANT=" << only);
    REQUIRE(v != nullptr);
    REQUIRE(v->operation == Operation::gemm);
    out.push_back(v);
  } else {
    for (const Variant& v : registry())
      if (v.operation == Operation::gemm) out.push_back(&v);
  }
  return out;
}

// Shapes for a variant, from its shape rule alone (so a new family's variants are covered without listing them):
// the smallest legal one, edges in N (1, odd, just past a tile), partial M tiles, several K tiles, one K long
// enough that every ring wraps (ring_wrap_k), seeded random ones, and the two shapes where a reduced-precision
// reference once failed correct fp16 kernels (4096x3x4096, 4096x4097x4096). `small` (SPARSE24_TEST_SMALL: the
// sanitizer's shapes) keeps the first ones (the four small shapes and the two ring-wrap ones). Shapes the rule
// refuses are dropped here and tested as refusals in the CPU registry tests.
std::vector<TestShape> shapes_for(const Variant& v, bool small) {
  const int mm = v.rule.m_multiple, km = v.rule.k_multiple;
  // N of the ring-wrap shape: odd (a partial column tile), within the rule's N range.
  int wrap_n = v.rule.n_max > 0 ? std::min(9, v.rule.n_max) : 9;
  wrap_n = round_up(std::max(wrap_n, v.rule.n_min), v.rule.n_multiple);
  // N of the second ring-wrap shape: rows of D 16-byte aligned in every D type (24 x 2 or 4 bytes), so that the
  // TMA-store epilogues (wgmma_sp s06_tmastore.cuh: beta = 0 and aligned D only) take their TMA path on a wrapping
  // ring too; at the odd wrap_n they run their register fallback.
  int aligned_wrap_n = v.rule.n_max > 0 ? std::min(24, v.rule.n_max) : 24;
  aligned_wrap_n = round_up(std::max(aligned_wrap_n, v.rule.n_min), v.rule.n_multiple);
  std::vector<TestShape> s = {{mm, 1, km}, {2 * mm, 8, 2 * km}, {3 * mm, 33, 3 * km}, {mm, 17, km}};
  if (v.has_param("stages") && v.has_param("bk")) {
    s.push_back({mm, wrap_n, ring_wrap_k(v)});
    if (aligned_wrap_n != wrap_n) s.push_back({mm, aligned_wrap_n, ring_wrap_k(v)});
  }
  if (!small) {
    s.push_back({5 * mm, 130, 4 * km});
    s.push_back({8 * mm, 257, 8 * km});
    s.push_back({16 * mm, 64, 16 * km});
    s.push_back({12 * mm, 1000, 6 * km});
    std::mt19937 rng(20261122);
    for (int i = 0; i < 4; ++i)
      s.push_back({mm * int(1 + rng() % 12), int(1 + rng() % 300), km * int(1 + rng() % 10)});
    s.push_back({4096, 3, 4096});
    s.push_back({4096, 4097, 4096});
  }
  std::vector<TestShape> legal;
  for (const auto& t : s)
    if (shape_error(v, t.M, t.N, t.K).empty()) legal.push_back(t);
  return legal;
}
std::vector<TestShape> shapes_for(const Variant& v) { return shapes_for(v, small_only()); }

// Problems are shared by every variant that runs the same (dtype, shape): set-up is most of the test's time.
struct Problems {
  std::unique_ptr<Problem> exact, normal;
};
// Keyed by the operand types (a scaled int8 variant writes a bf16 D where the plain one writes int32) and the
// pattern (the ablations read a constant metadata word: their problems keep the first two of every group).
Problems& problems(const Operands& types, const TestShape& s, cudaStream_t stream,
                   Pattern pattern = Pattern::Magnitude) {
  static std::map<std::tuple<int, int, int, int, int, int, int, int>, Problems> cache;
  auto key = std::make_tuple(int(types.a), int(types.b), int(types.d), int(types.acc), s.M, s.N, s.K, int(pattern));
  auto it = cache.find(key);
  if (it == cache.end()) {
    Problems p;
    p.exact = Problem::make(types, s.M, s.N, s.K, Fill::SmallInt, 7 + s.M * 31 + s.N * 17 + s.K, stream, pattern);
    p.normal = Problem::make(types, s.M, s.N, s.K, Fill::Normal, 11 + s.M * 31 + s.N * 17 + s.K, stream, pattern);
    it = cache.emplace(key, std::move(p)).first;
  }
  return it->second;
}
Problems& problems(DType t, const TestShape& s, cudaStream_t stream) {
  return problems(default_operands(t), s, stream);
}
// The problems a variant is correct on: its own operand types, and the uniform pattern for an ablation.
Problems& problems_for(const Variant& v, const TestShape& s, cudaStream_t stream) {
  return problems(v.types, s, stream, v.uniform_metadata ? Pattern::FirstInGroup : Pattern::Magnitude);
}

// Both checks of `v` on `p` into a D with a poisoned guard band behind it (a store past the last element of D must
// not happen): exact on small integers, within the bound on normal values, the guard untouched.
void check_with_guard(const Variant& v, Problems& p, cudaStream_t stream) {
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
}

}  // namespace

TEST_CASE("every variant matches the reference: exact on small integers, within the bound on normal values",
          "[kernels][variant]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  int ran = 0, skipped = 0;
  for (const Variant* vp : variants_under_test()) {
    const Variant& v = *vp;
    if (!arch_error(v, sm).empty()) {
      WARN(v.name << " skipped: " << arch_error(v, sm));
      ++skipped;
      continue;
    }
    for (const TestShape& s : shapes_for(v)) {
      INFO(v.name << " on " << s.M << "x" << s.N << "x" << s.K);
      check_with_guard(v, problems_for(v, s, stream), stream);
      ++ran;
    }
  }
  CHECK(ran + skipped > 0);
}

// The sanitizer (scripts/sanitize.sh, SPARSE24_TEST_SMALL) sees only the small shapes: one of them must run every
// ring past its last stage, in every K slice, or a phase or barrier bug at the wrap goes unseen by memcheck and
// racecheck. A slice of k_tiles / slices tiles (the shortest, splitk::slice_of) wraps when it has stages + 1.
TEST_CASE("the sanitizer's shapes wrap every variant's ring at least once", "[kernels][variant]") {
  for (const Variant* vp : variants_under_test()) {
    const Variant& v = *vp;
    INFO(v.name);
    REQUIRE(v.has_param("stages"));
    REQUIRE(v.has_param("bk"));
    const int stages = v.param("stages"), bk = v.param("bk"), slices = gputest::max_slices(v);
    bool wraps = false;
    for (const TestShape& t : shapes_for(v, /*small=*/true)) {
      const int shortest_slice_tiles = (t.K / bk) / slices;
      wraps = wraps || shortest_slice_tiles >= stages + 1;
    }
    INFO("stages " << stages << ", bk " << bk << ", slices up to " << slices);
    CHECK(wraps);
  }
}

TEST_CASE("alpha and beta: D = alpha * A.B + beta * C, exact on small integers", "[kernels][variant]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  const float alpha = 2.0f, beta = -1.0f;
  for (const Variant* vp : variants_under_test()) {
    const Variant& v = *vp;
    if (!arch_error(v, sm).empty()) continue;
    const TestShape s{3 * v.rule.m_multiple, 45, 2 * v.rule.k_multiple};
    if (!shape_error(v, s.M, s.N, s.K).empty()) continue;
    INFO(v.name);
    const DType t = v.types.a;
    // An int32 D is the exact product: any other alpha, or a beta outside {0, 1}, is refused (registry.cu).
    if (v.types.d == DType::int32) {
      Problems& p = problems(t, s, stream);
      DeviceBuffer c(p.exact->d_bytes()), d(p.exact->d_bytes());
      GemmArgs a = args_for(v, *p.exact, d.get());
      a.c = c.get(), a.alpha = alpha, a.beta = beta;
      CHECK_THROWS_AS(prepare(v, a), ShapeError);
      continue;
    }
    // This case's reference is cuBLAS with the same alpha and beta on the same types; D of another type than A
    // (fp8 -> bf16) has no such cuBLAS call here yet: its alpha/beta reference comes with issue 16's peers.
    if (v.types.d != t) continue;
    Problems& p = problems_for(v, s, stream);
    const Problem& P = *p.exact;
    DeviceBuffer c(P.d_bytes()), ref(P.d_bytes()), d(P.d_bytes());
    fill_random(t, Fill::SmallInt, 99, c.get(), int64_t(s.M) * s.N, stream);
    SPARSE24_CUDA_CHECK(cudaMemcpyAsync(ref.get(), c.get(), P.d_bytes(), cudaMemcpyDeviceToDevice, stream));
    cublas().gemm(t, s.M, s.N, s.K, P.a_pruned.get(), P.b.get(), ref.get(), alpha, beta, stream);
    poison(d.get(), P.d_bytes(), stream);
    GemmArgs a = args_for(v, P, d.get());
    // cuBLAS's reference has alpha and beta but no scales (args_for gives a has_scales variant all four; their
    // path is checked by check_variant and tests/gpu/test_scales_gpu.cu).
    a.scale_a = a.scale_b = a.scale_row = a.scale_col = nullptr;
    a.c = c.get(), a.alpha = alpha, a.beta = beta;
    prepare(v, a)->run(stream);
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    const CheckResult r = compare_bits(t, d.get(), ref.get(), int64_t(s.M) * s.N, stream);
    INFO(r.message);
    CHECK(r.passed);

    // C may alias D (gemm_args.h): D starts as C and is updated in place.
    SPARSE24_CUDA_CHECK(cudaMemcpyAsync(d.get(), c.get(), P.d_bytes(), cudaMemcpyDeviceToDevice, stream));
    a.c = d.get();
    prepare(v, a)->run(stream);
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    const CheckResult in_place = compare_bits(t, d.get(), ref.get(), int64_t(s.M) * s.N, stream);
    INFO("in place: " << in_place.message);
    CHECK(in_place.passed);
  }
}

// Leading dimensions: every operand stored inside a wider buffer (rows padded by 16 bytes, or by one element for
// D and C, which need no alignment of their rows), the padding poisoned. The result must equal the packed run's,
// bit for bit, and the padding of D must stay poison. Any D type (16-bit, int32, bf16 from 8-bit inputs, scaled or
// not, f32): compared byte for byte. N = 40 keeps the packed D rows 16-byte aligned (80 or 160 bytes) and the
// padded ones not, so a TMA-store epilogue (wgmma_sp s06_tmastore.cuh) runs its TMA path on the packed problem and
// its register fallback on the padded one: the two epilogues must give the same bits.
TEST_CASE("leading dimensions: padded rows give the packed result and are not written", "[kernels][variant]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  for (const Variant* vp : variants_under_test()) {
    const Variant& v = *vp;
    if (!arch_error(v, sm).empty()) continue;
    const TestShape s{2 * v.rule.m_multiple, 40, 2 * v.rule.k_multiple};
    if (!shape_error(v, s.M, s.N, s.K).empty()) continue;
    INFO(v.name);
    const DType t = v.types.a;
    const int64_t eb = bytes_of(t), pad = 16 / eb, db = bytes_of(v.types.d);
    const Problem& P = *problems_for(v, s, stream).exact;
    const int64_t a_cols = v.sparse ? s.K / 2 : s.K, lda = a_cols + pad, ldb = s.K + pad, ldd = s.N + 1;
    DeviceBuffer a(s.M * lda * eb), b(int64_t(s.N) * ldb * eb), d(s.M * ldd * db), packed(P.d_bytes());
    poison(a.get(), a.bytes(), stream), poison(b.get(), b.bytes(), stream), poison(d.get(), d.bytes(), stream);
    const GemmArgs base = args_for(v, P, packed.get());
    SPARSE24_CUDA_CHECK(cudaMemcpy2DAsync(a.get(), lda * eb, base.a, a_cols * eb, a_cols * eb, s.M,
                                          cudaMemcpyDeviceToDevice, stream));
    SPARSE24_CUDA_CHECK(cudaMemcpy2DAsync(b.get(), ldb * eb, base.b, s.K * eb, s.K * eb, s.N,
                                          cudaMemcpyDeviceToDevice, stream));
    REQUIRE(check_variant(v, P, packed.get(), stream).passed);
    GemmArgs g = base;
    g.a = a.get(), g.lda = lda, g.b = b.get(), g.ldb = ldb, g.d = d.get(), g.ldd = ldd;
    prepare(v, g)->run(stream);
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    std::vector<uint8_t> got(d.bytes()), want(packed.bytes());
    SPARSE24_CUDA_CHECK(cudaMemcpy(got.data(), d.get(), d.bytes(), cudaMemcpyDeviceToHost));
    SPARSE24_CUDA_CHECK(cudaMemcpy(want.data(), packed.get(), packed.bytes(), cudaMemcpyDeviceToHost));
    int64_t wrong = 0, padding_written = 0;
    for (int m = 0; m < s.M; ++m) {
      for (int n = 0; n < s.N; ++n) {
        const uint8_t* g = got.data() + (m * ldd + n) * db;
        wrong += !std::equal(g, g + db, want.data() + (int64_t(m) * s.N + n) * db);
      }
      const uint8_t* pad_elem = got.data() + (m * ldd + s.N) * db;
      padding_written += std::count(pad_elem, pad_elem + db, uint8_t{0xFF}) != db;
    }
    CHECK(wrong == 0);
    CHECK(padding_written == 0);
  }
}

TEST_CASE("the checks can fail: wrong metadata and unwritten output are caught", "[kernels][meta-test]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  const Variant* v = find_variant("mma_sp.s02_smem.bf16.64x64x64.w2x2.s1");
  REQUIRE(v);
  if (!arch_error(*v, sm).empty()) return;
  const TestShape s{64, 16, 128};
  const DType t = v->types.a;
  Problems& p = problems(t, s, stream);
  const Problem& P = *p.exact;
  DeviceBuffer d(P.d_bytes());

  SECTION("a never-written output is all poison") {
    poison(d.get(), P.d_bytes(), stream);
    const CheckResult r = compare(t, Fill::SmallInt, d.get(), P.reference(), int64_t(s.M) * s.N, stream);
    CHECK_FALSE(r.passed);
    CHECK(r.nans == int64_t(s.M) * s.N);
  }
  SECTION("one metadata word replaced by another valid one changes the result") {
    // Word 5 of the first lane block is lane 5's e register (g = 1, q = 1: rows 1 and 9, k 16..31 of the first
    // tile): every nibble becomes another valid one (0x4 -> 0xE, anything else -> 0x4), a different selection.
    const DeviceBuffer& lane16 = P.meta_buffer(format::MetaLayout::LaneBlocks16);
    const size_t bytes = lane16.bytes();
    std::vector<uint32_t> meta(bytes / 4);
    SPARSE24_CUDA_CHECK(cudaMemcpy(meta.data(), lane16.get(), bytes, cudaMemcpyDeviceToHost));
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
    prepare(*v, a)->run(stream);
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    const CheckResult r = compare(t, Fill::SmallInt, d.get(), P.reference(), int64_t(s.M) * s.N, stream);
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
  const DType t = v->types.a;
  Problems& p = problems(t, s, stream);
  const Problem& P = *p.normal;
  DeviceBuffer d(P.d_bytes());
  REQUIRE(check_variant(*v, P, d.get(), stream).passed);
  // Tile rows 16..31, columns 8..15 get the values of rows 0..15, columns 0..7.
  for (int r = 0; r < 16; ++r)
    SPARSE24_CUDA_CHECK(cudaMemcpy(d.as<uint16_t>() + int64_t(16 + r) * s.N + 8, d.as<uint16_t>() + int64_t(r) * s.N,
                                   8 * sizeof(uint16_t), cudaMemcpyDeviceToDevice));
  const CheckResult r = compare(t, Fill::Normal, d.get(), P.reference(), int64_t(s.M) * s.N, stream);
  INFO(r.message << " (rel_err " << r.rel_err << ", bound " << r.bound << ")");
  CHECK(r.rel_err <= r.bound);  // the premise: the norm is blind to it
  CHECK_FALSE(r.passed);
  CHECK(r.over_tolerance > 100);
}

// One plan launched three times more, each output poisoned first: every launch gives the bits of `first` (a launch of
// the same problem already checked), i.e. nothing a launch leaves behind (counters, partials) changes the next one.
void same_bits_at_every_launch(const Variant& v, const Plan& plan, void* again, const void* first, size_t d_bytes,
                               int64_t count, cudaStream_t stream) {
  for (int launch = 0; launch < 3; ++launch) {
    poison(again, d_bytes, stream);
    plan.run(stream);
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    const CheckResult r = compare_bits(v.types.d, again, first, count, stream);
    INFO("launch " << launch + 2 << " of one plan: " << r.message);
    CHECK(r.passed);
    CHECK(r.mismatches == 0);
  }
}

// wgmma_sp.s09_onelaunch and s14_inlaunch sum the K slices inside the launch: the last CTA of a tile to arrive (a
// self-resetting counter in the plan's workspace) adds the slices in order, with splitk::store_sum, as the separate
// reduction of their twins (s08_splitk, s11_narrow) does. So (1) one plan launched again and again gives the same
// bits every time (the counter is back at zero after each launch, nothing carries over), and (2) the twin with the
// same parameters gives the same bits on the same problem. Runs in the CTest entries of the s09 and s14 variants
// (and in a full run of this binary); a variant without a twin of identical parameters fails. Random normal
// inputs: the sums' order shows in the bits. s17_clustersum sums the slices of a tile in its cluster's shared memory
// in the same order: its fixed-split rows are compared with the s13 / s11 row of that split (4 at 256 x 64: the shape
// below has N = 97, M = 2 BM, K of four slices that each wrap the ring; 3 at 128 x 16 in bf16 and in 8 bits, the
// int32, scaled and fp8 sums), and with the s16 row of that split where there is one; its split-0 rows run (1) only.
TEST_CASE("wgmma_sp s09/s14/s16/s17/s27-s29: repeated launches give the same bits, and the same bits as the "
          "two-launch twin",
          "[kernels][variant]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  for (const Variant* vp : variants_under_test()) {
    const Variant& v = *vp;
    // The in-launch step and the technique of its two-launch twin.
    // s16_pdl (the reduction as a programmatic dependent launch) and s17_clustersum (the slices of a tile summed in
    // its cluster's shared memory) are s11's units at BM = 128, s13's above.
    // s27_wideclustersum is s17's cluster sum on s22's wide k-tiles, s28_pairsum / s29_colpairsum its split-2 sum in
    // registers (halves by rows / by columns): their twin is s22 (the same slices, reduced by s16's dependent launch).
    const bool by_tile = v.technique == "pdl" || v.technique == "clustersum";
    const bool on_twosets =
        v.technique == "wideclustersum" || v.technique == "pairsum" || v.technique == "colpairsum";
    const bool cluster_sum = v.technique == "clustersum" || on_twosets;
    const char* twin_technique = v.technique == "onelaunch"  ? "splitk"
                                 : v.technique == "inlaunch" ? "narrow"
                                 : on_twosets                ? "twosets"
                                 : by_tile                   ? (v.param("bm") == 128 ? "narrow" : "tall")
                                                             : "";
    if (v.family != "wgmma_sp" || !*twin_technique) continue;
    INFO(v.name);
    // The same parameters but "persistent" (s17 runs one tile per cluster, its twins walk the tiles persistently:
    // the scheduling, not the sum).
    const auto without_persistent = [](Params p) {
      p.erase(std::remove_if(p.begin(), p.end(), [](const auto& kv) { return kv.first == "persistent"; }), p.end());
      return p;
    };
    // The twin: the same types, the same scales (an fp8 row with a bf16 D exists scaled and unscaled) and the same
    // parameters.
    const auto same_row_of = [&](const char* technique) -> const Variant* {
      const Variant* found = nullptr;
      for (const Variant& u : registry())
        if (u.family == v.family && u.technique == technique && u.types.a == v.types.a && u.types.b == v.types.b &&
            u.types.d == v.types.d && u.has_scales == v.has_scales &&
            without_persistent(u.params) == without_persistent(v.params))
          found = &u;
      return found;
    };
    const int split = v.param("split_k");
    // A cluster-sum row of the chosen split is never compared with a twin (below), so it needs none (s27's bf16
    // 128 x 64 has no s22 row); every other row must have one.
    const Variant* twin = same_row_of(twin_technique);
    if (!(cluster_sum && split == 0)) REQUIRE(twin != nullptr);
    INFO("twin: " << (twin ? twin->name : std::string("none")));
    // s17 at BM = 128 sums what s11 and s16 both reduce (s16's reductions are the PDL forms of s11's: the same bits
    // by s16's own row of this test): where s16 has a row of the same parameters (the 8-bit split-3 rows), s17 is
    // compared with it too, so that the cluster sum is checked against each reduction it stands in for.
    std::vector<const Variant*> twins;
    if (twin) twins.push_back(twin);
    if (v.technique == "clustersum" && v.param("bm") == 128)
      if (const Variant* pdl = same_row_of("pdl")) twins.push_back(pdl);
    if (!arch_error(v, sm).empty()) {
      WARN(v.name << " skipped: " << arch_error(v, sm));
      continue;
    }
    TestShape s{};
    if (split > 0) {
      // Two row blocks, two column tiles (the second partial: N odd), `split` slices of stages + 1 k-tiles each.
      const int bn = v.param("bn");
      s = {round_up(2 * v.param("bm"), v.rule.m_multiple), bn + bn / 2 + 1,
           round_up(split * (v.param("stages") + 1) * v.param("bk"), v.rule.k_multiple)};
    } else if (!small_only()) {
      // split_k 0: prepare() chooses; at this decode shape it chooses a split above 1 on an H100 and an H200 (s08's
      // header; s11's streaming split: 32 row blocks of one column tile take 4 slices on 132 SMs).
      s = {4096, std::min(128, v.param("bn")), 14336};
    } else {
      WARN(v.name << ": the split is chosen in prepare(); the shape that makes it split is too large for the "
                     "sanitizer run (SPARSE24_TEST_SMALL)");
      continue;
    }
    INFO("on " << s.M << "x" << s.N << "x" << s.K);
    REQUIRE(shape_error(v, s.M, s.N, s.K).empty());
    for (const Variant* t : twins) REQUIRE(shape_error(*t, s.M, s.N, s.K).empty());
    const Problem& P = *problems_for(v, s, stream).normal;
    const int64_t count = int64_t(s.M) * s.N;
    DeviceBuffer first(P.d_bytes()), again(P.d_bytes()), dtwin(P.d_bytes());
    // The first launch is correct (else equal bits would prove nothing).
    const CheckResult ok = check_variant(v, P, first.get(), stream);
    INFO(ok.message);
    REQUIRE(ok.passed);

    // (1) One plan, launched three times more; each output poisoned first, each compared with the checked one.
    same_bits_at_every_launch(v, *prepare(v, args_for(v, P, again.get())), again.get(), first.get(), P.d_bytes(),
                              count, stream);

    // (2) The twin on the same problem with the same parameters (so the same split, fixed or chosen by one rule).
    // s17's chosen split is the cluster split, not its twin's streaming split: only its fixed-split rows compare.
    if (cluster_sum && split == 0) {
      WARN(v.name << ": split chosen by the cluster rule, its twin's by the streaming rule: bits not compared "
                     "(the fixed-split row is)");
      continue;
    }
    for (const Variant* t : twins) {
      INFO("compared with " << t->name);
      poison(dtwin.get(), P.d_bytes(), stream);
      prepare(*t, args_for(*t, P, dtwin.get()))->run(stream);
      SPARSE24_CUDA_CHECK(cudaGetLastError());
      const CheckResult same = compare_bits(v.types.d, dtwin.get(), first.get(), count, stream);
      INFO("twin against the in-launch sum: " << same.message);
      CHECK(same.passed);
      CHECK(same.mismatches == 0);
    }
  }
}

// Variants whose consumer warpgroups alternate over whole units of work (wgmma_sp.s18_pingpong: the "consumers"
// parameter, wgmma/kernel.cuh's Alternating). The shapes of shapes_for() give no persistent CTA more than one unit
// of such a tile except 4096 x 3 / 4097 x 4096 (the TMA store off at N = 4097, and not in the sanitizer's run), so
// the second consumer, the ring positions it skips and the turn hand-off between the two would go untested. Here:
// - at least 3 units per cluster: units >= 3 x (SMs / cluster) + 1 > 3 x the resident clusters (checked on the
//   plan's grid), so every CTA runs both consumers, the turn passes both ways, and the per-CTA counts (which differ
//   by one between clusters) include odd ones: consumer 0 one unit more than consumer 1;
// - M = 1248: not a multiple of 128 (nor of 256): the last cluster's last CTA has 32 rows (and with 4 CTAs its
//   partners whole ones), a partial 64-row unit;
// - N = BN C - 8 (rows of D 16-byte aligned in every D type: the TMA-store epilogue, last column tile partial) and
//   BN C - 7 (N % 8 != 0: the register fallback);
// - K of stages + 1 k-tiles: the ring wraps inside a unit as well as across units.
// It runs under SPARSE24_TEST_SMALL too: the sanitizer must see the alternation (about 10 GFLOP per problem).
// wgmma_sp.s19_streamk deals the k-tiles of all tiles to the CTAs in equal runs, so a tile is summed from the partials
// of the runs that meet it (the slices of s16's reduction; a tile of fewer pieces than the most leaves its other
// slices zero); s20_piecesum sums a cut tile's pieces in the launch (the last piece to arrive, s09's counters). The
// shapes: tiles met by four to seven runs (32 and 23 row blocks of long K on the GPU's CTAs), and one whose runs are
// whole tiles (8 k-tiles a tile: as many CTAs as tiles, every piece writes D, no reduction). For each: both checks
// with the guard band, then the same plan launched three more times gives the same bits (the zero slices stay zero,
// the pieces are the same at every launch).
// s23_handoff runs on min(SMs, tiles) CTAs, so its tiles meet one or two runs, and a cut tile's second piece is handed
// to the CTA that finishes it through a flag. Its shapes have more tiles than SMs and not a multiple of them (cut
// tiles; the premise is checked on the plan's grid): 224 row blocks (the decode weight's), 157 with a partial last
// one and three, two or one column tiles, and 144 tiles of runs longer than the ring (it wraps inside a run; small
// enough for the sanitizers); and 23 tiles (whole-tile runs, no hand-off). Every launch must leave its flags at zero
// for the next (a flag left set lets the next launch's finishing CTA read a slot before its publisher has rewritten
// it, and the repeated launches' same bits could not tell: the stale sums are equal): after them the flags, the
// workspace's tail (one word per slot, i.e. per CTA, and consumer warp: s23_handoff.cuh's Handoff), must read zero.
// s25_fanin runs on every SM where the tiles are fewer (a tile meets up to max_pieces runs, all summed by the CTA of
// its first piece): 32 row blocks of 56 k-tiles (the 4096-row 8-bit decode weight's: up to five pieces a tile),
// 16 row blocks of 12 (two or three pieces on the few CTAs whose runs keep 8 k-tiles; small enough for the
// sanitizers), s23's shapes of more tiles than SMs (its grid and pieces), and 10 tiles of 8 k-tiles (10 CTAs of
// whole tiles). The premise is checked on the plan's grid: some tile meets more than one run exactly where the case
// says so, and none more than max_pieces. The flags must read zero after the repeated launches, as s23's.
TEST_CASE("stream-K: tiles summed from the runs that meet them, whole-tile runs, the same bits at every launch",
          "[kernels][variant]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  for (const Variant* vp : variants_under_test()) {
    const Variant& v = *vp;
    const bool fanin = v.technique == "fanin";
    // s23, s25 and s26 hand pieces over through slots and flags (s26: s23's units and flags, s12's fp8 loop)
    const bool handoff = v.technique == "handoff" || v.technique == "lazyhandoff" || fanin;
    if (v.technique != "streamk" && v.technique != "piecesum" && !handoff) continue;
    INFO(v.name);
    if (!arch_error(v, sm).empty()) {
      WARN(v.name << " skipped: " << arch_error(v, sm));
      continue;
    }
    const int bk = v.param("bk"), bn = v.param("bn");
    const std::vector<std::pair<TestShape, bool>> cases =
        fanin     ? std::vector<std::pair<TestShape, bool>>{{{4096, bn - 3, 56 * bk}, true},
                                                            {{2048, bn - 3, 12 * bk}, true},
                                                            {{2048, 9 * bn - 3, 12 * bk}, true},
                                                            {{20000, 33, 5 * bk}, true},
                                                            {{1280, 9, 8 * bk}, false}}
        : handoff ? std::vector<std::pair<TestShape, bool>>{{{2048, 9 * bn - 3, 12 * bk}, true},
                                                          {{28672, 16, 8 * bk}, true},
                                                          {{20000, 33, 5 * bk}, true},
                                                          {{2944, 9, 64 * bk}, false}}
                : std::vector<std::pair<TestShape, bool>>{
                      {{4096, 16, 224 * bk}, true}, {{2944, 9, 64 * bk}, true}, {{384, 33, 8 * bk}, false}};
    for (const auto& [s, pieces] : cases) {
      if (small_only() && s.M > (handoff ? 2048 : 384)) continue;
      INFO("on " << s.M << "x" << s.N << "x" << s.K);
      REQUIRE(shape_error(v, s.M, s.N, s.K).empty());
      Problems& p = problems_for(v, s, stream);
      check_with_guard(v, p, stream);
      const int64_t count = int64_t(s.M) * s.N;
      DeviceBuffer first(p.normal->d_bytes()), again(p.normal->d_bytes());
      const CheckResult ok = check_variant(v, *p.normal, first.get(), stream);
      INFO(ok.message);
      REQUIRE(ok.passed);
      const auto plan = prepare(v, args_for(v, *p.normal, again.get()));
      // The premise (s19): partials (a workspace) exactly where tiles are met by more than one run. s20 lays its
      // workspace out for the bound on pieces, which the whole-tile case exceeds: its sums are what the checks see.
      if (v.technique == "streamk") CHECK((plan->workspace_bytes > 0) == pieces);
      const int64_t tiles = int64_t((s.M + v.param("bm") - 1) / v.param("bm")) * ((s.N + bn - 1) / bn);
      if (fanin) {  // pieces on the plan's grid (s19's equal runs): cut tiles exactly where expected, none too cut
        const int64_t k_tiles = s.K / bk, total = tiles * k_tiles, g = plan->grid.x;
        const auto cta_of = [&](int64_t w) { return ((w + 1) * g - 1) / total; };
        int64_t most = 0;
        for (int64_t t = 0; t < tiles; ++t)
          most = std::max(most, cta_of((t + 1) * k_tiles - 1) - cta_of(t * k_tiles) + 1);
        CHECK((most > 1) == pieces);
        CHECK(most <= v.param("max_pieces"));
      } else if (handoff) {  // cut tiles exactly where the tiles outnumber the CTAs and are not a multiple of them
        CHECK((tiles > int64_t(plan->grid.x) && tiles % plan->grid.x != 0) == pieces);
      }
      same_bits_at_every_launch(v, *plan, again.get(), first.get(), p.normal->d_bytes(), count, stream);
      if (handoff) {
        const size_t flag_bytes = size_t(plan->grid.x) * (v.param("bm") / 64) * 4 * sizeof(uint32_t);
        REQUIRE(plan->workspace_bytes >= flag_bytes);
        std::vector<uint32_t> flags(flag_bytes / sizeof(uint32_t), 1u);
        SPARSE24_CUDA_CHECK(cudaMemcpy(flags.data(),
                                       static_cast<const uint8_t*>(plan->args.workspace) + plan->workspace_bytes -
                                           flag_bytes,
                                       flag_bytes, cudaMemcpyDeviceToHost));
        CHECK(std::count(flags.begin(), flags.end(), 0u) == static_cast<std::ptrdiff_t>(flags.size()));
      }
    }
  }
}

// wgmma_sp.s21_widebox runs s16's units on k-tiles twice as long (A boxes of 128 bytes a row, B in two panels a
// stage): the same k32 (8-bit: k64) wgmma.sp instructions in the same order into the same accumulators, only the
// copies that bring the operands differ. So where both choose the same split and the slices start at the same K,
// s21 and the s16 row of the same type and tile give the same bits: a wrong panel offset, metadata block or k-step
// descriptor of the wide tile changes them, and the twin is a second, independent check beside the reference's.
// The shape: 32 row blocks of a long K (4096 x BN x 14336: split 4 on 132 SMs for both, the slices 3584 K long
// either way; the premise is checked: equal partials workspaces), and odd N. fp8 promotes every k-tile (s10), so
// its wide tile promotes every 256 K instead of 128: the sums round differently, and its rows run the checks only,
// as do the 128 x 128 rows (s16 has no such tile). s22_twosets (s21 with a batch in flight, two metadata register
// sets) is compared with s21's row of the same parameters the same way: the same instructions, only the waits move.
// s22's one fixed-split row (split 2 at 128 x 128, the twin of s27's) is compared with s21's chosen split at 8192 x
// BN x 8192, 64 row blocks, which s21's rule also splits in 2 on a 132-SM GPU (on another GPU: the checks only).
TEST_CASE("wide k-tiles (s21, s22): the bits of s16 / s21 on the same tile, the same split and the same slices",
          "[kernels][variant]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  for (const Variant* vp : variants_under_test()) {
    const Variant& v = *vp;
    const bool two_sets = v.technique == "twosets";  // s22: s21's rows with a batch in flight, its twin s21
    if (v.technique != "widebox" && !two_sets) continue;
    INFO(v.name);
    if (!arch_error(v, sm).empty()) {
      WARN(v.name << " skipped: " << arch_error(v, sm));
      continue;
    }
    if (small_only()) {
      WARN(v.name << ": the split is chosen in prepare(); the shape that makes it split is too large for the "
                     "sanitizer run (SPARSE24_TEST_SMALL)");
      continue;
    }
    // A row of a fixed split (s22's split-2 row, s27's twin) is compared with the twin's chosen split where that is
    // the same: 64 tiles of 128 rows at K = 8192, which s11's streaming rule splits in 2 on a 132-SM GPU.
    const int fixed_split = v.param("split_k");
    const TestShape s = fixed_split == 0 ? TestShape{4096, v.param("bn") - 3, 14336}
                                         : TestShape{64 * v.param("bm"), v.param("bn") - 3, 8192};
    INFO("on " << s.M << "x" << s.N << "x" << s.K);
    REQUIRE(shape_error(v, s.M, s.N, s.K).empty());
    Problems& p = problems_for(v, s, stream);
    check_with_guard(v, p, stream);
    if (v.types.a == DType::e4m3 || v.types.a == DType::e5m2) continue;
    if (!two_sets && v.param("bn") == 128) {  // s16 has no 128 x 128 row (its N = 128 tiles are s13's 256 x 128)
      WARN(v.name << ": no s16 row of its tile; the checks only");
      continue;
    }
    const Variant* twin = nullptr;
    for (const Variant& u : registry())
      if (u.family == v.family && u.technique == (two_sets ? "widebox" : "pdl") && u.types.a == v.types.a &&
          u.types.d == v.types.d && u.has_scales == v.has_scales && u.param("bm") == v.param("bm") &&
          u.param("bn") == v.param("bn") && u.param("bk") * (two_sets ? 1 : 2) == v.param("bk") &&
          u.param("split_k") == 0)
        twin = &u;
    REQUIRE(twin != nullptr);
    INFO("twin: " << twin->name);
    const int64_t count = int64_t(s.M) * s.N;
    const size_t d_bytes = p.normal->d_bytes();
    DeviceBuffer wide(d_bytes), narrow(d_bytes);
    const auto wide_plan = prepare(v, args_for(v, *p.normal, wide.get()));
    const auto twin_plan = prepare(*twin, args_for(*twin, *p.normal, narrow.get()));
    // The premise: both split (partials exist) and by the same factor (the workspace is split x M x N partials).
    REQUIRE(wide_plan->workspace_bytes > 0);
    if (fixed_split > 0 && wide_plan->workspace_bytes != twin_plan->workspace_bytes) {
      WARN(v.name << ": the twin's rule chose another split than " << fixed_split << " on this GPU; the checks only");
      continue;
    }
    REQUIRE(wide_plan->workspace_bytes == twin_plan->workspace_bytes);
    poison(wide.get(), d_bytes, stream);
    poison(narrow.get(), d_bytes, stream);
    wide_plan->run(stream);
    twin_plan->run(stream);
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    const CheckResult ok = check_variant(v, *p.normal, wide.get(), stream);
    INFO(ok.message);
    REQUIRE(ok.passed);
    const CheckResult same = compare_bits(v.types.d, narrow.get(), wide.get(), count, stream);
    INFO("the twin against this row: " << same.message);
    CHECK(same.passed);
    CHECK(same.mismatches == 0);
  }
}

TEST_CASE("consumers that alternate over units: several units per CTA, odd counts, partial tiles",
          "[kernels][variant]") {
  const int sm = compute_capability(0);
  cudaStream_t stream = nullptr;
  int dev = 0, sms = 0;
  SPARSE24_CUDA_CHECK(cudaGetDevice(&dev));
  SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  for (const Variant* vp : variants_under_test()) {
    const Variant& v = *vp;
    if (!v.has_param("consumers")) continue;
    INFO(v.name);
    if (!arch_error(v, sm).empty()) {
      WARN(v.name << " skipped: " << arch_error(v, sm));
      continue;
    }
    const int cluster = v.has_param("cluster_m") ? v.param("cluster_m") : 1;
    const int bm = v.param("bm"), bn = v.param("bn");
    const int M = 1248;
    REQUIRE(M % v.rule.m_multiple == 0);
    REQUIRE(M % (bm * cluster) != 0);
    const int cluster_rows = (M + bm * cluster - 1) / (bm * cluster);
    const int col_tiles = (3 * (sms / cluster) + 1 + cluster_rows - 1) / cluster_rows;
    const int units = cluster_rows * col_tiles;
    const int K = round_up((v.param("stages") + 1) * v.param("bk"), v.rule.k_multiple);
    for (const int N : {bn * col_tiles - 8, bn * col_tiles - 7}) {
      const TestShape s{M, N, K};
      INFO("on " << s.M << "x" << s.N << "x" << s.K << ", " << units << " units");
      REQUIRE(shape_error(v, s.M, s.N, s.K).empty());
      Problems& p = problems_for(v, s, stream);
      // The premise: more than three units per resident cluster (the grid is the resident clusters' CTAs).
      DeviceBuffer plan_d(p.normal->d_bytes());
      const auto plan = prepare(v, args_for(v, *p.exact, plan_d.get()));
      const int clusters = int(plan->grid.x) / cluster;
      INFO(clusters << " clusters");
      REQUIRE(units > 3 * clusters);
      check_with_guard(v, p, stream);
    }
  }
}
