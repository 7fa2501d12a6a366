// cuBLAS dense: the reference every variant is checked against, and the baseline every speedup is relative to.
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

  // D[M,N] = alpha * A[M,K] . X[N,K]^T + beta * D, all row-major, f32 compute, D in type t.
  void gemm(DType t, int M, int N, int K, const void* a, const void* x, void* d, float alpha, float beta,
            cudaStream_t stream);
  static std::string version();

 private:
  cublasHandle_t handle_ = nullptr;
};

// The process-wide instance (created on first use; one handle, one workspace).
CublasRef& cublas();

}  // namespace sparse24::harness
