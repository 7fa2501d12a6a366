// Instantiates the mma_sp family's variants listed in kernels/registry.def and describes them to the registry.
#include <vector>

#include "kernels/mma_sp/s01_global.cuh"
#include "kernels/mma_sp/s02_smem.cuh"
#include "kernels/registry.h"

namespace sparse24::mma_sp {

std::vector<Variant> variants() {
  std::vector<Variant> out;
#define SPARSE24_MMA_SP(STEP, DT, BM, BN, BK, WM, WN, S) \
  out.push_back(describe<STEP<DType::DT, BM, BN, BK, WM, WN, S>>(Family::mma_sp, #STEP));
#include "kernels/registry.def"
  return out;
}

}  // namespace sparse24::mma_sp
