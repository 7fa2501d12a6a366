// ablation of skinny step 01 (s01_splitk at 128x16, the decode family's variant that kernels/dispatch_table.inc
// picks on the H200 at N = 16 for fp16, bf16, int8 and e4m3), "skinnyconstmeta": the same kernel with every
// mma.sp's metadata taken from a constant register instead of the metadata stream, the time difference being the
// cost of getting the metadata to the instruction (issue 17: the metadata overhead measured three ways, bytes, time
// and instructions). The twins of the other families: s05_constmeta.cuh (wgmma_sp), s05_mmaconstmeta.cuh (mma_sp).
//
// What it removes from skinny.s01_splitk, per k chunk (KC dense k) and lane:
//   - the metadata loads: one 4-byte __ldg (LDG.E) per k-step and metadata word (16-bit: one word per k-step for
//     both m16 tiles; 8-bit: one per k-step and tile): KC / 32 = 4 at 16 bits and KC = 128, 2 x KC / 64 = 8 for
//     int8 at KC = 256; with them the metadata's DRAM traffic (M x K / 8 bytes at every width: 11.1% of values +
//     metadata at 16 bits, 20% at 8 bits), the registers that hold the next chunk's words, and their addresses;
//   - the re-split for the k permutation (the header of s01_splitk.cuh, and Meta8): per group of two k-steps, the
//     two __shfl_xor_sync that fetch the partner lane's words (16-bit: per warp; 8-bit: per m16 tile) and the
//     shifts, masks and byte permutes (LOP3, SHF, PRMT) that build each logical `e`;
//   per k chunk (one iteration of the main loop), from the SASS (scripts/meta_sass.py --against
//   'ablations::s01_skinnyconstmeta=skinny::s01_splitk', sm_90a, nvcc 13.0, results/sass-meta/):
//     fp16/bf16 128x16x128 (16 mma.sp): 67 of s01's 217 loop instructions, 4.2 per mma.sp: 4 LDG (of 14; the
//       other 10 are the values' 8 and B's 2), 6 SHFL (4 on a converged warp's path, 2 on the path BRA.DIV takes
//       for a divergent one), 50-51 integer ops, 6-7 others (that branch, warp syncs, moves);
//     int8 128x16x256 (16 mma.sp): 116 of 257, 7.25 per mma.sp: 8 LDG (of 18), 12 SHFL (8 + 4), 85 integer ops,
//       11 others;
//   and registers (ptxas): 137 -> 130 (16-bit), 158 -> 130 (int8): 3 blocks of 128 threads per SM either way
//   (65536 registers), so the twin has its step's occupancy as well as its grid (prepare below).
// No e4m3 twin: at 128x16x128 it spills (255 registers and 104 bytes of spills against s01's 232: ptxas's
// emulated fp8 mma.sp, docs/sparse-tensor-cores.md §9, scheduled around a constant word), and a twin that spills
// times its spills, not the metadata.
// It keeps everything else: the same 16-byte loads of the values, the same B staging and ldmatrix, the same mma.sp
// with the same selectors (tile 0 F = 0, tile 1 F = 1 at 16 bits), the same split choice, grid, shared memory and
// reduction. It is s01_splitk::run_block with another metadata source (the hook LoadedLaneMetadata in
// s01_splitk.cuh), so the skinny kernels themselves are unchanged (their SASS is identical to the build before the
// hook: scripts/compare_sass.py).
//
// It is a correct kernel on one kind of problem: every group of four keeps its first two elements, so every
// metadata nibble is 0x4 and every word format::kPaddingMetaWord; after the k permutation each logical `e` is made
// of the same nibbles, so it is that word too (16-bit and 8-bit alike). The registry marks it uniform_metadata; the
// harness builds its problem with elements 2 and 3 of every group zeroed before pruning and checks it against that
// problem's reference like any variant (s05_constmeta.cuh says how). It is an ablation, not a ladder step: the
// dispatcher never picks it.
//
// Architectures: the ablations family is built for sm_90a only (family.cmake), so the registry says sm_90a; the
// code is s01's and would run where s01 runs (sm_80+, fp8 sm_89+).
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/common/launch.cuh"
#include "kernels/common/splitk.cuh"
#include "kernels/format/format.h"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"
#include "kernels/skinny/s01_splitk.cuh"

namespace sparse24::ablations {

// The metadata source of s01_splitk::mainloop without its loads and re-split: every `e` the uniform word.
struct ConstantSkinnyMetadata {
  static constexpr bool kLoaded = false;  // no metadata loads, no shuffles, no bit moves
  static constexpr uint32_t kWord = format::kPaddingMetaWord;
};

// s01_splitk's description, split choice, launch and epilogue, with the main loop's metadata source replaced.
template <DType T, int BN, int KC, int SPLIT>
struct s01_skinnyconstmeta : skinny::s01_splitk<T, BN, KC, SPLIT> {
  using Real = skinny::s01_splitk<T, BN, KC, SPLIT>;
  static constexpr ArchRule kArch = {90, 90, true};  // where the ablations family has code (see above)
  static constexpr bool kUniformMetadata = true;     // correct only on problems whose every nibble is 0x4
  static_assert(Real::kArch.min_sm <= kArch.min_sm, "the twin runs only where its step runs");
  static_assert(!ConstantSkinnyMetadata::kLoaded && skinny::LoadedLaneMetadata::kLoaded,
                "the twin differs from its step in the metadata source alone");

  // The step's prepare and run, for this kernel's entry (the step's own name its own gemm_entry).
  static const void* entry() { return reinterpret_cast<const void*>(&gemm_entry<s01_skinnyconstmeta>); }

  // The grid is the step's, split included: with SPLIT = 0 the split model reads the occupancy of the kernel it is
  // given, and the twin, holding no metadata words, may use fewer registers and fit more blocks per SM, which would
  // give it another split and make the time difference a difference of grids. So the split is chosen for the step's
  // kernel; what is left of the register saving (more resident blocks at the same grid) is part of what the
  // metadata costs.
  static void prepare(Plan& p) {
    Real::configure(p, entry(), splitk::kLaunchBytes);  // this kernel's image check, attributes and grid x
    const int split = Real::split_for(p.args, Real::entry(), splitk::kLaunchBytes);
    p.grid.y = static_cast<unsigned>(split);
    p.workspace_bytes = splitk::workspace_bytes(split, p.args.M, p.args.N);
  }

  static void run(const Plan& p, cudaStream_t stream) {
    gemm_entry<s01_skinnyconstmeta><<<p.grid, p.block, p.smem_bytes, stream>>>(p.args);
    if (p.grid.y > 1) splitk::launch_reduce<Real::kD>(p.args, static_cast<int>(p.grid.y), stream);
  }

  static __device__ void run_block(const GemmArgs& args) {
    Real::template run_block<ConstantSkinnyMetadata>(args);
  }
};

}  // namespace sparse24::ablations
