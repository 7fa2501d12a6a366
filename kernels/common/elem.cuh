// Device-side element types: DType -> CUDA storage type and the conversions the kernels need.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <string>
#include <type_traits>

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

namespace sparse24 {

// Host-side dispatch of a DType value to code templated on a 16-bit element type: calls
// f(std::integral_constant<DType, T>{}) for fp16 and bf16, and refuses any other type (UnsupportedType, naming
// `what`), so that a type without code is never handled as another one.
template <class F>
void with_16bit_type(DType t, const char* what, F&& f) {
  switch (t) {
    case DType::fp16: return f(std::integral_constant<DType, DType::fp16>{});
    case DType::bf16: return f(std::integral_constant<DType, DType::bf16>{});
    case DType::f32: break;
  }
  throw UnsupportedType(std::string(what) + ": no 16-bit element code for type " + name(t));
}

}  // namespace sparse24
