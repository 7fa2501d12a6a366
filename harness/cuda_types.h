// DType -> the CUDA libraries' data type (cuBLAS, cuBLASLt, cuSPARSELt all take cudaDataType_t).
#pragma once

#include <library_types.h>

#include "kernels/common/dtype.h"

namespace sparse24::harness {

inline cudaDataType_t cuda_data_type(DType t) {
  switch (t) {
    case DType::fp16: return CUDA_R_16F;
    case DType::bf16: return CUDA_R_16BF;
    case DType::f32: return CUDA_R_32F;
  }
  throw UnsupportedType("no CUDA data type for dtype value " + std::to_string(static_cast<int>(t)));
}

}  // namespace sparse24::harness
