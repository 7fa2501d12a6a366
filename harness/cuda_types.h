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
    case DType::int8: return CUDA_R_8I;
    case DType::e4m3: return CUDA_R_8F_E4M3;
    case DType::e5m2: return CUDA_R_8F_E5M2;
    // tf32 has no storage type of its own in the libraries: it is f32 storage with a tf32 compute type
    // (CUBLAS_COMPUTE_32F_FAST_TF32, CUSPARSE_COMPUTE_32F with CUDA_R_32F operands), chosen by the caller.
    case DType::tf32: return CUDA_R_32F;
    case DType::int32: return CUDA_R_32I;
  }
  throw UnsupportedType("no CUDA data type for dtype value " + std::to_string(static_cast<int>(t)));
}

}  // namespace sparse24::harness
