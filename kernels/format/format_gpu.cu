// The sparse formats on the GPU: the same results as format_cpu.cpp, bit for bit, at memory speed.
//
// Work split: one thread per canonical metadata byte, i.e. two groups (2 x 4 elements for 2:4, 2 x 2 for tf32's
// pairs), i.e. 2 group dense elements (16 bytes for 16-bit types and tf32, 8 for 8-bit types), 2 keep values
// (8 or 4 bytes) and 1 metadata byte. Because K % (2 group) == 0 a metadata byte never straddles two rows, so
// thread i simply owns dense elements 2G i .. 2G i + 2G - 1, values 2 keep i .. and meta byte i: no row
// arithmetic, and consecutive threads touch consecutive pieces (coalesced). The kernels are templates over the
// storage type S (uint8_t, uint16_t, uint32_t) and the group G; the per-group decisions come from rules.h, the
// same functions the CPU reference calls, so every width gives the CPU's bits.
//
// These kernels prepare data outside the timed region; they aim to be simple and to run near memory bandwidth,
// not to be tuned.
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <type_traits>

#include "kernels/common/cuda_check.h"
#include "kernels/format/format.h"
#include "kernels/format/rules.h"

namespace sparse24::format::gpu {
namespace {

using rules::cat;
using rules::fail;


constexpr int kThreads = 256;
// Enough blocks to fill any current GPU many times over; the grid-stride loops cover larger inputs.
constexpr int64_t kMaxBlocks = int64_t{1} << 20;

unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < kMaxBlocks ? b : kMaxBlocks);
}

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

// The wide loads and stores need aligned base pointers (cudaMalloc gives 256 bytes); row starts are then aligned
// too, since K % 8 == 0 makes a dense row a multiple of 16 bytes and a values row a multiple of 8.
void check_aligned(const char* fn, const void* p, int bytes, const char* what) {
  if (reinterpret_cast<uintptr_t>(p) % bytes != 0)
    fail(fn, cat(what, " is not ", bytes, "-byte aligned (the kernel moves ", bytes, " bytes per access)"));
}

// ---- Element access in packed registers ------------------------------------------------------------------------
// A piece (the elements of one metadata byte) is loaded as one vector of 4, 8 or 16 bytes and handled as 32-bit
// words, little-endian: element j of S bits is bits (j * bits) % 32 .. of word (j * bits) / 32. Every index below
// is a compile-time constant after unrolling, or selected by comparison (pick), so nothing goes to local memory.
template <int kBytes>
struct VecOf;
template <>
struct VecOf<4> {
  using type = uint32_t;
  __device__ static void to_words(type v, uint32_t (&w)[1]) { w[0] = v; }
  __device__ static type from_words(const uint32_t (&w)[1]) { return w[0]; }
};
template <>
struct VecOf<8> {
  using type = uint2;
  __device__ static void to_words(type v, uint32_t (&w)[2]) { w[0] = v.x, w[1] = v.y; }
  __device__ static type from_words(const uint32_t (&w)[2]) { return make_uint2(w[0], w[1]); }
};
template <>
struct VecOf<16> {
  using type = uint4;
  __device__ static void to_words(type v, uint32_t (&w)[4]) { w[0] = v.x, w[1] = v.y, w[2] = v.z, w[3] = v.w; }
  __device__ static type from_words(const uint32_t (&w)[4]) { return make_uint4(w[0], w[1], w[2], w[3]); }
};

// The geometry of one thread's piece for storage S and group G.
template <class S, int G>
struct Piece {
  static_assert(G == 4 || G == 2, "groups are 2:4 chunks of 4 or tf32 pairs of 2");
  static constexpr int kBits = 8 * sizeof(S);
  static constexpr int kKeep = G / 2;
  static constexpr int kElems = 2 * G;                  // two groups per metadata byte
  static constexpr int kValues = 2 * kKeep;
  static constexpr int kDenseBytes = kElems * sizeof(S);
  static constexpr int kValueBytes = kValues * sizeof(S);
  static constexpr int kDenseWords = kDenseBytes / 4;
  static constexpr int kValueWords = kValueBytes / 4;
  static_assert(kValueBytes >= 4, "a values piece is at least one 32-bit word");
  using Dense = VecOf<kDenseBytes>;
  using Values = VecOf<kValueBytes>;
  static constexpr uint32_t kMask = kBits == 32 ? 0xFFFFFFFFu : ((1u << kBits) - 1u);

  template <int N>
  __device__ static uint32_t get(const uint32_t (&w)[N], int j) {
    return (w[(j * kBits) / 32] >> ((j * kBits) % 32)) & kMask;
  }
  template <int N>
  __device__ static void put(uint32_t (&w)[N], int j, uint32_t v) {
    w[(j * kBits) / 32] |= (v & kMask) << ((j * kBits) % 32);
  }
  // Element `base + idx` of w, idx < G chosen at run time.
  template <int N>
  __device__ static uint32_t pick(const uint32_t (&w)[N], int base, int idx) {
    uint32_t r = 0;
#pragma unroll
    for (int m = 0; m < G; ++m)
      if (m == idx) r = get(w, base + m);
    return r;
  }
  // The nibble of group g (0 or 1) of a dense piece.
  template <int N>
  __device__ static uint32_t nibble(const uint32_t (&w)[N], int g, const rules::ElemSpec& s) {
    uint32_t e[4] = {0u, 0u, 0u, 0u};
#pragma unroll
    for (int m = 0; m < G; ++m) e[m] = get(w, g * G + m);
    return rules::group_nibble(e, s);
  }
  template <int N>
  __device__ static int nonzeros(const uint32_t (&w)[N], int g, const rules::ElemSpec& s) {
    uint32_t e[4] = {0u, 0u, 0u, 0u};
#pragma unroll
    for (int m = 0; m < G; ++m) e[m] = get(w, g * G + m);
    return rules::group_nonzeros(e, s);
  }
};

// ---- Kernels: n = number of canonical metadata bytes = M*K/(2G) ----------------------------------------------------

template <class S, int G>
__global__ void prune_kernel(const typename Piece<S, G>::Dense::type* __restrict__ dense,
                             typename Piece<S, G>::Dense::type* __restrict__ pruned, int64_t n, rules::ElemSpec spec) {
  using P = Piece<S, G>;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    uint32_t in[P::kDenseWords], out[P::kDenseWords];
    P::Dense::to_words(dense[i], in);
#pragma unroll
    for (int k = 0; k < P::kDenseWords; ++k) out[k] = 0u;   // dropped elements become all-zero bits, as on the CPU
#pragma unroll
    for (int g = 0; g < 2; ++g) {
      const uint32_t nib = P::nibble(in, g, spec);
#pragma unroll
      for (int j = 0; j < P::kKeep; ++j) {
        const int idx = rules::kept_index(nib, j, G);
#pragma unroll
        for (int m = 0; m < G; ++m)
          if (m == idx) P::put(out, g * G + m, P::get(in, g * G + m));
      }
    }
    pruned[i] = P::Dense::from_words(out);
  }
}

template <class S, int G>
__global__ void compress_kernel(const typename Piece<S, G>::Dense::type* __restrict__ pruned,
                                typename Piece<S, G>::Values::type* __restrict__ values, uint8_t* __restrict__ meta,
                                int64_t n, rules::ElemSpec spec) {
  using P = Piece<S, G>;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    uint32_t in[P::kDenseWords], out[P::kValueWords];
    P::Dense::to_words(pruned[i], in);
#pragma unroll
    for (int k = 0; k < P::kValueWords; ++k) out[k] = 0u;
    uint32_t byte = 0;
#pragma unroll
    for (int g = 0; g < 2; ++g) {
      const uint32_t nib = P::nibble(in, g, spec);
#pragma unroll
      for (int j = 0; j < P::kKeep; ++j)
        P::put(out, g * P::kKeep + j, P::pick(in, g * G, rules::kept_index(nib, j, G)));
      byte |= nib << (4 * g);   // LSB-first: the even group in the low nibble
    }
    values[i] = P::Values::from_words(out);
    meta[i] = static_cast<uint8_t>(byte);
  }
}

template <class S, int G>
__global__ void decompress_kernel(const typename Piece<S, G>::Values::type* __restrict__ values,
                                  const uint8_t* __restrict__ meta,
                                  typename Piece<S, G>::Dense::type* __restrict__ dense, int64_t n) {
  using P = Piece<S, G>;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    uint32_t in[P::kValueWords], out[P::kDenseWords];
    P::Values::to_words(values[i], in);
#pragma unroll
    for (int k = 0; k < P::kDenseWords; ++k) out[k] = 0u;
    const uint32_t byte = meta[i];
#pragma unroll
    for (int g = 0; g < 2; ++g) {
      uint32_t nib = (byte >> (4 * g)) & 0xFu;
      // Documented in format.h: an invalid nibble decodes as 0x4 (no error channel here; validate_meta has one).
      // For tf32 pairs 0x4 is "keep element 0", a valid pair code too.
      if (!rules::nibble_valid(nib, G)) nib = 0x4u;
#pragma unroll
      for (int j = 0; j < P::kKeep; ++j) {
        const int idx = rules::kept_index(nib, j, G);
        const uint32_t v = P::get(in, g * P::kKeep + j);
#pragma unroll
        for (int m = 0; m < G; ++m)
          if (m == idx) P::put(out, g * G + m, v);
      }
    }
    dense[i] = P::Dense::from_words(out);
  }
}

// The first offending group in row-major order is the smallest linear group index r*(K/G) + c, which for the
// groups of meta byte i is 2i or 2i+1: an atomicMin over all offenders finds it, whatever order threads run in.
__device__ __forceinline__ void record_offender(unsigned long long* first, unsigned long long chunk) {
  // Reading first skips most atomics when many chunks offend; the atomic alone decides the answer.
  if (chunk < *reinterpret_cast<volatile unsigned long long*>(first)) atomicMin(first, chunk);
}

template <class S, int G>
__global__ void validate_dense_kernel(const typename Piece<S, G>::Dense::type* __restrict__ dense, int64_t n,
                                      rules::ElemSpec spec, unsigned long long* first) {
  using P = Piece<S, G>;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    uint32_t in[P::kDenseWords];
    P::Dense::to_words(dense[i], in);
    if (P::nonzeros(in, 0, spec) > P::kKeep)
      record_offender(first, 2ull * i);
    else if (P::nonzeros(in, 1, spec) > P::kKeep)
      record_offender(first, 2ull * i + 1);
  }
}

__global__ void validate_meta_kernel(const uint8_t* __restrict__ meta, int64_t n, int group,
                                     unsigned long long* first) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const uint32_t byte = meta[i];
    if (!rules::nibble_valid(byte & 0xFu, group))
      record_offender(first, 2ull * i);
    else if (!rules::nibble_valid(byte >> 4, group))
      record_offender(first, 2ull * i + 1);
  }
}

// The one generic reorder, driven by the layout's description (format.h): one thread per output 32-bit word, i.e.
// 8 nibbles of one block; for each it finds the (row, nibble column) with the description's inverse
// (rules::layout_coordinates) and gathers that canonical nibble. The CPU reorder uses the forward map of the same
// description, so the two agree by construction and the test checks it bit for bit.
__global__ void reorder_kernel(const uint8_t* __restrict__ canonical, uint32_t* __restrict__ out, int64_t words,
                               int64_t cols, MetaLayoutDesc d) {
  const int64_t row_bytes = cols / 2;
  const int64_t words_per_block = d.block_bytes() / 4;
  for (int64_t w = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; w < words;
       w += int64_t{gridDim.x} * blockDim.x) {
    const int64_t block = w / words_per_block;
    const uint32_t first = static_cast<uint32_t>(w % words_per_block) * 8u;   // in-block index of the word's nibble 0
    uint32_t word = 0;
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      int64_t r = 0, j = 0;
      rules::layout_coordinates(d, block, first + k, cols, &r, &j);
      word |= rules::canonical_nibble(canonical + r * row_bytes, j) << (4 * k);
    }
    out[w] = word;
  }
}

void check_launch() { SPARSE24_CUDA_CHECK(cudaGetLastError()); }

// A device word for the atomicMin answer, freed on every path out (validate may throw after allocating).
struct FirstOffender {
  unsigned long long* ptr = nullptr;
  cudaStream_t stream;
  explicit FirstOffender(cudaStream_t s) : stream(s) {
    SPARSE24_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&ptr), sizeof(*ptr), stream));
    // "None yet" is the largest index, all bits set.
    const cudaError_t e = cudaMemsetAsync(ptr, 0xFF, sizeof(*ptr), stream);
    if (e != cudaSuccess) {
      cudaFreeAsync(ptr, stream);
      check_cuda(e, "cudaMemsetAsync(first offender)");
    }
  }
  ~FirstOffender() { cudaFreeAsync(ptr, stream); }
  FirstOffender(const FirstOffender&) = delete;
  FirstOffender& operator=(const FirstOffender&) = delete;
  unsigned long long read() const {
    unsigned long long host = 0;
    SPARSE24_CUDA_CHECK(cudaMemcpyAsync(&host, ptr, sizeof(host), cudaMemcpyDeviceToHost, stream));
    SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
    return host;
  }
};

constexpr unsigned long long kNone = ~0ull;

// Calls f(S{}, std::integral_constant<int, G>{}) for the storage and group of a type with a sparse format.
template <class F>
void with_piece(const char* fn, const DTypeInfo& d, F&& f) {
  if (d.bits == 16 && d.group == 4) return f(uint16_t{}, std::integral_constant<int, 4>{});
  if (d.bits == 8 && d.group == 4) return f(uint8_t{}, std::integral_constant<int, 4>{});
  if (d.bits == 32 && d.group == 2) return f(uint32_t{}, std::integral_constant<int, 2>{});
  fail(fn, cat("dtype ", d.name, ": no kernel for ", d.bits, "-bit storage with groups of ", d.group));
}

}  // namespace

void prune(DType t, const void* dense, int64_t M, int64_t K, void* pruned, void* stream) {
  const char* fn = "gpu::prune";
  const DTypeInfo& d = rules::check_dtype(fn, t);
  rules::check_canonical_shape(fn, M, K, d.group);
  rules::check_ptr(fn, dense, "dense");
  rules::check_ptr(fn, pruned, "pruned");
  with_piece(fn, d, [&](auto s_tag, auto g_tag) {
    using P = Piece<decltype(s_tag), decltype(g_tag)::value>;
    using V = typename P::Dense::type;
    check_aligned(fn, dense, P::kDenseBytes, "dense");
    check_aligned(fn, pruned, P::kDenseBytes, "pruned");
    const int64_t n = M * (K / (2 * d.group));
    prune_kernel<decltype(s_tag), decltype(g_tag)::value><<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
        static_cast<const V*>(dense), static_cast<V*>(pruned), n, rules::spec_of(d));
  });
  check_launch();
}

void compress(DType t, const void* pruned, int64_t M, int64_t K, void* values, uint8_t* meta, void* stream) {
  const char* fn = "gpu::compress";
  const DTypeInfo& d = rules::check_dtype(fn, t);
  rules::check_canonical_shape(fn, M, K, d.group);
  rules::check_ptr(fn, pruned, "pruned");
  rules::check_ptr(fn, values, "values");
  rules::check_ptr(fn, meta, "meta");
  with_piece(fn, d, [&](auto s_tag, auto g_tag) {
    using P = Piece<decltype(s_tag), decltype(g_tag)::value>;
    check_aligned(fn, pruned, P::kDenseBytes, "pruned");
    check_aligned(fn, values, P::kValueBytes, "values");
    const int64_t n = M * (K / (2 * d.group));
    compress_kernel<decltype(s_tag), decltype(g_tag)::value><<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
        static_cast<const typename P::Dense::type*>(pruned), static_cast<typename P::Values::type*>(values), meta, n,
        rules::spec_of(d));
  });
  check_launch();
}

void decompress(DType t, const void* values, const uint8_t* meta, int64_t M, int64_t K, void* dense, void* stream) {
  const char* fn = "gpu::decompress";
  const DTypeInfo& d = rules::check_dtype(fn, t);
  rules::check_canonical_shape(fn, M, K, d.group);
  rules::check_ptr(fn, values, "values");
  rules::check_ptr(fn, meta, "meta");
  rules::check_ptr(fn, dense, "dense");
  with_piece(fn, d, [&](auto s_tag, auto g_tag) {
    using P = Piece<decltype(s_tag), decltype(g_tag)::value>;
    check_aligned(fn, values, P::kValueBytes, "values");
    check_aligned(fn, dense, P::kDenseBytes, "dense");
    const int64_t n = M * (K / (2 * d.group));
    decompress_kernel<decltype(s_tag), decltype(g_tag)::value><<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
        static_cast<const typename P::Values::type*>(values), meta, static_cast<typename P::Dense::type*>(dense), n);
  });
  check_launch();
}

Violation validate_dense(DType t, const void* dense, int64_t M, int64_t K, void* stream) {
  const char* fn = "gpu::validate_dense";
  const DTypeInfo& d = rules::check_dtype(fn, t);
  rules::check_canonical_shape(fn, M, K, d.group);
  rules::check_ptr(fn, dense, "dense");
  const cudaStream_t s = as_stream(stream);
  const int64_t n = M * (K / (2 * d.group));
  FirstOffender first(s);
  with_piece(fn, d, [&](auto s_tag, auto g_tag) {
    using P = Piece<decltype(s_tag), decltype(g_tag)::value>;
    check_aligned(fn, dense, P::kDenseBytes, "dense");
    validate_dense_kernel<decltype(s_tag), decltype(g_tag)::value><<<blocks_for(n), kThreads, 0, s>>>(
        static_cast<const typename P::Dense::type*>(dense), n, rules::spec_of(d), first.ptr);
  });
  check_launch();
  const unsigned long long at = first.read();
  if (at == kNone) return Violation{};
  const int64_t groups = K / d.group;
  const int64_t row = static_cast<int64_t>(at) / groups, chunk = static_cast<int64_t>(at) % groups;
  // Fetch the offending group itself, so that the message (its nonzero count) is built exactly as on the CPU.
  const int eb = d.bits / 8;
  uint8_t raw[4 * 4] = {};
  SPARSE24_CUDA_CHECK(cudaMemcpyAsync(raw, static_cast<const uint8_t*>(dense) + (row * K + d.group * chunk) * eb,
                                      static_cast<size_t>(d.group * eb), cudaMemcpyDeviceToHost, s));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(s));
  uint32_t e[4] = {0u, 0u, 0u, 0u};
  for (int j = 0; j < d.group; ++j)
    for (int b = 0; b < eb; ++b) e[j] |= static_cast<uint32_t>(raw[j * eb + b]) << (8 * b);   // little-endian
  const int nz = rules::group_nonzeros(e, rules::spec_of(d));
  return rules::make_violation(row, chunk, rules::dense_violation_message(row, chunk, nz, d.group, d.keep));
}

namespace {
Violation validate_meta_groups(const char* fn, int group, const uint8_t* meta, int64_t M, int64_t K, void* stream) {
  rules::check_canonical_shape(fn, M, K, group);
  rules::check_ptr(fn, meta, "meta");
  const cudaStream_t s = as_stream(stream);
  const int64_t n = M * (K / (2 * group));
  FirstOffender first(s);
  validate_meta_kernel<<<blocks_for(n), kThreads, 0, s>>>(meta, n, group, first.ptr);
  check_launch();
  const unsigned long long at = first.read();
  if (at == kNone) return Violation{};
  const int64_t groups = K / group;
  const int64_t row = static_cast<int64_t>(at) / groups, chunk = static_cast<int64_t>(at) % groups;
  uint8_t byte = 0;
  SPARSE24_CUDA_CHECK(cudaMemcpyAsync(&byte, meta + static_cast<int64_t>(at) / 2, 1, cudaMemcpyDeviceToHost, s));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(s));
  const uint32_t nibble = (chunk % 2 == 0) ? (byte & 0xFu) : (byte >> 4u);
  return rules::make_violation(row, chunk, rules::meta_violation_message(row, chunk, nibble, group));
}

void reorder_groups(const char* fn, MetaLayout to, int elem_bits, int group, const uint8_t* canonical, int64_t M,
                    int64_t K, uint8_t* out, void* stream) {
  const MetaLayoutDesc& d = rules::check_layout_shape(fn, to, M, K, elem_bits, group);
  rules::check_ptr(fn, canonical, "canonical");
  rules::check_ptr(fn, out, "out");
  const cudaStream_t s = as_stream(stream);
  const int64_t cols = K / group, bytes = M * (cols / 2);
  if (to == MetaLayout::Canonical) {
    if (out != canonical)
      SPARSE24_CUDA_CHECK(cudaMemcpyAsync(out, canonical, static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice, s));
    return;
  }
  check_aligned(fn, out, 4, "out");
  const int64_t words = bytes / 4;
  reorder_kernel<<<blocks_for(words), kThreads, 0, s>>>(canonical, reinterpret_cast<uint32_t*>(out), words, cols, d);
  check_launch();
}
}  // namespace

Violation validate_meta(const uint8_t* meta, int64_t M, int64_t K, void* stream) {
  return validate_meta_groups("gpu::validate_meta", 4, meta, M, K, stream);
}

Violation validate_meta(DType t, const uint8_t* meta, int64_t M, int64_t K, void* stream) {
  const char* fn = "gpu::validate_meta";
  return validate_meta_groups(fn, rules::check_dtype(fn, t).group, meta, M, K, stream);
}

void reorder_meta(MetaLayout to, const uint8_t* canonical, int64_t M, int64_t K, uint8_t* out, void* stream) {
  reorder_groups("gpu::reorder_meta", to, 16, 4, canonical, M, K, out, stream);
}

void reorder_meta(MetaLayout to, DType t, const uint8_t* canonical, int64_t M, int64_t K, uint8_t* out,
                  void* stream) {
  const char* fn = "gpu::reorder_meta";
  const DTypeInfo& d = rules::check_dtype(fn, t);
  reorder_groups(fn, to, d.bits, d.group, canonical, M, K, out, stream);
}

}  // namespace sparse24::format::gpu
