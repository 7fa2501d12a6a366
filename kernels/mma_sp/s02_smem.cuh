// mma_sp step 02, "smem": block tiling through shared memory, fragments loaded with ldmatrix.
//
// What it adds over s01_global: a block of WM x WN warps computes a BM x BN tile of D. For each BK slice of K the
// block copies the compressed A tile (BM x BK/2 values), the B tile (BN x BK) and the A metadata (BM/32 lane
// blocks per 32 columns of K) into shared memory once, with 16-byte loads, and every warp then reads its fragments
// from there: each A fragment is reused across the warp's BN/WN/8 n-tiles, each B fragment across its BM/WM/16
// m-tiles, and each global byte is read by one block instead of by every warp. ldmatrix.x4 replaces four scalar
// loads per fragment: the compressed 16x16 A tile is exactly a dense m16n8k16 A fragment (docs/sparse-tensor-cores.md §3), and
// the B fragment of m16n8k32 is four 8x8 matrices of X along k.
//
// Preconditions (checked by prepare()): M % 32 == 0, K % BK == 0, any N >= 1.
// Metadata in format::MetaLayout::LaneBlocks16.
// Expected bottleneck: no overlap between loading a slice and computing on it (load, barrier, compute, barrier):
// the tensor cores idle while the block waits for global memory. Pipelining (cp.async, stages > 1) is the next step.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x128x64: 254.6 TFLOP/s = 27% of the mma.sp m16n8k32 loop (951), 0.38x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_a89f4fa).
//
// Block tile and warp tiles (128x128x64, 2x2 warps shown):
//
//            BN = 128
//        +-----------+-----------+
//        |  warp 0   |  warp 1   |   each warp: 64 x 64 of D = 4 m16 tiles x 8 n8 tiles = 32 accumulators x 4
//   BM   |  64 x 64  |           |   per k-step of 32: 4 ldmatrix.x4 for A, 8 for B, 2 metadata words, 32 mma.sp
//        +-----------+-----------+
//        |  warp 2   |  warp 3   |
//        +-----------+-----------+
//
// Shared-memory tiles, each row padded by 16 bytes so that the 8 rows an ldmatrix reads fall in 8 different
// 16-byte bank groups (row stride / 16 is odd):
//   A values  BM rows x (BK/2 + 8) elements   (BK = 64: 80-byte stride, 5 chunks)
//   B         BN rows x (BK + 8) elements     (BK = 64: 144-byte stride, 9 chunks)
//   metadata  [BM/32 row groups][BK/32 k-steps][32 words]: lane blocks as stored in global memory; a warp reads
//             word `lane` of a block, 32 consecutive words, conflict-free.
#pragma once

#include <cstdint>

#include "kernels/common/elem.cuh"
#include "kernels/common/instr.h"
#include "kernels/common/launch.cuh"
#include "kernels/common/epilogue.cuh"
#include "kernels/common/ptx.cuh"
#include "kernels/common/tile_io.cuh"
#include "kernels/format/format.h"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"

namespace sparse24::mma_sp {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES>
struct s02_smem : WarpTiled<s02_smem<T, BM, BN, BK, WM, WN, STAGES>, T, BM, BN, BK, WM, WN, STAGES> {
  using Base = WarpTiled<s02_smem, T, BM, BN, BK, WM, WN, STAGES>;
  using Base::kThreads;  // a dependent base's names need naming
  using Instr = instr::MmaSpM16N8K32<T>;
  static constexpr ArchRule kArch = {Instr::form().min_sm};  // mma.sp, ldmatrix: sm_80+
  static constexpr bool kSparse = true;
  static constexpr format::MetaLayout kMetaLayout = format::MetaLayout::LaneBlocks16;
  static constexpr int kSmemBytes = 0;  // static shared memory only (struct Shared below)
  static constexpr int kRowGroup = format::kLaneBlockRows;  // rows per metadata lane block
  static constexpr ShapeRule kRule = {kRowGroup, 1, BK, 1, 0, "one metadata lane block serves 32 rows",
                                      "whole K tiles"};

  static constexpr int kInstrK = Instr::kK;          // dense K of mma.sp m16n8k32
  static constexpr int kKSteps = BK / kInstrK;       // mma k-steps per shared slice
  static constexpr int kWarpM = BM / WM, kWarpN = BN / WN;
  static constexpr int kMTiles = kWarpM / 16, kNTiles = kWarpN / 8;
  static constexpr int kElemBytes = sizeof(typename Elem<T>::type);
  static constexpr int kAStride = BK / 2 + 8;        // elements; +8 = 16 bytes of padding
  static constexpr int kBStride = BK + 8;
  static constexpr int kBlockWords = format::kLaneBlockBytes / 4;  // one lane block: a word per lane
  static constexpr int kMetaGroupWords = kKSteps * kBlockWords;    // one row group's metadata for one slice

  static_assert(STAGES == 1, "s02_smem loads and computes in turn: one stage");
  static_assert(BK % kInstrK == 0, "BK must be a multiple of the instruction K (32)");
  static_assert(kInstrK == format::kLaneBlockCols, "one lane block per k-step of the instruction");
  static_assert(kWarpM % kRowGroup == 0, "a warp's rows must cover whole metadata row groups (F = 0 and 1 pairs)");
  static_assert(kWarpN % 8 == 0, "a warp's columns must be whole n8 tiles");
  static_assert((kAStride * kElemBytes / 16) % 2 == 1 && (kBStride * kElemBytes / 16) % 2 == 1,
                "row strides must be an odd number of 16-byte chunks for conflict-free ldmatrix");

  struct Shared {
    alignas(16) typename Elem<T>::type a[BM * kAStride];
    alignas(16) typename Elem<T>::type b[BN * kBStride];
    alignas(16) uint32_t meta[BM / kRowGroup * kMetaGroupWords];
  };
  static_assert(sizeof(Shared) <= 48 * 1024, "static shared memory is limited to 48 KB");

  static __device__ void run_block(const GemmArgs& args) {
    __shared__ Shared smem;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int warp_m = warp / WN, warp_n = warp % WN;
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

    // ldmatrix row addresses, fixed for the whole loop (see ptx::ldmatrix_x4):
    //   A: matrix i = (rows +8*(i%2), compressed cols +8*(i/2)) -> a0..a3 of the fragment
    //   B: matrix i = (n rows 0..7, k cols 8i..8i+7)            -> b0..b3
    const frag::RowCol la = frag::ldmatrix_x4_a_16x16(lane), lb = frag::ldmatrix_x4_b_8x32(lane);
    const uint32_t a_base = ptx::smem_addr(&smem.a[(warp_m * kWarpM + la.row) * kAStride + la.col]);
    const uint32_t b_base = ptx::smem_addr(&smem.b[(warp_n * kWarpN + lb.row) * kBStride + lb.col]);

    float acc[kMTiles][kNTiles][4] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
      copy_rows_16B<BM, BK / 2 * kElemBytes, kAStride * kElemBytes, kThreads>(
          reinterpret_cast<uint8_t*>(smem.a), av + block_m * av_row_bytes + k0 / 2 * kElemBytes, av_row_bytes,
          M - block_m);
      copy_rows_16B<BN, BK * kElemBytes, kBStride * kElemBytes, kThreads>(
          reinterpret_cast<uint8_t*>(smem.b), x + block_n * x_row_bytes + k0 * kElemBytes, x_row_bytes,
          N - block_n);
      copy_rows_16B<BM / kRowGroup, kMetaTileBytes, kMetaTileBytes, kThreads>(
          reinterpret_cast<uint8_t*>(smem.meta), meta + (block_m / kRowGroup) * meta_group_bytes + k0 / kInstrK * format::kLaneBlockBytes,
          meta_group_bytes, (M - block_m) / kRowGroup, kValidMeta);
      __syncthreads();

#pragma unroll
      for (int ks = 0; ks < kKSteps; ++ks) {
        uint32_t a[kMTiles][4];
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt)
          ptx::ldmatrix_x4(a[mt], a_base + (mt * 16 * kAStride + ks * 16) * kElemBytes);
        uint32_t e[kMTiles / 2];
#pragma unroll
        for (int j = 0; j < kMTiles / 2; ++j)
          e[j] = smem.meta[(warp_m * kWarpM / kRowGroup + j) * kMetaGroupWords + ks * kBlockWords + lane];
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt) {
          uint32_t b[4];
          ptx::ldmatrix_x4(b, b_base + (nt * 8 * kBStride + ks * kInstrK) * kElemBytes);
#pragma unroll
          for (int mt = 0; mt < kMTiles; ++mt) {
            // Even m16 tiles are rows 0..15 of their row group (selector 0), odd ones rows 16..31 (selector 1).
            if (mt % 2 == 0)
              ptx::mma_sp_m16n8k32<T, 0>(acc[mt][nt], a[mt], b, e[mt / 2]);
            else
              ptx::mma_sp_m16n8k32<T, 1>(acc[mt][nt], a[mt], b, e[mt / 2]);
          }
        }
      }
      __syncthreads();
    }

    store_warp_tile<T>(acc, block_m + warp_m * kWarpM, block_n + warp_n * kWarpN, args);
  }
};

}  // namespace sparse24::mma_sp
