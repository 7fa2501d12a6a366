// Device-side element types: DType -> CUDA storage type and the conversions the kernels need.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/common/dtype.h"

namespace sparse24 {

template <DType T>
struct Elem;

template <>
struct Elem<DType::fp16> {
  using type = __half;
  using type2 = __half2;
  __device__ static type from_float(float x) { return __float2half_rn(x); }
  __device__ static float to_float(type x) { return __half2float(x); }
  __device__ static type2 from_float2(float x, float y) { return __floats2half2_rn(x, y); }
  __device__ static float2 to_float2(type2 v) { return __half22float2(v); }
};

template <>
struct Elem<DType::bf16> {
  using type = __nv_bfloat16;
  using type2 = __nv_bfloat162;
  __device__ static type from_float(float x) { return __float2bfloat16_rn(x); }
  __device__ static float to_float(type x) { return __bfloat162float(x); }
  __device__ static type2 from_float2(float x, float y) { return __floats2bfloat162_rn(x, y); }
  __device__ static float2 to_float2(type2 v) { return __bfloat1622float2(v); }
};

}  // namespace sparse24
