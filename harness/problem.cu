#include "harness/problem.h"

#include <stdexcept>

#include "harness/reference_cublas.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/elem.cuh"

namespace sparse24::harness {

const char* name(Fill f) { return f == Fill::SmallInt ? "small-int" : "normal"; }

namespace {

// splitmix64: a counter-based generator, so element i is the same whatever the grid and on every GPU.
__device__ __forceinline__ uint64_t mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

template <DType T>
__global__ void fill_kernel(typename Elem<T>::type* dst, int64_t count, uint64_t seed, bool small_int) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    const uint64_t h = mix(seed ^ mix(static_cast<uint64_t>(i)));
    float v;
    if (small_int) {
      v = static_cast<float>(static_cast<int>(h % 3) - 1);
    } else {
      // Box-Muller on two 24-bit uniforms in (0, 1].
      const float u1 = (static_cast<float>(h >> 40) + 1.0f) * (1.0f / 16777216.0f);
      const float u2 = static_cast<float>((h >> 8) & 0xFFFFFF) * (1.0f / 16777216.0f);
      v = sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2);
    }
    dst[i] = Elem<T>::from_float(v);
  }
}

}  // namespace

void fill_random(DType t, Fill fill, uint64_t seed, void* dst, int64_t count, cudaStream_t stream) {
  const int threads = 256;
  const int blocks = static_cast<int>(std::min<int64_t>((count + threads - 1) / threads, 4096));
  const bool small = fill == Fill::SmallInt;
  switch (t) {
    case DType::fp16:
      fill_kernel<DType::fp16><<<blocks, threads, 0, stream>>>(static_cast<__half*>(dst), count, seed, small);
      break;
    case DType::bf16:
      fill_kernel<DType::bf16><<<blocks, threads, 0, stream>>>(static_cast<__nv_bfloat16*>(dst), count, seed,
                                                               small);
      break;
    case DType::f32:
    case DType::int8:
    case DType::e4m3:
    case DType::e5m2:
    case DType::tf32:
    case DType::int32:
      throw UnsupportedType(std::string("fill_random: no generator for ") + name(t) + " operands");
  }
  SPARSE24_CUDA_CHECK(cudaGetLastError());
}

std::unique_ptr<Problem> Problem::make(DType t, int M, int N, int K, Fill fill, uint64_t seed,
                                       cudaStream_t stream) {
  auto p = std::make_unique<Problem>();
  p->dtype = t, p->M = M, p->N = N, p->K = K, p->fill = fill, p->seed = seed;
  const size_t eb = info(t).bits / 8;
  const int64_t mk = int64_t(M) * K;

  {
    DeviceBuffer a_dense(mk * eb);
    fill_random(t, fill, seed, a_dense.get(), mk, stream);
    p->a_pruned = DeviceBuffer(mk * eb);
    format::gpu::prune(t, a_dense.as<uint16_t>(), M, K, p->a_pruned.as<uint16_t>(), stream);
  }
  const format::Violation v = format::gpu::validate_dense(t, p->a_pruned.as<uint16_t>(), M, K, stream);
  if (!v.ok) throw std::logic_error("problem set-up: pruned A is not 2:4: " + v.message);

  p->a_values = DeviceBuffer(mk / 2 * eb);
  p->meta_canonical = DeviceBuffer(format::meta_bytes(format::MetaLayout::Canonical, M, K));
  format::gpu::compress(t, p->a_pruned.as<uint16_t>(), M, K, p->a_values.as<uint16_t>(),
                        p->meta_canonical.as<uint8_t>(), stream);
  const format::Violation vm = format::gpu::validate_meta(p->meta_canonical.as<uint8_t>(), M, K, stream);
  if (!vm.ok) throw std::logic_error("problem set-up: compressed metadata is invalid: " + vm.message);
  if (M % 32 == 0 && K % 32 == 0) {
    p->meta_lane16 = DeviceBuffer(format::meta_bytes(format::MetaLayout::LaneBlocks16, M, K));
    format::gpu::reorder_meta(format::MetaLayout::LaneBlocks16, p->meta_canonical.as<uint8_t>(), M, K,
                              p->meta_lane16.as<uint8_t>(), stream);
  }
  if (M % 16 == 0 && K % 64 == 0) {
    p->meta_wgmma16x64 = DeviceBuffer(format::meta_bytes(format::MetaLayout::Wgmma16x64, M, K));
    format::gpu::reorder_meta(format::MetaLayout::Wgmma16x64, p->meta_canonical.as<uint8_t>(), M, K,
                              p->meta_wgmma16x64.as<uint8_t>(), stream);
  }

  p->b = DeviceBuffer(int64_t(N) * K * eb);
  fill_random(t, fill, seed ^ 0x5bd1e995a3c1f00dull, p->b.get(), int64_t(N) * K, stream);

  const size_t f32_bytes = size_t(M) * N * sizeof(float);
  p->d_ref = DeviceBuffer(p->d_bytes());
  p->d_ref_f32 = DeviceBuffer(f32_bytes);
  p->abs_sum = DeviceBuffer(f32_bytes);
  // The reference is poisoned like every output: an element the reference did not write shows up as a NaN in the
  // check (and compute-sanitizer's initcheck, which does not see cuBLAS's bulk-copy stores on Hopper, stays quiet).
  SPARSE24_CUDA_CHECK(cudaMemsetAsync(p->d_ref.get(), 0xFF, p->d_bytes(), stream));
  SPARSE24_CUDA_CHECK(cudaMemsetAsync(p->d_ref_f32.get(), 0xFF, f32_bytes, stream));
  SPARSE24_CUDA_CHECK(cudaMemsetAsync(p->abs_sum.get(), 0xFF, f32_bytes, stream));
  cublas().reference(t, M, N, K, p->a_pruned.get(), p->b.get(), p->d_ref_f32.as<float>(), p->d_ref.get(),
                     p->abs_sum.as<float>(), stream);  // synchronizes
  return p;
}

const void* Problem::meta(format::MetaLayout l) const {
  switch (l) {
    case format::MetaLayout::Canonical: return meta_canonical.get();
    case format::MetaLayout::LaneBlocks16: return meta_lane16.get();
    case format::MetaLayout::Wgmma16x64: return meta_wgmma16x64.get();
  }
  return nullptr;
}

}  // namespace sparse24::harness
