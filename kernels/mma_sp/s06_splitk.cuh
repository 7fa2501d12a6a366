// mma_sp step 06, "splitk": s05's tiles and block order, with K cut into `split` slices that different blocks
// compute (grid z), their f32 partials summed by a deterministic reduction when split > 1.
//
// What it adds over s05_raster (the k-loop and the tile are s04's, the block order s05's, called as Tile::tile with
// a K range and an epilogue and as Prev::block_coord; the host side is splitk::SplitKTiled):
// 1. Grid z = split slices of K, each a run of whole BK tiles (splitk::slice_of: sizes differ by at most one tile).
//    Block (x, y, z) computes the tile that s05's block (x, y) computes, over slice z only: `split` times the blocks,
//    each with 1/split of the k-loop.
// 2. split > 1: each warp writes its accumulators, unscaled, to partials[z][M][N] f32 in the plan's workspace
//    (splitk::store_warp_partials), and a second kernel (splitk::launch_reduce) sums the slices in the fixed order
//    z = 0, 1, ... and applies alpha, beta and C: the same bits run to run for a given split. split == 1: s05's
//    epilogue writes D directly; no workspace, no second launch.
// 3. SPLIT = 0 (automatic): prepare() asks splitk::choose_split_compute, a model in rounds of BK tiles: wave
//    quantization of the tiles over the resident block slots, slices of at least 8 BK tiles, and the f32 partial
//    traffic at DRAM bandwidth (kernels/common/splitk.cuh says how, and why it leans to small splits).
//
// Why: the issue's K-dominant shapes (8192x2048x28672). What the model says about that one (512 tiles of 128x256,
// 132 SMs x 1 block: 3.88 waves, the last one 116 of 132 slots): splitting can win back at most the idle slots of
// the last wave, 4 - 3.88 of 4 waves (3%), and pays 8 split M N bytes of partials for it; the automatic choice
// is split 1 there (tests/cpu/test_registry.cpp). It pays where tiles fill the slots badly and K is long, e.g.
// 1024x2048x28672 (64 tiles: split 2 halves the main loop).
//
// Preconditions: s05's (M % 32 == 0, K % BK == 0, any N >= 1); SPLIT in 0..32 (a slice may be empty when SPLIT
// exceeds the BK tiles: its blocks write zero partials).
// Expected bottleneck: s05's main loop in every slice (shared-memory bandwidth and issue of 64x64 warp tiles); with
// split > 1 add the reduction, a DRAM-bound pass over 4 split M N bytes of partials plus D, after the main kernel.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 568.7 TFLOP/s = 59% of the mma.sp m16n8k32 loop (956), 0.79x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_fff01ae-2).
//
// Slices and the reduction (one BM x BN tile of D):
//
//            K:  | slice 0 (BK tiles)  | slice 1             | ...  | slice split-1        |
//   tile (m, n): | block (x, y, 0)     | block (x, y, 1)     | ...  | block (x, y, split-1) |
//                         |                     |                            |
//                         v                     v                            v
//                partials[0][tile]     partials[1][tile]     ...   partials[split-1][tile]   f32, the workspace
//                         \________ summed z = 0, 1, ..., split-1 by one thread per element ________/
//                                          D = alpha * sum + beta * C        (splitk::reduce)
#pragma once

#include "kernels/common/splitk.cuh"
#include "kernels/mma_sp/s05_raster.cuh"

namespace sparse24::mma_sp {

// The block (Prev's tile over a K slice, then partials or Prev's epilogue) is splitk::SplitKTiled's.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int SPLIT>
struct s06_splitk : splitk::SplitKTiled<s06_splitk<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT>,
                                        s05_raster<T, BM, BN, BK, WM, WN, STAGES, GROUP>, SPLIT> {};

}  // namespace sparse24::mma_sp
