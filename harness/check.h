// Correctness: a variant's output against cuBLAS's, on a poisoned output buffer.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

#include "harness/problem.h"
#include "kernels/registry.h"

namespace sparse24::harness {

struct CheckResult {
  bool passed = false;
  Fill fill = Fill::Normal;
  int64_t elements = 0;
  int64_t mismatches = 0;   // elements whose bits differ from the reference
  int64_t nans = 0;         // NaN outputs: the poison survived (unwritten) or the kernel produced NaN
  int64_t ref_nonzero = 0;  // nonzero reference elements: a reference of all zeros proves nothing
  double rel_err = 0;       // ||D - ref||_F / ||ref||_F
  double max_abs_err = 0;
  double bound = 0;         // the rel_err bound for Normal inputs (0 for SmallInt: exact)
  int64_t over_tolerance = 0;  // Normal inputs: elements with |d - ref| > 4u|ref| + u rms(ref) (must be 0)
  std::string message;      // why it failed, empty when passed
};

// The poison: all bits set, a NaN in fp16 and bf16, so an element the kernel never wrote cannot pass.
void poison(void* d, size_t bytes, cudaStream_t stream);

// Compares `count` elements of d and ref (type t). SmallInt: passes when every element matches bit for bit.
// Normal: passes when rel_err <= 2 * info(t).unit_roundoff AND every element is within 4u|ref| + u rms(ref), u the
// type's unit roundoff. Either way no NaN, and the reference must not be all zero. Synchronizes `stream`.
// NOTE: the element rule. Both sides round an f32 sum once, so a correct element differs from cuBLAS by at most
// one output spacing (2u|ref|) plus the difference of two f32 summation orders, which is about 2^-24 sqrt(K)
// times the sum's scale: far below u rms(ref), the absolute term that covers outputs near zero (cancellation).
// A wrong element is off by about rms(ref), 2^8 (bf16) to 2^11 (fp16) times the allowance.
CheckResult compare(DType t, Fill fill, const void* d, const void* ref, int64_t count, cudaStream_t stream);

// Poisons the plan's D, runs the plan (prepared for problem p with alpha = 1, beta = 0) and compares with the
// problem's reference. A launch error is reported as a failed check with its message.
CheckResult check_plan(const Plan& plan, const Problem& p, cudaStream_t stream);
// prepare() + check_plan(): a ShapeError or ArchError is reported as a failed check with its message.
CheckResult check_variant(const Variant& v, const Problem& p, void* d, cudaStream_t stream);

// The GemmArgs of variant v on problem p writing to d.
GemmArgs args_for(const Variant& v, const Problem& p, void* d);

}  // namespace sparse24::harness
