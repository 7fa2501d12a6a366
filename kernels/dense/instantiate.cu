// Instantiates the dense family's variants listed in kernels/registry.def and describes them to the registry.
#include <vector>

#include "kernels/dense/s02_smem.cuh"
#include "kernels/registry.h"

namespace sparse24::dense {

std::vector<Variant> variants() {
  std::vector<Variant> out;
#define SPARSE24_DENSE(STEP, DT, BM, BN, BK, WM, WN, S) \
  out.push_back(describe<STEP<DType::DT, BM, BN, BK, WM, WN, S>>(Family::dense, #STEP));
#include "kernels/registry.def"
  return out;
}

}  // namespace sparse24::dense
