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
// dst[i] = double(src[i]) or |double(src[i])|: exact (every value of every input type is a double).
template <DType T>
__global__ void upcast_kernel(const typename Elem<T>::type* src, double* dst, int64_t count, bool absolute) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    const double v = Elem<T>::to_float(src[i]);
    dst[i] = absolute ? fabs(v) : v;
  }
}

// One rounding from f64 to the output type (no double rounding through f32). The output types of legal
// combinations (operands.h): fp16, bf16, f32, int32. An int32 result is an exact integer in f64 (|A.B| <= K 2^14
// < 2^53) and fits int32 for K < 2^17; __double2int_rn saturates beyond.
template <DType T>
__device__ __forceinline__ typename Elem<T>::type round_once(double v) {
  if constexpr (T == DType::fp16)
    return __double2half(v);
  else if constexpr (T == DType::bf16)
    return __double2bfloat16(v);
  else if constexpr (T == DType::f32)
    return __double2float_rn(v);
  else
    return __double2int_rn(v);
}

// From the f64 product: f32 rounded to nearest, and (when d16 is given) the output type rounded to nearest once.
template <DType T>
__global__ void downcast_kernel(const double* src, float* d32, typename Elem<T>::type* dout, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    const double v = src[i];
    if (d32) d32[i] = __double2float_rn(v);
    if (dout) dout[i] = round_once<T>(v);
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
  reference(t, t, t, M, N, K, a, x, d32, d16, abs_sum, stream);
}

void CublasRef::reference(DType ta, DType tb, DType td, int M, int N, int K, const void* a, const void* x,
                          float* d32, void* dout, float* abs_sum, cudaStream_t stream) {
  // The output types a combination may have (operands.h); anything else has no rounding here.
  switch (td) {
    case DType::fp16:
    case DType::bf16:
    case DType::f32:
    case DType::int32: break;
    case DType::int8:
    case DType::e4m3:
    case DType::e5m2:
    case DType::tf32:
      if (dout) throw UnsupportedType(std::string("reference: no rounding to a D of type ") + name(td));
      break;
  }
  const int64_t mk = int64_t(M) * K, nk = int64_t(N) * K, mn = int64_t(M) * N;
  DeviceBuffer a64(mk * sizeof(double)), x64(nk * sizeof(double)), d64(mn * sizeof(double));
  check(cublasSetStream(handle_, stream), "cublasSetStream");
  // NOTE: pedantic math: "the prescribed precision and standardized arithmetic for all phases" (cuBLAS docs), so
  // no emulated or reduced-precision path can stand in for f64 here, whatever the library version defaults to.
  check(cublasSetMathMode(handle_, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode(PEDANTIC)");
  const double one = 1.0, zero = 0.0;
  auto pass = [&](bool absolute, float* out32, void* out16) {
    with_any_type(ta, "reference (A)", [&](auto tag) {
      upcast<decltype(tag)::value>(a, a64.as<double>(), mk, absolute, stream);
    });
    with_any_type(tb, "reference (B)", [&](auto tag) {
      upcast<decltype(tag)::value>(x, x64.as<double>(), nk, absolute, stream);
    });
    // The same TN call as gemm() (see there), in f64.
    check(cublasDgemm(handle_, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, x64.as<double>(), K, a64.as<double>(), K,
                      &zero, d64.as<double>(), N),
          "cublasDgemm (reference)");
    switch (td) {
      case DType::fp16: return downcast<DType::fp16>(d64.as<double>(), out32, out16, mn, stream);
      case DType::bf16: return downcast<DType::bf16>(d64.as<double>(), out32, out16, mn, stream);
      case DType::int32: return downcast<DType::int32>(d64.as<double>(), out32, out16, mn, stream);
      case DType::f32:
      case DType::int8:
      case DType::e4m3:
      case DType::e5m2:
      case DType::tf32:  // out16 is null here (refused above): only the f32 outputs are written
        return downcast<DType::f32>(d64.as<double>(), out32, out16, mn, stream);
    }
  };
  try {
    if (d32 || dout) pass(false, d32, dout);
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
