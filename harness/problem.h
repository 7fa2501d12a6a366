// One GEMM problem on the device: seeded inputs, the pruned and compressed sparse operand in every metadata
// layout a variant may ask for, and the reference answer on the decompressed A (f64 GEMM, reference_cublas.h).
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
//             f32 accumulation is exact in any order and the output must equal the exact product rounded once to
//             the output type, bit for bit (check.h checks the 2^24 premise on every problem).
//             NOTE: the range is kept this small so that outputs stay where the output type still has integer
//             spacing (|x| <= 256 for bf16): the sum of K/2 products of {-1,0,1} has a standard deviation of
//             about 0.47 sqrt(K), 43 at K = 8192 and 80 at K = 28672, so almost every output is exact in bf16 and
//             an error of one in a single product changes the output bits. With [-2, 2] it would be 128 and 240,
//             and many outputs would sit where bf16 spacing is 2 or more, hiding single-product errors.
//   Normal:   standard normal values; compared by relative Frobenius error and element by element (check.h).
enum class Fill { SmallInt, Normal };
const char* name(Fill f);

// The reference of one problem, for compare() (check.h): the exact product rounded once to f32, and the
// per-element scale S = sum_k |a_mk||x_nk| of the accumulation error; both M x N, device memory.
struct Reference {
  const float* value = nullptr;
  const float* abs_sum = nullptr;
  int K = 0;  // accumulation length
};

struct Problem {
  DType dtype;
  int M, N, K;
  Fill fill;
  uint64_t seed;

  DeviceBuffer a_pruned;         // M x K, 2:4 along K: what cuBLAS and the dense variants multiply
  DeviceBuffer a_values;         // M x K/2, canonical compressed values
  DeviceBuffer meta_canonical;   // M x K/8 bytes
  DeviceBuffer meta_lane16;      // LaneBlocks16 layout (empty when M or K does not fit it)
  DeviceBuffer meta_wgmma16x64;  // Wgmma16x64 layout (empty when M or K does not fit it)
  DeviceBuffer b;                // X: N x K
  // The reference (alpha = 1, beta = 0), from one f64 GEMM on the upcast operands (CublasRef::reference):
  DeviceBuffer d_ref_f32;     // M x N f32: RN_f32(A . X^T), what every check compares with
  DeviceBuffer abs_sum;       // M x N f32: sum_k |a_mk||x_nk|, the scale of the element bound (check.h)
  DeviceBuffer d_ref;         // M x N in dtype: RN_dtype(A . X^T), rounded once (what an exact kernel writes);
                              // for code that needs the 16-bit result itself (compare_bits, peers' tests)

  // Generates A (then prunes it by magnitude), B, compresses and reorders on the GPU, validates the result, and
  // computes the reference. Synchronizes `stream`.
  static std::unique_ptr<Problem> make(DType t, int M, int N, int K, Fill fill, uint64_t seed, cudaStream_t stream);

  const void* meta(format::MetaLayout l) const;
  // The f32 reference and its error scale, as compare() takes them.
  Reference reference() const { return {d_ref_f32.as<const float>(), abs_sum.as<const float>(), K}; }
  size_t elem_bytes() const { return info(dtype).bits / 8; }
  size_t d_bytes() const { return size_t(M) * N * elem_bytes(); }
};

// Fills `count` elements of type t with the seeded pattern of `fill` (element i depends only on seed and i).
void fill_random(DType t, Fill fill, uint64_t seed, void* dst, int64_t count, cudaStream_t stream);

}  // namespace sparse24::harness
