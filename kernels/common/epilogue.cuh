// Writing one m16n8 accumulator tile to D: D = alpha * acc + beta * C, rounded once to the output type.
//
// Shared by every warp-level kernel (sparse and dense) so that the two families differ only in their main loops.
#pragma once

#include <cstdint>

#include "kernels/common/elem.cuh"
#include "kernels/common/fragments.h"
#include "kernels/gemm_args.h"

namespace sparse24 {

// acc: the lane's 4 accumulators of the 16x8 tile whose top-left element is D[m0][n0] (layout in fragments.h:
// (g, 2q), (g, 2q+1), (g+8, 2q), (g+8, 2q+1)). Rows >= M and columns >= N are not written. Row m of D starts at
// D + m * ldd, of C at C + m * ldc.
// NOTE: a lane's two columns are adjacent, so when ldd is even (row starts 4-byte aligned) they go out as one
// 32-bit store; an odd ldd falls back to element stores. Both branches are uniform across the grid.
template <DType T>
__device__ __forceinline__ void store_acc_m16n8(const float (&acc)[4], int m0, int n0, int M, int N,
                                                typename Elem<T>::type* D, int64_t ldd,
                                                const typename Elem<T>::type* C, int64_t ldc, float alpha,
                                                float beta) {
  using E = Elem<T>;
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const frag::RowCol rc = frag::acc_m16n8(lane, 2 * half);
    const int row = m0 + rc.row, col = n0 + rc.col;
    if (row >= M || col >= N) continue;
    float v0 = alpha * acc[2 * half], v1 = alpha * acc[2 * half + 1];
    const int64_t at = static_cast<int64_t>(row) * ldd + col;
    const int64_t at_c = static_cast<int64_t>(row) * ldc + col;
    const bool pair = col + 1 < N;
    if (beta != 0.0f) {
      v0 += beta * E::to_float(C[at_c]);
      if (pair) v1 += beta * E::to_float(C[at_c + 1]);
    }
    if (pair && ldd % 2 == 0) {
      *reinterpret_cast<typename E::type2*>(D + at) = E::from_float2(v0, v1);
    } else {
      D[at] = E::from_float(v0);
      if (pair) D[at + 1] = E::from_float(v1);
    }
  }
}

// int32 accumulators to an int32 D (int8 GEMMs without scales, operands.h): D = acc, plus C when beta = 1, exact.
// Any other alpha or beta would not be an integer result; the registry refuses them for int32 D (registry.cu).
__device__ __forceinline__ void store_acc_m16n8(const int32_t (&acc)[4], int m0, int n0, int M, int N, int32_t* D,
                                                int64_t ldd, const int32_t* C, int64_t ldc, float /*alpha: 1*/,
                                                float beta) {
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const frag::RowCol rc = frag::acc_m16n8(lane, 2 * half);
    const int row = m0 + rc.row, col = n0 + rc.col;
    if (row >= M || col >= N) continue;
    const int64_t at = static_cast<int64_t>(row) * ldd + col, at_c = static_cast<int64_t>(row) * ldc + col;
    const bool pair = col + 1 < N;
    int32_t v0 = acc[2 * half], v1 = acc[2 * half + 1];
    if (beta != 0.0f) {
      v0 += C[at_c];
      if (pair) v1 += C[at_c + 1];
    }
    D[at] = v0;
    if (pair) D[at + 1] = v1;
  }
}

// The scales of GemmArgs (gemm_args.h: D = RN(((alpha * sa * sb) * r[m] * c[n]) * acc + beta * C)) for one thread:
// load() reads the per-tensor scales once, apply() scales one accumulator pair of columns (col, col + 1) of row
// `row`, the pair a lane owns in every m16n8 and wgmma accumulator fragment (fragments.h). Null pointers are 1.
// beta * C is the caller's, after apply(), exactly as store_acc_m16n8 adds it.
// NOTE: the multiplications are written one by one, in the order gemm_args.h defines; the compiler does not
// reassociate float products (no fast-math), so a reference that follows the same order gets the same f32 bits
// for beta = 0. (With beta != 0 the final multiply-add may be contracted into one FMA, as in store_acc_m16n8.)
struct EpilogueScales {
  float alpha_ab;            // alpha * sa * sb
  const float* row_scale;    // M floats or null
  const float* col_scale;    // N floats or null

  __device__ __forceinline__ static EpilogueScales load(const GemmArgs& a) {
    float f = a.alpha;
    if (a.scale_a) f = f * *a.scale_a;
    if (a.scale_b) f = f * *a.scale_b;
    return {f, a.scale_row, a.scale_col};
  }

  // c[col], c[col + 1] of a lane's column pair (1 where the vector is absent or the column is past N), read-only
  // loads (ld.global.nc) a caller issues for a whole tile before its first store (store_acc_m16n8_prescaled).
  __device__ __forceinline__ float2 col_factors(int col, int N) const {
    if (!col_scale || col >= N) return make_float2(1.0f, 1.0f);
    if (col + 1 < N) return __ldg(reinterpret_cast<const float2*>(col_scale + col));  // col even: 8-byte aligned
    return make_float2(__ldg(col_scale + col), 1.0f);
  }
  // alpha sa sb r[row], the factor of a row before its column's (1 without a row vector, or for a row past M):
  // apply()'s first multiplications, once per row.
  __device__ __forceinline__ float row_factor(int row, int M) const {
    return row_scale && row < M ? alpha_ab * __ldg(row_scale + row) : alpha_ab;
  }
  // `pair` false: only col is inside D (the last column of an odd N); the second value is then not scaled.
  __device__ __forceinline__ float2 apply(float acc0, float acc1, int row, int col, bool pair) const {
    float g0 = alpha_ab, g1 = alpha_ab;
    if (row_scale) {
      const float r = row_scale[row];
      g0 = g0 * r, g1 = g1 * r;
    }
    if (col_scale) {
      g0 = g0 * col_scale[col];
      if (pair) g1 = g1 * col_scale[col + 1];
    }
    return make_float2(g0 * acc0, g1 * acc1);
  }
  // An int32 accumulator pair (int8 GEMMs): converted to f32 (RN; exact while |acc| < 2^24), then as above.
  __device__ __forceinline__ float2 apply(int acc0, int acc1, int row, int col, bool pair) const {
    return apply(__int2float_rn(acc0), __int2float_rn(acc1), row, col, pair);
  }
};

// The scaled value of one accumulator element: f * acc with f = ((alpha sa sb) r[m]) c[n], the row part already in
// `row_factor` (EpilogueScales::row_factor) and the column's scale in `col_factor` (EpilogueScales::col_factors),
// an int32 accumulator converted to f32 first (RN; exact while |acc| < 2^24). The one place this product is written:
// the register epilogue below and the TMA-store epilogue (wgmma_sp/s06_tmastore.cuh) give the same f32 bits.
template <class AccT>
__device__ __forceinline__ float prescaled(float row_factor, float col_factor, AccT acc) {
  return (row_factor * col_factor) * static_cast<float>(acc);
}

// One m16n8 accumulator tile (f32, or int8's s32) to a floating-point D with the scales: D = RN(f * acc + beta * C),
// f = ((alpha sa sb) r[m]) c[n] in gemm_args.h's order. The row part is taken once per thread and tile
// (`row_factor[h]`, EpilogueScales::row_factor of the lane's rows g and g + 8) and the column pair's scales come in
// `col_factor` (EpilogueScales::col_factors, loaded by the caller for the whole tile before any store: loads after
// a store to D must otherwise wait for it, one L2 round trip per m16n8 tile). Each element's factor is the f32 value
// EpilogueScales::apply gives (a missing vector multiplies by 1, which is exact). The layout and the pair stores are store_acc_m16n8's. An int32 D
// takes no scales (operands.h), so TD is fp16, bf16 or f32.
template <DType TD, class AccT>
__device__ __forceinline__ void store_acc_m16n8_prescaled(const AccT (&acc)[4], int m0, int n0, int M, int N,
                                                          typename Elem<TD>::type* D, int64_t ldd,
                                                          const typename Elem<TD>::type* C, int64_t ldc,
                                                          const float (&row_factor)[2], float2 col_factor,
                                                          float beta) {
  static_assert(TD == DType::fp16 || TD == DType::bf16 || TD == DType::f32, "a scaled D is a floating-point type");
  using E = Elem<TD>;
  const int lane = threadIdx.x % 32;
  const int col = n0 + frag::acc_m16n8(lane, 0).col;
  if (col >= N) return;
  const bool pair = col + 1 < N;
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int row = m0 + frag::acc_m16n8(lane, 2 * half).row;
    if (row >= M) continue;
    // Both conversions first, then both products: the order main had before prescaled() (the same SASS).
    const float a0 = static_cast<float>(acc[2 * half]), a1 = static_cast<float>(acc[2 * half + 1]);
    float v0 = prescaled(row_factor[half], col_factor.x, a0), v1 = prescaled(row_factor[half], col_factor.y, a1);
    const int64_t at = static_cast<int64_t>(row) * ldd + col;
    const int64_t at_c = static_cast<int64_t>(row) * ldc + col;
    if (beta != 0.0f) {
      v0 += beta * E::to_float(C[at_c]);
      if (pair) v1 += beta * E::to_float(C[at_c + 1]);
    }
    if (pair && ldd % 2 == 0) {
      *reinterpret_cast<typename E::type2*>(D + at) = E::from_float2(v0, v1);
    } else {
      D[at] = E::from_float(v0);
      if (pair) D[at + 1] = E::from_float(v1);
    }
  }
}

// A warp's kMTiles x kNTiles grid of m16n8 accumulator tiles, whose top-left element is D[m0][n0], written through
// store_acc_m16n8 with the arguments' alpha, beta, C and D.
template <DType T, int kMTiles, int kNTiles>
__device__ __forceinline__ void store_warp_tile(const float (&acc)[kMTiles][kNTiles][4], int m0, int n0,
                                                const GemmArgs& args) {
  using E = Elem<T>;
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
    for (int nt = 0; nt < kNTiles; ++nt)
      store_acc_m16n8<T>(acc[mt][nt], m0 + mt * 16, n0 + nt * 8, args.M, args.N,
                         static_cast<typename E::type*>(args.d), args.ldd,
                         static_cast<const typename E::type*>(args.c), args.ldc, args.alpha, args.beta);
}
// The same for int8's int32 accumulators, to an int32 D (exact; the int32 store_acc_m16n8 above).
template <DType T, int kMTiles, int kNTiles>
__device__ __forceinline__ void store_warp_tile(const int32_t (&acc)[kMTiles][kNTiles][4], int m0, int n0,
                                                const GemmArgs& args) {
  static_assert(T == DType::int32, "int32 accumulators go to an int32 D (operands.h)");
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
    for (int nt = 0; nt < kNTiles; ++nt)
      store_acc_m16n8(acc[mt][nt], m0 + mt * 16, n0 + nt * 8, args.M, args.N, static_cast<int32_t*>(args.d),
                      args.ldd, static_cast<const int32_t*>(args.c), args.ldc, args.alpha, args.beta);
}

}  // namespace sparse24
