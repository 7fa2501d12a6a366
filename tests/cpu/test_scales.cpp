// The pure parts of the scaled checks (harness/check.h): the factor is formed in gemm_args.h's order, and the
// scaled element bound's derivation (check.cu, NOTE: scaled outputs) holds from kScaledBoundMinK on and not
// below, for every float output type.
#include "tests/catch.h"

#include <cmath>
#include <random>

#include "harness/check.h"

using namespace sparse24;
using namespace sparse24::harness;

TEST_CASE("scale factors: ((alpha sa) sb), then ((f r) c), in f32, as gemm_args.h defines", "[scales]") {
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> u(0.5f, 2.0f);
  int reassociations = 0;
  for (int i = 0; i < 10000; ++i) {
    const float alpha = u(gen), sa = u(gen), sb = u(gen), r = u(gen), c = u(gen);
    const float f = tensor_factor(alpha, sa, sb);
    volatile float left = alpha * sa;  // volatile: one f32 rounding per product, nothing contracted or reordered
    left = left * sb;
    CHECK(f == left);
    volatile float g = f * r;
    g = g * c;
    CHECK(element_factor(f, r, c) == g);
    // The order matters (else the test could not tell): the other association differs for some draws.
    volatile float right = sa * sb;
    right = alpha * right;
    reassociations += right != left;
  }
  CHECK(reassociations > 100);
  // A null scale is 1: multiplying by 1 is exact, so the kernels' skip and the check's "* 1" agree.
  CHECK(tensor_factor(0.1f, 1.0f, 1.0f) == 0.1f);
  CHECK(element_factor(0.3f, 1.0f, 1.0f) == 0.3f);
}

TEST_CASE("the scaled element bound: its terms stay within c K u32 from K = 4, not below", "[scales]") {
  for (DType t : {DType::fp16, DType::bf16, DType::f32}) {
    INFO(name(t));
    // The rule's c K u32 (element_rule), in units of u32: what the derivation's sum of terms must not exceed.
    auto allowed = [](int K) { return kElementBoundC * K; };
    for (int K = kScaledBoundMinK; K <= (1 << 17); K = K < 64 ? K + 1 : K * 2) {
      INFO("K = " << K);
      CHECK(scaled_error_coefficient(t, K) <= allowed(K));
    }
  }
  // The limit is tight: at K = 3 bf16 (the largest u_out) exceeds it, so K >= 4 is a condition, not decoration.
  CHECK(scaled_error_coefficient(DType::bf16, kScaledBoundMinK - 1) > kElementBoundC * (kScaledBoundMinK - 1));
}
