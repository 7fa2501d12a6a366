// Host side of the Tensor Memory Accelerator (TMA): building the tensor maps that cp.async.bulk.tensor reads
// (kernels/common/ptx_sm90.cuh, tma_load_2d / 3d). A tensor map is a 128-byte opaque descriptor of a global tensor
// (base, sizes, strides), of the box one copy moves, and of the shared-memory swizzle the box is written with. It is built
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

// How much more than a request the L2 fetches from DRAM around it (CU_TENSOR_MAP_L2_PROMOTION_*). The kernels use
// B256: a stage's box reads 64 bytes of each row, and the next three k-tiles then find their bytes in the L2.
enum class L2Promotion { None, B64, B128, B256 };

// Any tensor of rank 1-5: dims[0] innermost (elements), strides[i] the bytes between consecutive indices of
// dimension i + 1, box[i] the box's extent in dimension i. Throws std::runtime_error with the driver's code.
inline CUtensorMap encode_tiled(const void* base, int elem_bytes, int rank, const uint64_t* dims,
                                const uint64_t* strides, const uint32_t* box, Swizzle swizzle,
                                L2Promotion promotion = L2Promotion::B256) {
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
  if (rank < 1 || rank > 5) throw std::runtime_error("a tensor map has rank 1 to 5, not " + std::to_string(rank));

  // The element type only matters for out-of-bounds NaN fill, which we never ask for: the bytes are copied as
  // they are, so 16-bit values travel as UINT16 and metadata words as UINT32.
  const CUtensorMapDataType type = elem_bytes == 1   ? CU_TENSOR_MAP_DATA_TYPE_UINT8
                                   : elem_bytes == 2 ? CU_TENSOR_MAP_DATA_TYPE_UINT16
                                                     : CU_TENSOR_MAP_DATA_TYPE_UINT32;
  cuuint64_t d[5] = {}, st[4] = {};
  cuuint32_t b[5] = {}, element_strides[5] = {1, 1, 1, 1, 1};
  std::string shape;
  for (int i = 0; i < rank; ++i) {
    d[i] = dims[i], b[i] = box[i];
    if (i + 1 < rank) st[i] = strides[i];
    shape += (i ? " x " : "") + std::to_string(dims[i]) + " (box " + std::to_string(box[i]) + ")";
  }
  const CUtensorMapSwizzle sw = swizzle == Swizzle::B128  ? CU_TENSOR_MAP_SWIZZLE_128B
                                : swizzle == Swizzle::B64 ? CU_TENSOR_MAP_SWIZZLE_64B
                                                          : CU_TENSOR_MAP_SWIZZLE_NONE;
  const CUtensorMapL2promotion l2 = promotion == L2Promotion::B256   ? CU_TENSOR_MAP_L2_PROMOTION_L2_256B
                                    : promotion == L2Promotion::B128 ? CU_TENSOR_MAP_L2_PROMOTION_L2_128B
                                    : promotion == L2Promotion::B64  ? CU_TENSOR_MAP_L2_PROMOTION_L2_64B
                                                                     : CU_TENSOR_MAP_L2_PROMOTION_NONE;
  CUtensorMap map{};
  const CUresult r = encode(&map, type, cuuint32_t(rank), const_cast<void*>(base), d, st, b, element_strides,
                            CU_TENSOR_MAP_INTERLEAVE_NONE, sw, l2, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS)
    throw std::runtime_error("cuTensorMapEncodeTiled failed (CUresult " + std::to_string(int(r)) + ") for a " +
                             std::to_string(rank) + "-D tensor of " + shape + " elements");
  return map;
}

// A 2-D row-major tensor of `rows` x `cols` elements of `elem_bytes` bytes (1, 2 or 4), row r at base + r * pitch
// bytes, read in boxes of box_rows x box_cols elements.
inline CUtensorMap encode_2d(const void* base, int elem_bytes, uint64_t rows, uint64_t cols, uint64_t pitch_bytes,
                             uint32_t box_rows, uint32_t box_cols, Swizzle swizzle,
                             L2Promotion promotion = L2Promotion::B256) {
  const uint64_t dims[2] = {cols, rows};  // innermost first
  const uint64_t strides[1] = {pitch_bytes};
  const uint32_t box[2] = {box_cols, box_rows};
  return encode_tiled(base, elem_bytes, 2, dims, strides, box, swizzle, promotion);
}

}  // namespace sparse24::tma
