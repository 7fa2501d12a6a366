// skinny step 02, "onelaunch": s01_splitk with the split-K reduction done inside the same launch.
//
// What it adds over s01_splitk: s01 ends every split run with a second kernel that sums the f32 partials
// (splitk::reduce). Here the blocks of a row block hand off instead: each writes its partial tile, then arrives at
// the row block's counter in the workspace; the block that arrives last (whichever slice it computed) sums the
// row block's `split` partials in the fixed order z = 0..split-1 and writes D (kernels/common/splitk.cuh:
// arrive_last, reduce_rows). One launch per GEMM: no kernel boundary (the first kernel's drain, the second's launch
// and ramp) between the stream and its reduction, and each row block's reduction starts as soon as its own
// slices are done, overlapping the other row blocks' streaming instead of waiting for the slowest one.
// Why: a fixed cost weighs most on short kernels, and s01 stayed furthest from the copy rate on the small decode
// weights (14336x4096 and 4096x14336: 66 MB of values and metadata; results/NOTES.md, the decode sweep of issue 8).
//
// Same results, bit for bit: the main loop and the partial stores are s01's own code (s01_splitk::mainloop,
// store_partials), the split choice is s01's model with the fixed cost of this hand-off instead of a launch
// (splitk::kArrivalBytes), and the reduction sums the same partials in the same order through the same element
// epilogue (splitk::store_sum) as s01's reduction kernel. So s02 with the split of an s01 variant gives s01's bits
// (tests/gpu/test_skinny_gpu.cu checks it), and two runs give the same bits.
//
// Self-cleaning counters: one u32 per row block after the partials (splitk.h, counted_workspace_bytes). The last
// arrival's atomicInc(counter, split - 1) wraps the counter back to 0, so every complete run leaves them all at 0
// and run() needs no memset; prepare() (kernels/registry.cu) zeroes a new plan's workspace once, after
// allocating it. A plan's runs must not overlap (same partials, same counters), as for s01's partials.
//
//   row block x, split 3:   block (x, 0) --partials--> fence - atomicInc: 0 -> 1  exit
//                           block (x, 2) --partials--> fence - atomicInc: 1 -> 2  exit
//                           block (x, 1) --partials--> fence - atomicInc: 2 -> 0  last: fence, sum z = 0, 1, 2 -> D
//   (arrival order is whatever the hardware does; the sum order is not)
//
// Preconditions: s01's (M % 32 == 0, K % KC == 0, 1 <= N <= BN; metadata in format::MetaLayout::LaneBlocks16).
// Expected effect: a few microseconds less per split GEMM (the second launch and the gap before it, minus one
// fence and one atomic on the last row block's path): visible on the small weights at N <= 32, within the noise on
// the large ones; the same at N >= 64 (register-bound, as s01) and wherever the chosen split is 1 (no reduction).
// Measured: NVIDIA H100 80GB HBM3, 28672x16x8192 fp16, best tile 128x16x128: 68.2 TFLOP/s = 7% of the mma.sp m16n8k32 loop (945), 1.48x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_fff01ae-4).
// tf32 (session 15; NVIDIA H200, run nvidia-h200/session15_2026-12-03_cca5da7): 2-5% slower than s01 at N = 16;
// at N = 1, BN 8: 132.3 us at 8192x1x28672 (97.8% of the copy rate, 1.70x cuBLAS tf32).
// ptxas sm_90a, tf32 (bk 64, bk 32 at bn 64): 113 (bn 8), 133 (16), 163 (32), 174 (64); no spills.
// PERF: ptxas sm_90a registers: 118 (bn 8), 141 (16), 177 (32), 188 (64), 228 (128); no spills. By registers that
// is 4, 3, 2, 2 and 2 blocks of 128 threads per SM, as for s01 (123, 144, 174, 179, 228). The reduction keeps 16
// floats of loads in flight per thread (splitk::reduce_rows says what more cost); letting the compiler unroll its
// slice loop took bn 64 to 192.
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/common/epilogue.cuh"
#include "kernels/common/launch.cuh"
#include "kernels/common/splitk.cuh"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"
#include "kernels/skinny/s01_splitk.cuh"

namespace sparse24::skinny {

// Template arguments as s01_splitk's: T fp16, bf16, e4m3, e5m2 or tf32 (f32 partials, f32 D; int8's int32 partials
// have no in-launch reduction: splitk::reduce_rows sums f32), BN the N tile, KC dense k per chunk, SPLIT the split
// factor (0 = chosen in prepare() by splitk::choose_split with the fixed cost kArrivalBytes).
template <DType T, int BN, int KC, int SPLIT>
struct s02_onelaunch : s01_splitk<T, BN, KC, SPLIT> {
  using Base = s01_splitk<T, BN, KC, SPLIT>;
  using typename Base::Where;
  using Base::kBM;
  using Base::kMT;
  using Base::kNTiles;
  using Base::kThreads;
  using typename Base::Acc;
  static constexpr DType kD = Base::kD;
  static_assert(T != DType::int8, "int8: s01_splitk (its int32 partials are summed by splitk::reduce)");

  static const void* entry() { return reinterpret_cast<const void*>(&gemm_entry<s02_onelaunch>); }

  static void prepare(Plan& p) {
    const int split = Base::configure(p, entry(), splitk::kArrivalBytes);
    p.workspace_bytes =
        splitk::counted_workspace_bytes(split, p.args.M, p.args.N, static_cast<int>(p.grid.x));
  }

  static void run(const Plan& p, cudaStream_t stream) {
    gemm_entry<s02_onelaunch><<<p.grid, p.block, p.smem_bytes, stream>>>(p.args);
  }

  static __device__ void run_block(const GemmArgs& args) {
    Base::mainloop(args, [&](const Acc (&acc)[kMT][kNTiles][4], const Where& w) {
      if (w.split == 1) {  // the whole K in this block: D directly, no workspace (as s01)
        if (w.active) store_warp_tile<kD>(acc, w.m0, 0, args);
        return;
      }
      if (w.active) Base::store_partials(args, acc, w);
      // Every thread arrives, with rows or without (arrive_last has barriers).
      unsigned* counters = reinterpret_cast<unsigned*>(static_cast<char*>(args.workspace) +
                                                       splitk::counters_offset(w.split, w.M, w.N));
      if (!splitk::arrive_last(counters + blockIdx.x, w.split)) return;
      const int row0 = static_cast<int>(blockIdx.x) * kBM;
      splitk::reduce_rows<kD, kThreads>(args, w.split, row0, min(kBM, w.M - row0));
    });
  }
};

}  // namespace sparse24::skinny
