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

namespace sparse24 {

// Copies kRows x kRowBytes from `src` (row r at src + r * src_stride_bytes) into `dst` as core matrices, the unit
// wgmma reads from shared memory: 8 rows x 16 bytes = 128 contiguous bytes (row r % 8 at byte 16 * (r % 8)).
// Core matrices are adjacent along the row (K), and the next 8 rows start 8 * kRowBytes further:
//
//   16-byte chunk j of row r  ->  dst + (r / 8) * (8 * kRowBytes) + j * 128 + (r % 8) * 16
//
//        row group 0: [ core(0,0) | core(0,1) | ... | core(0, kRowBytes/16 - 1) ]   each core: 8 rows x 16 B
//        row group 1: [ core(1,0) | ...                                        ]
//
// This is the K-major, no-swizzle layout of PTX ISA 9.7.15.5.1.2 with LBO = 128 bytes (next 8 K-columns of 16-bit
// elements) and SBO = 8 * kRowBytes (next 8 rows): the wgmma descriptor of a k-step starting at chunk j0 is the
// address of core(0, j0) with those two offsets. Thread i writes the i-th 16 bytes of the destination, so a warp's
// stores fill 512 contiguous bytes (no bank conflict), and its loads read 16 bytes of 8 consecutive rows per core
// matrix (whole 32-byte sectors). Rows >= rows_valid get `fill` instead of being read. All kThreads threads call it.
template <int kRows, int kRowBytes, int kThreads>
__device__ __forceinline__ void copy_rows_to_core_matrices_16B(uint8_t* dst, const uint8_t* src,
                                                               int64_t src_stride_bytes, int rows_valid,
                                                               uint4 fill = make_uint4(0, 0, 0, 0)) {
  static_assert(kRows % 8 == 0, "core matrices are 8 rows: whole row groups only");
  static_assert(kRowBytes % 16 == 0, "tile rows must be whole 16-byte chunks");
  constexpr int kChunksPerRow = kRowBytes / 16;
  constexpr int kChunks = kRows * kChunksPerRow;
  constexpr int kSteps = (kChunks + kThreads - 1) / kThreads;
#pragma unroll
  for (int i = 0; i < kSteps; ++i) {
    const int chunk = i * kThreads + static_cast<int>(threadIdx.x);
    if (kChunks % kThreads != 0 && chunk >= kChunks) break;
    const int row = (chunk / (8 * kChunksPerRow)) * 8 + chunk % 8;
    const int col = ((chunk / 8) % kChunksPerRow) * 16;
    uint4 v = fill;
    if (row < rows_valid) v = *reinterpret_cast<const uint4*>(src + row * src_stride_bytes + col);
    *reinterpret_cast<uint4*>(dst + chunk * 16) = v;
  }
}

}  // namespace sparse24
