// Correctness: a variant's (or a peer's) output against the problem's f32 reference, on a poisoned output buffer.
#pragma once

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>

#include "harness/problem.h"
#include "kernels/registry.h"

// The same host/device marker as kernels/common/fragments.h (identical definition).
#ifndef SPARSE24_HD
#ifdef __CUDACC__
#define SPARSE24_HD __host__ __device__
#else
#define SPARSE24_HD
#endif
#endif

namespace sparse24::harness {

struct CheckResult {
  bool passed = false;
  Fill fill = Fill::Normal;
  int64_t elements = 0;
  int64_t mismatches = 0;   // elements whose bits (of the output type's width) differ from the reference rounded
                            // once to the output type
  int64_t nans = 0;         // NaN outputs (the poison for integers): unwritten, or the kernel produced NaN
  int64_t ref_nonzero = 0;  // nonzero reference elements: a reference of all zeros proves nothing
  double rel_err = 0;       // ||D - ref||_F / ||ref||_F
  double max_abs_err = 0;
  double bound = 0;         // the rel_err bound for Normal inputs (0 for SmallInt: exact)
  int64_t over_tolerance = 0;  // elements outside the element bound (element_bound below; must be 0 for Normal)
  double max_err_over_bound = 0;  // max over elements of |d - ref| / bound (f32 reference only; < 1 passes)
  int64_t repeat_mismatches = -1;  // Normal inputs: outputs whose bits differ between two launches on the same
                                   // inputs (run_and_compare's repeat; -1 where it did not run)
  std::string message;      // why it failed, empty when passed
};

// c of the element rule's c K u32 S term below: the NOTE at element_rule() in check.cu derives it.
constexpr double kElementBoundC = 6.0;

// The element rule of the random-normal check: |d - ref| <= rel |ref| + per_abs_sum S + tiny, S = sum_k |a||x|.
// The derivation is the NOTE at element_rule() in check.cu.
struct ElementRule {
  double rel = 0;          // u_out: the output type's unit roundoff
  double per_abs_sum = 0;  // c K u32
  double tiny = 0;         // half the output type's smallest subnormal (rounding of results near zero)
};
ElementRule element_rule(DType t, int K);
SPARSE24_HD inline double element_bound(const ElementRule& r, double ref, double abs_sum) {
  return r.rel * fabs(ref) + r.per_abs_sum * abs_sum + r.tiny;
}

// ---- Scales (gemm_args.h) -------------------------------------------------------------------------------------
// The factor of output element (m, n) in f32, in exactly the order gemm_args.h defines and EpilogueScales
// (kernels/common/epilogue.cuh) computes: f = (alpha * sa) * sb once, then g = (f * r[m]) * c[n]; the output is
// RN_D(g * acc). A null scale is 1, and x * 1.0f == x exactly, so skipping a null factor (the kernels) and
// multiplying by 1 (the check) give the same bits.
SPARSE24_HD inline float tensor_factor(float alpha, float sa, float sb) { return (alpha * sa) * sb; }
SPARSE24_HD inline float element_factor(float f, float r, float c) { return (f * r) * c; }

// The normal-mode bound of a scaled run: element_bound(rule, g ref, |g| S), the unscaled rule with the reference
// and its error scale multiplied by the factor. The NOTE "scaled outputs" at element_rule() in check.cu derives
// it, for K >= kScaledBoundMinK; scaled_error_coefficient() is that derivation's sum of terms, in units of
// u32 |g| S (before the output rounding's u_out |ref|), which must stay <= the rule's c K (tests/cpu check it).
constexpr int kScaledBoundMinK = 4;
inline double scaled_error_coefficient(DType t, int K) {
  constexpr double kU32 = 1.0 / 16777216.0;  // 2^-24
  const double k = K, acc_over_s = 1 + 4 * k * kU32;  // |acc| <= S (1 + 4 K u32)
  // c. accumulation 4 K; d. reference 1.01; b. the f32 product g acc 1 and e. another factor order 4.01, both
  // relative to |acc|.
  const double terms = 4 * k + 1.01 + (1 + 4.01) * acc_over_s;
  return (1 + info(t).unit_roundoff) * terms;
}

// The poison of an output of type t (dtype.h DTypeInfo::poison: a NaN for float types, the most negative value for
// integers), written to `count` elements, so that an element the kernel never wrote cannot pass.
void poison(DType t, void* d, int64_t count, cudaStream_t stream);
// All bits set: the poison of every float type (a NaN in fp16, bf16, f32 and the fp8 types), for byte buffers
// and guards; an int32 output needs the typed form above.
void poison(void* d, size_t bytes, cudaStream_t stream);

// THE check: `count` outputs d of output type t (the problem's D: fp16, bf16, f32 or int32; another type is
// UnsupportedType) against the f32 reference of their problem (Problem::reference()). "NaN" below means a NaN for
// float outputs and the poison pattern for int32 (which has no NaN).
//   SmallInt (exact mode): every output's bits equal RN_t(ref), the reference rounded once to the output type.
//     Valid because every partial sum is an integer below 2^24, so any f32 summation order is exact: checked here
//     (max S < 2^24) and reported as a failure of the problem, not of the kernel, if it does not hold.
//   Normal: every element within element_bound() AND the relative Frobenius error <= 2 * info(t).unit_roundoff
//   + K * 2^-24 (the accumulation's share, which dominates for an f32 D: check.cu).
// Either way no NaN, and the reference must not be all zero. Synchronizes `stream`.
// With scales (ref.scales().any()): the reference of element (m, n) is g * ref.value (formed in f64, exact: two
// 24-bit significands), g = element_factor(tensor_factor(alpha, sa, sb), r[m], c[n]) as above; exact mode
// compares the bits with RN_t(g * ref.value) (exact in f32 when g is a power of two, which it checks, as it
// checks the 2^24 premise on the unscaled sum); normal mode's element bound uses |g| S (kScaledBoundMinK above).
// An int32 D takes no scales (operands.h): refused as a failed check.
CheckResult compare(DType t, Fill fill, const void* d, const Reference& ref, int64_t count, cudaStream_t stream);

// Bit-for-bit comparison of two outputs of type t, for tests that build their own 16-bit reference (with alpha
// and beta, say) from exact small-integer inputs. Fails on any differing element, any NaN, a NaN or all-zero
// reference. Every check of a kernel against its problem goes through compare(..., const Reference&, ...) above.
CheckResult compare_bits(DType t, const void* d, const void* ref, int64_t count, cudaStream_t stream);

// The run-and-compare of every plan check: poisons the `count` outputs of type td at d, runs `run` on `stream`
// (whatever enqueues the GEMM: a Plan's run, or an AutoPlan's with its padding copies), waits for it, and compares
// with `ref` as compare() does. A run that throws (a launch the GPU refuses, a CUDA error) is a failed check with
// the exception's message and the given fill. check_plan below and the benchmark's check of `auto` both use it.
// With Fill::Normal and a passing comparison it then checks that the result is deterministic (issue 19: "the same
// bits on repeat"): the output is kept, D poisoned again, `run` launched a second time on the same inputs and the
// two outputs compared bit for bit (repeat_mismatches); any difference fails the check. Random normal values
// only: small integers are exact in every summation order, so a schedule that sums in a varying order (an atomic
// reduction, a race between pieces of a tile) shows only in the bits of normal values.
CheckResult run_and_compare(DType td, Fill fill, void* d, int64_t count, const Reference& ref,
                            const std::function<void(cudaStream_t)>& run, cudaStream_t stream);

// Poisons the plan's D, runs the plan (prepared for problem p with beta = 0) and compares with the problem's
// reference, scaled by the plan's own alpha and scale pointers (any subset; args_for gives a has_scales variant
// all four of the problem's), in the plan's variant's D type (the f32 reference serves every D of the same inputs:
// an int8 -> bf16 variant is checked on the int8 problem whose default D is int32; the buffer must hold M x N
// elements of the variant's D). A launch error, beta != 0, or a variant whose A or B type is not the problem's
// is reported as a failed check with its message.
CheckResult check_plan(const Plan& plan, const Problem& p, cudaStream_t stream);
// prepare() + check_plan(): a ShapeError or ArchError is reported as a failed check with its message.
CheckResult check_variant(const Variant& v, const Problem& p, void* d, cudaStream_t stream);

// The GemmArgs of variant v on problem p writing to d: alpha = 1, beta = 0, and for a variant with
// Variant::has_scales all four of the problem's scales (Problem::scales: the full per-tensor x per-row x
// per-column feature, so that every multiplication of the epilogue is checked).
GemmArgs args_for(const Variant& v, const Problem& p, void* d);

}  // namespace sparse24::harness
