// Moving tiles from global to shared memory, 16 bytes per thread per step, with the edge rows zero-filled.
//
// Every shared tile in the project is a stack of rows, each row a multiple of 16 bytes, stored with a padded row
// stride (see the kernel files for why each padding is conflict-free for ldmatrix).
#pragma once

#include <cstdint>

#include "kernels/common/ptx.cuh"

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
  if constexpr (kThreads % kChunksPerRow == 0) {
    // Each thread keeps one column and walks down its rows with one pointer (kRowsPerStep rows per step): the
    // same chunks as below, without one 64-bit row address per step. NOTE: with separate A and B strides (the
    // leading dimensions) the per-step addresses of both tiles stayed live across the k-loop and
    // dense.s02_smem 128x128x64 ran 5-14% slower than with one shared stride (H100, results/NOTES.md).
    constexpr int kRowsPerStep = kThreads / kChunksPerRow;
    const int row0 = static_cast<int>(threadIdx.x) / kChunksPerRow;
    const int col = (static_cast<int>(threadIdx.x) % kChunksPerRow) * 16;
    const uint8_t* p = src + row0 * src_stride_bytes + col;
    uint8_t* q = dst + row0 * kDstStrideBytes + col;
#pragma unroll
    for (int i = 0; i < kSteps; ++i) {
      const int row = row0 + i * kRowsPerStep;
      if (kChunks % kThreads != 0 && row >= kRows) break;
      uint4 v = fill;
      if (row < rows_valid) v = *reinterpret_cast<const uint4*>(p);
      *reinterpret_cast<uint4*>(q) = v;
      p += kRowsPerStep * src_stride_bytes;
      q += kRowsPerStep * kDstStrideBytes;
    }
  } else {
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
}

}  // namespace sparse24

// ---- Asynchronous tile copies (cp.async, sm_80+): the pipelines of s03 and later -------------------------------
namespace sparse24 {

// What a cp.async tile copy does with rows at or past `rows_valid`.
enum class EdgeRows {
  ZeroFill,  // copy with src-size 0: the hardware writes 16 zero bytes (values, B: zero contributes nothing)
  Skip,      // issue nothing: the caller has put valid contents there once, before the pipeline (metadata)
};

// Issues this thread's share of the 16-byte cp.async copies of a kRows x kRowBytes tile: row r, byte column c of
// the tile comes from src + r * src_stride_bytes + c and goes to dst_smem + dst_offset(r, c / 16) (a byte offset,
// so the caller chooses padding or a swizzle). Commits nothing: the caller groups copies into stages.
// All kThreads threads of the block must call it with the same arguments.
template <int kRows, int kRowBytes, int kThreads, EdgeRows kEdge, class DstOffset>
__device__ __forceinline__ void cp_async_rows_16B(uint32_t dst_smem, const uint8_t* src, int64_t src_stride_bytes,
                                                  int rows_valid, DstOffset dst_offset) {
  static_assert(kRowBytes % 16 == 0, "tile rows must be whole 16-byte chunks");
  constexpr int kChunksPerRow = kRowBytes / 16;
  constexpr int kChunks = kRows * kChunksPerRow;
  constexpr int kSteps = (kChunks + kThreads - 1) / kThreads;
#pragma unroll
  for (int i = 0; i < kSteps; ++i) {
    const int chunk = i * kThreads + static_cast<int>(threadIdx.x);
    if (kChunks % kThreads != 0 && chunk >= kChunks) break;
    const int row = chunk / kChunksPerRow, c = chunk % kChunksPerRow;
    const bool valid = row < rows_valid;
    if (kEdge == EdgeRows::Skip && !valid) continue;
    // A zero-filled row still needs a valid address: the tile's first row (always inside the matrix).
    const uint8_t* p = valid ? src + row * src_stride_bytes + c * 16 : src;
    ptx::cp_async_cg_16(dst_smem + dst_offset(row, c), p, valid ? 16u : 0u);
  }
}

}  // namespace sparse24

namespace sparse24 {

// One thread's share of a kRows x (kChunksPerRow x 16 bytes) tile copy with cp.async, with the thread's fixed
// position precomputed once per kernel (CpAsyncTilePos) so that the per-tile cost is a pointer walk: thread t
// copies chunk c = t % kChunksPerRow of rows r0 = t / kChunksPerRow, r0 + kRowsPerStep, ... (kRowsPerStep =
// kThreads / kChunksPerRow). The destination of row r0 + i*kRowsPerStep is dst0 + i * kRowsPerStep * kDstRowBytes,
// which holds for padded rows and for any swizzle whose pattern repeats every kRowsPerStep rows (the caller
// static_asserts that). Keeping one source pointer that walks down the rows (instead of one address per row,
// which the compiler hoists out of the k-loop, two registers each) is what keeps s04's double-buffered
// fragments free of spills.
template <int kRows, int kChunksPerRow, int kThreads>
struct CpAsyncTile {
  static_assert(kThreads % kChunksPerRow == 0, "a whole number of rows per step");
  static constexpr int kRowsPerStep = kThreads / kChunksPerRow;
  static_assert(kRows % kRowsPerStep == 0, "a whole number of steps per tile");
  static constexpr int kSteps = kRows / kRowsPerStep;

  int row0;       // first row of this thread
  uint32_t dst0;  // byte offset of (row0, its chunk) inside the tile
  int64_t src0;   // byte offset of (row0, its chunk) from the tile's source origin

  template <class DstOffset>
  __device__ __forceinline__ CpAsyncTile(int64_t src_stride_bytes, DstOffset dst_offset) {
    const int t = static_cast<int>(threadIdx.x), c = t % kChunksPerRow;
    row0 = t / kChunksPerRow;
    dst0 = dst_offset(row0, c);
    src0 = row0 * src_stride_bytes + c * 16;
  }

  // Issues the copies of one tile: source origin `src` (row 0, byte 0 of this k-tile), destination tile at
  // dst_smem whose rows are kDstRowBytes apart; rows >= rows_valid as kEdge says.
  template <int kDstRowBytes, EdgeRows kEdge>
  __device__ __forceinline__ void issue(uint32_t dst_smem, const uint8_t* src, int64_t src_step_bytes,
                                        int rows_valid) const {
    const uint8_t* p = src + src0;
#pragma unroll
    for (int i = 0; i < kSteps; ++i) {
      const bool valid = row0 + i * kRowsPerStep < rows_valid;
      if (!(kEdge == EdgeRows::Skip && !valid))
        ptx::cp_async_cg_16(dst_smem + dst0 + i * kRowsPerStep * kDstRowBytes, valid ? p : src, valid ? 16u : 0u);
      p += src_step_bytes;
    }
  }
};

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
