// The macros that turn kernels/registry.def lines into Variants, for the per-step translation units the build
// generates (CMakeLists.txt, sparse24_add_family): for each kernels/<family>/sNN_<technique>.cuh the build writes
//
//   #include "kernels/<family>/<step>.cuh"
//   #include "kernels/common/instantiate.h"
//   namespace sparse24::<family> {
//   void variants_<step>(std::vector<Variant>& out) {
//   #undef SPARSE24_ON_<family>_<step>
//   #define SPARSE24_ON_<family>_<step> SPARSE24_DESCRIBE
//   #include "kernels/registry.def"
//   }
//   }
//
// registry.def's SPARSE24_VARIANT(F, STEP, ...) becomes SPARSE24_ON_<F>_<STEP>(F, STEP, ...). The generated
// sparse24_family_macros.h defines that macro to nothing for every step of every family; each unit redefines its
// own step's to SPARSE24_DESCRIBE, so it describes its own lines and no other's. registry.cu calls every
// variants_<step>() through the generated list sparse24_steps.inc.
#pragma once

#include <vector>

#include "kernels/registry.h"
#include "sparse24_family_macros.h"

#define SPARSE24_CAT3_(a, b, c) a##b##_##c
#define SPARSE24_CAT3(a, b, c) SPARSE24_CAT3_(a, b, c)
#define SPARSE24_VARIANT(F, STEP, ...) SPARSE24_CAT3(SPARSE24_ON_, F, STEP)(F, STEP, __VA_ARGS__)
#define SPARSE24_DESCRIBE(F, STEP, ...) out.push_back(describe<STEP<__VA_ARGS__>>(#F, #STEP));
