// The arguments every GEMM variant takes, and the refusal it raises for a shape it cannot run.
#pragma once

#include <stdexcept>

namespace sparse24 {

// D[M,N] = alpha * A[M,K] . B[K,N] + beta * C[M,N], accumulated in f32, D and C in the input type.
//   A: sparse variants read the compressed values (M x K/2, row-major) and the metadata in the variant's layout;
//      dense variants read A itself (M x K, row-major) and ignore a_meta.
//   B: stored as X[N][K], row-major (K-contiguous): the activations x of y = x . W^T, with A = W.
//   D, C: M x N, row-major. C is read only when beta != 0 (it may then alias D).
// Every pointer must be 16-byte aligned (the kernels move 16-byte vectors).
struct GemmArgs {
  int M = 0, N = 0, K = 0;
  const void* a = nullptr;
  const void* a_meta = nullptr;
  const void* b = nullptr;
  void* d = nullptr;
  const void* c = nullptr;
  float alpha = 1.0f, beta = 0.0f;
};

// Thrown by a variant's launch for a shape or pointer it cannot handle; the message names the rule broken.
struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

}  // namespace sparse24
