// Split-K support shared by every kernel that cuts K into slices computed by different blocks: the deterministic
// reduction of the f32 partials (a second kernel, reduce); the host side (workspace layout, the choice of the split
// factor) is in splitk.h.
//
// Every block of every slice writes all of its rows' N columns to partials[z] (splitk.h), zeros included, so the
// reduction never reads an unwritten element.
//
// Determinism: element (m, n) is summed by one thread, slices in the fixed order z = 0, 1, ..., split-1, starting
// from 0.0f, then scaled once by store_sum: D = alpha * sum + beta * C (the same expression, in the same order, as
// store_acc_m16n8 applies to a single accumulator). The result depends on the split factor but never on timing:
// two runs give the same bits.
//
// The reduction kernel has no tensor-core instruction, so it lives here (namespace sparse24::splitk) rather than in
// a family namespace: scripts/check_sass.py matches family namespaces in kernel names and demands HMMAs there.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/common/elem.cuh"
#include "kernels/common/splitk.h"
#include "kernels/gemm_args.h"

namespace sparse24::splitk {

// Threads per block of the reduction: one output element per thread.
inline constexpr int kReduceThreads = 256;

// D[m][n] = alpha * sum + beta * C[m][n] for packed element i = m * N + n. The rounding steps are spelled out
// (__fmul_rn, __fmaf_rn: what the compiler made of `v = alpha * sum; v += beta * c` in the reduce kernel, one FMUL
// and one FFMA) so that a reduction written elsewhere cannot be contracted differently.
template <DType T>
__device__ __forceinline__ void store_sum(const GemmArgs& args, int64_t m, int64_t n, float sum) {
  using E = Elem<T>;
  float v = __fmul_rn(args.alpha, sum);
  if (args.beta != 0.0f)
    v = __fmaf_rn(args.beta, E::to_float(static_cast<const typename E::type*>(args.c)[m * args.ldc + n]), v);
  static_cast<typename E::type*>(args.d)[m * args.ldd + n] = E::from_float(v);
}

// D[m][n] = alpha * sum_z partials[z][m][n] + beta * C[m][n], z in increasing order.
template <DType T>
__global__ void __launch_bounds__(kReduceThreads) reduce(GemmArgs args, int split) {
  const int64_t total = static_cast<int64_t>(args.M) * args.N;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kReduceThreads + threadIdx.x;
  if (i >= total) return;
  const int64_t m = i / args.N, n = i % args.N;
  const float* ws = static_cast<const float*>(args.workspace);
  float sum = 0.0f;
  for (int z = 0; z < split; ++z) sum += ws[z * total + i];
  store_sum<T>(args, m, n, sum);
}

template <DType T>
inline void launch_reduce(const GemmArgs& args, int split, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(args.M) * args.N;
  const unsigned blocks = static_cast<unsigned>((total + kReduceThreads - 1) / kReduceThreads);
  reduce<T><<<blocks, kReduceThreads, 0, stream>>>(args, split);
}

}  // namespace sparse24::splitk
