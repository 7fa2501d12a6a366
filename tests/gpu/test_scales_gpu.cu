// The checks of scaled outputs (gemm_args.h's scales; issue 16): the problem's scales follow their rule, args_for
// gives them to a variant with has_scales, and the check passes a correct scaled product and fails one with a
// single scale ignored, in exact and normal mode, for a 16-bit, an fp8 and an int8 (int32 accumulator) path.
// There is no scaled GEMM kernel on main yet, so the "kernel" here is a test variant: a naive GEMM (one thread per
// output, the K products summed in order in the accumulator type) whose epilogue is the kernels' own
// EpilogueScales (kernels/common/epilogue.cuh), registered nowhere, run through the harness's route
// (args_for -> prepare -> check_plan -> compare), as the run loop runs a real one.
#include "tests/catch.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "harness/check.h"
#include "harness/problem.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/elem.cuh"
#include "kernels/common/epilogue.cuh"
#include "kernels/registry.h"

using namespace sparse24;
using namespace sparse24::harness;

namespace {

// What the test kernel does wrong, if anything (a planted bug of one scale element), and how it forms the factor.
struct Flaw {
  int ignored_row = -1;      // this row's scale read as 1
  int ignored_col = -1;      // this column's scale read as 1
  bool ignore_scale_a = false;
  bool other_order = false;  // g = (alpha (sa sb)) (r c) instead of gemm_args.h's (((alpha sa) sb) r) c
};
Flaw g_flaw;  // read by the run hook at launch (the tests run one at a time)

template <DType TA, DType TB, DType TD, DType TAcc>
__global__ void naive_scaled_gemm(GemmArgs args, Flaw flaw) {
  const int n = blockIdx.x * blockDim.x + threadIdx.x, m = blockIdx.y;
  if (n >= args.N || m >= args.M) return;
  using Acc = std::conditional_t<TAcc == DType::int32, int32_t, float>;
  const auto* a = static_cast<const typename Elem<TA>::type*>(args.a) + int64_t(m) * args.lda;
  const auto* b = static_cast<const typename Elem<TB>::type*>(args.b) + int64_t(n) * args.ldb;
  Acc acc = 0;
  for (int k = 0; k < args.K; ++k) {
    const float av = Elem<TA>::to_float(a[k]), bv = Elem<TB>::to_float(b[k]);
    if constexpr (std::is_same_v<Acc, int32_t>)
      acc += static_cast<int32_t>(av) * static_cast<int32_t>(bv);
    else
      acc += av * bv;  // exact product (16-bit and fp8 significands), one f32 rounding per addition
  }
  GemmArgs s = args;
  if (flaw.ignore_scale_a) s.scale_a = nullptr;
  if (m == flaw.ignored_row) s.scale_row = nullptr;
  if (n == flaw.ignored_col) s.scale_col = nullptr;
  float v;
  if (!flaw.other_order) {
    v = EpilogueScales::load(s).apply(acc, acc, m, n, /*pair=*/false).x;  // the kernels' epilogue
  } else {
    const float sab = (s.scale_a ? *s.scale_a : 1.0f) * (s.scale_b ? *s.scale_b : 1.0f);
    const float rc = (s.scale_row ? s.scale_row[m] : 1.0f) * (s.scale_col ? s.scale_col[n] : 1.0f);
    v = ((s.alpha * sab) * rc) * static_cast<float>(acc);
  }
  static_cast<typename Elem<TD>::type*>(args.d)[int64_t(m) * args.ldd + n] = Elem<TD>::from_float(v);
}

constexpr int kThreads = 128;

void prepare_naive(Plan& p) {
  p.block = dim3(kThreads);
  p.grid = dim3((p.args.N + kThreads - 1) / kThreads, p.args.M);
}

template <DType TA, DType TB, DType TD, DType TAcc>
void launch(const GemmArgs& a, cudaStream_t s) {
  naive_scaled_gemm<TA, TB, TD, TAcc><<<dim3((a.N + kThreads - 1) / kThreads, a.M), kThreads, 0, s>>>(a, g_flaw);
}

void run_naive(const Plan& p, cudaStream_t s) {
  const Operands o = p.variant().types;
  if (o == Operands{DType::bf16, DType::bf16, DType::bf16, DType::f32})
    launch<DType::bf16, DType::bf16, DType::bf16, DType::f32>(p.args, s);
  else if (o == Operands{DType::fp16, DType::fp16, DType::fp16, DType::f32})
    launch<DType::fp16, DType::fp16, DType::fp16, DType::f32>(p.args, s);
  else if (o == Operands{DType::e4m3, DType::e4m3, DType::bf16, DType::f32})
    launch<DType::e4m3, DType::e4m3, DType::bf16, DType::f32>(p.args, s);
  else if (o == Operands{DType::int8, DType::int8, DType::bf16, DType::int32})
    launch<DType::int8, DType::int8, DType::bf16, DType::int32>(p.args, s);
  else
    throw std::logic_error("test variant: no naive kernel for these operands");
}

// A dense GEMM variant of the given operands, with or without scales, that the registry never lists.
Variant test_variant(const Operands& o, bool has_scales) {
  Variant v;
  v.name = std::string("test.naive_scaled.") + name(o.a) + "_" + name(o.d) + (has_scales ? ".scales" : "");
  v.operation = Operation::gemm;
  v.family = "test";
  v.types = o;
  v.sparse = false;
  v.has_scales = has_scales;
  v.threads = kThreads;
  v.arch.min_sm = 80;
  v.prepare = prepare_naive;
  v.run = run_naive;
  return v;
}

// The scaled combinations of issue 16 the lead writes, each with the input type its run-loop group has: the
// problem is made with the input type's default operands (the run loop's) and the variant's D may differ
// (int8 -> bf16 on an int8 problem whose default D is int32).
const Operands kScaledOps[] = {
    {DType::bf16, DType::bf16, DType::bf16, DType::f32},
    {DType::fp16, DType::fp16, DType::fp16, DType::f32},
    {DType::e4m3, DType::e4m3, DType::bf16, DType::f32},
    {DType::int8, DType::int8, DType::bf16, DType::int32},
};

std::vector<float> download_floats(const DeviceBuffer& b) {
  std::vector<float> h(b.bytes() / sizeof(float));
  SPARSE24_CUDA_CHECK(cudaMemcpy(h.data(), b.get(), b.bytes(), cudaMemcpyDeviceToHost));
  return h;
}

// Runs variant v on problem p (args_for: alpha 1, and for has_scales all four scales) with the planted flaw, and
// checks it through check_variant, the run loop's route.
CheckResult run_checked(const Variant& v, const Problem& p, DeviceBuffer& d, const Flaw& flaw) {
  g_flaw = flaw;
  const CheckResult r = check_variant(v, p, d.get(), nullptr);
  g_flaw = Flaw{};
  return r;
}

// The first index whose scale is at least 25% away from 1 (normal fill), so that ignoring it is an error far
// above any bound; -1 if none.
int far_from_one(const std::vector<float>& s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (std::fabs(s[i] - 1.0f) >= 0.25f) return static_cast<int>(i);
  return -1;
}

}  // namespace

TEST_CASE("the problem's scales follow their rule: powers of two in exact mode, [0.5, 2) in normal mode",
          "[checks][scales]") {
  for (DType t : {DType::bf16, DType::int8}) {
    INFO(name(t));
    const auto exact = Problem::make(t, 96, 40, 64, Fill::SmallInt, 5, nullptr);
    const std::vector<float> ea = download_floats(exact->scale_a), eb = download_floats(exact->scale_b),
                             er = download_floats(exact->scale_row), ec = download_floats(exact->scale_col);
    REQUIRE(ea.size() == 1);
    REQUIRE(eb.size() == 1);
    REQUIRE(er.size() == 96);
    REQUIRE(ec.size() == 40);
    for (float x : {ea[0], eb[0]}) {
      int e = 0;
      CHECK(std::frexp(x, &e) == 0.5f);  // a power of two: 2^(e-1)
      CHECK((e - 1 >= -3 && e - 1 <= -1));
    }
    int below = 0, above = 0;
    for (const std::vector<float>* v : {&er, &ec})
      for (float x : *v) {
        int e = 0;
        CHECK(std::frexp(x, &e) == 0.5f);
        CHECK((e - 1 >= -3 && e - 1 <= 3 && e - 1 != 0));
        below += x < 1.0f, above += x > 1.0f;
      }
    CHECK(below > 20);  // both sides of 1 drawn
    CHECK(above > 20);

    const auto normal = Problem::make(t, 96, 40, 64, Fill::Normal, 6, nullptr);
    const float per_tensor = info(t).is_integer ? 1.0f / 32.0f : 1.0f;  // problem.h: integer inputs dequantize
    for (float x : {download_floats(normal->scale_a)[0], download_floats(normal->scale_b)[0]}) {
      CHECK(x >= 0.5f * per_tensor);
      CHECK(x < 2.0f * per_tensor);
    }
    for (const DeviceBuffer* b : {&normal->scale_row, &normal->scale_col})
      for (float x : download_floats(*b)) {
        CHECK(x >= 0.5f);
        CHECK(x < 2.0f);
      }
    // Seeded: the same problem again has the same scales.
    const auto again = Problem::make(t, 96, 40, 64, Fill::SmallInt, 5, nullptr);
    CHECK(download_floats(again->scale_row) == er);
    CHECK(download_floats(again->scale_col) == ec);
    CHECK(download_floats(again->scale_a) == ea);
  }
}

TEST_CASE("args_for gives a has_scales variant all four scales and any other variant none", "[checks][scales]") {
  const auto p = Problem::make(DType::bf16, 32, 16, 64, Fill::SmallInt, 3, nullptr);
  const Operands ops = default_operands(DType::bf16);
  const GemmArgs with = args_for(test_variant(ops, true), *p, nullptr);
  CHECK(with.scale_a == p->scale_a.as<const float>());
  CHECK(with.scale_b == p->scale_b.as<const float>());
  CHECK(with.scale_row == p->scale_row.as<const float>());
  CHECK(with.scale_col == p->scale_col.as<const float>());
  CHECK(with.alpha == 1.0f);
  CHECK(with.beta == 0.0f);
  const GemmArgs without = args_for(test_variant(ops, false), *p, nullptr);
  CHECK(without.scale_a == nullptr);
  CHECK(without.scale_b == nullptr);
  CHECK(without.scale_row == nullptr);
  CHECK(without.scale_col == nullptr);
}

TEST_CASE("exact mode: the scaled product passes bit for bit; one ignored row, column or per-tensor scale fails",
          "[checks][scales]") {
  for (const Operands& ops : kScaledOps) {
    INFO(name(ops.a) << " -> " << name(ops.d) << ", accumulator " << name(ops.acc));
    const int M = 64, N = 48, K = 256;
    const auto p = Problem::make(ops.a, M, N, K, Fill::SmallInt, 41, nullptr);
    DeviceBuffer d(size_t(M) * N * sizeof(float));
    const Variant v = test_variant(ops, true);

    const CheckResult ok = run_checked(v, *p, d, Flaw{});
    INFO(ok.message);
    REQUIRE(ok.passed);
    REQUIRE(ok.mismatches == 0);
    // The nonzero outputs of row 5 and column 7 (D is 16-bit here): each one changes when its scale (a power of
    // two other than 1) is ignored, so the check must count exactly these.
    std::vector<uint16_t> out(size_t(M) * N);
    SPARSE24_CUDA_CHECK(cudaMemcpy(out.data(), d.get(), out.size() * 2, cudaMemcpyDeviceToHost));
    int64_t row5 = 0, col7 = 0, all = 0;
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) {
        const bool nonzero = (out[size_t(m) * N + n] & 0x7FFFu) != 0;
        row5 += m == 5 && nonzero, col7 += n == 7 && nonzero, all += nonzero;
      }
    REQUIRE(row5 > 0);
    REQUIRE(col7 > 0);

    Flaw f;
    f.ignored_row = 5;
    const CheckResult r = run_checked(v, *p, d, f);
    INFO("row 5 ignored: " << r.message);
    CHECK_FALSE(r.passed);
    CHECK(r.mismatches == row5);

    f = Flaw{};
    f.ignored_col = 7;
    const CheckResult c = run_checked(v, *p, d, f);
    INFO("column 7 ignored: " << c.message);
    CHECK_FALSE(c.passed);
    CHECK(c.mismatches == col7);

    f = Flaw{};
    f.ignore_scale_a = true;
    const CheckResult sa = run_checked(v, *p, d, f);
    INFO("scale_a ignored: " << sa.message);
    CHECK_FALSE(sa.passed);
    CHECK(sa.mismatches == all);

    // The factor in another order is the same power of two: still bit for bit.
    f = Flaw{};
    f.other_order = true;
    const CheckResult o = run_checked(v, *p, d, f);
    INFO("other order: " << o.message);
    CHECK(o.passed);

    // Any subset of the scales, and alpha, is checked against the same subset (the run loop's per-tensor row
    // passes scale_row = scale_col = null).
    GemmArgs a = args_for(v, *p, d.get());
    a.scale_row = a.scale_col = nullptr;
    a.alpha = 0.5f;
    const std::unique_ptr<Plan> subset = prepare(v, a);
    const CheckResult s = check_plan(*subset, *p, nullptr);
    INFO("per-tensor scales and alpha 0.5 only: " << s.message);
    CHECK(s.passed);
    CHECK(s.mismatches == 0);
    // ... and the output of that subset is not the full product's: the check saw the difference.
    const CheckResult full_ref = compare(ops.d, Fill::SmallInt, d.get(), p->reference(p->scales()),
                                         int64_t(M) * N, nullptr);
    CHECK_FALSE(full_ref.passed);
  }
}

TEST_CASE("normal mode: the scaled product passes in either factor order; one ignored scale fails",
          "[checks][scales]") {
  for (const Operands& ops : kScaledOps) {
    INFO(name(ops.a) << " -> " << name(ops.d) << ", accumulator " << name(ops.acc));
    const int M = 256, N = 128, K = 1024;
    const auto p = Problem::make(ops.a, M, N, K, Fill::Normal, 43, nullptr);
    DeviceBuffer d(size_t(M) * N * sizeof(float));
    const Variant v = test_variant(ops, true);

    const CheckResult ok = run_checked(v, *p, d, Flaw{});
    INFO(ok.message);
    CHECK(ok.passed);
    CHECK(ok.over_tolerance == 0);
    CHECK(ok.ref_nonzero > int64_t(M) * N / 2);

    Flaw f;
    f.other_order = true;
    const CheckResult o = run_checked(v, *p, d, f);
    INFO("other order: " << o.message);
    CHECK(o.passed);

    const int row = far_from_one(download_floats(p->scale_row)), col = far_from_one(download_floats(p->scale_col));
    REQUIRE(row >= 0);
    REQUIRE(col >= 0);
    f = Flaw{};
    f.ignored_row = row;
    const CheckResult r = run_checked(v, *p, d, f);
    INFO("row " << row << " ignored: " << r.message);
    CHECK_FALSE(r.passed);
    CHECK(r.over_tolerance > N / 2);  // an error of 25% or more: every element but the smallest
    CHECK(r.over_tolerance <= N);

    f = Flaw{};
    f.ignored_col = col;
    const CheckResult c = run_checked(v, *p, d, f);
    INFO("column " << col << " ignored: " << c.message);
    CHECK_FALSE(c.passed);
    CHECK(c.over_tolerance > M / 2);
    CHECK(c.over_tolerance <= M);

    f = Flaw{};
    f.ignore_scale_a = true;
    const CheckResult sa = run_checked(v, *p, d, f);
    INFO("scale_a ignored: " << sa.message);
    CHECK_FALSE(sa.passed);
  }
}

TEST_CASE("scaled checks refuse what their derivation does not cover", "[checks][scales]") {
  const int M = 64, N = 32, K = 128;
  const auto exact = Problem::make(DType::bf16, M, N, K, Fill::SmallInt, 47, nullptr);
  const auto normal = Problem::make(DType::bf16, M, N, K, Fill::Normal, 48, nullptr);
  DeviceBuffer d(size_t(M) * N * sizeof(float));
  // The correct scaled output of the exact problem, from the test variant.
  const Variant v = test_variant(default_operands(DType::bf16), true);
  REQUIRE(run_checked(v, *exact, d, Flaw{}).passed);

  // Exact mode with scales that are not powers of two: the premise fails, and says it is the problem's.
  const CheckResult np = compare(DType::bf16, Fill::SmallInt, d.get(), exact->reference(normal->scales()),
                                 int64_t(M) * N, nullptr);
  INFO(np.message);
  CHECK_FALSE(np.passed);
  CHECK(np.message.find("power of two") != std::string::npos);

  // Normal mode below kScaledBoundMinK.
  Reference short_k = normal->reference(normal->scales());
  short_k.K = kScaledBoundMinK - 1;
  const CheckResult sk = compare(DType::bf16, Fill::Normal, d.get(), short_k, int64_t(M) * N, nullptr);
  CHECK_FALSE(sk.passed);
  CHECK(sk.message.find("K >= ") != std::string::npos);

  // An int32 D takes no scales.
  const auto i8 = Problem::make(DType::int8, M, N, K, Fill::SmallInt, 49, nullptr);
  const CheckResult i32 = compare(DType::int32, Fill::SmallInt, i8->d_ref.get(), i8->reference(i8->scales()),
                                  int64_t(M) * N, nullptr);
  CHECK_FALSE(i32.passed);
  CHECK(i32.message.find("int32 D takes no scales") != std::string::npos);
  // ... while the same output without scales passes (the refusal is about the scales).
  CHECK(compare(DType::int32, Fill::SmallInt, i8->d_ref.get(), i8->reference(), int64_t(M) * N, nullptr).passed);

  // A variant whose inputs are not the problem's is not checked against it.
  const Variant fp16 = test_variant(default_operands(DType::fp16), true);
  const CheckResult wrong = run_checked(fp16, *exact, d, Flaw{});
  CHECK_FALSE(wrong.passed);
  CHECK(wrong.message.find("the problem holds") != std::string::npos);
}
