// wgmma_sp step 08, "splitk": s06's non-persistent clusters (s04's grid, D through TMA stores) with K cut into
// slices computed by different clusters, their f32 partials summed by a deterministic reduction.
//
// What it adds over s06_tmastore: a unit of work is a (cluster tile, K slice) pair, unit = slice x tiles + tile, so
// the clusters that run at the same time read the same slice of B. Each slice is a run of whole BK tiles
// (splitk::slice_of: sizes differ by at most one); the producer loads only the slice's k-tiles and the consumers
// run the same ring over them. With one slice the epilogue is s06's (D directly); with more, each consumer warp
// writes its accumulators unscaled to partials[slice] (f32, the plan's workspace) and splitk::reduce, a second
// launch, sums the slices in the fixed order 0, 1, ... and applies alpha, beta and C: the same bits run to run for
// a given split (the mma_sp and skinny split-K steps share that code, kernels/common/splitk.cuh). SPLIT = 0 lets
// prepare() choose with splitk::choose_split_compute (wave quantization against the partials' DRAM traffic, at the
// wgmma rate, one CTA per SM).
//
// Why: a GEMM whose tiles do not fill the GPU, above all the decode shape 4096 x 128 x 14336 (32 row blocks of 128
// for 132 SMs: a quarter of the tensor cores idle, 0.81x cuBLAS with the best earlier step, results/NOTES.md). With
// split 4 it becomes 128 CTAs of 56 k-tiles each, at the cost of 8 MB of partials and a second launch.
// Where it does not help: shapes of several full waves (8192^3 has 2048 tiles): the choice is 1 there.
//
// Preconditions: s06's (M % 32 == 0, K % 64 == 0, any N >= 1, 16-byte aligned operands and rows); SPLIT in 0..32
// (a slice is empty when SPLIT exceeds the k-tiles: its CTAs load nothing and write zero partials).
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 939.2 TFLOP/s = 99% of the mma.sp m16n8k32 loop (950), 1.36x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_3157a7e).
#pragma once

#include "kernels/wgmma_sp/s02_tma.cuh"

namespace sparse24::wgmma_sp {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER, int SPLIT>
struct s08_splitk
    : TmaRing<s08_splitk<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, SPLIT>, T, BM, BN, BK, WM, WN, STAGES, GROUP,
              CLUSTER, false, true, true, format::MetaLayout::LaneBlocks16, SPLIT> {
  using Ring = TmaRing<s08_splitk, T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, false, true, true,
                       format::MetaLayout::LaneBlocks16, SPLIT>;
  static __device__ void run_block(const GemmArgs& args, const typename Ring::LaunchParams& maps) {
    Ring::template block<1>(args, maps);
  }
};

}  // namespace sparse24::wgmma_sp
