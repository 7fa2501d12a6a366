// wgmma_sp step 03, "inflight": s02's TMA ring, with each consumer keeping one wgmma batch in flight across
// k-tiles, its metadata registers double-buffered.
//
// What it adds over s02_tma: a consumer of s02 issues the k-tile's wgmma, then waits for all of them
// (wgmma.wait_group 0) before it releases the stage and reads the next metadata, so its instruction stream stops
// at every k-tile and only the other consumer keeps the tensor cores busy meanwhile. Here it waits with
// wait_group 1: the batch of k-tile kt may still run while the consumer reads k-tile kt+1's metadata and issues
// its wgmma; the stage of kt-1, whose batch is then known complete, is the one released. The metadata register
// that the in-flight batch reads must not be overwritten, so the k-tile's `e` registers alternate with the previous
// one's (e / e_prev, the previous kept alive up to the wait that retires its batch: ptx::keep_register). This is
// the difference the issue points out in CUTLASS's sm90 sparse mainloops, which wait for every wgmma before
// reloading their single metadata register buffer.
//
// Preconditions, layouts, tile: as s02_tma.
// Expected: the consumer's gap between k-tiles (barrier poll, two shared loads, descriptor arithmetic, issue) no
// longer leaves its share of the tensor pipe idle; see results/NOTES.md for the prediction.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 838.0 TFLOP/s = 87% of the mma.sp m16n8k32 loop (959), 1.16x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_fff01ae).
#pragma once

#include "kernels/wgmma_sp/s02_tma.cuh"

namespace sparse24::wgmma_sp {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP>
struct s03_inflight
    : TmaRing<s03_inflight<T, BM, BN, BK, WM, WN, STAGES, GROUP>, T, BM, BN, BK, WM, WN, STAGES, GROUP> {
  using Ring = TmaRing<s03_inflight, T, BM, BN, BK, WM, WN, STAGES, GROUP>;
  static __device__ void run_block(const GemmArgs& args, const typename Ring::LaunchParams& maps) {
    Ring::template block<1>(args, maps);
  }
};

}  // namespace sparse24::wgmma_sp
