// The arguments every GEMM variant takes, and the refusal it raises for a problem it cannot run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace sparse24 {

// D[M,N] = alpha * A[M,K] . B[K,N] + beta * C[M,N], accumulated in the variant's accumulator type.
//   A: sparse variants read the compressed values (M x K/2, row r at a + r * lda elements) and the metadata in the
//      variant's layout (packed: its own fixed order, no leading dimension); dense variants read A itself (M x K).
//   B: stored as X[N][K] (K-contiguous, row n at b + n * ldb elements): the activations x of y = x . W^T, A = W.
//   D, C: M x N, row m at d + m * ldd (c + m * ldc). C is read only when beta != 0 (it may then alias D, with
//      ldc == ldd).
// A leading dimension of 0 means packed (lda = K/2 or K, ldb = K, ldd = ldc = N); prepare() replaces it with the
// value, so a Plan's arguments always hold concrete strides. Every pointer and every row start must be 16-byte
// aligned for the current kernels (they move 16-byte vectors); the variant's prepare() refuses anything else.
struct GemmArgs {
  int M = 0, N = 0, K = 0;
  const void* a = nullptr;
  int64_t lda = 0;
  const void* a_meta = nullptr;
  const void* b = nullptr;
  int64_t ldb = 0;
  void* d = nullptr;
  int64_t ldd = 0;
  const void* c = nullptr;
  int64_t ldc = 0;
  float alpha = 1.0f, beta = 0.0f;
  // Scales, for the 8-bit types (dequantization) and any variant with Variant::has_scales; every one is optional,
  // and a null pointer means 1. With sa = *scale_a, sb = *scale_b, r = scale_row[m], c = scale_col[n]:
  //   D[m,n] = RN_D( ((alpha * sa * sb) * r * c) * acc[m,n] + beta * C[m,n] )
  // evaluated in f32 in exactly that order: f = alpha * sa * sb once per kernel (left to right), then
  // g = (f * r) * c per element, then g * acc, then + beta * C when beta != 0, and one rounding to D's type;
  // acc[m,n] = (A.B)[m,n] in the accumulator type (an int32 accumulator is converted to f32 first, exact while
  // |acc| < 2^24). kernels/common/epilogue.cuh (EpilogueScales) is that formula; references reproduce it.
  //   scale_a, scale_b: per-tensor scales of A and B, device pointers to one float each;
  //   scale_row: per-row (output channel: A = W's row m) scale vector, device pointer to M floats;
  //   scale_col: per-column (token: X's row n) scale vector, device pointer to N floats.
  // A variant without scales (every 16-bit one) is refused by prepare() when any of the four is non-null.
  const float* scale_a = nullptr;
  const float* scale_b = nullptr;
  const float* scale_row = nullptr;
  const float* scale_col = nullptr;
  // Scratch owned by the Plan (split-K partials, counters, descriptors); set by prepare(), never by the caller.
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
};

// Thrown by prepare() for a shape, stride or pointer the variant cannot handle; the message names the rule broken.
struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Thrown by prepare() when the variant cannot run on the current GPU (architecture, or no code for it in the
// build); the message says which.
struct ArchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace sparse24
