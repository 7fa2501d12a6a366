// Host side of the Tensor Memory Accelerator (TMA): building the tensor maps that cp.async.bulk.tensor reads
// (kernels/common/ptx_sm90.cuh, tma_load_2d). A tensor map is a 128-byte opaque descriptor of a global tensor (base,
// sizes, strides), of the box one copy moves, and of the shared-memory swizzle the box is written with. It is built
// once per problem in a variant's prepare() and passed to the kernel by value (a __grid_constant__ parameter).
//
// The encoder, cuTensorMapEncodeTiled, is a driver-API function. We fetch it through the runtime
// (cudaGetDriverEntryPointByVersion) so that nothing links libcuda directly: the CPU-only CI build links as before.
#pragma once

#include <cuda.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace sparse24::tma {

// The shared-memory layouts TMA can write, named by the byte width of one swizzle row (must equal the box's inner
// extent in bytes, or exceed it for None). B128: chunk c (16 bytes) of row r lands at chunk c ^ (r % 8) of a
// 1024-byte atom of 8 rows; B64: c ^ ((r / 2) % 4) within 512-byte atoms of 8 rows x 64 bytes. The wgmma
// descriptor must name the same mode (ptx::SmemSwizzle).
enum class Swizzle { None, B64, B128 };

// A 2-D row-major tensor of `rows` x `cols` elements of `elem_bytes` bytes (1, 2 or 4), row r at base + r * pitch
// bytes, read in boxes of box_rows x box_cols elements. Throws std::runtime_error with the driver's code on failure.
inline CUtensorMap encode_2d(const void* base, int elem_bytes, uint64_t rows, uint64_t cols, uint64_t pitch_bytes,
                             uint32_t box_rows, uint32_t box_cols, Swizzle swizzle) {
  using Encode = CUresult (*)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*, const cuuint64_t*,
                              const cuuint64_t*, const cuuint32_t*, const cuuint32_t*, CUtensorMapInterleave,
                              CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill);
  static Encode encode = [] {
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult found{};
    const cudaError_t e =
        cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &found);
    if (e != cudaSuccess || found != cudaDriverEntryPointSuccess || !fn)
      throw std::runtime_error("cuTensorMapEncodeTiled is not available from the driver");
    return reinterpret_cast<Encode>(fn);
  }();

  // The element type only matters for out-of-bounds NaN fill, which we never ask for: the bytes are copied as
  // they are, so 16-bit values travel as UINT16 and metadata words as UINT32.
  const CUtensorMapDataType type = elem_bytes == 1   ? CU_TENSOR_MAP_DATA_TYPE_UINT8
                                   : elem_bytes == 2 ? CU_TENSOR_MAP_DATA_TYPE_UINT16
                                                     : CU_TENSOR_MAP_DATA_TYPE_UINT32;
  const cuuint64_t dims[2] = {cols, rows};        // innermost first
  const cuuint64_t strides[1] = {pitch_bytes};    // of every dimension but the innermost, in bytes
  const cuuint32_t box[2] = {box_cols, box_rows};
  const cuuint32_t element_strides[2] = {1, 1};
  const CUtensorMapSwizzle sw = swizzle == Swizzle::B128  ? CU_TENSOR_MAP_SWIZZLE_128B
                                : swizzle == Swizzle::B64 ? CU_TENSOR_MAP_SWIZZLE_64B
                                                          : CU_TENSOR_MAP_SWIZZLE_NONE;
  CUtensorMap map{};
  const CUresult r = encode(&map, type, 2, const_cast<void*>(base), dims, strides, box, element_strides,
                            CU_TENSOR_MAP_INTERLEAVE_NONE, sw, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                            CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS)
    throw std::runtime_error("cuTensorMapEncodeTiled failed (CUresult " + std::to_string(int(r)) + ") for a " +
                             std::to_string(rows) + " x " + std::to_string(cols) + " tensor, box " +
                             std::to_string(box_rows) + " x " + std::to_string(box_cols));
  return map;
}

}  // namespace sparse24::tma
