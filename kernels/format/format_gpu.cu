// The 2:4 format on the GPU: the same results as format_cpu.cpp, bit for bit, at memory speed.
//
// Work split: one thread per canonical metadata byte, i.e. two chunks, i.e. 8 dense elements (16 bytes), 4 kept
// values (8 bytes) and 1 metadata byte. Because K % 8 == 0 a metadata byte never straddles two rows, so thread i
// simply owns dense elements 8i..8i+7, values 4i..4i+3 and meta byte i: no row arithmetic, and consecutive threads
// touch consecutive 16-, 8- and 1-byte pieces (coalesced). The per-chunk decisions come from rules.h, the same
// functions the CPU reference calls.
//
// These kernels prepare data outside the timed region; they aim to be simple and to run near memory bandwidth,
// not to be tuned.
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

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
// A chunk of 4 elements is two 32-bit words, little-endian: element 0 is the low half of the first word.
__device__ __forceinline__ uint16_t elem(uint32_t lo, uint32_t hi, int j) {
  return static_cast<uint16_t>(((j < 2) ? lo : hi) >> (16 * (j & 1)));
}

__device__ __forceinline__ uint32_t keep_of(uint32_t lo, uint32_t hi, int sign_bit) {
  return rules::keep_nibble(elem(lo, hi, 0), elem(lo, hi, 1), elem(lo, hi, 2), elem(lo, hi, 3), sign_bit);
}

__device__ __forceinline__ int nonzeros_of(uint32_t lo, uint32_t hi, int sign_bit) {
  return rules::count_nonzeros(elem(lo, hi, 0), elem(lo, hi, 1), elem(lo, hi, 2), elem(lo, hi, 3), sign_bit);
}

// The two kept values of a chunk, packed as the values row stores them: idx0's value in the low half.
__device__ __forceinline__ uint32_t kept_pair(uint32_t lo, uint32_t hi, uint32_t nibble) {
  return static_cast<uint32_t>(elem(lo, hi, rules::nibble_idx0(nibble))) |
         (static_cast<uint32_t>(elem(lo, hi, rules::nibble_idx1(nibble))) << 16);
}

// Places a value pair back at the nibble's positions, zeros elsewhere (+0.0, as the CPU writes).
__device__ __forceinline__ void scatter_pair(uint32_t pair, uint32_t nibble, uint32_t* lo, uint32_t* hi) {
  uint32_t w[2] = {0u, 0u};
  const int i0 = rules::nibble_idx0(nibble), i1 = rules::nibble_idx1(nibble);
  w[i0 >> 1] |= (pair & 0xFFFFu) << (16 * (i0 & 1));
  w[i1 >> 1] |= (pair >> 16) << (16 * (i1 & 1));
  *lo = w[0];
  *hi = w[1];
}

// Keeps the nibble's two elements of a chunk in place and zeroes the other two.
__device__ __forceinline__ void keep_in_place(uint32_t nibble, uint32_t* lo, uint32_t* hi) {
  scatter_pair(kept_pair(*lo, *hi, nibble), nibble, lo, hi);
}

// ---- Kernels: n = number of canonical metadata bytes = M*K/8 ----------------------------------------------------

__global__ void prune_kernel(const uint4* __restrict__ dense, uint4* __restrict__ pruned, int64_t n, int sign_bit) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    uint4 v = dense[i];
    keep_in_place(keep_of(v.x, v.y, sign_bit), &v.x, &v.y);   // chunk 2i
    keep_in_place(keep_of(v.z, v.w, sign_bit), &v.z, &v.w);   // chunk 2i+1
    pruned[i] = v;
  }
}

__global__ void compress_kernel(const uint4* __restrict__ pruned, uint2* __restrict__ values,
                                uint8_t* __restrict__ meta, int64_t n, int sign_bit) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const uint4 v = pruned[i];
    const uint32_t k0 = keep_of(v.x, v.y, sign_bit), k1 = keep_of(v.z, v.w, sign_bit);
    values[i] = make_uint2(kept_pair(v.x, v.y, k0), kept_pair(v.z, v.w, k1));
    meta[i] = static_cast<uint8_t>(k0 | (k1 << 4));   // LSB-first: the even chunk in the low nibble
  }
}

__global__ void decompress_kernel(const uint2* __restrict__ values, const uint8_t* __restrict__ meta,
                                  uint4* __restrict__ dense, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const uint2 p = values[i];
    const uint32_t byte = meta[i];
    uint32_t k0 = byte & 0xFu, k1 = byte >> 4;
    // Documented in format.h: an invalid nibble decodes as 0x4 (no error channel here; validate_meta has one).
    if (!rules::nibble_valid(k0)) k0 = 0x4u;
    if (!rules::nibble_valid(k1)) k1 = 0x4u;
    uint4 out;
    scatter_pair(p.x, k0, &out.x, &out.y);
    scatter_pair(p.y, k1, &out.z, &out.w);
    dense[i] = out;
  }
}

// The first offending chunk in row-major order is the smallest linear chunk index r*(K/4) + c, which for the
// chunks of meta byte i is 2i or 2i+1: an atomicMin over all offenders finds it, whatever order threads run in.
__device__ __forceinline__ void record_offender(unsigned long long* first, unsigned long long chunk) {
  // Reading first skips most atomics when many chunks offend; the atomic alone decides the answer.
  if (chunk < *reinterpret_cast<volatile unsigned long long*>(first)) atomicMin(first, chunk);
}

__global__ void validate_dense_kernel(const uint4* __restrict__ dense, int64_t n, int sign_bit,
                                      unsigned long long* first) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const uint4 v = dense[i];
    if (nonzeros_of(v.x, v.y, sign_bit) > 2)
      record_offender(first, 2ull * i);
    else if (nonzeros_of(v.z, v.w, sign_bit) > 2)
      record_offender(first, 2ull * i + 1);
  }
}

__global__ void validate_meta_kernel(const uint8_t* __restrict__ meta, int64_t n, unsigned long long* first) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const uint32_t byte = meta[i];
    if (!rules::nibble_valid(byte & 0xFu))
      record_offender(first, 2ull * i);
    else if (!rules::nibble_valid(byte >> 4))
      record_offender(first, 2ull * i + 1);
  }
}

// One thread per output 32-bit word, i.e. per (block, lane): it gathers that lane's `e` register. Both word layouts
// put, in lane = 4g + q, row g of a 16-row tile in bits 15:0 and row g + 8 in bits 31:16, 16 consecutive columns
// each: 4 consecutive nibbles, i.e. two consecutive canonical bytes, already LSB-first. So a word is two canonical
// 16-bit pieces side by side, and a layout only says which tile row and which 16 columns lane q of a block serves.
// LaneBlocks16 (rules.h, backwards): tile F = q/2 of the block's 32 rows, columns 16*(q%2) of its k-step of 32.
struct LaneBlocks16Words {
  static constexpr int kRows = kLaneBlockRows, kCols = kLaneBlockCols;
  __device__ static int row_in_block(int q, int g) { return 16 * (q >> 1) + g; }
  __device__ static int col_byte_in_block(int q) { return 2 * (q & 1); }
};
// Wgmma16x64: the block's 16 rows, columns 16*q of its k-tile of 64 (q = 0, 1 under selector 0, q = 2, 3 under 1).
struct Wgmma16x64Words {
  static constexpr int kRows = kWgmmaBlockRows, kCols = kWgmmaBlockCols;
  __device__ static int row_in_block(int /*q*/, int g) { return g; }
  __device__ static int col_byte_in_block(int q) { return 2 * q; }
};

template <class Words>
__global__ void reorder_words_kernel(const uint8_t* __restrict__ canonical, uint32_t* __restrict__ out,
                                     int64_t words, int64_t K) {
  const int64_t row_bytes = K / 8, col_blocks = K / Words::kCols;
  for (int64_t w = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; w < words;
       w += int64_t{gridDim.x} * blockDim.x) {
    const int64_t block = w / 32;
    const int lane = static_cast<int>(w % 32), g = lane >> 2, q = lane & 3;
    const int64_t row = (block / col_blocks) * Words::kRows + Words::row_in_block(q, g);
    const int64_t col_byte = (block % col_blocks) * (Words::kCols / 8) + Words::col_byte_in_block(q);
    const uint8_t* top = canonical + row * row_bytes + col_byte;         // row g of the tile
    const uint8_t* bottom = canonical + (row + 8) * row_bytes + col_byte;  // row g + 8
    out[w] = static_cast<uint32_t>(top[0]) | (static_cast<uint32_t>(top[1]) << 8) |
             (static_cast<uint32_t>(bottom[0]) << 16) | (static_cast<uint32_t>(bottom[1]) << 24);
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

}  // namespace

void prune(DType t, const void* dense_bytes, int64_t M, int64_t K, void* pruned_bytes, void* stream) {
  const auto* dense = static_cast<const uint16_t*>(dense_bytes);
  auto* pruned = static_cast<uint16_t*>(pruned_bytes);
  const char* fn = "gpu::prune";
  const int sign_bit = rules::check_dtype(fn, t).sign_bit;
  rules::check_canonical_shape(fn, M, K);
  rules::check_ptr(fn, dense, "dense");
  rules::check_ptr(fn, pruned, "pruned");
  check_aligned(fn, dense, 16, "dense");
  check_aligned(fn, pruned, 16, "pruned");
  const int64_t n = M * (K / 8);
  prune_kernel<<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(reinterpret_cast<const uint4*>(dense),
                                                                    reinterpret_cast<uint4*>(pruned), n, sign_bit);
  check_launch();
}

void compress(DType t, const void* pruned_bytes, int64_t M, int64_t K, void* values_bytes, uint8_t* meta,
              void* stream) {
  const auto* pruned = static_cast<const uint16_t*>(pruned_bytes);
  auto* values = static_cast<uint16_t*>(values_bytes);
  const char* fn = "gpu::compress";
  const int sign_bit = rules::check_dtype(fn, t).sign_bit;
  rules::check_canonical_shape(fn, M, K);
  rules::check_ptr(fn, pruned, "pruned");
  rules::check_ptr(fn, values, "values");
  rules::check_ptr(fn, meta, "meta");
  check_aligned(fn, pruned, 16, "pruned");
  check_aligned(fn, values, 8, "values");
  const int64_t n = M * (K / 8);
  compress_kernel<<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
      reinterpret_cast<const uint4*>(pruned), reinterpret_cast<uint2*>(values), meta, n, sign_bit);
  check_launch();
}

void decompress(DType t, const void* values_bytes, const uint8_t* meta, int64_t M, int64_t K, void* dense_bytes,
                void* stream) {
  auto* dense = static_cast<uint16_t*>(dense_bytes);
  const auto* values = static_cast<const uint16_t*>(values_bytes);
  const char* fn = "gpu::decompress";
  rules::check_dtype(fn, t);
  rules::check_canonical_shape(fn, M, K);
  rules::check_ptr(fn, values, "values");
  rules::check_ptr(fn, meta, "meta");
  rules::check_ptr(fn, dense, "dense");
  check_aligned(fn, values, 8, "values");
  check_aligned(fn, dense, 16, "dense");
  const int64_t n = M * (K / 8);
  decompress_kernel<<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
      reinterpret_cast<const uint2*>(values), meta, reinterpret_cast<uint4*>(dense), n);
  check_launch();
}

Violation validate_dense(DType t, const void* dense_bytes, int64_t M, int64_t K, void* stream) {
  const auto* dense = static_cast<const uint16_t*>(dense_bytes);
  const char* fn = "gpu::validate_dense";
  const int sign_bit = rules::check_dtype(fn, t).sign_bit;
  rules::check_canonical_shape(fn, M, K);
  rules::check_ptr(fn, dense, "dense");
  check_aligned(fn, dense, 16, "dense");
  const cudaStream_t s = as_stream(stream);
  const int64_t n = M * (K / 8);
  FirstOffender first(s);
  validate_dense_kernel<<<blocks_for(n), kThreads, 0, s>>>(reinterpret_cast<const uint4*>(dense), n, sign_bit,
                                                          first.ptr);
  check_launch();
  const unsigned long long at = first.read();
  if (at == kNone) return Violation{};
  const int64_t row = static_cast<int64_t>(at) / (K / 4), chunk = static_cast<int64_t>(at) % (K / 4);
  // Fetch the offending chunk itself, so that the message (its nonzero count) is built exactly as on the CPU.
  uint16_t x[4];
  SPARSE24_CUDA_CHECK(cudaMemcpyAsync(x, dense + row * K + 4 * chunk, sizeof(x), cudaMemcpyDeviceToHost, s));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(s));
  const int nz = rules::count_nonzeros(x[0], x[1], x[2], x[3], sign_bit);
  return rules::make_violation(row, chunk, rules::dense_violation_message(row, chunk, nz));
}

Violation validate_meta(const uint8_t* meta, int64_t M, int64_t K, void* stream) {
  const char* fn = "gpu::validate_meta";
  rules::check_canonical_shape(fn, M, K);
  rules::check_ptr(fn, meta, "meta");
  const cudaStream_t s = as_stream(stream);
  const int64_t n = M * (K / 8);
  FirstOffender first(s);
  validate_meta_kernel<<<blocks_for(n), kThreads, 0, s>>>(meta, n, first.ptr);
  check_launch();
  const unsigned long long at = first.read();
  if (at == kNone) return Violation{};
  const int64_t row = static_cast<int64_t>(at) / (K / 4), chunk = static_cast<int64_t>(at) % (K / 4);
  uint8_t byte = 0;
  SPARSE24_CUDA_CHECK(cudaMemcpyAsync(&byte, meta + static_cast<int64_t>(at) / 2, 1, cudaMemcpyDeviceToHost, s));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(s));
  const uint32_t nibble = (chunk % 2 == 0) ? (byte & 0xFu) : (byte >> 4u);
  return rules::make_violation(row, chunk, rules::meta_violation_message(row, chunk, nibble));
}

void reorder_meta(MetaLayout to, const uint8_t* canonical, int64_t M, int64_t K, uint8_t* out, void* stream) {
  const char* fn = "gpu::reorder_meta";
  rules::check_layout_shape(fn, to, M, K);
  rules::check_ptr(fn, canonical, "canonical");
  rules::check_ptr(fn, out, "out");
  const cudaStream_t s = as_stream(stream);
  const int64_t bytes = M * (K / 8);
  if (to == MetaLayout::Canonical) {
    if (out != canonical)
      SPARSE24_CUDA_CHECK(cudaMemcpyAsync(out, canonical, static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice, s));
    return;
  }
  check_aligned(fn, out, 4, "out");
  const int64_t words = bytes / 4;
  auto* out_words = reinterpret_cast<uint32_t*>(out);
  if (to == MetaLayout::LaneBlocks16)
    reorder_words_kernel<LaneBlocks16Words><<<blocks_for(words), kThreads, 0, s>>>(canonical, out_words, words, K);
  else  // Wgmma16x64 (check_layout_shape refused every other value)
    reorder_words_kernel<Wgmma16x64Words><<<blocks_for(words), kThreads, 0, s>>>(canonical, out_words, words, K);
  check_launch();
}

}  // namespace sparse24::format::gpu
