// One GEMM problem on the device: seeded inputs of any operand combination (operands.h), the pruned and compressed
// sparse operand in every metadata layout a variant may ask for, and the reference answer on the decompressed A
// (f64 GEMM, reference_cublas.h), rounded to D's type.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "harness/device_buffer.h"
#include "kernels/common/dtype.h"
#include "kernels/common/operands.h"
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
  Operands types;   // A, B, D, accumulator: D's type decides the output size and the reference's rounding
  DType dtype;      // the input type (types.a == types.b, or an fp8 pair: types.a): fill, prune and the peers use it
  int M, N, K;
  Fill fill;
  uint64_t seed;

  DeviceBuffer a_pruned;         // M x K, sparse along K (2:4; 1:2 for tf32): what cuBLAS and dense variants multiply
  DeviceBuffer a_values;         // M x K/2, canonical compressed values
  // The metadata in every layout that the type's instructions read and the shape fits (format.h, MetaLayoutDesc):
  // Canonical always (M x K/(2 group) bytes); LaneBlocks16 when M % 32 == 0 and K fits its blocks; and so on. A
  // layout absent from the map does not fit: meta() returns null for it and a variant that needs it is refused.
  std::map<format::MetaLayout, DeviceBuffer> meta_by_layout;
  DeviceBuffer b;                // X: N x K
  // The reference (alpha = 1, beta = 0), from one f64 GEMM on the upcast operands (CublasRef::reference):
  DeviceBuffer d_ref_f32;     // M x N f32: RN_f32(A . X^T), what every check compares with
  DeviceBuffer abs_sum;       // M x N f32: sum_k |a_mk||x_nk|, the scale of the element bound (check.h)
  DeviceBuffer d_ref;         // M x N in D's type: RN_D(A . X^T), rounded once (what an exact kernel writes);
                              // for code that needs the output itself (compare_bits, peers' tests)

  // Generates A (then prunes it by magnitude), B, compresses and reorders on the GPU, validates the result, and
  // computes the reference. Synchronizes `stream`. The DType form is the type's default combination
  // (operands.h default_operands: fp16/bf16 -> D of the same type, the form every 16-bit caller means). A
  // combination that operands_rule() refuses with and without scales is refused (UnsupportedType, with the rule).
  static std::unique_ptr<Problem> make(DType t, int M, int N, int K, Fill fill, uint64_t seed, cudaStream_t stream);
  static std::unique_ptr<Problem> make(const Operands& types, int M, int N, int K, Fill fill, uint64_t seed,
                                       cudaStream_t stream);

  // The metadata in layout l, or null when the layout does not fit the problem (see meta_by_layout).
  const void* meta(format::MetaLayout l) const;
  // The buffer of layout l; throws std::out_of_range naming the layout when it does not fit.
  const DeviceBuffer& meta_buffer(format::MetaLayout l) const;
  // The f32 reference and its error scale, as compare() takes them.
  Reference reference() const { return {d_ref_f32.as<const float>(), abs_sum.as<const float>(), K}; }
  size_t elem_bytes() const { return size_t(bytes_of(dtype)); }       // one element of A or B
  size_t d_elem_bytes() const { return size_t(bytes_of(types.d)); }   // one element of D (and C)
  size_t d_bytes() const { return size_t(M) * N * d_elem_bytes(); }
};

// Fills `count` elements of type t with the seeded pattern of `fill` (element i depends only on seed and i). Every
// type has a generator: the values are made in f32 and converted once (Elem<T>::from_float: RN, saturating for the
// 8-bit types, tf32 rounded so that its low 13 bits are zero). SmallInt gives {-1, 0, 1} in every type. Normal gives
// N(0, 1) for float types and round(32 N(0, 1)) saturated to the type's range for integers (a quantized tensor
// that uses about 3 of int8's 7 magnitude bits, not a sea of {-1, 0, 1}).
void fill_random(DType t, Fill fill, uint64_t seed, void* dst, int64_t count, cudaStream_t stream);

}  // namespace sparse24::harness
