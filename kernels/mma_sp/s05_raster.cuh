// mma_sp step 05, "raster": s04's block tile, walked in grouped (L2-friendly) block order, with the block count per SM
// promised to the compiler, and larger block tiles (8 warps: 256x128, 128x256).
//
// What it adds over s04_swizzle (the k-loop and the epilogue are s04's, called as s04_swizzle<...>::tile):
// 1. Block rasterization (kernels/common/raster.h): the grid keeps its size (N/BN x M/BM), but linear block id i
//    computes tile grouped_block<GROUP>(i): GROUP row blocks down a column, then the next column. At 8192^3 with
//    128x128 tiles the 264 resident blocks cover 16 x 16 tiles instead of 4 x 64: per wave, about 48 MB of A and B
//    come from DRAM instead of about 130 MB (the s02 profile read 11.8x the compulsory bytes from DRAM).
// 2. __launch_bounds__(threads, kMinBlocksPerSm) with kMinBlocksPerSm derived from shared memory: 2 where two
//    blocks of 4 warps fit in 228 KB, else 1. (With 64x64 warp tiles it cannot be more: 2 x 4 warps already need
//    <= 255 registers per thread; 8-warp blocks get 1, which leaves ptxas the whole 255.)
// 3. Tilings of 8 warps (256x128 as 4x2 warps, 128x256 as 2x4), each warp still 64 x 64: one block per SM with 8
//    warps shares each A and B tile among twice the warps of 128x128, halving global traffic per flop.
//
// Preconditions: s04's. GROUP >= 1 (GROUP = 1 is s04's order: column block fastest).
// 8-bit operands (int8, e4m3): s04's 8-bit tile (s04_swizzle.cuh, "8-bit operands": the 16-bit tiles in bytes, BK =
// 128 values, LaneBlocks8 metadata, M % 16 == 0), in this block order; the registry's 8-bit rows are the 16-bit rows'
// tiles in bytes; tf32 (s04's "tf32 operands": BK = 32 values, LaneBlocks16 pair-nibbles) too. Prediction for them:
// results/NOTES.md, session 12.
// Expected bottleneck: s04's (shared-memory bandwidth and issue in the k-loop); rasterization only helps where DRAM
// or L2 bandwidth was a co-limit (large square shapes), and shows mostly as higher SM clocks under the power cap.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 256x128x64: 568.1 TFLOP/s = 59% of the mma.sp m16n8k32 loop (956), 0.79x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_fff01ae-2).
// PERF: H100, bf16, same run: 128x128x64 s4 465.2 (s04) -> 567.6 TFLOP/s at 8192^3 (+22%); 128x256x64 s3 566.0 ->
// 589.6 (+4%); at 28672x2048x8192 +3% for both (16 column blocks: the default order was already nearly square).
// The 128x128 tile gains most because it re-read the most: s04 at 128x128 read 27x its compulsory bytes from DRAM.
#pragma once

#include "kernels/common/launch.cuh"
#include "kernels/common/raster.h"
#include "kernels/mma_sp/s04_swizzle.cuh"

namespace sparse24::mma_sp {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP>
struct s05_raster : WarpTiled<s05_raster<T, BM, BN, BK, WM, WN, STAGES, GROUP>, T, BM, BN, BK, WM, WN, STAGES> {
  using Base = WarpTiled<s05_raster, T, BM, BN, BK, WM, WN, STAGES>;
  using Base::kThreads;
  using Tile = s04_swizzle<T, BM, BN, BK, WM, WN, STAGES>;  // the k-loop and epilogue of one block tile
  static constexpr ArchRule kArch = Tile::kArch;
  static constexpr bool kSparse = Tile::kSparse;
  static constexpr format::MetaLayout kMetaLayout = Tile::kMetaLayout;
  static constexpr ShapeRule kRule = Tile::kRule;
  static constexpr int kSmemBytes = Tile::kSmemBytes;
  // Hides BlockTiled's 1: two blocks where shared memory (228 KB per SM, 1 KB reserved per block) and threads
  // allow them; read by gemm_entry's __launch_bounds__.
  static constexpr int kMinBlocksPerSm = (kThreads <= 128 && 2 * (kSmemBytes + 1024) <= 228 * 1024) ? 2 : 1;

  static_assert(GROUP >= 1 && GROUP <= 64, "GROUP row blocks per rasterization group: 1..64");
  static_assert(grouped_order_is_bijective<GROUP>(7, 5) && grouped_order_is_bijective<GROUP>(GROUP + 3, 4) &&
                    grouped_order_is_bijective<GROUP>(1, 9),
                "grouped order must visit every tile exactly once");

  static Params params() {
    Params p = Base::params();
    p.push_back({"group", GROUP});
    return p;
  }

  // The tile of D this block computes: its linear id in the x-y grid (x fastest), in grouped order. s06_splitk
  // walks every K slice (grid z) in this same order.
  static __device__ BlockCoord block_coord() {
    const int id = blockIdx.y * gridDim.x + blockIdx.x;
    return grouped_block<GROUP>(id, gridDim.y, gridDim.x);
  }

  static __device__ void run_block(const GemmArgs& args) {
    const BlockCoord c = block_coord();
    Tile::tile(args, c.m * BM, c.n * BN);
  }
};

}  // namespace sparse24::mma_sp
