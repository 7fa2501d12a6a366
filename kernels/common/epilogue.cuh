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

}  // namespace sparse24
