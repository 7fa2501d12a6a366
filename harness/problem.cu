#include "harness/problem.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/check.h"
#include "harness/reference_cublas.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/elem.cuh"
#include "kernels/format/transposable.h"

namespace sparse24::harness {

const char* name(Fill f) { return f == Fill::SmallInt ? "small-int" : "normal"; }

namespace {

// Integer types' Normal fill: round(32 N(0, 1)), saturated (Elem<int8>::from_float): |x| <= 127 covers 3.97
// standard deviations, so about 1 in 14000 values saturates, and the values use the type's range as a quantized
// tensor does.
constexpr float kIntegerNormalScale = 32.0f;
template <DType T>
constexpr bool kIsInteger = info(T).is_integer;   // a host constant, usable in the fill kernel

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
      if constexpr (kIsInteger<T>) v *= kIntegerNormalScale;
    }
    dst[i] = Elem<T>::from_float(v);
  }
}

// The scales' rule (problem.h, Problem::scale_a): element i of a vector depends only on seed and i.
enum class ScaleKind { vector, per_tensor };
__global__ void scale_kernel(float* dst, int64_t count, uint64_t seed, bool exact, ScaleKind kind,
                             float normal_multiplier) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    const uint64_t h = mix(seed ^ mix(static_cast<uint64_t>(i)));
    if (exact) {
      // Vectors: k in {-3,-2,-1,1,2,3} (six values, never 0); per-tensor: k in {-3,-2,-1}. 2^k is exact.
      const int pick = kind == ScaleKind::vector ? static_cast<int>(h % 6) : static_cast<int>(h % 3);
      const int k = pick < 3 ? pick - 3 : pick - 2;
      dst[i] = ldexpf(1.0f, k);
    } else {
      // A 24-bit uniform u in [0, 1): 0.5 + 1.5 u lies in [0.5, 2) (its largest value rounds to 2 - 2^-23).
      const float u = static_cast<float>(h >> 40) * (1.0f / 16777216.0f);
      dst[i] = (0.5f + 1.5f * u) * normal_multiplier;
    }
  }
}

void make_scales(Problem& p, cudaStream_t stream) {
  const bool exact = p.fill == Fill::SmallInt;
  // Integer inputs' per-tensor scales undo fill_random's quantization scale in the normal fill (problem.h).
  const float per_tensor_multiplier = !exact && info(p.types.a).is_integer ? 1.0f / kIntegerNormalScale : 1.0f;
  p.scale_a = DeviceBuffer(sizeof(float));
  p.scale_b = DeviceBuffer(sizeof(float));
  p.scale_row = DeviceBuffer(size_t(p.M) * sizeof(float));
  p.scale_col = DeviceBuffer(size_t(p.N) * sizeof(float));
  // Seeds of their own, apart from A's (p.seed) and B's (p.seed ^ 0x5bd1e995a3c1f00d).
  const struct {
    DeviceBuffer* dst;
    int64_t count;
    uint64_t salt;
    ScaleKind kind;
    float multiplier;
  } jobs[] = {{&p.scale_a, 1, 0x243F6A8885A308D3ull, ScaleKind::per_tensor, per_tensor_multiplier},
              {&p.scale_b, 1, 0x13198A2E03707344ull, ScaleKind::per_tensor, per_tensor_multiplier},
              {&p.scale_row, p.M, 0xA4093822299F31D0ull, ScaleKind::vector, 1.0f},
              {&p.scale_col, p.N, 0x082EFA98EC4E6C89ull, ScaleKind::vector, 1.0f}};
  for (const auto& j : jobs) {
    const int threads = 256;
    const int blocks = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((j.count + threads - 1) / threads,
                                                                                  1024)));
    scale_kernel<<<blocks, threads, 0, stream>>>(j.dst->as<float>(), j.count, p.seed ^ j.salt, exact, j.kind,
                                                 j.multiplier);
    SPARSE24_CUDA_CHECK(cudaGetLastError());
  }
}

// The uniform pattern (Pattern::FirstInGroup): every element at position >= keep of its group (2:4: columns 2 and 3
// of every 4; tf32 1:2: the second of every pair) set to zero before the magnitude pruning, whose ties go to the
// lower index (format.h), so the kept elements are the first `keep` of every group and every metadata nibble is
// 0x4: the problem of the ablations that read a constant metadata word (kernels/ablations/).
__global__ void zero_group_tails(uint8_t* a, int64_t count, int K, int elem_bytes, int group, int keep) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    if (int(i % K) % group >= keep)
      for (int b = 0; b < elem_bytes; ++b) a[i * elem_bytes + b] = 0;
}

// Pattern::Transposable (problem.h): the fill of A, `dense` (M x K device elements; read as a K x M matrix when
// `transposed`), masked with the exact transposable pattern of every 4x4 block on the CPU, written to `pruned` as
// M x K (the transpose of the masked K x M matrix when `transposed`). Synchronizes the stream.
void prune_transposable(DType t, const void* dense, int M, int K, bool transposed, void* pruned, cudaStream_t stream) {
  namespace tr = format::transposable;
  if (t != DType::fp16 && t != DType::bf16)
    throw UnsupportedType(std::string("Problem: transposable masks are implemented for fp16 and bf16, not ") +
                          name(t));
  static_assert(sizeof(uint16_t) == 2, "the transposable masks read 16-bit elements");
  const int64_t rows = transposed ? K : M, cols = transposed ? M : K;   // the matrix the mask is computed on
  std::vector<uint16_t> w(static_cast<size_t>(rows * cols)), masked(w.size());
  SPARSE24_CUDA_CHECK(cudaMemcpyAsync(w.data(), dense, w.size() * sizeof(uint16_t), cudaMemcpyDeviceToHost, stream));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<uint16_t> masks(static_cast<size_t>(rows / tr::kBlock * (cols / tr::kBlock)));
  tr::block_masks(tr::Method::exact, t, w.data(), rows, cols, masks.data());   // FormatError for shape or NaN
  tr::apply_masks(w.data(), masks.data(), rows, cols, masked.data());
  if (transposed) {
    // masked (rows x cols) -> w (cols x rows), in tiles so that both sides stay in cache.
    constexpr int64_t kTile = 64;
    for (int64_t r0 = 0; r0 < rows; r0 += kTile)
      for (int64_t c0 = 0; c0 < cols; c0 += kTile)
        for (int64_t r = r0; r < std::min(rows, r0 + kTile); ++r)
          for (int64_t c = c0; c < std::min(cols, c0 + kTile); ++c) w[c * rows + r] = masked[r * cols + c];
  } else {
    w.swap(masked);
  }
  SPARSE24_CUDA_CHECK(cudaMemcpyAsync(pruned, w.data(), w.size() * sizeof(uint16_t), cudaMemcpyHostToDevice, stream));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
}

// Whether layout l serves type t and the shape fits its blocks (the rule format::meta_bytes checks, asked without
// an exception).
bool layout_fits(format::MetaLayout l, DType t, int M, int K) {
  const format::MetaLayoutDesc& d = format::desc(l);
  const DTypeInfo& ti = info(t);
  return d.serves(ti.bits) && M % d.block_rows() == 0 && K % (int64_t{d.block_nibble_cols()} * ti.group) == 0;
}

}  // namespace

void fill_random(DType t, Fill fill, uint64_t seed, void* dst, int64_t count, cudaStream_t stream) {
  const int threads = 256;
  const int blocks = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((count + threads - 1) / threads, 4096)));
  const bool small = fill == Fill::SmallInt;
  with_any_type(t, "fill_random", [&](auto tag) {
    constexpr DType T = decltype(tag)::value;
    fill_kernel<T><<<blocks, threads, 0, stream>>>(static_cast<typename Elem<T>::type*>(dst), count, seed, small);
  });
  SPARSE24_CUDA_CHECK(cudaGetLastError());
}

std::unique_ptr<Problem> Problem::make(DType t, int M, int N, int K, Fill fill, uint64_t seed,
                                       cudaStream_t stream) {
  return make(default_operands(t), M, N, K, fill, seed, stream);
}

std::unique_ptr<Problem> Problem::make(const Operands& types, int M, int N, int K, Fill fill, uint64_t seed,
                                       cudaStream_t stream, Pattern pattern) {
  if (!operands_legal(types, false) && !operands_legal(types, true)) {
    const char* why = operands_rule(types, false);
    throw UnsupportedType(std::string("Problem: operands A ") + name(types.a) + ", B " + name(types.b) + ", D " +
                          name(types.d) + ", accumulator " + name(types.acc) + " refused: " + why);
  }
  auto p = std::make_unique<Problem>();
  p->types = types;
  p->dtype = types.a, p->M = M, p->N = N, p->K = K, p->fill = fill, p->seed = seed;
  const DType t = types.a;
  const size_t eb = bytes_of(t);
  const int64_t mk = int64_t(M) * K;

  {
    DeviceBuffer a_dense(mk * eb);
    fill_random(t, fill, seed, a_dense.get(), mk, stream);
    if (pattern == Pattern::FirstInGroup) {
      const int threads = 256, blocks = int(std::min<int64_t>((mk + threads - 1) / threads, 4096));
      zero_group_tails<<<blocks, threads, 0, stream>>>(a_dense.as<uint8_t>(), mk, K, int(eb), info(t).group,
                                                       info(t).keep);
      SPARSE24_CUDA_CHECK(cudaGetLastError());
    }
    p->a_pruned = DeviceBuffer(mk * eb);
    if (pattern == Pattern::Transposable || pattern == Pattern::TransposableTransposed)
      prune_transposable(t, a_dense.get(), M, K, pattern == Pattern::TransposableTransposed, p->a_pruned.get(),
                         stream);
    else
      format::gpu::prune(t, a_dense.get(), M, K, p->a_pruned.get(), stream);
  }
  const format::Violation v = format::gpu::validate_dense(t, p->a_pruned.get(), M, K, stream);
  if (!v.ok) throw std::logic_error("problem set-up: pruned A is not sparse: " + v.message);

  p->a_values = DeviceBuffer(mk / 2 * eb);
  DeviceBuffer& canonical = p->meta_by_layout[format::MetaLayout::Canonical];
  canonical = DeviceBuffer(format::meta_bytes(format::MetaLayout::Canonical, t, M, K));
  format::gpu::compress(t, p->a_pruned.get(), M, K, p->a_values.get(), canonical.as<uint8_t>(), stream);
  const format::Violation vm = format::gpu::validate_meta(t, canonical.as<uint8_t>(), M, K, stream);
  if (!vm.ok) throw std::logic_error("problem set-up: compressed metadata is invalid: " + vm.message);
  // Every other layout that fits, each reordered from the canonical form by the one generic reorder.
  for (const format::MetaLayoutDesc& d : format::kMetaLayouts) {
    if (d.id == format::MetaLayout::Canonical || !layout_fits(d.id, t, M, K)) continue;
    DeviceBuffer buf(format::meta_bytes(d.id, t, M, K));
    format::gpu::reorder_meta(d.id, t, canonical.as<uint8_t>(), M, K, buf.as<uint8_t>(), stream);
    p->meta_by_layout.emplace(d.id, std::move(buf));
  }

  p->b = DeviceBuffer(int64_t(N) * K * bytes_of(types.b));
  fill_random(types.b, fill, seed ^ 0x5bd1e995a3c1f00dull, p->b.get(), int64_t(N) * K, stream);

  make_scales(*p, stream);

  const size_t f32_bytes = size_t(M) * N * sizeof(float);
  p->d_ref = DeviceBuffer(p->d_bytes());
  p->d_ref_f32 = DeviceBuffer(f32_bytes);
  p->abs_sum = DeviceBuffer(f32_bytes);
  // The reference is poisoned like every output: an element the reference did not write shows up as a NaN (the
  // type's poison) in the check (and compute-sanitizer's initcheck, which does not see cuBLAS's bulk-copy stores on
  // Hopper, stays quiet).
  poison(types.d, p->d_ref.get(), int64_t(M) * N, stream);
  poison(DType::f32, p->d_ref_f32.get(), int64_t(M) * N, stream);
  poison(DType::f32, p->abs_sum.get(), int64_t(M) * N, stream);
  cublas().reference(types.a, types.b, types.d, M, N, K, p->a_pruned.get(), p->b.get(), p->d_ref_f32.as<float>(),
                     p->d_ref.get(), p->abs_sum.as<float>(), stream);  // synchronizes
  return p;
}

const void* Problem::meta(format::MetaLayout l) const {
  const auto it = meta_by_layout.find(l);
  return it == meta_by_layout.end() ? nullptr : it->second.get();
}

const DeviceBuffer& Problem::meta_buffer(format::MetaLayout l) const {
  const auto it = meta_by_layout.find(l);
  if (it == meta_by_layout.end())
    throw std::out_of_range(std::string("Problem: no metadata in layout ") + format::name(l) + " for " + name(dtype) +
                            " " + std::to_string(M) + "x" + std::to_string(K) + " (the layout does not fit)");
  return it->second;
}

}  // namespace sparse24::harness
