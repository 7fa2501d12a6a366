// The checks themselves (harness/check.h) and the peers (harness/peer*.h): a check must catch a planted error of
// one ulp (exact mode) or just over the element bound (normal mode), must pass one just under the bound, and must
// pass correct kernels where the old 16-bit cuBLAS reference failed them; the peers must pass the same check,
// padded leading dimensions included; the ceilings must be measured.
#include "tests/catch.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "harness/ceilings.h"
#include "harness/check.h"
#include "harness/context.h"
#include "harness/peer.h"
#include "harness/peer_cublaslt.h"
#include "harness/peer_cusparselt.h"
#include "harness/problem.h"
#include "harness/timing.h"
#include "kernels/common/cuda_check.h"
#include "kernels/registry.h"

using namespace sparse24;
using namespace sparse24::harness;

namespace {

constexpr DType kTypes[] = {DType::fp16, DType::bf16};

// Host value of a 16-bit element's bits.
double value_of(DType t, uint16_t bits) {
  if (t == DType::fp16) return __half2float(__ushort_as_half(bits));
  return __bfloat162float(__ushort_as_bfloat16(bits));
}

// The 16-bit neighbours of a positive value: bits + 1 is the next larger number (positive, finite).
uint16_t next_up(uint16_t bits) { return static_cast<uint16_t>(bits + 1); }

template <class V>
std::vector<V> download(const DeviceBuffer& b, size_t count) {
  std::vector<V> h(count);
  SPARSE24_CUDA_CHECK(cudaMemcpy(h.data(), b.get(), count * sizeof(V), cudaMemcpyDeviceToHost));
  return h;
}

// A copy of the problem's correctly rounded 16-bit reference: what an exact kernel writes.
DeviceBuffer exact_output(const Problem& p) {
  DeviceBuffer d(p.d_bytes());
  SPARSE24_CUDA_CHECK(cudaMemcpy(d.get(), p.d_ref.get(), p.d_bytes(), cudaMemcpyDeviceToDevice));
  return d;
}

void set_element(DeviceBuffer& d, int64_t i, uint16_t bits) {
  SPARSE24_CUDA_CHECK(cudaMemcpy(d.as<uint16_t>() + i, &bits, sizeof(bits), cudaMemcpyHostToDevice));
}

}  // namespace

TEST_CASE("exact mode: the correctly rounded output passes, one ulp off in one element fails", "[checks]") {
  for (DType t : kTypes) {
    INFO(name(t));
    const auto p = Problem::make(t, 64, 40, 256, Fill::SmallInt, 17, nullptr);
    const int64_t count = int64_t(p->M) * p->N;
    DeviceBuffer d = exact_output(*p);
    const CheckResult ok = compare(t, Fill::SmallInt, d.get(), p->reference(), count, nullptr);
    INFO(ok.message);
    REQUIRE(ok.passed);
    REQUIRE(ok.mismatches == 0);

    // One element, one ulp: an integer output of magnitude <= 256 sits where both types have spacing <= 1, so
    // the planted value is a different number.
    const std::vector<uint16_t> h = download<uint16_t>(d, count);
    const int64_t i = count / 2 + 3;
    set_element(d, i, next_up(h[i]));
    const CheckResult bad = compare(t, Fill::SmallInt, d.get(), p->reference(), count, nullptr);
    INFO(bad.message);
    CHECK_FALSE(bad.passed);
    CHECK(bad.mismatches == 1);
  }
}

TEST_CASE("normal mode: an error just over the element bound fails, one just under passes", "[checks]") {
  for (DType t : kTypes) {
    INFO(name(t));
    // K = 4096: the bound spans several ulps of the outputs, so "just under" is a real error, not the rounding.
    // 1024 x 256 outputs: one element off by the whole element bound (about 3 for fp16 at K = 4096) must stay
    // under the Frobenius bound too, or "just under" would fail on the norm instead (seen on an H100 with 64 x 32:
    // relative Frobenius error 1.1e-3 against fp16's 2u = 9.8e-4); here it is about 1.3e-4.
    const auto p = Problem::make(t, 1024, 256, 4096, Fill::Normal, 23, nullptr);
    const int64_t count = int64_t(p->M) * p->N;
    DeviceBuffer d = exact_output(*p);
    const CheckResult ok = compare(t, Fill::Normal, d.get(), p->reference(), count, nullptr);
    INFO(ok.message);
    REQUIRE(ok.passed);
    REQUIRE(ok.over_tolerance == 0);

    const std::vector<float> ref = download<float>(p->d_ref_f32, count);
    const std::vector<float> sum = download<float>(p->abs_sum, count);
    const std::vector<uint16_t> out = download<uint16_t>(d, count);
    const ElementRule rule = element_rule(t, p->K);
    bool planted = false;
    for (int64_t i = 0; i < count && !planted; ++i) {
      if (!(ref[i] > 1.0f)) continue;  // a positive element: bits + 1 is the next number up
      const double r = ref[i], bound = element_bound(rule, r, sum[i]);
      // Walk up from the element's own (correctly rounded) value: `under` is the last 16-bit number with
      // |v - ref| <= bound, `over` the first past it.
      uint16_t under = out[i];
      if (!(value_of(t, under) >= r)) under = next_up(under);
      while (value_of(t, next_up(under)) - r <= bound) under = next_up(under);
      const uint16_t over = next_up(under);
      const double e_under = value_of(t, under) - r, e_over = value_of(t, over) - r;
      // Clear of the bound by more than a double rounding (the device may evaluate the bound with an FMA), and
      // "under" a real error, not the correct rounding.
      if (under == out[i] || e_under > bound * (1 - 1e-9) || e_over < bound * (1 + 1e-9)) continue;
      planted = true;
      INFO("element " << i << ": ref " << r << ", bound " << bound << ", under +" << e_under << ", over +" << e_over);

      set_element(d, i, under);
      const CheckResult u = compare(t, Fill::Normal, d.get(), p->reference(), count, nullptr);
      INFO("just under: " << u.message);
      CHECK(u.passed);
      CHECK(u.over_tolerance == 0);
      CHECK(u.max_err_over_bound <= 1.0);

      set_element(d, i, over);
      const CheckResult o = compare(t, Fill::Normal, d.get(), p->reference(), count, nullptr);
      INFO("just over: " << o.message);
      CHECK_FALSE(o.passed);
      CHECK(o.over_tolerance == 1);
      CHECK(o.max_err_over_bound > 1.0);
    }
    CHECK(planted);
  }
}

TEST_CASE("normal mode: a result that differs between two launches fails the repeat, one that does not passes",
          "[checks]") {
  // A stand-in for a kernel: its "launch" writes the correctly rounded reference, and, when told to, then flips
  // the last bit of one element on every launch after the first (one ulp: well within the normal bound, so only
  // the repeat can see it).
  for (DType t : kTypes) {
    INFO(name(t));
    const auto p = Problem::make(t, 96, 40, 256, Fill::Normal, 41, nullptr);
    const int64_t count = int64_t(p->M) * p->N;
    DeviceBuffer d(p->d_bytes());
    const uint8_t flipped = static_cast<uint8_t>(download<uint8_t>(p->d_ref, 1)[0] ^ 1u);  // element 0's low byte
    for (const bool vary : {false, true}) {
      const std::string what = vary ? "the second launch differs in one bit" : "every launch writes the same bits";
      INFO(what);
      int launches = 0;
      const auto run = [&](cudaStream_t s) {
        SPARSE24_CUDA_CHECK(
            cudaMemcpyAsync(d.get(), p->d_ref.get(), p->d_bytes(), cudaMemcpyDeviceToDevice, s));
        if (vary && launches > 0)
          SPARSE24_CUDA_CHECK(cudaMemcpyAsync(d.get(), &flipped, 1, cudaMemcpyHostToDevice, s));
        ++launches;
      };
      const CheckResult r = run_and_compare(t, Fill::Normal, d.get(), count, p->reference(), run, nullptr);
      INFO(r.message);
      CHECK(launches == 2);
      CHECK(r.passed == !vary);
      CHECK(r.repeat_mismatches == (vary ? 1 : 0));
    }
    // Exact mode does not repeat (any summation order gives the same bits there).
    const auto e = Problem::make(t, 96, 40, 256, Fill::SmallInt, 42, nullptr);
    int launches = 0;
    const CheckResult x = run_and_compare(
        t, Fill::SmallInt, d.get(), count, e->reference(),
        [&](cudaStream_t s) {
          SPARSE24_CUDA_CHECK(cudaMemcpyAsync(d.get(), e->d_ref.get(), e->d_bytes(), cudaMemcpyDeviceToDevice, s));
          ++launches;
        },
        nullptr);
    INFO(x.message);
    CHECK(x.passed);
    CHECK(launches == 1);
    CHECK(x.repeat_mismatches == -1);
  }
}

TEST_CASE("correct kernels pass where the 16-bit cuBLAS reference failed them: 4096x3x4096", "[checks]") {
  // On this shape cublasGemmEx (default math mode) reduced split-K partial sums in fp16 and every fp16 variant
  // was reported FAILED (7 of 12288 outputs outside the bound).
  const int sm = compute_capability(0);
  for (DType t : kTypes) {
    const std::string dt = name(t);
    const auto exact = Problem::make(t, 4096, 3, 4096, Fill::SmallInt, 5, nullptr);
    const auto normal = Problem::make(t, 4096, 3, 4096, Fill::Normal, 6, nullptr);
    DeviceBuffer d(normal->d_bytes());
    int ran = 0;
    for (const std::string& n : {"mma_sp.s01_global." + dt + ".32x16x32.w2x2.s1",
                                 "mma_sp.s02_smem." + dt + ".128x128x64.w2x2.s1",
                                 "mma_sp.s02_smem." + dt + ".64x64x64.w2x2.s1",
                                 "dense.s02_smem." + dt + ".128x128x64.w2x2.s1"}) {
      const Variant* v = find_variant(n);
      if (!v) {
        WARN(n << " is not registered");
        continue;
      }
      if (!arch_error(*v, sm).empty()) continue;
      INFO(n);
      const CheckResult e = check_variant(*v, *exact, d.get(), nullptr);
      INFO("exact: " << e.message);
      CHECK(e.passed);
      const CheckResult r = check_variant(*v, *normal, d.get(), nullptr);
      INFO("normal: " << r.message << " (max |err|/bound " << r.max_err_over_bound << ")");
      CHECK(r.passed);
      ++ran;
    }
    CHECK(ran > 0);
  }
}

TEST_CASE("cuBLASLt peer: searched candidates pass the check, padded leading dimensions included", "[checks][peers]") {
  L2Flusher flusher(0);
  EventTimer timer;
  struct Case {
    int M, N, K;
    bool padded;
  };
  // N = 4097 and N = 33: D's rows are not 16-byte multiples, so the peer must pad (and copy D back).
  for (const Case c : {Case{256, 4097, 64, true}, Case{96, 33, 128, true}, Case{256, 64, 128, false}}) {
    for (DType t : kTypes) {
      INFO(name(t) << " " << c.M << "x" << c.N << "x" << c.K);
      const auto p = Problem::make(t, c.M, c.N, c.K, Fill::Normal, 31, nullptr);
      DeviceBuffer d(p->d_bytes());
      CublasLtPeer peer(t, p->M, p->N, p->K, p->a_pruned.get(), p->b.get(), d.get(), nullptr);
      CHECK(peer.padded() == c.padded);
      REQUIRE(peer.candidates() > 0);
      const SearchResult s = search_fastest(peer, *p, d.get(), flusher, timer, nullptr, 2);
      INFO(s.message << "; " << peer.describe());
      REQUIRE(s.chosen >= 0);
      CHECK(s.check.passed);
      CHECK(s.failed_check == 0);
      // The selected candidate again, checked on its own.
      poison(d.get(), p->d_bytes(), nullptr);
      peer.run();
      peer.finish();
      const CheckResult r = compare(t, Fill::Normal, d.get(), p->reference(), int64_t(p->M) * p->N, nullptr);
      INFO(r.message);
      CHECK(r.passed);
    }
  }
}

TEST_CASE("cuSPARSELt peer: passes the check, or refuses with a short reason", "[checks][peers]") {
  if (!CusparseltPeer::available()) {
    WARN("cuSPARSELt not built in: peer test skipped");
    return;
  }
  L2Flusher flusher(0);
  EventTimer timer;
  for (DType t : kTypes) {
    INFO(name(t));
    {
      const auto p = Problem::make(t, 256, 64, 256, Fill::Normal, 41, nullptr);
      DeviceBuffer d(p->d_bytes());
      CusparseltPeer peer(t, p->M, p->N, p->K, p->a_pruned.get(), p->b.get(), d.get(), nullptr);
      const SearchResult s = search_fastest(peer, *p, d.get(), flusher, timer, nullptr, 2);
      INFO(s.message << "; " << peer.describe());
      REQUIRE(s.chosen >= 0);
      CHECK(s.check.passed);
    }
    // N = 1: refused so far (with the shape's own leading dimension); if the padded one is accepted, the answer
    // must pass the check. Either way no 200-character status dump.
    {
      const auto p = Problem::make(t, 256, 1, 256, Fill::Normal, 43, nullptr);
      DeviceBuffer d(p->d_bytes());
      try {
        CusparseltPeer peer(t, p->M, p->N, p->K, p->a_pruned.get(), p->b.get(), d.get(), nullptr);
        const SearchResult s = search_fastest(peer, *p, d.get(), flusher, timer, nullptr, 2);
        INFO(s.message);
        CHECK(s.chosen >= 0);
      } catch (const PeerRefused& e) {
        const std::string why = e.what();
        INFO(why);
        CHECK(why.rfind("N=1 not supported by cuSPARSELt", 0) == 0);
        CHECK(why.size() < 120);
      }
    }
  }
}

TEST_CASE("ceilings are measured: instruction loops and copy rate", "[checks][ceilings]") {
  const Ceilings c = measure_ceilings(0, nullptr);
  INFO(c.error);
  if (compute_capability(0) < 80) {
    CHECK_FALSE(c.measured);
    return;
  }
  REQUIRE(c.measured);
  for (DType t : kTypes) {
    INFO(name(t) << ": mma.sp " << c.tflops(t, true) << ", mma.sync " << c.tflops(t, false));
    CHECK(c.tflops(t, true) > 0);
    CHECK(c.tflops(t, false) > 0);
    // Dense-equivalent, the sparse instruction does twice the dense K per issue: it must come out faster.
    CHECK(c.tflops(t, true) > c.tflops(t, false));
  }
  CHECK(c.copy_gbps > 0);
  const auto ctx = c.context();
  auto has = [&](const std::string& k) {
    for (const auto& kv : ctx)
      if (kv.first == k) return true;
    return false;
  };
  CHECK(has("ceiling_mma_sp_bf16_tflops"));
  CHECK(has("ceiling_mma_sync_fp16_tflops"));
  CHECK(has("copy_gbps"));
}

// ---- Operand types beyond 16-bit: problems, references and checks per output type (no kernels yet) -------------

TEST_CASE("problems of every input type: the reference in D's type passes its own check, one unit off fails",
          "[checks][types]") {
  // int8 -> int32 D (exact); e4m3, e5m2 -> bf16 D; tf32 -> f32 D: the default combinations (operands.h).
  for (DType t : {DType::int8, DType::e4m3, DType::e5m2, DType::tf32}) {
    const Operands ops = default_operands(t);
    INFO(name(t) << " -> " << name(ops.d));
    const auto p = Problem::make(ops, 64, 40, 256, Fill::SmallInt, 29, nullptr);
    REQUIRE(p->types == ops);
    REQUIRE(p->d_bytes() == size_t(64) * 40 * size_t(bytes_of(ops.d)));
    REQUIRE(p->meta(format::MetaLayout::Canonical) != nullptr);
    // The kernel layouts serve 16-bit and tf32 instructions only (format.h).
    CHECK((p->meta(format::MetaLayout::LaneBlocks16) != nullptr) == (t == DType::tf32));
    const int64_t count = int64_t(p->M) * p->N;
    DeviceBuffer d(p->d_bytes());
    SPARSE24_CUDA_CHECK(cudaMemcpy(d.get(), p->d_ref.get(), p->d_bytes(), cudaMemcpyDeviceToDevice));
    const CheckResult ok = compare(ops.d, Fill::SmallInt, d.get(), p->reference(), count, nullptr);
    INFO(ok.message);
    REQUIRE(ok.passed);
    // One element one unit of D's last place off (int32: 1; bf16/f32: the next representable number up).
    const int64_t i = count / 2 + 1;
    const size_t eb = bytes_of(ops.d);
    std::vector<uint8_t> h(eb);
    SPARSE24_CUDA_CHECK(cudaMemcpy(h.data(), d.as<uint8_t>() + i * eb, eb, cudaMemcpyDeviceToHost));
    uint32_t bits = 0;
    std::memcpy(&bits, h.data(), eb);
    bits = ops.d == DType::int32 ? bits + 1 : (bits & (1u << (8 * eb - 1))) ? bits - 1 : bits + 1;
    std::memcpy(h.data(), &bits, eb);
    SPARSE24_CUDA_CHECK(cudaMemcpy(d.as<uint8_t>() + i * eb, h.data(), eb, cudaMemcpyHostToDevice));
    const CheckResult bad = compare(ops.d, Fill::SmallInt, d.get(), p->reference(), count, nullptr);
    CHECK_FALSE(bad.passed);
    CHECK(bad.mismatches == 1);
    // The typed poison is caught for every output type (int32: the pattern 0x80000000, as no correct int8 GEMM
    // of K < 2^17 can write it).
    poison(ops.d, d.get(), count, nullptr);
    const CheckResult unwritten = compare(ops.d, Fill::SmallInt, d.get(), p->reference(), count, nullptr);
    CHECK_FALSE(unwritten.passed);
    CHECK(unwritten.nans == count);
  }
}

TEST_CASE("problems of the new types in normal mode: the reference passes, and the bound for int32 is zero",
          "[checks][types]") {
  for (DType t : {DType::int8, DType::e4m3, DType::tf32}) {
    const Operands ops = default_operands(t);
    INFO(name(t));
    const auto p = Problem::make(ops, 128, 64, 1024, Fill::Normal, 37, nullptr);
    const int64_t count = int64_t(p->M) * p->N;
    DeviceBuffer d(p->d_bytes());
    SPARSE24_CUDA_CHECK(cudaMemcpy(d.get(), p->d_ref.get(), p->d_bytes(), cudaMemcpyDeviceToDevice));
    const CheckResult ok = compare(ops.d, Fill::Normal, d.get(), p->reference(), count, nullptr);
    INFO(ok.message);
    CHECK(ok.passed);
    CHECK(ok.ref_nonzero > count / 2);   // int8's normal fill is not a sea of zeros
  }
  const ElementRule r = element_rule(DType::int32, 4096);
  CHECK(r.rel == 0);
  CHECK(r.per_abs_sum == 0);
}

TEST_CASE("illegal combinations and non-output types are refused with the rule", "[checks][types]") {
  CHECK_THROWS_WITH(Problem::make(Operands{DType::int8, DType::int8, DType::fp16, DType::f32}, 32, 8, 64,
                                  Fill::SmallInt, 1, nullptr),
                    test::contains("int8 accumulates in int32"));
  CHECK_THROWS_WITH(Problem::make(DType::f32, 32, 8, 64, Fill::SmallInt, 1, nullptr),
                    test::contains("sparse input"));
  DeviceBuffer d(64);
  CHECK_THROWS_AS(compare(DType::e4m3, Fill::SmallInt, d.get(), Reference{d.as<float>(), d.as<float>(), 8}, 8,
                          nullptr),
                  UnsupportedType);
}
