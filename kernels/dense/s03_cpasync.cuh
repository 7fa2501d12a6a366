// dense step 03, "cpasync": the dense counterpart of mma_sp/s03_cpasync.cuh, for a like-for-like ratio.
//
// What it adds over dense s02_smem: the same multistage cp.async pipeline as the sparse s03 (STAGES copies of the
// shared tiles in dynamic shared memory, STAGES-1 k-tiles in flight, one barrier per k-tile); see the sparse file
// for the pipeline picture. Differences from the sparse twin are only those sparsity makes: A is the dense
// BM x BK tile (twice the values, no metadata), and each 32-wide k-step is two mma.sync m16n8k16.
//
// Preconditions: the sparse step's rules (M % 32 == 0, K % BK == 0, any N >= 1), kept identical so that both run
// exactly the same shapes. Edge rows of A and B are zero-filled by cp.async's src-size operand.
// Expected bottleneck: as the sparse s03: fragment loads and the ldmatrix -> mma chain within a k-step.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 281.7 TFLOP/s = 44% of the mma.sync m16n8k16 loop (642), 0.42x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_a89f4fa).
//
// One stage (16-bit types, rows padded by 16 bytes: conflict-free ldmatrix):
//   +--------------------------------+---------------------------------+
//   | A  BM x (BK + 8)               | B  BN x (BK + 8)                |
//   +--------------------------------+---------------------------------+
//   128x128x64: 18432 + 18432 = 36864 B per stage; 3 stages 110592 B (2 blocks per SM fit in 228 KB).
//   128x256x64: 18432 + 36864 = 55296 B per stage; 3 stages 165888 B.
#pragma once

#include <cstdint>

#include "kernels/common/elem.cuh"
#include "kernels/common/epilogue.cuh"
#include "kernels/common/instr.h"
#include "kernels/common/launch.cuh"
#include "kernels/common/ptx.cuh"
#include "kernels/common/tile_io.cuh"
#include "kernels/format/format.h"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"

namespace sparse24::dense {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES>
struct s03_cpasync : WarpTiled<s03_cpasync<T, BM, BN, BK, WM, WN, STAGES>, T, BM, BN, BK, WM, WN, STAGES> {
  using Base = WarpTiled<s03_cpasync, T, BM, BN, BK, WM, WN, STAGES>;
  using Base::kThreads;  // a dependent base's names need naming
  // Measured with __launch_bounds__(threads, 1) (BlockTiled's default when it was measured): kept explicitly.
  static constexpr int kMinBlocksPerSm = 1;
  using Instr = instr::MmaM16N8K16<T>;
  static constexpr ArchRule kArch = {Instr::form().min_sm};  // mma.sync, ldmatrix, cp.async: sm_80+
  static constexpr bool kSparse = false;
  static constexpr format::MetaLayout kMetaLayout = format::MetaLayout::Canonical;  // unused: no metadata
  // The sparse twin's rule, for identical shape coverage.
  static constexpr ShapeRule kRule = {format::kLaneBlockRows, 1, BK, 1, 0,
                                      "kept equal to the sparse twin's lane-block rows", "whole K tiles"};

  static constexpr int kInstrK = Instr::kK;  // dense K of mma.sync m16n8k16
  static constexpr int kStepK = 2 * kInstrK;  // k consumed per B fragment (ldmatrix.x4 of 4 8-wide k chunks)
  static constexpr int kKSteps = BK / kStepK;
  static constexpr int kWarpM = BM / WM, kWarpN = BN / WN;
  static constexpr int kMTiles = kWarpM / Instr::kM, kNTiles = kWarpN / Instr::kN;
  static constexpr int kElemBytes = sizeof(typename Elem<T>::type);
  static constexpr int kAStride = BK + 8;
  static constexpr int kBStride = BK + 8;
  static constexpr int kAStageBytes = BM * kAStride * kElemBytes;
  static constexpr int kBStageBytes = BN * kBStride * kElemBytes;
  static constexpr int kStageBytes = kAStageBytes + kBStageBytes;
  static constexpr int kSmemBytes = STAGES * kStageBytes;

  static_assert(STAGES >= 2 && STAGES <= 4, "s03 pipelines 2 to 4 stages");
  static_assert(kSmemBytes <= 227 * 1024, "dynamic shared memory per block is limited to 227 KB (sm_90)");
  static_assert(BK % kStepK == 0, "BK must be a multiple of 32");
  static_assert(kWarpM % Instr::kM == 0 && kWarpN % Instr::kN == 0, "warp tiles must be whole m16n8 tiles");
  static_assert(kAStageBytes % 16 == 0 && kBStageBytes % 16 == 0, "stage parts keep 16-byte alignment");
  static_assert((kAStride * kElemBytes / 16) % 2 == 1 && (kBStride * kElemBytes / 16) % 2 == 1,
                "row strides must be an odd number of 16-byte chunks for conflict-free ldmatrix");

  static __device__ void run_block(const GemmArgs& args) {
    extern __shared__ __align__(16) uint8_t smem[];
    const uint32_t smem_base = ptx::smem_addr(smem);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int warp_m = warp / WN, warp_n = warp % WN;
    const int M = args.M, N = args.N, K = args.K;
    const int block_m = blockIdx.y * BM, block_n = blockIdx.x * BN;
    const int k_tiles = K / BK;

    const auto* a_g = static_cast<const uint8_t*>(args.a);
    const auto* x = static_cast<const uint8_t*>(args.b);
    const int64_t a_row_bytes = args.lda * kElemBytes, x_row_bytes = args.ldb * kElemBytes;
    const uint8_t* a_block = a_g + block_m * a_row_bytes;
    const uint8_t* x_block = x + block_n * x_row_bytes;

    // NOTE: each thread's place in the tile copies is fixed once (CpAsyncTile, a pointer walk down its rows).
    // With cp_async_rows_16B, ptxas on sm_80 hoisted one 64-bit source address per copied row out of the k-loop
    // and spilled 48-64 bytes (sm_90a did not); s04's headers record the same fix.
    constexpr int kChunks = BK * kElemBytes / 16;
    using ACopy = CpAsyncTile<BM, kChunks, kThreads>;
    using BCopy = CpAsyncTile<BN, kChunks, kThreads>;
    const ACopy a_copy(a_row_bytes, [](int r, int c) { return r * kAStride * kElemBytes + c * 16; });
    const BCopy b_copy(x_row_bytes, [](int r, int c) { return r * kBStride * kElemBytes + c * 16; });
    const int64_t a_step = ACopy::kRowsPerStep * a_row_bytes, b_step = BCopy::kRowsPerStep * x_row_bytes;
    auto load_tile = [&](int stage, int kt) {
      const uint32_t s = smem_base + stage * kStageBytes;
      const int k0 = kt * BK;
      a_copy.template issue<kAStride * kElemBytes, EdgeRows::ZeroFill>(s, a_block + k0 * kElemBytes, a_step,
                                                                       M - block_m);
      b_copy.template issue<kBStride * kElemBytes, EdgeRows::ZeroFill>(s + kAStageBytes, x_block + k0 * kElemBytes,
                                                                       b_step, N - block_n);
    };

    const frag::RowCol la = frag::ldmatrix_x4_a_16x16(lane), lb = frag::ldmatrix_x4_b_8x32(lane);
    const uint32_t a_off = ((warp_m * kWarpM + la.row) * kAStride + la.col) * kElemBytes;
    const uint32_t b_off = kAStageBytes + ((warp_n * kWarpN + lb.row) * kBStride + lb.col) * kElemBytes;

#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
      if (s < k_tiles) load_tile(s, s);
      ptx::cp_async_commit();
    }

    float acc[kMTiles][kNTiles][4] = {};
    int read_stage = 0, write_stage = STAGES - 1;
    for (int kt = 0; kt < k_tiles; ++kt) {
      ptx::cp_async_wait<STAGES - 2>();
      __syncthreads();
      if (kt + STAGES - 1 < k_tiles) load_tile(write_stage, kt + STAGES - 1);
      ptx::cp_async_commit();

      const uint32_t a_base = smem_base + read_stage * kStageBytes + a_off;
      const uint32_t b_base = smem_base + read_stage * kStageBytes + b_off;
#pragma unroll
      for (int ks = 0; ks < kKSteps; ++ks) {
        uint32_t a[kMTiles][2][4];
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
          for (int h = 0; h < 2; ++h)
            ptx::ldmatrix_x4(a[mt][h],
                             a_base + (mt * Instr::kM * kAStride + ks * kStepK + h * kInstrK) * kElemBytes);
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt) {
          uint32_t b[4];
          ptx::ldmatrix_x4(b, b_base + (nt * Instr::kN * kBStride + ks * kStepK) * kElemBytes);
          const uint32_t b_lo[2] = {b[0], b[1]}, b_hi[2] = {b[2], b[3]};
#pragma unroll
          for (int mt = 0; mt < kMTiles; ++mt) {
            ptx::mma_m16n8k16<T>(acc[mt][nt], a[mt][0], b_lo);
            ptx::mma_m16n8k16<T>(acc[mt][nt], a[mt][1], b_hi);
          }
        }
      }
      read_stage = read_stage + 1 == STAGES ? 0 : read_stage + 1;
      write_stage = write_stage + 1 == STAGES ? 0 : write_stage + 1;
    }
    ptx::cp_async_wait<0>();

    store_warp_tile<T>(acc, block_m + warp_m * kWarpM, block_n + warp_n * kWarpN, args);
  }
};

}  // namespace sparse24::dense
