// Split-K support shared by every kernel that cuts K into slices computed by different blocks: the deterministic
// reduction of the f32 partials, and the host-side choice of the split factor from the GPU's size.
//
// Workspace layout (owned by the Plan, prepare() sizes it): partials[split][M][N] f32, packed (row m of slice z at
// ((z * M) + m) * N). Every block of every slice writes all of its rows' N columns, zeros included, so the
// reduction never reads an unwritten element.
//
// Determinism: element (m, n) is summed by one thread, slices in the fixed order z = 0, 1, ..., split-1, starting
// from 0.0f, then scaled once: D = alpha * sum + beta * C (the same expression, in the same order, as
// store_acc_m16n8 applies to a single accumulator). The result depends on the split factor but never on timing:
// two runs give the same bits.
//
// The reduction kernel has no tensor-core instruction, so it lives here (namespace sparse24::splitk) rather than in
// a family namespace: scripts/check_sass.py matches family namespaces in kernel names and demands HMMAs there.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>

#include "kernels/common/elem.cuh"
#include "kernels/gemm_args.h"

namespace sparse24::splitk {

// Threads per block of the reduction: one output element per thread.
inline constexpr int kReduceThreads = 256;

// D[m][n] = alpha * sum_z partials[z][m][n] + beta * C[m][n], z in increasing order.
template <DType T>
__global__ void __launch_bounds__(kReduceThreads) reduce(GemmArgs args, int split) {
  using E = Elem<T>;
  const int64_t total = static_cast<int64_t>(args.M) * args.N;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kReduceThreads + threadIdx.x;
  if (i >= total) return;
  const int64_t m = i / args.N, n = i % args.N;
  const float* ws = static_cast<const float*>(args.workspace);
  float sum = 0.0f;
  for (int z = 0; z < split; ++z) sum += ws[z * total + i];
  float v = args.alpha * sum;
  if (args.beta != 0.0f) v += args.beta * E::to_float(static_cast<const typename E::type*>(args.c)[m * args.ldc + n]);
  static_cast<typename E::type*>(args.d)[m * args.ldd + n] = E::from_float(v);
}

template <DType T>
inline void launch_reduce(const GemmArgs& args, int split, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(args.M) * args.N;
  const unsigned blocks = static_cast<unsigned>((total + kReduceThreads - 1) / kReduceThreads);
  reduce<T><<<blocks, kReduceThreads, 0, stream>>>(args, split);
}

// Workspace bytes for `split` slices of an M x N f32 output (0 when there is nothing to reduce).
inline size_t workspace_bytes(int split, int M, int N) {
  return split > 1 ? static_cast<size_t>(split) * M * N * sizeof(float) : 0;
}

// The split factor chosen from the GPU's size, for kernels that stream the weight once (memory-bound):
//   row_blocks: blocks along M; chunks: k chunks along K (a slice is a run of whole chunks);
//   slots: blocks resident at once on the whole GPU (SMs x blocks per SM from the occupancy calculator);
//   chunk_bytes: bytes one block reads per chunk (values + metadata); M, N: the output.
// Model, in bytes at one bandwidth (so that the two terms add): a resident block keeps a fixed number of bytes in
// flight, so the GPU moves `slots` chunks per round whether or not every slot is filled (a half-empty wave costs a
// full round). Main kernel: waves(s) = ceil(row_blocks * s / slots) rounds of ceil(chunks / s) chunks, each round
// slots * chunk_bytes. Reduction (s > 1): the partials written and read once, 8 * s * M * N bytes, plus a fixed
// kLaunchBytes for the second launch and the tail between the kernels (about 1 us at 3 TB/s).
// The smallest s in 1..min(chunks, kMaxSplit) with the lowest cost wins: deterministic for a (GPU, shape).
inline constexpr int kMaxSplit = 32;
inline constexpr int64_t kLaunchBytes = 3'000'000;
inline int choose_split(int row_blocks, int chunks, int slots, int64_t chunk_bytes, int M, int N) {
  int best = 1;
  double best_cost = 0;
  const int max_split = std::max(1, std::min(chunks, kMaxSplit));
  for (int s = 1; s <= max_split; ++s) {
    const int64_t waves = (static_cast<int64_t>(row_blocks) * s + slots - 1) / slots;
    const int64_t per_block = (chunks + s - 1) / s;
    double cost = double(waves) * double(per_block) * double(slots) * double(chunk_bytes);
    if (s > 1) cost += 8.0 * s * double(M) * double(N) + double(kLaunchBytes);
    if (s == 1 || cost < best_cost) best = s, best_cost = cost;
  }
  return best;
}

}  // namespace sparse24::splitk
