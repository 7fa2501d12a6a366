// One GEMM problem on the device: seeded inputs, the pruned and compressed sparse operand in every metadata
// layout a variant may ask for, and cuBLAS's answer on the decompressed A.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <string>

#include "harness/device_buffer.h"
#include "kernels/common/dtype.h"
#include "kernels/format/format.h"

namespace sparse24::harness {

// Two kinds of input, for the two correctness checks (docs/design.md, "The harness"):
//   SmallInt: integers in {-1, 0, 1} in A and B. Every product and partial sum is an integer far below 2^24, so
//             f32 accumulation is exact in any order and the rounded output must match cuBLAS bit for bit.
//             NOTE: the range is kept this small so that outputs stay where the output type still has integer
//             spacing (|x| <= 256 for bf16): the sum of K/2 products of {-1,0,1} has a standard deviation of
//             about 0.47 sqrt(K), 43 at K = 8192 and 80 at K = 28672, so almost every output is exact in bf16 and
//             an error of one in a single product changes the output bits. With [-2, 2] it would be 128 and 240,
//             and many outputs would sit where bf16 spacing is 2 or more, hiding single-product errors.
//   Normal:   standard normal values; compared by relative Frobenius error and element by element (check.h).
enum class Fill { SmallInt, Normal };
const char* name(Fill f);

struct Problem {
  DType dtype;
  int M, N, K;
  Fill fill;
  uint64_t seed;

  DeviceBuffer a_pruned;      // M x K, 2:4 along K: what cuBLAS and the dense variants multiply
  DeviceBuffer a_values;      // M x K/2, canonical compressed values
  DeviceBuffer meta_canonical;  // M x K/8 bytes
  DeviceBuffer meta_lane16;     // LaneBlocks16 layout (empty when M or K does not fit it)
  DeviceBuffer b;             // X: N x K
  DeviceBuffer d_ref;         // cuBLAS: M x N, alpha = 1, beta = 0

  // Generates A (then prunes it by magnitude), B, compresses and reorders on the GPU, validates the result, and
  // computes the cuBLAS reference. Synchronizes `stream`.
  static std::unique_ptr<Problem> make(DType t, int M, int N, int K, Fill fill, uint64_t seed, cudaStream_t stream);

  const void* meta(format::MetaLayout l) const;
  size_t elem_bytes() const { return info(dtype).bits / 8; }
  size_t d_bytes() const { return size_t(M) * N * elem_bytes(); }
};

// Fills `count` elements of type t with the seeded pattern of `fill` (element i depends only on seed and i).
void fill_random(DType t, Fill fill, uint64_t seed, void* dst, int64_t count, cudaStream_t stream);

}  // namespace sparse24::harness
