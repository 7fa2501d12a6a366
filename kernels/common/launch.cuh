// The one __global__ function of every GEMM variant, and the prepare/run hooks of block-tiled kernels.
//
// Keeping the kernel body in a static member (Kernel::run_block) lets each step be one struct that carries its
// parameters, its derived sizes and its code together; the entry's mangled name contains the struct's full name
// (family namespace, step, template arguments), which is what ncu's -k filter matches on and where
// scripts/check_sass.py finds each kernel's family (to demand its tensor-core instructions in the SASS).
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "kernels/common/cuda_check.h"
#include "kernels/common/operands.h"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"

namespace sparse24 {

template <class Kernel>
__global__ void __launch_bounds__(Kernel::kThreads, Kernel::kMinBlocksPerSm) gemm_entry(GemmArgs args) {
  Kernel::run_block(args);
}

// The entry of kernels that take parameters beyond GemmArgs, built once by prepare() (Kernel::LaunchParams, e.g.
// TMA tensor maps). __grid_constant__: the kernel reads them in place in the parameter space, and the TMA unit
// may take their generic address (a tensor map must not be copied to local memory).
template <class Kernel>
__global__ void __launch_bounds__(Kernel::kThreads, Kernel::kMinBlocksPerSm)
    gemm_entry_params(GemmArgs args, const __grid_constant__ typename Kernel::LaunchParams params) {
  Kernel::run_block(args, params);
}

// Throws ArchError when the build holds no code for the current GPU for `fn` (for example an sm_90a-only family
// on a GPU of another architecture, or a build without that architecture): cudaFuncGetAttributes is the runtime's
// own answer to "can this kernel be launched here".
inline void require_kernel_image(const void* fn, const std::string& variant) {
  cudaFuncAttributes attr{};
  const cudaError_t e = cudaFuncGetAttributes(&attr, fn);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky-free error so the next launch does not report it
    throw ArchError(variant + ": this build has no code for the current GPU (" + cudaGetErrorString(e) + ")");
  }
}

// Hooks for kernels that launch one block per BM x BN tile of D, with the tile's row block on grid y and its
// column block on grid x. Derived supplies kBM, kBN, kThreads, kSmemBytes (dynamic shared memory, 0 for kernels
// with static shared memory only) and run_block(). Derived may hide refuse() to add rules (call this one too).
template <class Derived>
struct BlockTiled {
  // Minimum resident blocks per SM for __launch_bounds__; 0 = none asked. NOTE: asking for 1 is not the same as
  // asking for none: with 1, ptxas (nvcc 13.0, sm_90a) gave mma_sp.s02_smem 64x64 119 registers instead of 92 (4
  // blocks per SM instead of 5) and the s02 kernels ran 3-14% slower than before the interface change, same
  // session (results/NOTES.md, "the open interface"). A step that wants a minimum declares its own.
  static constexpr int kMinBlocksPerSm = 0;
  static constexpr bool kHasScales = false;
  // An ablation that is correct only when every metadata nibble is 0x4 (kernels/ablations/): the harness builds
  // such a problem for it (registry.h, Variant::uniform_metadata).
  static constexpr bool kUniformMetadata = false;

  // CUDA limits grid y to 65535 row blocks.
  static std::string refuse(const GemmArgs& a) {
    const long long row_blocks = (static_cast<long long>(a.M) + Derived::kBM - 1) / Derived::kBM;
    if (row_blocks > 65535)
      return "M = " + std::to_string(a.M) + " needs " + std::to_string(row_blocks) + " row blocks of " +
             std::to_string(Derived::kBM) + ", above CUDA's grid-y limit 65535";
    return "";
  }

  static void prepare(Plan& p) {
    const void* fn = reinterpret_cast<const void*>(&gemm_entry<Derived>);
    require_kernel_image(fn, p.variant().name);
    p.grid = dim3((p.args.N + Derived::kBN - 1) / Derived::kBN, (p.args.M + Derived::kBM - 1) / Derived::kBM);
    p.block = dim3(Derived::kThreads);
    p.smem_bytes = Derived::kSmemBytes;
    // Above 48 KB a block gets dynamic shared memory only after the kernel's limit is raised (once per problem,
    // here, outside any timing).
    if (Derived::kSmemBytes > 48 * 1024)
      SPARSE24_CUDA_CHECK(
          cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, Derived::kSmemBytes));
  }

  static void run(const Plan& p, cudaStream_t stream) {
    gemm_entry<Derived><<<p.grid, p.block, p.smem_bytes, stream>>>(p.args);
  }
};

}  // namespace sparse24

namespace sparse24 {

// The description shared by the warp-tiled ladder steps (mma_sp, dense): one type for A, B and D with f32
// accumulators, a BM x BN x BK block tile of WM x WN warps and STAGES shared-memory stages.
template <class Derived, DType T, int BM, int BN, int BK, int WM, int WN, int STAGES>
struct WarpTiled : BlockTiled<Derived> {
  static constexpr Operands kTypes = default_operands(T);  // 16-bit: {T, T, T, f32}; int8: int32 D and accumulator
  static constexpr int kBM = BM, kBN = BN, kBK = BK, kWM = WM, kWN = WN, kStages = STAGES;
  static constexpr int kThreads = WM * WN * 32;
  static Params params() {
    return {{"bm", BM}, {"bn", BN}, {"bk", BK}, {"wm", WM}, {"wn", WN}, {"stages", STAGES}};
  }
};

}  // namespace sparse24
