// The registry: one list of every kernel variant, read by the benchmark, the tests, --list, the scripts.
//
// The list itself is kernels/registry.def (an X-macro); this header gives each entry's description and the
// functions that launch a variant after checking that it can run the shape.
#pragma once

#include <cuda_runtime_api.h>

#include <string>
#include <vector>

#include "kernels/common/dtype.h"
#include "kernels/format/format.h"
#include "kernels/gemm_args.h"

namespace sparse24 {

enum class Family : int { mma_sp, dense };
const char* name(Family f);

// What a variant demands of a problem. Anything else is refused with a ShapeError naming the rule.
struct ShapeRule {
  int m_multiple;   // M % m_multiple == 0
  int k_multiple;   // K % k_multiple == 0
  int n_min;        // N >= n_min (any N above it: the kernels guard the N edge)
};

using LaunchFn = void (*)(const GemmArgs&, cudaStream_t);

struct Variant {
  std::string name;          // <family>.<step>_<technique>.<dtype>.<BM>x<BN>x<BK>.w<WM>x<WN>.s<stages>
  Family family;
  int step;                  // position on the family's ladder (s01 = 1)
  std::string technique;     // what the step adds, one word
  DType dtype;
  int bm, bn, bk;            // block tile
  int wm, wn;                // warps along M and N
  int stages;                // shared-memory pipeline stages
  int threads;               // wm * wn * 32
  int min_sm;                // lowest compute capability (major*10+minor) that runs it
  bool sparse;               // reads compressed A + metadata
  format::MetaLayout meta_layout;  // layout of a_meta (Canonical for dense variants: unused)
  ShapeRule rule;
  LaunchFn launch_unchecked;
};

const std::vector<Variant>& registry();

// Empty when the variant can run M x N x K, else the rule broken, e.g. "K = 96 is not a multiple of the tile K 64".
std::string shape_error(const Variant& v, int M, int N, int K);
// Empty when the device (compute capability major*10+minor) can run the variant, else why not.
std::string arch_error(const Variant& v, int sm);

// Checks the shape and the pointers' alignment (throws ShapeError), then launches on `stream`. Launch errors are
// left for the caller to read (cudaGetLastError), as after any kernel launch.
void launch(const Variant& v, const GemmArgs& args, cudaStream_t stream);

// Looks a variant up by its exact name (nullptr if none).
const Variant* find_variant(const std::string& name);

// ---- For the families' instantiate.cu files -------------------------------------------------------------------
// Builds the registry entry of a step struct K (kernels/<family>/<step>.cuh), from its static description.
// `step_technique` is the struct's name, e.g. "s02_smem": step 2, technique "smem".
std::string variant_name(const Variant& v, const std::string& step_technique);
int parse_step(const std::string& step_technique);

template <class K>
Variant describe(Family family, const std::string& step_technique) {
  Variant v;
  v.family = family;
  v.step = parse_step(step_technique);
  v.technique = step_technique.substr(step_technique.find('_') + 1);
  v.dtype = K::kDType;
  v.bm = K::kBM, v.bn = K::kBN, v.bk = K::kBK;
  v.wm = K::kWM, v.wn = K::kWN;
  v.stages = K::kStages;
  v.threads = K::kThreads;
  v.min_sm = K::kMinSm;
  v.sparse = K::kSparse;
  v.meta_layout = K::kMetaLayout;
  v.rule = K::kRule;
  v.launch_unchecked = &K::launch;
  v.name = variant_name(v, step_technique);
  return v;
}

}  // namespace sparse24
