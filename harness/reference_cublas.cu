#include "harness/reference_cublas.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "harness/device_buffer.h"
#include "harness/cuda_types.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/elem.cuh"

namespace sparse24::harness {

namespace {
void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLAS: ") + what + " failed: " + cublasGetStatusName(s));
}
// dst[i] = double(src[i]) or |double(src[i])|: exact (every 16-bit value is a double).
template <DType T>
__global__ void upcast_kernel(const typename Elem<T>::type* src, double* dst, int64_t count, bool absolute) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    const double v = Elem<T>::to_float(src[i]);
    dst[i] = absolute ? fabs(v) : v;
  }
}

// From the f64 product: f32 rounded to nearest, and (when d16 is given) the output type rounded to nearest once,
// straight from f64 (no double rounding through f32).
template <DType T>
__global__ void downcast_kernel(const double* src, float* d32, typename Elem<T>::type* d16, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    const double v = src[i];
    if (d32) d32[i] = __double2float_rn(v);
    if (d16) {
      if constexpr (T == DType::fp16)
        d16[i] = __double2half(v);
      else
        d16[i] = __double2bfloat16(v);
    }
  }
}

int grid_for(int64_t count, int threads) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((count + threads - 1) / threads, 4096)));
}

template <DType T>
void upcast(const void* src, double* dst, int64_t count, bool absolute, cudaStream_t stream) {
  upcast_kernel<T><<<grid_for(count, 256), 256, 0, stream>>>(static_cast<const typename Elem<T>::type*>(src), dst,
                                                             count, absolute);
  SPARSE24_CUDA_CHECK(cudaGetLastError());
}

template <DType T>
void downcast(const double* src, float* d32, void* d16, int64_t count, cudaStream_t stream) {
  downcast_kernel<T><<<grid_for(count, 256), 256, 0, stream>>>(src, d32, static_cast<typename Elem<T>::type*>(d16),
                                                               count);
  SPARSE24_CUDA_CHECK(cudaGetLastError());
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
  const cudaDataType_t ty = cuda_data_type(t);
  check(cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &alpha, x, ty, K, a, ty, K, &beta, d, ty, N,
                     CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx");
}

void CublasRef::reference(DType t, int M, int N, int K, const void* a, const void* x, float* d32, void* d16,
                          float* abs_sum, cudaStream_t stream) {
  const int64_t mk = int64_t(M) * K, nk = int64_t(N) * K, mn = int64_t(M) * N;
  DeviceBuffer a64(mk * sizeof(double)), x64(nk * sizeof(double)), d64(mn * sizeof(double));
  check(cublasSetStream(handle_, stream), "cublasSetStream");
  // NOTE: pedantic math: "the prescribed precision and standardized arithmetic for all phases" (cuBLAS docs), so
  // no emulated or reduced-precision path can stand in for f64 here, whatever the library version defaults to.
  check(cublasSetMathMode(handle_, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode(PEDANTIC)");
  const double one = 1.0, zero = 0.0;
  auto pass = [&](bool absolute, float* out32, void* out16) {
    with_16bit_type(t, "reference", [&](auto tag) {
      upcast<decltype(tag)::value>(a, a64.as<double>(), mk, absolute, stream);
      upcast<decltype(tag)::value>(x, x64.as<double>(), nk, absolute, stream);
    });
    // The same TN call as gemm() (see there), in f64.
    check(cublasDgemm(handle_, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, x64.as<double>(), K, a64.as<double>(), K,
                      &zero, d64.as<double>(), N),
          "cublasDgemm (reference)");
    with_16bit_type(t, "reference", [&](auto tag) {
      downcast<decltype(tag)::value>(d64.as<double>(), out32, out16, mn, stream);
    });
  };
  try {
    if (d32 || d16) pass(false, d32, d16);
    if (abs_sum) pass(true, abs_sum, nullptr);
    SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));  // the f64 buffers are freed when this returns
  } catch (...) {
    cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH);
    throw;
  }
  check(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode(DEFAULT)");
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
