// ablation of wgmma_sp step 05 (and of s10 for fp8), "constmeta": the same kernel with the metadata taken from a
// constant register instead of the ring, the time difference being the cost of getting the metadata to the
// instruction (issue 17: the metadata overhead measured three ways, bytes, time and instructions).
//
// What it removes from wgmma_sp.s05_persistent: the metadata's TMA box per stage (1 KB at 16 bits, 2 KB at 8 bits
// for BM = 128: 2.4% / 4.8% of a stage's bytes), its DRAM and L2 traffic, and the consumer's shared-memory loads of
// it before each k-tile's batch (one 32-bit load per k-step and thread). It keeps everything else: the same ring
// (its metadata slot left empty and unwaited), the same wgmma.sp instructions with the same selectors, the same
// registers and the same schedule, so the SASS differs only in those loads (scripts/check_sass.py counts them).
//
// It is a correct kernel on one kind of problem: every group of four (tf32: pair) keeps its first two (first)
// elements, i.e. every metadata nibble is 0x4, which is the padding word the readers already substitute for rows
// past M (format::kPaddingMetaWord). The registry marks it uniform_metadata; the harness then builds its problem
// with elements 2 and 3 of every group zeroed before pruning (the pruning's ties go to the lower index, so the
// metadata is all 0x4 and the compressed values are elements 0 and 1), and checks it against that problem's
// reference like any variant. It is an ablation, not a ladder step: the dispatcher never picks it.
#pragma once

#include "kernels/wgmma_sp/s05_persistent.cuh"
#include "kernels/wgmma_sp/s10_promote.cuh"

namespace sparse24::ablations {

// The reader `Real` without its loads: the same geometry, registers and instruction, every word the uniform one.
template <class Real>
struct ConstantMetadata : Real {
  static constexpr int kBytes = 0;  // nothing of it in the ring
  static void encode(CUtensorMap&, const GemmArgs&) {}
  static __device__ __forceinline__ void prefetch(const CUtensorMap*) {}
  static __device__ __forceinline__ void load(uint32_t, const CUtensorMap*, uint32_t, int, int) {}
  static __device__ __forceinline__ void read(uint32_t (&e)[Real::kRegs], const uint32_t*, const wgmma::MetaLane&,
                                              bool) {
#pragma unroll
    for (int r = 0; r < Real::kRegs; ++r) e[r] = format::kPaddingMetaWord;
  }
};

// s05 (or, for fp8, s10) with the metadata reader replaced; the scheduler and epilogue are the step's own.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER>
using Ladder = std::conditional_t<wgmma_sp::SparseTile<T, BM, BN, BK, WM, WN>::Operands::kPromote,
                                  wgmma_sp::s10_promote<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>,
                                  wgmma_sp::s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>>;
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER>
using LadderMainloop = typename Ladder<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>::Mainloop;

template <class Mainloop>
struct WithConstantMetadata;
template <template <class> class M, class Ring>
struct WithConstantMetadata<M<Ring>> {
  using type = M<typename Ring::template WithMeta<ConstantMetadata<typename Ring::Meta>>>;
};

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER>
struct s05_constmeta
    : wgmma::Kernel<
          s05_constmeta<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>,
          typename WithConstantMetadata<LadderMainloop<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>>::type,
          typename Ladder<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>::Scheduler,
          typename Ladder<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>::Epilogue> {
  static constexpr bool kUniformMetadata = true;  // correct only on problems whose every nibble is 0x4
};

}  // namespace sparse24::ablations
