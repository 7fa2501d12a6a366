// Moving tiles from global to shared memory, 16 bytes per thread per step, with the edge rows zero-filled.
//
// Every shared tile in the project is a stack of rows, each row a multiple of 16 bytes, stored with a padded row
// stride (see the kernel files for why each padding is conflict-free for ldmatrix).
#pragma once

#include <cstdint>

namespace sparse24 {

// Copies kRows x kRowBytes from `src` (row r at src + r * src_stride_bytes) into `dst` (row r at dst + r *
// kDstStrideBytes). Rows >= rows_valid are filled with `fill` (16 bytes per row chunk) instead of being read:
// zero for values, a valid metadata code for metadata (zero nibbles are invalid metadata, docs/sparse-tensor-cores.md §2).
// All kThreads threads of the block must call it.
template <int kRows, int kRowBytes, int kDstStrideBytes, int kThreads>
__device__ __forceinline__ void copy_rows_16B(uint8_t* dst, const uint8_t* src, int64_t src_stride_bytes,
                                              int rows_valid, uint4 fill = make_uint4(0, 0, 0, 0)) {
  static_assert(kRowBytes % 16 == 0, "tile rows must be whole 16-byte chunks");
  static_assert(kDstStrideBytes % 16 == 0, "shared rows must start 16-byte aligned");
  constexpr int kChunksPerRow = kRowBytes / 16;
  constexpr int kChunks = kRows * kChunksPerRow;
  constexpr int kSteps = (kChunks + kThreads - 1) / kThreads;
#pragma unroll
  for (int i = 0; i < kSteps; ++i) {
    const int chunk = i * kThreads + static_cast<int>(threadIdx.x);
    if (kChunks % kThreads != 0 && chunk >= kChunks) break;
    const int row = chunk / kChunksPerRow, col = (chunk % kChunksPerRow) * 16;
    uint4 v = fill;
    if (row < rows_valid) v = *reinterpret_cast<const uint4*>(src + row * src_stride_bytes + col);
    *reinterpret_cast<uint4*>(dst + row * kDstStrideBytes + col) = v;
  }
}

}  // namespace sparse24
