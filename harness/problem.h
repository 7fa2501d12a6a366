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
// The 2:4 (tf32: 1:2) pattern of A. Magnitude: the format's magnitude pruning of the random fill (every metadata
// code occurs). FirstInGroup: every element after the first `keep` of its group is zeroed before that pruning, so
// (ties go to the lower index, format.h) every group keeps its first elements and every metadata nibble is 0x4:
// the problem of the ablations that read a constant metadata word (Variant::uniform_metadata).
// Transposable: A is pruned with the exact transposable mask of every 4x4 block (kernels/format/transposable.h:
// the most magnitude among the 90 patterns whose rows AND columns keep two), so A and its transpose are both 2:4
// along their rows: the weight W of a sparse linear layer's forward y = x Wᵀ (fp16 and bf16, M and K multiples of
// 4). TransposableTransposed: A (M x K) is the transpose of the K x M matrix that Transposable makes from the same
// seed: the operand Wᵀ of the data gradient dx = dy W, so that Problem::make(t, out, N, in, f, seed, Transposable)
// and Problem::make(t, in, N, out, f, seed, TransposableTransposed) hold the same W, pruned once.
// NOTE: the masks are computed on the CPU (transposable::block_masks, the reference the GPU one pass is checked
// against bit for bit) and applied there; compress then makes A's canonical form with format's rule, which keeps
// every nonzero of a 2:4 matrix, so the compressed A decompresses to exactly the masked W (the metadata of a group
// that keeps a zero may name another zero than the mask did: the same matrix).
enum class Pattern { Magnitude, FirstInGroup, Transposable, TransposableTransposed };
const char* name(Fill f);

// The scales of one run (gemm_args.h): alpha and the four optional device pointers (null = 1), as a check applies
// them to the reference. any() is false for the plain product (alpha = 1, no scale): then nothing is applied.
struct ReferenceScales {
  float alpha = 1.0f;
  const float* a = nullptr;    // per-tensor scale of A: one float
  const float* b = nullptr;    // per-tensor scale of B: one float
  const float* row = nullptr;  // per-row (output channel) vector: M floats
  const float* col = nullptr;  // per-column (token) vector: N floats
  bool any() const { return alpha != 1.0f || a || b || row || col; }
};

// The reference of one problem, for compare() (check.h): the exact product rounded once to f32, and the
// per-element scale S = sum_k |a_mk||x_nk| of the accumulation error; both M x N, device memory, unscaled. With
// scales, compare() applies them itself, element by element (check.h): the reference of a scaled run is
// g[m,n] * value[m,n] with g the factor of gemm_args.h, and its error scale |g[m,n]| S.
// The scales are flat members (not a ReferenceScales member), so that the positional form {value, abs_sum, K}
// leaves no class-type member uninitialized (GCC's -Wmissing-field-initializers, an error under -Werror).
struct Reference {
  const float* value = nullptr;
  const float* abs_sum = nullptr;
  int K = 0;  // accumulation length
  int N = 0;  // row length of value and abs_sum (finds the column of an element for the per-column scale)
  float alpha = 1.0f;
  const float* scale_a = nullptr;
  const float* scale_b = nullptr;
  const float* scale_row = nullptr;
  const float* scale_col = nullptr;
  ReferenceScales scales() const { return {alpha, scale_a, scale_b, scale_row, scale_col}; }
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
  // The scales a variant with Variant::has_scales is run and checked with (gemm_args.h), made once per problem
  // with the inputs, outside timing, whatever the variant; device memory, f32. The rule (make_scales in
  // problem.cu), seeded, each element from its own counter like fill_random:
  //   SmallInt: powers of two, so that every factor g = (((alpha sa) sb) r) c is a power of two and g * acc is
  //     exact in f32 (acc an integer below 2^24): the scaled output is still the exact product rounded once to
  //     D, and the exact check stays bit for bit. scale_row, scale_col: 2^k, k uniform in {-3,-2,-1,1,2,3}
  //     (never 1, so a kernel that ignores any single element of a vector changes that row's or column's
  //     outputs); scale_a, scale_b: 2^k, k uniform in {-3,-2,-1} (never 1, and g <= 2^6 |alpha|: the largest
  //     exact-mode output, about 500 at K = 28672, times 2^6 stays below fp16's 65504).
  //   Normal: uniform in [0.5, 2) (any float, 24-bit uniforms), every one of the four; for integer inputs the
  //     per-tensor scales are further divided by fill_random's 32 (dequantization: sa sb undoes the two
  //     operands' quantization scale, so a float D holds values of the size of the float types' products and
  //     an fp16 D does not overflow).
  DeviceBuffer scale_a, scale_b;  // one float each
  DeviceBuffer scale_row;         // M floats
  DeviceBuffer scale_col;         // N floats

  // Generates A (then prunes it by magnitude), B, compresses and reorders on the GPU, validates the result, and
  // computes the reference. Synchronizes `stream`. The DType form is the type's default combination
  // (operands.h default_operands: fp16/bf16 -> D of the same type, the form every 16-bit caller means). A
  // combination that operands_rule() refuses with and without scales is refused (UnsupportedType, with the rule).
  static std::unique_ptr<Problem> make(DType t, int M, int N, int K, Fill fill, uint64_t seed, cudaStream_t stream);
  static std::unique_ptr<Problem> make(const Operands& types, int M, int N, int K, Fill fill, uint64_t seed,
                                       cudaStream_t stream, Pattern pattern = Pattern::Magnitude);

  // The metadata in layout l, or null when the layout does not fit the problem (see meta_by_layout).
  const void* meta(format::MetaLayout l) const;
  // The buffer of layout l; throws std::out_of_range naming the layout when it does not fit.
  const DeviceBuffer& meta_buffer(format::MetaLayout l) const;
  // The f32 reference and its error scale, as compare() takes them: the plain product (alpha = 1, no scales).
  Reference reference() const { return {d_ref_f32.as<const float>(), abs_sum.as<const float>(), K, N}; }
  // The reference of a run with these scales (alpha and any subset of this problem's scale pointers, or others
  // of the right sizes).
  Reference reference(const ReferenceScales& s) const {
    Reference r = reference();
    r.alpha = s.alpha, r.scale_a = s.a, r.scale_b = s.b, r.scale_row = s.row, r.scale_col = s.col;
    return r;
  }
  // All four of this problem's scales, with alpha = 1: what a has_scales variant is run and checked with.
  ReferenceScales scales() const {
    return {1.0f, scale_a.as<const float>(), scale_b.as<const float>(), scale_row.as<const float>(),
            scale_col.as<const float>()};
  }
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
