// wgmma_sp step 01, "smem": one warpgroup per block, operands staged in shared memory, wgmma.mma_async.sp reading
// A and B from shared memory through matrix descriptors.
//
// What it adds over mma_sp/s02_smem (the same load-then-compute structure, on the Hopper instruction): the four
// warps of the block act as one warpgroup and issue wgmma.mma_async.sp m64nBNk32, each instruction a 64 x BN x 32
// product read straight from shared memory (no ldmatrix, no B fragments in registers: the tensor core fetches the
// operands itself), BM/64 instructions per 32-wide k-step, asynchronous: issued back to back for a whole BK slice,
// then committed and waited for once. Each warp supplies the metadata of its 16 rows of every m64 tile in one
// register per (m64 tile, k-step).
//
// Preconditions (ShapeRule, checked before launch): M % 32 == 0 (metadata lane blocks), K % BK == 0, any N >= 1
// (columns past N read as zeros, never stored), 16-byte aligned rows. sm_90a only.
// Metadata in format::MetaLayout::LaneBlocks16, the layout of the mma_sp family, unchanged (see below).
// Expected bottleneck: as mma_sp/s02, no overlap of loading and computing inside a block (load, barrier, compute,
// barrier); with about 3 blocks per SM the other blocks' wgmma hide part of it. Next step: a multi-stage cp.async
// or TMA pipeline with the wgmma of slice s overlapping the loads of slice s+1..s+STAGES-1.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x128x64: 211.7 TFLOP/s = 23% of the mma.sp m16n8k32 loop (931), 0.30x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_9940e5f).
// cuSPARSELt (1024.9) in the same run; 64x256x64: 108.6 (one-off run on branch wgmma, not a committed results folder).
// PERF: below mma_sp.s02_smem (256.5 in the same run); see results/NOTES.md for what is and is not known about why.
//
// Block tile (128 x 128 x 64 shown) and who computes what:
//
//            BN = 128 columns of D (one wgmma covers them all: m64n128k32)
//        +-------------------------+
//        | m64 tile 0: warp 0 rows 0..15, warp 1 16..31, warp 2 32..47, warp 3 48..63
//   BM   +-------------------------+
//        | m64 tile 1: the same warps, rows 64..127
//        +-------------------------+
//   per 32-wide k-step: BM/64 = 2 wgmma.sp m64n128k32; per BK = 64 slice: 4 wgmma in one commit group.
//   Accumulators: BM/64 x BN/2 = 128 f32 registers per thread (thread t holds rows 16(t/32) + g (+8) of each m64
//   tile, frag::acc_m64).
//
// Shared memory (no swizzle: core matrices of 8 rows x 16 bytes, adjacent along K; tile_io.cuh,
// copy_rows_to_core_matrices_16B):
//   A values  BM rows x BK/2 values: row group i (8 rows) at i * SBO_A, SBO_A = 8 * BK  bytes (BK = 64: 512)
//   B (X)     BN rows x BK values:   row group i at i * SBO_B,          SBO_B = 16 * BK bytes (BK = 64: 1024)
//   LBO = 128 for both (next 8 K-columns). The descriptor of k-step s starts 2 core matrices (A: 16 compressed
//   values) or 4 (B: 32 values) further along K; that of m64 tile mt starts 8 row groups further down A.
//   metadata  [BM/32 row groups][BK/32 k-steps][32 words], lane blocks as in global memory.
//
// Why this tile: one wgmma of the widest N the accumulators allow reuses each A byte BN times and each B byte 64
// times per instruction; 2 m64 tiles x 128 columns = 128 accumulator registers per thread leaves room for 3 blocks
// per SM (about 170 registers x 128 threads each; 25 KB of shared memory each), whose loads overlap each other's
// wgmma. 64 x 256 is the other shape with the same register cost (A reused 256 times, B 64).
//
// NOTE: metadata. The per-warp wgmma.sp layout is the m16n8k32 one (docs/sparse-tensor-cores.md §3a, verified by
// tests/gpu/test_wgmma_instructions_gpu.cu), with one selector for the whole warpgroup. In a LaneBlocks16 block
// (32 rows), rows 0..15 sit in lanes q = 0, 1 and rows 16..31 in lanes q = 2, 3. We always use sp-sel 0 (lanes
// q = 0, 1 are read): warp w's rows are rows 16 (w % 2).. of block w / 2 of the m64 tile, so an even warp loads
// word `lane` and an odd warp word `lane ^ 2` (rows 16..31 moved into lanes q = 0, 1). No new layout is needed.
#pragma once

#include <cstdint>

#include "kernels/common/elem.cuh"
#include "kernels/common/epilogue.cuh"
#include "kernels/common/instr.h"
#include "kernels/common/launch.cuh"
#include "kernels/common/ptx.cuh"
#include "kernels/common/ptx_sm90.cuh"
#include "kernels/common/tile_io.cuh"
#include "kernels/format/format.h"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"

namespace sparse24::wgmma_sp {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES>
struct s01_smem : WarpTiled<s01_smem<T, BM, BN, BK, WM, WN, STAGES>, T, BM, BN, BK, WM, WN, STAGES> {
  using Base = WarpTiled<s01_smem, T, BM, BN, BK, WM, WN, STAGES>;
  using Base::kThreads;  // a dependent base's names need naming
  // Measured with __launch_bounds__(threads, 1) (BlockTiled's default when it was measured): kept explicitly.
  static constexpr int kMinBlocksPerSm = 1;
  using Instr = instr::WgmmaSpM64NK32<T, BN>;
  static constexpr ArchRule kArch = {Instr::form().min_sm, Instr::form().min_sm, Instr::form().arch_specific};
  static constexpr bool kSparse = true;
  static constexpr format::MetaLayout kMetaLayout = format::MetaLayout::LaneBlocks16;
  static constexpr int kSmemBytes = 0;  // static shared memory only (struct Shared below)
  static constexpr int kRowGroup = format::kLaneBlockRows;  // rows per metadata lane block
  static constexpr ShapeRule kRule = {kRowGroup, 1, BK, 1, 0, "one metadata lane block serves 32 rows",
                                      "whole K tiles"};

  static constexpr int kInstrM = Instr::kM;             // 64 rows per wgmma
  static constexpr int kInstrK = Instr::kK;             // dense K of one wgmma.sp: 32
  static constexpr int kKSteps = BK / kInstrK;          // wgmma k-steps per shared slice
  static constexpr int kMTiles = BM / kInstrM;          // m64 tiles per block
  static constexpr int kAcc = BN / 2;                   // f32 accumulators per thread per m64 tile
  static constexpr int kWarpRows = kInstrM / 4;         // rows of an m64 tile per warp: 16
  static constexpr int kElemBytes = sizeof(typename Elem<T>::type);
  static constexpr int kCore = 128;                     // bytes of one core matrix (8 rows x 16 bytes)
  static constexpr int kCoreCols = 16 / kElemBytes;     // elements per core-matrix row: 8
  static constexpr int kARowBytes = BK / 2 * kElemBytes;   // one compressed A row of the slice
  static constexpr int kBRowBytes = BK * kElemBytes;       // one X row of the slice
  static constexpr int kASbo = 8 * kARowBytes;          // next 8 rows of A (BK = 64: 512)
  static constexpr int kBSbo = 8 * kBRowBytes;          // next 8 rows of B (BK = 64: 1024)
  static constexpr int kLbo = kCore;                    // next 8 K-columns
  static constexpr int kAStepBytes = (kInstrK / 2) / kCoreCols * kCore;  // one A k-step: 2 core matrices along K
  static constexpr int kBStepBytes = kInstrK / kCoreCols * kCore;        // one B k-step: 4 core matrices along K
  static constexpr int kAMTileBytes = kInstrM / 8 * kASbo;              // one m64 tile of A: 8 row groups
  static constexpr int kBlockWords = format::kLaneBlockBytes / 4;       // one lane block: a word per lane
  static constexpr int kMetaGroupWords = kKSteps * kBlockWords;         // one row group's metadata for one slice

  static_assert(WM == 4 && WN == 1, "one warpgroup: 4 warps stacked along M (16 rows of each m64 tile each)");
  static_assert(STAGES == 1, "s01_smem loads and computes in turn: one stage");
  static_assert(BM % kInstrM == 0, "BM must be whole m64 tiles");
  static_assert(BK % kInstrK == 0, "BK must be a multiple of the instruction K (32)");
  static_assert(kInstrK == format::kLaneBlockCols, "one lane block per k-step of the instruction");
  static_assert(kInstrM == 2 * kRowGroup && kWarpRows * 2 == kRowGroup,
                "an m64 tile is two lane-block row groups, each serving two warps (sp-sel 0, word lane or lane^2)");
  static_assert(kMTiles * kAcc <= 128, "at most 128 accumulator registers per thread (255-register limit)");

  struct Shared {
    alignas(128) uint8_t a[BM * kARowBytes];
    alignas(128) uint8_t b[BN * kBRowBytes];
    alignas(16) uint32_t meta[BM / kRowGroup * kMetaGroupWords];
  };
  static_assert(sizeof(Shared) <= 48 * 1024, "static shared memory is limited to 48 KB");

  static __device__ void run_block(const GemmArgs& args) {
    __shared__ Shared smem;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int M = args.M, N = args.N, K = args.K;
    const int block_m = blockIdx.y * BM, block_n = blockIdx.x * BN;

    const auto* av = static_cast<const uint8_t*>(args.a);
    const auto* meta = static_cast<const uint8_t*>(args.a_meta);
    const auto* x = static_cast<const uint8_t*>(args.b);
    const int64_t av_row_bytes = args.lda * kElemBytes, x_row_bytes = args.ldb * kElemBytes;
    const int64_t meta_group_bytes = int64_t(K / kInstrK) * format::kLaneBlockBytes;  // one row group, all of K
    constexpr int kMetaTileBytes = kMetaGroupWords * 4;
    // Rows past M get the valid code 0x4 in every nibble: zero metadata is undefined behaviour for mma.sp.
    constexpr uint32_t kPad = format::kPaddingMetaWord;
    const uint4 kValidMeta = make_uint4(kPad, kPad, kPad, kPad);

    // This warp's metadata: row group (within an m64 tile) warp / 2, word lane ^ 2 for odd warps (see NOTE).
    const int meta_word = (warp / 2) * kMetaGroupWords + (lane ^ (2 * (warp % 2)));
    const uint32_t a_smem = ptx::smem_addr(smem.a), b_smem = ptx::smem_addr(smem.b);

    float acc[kMTiles][kAcc];
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (int i = 0; i < kAcc; ++i) acc[mt][i] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += BK) {
      copy_rows_to_core_matrices_16B<BM, kARowBytes, kThreads>(
          smem.a, av + block_m * av_row_bytes + k0 / 2 * kElemBytes, av_row_bytes, M - block_m);
      copy_rows_to_core_matrices_16B<BN, kBRowBytes, kThreads>(
          smem.b, x + block_n * x_row_bytes + k0 * kElemBytes, x_row_bytes, N - block_n);
      copy_rows_16B<BM / kRowGroup, kMetaTileBytes, kMetaTileBytes, kThreads>(
          reinterpret_cast<uint8_t*>(smem.meta),
          meta + (block_m / kRowGroup) * meta_group_bytes + k0 / kInstrK * format::kLaneBlockBytes,
          meta_group_bytes, (M - block_m) / kRowGroup, kValidMeta);
      ptx::fence_proxy_async_shared();  // our st.shared must be visible to wgmma's async-proxy reads
      __syncthreads();

      uint32_t e[kMTiles][kKSteps];
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
        for (int ks = 0; ks < kKSteps; ++ks)
          e[mt][ks] = smem.meta[mt * (kInstrM / kRowGroup) * kMetaGroupWords + meta_word + ks * kBlockWords];

#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) ptx::fence_registers(acc[mt]);
      ptx::wgmma_fence();
#pragma unroll
      for (int ks = 0; ks < kKSteps; ++ks) {
        const uint64_t db = ptx::smem_desc(b_smem + ks * kBStepBytes, kLbo, kBSbo, ptx::SmemSwizzle::None);
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt) {
          const uint64_t da = ptx::smem_desc(a_smem + mt * kAMTileBytes + ks * kAStepBytes, kLbo, kASbo,
                                             ptx::SmemSwizzle::None);
          ptx::wgmma_sp_ss<T, BN, 0>(acc[mt], da, db, e[mt][ks], true);
        }
      }
      ptx::wgmma_commit_group();
      ptx::wgmma_wait_group<0>();  // the slice's wgmma have read shared memory and the e registers
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) ptx::fence_registers(acc[mt]);
      __syncthreads();
    }

    // Epilogue: each group of 4 accumulators is an m16n8 C fragment (frag::acc_m64 = frag::acc_m16n8 per warp).
    using E = Elem<T>;
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (int nt = 0; nt < BN / 8; ++nt)
        store_acc_m16n8<T>(*reinterpret_cast<const float(*)[4]>(&acc[mt][4 * nt]),
                           block_m + mt * kInstrM + warp * kWarpRows, block_n + nt * 8, M, N,
                           static_cast<typename E::type*>(args.d), args.ldd,
                           static_cast<const typename E::type*>(args.c), args.ldc, args.alpha, args.beta);
  }
};

}  // namespace sparse24::wgmma_sp
