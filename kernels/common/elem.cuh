// Device-side element types: DType -> CUDA storage type and the conversions the kernels need.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "kernels/common/dtype.h"

namespace sparse24 {

// The unsigned integer of a type's storage width: what the format code and the bitwise checks move.
template <int kBits>
struct StorageOf;
template <>
struct StorageOf<8> { using type = uint8_t; };
template <>
struct StorageOf<16> { using type = uint16_t; };
template <>
struct StorageOf<32> { using type = uint32_t; };

template <DType T>
using storage_t = typename StorageOf<info(T).bits>::type;

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

template <>
struct Elem<DType::f32> {
  using type = float;
  using type2 = float2;
  __device__ static type from_float(float x) { return x; }
  __device__ static type2 from_float2(float x, float y) { return make_float2(x, y); }
  __device__ static float to_float(type x) { return x; }
};

// OCP FP8: the conversions saturate to the largest finite value (__NV_SATFINITE), as quantizers do; a NaN input
// stays NaN.
template <>
struct Elem<DType::e4m3> {
  using type = __nv_fp8_e4m3;
  __device__ static type from_float(float x) { return type(x); }   // the constructor rounds RN, saturating
  __device__ static float to_float(type x) { return static_cast<float>(x); }
};

template <>
struct Elem<DType::e5m2> {
  using type = __nv_fp8_e5m2;
  __device__ static type from_float(float x) { return type(x); }
  __device__ static float to_float(type x) { return static_cast<float>(x); }
};

// tf32 lives in f32 storage; from_float rounds to the nearest tf32 (ties away from zero, as cvt.rna.tf32.f32 and
// cuBLAS's tf32 conversion do) and clears the low 13 bits, so the stored value is exactly what a tensor core reads.
template <>
struct Elem<DType::tf32> {
  using type = float;
  __device__ static type from_float(float x) {
    const uint32_t b = __float_as_uint(x);
    if ((b & 0x7F800000u) == 0x7F800000u) return x;  // inf and NaN keep their bits (NaN stays NaN)
    return __uint_as_float((b + 0x1000u) & ~0x1FFFu);  // + half an ulp of the 10-bit mantissa, then truncate
  }
  __device__ static float to_float(type x) { return x; }
};

// Integers: from_float rounds to nearest even and saturates (cvt.rni.sat), the way int8 quantizers behave.
template <>
struct Elem<DType::int8> {
  using type = int8_t;
  __device__ static type from_float(float x) {
    const float r = fminf(fmaxf(rintf(x), -128.0f), 127.0f);
    return static_cast<type>(static_cast<int>(r));
  }
  __device__ static float to_float(type x) { return static_cast<float>(x); }
};

template <>
struct Elem<DType::int32> {
  using type = int32_t;
  __device__ static type from_float(float x) { return __float2int_rn(x); }  // saturates at the int32 limits
  __device__ static float to_float(type x) { return static_cast<float>(x); }
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
    case DType::f32:
    case DType::int8:
    case DType::e4m3:
    case DType::e5m2:
    case DType::tf32:
    case DType::int32: break;
  }
  throw UnsupportedType(std::string(what) + ": no 16-bit element code for type " + name(t));
}

// Host-side dispatch of a DType value to code templated on any type that has an Elem (every DType): for code that
// is generic over the element (fills, conversions, bitwise checks). An out-of-range value is UnsupportedType.
template <class F>
void with_any_type(DType t, const char* what, F&& f) {
  switch (t) {
    case DType::fp16: return f(std::integral_constant<DType, DType::fp16>{});
    case DType::bf16: return f(std::integral_constant<DType, DType::bf16>{});
    case DType::f32: return f(std::integral_constant<DType, DType::f32>{});
    case DType::int8: return f(std::integral_constant<DType, DType::int8>{});
    case DType::e4m3: return f(std::integral_constant<DType, DType::e4m3>{});
    case DType::e5m2: return f(std::integral_constant<DType, DType::e5m2>{});
    case DType::tf32: return f(std::integral_constant<DType, DType::tf32>{});
    case DType::int32: return f(std::integral_constant<DType, DType::int32>{});
  }
  throw UnsupportedType(std::string(what) + ": unknown dtype value " + std::to_string(static_cast<int>(t)));
}

}  // namespace sparse24
