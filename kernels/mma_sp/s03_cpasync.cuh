// mma_sp step 03, "cpasync": a multistage cp.async pipeline, so loading k-tile i+STAGES-1 overlaps computing tile i.
//
// What it adds over s02_smem: the shared tiles (A values, B, metadata) exist STAGES times in dynamic shared memory,
// and are filled with cp.async (global -> shared without registers, kernels/common/ptx.cuh). The block keeps
// STAGES-1 k-tiles in flight while its warps compute on the oldest one; one __syncthreads per k-tile (instead of
// two) both publishes the arrived tile and frees the stage the next copy overwrites. The metadata goes through the
// same pipeline as the values and B (one cp.async group per stage holds all three), as in Sparse-Marlin.
// Fragments, tile shapes, padding and the mma loop are s02's, unchanged.
//
// Preconditions (the shape rule): M % 32 == 0, K % BK == 0, any N >= 1; metadata in format::MetaLayout::LaneBlocks16.
// Edges: A rows past M and B rows past N are zero-filled by cp.async's src-size operand. Metadata rows past M are
// NOT copied (zero is an invalid code): their slots of every stage get format::kPaddingMetaWord once, before the
// pipeline starts, and cp.async never writes them (EdgeRows::Skip). M % 32 == 0 makes a row group all-in or all-out.
// Expected bottleneck: shared-memory fragment loads and the ldmatrix -> mma dependency inside a k-step (s02's
// fragment order: all A fragments, then per n-tile one B ldmatrix feeding kMTiles mma.sp); with 4-8 warps per SM
// there are too few independent instructions per scheduler to hide them. The global-load latency s02 exposed is gone.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 388.3 TFLOP/s = 41% of the mma.sp m16n8k32 loop (951), 0.58x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_a89f4fa).
//
// Pipeline (STAGES = 3), one row per k-tile iteration kt, stage = kt % 3:
//
//   prologue:  issue tile 0 -> stage 0, commit | issue tile 1 -> stage 1, commit
//   kt = 0:    wait(<= 1 group pending) + barrier | issue tile 2 -> stage 2, commit | compute stage 0
//   kt = 1:    wait(<= 1 pending)       + barrier | issue tile 3 -> stage 0, commit | compute stage 1
//   kt = 2:    wait(<= 1 pending)       + barrier | issue tile 4 -> stage 1, commit | compute stage 2
//              ^ tile kt has landed for this thread; the barrier makes it landed for all threads, AND proves every
//                warp has finished computing on stage (kt-1) % 3, which is the one the next issue overwrites.
//   A group is committed every iteration, even when nothing is issued past the last tile, so "at most STAGES-2
//   pending" always means "tile kt has arrived".
//
// Dynamic shared memory, one stage (bytes, for 16-bit types; rows padded by 16 bytes as in s02 so that the 8 row
// addresses of an ldmatrix fall in 8 different 16-byte bank groups):
//
//   +--------------------------------+---------------------------------+---------------------------------+
//   | A values  BM x (BK/2 + 8)      | B  BN x (BK + 8)                | metadata [BM/32][BK/32][32 words]|
//   +--------------------------------+---------------------------------+---------------------------------+
//   128x128x64: 10240 + 18432 + 1024 = 29696 B per stage; 3 stages 89088 B (2 blocks per SM fit in 228 KB),
//   4 stages 118784 B (1 block per SM). 128x256x64 (8 warps): 10240 + 36864 + 1024 = 48128 B; 3 stages 144384 B.
//
// Why these tiles: the warp tile stays s02's 64 x 64 (4 m16 x 8 n8 tiles, 128 f32 accumulators per lane: the
// register budget of 255 allows no more); per 32-wide k-step a warp loads 4 A ldmatrix.x4 (2 KB) and 8 B (4 KB)
// for 32 mma.sp, i.e. 6 KB of shared reads per 32 x 16x8x32 MACs. 128x256 with 2x4 warps halves the global A
// traffic per flop (each A tile feeds 256 columns) at the price of one block per SM.
// NOTE: stages > 1 would not fit the 48 KB of static shared memory at 128x128x64 (29 KB per stage): hence dynamic
// shared memory, whose limit BlockTiled::prepare raises once per problem.
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

namespace sparse24::mma_sp {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES>
struct s03_cpasync : WarpTiled<s03_cpasync<T, BM, BN, BK, WM, WN, STAGES>, T, BM, BN, BK, WM, WN, STAGES> {
  using Base = WarpTiled<s03_cpasync, T, BM, BN, BK, WM, WN, STAGES>;
  using Base::kThreads;  // a dependent base's names need naming
  // Measured with __launch_bounds__(threads, 1) (BlockTiled's default when it was measured): kept explicitly.
  static constexpr int kMinBlocksPerSm = 1;
  using Instr = instr::MmaSpM16N8K32<T>;
  static constexpr ArchRule kArch = {Instr::form().min_sm};  // mma.sp, ldmatrix, cp.async: sm_80+
  static constexpr bool kSparse = true;
  static constexpr format::MetaLayout kMetaLayout = format::MetaLayout::LaneBlocks16;
  static constexpr int kRowGroup = format::kLaneBlockRows;  // rows per metadata lane block
  static constexpr ShapeRule kRule = {kRowGroup, 1, BK, 1, 0, "one metadata lane block serves 32 rows",
                                      "whole K tiles"};

  static constexpr int kInstrK = Instr::kK;          // dense K of mma.sp m16n8k32
  static constexpr int kKSteps = BK / kInstrK;       // mma k-steps per k-tile
  static constexpr int kWarpM = BM / WM, kWarpN = BN / WN;
  static constexpr int kMTiles = kWarpM / Instr::kM, kNTiles = kWarpN / Instr::kN;
  static constexpr int kElemBytes = sizeof(typename Elem<T>::type);
  static constexpr int kAStride = BK / 2 + 8;        // elements; +8 = 16 bytes of padding
  static constexpr int kBStride = BK + 8;
  static constexpr int kBlockWords = format::kLaneBlockBytes / 4;  // one lane block: a word per lane
  static constexpr int kMetaGroupWords = kKSteps * kBlockWords;    // one row group's metadata for one k-tile
  static constexpr int kMetaTileBytes = kMetaGroupWords * 4;
  static constexpr int kMetaGroups = BM / kRowGroup;

  // One stage = A values | B | metadata, each 16-byte aligned (every size below is a multiple of 16).
  static constexpr int kAStageBytes = BM * kAStride * kElemBytes;
  static constexpr int kBStageBytes = BN * kBStride * kElemBytes;
  static constexpr int kMetaStageBytes = kMetaGroups * kMetaTileBytes;
  static constexpr int kStageBytes = kAStageBytes + kBStageBytes + kMetaStageBytes;
  static constexpr int kSmemBytes = STAGES * kStageBytes;

  static_assert(STAGES >= 2 && STAGES <= 4, "s03 pipelines 2 to 4 stages");
  static_assert(kSmemBytes <= 227 * 1024, "dynamic shared memory per block is limited to 227 KB (sm_90)");
  static_assert(BK % kInstrK == 0, "BK must be a multiple of the instruction K (32)");
  static_assert(kInstrK == format::kLaneBlockCols, "one lane block per k-step of the instruction");
  static_assert(kWarpM % kRowGroup == 0, "a warp's rows must cover whole metadata row groups (F = 0 and 1 pairs)");
  static_assert(kWarpN % Instr::kN == 0, "a warp's columns must be whole n8 tiles");
  static_assert(kAStageBytes % 16 == 0 && kBStageBytes % 16 == 0 && kMetaStageBytes % 16 == 0,
                "stage parts must keep 16-byte alignment for cp.async");
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

    const auto* av = static_cast<const uint8_t*>(args.a);
    const auto* meta = static_cast<const uint8_t*>(args.a_meta);
    const auto* x = static_cast<const uint8_t*>(args.b);
    const int64_t av_row_bytes = args.lda * kElemBytes, x_row_bytes = args.ldb * kElemBytes;
    const int64_t meta_group_bytes = int64_t(K / kInstrK) * format::kLaneBlockBytes;  // one row group, all of K
    const uint8_t* av_block = av + block_m * av_row_bytes;
    const uint8_t* x_block = x + block_n * x_row_bytes;
    const uint8_t* meta_block = meta + (block_m / kRowGroup) * meta_group_bytes;
    const int meta_groups_valid = min(kMetaGroups, (M - block_m) / kRowGroup);

    // Metadata row groups past M: valid codes in every stage, once; the pipeline never writes them.
    if (meta_groups_valid < kMetaGroups) {
      constexpr int kGroupWords = kMetaTileBytes / 4;
      const int pad_words = (kMetaGroups - meta_groups_valid) * kGroupWords;
      for (int s = 0; s < STAGES; ++s) {
        auto* m = reinterpret_cast<uint32_t*>(smem + s * kStageBytes + kAStageBytes + kBStageBytes) +
                  meta_groups_valid * kGroupWords;
        for (int i = threadIdx.x; i < pad_words; i += kThreads) m[i] = format::kPaddingMetaWord;
      }
    }

    // Issues the copies of k-tile kt into `stage` (commits nothing).
    auto load_tile = [&](int stage, int kt) {
      const uint32_t s = smem_base + stage * kStageBytes;
      const int k0 = kt * BK;
      cp_async_rows_16B<BM, BK / 2 * kElemBytes, kThreads, EdgeRows::ZeroFill>(
          s, av_block + k0 / 2 * kElemBytes, av_row_bytes, M - block_m,
          [](int r, int c) { return r * kAStride * kElemBytes + c * 16; });
      cp_async_rows_16B<BN, BK * kElemBytes, kThreads, EdgeRows::ZeroFill>(
          s + kAStageBytes, x_block + k0 * kElemBytes, x_row_bytes, N - block_n,
          [](int r, int c) { return r * kBStride * kElemBytes + c * 16; });
      cp_async_rows_16B<kMetaGroups, kMetaTileBytes, kThreads, EdgeRows::Skip>(
          s + kAStageBytes + kBStageBytes, meta_block + k0 / kInstrK * format::kLaneBlockBytes, meta_group_bytes,
          meta_groups_valid, [](int r, int c) { return r * kMetaTileBytes + c * 16; });
    };

    // ldmatrix row addresses within a stage, fixed for the whole loop (as in s02).
    const frag::RowCol la = frag::ldmatrix_x4_a_16x16(lane), lb = frag::ldmatrix_x4_b_8x32(lane);
    const uint32_t a_off = ((warp_m * kWarpM + la.row) * kAStride + la.col) * kElemBytes;
    const uint32_t b_off = kAStageBytes + ((warp_n * kWarpN + lb.row) * kBStride + lb.col) * kElemBytes;
    const int meta_word_off = (kAStageBytes + kBStageBytes) / 4 + (warp_m * kWarpM / kRowGroup) * kMetaGroupWords + lane;

    // Prologue: STAGES-1 tiles in flight.
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
      if (s < k_tiles) load_tile(s, s);
      ptx::cp_async_commit();
    }

    float acc[kMTiles][kNTiles][4] = {};
    int read_stage = 0, write_stage = STAGES - 1;
    for (int kt = 0; kt < k_tiles; ++kt) {
      ptx::cp_async_wait<STAGES - 2>();  // this thread's copies of tile kt have landed
      __syncthreads();                   // everyone's have; and stage write_stage is no longer being read
      if (kt + STAGES - 1 < k_tiles) load_tile(write_stage, kt + STAGES - 1);
      ptx::cp_async_commit();

      const uint32_t a_base = smem_base + read_stage * kStageBytes + a_off;
      const uint32_t b_base = smem_base + read_stage * kStageBytes + b_off;
      const uint32_t* meta_s = reinterpret_cast<const uint32_t*>(smem + read_stage * kStageBytes) + meta_word_off;
#pragma unroll
      for (int ks = 0; ks < kKSteps; ++ks) {
        uint32_t a[kMTiles][4];
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt)
          ptx::ldmatrix_x4(a[mt], a_base + (mt * Instr::kM * kAStride + ks * Instr::kCompressedK) * kElemBytes);
        uint32_t e[kMTiles / 2];
#pragma unroll
        for (int j = 0; j < kMTiles / 2; ++j) e[j] = meta_s[j * kMetaGroupWords + ks * kBlockWords];
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt) {
          uint32_t b[4];
          ptx::ldmatrix_x4(b, b_base + (nt * Instr::kN * kBStride + ks * kInstrK) * kElemBytes);
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
      read_stage = read_stage + 1 == STAGES ? 0 : read_stage + 1;
      write_stage = write_stage + 1 == STAGES ? 0 : write_stage + 1;
    }
    ptx::cp_async_wait<0>();  // nothing may be in flight into shared memory when the block exits

    store_warp_tile<T>(acc, block_m + warp_m * kWarpM, block_n + warp_n * kWarpN, args);
  }
};

}  // namespace sparse24::mma_sp
