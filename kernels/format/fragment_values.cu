// GPU fragment order (fragment_values.h): one thread per 16-byte chunk of the image. A register's two values are
// adjacent in a row of the canonical values (frag::a_m16k16: columns 2q, 2q + 1), so a chunk is four 4-byte loads
// and one 16-byte store; consecutive threads are consecutive lanes of one warp's k-step, whose loads cover 8 rows x
// 32 bytes: coalesced enough for a preparation made once per problem (not timed, not tuned).
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "kernels/common/cuda_check.h"
#include "kernels/format/format.h"
#include "kernels/format/fragment_values.h"

namespace sparse24::format::gpu {
namespace {

constexpr int kThreads = 256;
constexpr int kChunksPerBlock = kFragmentBlockBytes / kFragmentChunkBytes;  // 256

__global__ void to_fragment_order_kernel(const uint16_t* values, int64_t ldv, int64_t M, int64_t k_tiles,
                                         int64_t chunks, uint4* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < chunks; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t block = i / kChunksPerBlock;
    const int chunk = int(i % kChunksPerBlock);
    uint32_t w[4];
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      // Element 2r and 2r + 1 (register r): the same row, adjacent columns, the lower one first.
      const FragmentSource src = fragment_source(block / k_tiles, block % k_tiles, chunk, 2 * r);
      w[r] = src.row < M ? *reinterpret_cast<const uint32_t*>(values + src.row * ldv + src.col) : 0u;
    }
    out[i] = make_uint4(w[0], w[1], w[2], w[3]);
  }
}
static_assert(frag::a_m16k16(0, 1).col == frag::a_m16k16(0, 0).col + 1 &&
                  frag::a_m16k16(0, 1).row == frag::a_m16k16(0, 0).row,
              "a register's two halves are adjacent values of one row: one 4-byte load");

}  // namespace

void to_fragment_order(DType t, const void* values, int64_t ldv, int64_t M, int64_t K, void* out, void* stream) {
  const size_t bytes = fragment_values_bytes(t, M, K);  // checks the type and the shape
  if (ldv < K / 2) throw FormatError("format::gpu::to_fragment_order: the values' row stride is below K/2");
  if (reinterpret_cast<uintptr_t>(values) % 16 != 0 || reinterpret_cast<uintptr_t>(out) % 16 != 0)
    throw FormatError("format::gpu::to_fragment_order: values and out must be 16-byte aligned");
  if (ldv % 2 != 0)
    throw FormatError("format::gpu::to_fragment_order: the values' row stride must be even (4-byte loads)");
  const int64_t chunks = int64_t(bytes) / kFragmentChunkBytes;
  const int64_t blocks = (chunks + kThreads - 1) / kThreads;
  const unsigned grid = unsigned(blocks < (int64_t{1} << 20) ? blocks : (int64_t{1} << 20));
  to_fragment_order_kernel<<<grid, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      static_cast<const uint16_t*>(values), ldv, M, K / kFragmentTileCols, chunks, static_cast<uint4*>(out));
  SPARSE24_CUDA_CHECK(cudaGetLastError());
}

}  // namespace sparse24::format::gpu
