#include "harness/check.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <sstream>

#include "kernels/common/cuda_check.h"
#include "kernels/common/elem.cuh"

namespace sparse24::harness {

namespace {

struct Sums {
  double diff_sq, ref_sq;
  unsigned long long mismatches, nans, ref_nans, ref_nonzero;
  unsigned int max_abs_bits;  // a non-negative float's bits order like the float: atomicMax on them is a max
};

template <DType T>
__global__ void compare_kernel(const uint16_t* d, const uint16_t* ref, int64_t count, Sums* out) {
  double diff_sq = 0, ref_sq = 0;
  unsigned long long mism = 0, nans = 0, ref_nans = 0, nz = 0;
  float max_abs = 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    const uint16_t db = d[i], rb = ref[i];
    const float dv = Elem<T>::to_float(*reinterpret_cast<const typename Elem<T>::type*>(&db));
    const float rv = Elem<T>::to_float(*reinterpret_cast<const typename Elem<T>::type*>(&rb));
    mism += db != rb;
    nz += rv != 0.0f;
    nans += isnan(dv);
    ref_nans += isnan(rv);
    if (isnan(dv) || isnan(rv)) continue;  // reported by count; kept out of the norms
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

// Counts elements off by more than rel * |ref| + abs (NaNs are counted by compare_kernel).
template <DType T>
__global__ void over_tolerance_kernel(const uint16_t* d, const uint16_t* ref, int64_t count, float rel, float abs,
                                      unsigned long long* over) {
  unsigned long long n = 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    const uint16_t db = d[i], rb = ref[i];
    const float dv = Elem<T>::to_float(*reinterpret_cast<const typename Elem<T>::type*>(&db));
    const float rv = Elem<T>::to_float(*reinterpret_cast<const typename Elem<T>::type*>(&rb));
    n += fabsf(dv - rv) > rel * fabsf(rv) + abs;  // false for NaN
  }
  for (int o = 16; o > 0; o /= 2) n += __shfl_down_sync(0xffffffffu, n, o);
  if (threadIdx.x % 32 == 0) atomicAdd(over, n);
}

}  // namespace

void poison(void* d, size_t bytes, cudaStream_t stream) { SPARSE24_CUDA_CHECK(cudaMemsetAsync(d, 0xFF, bytes, stream)); }

CheckResult compare(DType t, Fill fill, const void* d, const void* ref, int64_t count, cudaStream_t stream) {
  DeviceBuffer sums(sizeof(Sums));
  SPARSE24_CUDA_CHECK(cudaMemsetAsync(sums.get(), 0, sizeof(Sums), stream));
  const int threads = 256;
  const int blocks = static_cast<int>(std::min<int64_t>((count + threads - 1) / threads, 2048));
  const auto* dd = static_cast<const uint16_t*>(d);
  const auto* rr = static_cast<const uint16_t*>(ref);
  if (t == DType::fp16)
    compare_kernel<DType::fp16><<<blocks, threads, 0, stream>>>(dd, rr, count, sums.as<Sums>());
  else
    compare_kernel<DType::bf16><<<blocks, threads, 0, stream>>>(dd, rr, count, sums.as<Sums>());
  SPARSE24_CUDA_CHECK(cudaGetLastError());
  Sums s{};
  SPARSE24_CUDA_CHECK(cudaMemcpyAsync(&s, sums.get(), sizeof(Sums), cudaMemcpyDeviceToHost, stream));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));

  CheckResult r;
  r.fill = fill;
  r.elements = count;
  r.mismatches = static_cast<int64_t>(s.mismatches);
  r.nans = static_cast<int64_t>(s.nans);
  r.ref_nonzero = static_cast<int64_t>(s.ref_nonzero);
  r.rel_err = s.ref_sq > 0 ? std::sqrt(s.diff_sq / s.ref_sq) : INFINITY;
  float max_abs;
  static_assert(sizeof(max_abs) == sizeof(s.max_abs_bits));
  std::memcpy(&max_abs, &s.max_abs_bits, sizeof(max_abs));
  r.max_abs_err = max_abs;
  r.bound = fill == Fill::Normal ? 2 * info(t).unit_roundoff : 0.0;

  if (fill == Fill::Normal && s.ref_sq > 0) {
    const int64_t finite = count - static_cast<int64_t>(s.ref_nans);
    const double u = info(t).unit_roundoff, rms = std::sqrt(s.ref_sq / double(std::max<int64_t>(finite, 1)));
    DeviceBuffer over(sizeof(unsigned long long));
    SPARSE24_CUDA_CHECK(cudaMemsetAsync(over.get(), 0, over.bytes(), stream));
    const float rel = static_cast<float>(4 * u), abs = static_cast<float>(u * rms);
    if (t == DType::fp16)
      over_tolerance_kernel<DType::fp16><<<blocks, threads, 0, stream>>>(dd, rr, count, rel, abs,
                                                                       over.as<unsigned long long>());
    else
      over_tolerance_kernel<DType::bf16><<<blocks, threads, 0, stream>>>(dd, rr, count, rel, abs,
                                                                       over.as<unsigned long long>());
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    unsigned long long n = 0;
    SPARSE24_CUDA_CHECK(cudaMemcpyAsync(&n, over.get(), sizeof n, cudaMemcpyDeviceToHost, stream));
    SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
    r.over_tolerance = static_cast<int64_t>(n);
  }

  std::ostringstream why;
  if (s.ref_nans > 0) {
    why << s.ref_nans << " of " << count << " reference elements are NaN: the reference is not trustworthy";
  } else if (r.ref_nonzero == 0) {
    why << "the reference is all zero: the check would prove nothing";
  } else if (r.nans > 0) {
    why << r.nans << " of " << count << " outputs are NaN (unwritten poison or NaN results)";
  } else if (fill == Fill::SmallInt && r.mismatches > 0) {
    why << r.mismatches << " of " << count << " outputs differ from cuBLAS in exact small-integer mode (max |err| "
        << r.max_abs_err << ")";
  } else if (fill == Fill::Normal && !(r.rel_err <= r.bound)) {
    why << "relative Frobenius error " << r.rel_err << " exceeds the " << name(t) << " bound " << r.bound;
  } else if (fill == Fill::Normal && r.over_tolerance > 0) {
    why << r.over_tolerance << " of " << count << " outputs differ from cuBLAS by more than 4u|ref| + u rms(ref) ("
        << name(t) << " u = " << info(t).unit_roundoff << "; max |err| " << r.max_abs_err << ")";
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
  return a;
}

CheckResult check_plan(const Plan& plan, const Problem& p, cudaStream_t stream) {
  poison(plan.args.d, p.d_bytes(), stream);
  try {
    plan.run(stream);
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
  } catch (const std::exception& e) {
    CheckResult r;
    r.fill = p.fill;
    r.message = e.what();
    return r;
  }
  return compare(p.dtype, p.fill, plan.args.d, p.d_ref.get(), int64_t(p.M) * p.N, stream);
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
