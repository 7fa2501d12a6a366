#include "harness/reference_cublas.h"

#include <stdexcept>
#include <string>

#include "kernels/common/cuda_check.h"

namespace sparse24::harness {

namespace {
void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLAS: ") + what + " failed: " + cublasGetStatusName(s));
}
cudaDataType_t cuda_type(DType t) {
  switch (t) {
    case DType::fp16: return CUDA_R_16F;
    case DType::bf16: return CUDA_R_16BF;
    case DType::f32: return CUDA_R_32F;
  }
  throw std::logic_error("cuBLAS reference: unsupported dtype");
}
}  // namespace

CublasRef::CublasRef() { check(cublasCreate(&handle_), "cublasCreate"); }
CublasRef::~CublasRef() {
  if (handle_) cublasDestroy(handle_);
}

void CublasRef::gemm(DType t, int M, int N, int K, const void* a, const void* x, void* d, float alpha, float beta,
                     cudaStream_t stream) {
  check(cublasSetStream(handle_, stream), "cublasSetStream");
  // cuBLAS is column-major. Our row-major D (M x N) is the column-major N x M matrix X . A^T, where the row-major
  // X (N x K) is column-major K x N (so op T) and the row-major A (M x K) is column-major K x M (op N): the "TN"
  // case, cuBLAS's fastest layout, with K-contiguous operands exactly as our kernels read them.
  const cudaDataType_t ty = cuda_type(t);
  check(cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &alpha, x, ty, K, a, ty, K, &beta, d, ty, N,
                     CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx");
}

std::string CublasRef::version() {
  int major = 0, minor = 0, patch = 0;
  check(cublasGetProperty(MAJOR_VERSION, &major), "cublasGetProperty");
  check(cublasGetProperty(MINOR_VERSION, &minor), "cublasGetProperty");
  check(cublasGetProperty(PATCH_LEVEL, &patch), "cublasGetProperty");
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

CublasRef& cublas() {
  static CublasRef instance;
  return instance;
}

}  // namespace sparse24::harness
