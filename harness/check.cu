#include "harness/check.h"

#include <cmath>
#include <algorithm>
#include <cstring>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "kernels/common/cuda_check.h"
#include "kernels/common/elem.cuh"

namespace sparse24::harness {

namespace {

struct Sums {
  double diff_sq, ref_sq;
  unsigned long long mismatches, nans, ref_nans, ref_nonzero;
  unsigned int max_abs_bits;  // a non-negative float's bits order like the float: atomicMax on them is a max
};

// Per-type constants for the kernels (host constexpr values, usable in device code).
template <DType T>
struct OutFacts {
  using Bits = storage_t<T>;
  static constexpr Bits kPoison = static_cast<Bits>(info(T).poison);
  static constexpr bool kInteger = info(T).is_integer;
};

// The value of an output element's bits, and whether the element is unwritten or not a number: a NaN for float
// types (the poison is a NaN), the poison pattern itself for integers (dtype.h: a value no correct kernel writes).
template <DType T>
__device__ __forceinline__ float value_of(typename OutFacts<T>::Bits b) {
  return Elem<T>::to_float(*reinterpret_cast<const typename Elem<T>::type*>(&b));
}
template <DType T>
__device__ __forceinline__ bool bad_of(typename OutFacts<T>::Bits b) {
  const bool poisoned = b == OutFacts<T>::kPoison;   // a float's poison is a NaN: caught by isnan below too
  if constexpr (OutFacts<T>::kInteger)
    return poisoned;
  else
    return poisoned || isnan(value_of<T>(b));
}

template <DType T>
__global__ void compare_kernel(const storage_t<T>* d, const storage_t<T>* ref, int64_t count, Sums* out) {
  double diff_sq = 0, ref_sq = 0;
  unsigned long long mism = 0, nans = 0, ref_nans = 0, nz = 0;
  float max_abs = 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    const storage_t<T> db = d[i], rb = ref[i];
    const float dv = value_of<T>(db), rv = value_of<T>(rb);
    const bool d_bad = bad_of<T>(db), r_bad = bad_of<T>(rb);
    mism += db != rb;
    nz += rv != 0.0f;
    nans += d_bad;
    ref_nans += r_bad;
    if (d_bad || r_bad) continue;  // reported by count; kept out of the norms
    const double e = double(dv) - double(rv);
    diff_sq += e * e;
    ref_sq += double(rv) * double(rv);
    max_abs = fmaxf(max_abs, fabsf(dv - rv));
  }
  // Warp reduction, then one atomic per warp: the sums are over at most ~10^8 elements, so double atomics are fine.
  for (int o = 16; o > 0; o /= 2) {
    diff_sq += __shfl_down_sync(0xffffffffu, diff_sq, o);
    ref_sq += __shfl_down_sync(0xffffffffu, ref_sq, o);
    mism += __shfl_down_sync(0xffffffffu, mism, o);
    nans += __shfl_down_sync(0xffffffffu, nans, o);
    ref_nans += __shfl_down_sync(0xffffffffu, ref_nans, o);
    nz += __shfl_down_sync(0xffffffffu, nz, o);
    max_abs = fmaxf(max_abs, __shfl_down_sync(0xffffffffu, max_abs, o));
  }
  if (threadIdx.x % 32 == 0) {
    atomicAdd(&out->diff_sq, diff_sq);
    atomicAdd(&out->ref_sq, ref_sq);
    atomicAdd(&out->mismatches, mism);
    atomicAdd(&out->nans, nans);
    atomicAdd(&out->ref_nans, ref_nans);
    atomicAdd(&out->ref_nonzero, nz);
    atomicMax(&out->max_abs_bits, __float_as_uint(max_abs));
  }
}

// ---- Against the f32 reference ------------------------------------------------------------------------------
struct RefSums {
  double diff_sq, ref_sq;
  unsigned long long mismatches, nans, ref_nans, ref_nonzero, over;
  unsigned long long non_pow2_factors;  // scaled references: factors g that are not powers of two
  // Non-negative floats' bits order like the floats: atomicMax on them is a max (+inf included).
  unsigned int max_abs_bits, max_ratio_bits, max_abs_sum_bits;
};

template <DType T>
__device__ __forceinline__ storage_t<T> bits_of(typename Elem<T>::type v) {
  return *reinterpret_cast<const storage_t<T>*>(&v);
}

// `scaled`: apply sc (check.h, compare()); n_cols is the row length, to find element i's row and column.
template <DType T>
__global__ void compare_ref_kernel(const storage_t<T>* d, const float* ref, const float* abs_sum, int64_t count,
                                   ElementRule rule, bool scaled, ReferenceScales sc, int64_t n_cols,
                                   RefSums* out) {
  double diff_sq = 0, ref_sq = 0;
  unsigned long long mism = 0, nans = 0, ref_nans = 0, nz = 0, over = 0, non_pow2 = 0;
  float max_abs = 0, max_ratio = 0, max_s = 0;
  // The per-tensor part of the factor, once per thread (as EpilogueScales::load does once per kernel).
  const float f = scaled ? tensor_factor(sc.alpha, sc.a ? *sc.a : 1.0f, sc.b ? *sc.b : 1.0f) : 1.0f;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    const storage_t<T> db = d[i];
    const float dv = value_of<T>(db);
    const bool d_bad = bad_of<T>(db);
    const float rv = ref[i], sv = abs_sum[i];
    // The reference of this element and its error scale: unscaled, or g ref and |g| S (g * rv is exact in double:
    // two 24-bit significands). `expect` is the f32 value whose RN to T an exact kernel writes: the f32 product
    // g * ref, as the kernel forms g * acc (exact in exact mode, where g is a power of two and ref an integer).
    double rd = rv, sd = sv;
    float expect = rv;
    if (scaled) {
      const int64_t m = i / n_cols, n = i - m * n_cols;
      const float g = element_factor(f, sc.row ? sc.row[m] : 1.0f, sc.col ? sc.col[n] : 1.0f);
      const uint32_t gb = __float_as_uint(g);
      non_pow2 += (gb & 0x007FFFFFu) != 0 || (gb & 0x7F800000u) == 0x7F800000u;  // a significand, inf or NaN
      rd = double(g) * double(rv);
      sd = fabs(double(g)) * double(sv);
      expect = g * rv;
    }
    mism += db != bits_of<T>(Elem<T>::from_float(expect));  // the reference rounded once (RN) to the output type
    nz += expect != 0.0f;
    nans += d_bad;
    const bool r_bad = isnan(rd) || isnan(sd);
    ref_nans += r_bad;
    if (d_bad || r_bad) continue;  // reported by count; kept out of the norms
    const double e = fabs(double(dv) - rd);
    diff_sq += e * e;
    ref_sq += rd * rd;
    // The bound in double: its own rounding (2^-53 relative) cannot move a verdict that matters.
    const double bound = element_bound(rule, rd, sd);
    over += e > bound;
    const double ratio = bound > 0 ? e / bound : (e > 0 ? INFINITY : 0.0);
    max_abs = fmaxf(max_abs, float(e));
    max_ratio = fmaxf(max_ratio, float(ratio));
    max_s = fmaxf(max_s, sv);  // unscaled: the 2^24 premise is about the accumulator
  }
  for (int o = 16; o > 0; o /= 2) {
    diff_sq += __shfl_down_sync(0xffffffffu, diff_sq, o);
    ref_sq += __shfl_down_sync(0xffffffffu, ref_sq, o);
    mism += __shfl_down_sync(0xffffffffu, mism, o);
    nans += __shfl_down_sync(0xffffffffu, nans, o);
    ref_nans += __shfl_down_sync(0xffffffffu, ref_nans, o);
    nz += __shfl_down_sync(0xffffffffu, nz, o);
    over += __shfl_down_sync(0xffffffffu, over, o);
    non_pow2 += __shfl_down_sync(0xffffffffu, non_pow2, o);
    max_abs = fmaxf(max_abs, __shfl_down_sync(0xffffffffu, max_abs, o));
    max_ratio = fmaxf(max_ratio, __shfl_down_sync(0xffffffffu, max_ratio, o));
    max_s = fmaxf(max_s, __shfl_down_sync(0xffffffffu, max_s, o));
  }
  if (threadIdx.x % 32 == 0) {
    atomicAdd(&out->diff_sq, diff_sq);
    atomicAdd(&out->ref_sq, ref_sq);
    atomicAdd(&out->mismatches, mism);
    atomicAdd(&out->nans, nans);
    atomicAdd(&out->ref_nans, ref_nans);
    atomicAdd(&out->ref_nonzero, nz);
    atomicAdd(&out->over, over);
    atomicAdd(&out->non_pow2_factors, non_pow2);
    atomicMax(&out->max_abs_bits, __float_as_uint(max_abs));
    atomicMax(&out->max_ratio_bits, __float_as_uint(max_ratio));
    atomicMax(&out->max_abs_sum_bits, __float_as_uint(max_s));
  }
}

float float_of_bits(unsigned int bits) {
  float f;
  static_assert(sizeof(f) == sizeof(bits));
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// Exact mode holds only while every partial sum is an integer that f32 represents: |partial| <= S < 2^24.
constexpr double kExactLimit = 16777216.0;  // 2^24: f32's 24-bit significand
// c of the element rule's c K u32 S term (check.h): the NOTE at element_rule() derives it.
constexpr double kBoundC = kElementBoundC;

}  // namespace

// NOTE: the element rule, derived. A correct kernel multiplies 16-bit values (every product exact in f32: 11 x 11
// or 8 x 8 significand bits <= 24), sums the K products in f32 in some order, and rounds the sum once to the
// output type. Let s be the exact sum, S = sum_k |a_k||x_k|, u32 = 2^-24, u_out = info(t).unit_roundoff.
//  1. Accumulation. Model of the tensor cores (Fasi, Higham, Mikaitis, Pranesh, "Numerical behavior of NVIDIA
//     tensor cores", PeerJ CS 2021): products exact; inside one mma the terms are aligned to the largest exponent
//     and truncated, not rounded, so each of the n terms of a block loses at most 2^-23 (2 u32) of the block's
//     largest magnitude, and adding the block to the accumulator loses at most 2 u32 of the accumulator's
//     magnitude. Every magnitude involved is at most S. Over K terms in at most K blocks:
//       |acc - s| <= (K + K) 2 u32 S = 4 K u32 S               (any order, any blocking; RN kernels do better)
//  2. The reference: ref = RN_f32(s + e64), |e64| <= K 2^-53 S, so |ref - s| <= u32 |s| + K 2^-53 S <= 1.01 u32 S.
//  3. Output rounding: d = RN_out(acc), |d - acc| <= u_out |acc| + tiny (tiny: half the smallest subnormal, for
//     results in the subnormal range), and |acc| <= |ref| + |acc - ref|.
//  Together: |d - ref| <= u_out |ref| + (1 + u_out)(4 K + 1.01) u32 S + tiny <= u_out |ref| + 6 K u32 S + tiny
//  for K >= 1 (1 + u_out <= 1.004). So c = 6: never exceeded by a correct f32-accumulating kernel, whatever its
//  order of summation or split-K (a split-K reduction in f32 is more of step 1's additions).
//  What it catches: on random normal data a wrong element (a layout, index or metadata bug) is off by about
//  rms(ref) ~ sqrt(K/2), while 6 K u32 S ~ 6 K u32 (K/pi) is 0.04 rms at K = 4096 and 0.4 rms at K = 16384; a
//  bug moves many elements, and the relative Frobenius bound (2 u_out + K u32) catches what is spread thin.
//  NOTE: c K u32 S is a worst case; typical f32 errors grow like sqrt(K) u32 S, far inside it.
// NOTE: per output type. The derivation above is for an f32 accumulator (every legal float combination,
// operands.h); the fp8 inputs' products are exact in f32 too (4 x 4 significand bits), but whether the sparse fp8
// instructions keep a full f32 running sum is issue 16's item 1: if they do not, the 8-bit kernels' bound must
// grow, here, from that measurement. int32 outputs (int8 x int8) are exact: an exact kernel's int32 and the exact
// reference round to the same f32 in the check, so the bound is zero (rel 0, c 0) and any error fails.
// NOTE: scaled outputs (gemm_args.h: d = RN_out(g * acc) with the f32 factor g = (((alpha sa) sb) r) c). The
// check compares d with v = g * ref (in f64, exact) and bounds |d - v| by the rule above with S replaced by |g| S.
// Derivation, with the names above and the kernel's p = RN_f32(g * acc), d = RN_out(p) (beta = 0 in checks):
//   |d - v| <= |d - p| + |p - g acc| + |g| |acc - s| + |g s - v|
//   a. |d - p| <= u_out |p| + tiny                          (output rounding, as step 3)
//   b. |p - g acc| <= u32 |g| |acc| <= u32 |g| S (1 + 4 K u32)   (the one extra f32 rounding of a scaled output;
//      an int32 accumulator's conversion to f32 is exact below 2^24 and otherwise one more u32 |s| <= u32 S,
//      inside step 1's term: the integer sum itself is exact)
//   c. |g| |acc - s| <= 4 K u32 |g| S                     (step 1, scaled: the accumulation does not see g)
//   d. |g s - v| = |g| |s - ref| <= 1.01 u32 |g| S        (step 2, scaled: the product g ref is exact in f64)
//   e. the factor itself: the reference forms g with the kernels' f32 operations in the kernels' order, so a
//      kernel that follows gemm_args.h has the same g bit for bit and this term is 0. A kernel that forms it in
//      another order or with fewer roundings (alpha sa sb (r c), say) differs by at most four f32 roundings:
//      |g' - g| <= ((1 + u32)^4 - 1) |g| <= 4.01 u32 |g|, so |g' - g| |acc| <= 4.01 u32 |g| S (1 + 4 K u32).
//   With |p| <= |v| + |p - v|: |d - v| <= u_out |v| + (1 + u_out) T u32 |g| S + tiny, where
//     T = 4 K + 1.01 + (1 + 4.01)(1 + 4 K u32)                     (check.h: scaled_error_coefficient)
//   and (1 + u_out) T <= 6 K for every output type once K >= 4 (kScaledBoundMinK; at K = 3, bf16: 18.09 > 18).
//   So the unscaled rule holds with |g| S, for K >= 4 (every kernel's K is a multiple of 16 or more), whatever
//   the order of the factor's multiplications. Exact mode needs none of this: g is a power of two (the problem's
//   scales, problem.h; compare() checks it), acc an integer below 2^24, so g acc is exact in f32 and d is the
//   exact product rounded once, bit for bit.
ElementRule element_rule(DType t, int K) {
  constexpr double kU32 = 1.0 / 16777216.0;  // 2^-24: f32 unit roundoff
  ElementRule r;
  r.rel = info(t).unit_roundoff;
  r.per_abs_sum = kBoundC * double(K) * kU32;
  switch (t) {
    case DType::fp16: r.tiny = std::ldexp(1.0, -25); break;   // smallest fp16 subnormal 2^-24
    case DType::bf16: r.tiny = std::ldexp(1.0, -134); break;  // smallest bf16 subnormal 2^-133 (f32's range)
    case DType::f32: r.tiny = std::ldexp(1.0, -150); break;   // smallest f32 subnormal 2^-149
    case DType::int32: r.rel = 0, r.per_abs_sum = 0, r.tiny = 0; break;   // exact: see the NOTE
    case DType::int8:
    case DType::e4m3:
    case DType::e5m2:
    case DType::tf32:
      throw UnsupportedType(std::string("element_rule: ") + name(t) + " is not an output type (operands.h)");
  }
  return r;
}

// Calls f(std::integral_constant<DType, T>{}) for the output types a check can read (the D types of legal
// combinations: fp16, bf16, f32, int32), and refuses the others by name.
template <class F>
void with_output_type(DType t, const char* what, F&& f) {
  switch (t) {
    case DType::fp16: return f(std::integral_constant<DType, DType::fp16>{});
    case DType::bf16: return f(std::integral_constant<DType, DType::bf16>{});
    case DType::f32: return f(std::integral_constant<DType, DType::f32>{});
    case DType::int32: return f(std::integral_constant<DType, DType::int32>{});
    case DType::int8:
    case DType::e4m3:
    case DType::e5m2:
    case DType::tf32: break;
  }
  throw UnsupportedType(std::string(what) + ": " + name(t) + " is not an output type (operands.h)");
}

CheckResult compare(DType t, Fill fill, const void* d, const Reference& ref, int64_t count, cudaStream_t stream) {
  if (!ref.value || !ref.abs_sum) throw std::logic_error("compare: the reference has no f32 value or abs_sum");
  DeviceBuffer sums(sizeof(RefSums));
  SPARSE24_CUDA_CHECK(cudaMemsetAsync(sums.get(), 0, sizeof(RefSums), stream));
  const int threads = 256;
  const int blocks = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((count + threads - 1) / threads, 2048)));
  const ReferenceScales scales = ref.scales();
  const bool scaled = scales.any();
  if (scaled && (ref.N <= 0 || count % ref.N != 0))
    throw std::logic_error("compare: a scaled reference needs its row length N (Reference::N), a divisor of count");
  if (scaled && t == DType::int32) {
    CheckResult r;
    r.fill = fill;
    r.elements = count;
    r.message = "an int32 D takes no scales (operands.h): a scaled product is not an integer";
    return r;
  }
  if (scaled && fill == Fill::Normal && ref.K < kScaledBoundMinK) {
    CheckResult r;
    r.fill = fill;
    r.elements = count;
    r.message = "the scaled element bound is derived for K >= " + std::to_string(kScaledBoundMinK) + ", K = " +
                std::to_string(ref.K) + " (check.cu, NOTE: scaled outputs)";
    return r;
  }
  const ElementRule rule = element_rule(t, ref.K);
  with_output_type(t, "compare", [&](auto tag) {
    constexpr DType T = decltype(tag)::value;
    compare_ref_kernel<T><<<blocks, threads, 0, stream>>>(static_cast<const storage_t<T>*>(d), ref.value,
                                                          ref.abs_sum, count, rule, scaled, scales,
                                                          int64_t{scaled ? ref.N : 1}, sums.as<RefSums>());
  });
  SPARSE24_CUDA_CHECK(cudaGetLastError());
  RefSums s{};
  SPARSE24_CUDA_CHECK(cudaMemcpyAsync(&s, sums.get(), sizeof(RefSums), cudaMemcpyDeviceToHost, stream));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));

  CheckResult r;
  r.fill = fill;
  r.elements = count;
  r.mismatches = static_cast<int64_t>(s.mismatches);
  r.nans = static_cast<int64_t>(s.nans);
  r.ref_nonzero = static_cast<int64_t>(s.ref_nonzero);
  r.rel_err = s.ref_sq > 0 ? std::sqrt(s.diff_sq / s.ref_sq) : INFINITY;
  r.max_abs_err = float_of_bits(s.max_abs_bits);
  r.max_err_over_bound = float_of_bits(s.max_ratio_bits);
  r.over_tolerance = static_cast<int64_t>(s.over);
  // The relative Frobenius bound: the output's own rounding twice over, plus the accumulation's K u32 (element_rule's
  // NOTE: the tensor cores truncate, so the f32 sum's error grows with K, not sqrt(K)). For a 16-bit D the first
  // term dominates (2^-7 against 2^-10 at K = 16384); for an f32 D (tf32 inputs) the second does: 2 u32 alone
  // failed correct tf32 GEMMs from K = 256 on (a CPU model of the most accurate tf32 GEMM: 3.3 times 2 u32 at
  // K = 4096, tests/gpu/test_peers_gpu.cu). A wrong 16x8 tile of a 4096 x 4096 D is about 3e-3, still far above
  // K u32 = 2.4e-4 there.
  r.bound = fill == Fill::Normal ? 2 * info(t).unit_roundoff + double(ref.K) * std::ldexp(1.0, -24) : 0.0;
  const double max_abs_sum = float_of_bits(s.max_abs_sum_bits);

  std::ostringstream why;
  if (s.ref_nans > 0) {
    why << s.ref_nans << " of " << count << " reference elements are NaN or the poison: the reference is not "
        << "trustworthy";
  } else if (r.ref_nonzero == 0) {
    why << "the reference is all zero: the check would prove nothing";
  } else if (r.nans > 0) {
    why << r.nans << " of " << count << " outputs are NaN or the poison (unwritten, or NaN results)";
  } else if (fill == Fill::SmallInt && !(max_abs_sum < kExactLimit)) {
    why << "exact mode needs every partial sum below 2^24, but sum_k |a||x| reaches " << max_abs_sum
        << ": the problem, not the kernel, is wrong";
  } else if (fill == Fill::SmallInt && s.non_pow2_factors > 0) {
    why << "exact mode with scales needs every factor g a power of two (g * acc exact in f32), but "
        << s.non_pow2_factors << " of " << count << " are not: the scales, not the kernel, are wrong";
  } else if (fill == Fill::SmallInt && r.mismatches > 0) {
    why << r.mismatches << " of " << count << " outputs differ from the exact result rounded to " << name(t)
        << (scaled ? " after the scales" : "") << " (exact small-integer mode; max |err| " << r.max_abs_err
        << ")";
  } else if (fill == Fill::Normal && r.over_tolerance > 0) {
    why << r.over_tolerance << " of " << count << " outputs outside u|ref| + " << kBoundC << " K u32 "
        << (scaled ? "|g| S (scaled" : "S (") << name(t)
        << ", K = " << ref.K << "; max |err|/bound " << r.max_err_over_bound << ", max |err| " << r.max_abs_err
        << ")";
  } else if (fill == Fill::Normal && !(r.rel_err <= r.bound)) {
    why << "relative Frobenius error " << r.rel_err << " exceeds the " << name(t) << " bound " << r.bound;
  }
  r.message = why.str();
  r.passed = r.message.empty();
  return r;
}

void poison(void* d, size_t bytes, cudaStream_t stream) { SPARSE24_CUDA_CHECK(cudaMemsetAsync(d, 0xFF, bytes, stream)); }

namespace {
template <class Word>
__global__ void fill_words_kernel(Word* d, int64_t count, Word v) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    d[i] = v;
}
}  // namespace

void poison(DType t, void* d, int64_t count, cudaStream_t stream) {
  if (!valid_dtype(t)) throw UnsupportedType("poison: unknown dtype value " + std::to_string(static_cast<int>(t)));
  const DTypeInfo& ti = info(t);
  const size_t bytes = size_t(count) * size_t(ti.bits / 8);
  // A pattern whose bytes are all equal is a memset; the others (int32's 0x80000000) need a fill.
  const uint32_t byte = ti.poison & 0xFFu;
  bool uniform = true;
  for (int b = 1; b < ti.bits / 8; ++b) uniform = uniform && ((ti.poison >> (8 * b)) & 0xFFu) == byte;
  if (uniform) {
    SPARSE24_CUDA_CHECK(cudaMemsetAsync(d, static_cast<int>(byte), bytes, stream));
    return;
  }
  const int threads = 256;
  const int blocks = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((count + threads - 1) / threads, 4096)));
  if (ti.bits == 32)
    fill_words_kernel<uint32_t><<<blocks, threads, 0, stream>>>(static_cast<uint32_t*>(d), count, ti.poison);
  else  // 16-bit: no such type today, but the code is the same
    fill_words_kernel<uint16_t><<<blocks, threads, 0, stream>>>(static_cast<uint16_t*>(d), count,
                                                                static_cast<uint16_t>(ti.poison));
  SPARSE24_CUDA_CHECK(cudaGetLastError());
}

CheckResult compare_bits(DType t, const void* d, const void* ref, int64_t count, cudaStream_t stream) {
  DeviceBuffer sums(sizeof(Sums));
  SPARSE24_CUDA_CHECK(cudaMemsetAsync(sums.get(), 0, sizeof(Sums), stream));
  const int threads = 256;
  const int blocks = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((count + threads - 1) / threads, 2048)));
  with_output_type(t, "compare_bits", [&](auto tag) {
    constexpr DType T = decltype(tag)::value;
    compare_kernel<T><<<blocks, threads, 0, stream>>>(static_cast<const storage_t<T>*>(d),
                                                      static_cast<const storage_t<T>*>(ref), count, sums.as<Sums>());
  });
  SPARSE24_CUDA_CHECK(cudaGetLastError());
  Sums s{};
  SPARSE24_CUDA_CHECK(cudaMemcpyAsync(&s, sums.get(), sizeof(Sums), cudaMemcpyDeviceToHost, stream));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));

  CheckResult r;
  r.fill = Fill::SmallInt;
  r.elements = count;
  r.mismatches = static_cast<int64_t>(s.mismatches);
  r.nans = static_cast<int64_t>(s.nans);
  r.ref_nonzero = static_cast<int64_t>(s.ref_nonzero);
  r.rel_err = s.ref_sq > 0 ? std::sqrt(s.diff_sq / s.ref_sq) : INFINITY;
  r.max_abs_err = float_of_bits(s.max_abs_bits);

  std::ostringstream why;
  if (s.ref_nans > 0) {
    why << s.ref_nans << " of " << count << " reference elements are NaN or the poison: the reference is not "
        << "trustworthy";
  } else if (r.ref_nonzero == 0) {
    why << "the reference is all zero: the check would prove nothing";
  } else if (r.nans > 0) {
    why << r.nans << " of " << count << " outputs are NaN or the poison (unwritten, or NaN results)";
  } else if (r.mismatches > 0) {
    why << r.mismatches << " of " << count << " outputs differ from the reference bit for bit (max |err| "
        << r.max_abs_err << ")";
  }
  r.message = why.str();
  r.passed = r.message.empty();
  return r;
}

GemmArgs args_for(const Variant& v, const Problem& p, void* d) {
  GemmArgs a;
  a.M = p.M, a.N = p.N, a.K = p.K;
  a.a = v.sparse ? p.a_values.get() : p.a_pruned.get();
  a.a_meta = v.sparse ? p.meta(v.meta_layout) : nullptr;
  a.b = p.b.get();
  a.d = d;
  if (v.has_scales) {
    const ReferenceScales s = p.scales();
    a.scale_a = s.a, a.scale_b = s.b, a.scale_row = s.row, a.scale_col = s.col;
  }
  return a;
}

namespace {
// D poisoned, one launch, waited for: the launch's error message, or empty.
std::string poisoned_launch(DType td, void* d, int64_t count, const std::function<void(cudaStream_t)>& run,
                            cudaStream_t stream) {
  poison(td, d, count, stream);
  try {
    run(stream);
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}
}  // namespace

CheckResult run_and_compare(DType td, Fill fill, void* d, int64_t count, const Reference& ref,
                            const std::function<void(cudaStream_t)>& run, cudaStream_t stream) {
  if (std::string why = poisoned_launch(td, d, count, run, stream); !why.empty()) {
    CheckResult r;
    r.fill = fill;
    r.message = std::move(why);
    return r;
  }
  CheckResult r = compare(td, fill, d, ref, count, stream);
  if (fill != Fill::Normal || !r.passed) return r;
  // The repeat (check.h): the first output kept, D poisoned, a second launch, the bits compared.
  const size_t bytes = size_t(count) * size_t(info(td).bits / 8);
  DeviceBuffer first(bytes);
  SPARSE24_CUDA_CHECK(cudaMemcpyAsync(first.get(), d, bytes, cudaMemcpyDeviceToDevice, stream));
  if (std::string why = poisoned_launch(td, d, count, run, stream); !why.empty()) {
    r.passed = false;
    r.message = "the repeated launch failed: " + why;
    return r;
  }
  const CheckResult again = compare_bits(td, d, first.get(), count, stream);
  r.repeat_mismatches = again.mismatches;
  if (again.mismatches > 0 || again.nans > 0) {
    r.passed = false;
    r.message = "not deterministic: " + std::to_string(again.mismatches) + " of " + std::to_string(count) +
                " outputs differ between two launches on the same inputs (" + std::to_string(again.nans) +
                " NaN or the poison in the second)";
  }
  return r;
}

CheckResult check_plan(const Plan& plan, const Problem& p, cudaStream_t stream) {
  const Variant& v = plan.variant();
  const GemmArgs& a = plan.args;
  auto refused = [&](std::string why) {
    CheckResult r;
    r.fill = p.fill;
    r.message = std::move(why);
    return r;
  };
  if (v.types.a != p.types.a || v.types.b != p.types.b)
    return refused(std::string("check_plan: the variant multiplies ") + name(v.types.a) + " x " + name(v.types.b) +
                   ", the problem holds " + name(p.types.a) + " x " + name(p.types.b));
  if (a.beta != 0.0f) return refused("check_plan: the reference has no C: runs with beta != 0 are not checked here");
  // The variant's D: the problem's f32 reference serves every D type of the same inputs.
  return run_and_compare(v.types.d, p.fill, a.d, int64_t(p.M) * p.N,
                         p.reference({a.alpha, a.scale_a, a.scale_b, a.scale_row, a.scale_col}),
                         [&](cudaStream_t s) { plan.run(s); }, stream);
}

CheckResult check_variant(const Variant& v, const Problem& p, void* d, cudaStream_t stream) {
  std::unique_ptr<Plan> plan;
  try {
    plan = prepare(v, args_for(v, p, d));
  } catch (const std::exception& e) {
    CheckResult r;
    r.fill = p.fill;
    r.message = e.what();
    return r;
  }
  return check_plan(*plan, p, stream);
}

}  // namespace sparse24::harness
