// mma_sp step 01, "global": the simplest correct 2:4 sparse GEMM on the warp-level mma.sp instruction.
//
// What it adds: everything (first step). Each warp owns one 16x8 tile of D and walks K in steps of 32, loading its
// operand fragments straight from global memory into registers in exactly the per-lane order that
// mma.sp.m16n8k32 wants (no shared memory, no reuse between warps), then issues one mma.sp per step.
// It exists to be obviously right: every later step must agree with it.
//
// Preconditions (checked by prepare()): M % 32 == 0 (one metadata lane block serves 32 rows),
// K % 32 == 0 (the instruction's K), any N >= 1 (B columns past N read as zero, D columns past N not written).
// Metadata in format::MetaLayout::LaneBlocks16.
//
// Expected bottleneck: memory latency and bandwidth. Every 32-bit fragment register is its own global load, each
// B element is read by every warp that needs it (no reuse), and one warp has one mma in flight.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 32x16x32: 29.1 TFLOP/s = 3% of the mma.sp m16n8k32 loop (951), 0.04x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_a89f4fa).
//
// Block = 2 x 2 warps over a 32 x 16 tile of D:
//
//            n0 .. n0+7     n0+8 .. n0+15
//   rows  0-15  [ warp 0 ]  [ warp 1 ]      warps 0, 1 use sparsity selector F = 0 (rows 0..15 of the row group)
//   rows 16-31  [ warp 2 ]  [ warp 3 ]      warps 2, 3 use F = 1 (rows 16..31): both read the same lane block
//
// Per k-step of 32, lane (g, q) of a warp loads (docs/sparse-tensor-cores.md section 3, fragments.h):
//   A values:  a0 = Av[g][2q..], a1 = Av[g+8][2q..], a2 = Av[g][8+2q..], a3 = Av[g+8][8+2q..]  (compressed cols)
//   B:         b_i = X[n0+g][8i+2q .. 8i+2q+1], i = 0..3                                      (dense k)
//   metadata:  word `lane` of the lane block (row group, k-step): the e register itself.
#pragma once

#include <cstdint>

#include "kernels/common/elem.cuh"
#include "kernels/common/instr.h"
#include "kernels/common/launch.cuh"
#include "kernels/common/epilogue.cuh"
#include "kernels/common/ptx.cuh"
#include "kernels/format/format.h"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"

namespace sparse24::mma_sp {

// Registry entry. The parameters are fixed by the kernel's design (32x16x32, 2x2 warps, no pipeline); they are
// spelled out so that every variant is described by the same fields.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES>
struct s01_global : WarpTiled<s01_global<T, BM, BN, BK, WM, WN, STAGES>, T, BM, BN, BK, WM, WN, STAGES> {
  using Base = WarpTiled<s01_global, T, BM, BN, BK, WM, WN, STAGES>;
  using Base::kThreads;  // a dependent base's names need naming
  static_assert(BM == 32 && BN == 16 && BK == 32 && WM == 2 && WN == 2 && STAGES == 1,
                "s01_global has one shape: 32x16x32, 2x2 warps of 16x8, no pipeline");
  using Instr = instr::MmaSpM16N8K32<T>;
  static constexpr ArchRule kArch = {Instr::form().min_sm};
  static constexpr bool kSparse = true;
  static constexpr format::MetaLayout kMetaLayout = format::MetaLayout::LaneBlocks16;
  static constexpr int kSmemBytes = 0;
  static constexpr int kRowGroup = format::kLaneBlockRows;              // rows served by one metadata lane block
  static constexpr int kInstrK = Instr::kK;                              // dense K of one mma.sp m16n8k32
  static constexpr int kMetaBlockWords = format::kLaneBlockBytes / 4;    // one 32-bit word per lane
  static_assert(kInstrK == format::kLaneBlockCols, "one lane block per k-step of the instruction");
  static constexpr ShapeRule kRule = {kRowGroup, 1, BK, 1, 0, "one metadata lane block serves 32 rows",
                                      "the instruction K"};

  static __device__ void run_block(const GemmArgs& args) {
    using E = Elem<T>;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int g = lane / 4, q = lane % 4;
    const int warp_m = warp / 2, warp_n = warp % 2;
    const int row_group = blockIdx.y;
    const int m0 = row_group * kRowGroup + warp_m * 16;
    const int n0 = blockIdx.x * 16 + warp_n * 8;
    const int K = args.K, N = args.N;

    const auto* av = static_cast<const typename E::type*>(args.a);  // M x K/2 compressed values
    const auto* meta = static_cast<const uint32_t*>(args.a_meta);   // lane blocks, [row group][k-step][lane]
    const auto* x = static_cast<const typename E::type*>(args.b);   // N x K
    const int64_t av_stride = args.lda;
    const int k_steps = K / kInstrK;

    // A lane's rows and columns are fixed for the whole loop; only the k offset moves.
    const auto* a_row0 = av + static_cast<int64_t>(m0 + g) * av_stride + 2 * q;
    const auto* a_row8 = a_row0 + 8 * av_stride;
    const bool b_valid = n0 + g < N;
    const auto* b_row = x + static_cast<int64_t>(b_valid ? n0 + g : 0) * args.ldb + 2 * q;
    const uint32_t* meta_lane = meta + static_cast<int64_t>(row_group) * k_steps * kMetaBlockWords + lane;

    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    for (int ks = 0; ks < k_steps; ++ks) {
      const int ca = ks * (kInstrK / 2);  // compressed column of this step
      const int kb = ks * kInstrK;        // dense k of this step
      uint32_t a[4], b[4];
      a[0] = *reinterpret_cast<const uint32_t*>(a_row0 + ca);
      a[1] = *reinterpret_cast<const uint32_t*>(a_row8 + ca);
      a[2] = *reinterpret_cast<const uint32_t*>(a_row0 + ca + 8);
      a[3] = *reinterpret_cast<const uint32_t*>(a_row8 + ca + 8);
#pragma unroll
      for (int i = 0; i < 4; ++i) b[i] = b_valid ? *reinterpret_cast<const uint32_t*>(b_row + kb + 8 * i) : 0u;
      const uint32_t e = meta_lane[ks * kMetaBlockWords];
      // The selector is an immediate: the branch is uniform per warp and each side is one instruction.
      if (warp_m == 0)
        ptx::mma_sp_m16n8k32<T, 0>(acc, a, b, e);
      else
        ptx::mma_sp_m16n8k32<T, 1>(acc, a, b, e);
    }
    store_acc_m16n8<T>(acc, m0, n0, args.M, N, static_cast<typename E::type*>(args.d), args.ldd,
                       static_cast<const typename E::type*>(args.c), args.ldc, args.alpha, args.beta);
  }
};

}  // namespace sparse24::mma_sp
