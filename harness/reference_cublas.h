// cuBLAS: the reference every variant and every peer is checked against, and a plain cublasGemmEx call that tests
// use for alpha/beta references. The timed dense peer is cuBLASLt (peer_cublaslt.h), not this.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <string>

#include "kernels/common/dtype.h"

namespace sparse24::harness {

class CublasRef {
 public:
  CublasRef();
  ~CublasRef();
  CublasRef(const CublasRef&) = delete;
  CublasRef& operator=(const CublasRef&) = delete;

  // D[M,N] = alpha * A[M,K] . X[N,K]^T + beta * D, all row-major, f32 compute, D in type t (cublasGemmEx, default
  // algorithm and math mode). NOTE: not a reference for rounding-level checks: in the default math mode cuBLAS may
  // reduce split-K partial sums in the 16-bit output type (seen on fp16 4096x3x4096: 7 of 12288 outputs off by up
  // to 0.125). Exact on small integers (every partial sum is an integer below 2^11), which is what the tests use
  // it for.
  void gemm(DType t, int M, int N, int K, const void* a, const void* x, void* d, float alpha, float beta,
            cudaStream_t stream);

  // The checks' reference (check.h). One f64 GEMM (cublasDgemm, pedantic math) on A and X upcast to f64: every
  // product of two 16-bit values is exact in f64 and the sum's error is at most K 2^-53 sum_k |a||x|, far below
  // anything an f32-accumulating kernel can resolve. From it:
  //   d32     = RN_f32(A . X^T)             M x N f32 (the reference the checks compare with)
  //   d16     = RN_t(A . X^T)               M x N in type t, rounded once from f64 (what an exact kernel writes)
  //   abs_sum = RN_f32(|A| . |X|^T)         M x N f32, sum_k |a_mk||x_nk| (a second f64 GEMM on |A|, |X|): the
  //                                          scale of the accumulation error in the element bound
  // Any output may be null (then it is not computed). Temporary f64 buffers of (M + N) K + M N doubles live for
  // the call only. Synchronizes `stream`.
  // Scales (gemm_args.h) are not applied here: one problem serves scaled and unscaled runs (variants, peers), so
  // compare() scales d32 and abs_sum element by element (check.h): g * d32 is exact in f64, and d32's own error
  // is the unscaled one times |g|, as the NOTE "scaled outputs" in check.cu counts it.
  void reference(DType t, int M, int N, int K, const void* a, const void* x, float* d32, void* d16, float* abs_sum,
                 cudaStream_t stream);
  // The same for any operand combination: A of type ta, X of type tb (every input type upcasts exactly to f64:
  // int8, fp8 and tf32 values are doubles, and a product of two is exact in f64's 53 bits), and `dout` in D's type
  // td, rounded once from f64 (fp16, bf16, f32, or int32: exact while K < 2^17). A dout for any other td is refused
  // (UnsupportedType); d32 and abs_sum are f32 whatever the types.
  void reference(DType ta, DType tb, DType td, int M, int N, int K, const void* a, const void* x, float* d32,
                 void* dout, float* abs_sum, cudaStream_t stream);

  static std::string version();

 private:
  cublasHandle_t handle_ = nullptr;
};

// The process-wide instance (created on first use; one handle, one workspace).
CublasRef& cublas();

}  // namespace sparse24::harness
