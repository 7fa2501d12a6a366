// mma_sp step 01, "global": the simplest correct 2:4 sparse GEMM on the warp-level mma.sp instruction.
//
// What it adds: everything (first step). Each warp owns one 16x8 tile of D and walks K in steps of 32, loading its
// operand fragments straight from global memory into registers in exactly the per-lane order that
// mma.sp.m16n8k32 wants (no shared memory, no reuse between warps), then issues one mma.sp per step.
// It exists to be obviously right: every later step must agree with it.
//
// Preconditions (checked by prepare()): M a multiple of the metadata block's rows (32 for 16-bit types: one
// LaneBlocks16 block serves two m16 tiles with selectors 0 and 1; 16 for 8-bit types: one LaneBlocks8 block, selector
// 0 only), K a multiple of the instruction K (32 for 16-bit, 64 for 8-bit), any N >= 1 (B columns past N read as
// zero, D columns past N not written).
//
// Every operand type, one code: the instruction of an 8-bit type (m16n8k64) reads the same 32 bytes of compressed
// A per row and 64 bytes of B per column, in the same registers and lanes, as the 16-bit one (m16n8k32): only the
// number of values per byte differs (fragments.h). So the loads below are written in bytes, and a type brings only
// its instruction (instr::MmaSp, ptx::mma_sp), its metadata layout and its accumulator and D types (operands.h).
//
// Expected bottleneck: memory latency and bandwidth. Every 32-bit fragment register is its own global load, each
// B element is read by every warp that needs it (no reuse), and one warp has one mma in flight.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 32x16x32: 29.1 TFLOP/s = 3% of the mma.sp m16n8k32 loop (951), 0.04x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_a89f4fa).
//
// Block = 2 x 2 warps over a 32 x 16 tile of D:
//
//            n0 .. n0+7     n0+8 .. n0+15
//   rows  0-15  [ warp 0 ]  [ warp 1 ]      16-bit: warps 0, 1 use selector F = 0, warps 2, 3 F = 1, both halves
//   rows 16-31  [ warp 2 ]  [ warp 3 ]      of one LaneBlocks16 block; 8-bit: each row half its own LaneBlocks8 block
//
// Per k-step (32 bytes of compressed A per row), lane (g, q) of a warp loads (docs/sparse-tensor-cores.md §3):
//   A values:  a0 = Av[g] bytes 4q..4q+3, a1 = Av[g+8] the same, a2 = Av[g] bytes 16+4q.., a3 = Av[g+8] 16+4q..
//   B:         b_i = X[n0+g] bytes 16i+4q .. 16i+4q+3, i = 0..3              (64 bytes of dense k per step)
//   metadata:  word `lane` of the block (row group, k-step): the e register itself.
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
  using Instr = instr::MmaSp<T>;                                        // m16n8k32 (16-bit) or m16n8k64 (8-bit)
  static constexpr bool k8Bit = info(T).bits == 8;
  static_assert(BM == 32 && BN == 16 && BK == Instr::kK && WM == 2 && WN == 2 && STAGES == 1,
                "s01_global has one shape: 32x16 and the instruction K, 2x2 warps of 16x8, no pipeline");
  static constexpr ArchRule kArch = {Instr::form().min_sm};
  static constexpr bool kSparse = true;
  static constexpr format::MetaLayout kMetaLayout = k8Bit ? format::MetaLayout::LaneBlocks8
                                                           : format::MetaLayout::LaneBlocks16;
  static constexpr int kSmemBytes = 0;
  static constexpr int kRowGroup = desc(kMetaLayout).block_rows();      // rows served by one metadata block
  static constexpr int kInstrK = Instr::kK;                             // dense K of one mma.sp
  static constexpr int kMetaBlockWords = desc(kMetaLayout).block_bytes() / 4;  // one 32-bit word per lane
  static constexpr int kABytesPerStep = 32;   // compressed A bytes per row and k-step (every sparse form)
  static constexpr int kBBytesPerStep = 64;   // B bytes per column and k-step
  static_assert(Instr::kCompressedK * int(sizeof(typename Elem<T>::type)) == kABytesPerStep &&
                    kInstrK * int(sizeof(typename Elem<T>::type)) == kBBytesPerStep,
                "every sparse warp-level form reads 32 bytes of compressed A per row and 64 of B per column");
  static_assert(kInstrK == 4 * desc(kMetaLayout).block_nibble_cols(), "one metadata block per k-step");
  static constexpr ShapeRule kRule = {kRowGroup, 1, BK, 1, 0,
                                      k8Bit ? "one 8-bit metadata lane block serves 16 rows"
                                            : "one metadata lane block serves 32 rows",
                                      "the instruction K"};
  using Acc = std::conditional_t<T == DType::int8, int32_t, float>;
  static constexpr DType kD = default_operands(T).d;  // D's type: T (16-bit), int32 (int8), bf16 (fp8)
  using DElem = typename Elem<kD>::type;

  static __device__ void run_block(const GemmArgs& args) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int g = lane / 4, q = lane % 4;
    const int warp_m = warp / 2, warp_n = warp % 2;
    const int m0 = blockIdx.y * BM + warp_m * 16;
    const int n0 = blockIdx.x * 16 + warp_n * 8;
    const int K = args.K, N = args.N;
    // 8-bit: M % 16 is legal, so the lower warps of the last 32-row tile may have no rows at all; they must not
    // load (compute-sanitizer's memcheck caught the reads past A and the metadata). 16-bit tiles are whole (M % 32).
    if constexpr (k8Bit)
      if (m0 >= args.M) return;
    constexpr int kElemBytes = sizeof(typename Elem<T>::type);

    const auto* av = static_cast<const uint8_t*>(args.a);        // M x K/2 compressed values
    const auto* meta = static_cast<const uint32_t*>(args.a_meta);  // blocks, [row group][k-step][lane]
    const auto* x = static_cast<const uint8_t*>(args.b);         // N x K
    const int k_steps = K / kInstrK;

    // A lane's rows and columns are fixed for the whole loop; only the k offset moves.
    const uint8_t* a_row0 = av + static_cast<int64_t>(m0 + g) * args.lda * kElemBytes + 4 * q;
    const uint8_t* a_row8 = a_row0 + 8 * args.lda * kElemBytes;
    const bool b_valid = n0 + g < N;
    const uint8_t* b_row = x + static_cast<int64_t>(b_valid ? n0 + g : 0) * args.ldb * kElemBytes + 4 * q;
    // This warp's metadata block row: 16-bit, the block's one 32-row group, shared by both row halves (selector =
    // warp_m); 8-bit, its own 16-row group.
    const int meta_row = blockIdx.y * (BM / kRowGroup) + (k8Bit ? warp_m : 0);
    const uint32_t* meta_lane = meta + static_cast<int64_t>(meta_row) * k_steps * kMetaBlockWords + lane;

    Acc acc[4] = {0, 0, 0, 0};
    for (int ks = 0; ks < k_steps; ++ks) {
      const int ca = ks * kABytesPerStep, kb = ks * kBBytesPerStep;
      uint32_t a[4], b[4];
      a[0] = *reinterpret_cast<const uint32_t*>(a_row0 + ca);
      a[1] = *reinterpret_cast<const uint32_t*>(a_row8 + ca);
      a[2] = *reinterpret_cast<const uint32_t*>(a_row0 + ca + 16);
      a[3] = *reinterpret_cast<const uint32_t*>(a_row8 + ca + 16);
#pragma unroll
      for (int i = 0; i < 4; ++i) b[i] = b_valid ? *reinterpret_cast<const uint32_t*>(b_row + kb + 16 * i) : 0u;
      const uint32_t e = meta_lane[ks * kMetaBlockWords];
      // The selector is an immediate: the branch is uniform per warp and each side is one instruction. 8-bit
      // forms have selector 0 only: each 16-row half reads its own block.
      if (k8Bit || warp_m == 0)
        ptx::mma_sp<T, 0>(acc, a, b, e);
      else if constexpr (!k8Bit)
        ptx::mma_sp<T, 1>(acc, a, b, e);
    }
    if constexpr (T == DType::int8)
      store_acc_m16n8(acc, m0, n0, args.M, N, static_cast<int32_t*>(args.d), args.ldd,
                      static_cast<const int32_t*>(args.c), args.ldc, args.alpha, args.beta);
    else
      store_acc_m16n8<kD>(acc, m0, n0, args.M, N, static_cast<DElem*>(args.d), args.ldd,
                          static_cast<const DElem*>(args.c), args.ldc, args.alpha, args.beta);
  }
};

}  // namespace sparse24::mma_sp
