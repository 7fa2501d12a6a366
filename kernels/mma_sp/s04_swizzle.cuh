// mma_sp step 04, "swizzle": unpadded XOR-swizzled shared tiles, fragments double-buffered in registers, and the
// metadata of a whole k-tile in one wide shared load per lane.
//
// What it adds over s03_cpasync (three ideas that all serve one goal: keep the tensor pipe fed from shared memory):
// 1. Swizzle instead of padding (kernels/common/swizzle.h): rows are stored unpadded, 16-byte chunk c of row r at
//    chunk c ^ f(r); both the cp.async writes and the ldmatrix reads stay conflict-free, and a stage shrinks by the
//    padding (128x128x64: 25 KB instead of 29 KB), so 4 stages fit twice per SM.
// 2. Register double buffering: while the mma.sp of k-step i run, the fragments of k-step i+1 are loaded. B has
//    two buffers and each B fragment's twin is refilled right after its last use (n-tile by n-tile); each A
//    fragment is refilled in place right after its last use (in the last n-tile's mma), so the second buffer costs
//    about 20 registers, not 48. The k-tile's barrier sits before its LAST k-step's mma, and the loads after it
//    already read the next k-tile: every read of a stage happens before the barrier that frees it, so no warp
//    waits on a load right after a barrier (s03 did, once per k-tile).
// 3. Metadata per lane: the stage holds metadata as [row group][lane][k-step] words (scattered there by 4-byte
//    cp.async from the global lane blocks), so one ld.shared.v2 (BK = 64) or .v4 (BK = 128) per row group gives a
//    lane its `e` registers for every k-step of the tile; each word still serves two m16 tiles (F = 0 and 1).
//
// Preconditions: as s03 (M % 32 == 0, K % BK == 0, any N >= 1; metadata LaneBlocks16); BK / 32 even (2 or 4).
// Expected bottleneck: shared-memory bandwidth and issue: per 32-wide k-step a 64x64 warp tile reads 6 KB
// (4 A + 8 B ldmatrix.x4) for 32 mma.sp, i.e. about 85 B/clk/SM at the mma.sp loop rate, two thirds of the
// 128 B/clk shared-memory bandwidth; the warp tile cannot grow (128 accumulators of 255 registers).
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 530.0 TFLOP/s = 56% of the mma.sp m16n8k32 loop (951), 0.79x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_a89f4fa).
//
// PERF: H100, bf16, same run as s03: 128x128x64 s3 363.5 -> 461.6 TFLOP/s at 8192^3 (+27%), 414.4 -> 509.0 at
// 28672x2048x8192 (+23%); 128x256x64 s3 410.4 -> 566.0 (+38%). ncu (128x128x64 s4, 8192^3): tensor pipe active
// 60.6% of peak (s02: 28.7% on the H200), 8 warps per SM, shared-load bank conflicts 3.7 M of 214 M wavefronts
// (1.7%: about one per 64-bit metadata load, 2 per warp per k-tile; ldmatrix is conflict-free by the
// static_assert), DRAM read 5.5 GB for 0.2 GB compulsory: the block order, not the k-loop, is the next limit (s05).
// NOTE: the first version double-buffered A too and let every thread keep one source address per copied row:
// ptxas hoisted those 64-bit addresses out of the k-loop (2 registers each, 14 rows per thread at 128 threads) and
// spilled 236-244 bytes at 128x128 (92 at 128x256). A pointer walk (CpAsyncTile, kernels/common/tile_io.cuh) and
// A refilled in place brought it to 245-252 registers and no spill.
//
// Main loop for kKSteps = 2 (one row per k-step; a = A fragments, b = B fragments, buffers 0/1):
//
//   k-tile kt, ks = 0:  issue cp.async of tile kt+S-1 into the stage tile kt-1 used
//                       | mma(a, b0), with b1 <- tile kt step 1 after each n-tile, a <- step 1 in the last n-tile
//   k-tile kt, ks = 1:  wait(tile kt+1) + barrier | e' <- tile kt+1
//                       | mma(a, b1), with b0 <- tile kt+1 step 0 after each n-tile, a <- the same, last n-tile
//
// Shared stage (bytes, BM = BN = 128, BK = 64, 16-bit): A values 128 rows x 64 B (4 chunks) = 8192; B 128 x 128 B
// (8 chunks) = 16384; metadata 4 row groups x 32 lanes x 2 words x 4 B = 1024; total 25600 (4 stages: 102400, 2
// blocks per SM). 128x256x64: 8192 + 32768 + 1024 = 41984 per stage, 3 stages 125952 (1 block per SM).
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/common/elem.cuh"
#include "kernels/common/epilogue.cuh"
#include "kernels/common/instr.h"
#include "kernels/common/launch.cuh"
#include "kernels/common/ptx.cuh"
#include "kernels/common/swizzle.h"
#include "kernels/common/tile_io.cuh"
#include "kernels/format/format.h"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"

namespace sparse24::mma_sp {

// How the k-loop's metadata gets to the instruction: the step's own reader (below), or a substitute passed to
// s04_swizzle::tile (kernels/ablations/s05_mmaconstmeta.cuh: a constant word, no copies, no loads, the difference in
// time being the metadata's cost). A reader says whether the metadata travels through the stages (kStaged: the
// 4-byte cp.async per lane word in load_tile and the padding of row groups past M) and gives a lane its words of
// one row group and one k-tile (read: `p` is their place in the stage).
struct StagedLaneMetadata {
  static constexpr bool kStaged = true;
  template <class Vec>
  static __device__ __forceinline__ Vec read(const uint8_t* p) {
    return *reinterpret_cast<const Vec*>(p);  // one ld.shared.v2 (BK = 64) or .v4 (BK = 128)
  }
};

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES>
struct s04_swizzle : WarpTiled<s04_swizzle<T, BM, BN, BK, WM, WN, STAGES>, T, BM, BN, BK, WM, WN, STAGES> {
  using Base = WarpTiled<s04_swizzle, T, BM, BN, BK, WM, WN, STAGES>;
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
  static constexpr int kWarpGroups = kWarpM / kRowGroup;  // metadata row groups of one warp
  static constexpr int kElemBytes = sizeof(typename Elem<T>::type);
  static constexpr int kAChunks = BK / 2 * kElemBytes / 16;  // 16-byte chunks per compressed A row (BK 64: 4)
  static constexpr int kBChunks = BK * kElemBytes / 16;      // per B row (BK 64: 8)
  static constexpr int kAChunksPerStep = Instr::kCompressedK * kElemBytes / 16;  // 2
  static constexpr int kBChunksPerStep = kInstrK * kElemBytes / 16;              // 4
  static constexpr int kBlockWords = format::kLaneBlockBytes / 4;  // one lane block: a word per lane
  static constexpr int kMetaGroups = BM / kRowGroup;
  static constexpr int kMetaGroupWords = kBlockWords * kKSteps;    // one row group, one k-tile

  static constexpr int kAStageBytes = BM * kAChunks * 16;
  static constexpr int kBStageBytes = BN * kBChunks * 16;
  static constexpr int kMetaStageBytes = kMetaGroups * kMetaGroupWords * 4;
  static constexpr int kStageBytes = kAStageBytes + kBStageBytes + kMetaStageBytes;
  static constexpr int kSmemBytes = STAGES * kStageBytes;

  using MetaVec = std::conditional_t<kKSteps == 2, uint2, uint4>;  // one lane's words of one row group, one tile

  static_assert(STAGES >= 2 && STAGES <= 4, "s04 pipelines 2 to 4 stages");
  static_assert(kSmemBytes <= 227 * 1024, "dynamic shared memory per block is limited to 227 KB (sm_90)");
  static_assert(BK % kInstrK == 0 && (kKSteps == 2 || kKSteps == 4),
                "BK / 32 must be 2 or 4: even (static fragment buffers across k-tiles) and one v2/v4 meta load");
  static_assert(kInstrK == format::kLaneBlockCols, "one lane block per k-step of the instruction");
  static_assert(kWarpM % kRowGroup == 0, "a warp's rows must cover whole metadata row groups (F = 0 and 1 pairs)");
  static_assert(kWarpN % Instr::kN == 0, "a warp's columns must be whole n8 tiles");
  static_assert(swizzle_conflict_free<kAChunks>() && swizzle_conflict_free<kBChunks>(),
                "the swizzle must spread 8 rows over 8 bank groups");
  static_assert(kAChunks % kAChunksPerStep == 0 && kBChunks % kBChunksPerStep == 0, "whole k-steps per row");

  static __device__ uint32_t word(const uint2& v, int i) { return i == 0 ? v.x : v.y; }
  static __device__ uint32_t word(const uint4& v, int i) {
    return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
  }

  static __device__ void run_block(const GemmArgs& args) { tile(args, blockIdx.y * BM, blockIdx.x * BN); }

  // The block's whole job for the BM x BN tile of D at (block_m, block_n); s05 calls it with its own block order
  // (and its constant-metadata twin with another MetaReader).
  template <class MetaReader = StagedLaneMetadata>
  static __device__ void tile(const GemmArgs& args, int block_m, int block_n) {
    tile<MetaReader>(args, block_m, block_n, 0, args.K / BK,
                     [&](const auto& acc, int m0, int n0) { store_warp_tile<T>(acc, m0, n0, args); });
  }

  // The k-loop over BK tiles [kt_begin, kt_end) of the tile at (block_m, block_n), then epilogue(acc, m0, n0) with
  // the warp's accumulators and the element of D at their top left. tile() above passes the whole of K and
  // store_warp_tile; s06_splitk passes a K slice and an epilogue that writes f32 partials. An empty range leaves
  // acc zero. MetaReader: how the metadata reaches the e registers (StagedLaneMetadata above).
  template <class MetaReader = StagedLaneMetadata, class Epilogue>
  static __device__ void tile(const GemmArgs& args, int block_m, int block_n, int kt_begin, int kt_end,
                              Epilogue&& epilogue) {
    extern __shared__ __align__(16) uint8_t smem[];
    const uint32_t smem_base = ptx::smem_addr(smem);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int warp_m = warp / WN, warp_n = warp % WN;
    const int M = args.M, N = args.N, K = args.K;
    const int k_tiles = kt_end - kt_begin;  // load_tile(stage, kt) below takes kt relative to kt_begin

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
    if (MetaReader::kStaged && meta_groups_valid < kMetaGroups) {
      const int pad_words = (kMetaGroups - meta_groups_valid) * kMetaGroupWords;
      for (int s = 0; s < STAGES; ++s) {
        auto* m = reinterpret_cast<uint32_t*>(smem + s * kStageBytes + kAStageBytes + kBStageBytes) +
                  meta_groups_valid * kMetaGroupWords;
        for (int i = threadIdx.x; i < pad_words; i += kThreads) m[i] = format::kPaddingMetaWord;
      }
    }

    // Each thread's place in the A and B tile copies, fixed for the kernel (kernels/common/tile_io.cuh).
    using ACopy = CpAsyncTile<BM, kAChunks, kThreads>;
    using BCopy = CpAsyncTile<BN, kBChunks, kThreads>;
    static_assert(ACopy::kRowsPerStep % 8 == 0 && BCopy::kRowsPerStep % 8 == 0,
                  "the swizzle repeats every 8 rows: a thread's rows must be 8k apart");
    const ACopy a_copy(av_row_bytes, [](int r, int c) { return swizzle_offset<kAChunks>(r, c); });
    const BCopy b_copy(x_row_bytes, [](int r, int c) { return swizzle_offset<kBChunks>(r, c); });
    const int64_t a_step = ACopy::kRowsPerStep * av_row_bytes, b_step = BCopy::kRowsPerStep * x_row_bytes;

    // Issues the copies of k-tile kt into `stage` (commits nothing).
    auto load_tile = [&](int stage, int kt) {
      const uint32_t s = smem_base + stage * kStageBytes;
      const int k0 = (kt_begin + kt) * BK;
      a_copy.template issue<kAChunks * 16, EdgeRows::ZeroFill>(s, av_block + k0 / 2 * kElemBytes, a_step,
                                                                M - block_m);
      b_copy.template issue<kBChunks * 16, EdgeRows::ZeroFill>(s + kAStageBytes, x_block + k0 * kElemBytes, b_step,
                                                                N - block_n);
      // Metadata word (group g, k-step ks, lane l) of global lane block (g, k0/32 + ks) -> shared word
      // (g * 32 + l) * kKSteps + ks. Consecutive threads take consecutive shared words (ks fastest).
      if constexpr (MetaReader::kStaged) {
        constexpr int kWords = kMetaGroups * kMetaGroupWords;
        const uint32_t sm = s + kAStageBytes + kBStageBytes;
#pragma unroll
        for (int i = 0; i < (kWords + kThreads - 1) / kThreads; ++i) {
          const int w = i * kThreads + threadIdx.x;
          if (kWords % kThreads != 0 && w >= kWords) break;
          const int ks = w % kKSteps, l = (w / kKSteps) % kBlockWords, g = w / kMetaGroupWords;
          if (g < meta_groups_valid)
            ptx::cp_async_ca_4(sm + w * 4, meta_block + g * meta_group_bytes +
                                               (k0 / kInstrK + ks) * format::kLaneBlockBytes + l * 4);
        }
      }
    };

    // Fragment addresses. Every row a lane addresses differs from its first by a multiple of 8 (m16 and n8 tiles,
    // warp offsets), so the swizzle term is fixed per lane. A lane's first chunk (A: 0 or 1, B: 0..3) is below the
    // chunks per k-step (2, 4: powers of 2), so k-step ks's chunk is first + ks * step = first ^ (ks * step), and
    // XOR commutes with the swizzle's XOR: the offset of step ks is the offset of step 0 XOR a constant.
    const frag::RowCol la = frag::ldmatrix_x4_a_16x16(lane), lb = frag::ldmatrix_x4_b_8x32(lane);
    const uint32_t a_off0 = swizzle_offset<kAChunks>(warp_m * kWarpM + la.row, la.col * kElemBytes / 16);
    const uint32_t b_off0 = kAStageBytes + swizzle_offset<kBChunks>(warp_n * kWarpN + lb.row, lb.col * kElemBytes / 16);
    static_assert(8 * kElemBytes / 16 * 2 <= kAChunksPerStep && 8 * kElemBytes / 16 * 4 <= kBChunksPerStep &&
                      (kAChunksPerStep & (kAChunksPerStep - 1)) == 0 && (kBChunksPerStep & (kBChunksPerStep - 1)) == 0,
                  "a lane's first chunk must be below the (power of 2) chunks per k-step for the XOR step offsets");
    constexpr uint32_t kAMTileBytes = Instr::kM * kAChunks * 16, kBNTileBytes = Instr::kN * kBChunks * 16;
    const uint32_t meta_off = kAStageBytes + kBStageBytes + ((warp_m * kWarpGroups) * kBlockWords + lane) * kKSteps * 4;

    uint32_t a[kMTiles][4], b[2][kNTiles][4];
    MetaVec e[kWarpGroups], e_next[kWarpGroups];
    auto load_a = [&](uint32_t (&dst)[4], uint32_t stage_addr, int ks, int mt) {
      ptx::ldmatrix_x4(dst, stage_addr + (a_off0 ^ (ks * kAChunksPerStep * 16)) + mt * kAMTileBytes);
    };
    auto load_b = [&](uint32_t (&dst)[4], uint32_t stage_addr, int ks, int nt) {
      ptx::ldmatrix_x4(dst, stage_addr + (b_off0 ^ (ks * kBChunksPerStep * 16)) + nt * kBNTileBytes);
    };
    auto load_e = [&](MetaVec (&dst)[kWarpGroups], int stage) {
      const uint8_t* p = smem + stage * kStageBytes + meta_off;
#pragma unroll
      for (int j = 0; j < kWarpGroups; ++j)
        dst[j] = MetaReader::template read<MetaVec>(p + j * kBlockWords * kKSteps * 4);
    };

    // Prologue: STAGES-1 tiles in flight; tile 0 landed; step 0's fragments and tile 0's metadata in registers.
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
      if (s < k_tiles) load_tile(s, s);
      ptx::cp_async_commit();
    }
    ptx::cp_async_wait<STAGES - 2>();
    __syncthreads();
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt) load_a(a[mt], smem_base, 0, mt);
#pragma unroll
    for (int nt = 0; nt < kNTiles; ++nt) load_b(b[0][nt], smem_base, 0, nt);
    load_e(e, 0);

    float acc[kMTiles][kNTiles][4] = {};
    int read_stage = 0, write_stage = STAGES - 1;
    for (int kt = 0; kt < k_tiles; ++kt) {
#pragma unroll
      for (int ks = 0; ks < kKSteps; ++ks) {
        const int cur = ks % 2, nxt = cur ^ 1;
        if (ks == 0) {  // the stage of tile kt-1 was last read before the previous barrier: refill it
          if (kt + STAGES - 1 < k_tiles) load_tile(write_stage, kt + STAGES - 1);
          ptx::cp_async_commit();
          write_stage = write_stage + 1 == STAGES ? 0 : write_stage + 1;
        }
        if (ks == kKSteps - 1) {  // tile kt+1 has landed (for everyone); from here on, loads read it
          ptx::cp_async_wait<STAGES - 2>();
          __syncthreads();
          read_stage = read_stage + 1 == STAGES ? 0 : read_stage + 1;
          load_e(e_next, read_stage);
        }
        // On the last k-tile the prefetch reads a stage nobody writes any more: harmless, and branch-free.
        const uint32_t st = smem_base + read_stage * kStageBytes;
        const int next_ks = (ks + 1) % kKSteps;
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt) {
#pragma unroll
          for (int mt = 0; mt < kMTiles; ++mt) {
            // Even m16 tiles are rows 0..15 of their row group (selector 0), odd ones rows 16..31 (selector 1).
            const uint32_t ew = word(e[mt / 2], ks);
            if (mt % 2 == 0)
              ptx::mma_sp_m16n8k32<T, 0>(acc[mt][nt], a[mt], b[cur][nt], ew);
            else
              ptx::mma_sp_m16n8k32<T, 1>(acc[mt][nt], a[mt], b[cur][nt], ew);
            if (nt == kNTiles - 1) load_a(a[mt], st, next_ks, mt);  // a[mt]'s last use this step: refill it
          }
          load_b(b[nxt][nt], st, next_ks, nt);  // b[cur][nt] is dead: refill its twin
        }
      }
#pragma unroll
      for (int j = 0; j < kWarpGroups; ++j) e[j] = e_next[j];
    }
    ptx::cp_async_wait<0>();  // nothing may be in flight into shared memory when the block exits

    epilogue(acc, block_m + warp_m * kWarpM, block_n + warp_n * kWarpN);
  }
};

}  // namespace sparse24::mma_sp
