// dense step 04, "swizzle": the dense counterpart of mma_sp/s04_swizzle.cuh, for a like-for-like ratio.
//
// What it adds over dense s03_cpasync: the sparse s04's first two ideas (there is no metadata): unpadded
// XOR-swizzled shared tiles (kernels/common/swizzle.h) and fragments double-buffered in registers, with the
// k-tile's barrier placed before its last mma group so that every read of a stage precedes the barrier that frees it.
// The dense k-step is 32 wide as in s03 (one B ldmatrix.x4 per n-tile covers k 0..31: b0,b1 = k 0..15, b2,b3 =
// k 16..31), split into two k16 halves of mma.sync; the double buffer is over the A fragments of the halves
// (2 x 16 registers) and B is refilled n-tile by n-tile after its last use in the second half:
//
//   half 0 of k-step s:  load A(s, half 1)                      | mma(A(s, 0), B(s).lo) for every (mt, nt)
//   half 1 of k-step s:  [last s of the tile: wait + barrier]    | for nt: mma(A(s, 1), B(s, nt).hi) for every mt,
//                        load A(s+1, half 0)                     |         then load B(s+1, nt)
//   (s+1 is step 0 of the next k-tile after the barrier.) cp.async of tile kt+S-1 is issued at half 0 of step 0.
//
// Preconditions: the sparse twin's rules (M % 32 == 0, K % BK == 0, any N >= 1), for identical shape coverage; 8-bit
// operands M % 16 == 0 (the sparse twin's LaneBlocks8 rows).
//
// 8-bit operands (int8, e4m3; issue 16): mma.sync m16n8k32 (8-bit) with BK = 128 values, which is BK = 64 at 16 bits
// in bytes: the 8-bit m16n8k32 A fragment (16 x 32 bytes) and B fragment (32 x 8 bytes) are the 16-bit m16n8k16
// ones byte for byte (the lane maps of kernels/common/fragments.h, checked lane by lane by
// mma_sp::fragments_match_in_bytes, mma_sp/s04_swizzle.cuh), so the tiles, the copies and the ldmatrix.x4 addresses
// are the 16-bit ones. What differs: the instruction (mma(): IMMA.16832 for int8; e4m3 is emulated on sm_90 with
// conversions and 16-bit HMMA, docs/sparse-tensor-cores.md §9) and the accumulators and D (int8: exact s32 to an
// int32 D; e4m3: f32 to bf16). tf32 likewise: mma.sync m16n8k8 with BK = 32 values (A 16 x 32 bytes, B 32 bytes per
// column: the m16n8k16 bytes again), f32 D.
// NOTE: with one source address per copied row per thread (s03's copy helper) ptxas hoisted them out of the
// k-loop and spilled 64-84 bytes at 128 threads; the pointer walk of CpAsyncTile (tile_io.cuh) removed the spill.
// Expected bottleneck: shared-memory bandwidth and issue: per k16 a 64x64 warp tile reads 4 KB for 32 mma.sync.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 408.2 TFLOP/s = 64% of the mma.sync m16n8k16 loop (642), 0.61x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_a89f4fa).
// Shared stage (BM = BN = 128, BK = 64): A 128 x 128 B = 16384, B 16384; 32768 per stage, 3 stages 98304 (2 blocks
// per SM). 128x256x64: 16384 + 32768 = 49152 per stage, 3 stages 147456 (1 block per SM).
#pragma once

#include <cstdint>

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

namespace sparse24::dense {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES>
struct s04_swizzle : WarpTiled<s04_swizzle<T, BM, BN, BK, WM, WN, STAGES>, T, BM, BN, BK, WM, WN, STAGES> {
  using Base = WarpTiled<s04_swizzle, T, BM, BN, BK, WM, WN, STAGES>;
  using Base::kThreads;  // a dependent base's names need naming
  // Measured with __launch_bounds__(threads, 1) (BlockTiled's default when it was measured): kept explicitly.
  static constexpr int kMinBlocksPerSm = 1;
  using Instr = instr::MmaDense<T>;  // m16n8k16 (16-bit), m16n8k32 (8-bit), m16n8k8 (tf32): the same bytes
  static constexpr bool k8Bit = info(T).bits == 8;
  // mma.sync, ldmatrix, cp.async: sm_80+ (int8); the fp8 forms sm_89+ (emulated on sm_90)
  static constexpr ArchRule kArch = {Instr::form().min_sm};
  static constexpr bool kSparse = false;
  static constexpr format::MetaLayout kMetaLayout = format::MetaLayout::Canonical;  // unused: no metadata
  // M: the sparse twin's lane-block rows (32; 8-bit LaneBlocks8: 16), for identical shape coverage.
  static constexpr ShapeRule kRule = {
      desc(k8Bit ? format::MetaLayout::LaneBlocks8 : format::MetaLayout::LaneBlocks16).block_rows(), 1, BK, 1, 0,
      "kept equal to the sparse twin's lane-block rows", "whole K tiles"};
  // The accumulators (int8: s32, exact) and D (16-bit: T; int8: int32; fp8: bf16; tf32: f32), operands.h's defaults.
  using Acc = std::conditional_t<T == DType::int8, int32_t, float>;
  static constexpr DType kD = default_operands(T).d;

  static constexpr int kInstrK = Instr::kK;   // dense K of mma.sync m16n8k16 (8-bit: m16n8k32)
  static constexpr int kStepK = 2 * kInstrK;  // k per B fragment (ldmatrix.x4 of 4 16-byte k chunks)
  static constexpr int kKSteps = BK / kStepK;
  static constexpr int kWarpM = BM / WM, kWarpN = BN / WN;
  static constexpr int kMTiles = kWarpM / Instr::kM, kNTiles = kWarpN / Instr::kN;
  static constexpr int kElemBytes = sizeof(typename Elem<T>::type);
  static constexpr int kChunks = BK * kElemBytes / 16;               // A and B rows: 16-byte chunks (BK 64: 8)
  static constexpr int kChunksPerHalf = kInstrK * kElemBytes / 16;   // 2
  static constexpr int kChunksPerStep = kStepK * kElemBytes / 16;    // 4
  static constexpr int kAStageBytes = BM * kChunks * 16;
  static constexpr int kBStageBytes = BN * kChunks * 16;
  static constexpr int kStageBytes = kAStageBytes + kBStageBytes;
  static constexpr int kSmemBytes = STAGES * kStageBytes;

  static_assert(STAGES >= 2 && STAGES <= 4, "s04 pipelines 2 to 4 stages");
  static_assert(kSmemBytes <= 227 * 1024, "dynamic shared memory per block is limited to 227 KB (sm_90)");
  static_assert(BK % kStepK == 0, "BK must be a multiple of two instruction Ks (32, 8-bit 64)");
  static_assert(kChunksPerHalf == 2 && kChunksPerStep == 4,
                "an instruction reads 32 bytes of A per row and 32 of B per column at either width: the 8-bit "
                "m16n8k32 fragments are the 16-bit m16n8k16 ones byte for byte (mma_sp/s04_swizzle.cuh checks the "
                "lane maps), so the ldmatrix addresses below serve both");
  static_assert(kWarpM % Instr::kM == 0 && kWarpN % Instr::kN == 0, "warp tiles must be whole m16n8 tiles");
  static_assert(swizzle_conflict_free<kChunks>(), "the swizzle must spread 8 rows over 8 bank groups");

  // One dense instruction of the operand type (Instr): the wrappers of kernels/common/ptx.cuh.
  static __device__ __forceinline__ void mma(Acc (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    if constexpr (T == DType::int8)
      ptx::mma_m16n8k32_s8(d, a, b);
    else if constexpr (T == DType::tf32)
      ptx::mma_m16n8k8_tf32(d, a, b);
    else if constexpr (k8Bit)
      ptx::mma_m16n8k32_f8<T>(d, a, b);
    else
      ptx::mma_m16n8k16<T>(d, a, b);
  }

  static __device__ void run_block(const GemmArgs& args) { tile(args, blockIdx.y * BM, blockIdx.x * BN); }

  // The block's whole job for the BM x BN tile of D at (block_m, block_n); s05 calls it with its own block order.
  static __device__ void tile(const GemmArgs& args, int block_m, int block_n) {
    tile(args, block_m, block_n, 0, args.K / BK,
         [&](const auto& acc, int m0, int n0) { store_warp_tile<kD>(acc, m0, n0, args); });
  }

  // The k-loop over BK tiles [kt_begin, kt_end) of the tile at (block_m, block_n), then epilogue(acc, m0, n0) with
  // the warp's accumulators and the element of D at their top left. tile() above passes the whole of K and
  // store_warp_tile; s06_splitk passes a K slice and an epilogue that writes f32 partials. An empty range leaves
  // acc zero.
  template <class Epilogue>
  static __device__ void tile(const GemmArgs& args, int block_m, int block_n, int kt_begin, int kt_end,
                              Epilogue&& epilogue) {
    extern __shared__ __align__(16) uint8_t smem[];
    const uint32_t smem_base = ptx::smem_addr(smem);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int warp_m = warp / WN, warp_n = warp % WN;
    const int M = args.M, N = args.N;
    const int k_tiles = kt_end - kt_begin;  // load_tile(stage, kt) below takes kt relative to kt_begin

    const auto* a_g = static_cast<const uint8_t*>(args.a);
    const auto* x = static_cast<const uint8_t*>(args.b);
    const int64_t a_row_bytes = args.lda * kElemBytes, x_row_bytes = args.ldb * kElemBytes;
    const uint8_t* a_block = a_g + block_m * a_row_bytes;
    const uint8_t* x_block = x + block_n * x_row_bytes;

    // Each thread's place in the A and B tile copies, fixed for the kernel (kernels/common/tile_io.cuh).
    using ACopy = CpAsyncTile<BM, kChunks, kThreads>;
    using BCopy = CpAsyncTile<BN, kChunks, kThreads>;
    static_assert(ACopy::kRowsPerStep % 8 == 0 && BCopy::kRowsPerStep % 8 == 0,
                  "the swizzle repeats every 8 rows: a thread's rows must be 8k apart");
    const ACopy a_copy(a_row_bytes, [](int r, int c) { return swizzle_offset<kChunks>(r, c); });
    const BCopy b_copy(x_row_bytes, [](int r, int c) { return swizzle_offset<kChunks>(r, c); });
    const int64_t a_step = ACopy::kRowsPerStep * a_row_bytes, b_step = BCopy::kRowsPerStep * x_row_bytes;

    auto load_tile = [&](int stage, int kt) {
      const uint32_t s = smem_base + stage * kStageBytes;
      const int k0 = (kt_begin + kt) * BK;
      a_copy.template issue<kChunks * 16, EdgeRows::ZeroFill>(s, a_block + k0 * kElemBytes, a_step, M - block_m);
      b_copy.template issue<kChunks * 16, EdgeRows::ZeroFill>(s + kAStageBytes, x_block + k0 * kElemBytes, b_step,
                                                               N - block_n);
    };

    // Fragment addresses: the swizzle term is fixed per lane (rows differ by multiples of 8). A lane's first chunk
    // (A: 0 or 1, B: 0..3) is below the chunks per k16 half (2) / per k-step (4), powers of 2, so the offset of half
    // h (step s) is the offset of half 0 (step 0) XOR h * 2 (s * 4) chunks: XOR commutes with the swizzle's XOR.
    // The ldmatrix maps count 16-bit elements (ldmatrix .b16) whatever the operand type: their columns are
    // converted to bytes as such (8-bit operands: the same bytes, twice the values; header).
    constexpr int kLdmatrixBytes = 2;
    const frag::RowCol la = frag::ldmatrix_x4_a_16x16(lane), lb = frag::ldmatrix_x4_b_8x32(lane);
    const uint32_t a_off0 = swizzle_offset<kChunks>(warp_m * kWarpM + la.row, la.col * kLdmatrixBytes / 16);
    const uint32_t b_off0 = kAStageBytes + swizzle_offset<kChunks>(warp_n * kWarpN + lb.row, lb.col * kLdmatrixBytes / 16);
    static_assert(8 * kLdmatrixBytes / 16 * 2 <= kChunksPerHalf && 8 * kLdmatrixBytes / 16 * 4 <= kChunksPerStep &&
                      (kChunksPerHalf & (kChunksPerHalf - 1)) == 0 && (kChunksPerStep & (kChunksPerStep - 1)) == 0,
                  "a lane's first chunk must be below the (power of 2) chunks per half/step for the XOR offsets");
    constexpr uint32_t kMTileBytes = Instr::kM * kChunks * 16, kNTileBytes = Instr::kN * kChunks * 16;

    uint32_t a[2][kMTiles][4], b[kNTiles][4];
    auto load_a = [&](uint32_t (&dst)[kMTiles][4], uint32_t stage_addr, int half) {  // half: k16 index in tile
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) ptx::ldmatrix_x4(dst[mt], stage_addr + (a_off0 ^ (half * kChunksPerHalf * 16)) + mt * kMTileBytes);
    };

#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
      if (s < k_tiles) load_tile(s, s);
      ptx::cp_async_commit();
    }
    ptx::cp_async_wait<STAGES - 2>();
    __syncthreads();
    load_a(a[0], smem_base, 0);
#pragma unroll
    for (int nt = 0; nt < kNTiles; ++nt) ptx::ldmatrix_x4(b[nt], smem_base + b_off0 + nt * kNTileBytes);

    Acc acc[kMTiles][kNTiles][4] = {};
    int read_stage = 0, write_stage = STAGES - 1;
    for (int kt = 0; kt < k_tiles; ++kt) {
#pragma unroll
      for (int s = 0; s < kKSteps; ++s) {
        // Half 0: prefetch A of half 1 (same stage), mma on the low k16 of every B fragment.
        if (s == 0) {
          if (kt + STAGES - 1 < k_tiles) load_tile(write_stage, kt + STAGES - 1);
          ptx::cp_async_commit();
          write_stage = write_stage + 1 == STAGES ? 0 : write_stage + 1;
        }
        uint32_t st = smem_base + read_stage * kStageBytes;
        load_a(a[1], st, 2 * s + 1);
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt) {
          const uint32_t b_lo[2] = {b[nt][0], b[nt][1]};
#pragma unroll
          for (int mt = 0; mt < kMTiles; ++mt) mma(acc[mt][nt], a[0][mt], b_lo);
        }
        // Half 1: on the tile's last step, wait for tile kt+1 first; then prefetch step s+1 (or the next tile's
        // step 0) while the high k16 mma run, refilling each B fragment after its last use.
        if (s == kKSteps - 1) {
          ptx::cp_async_wait<STAGES - 2>();
          __syncthreads();
          read_stage = read_stage + 1 == STAGES ? 0 : read_stage + 1;
          st = smem_base + read_stage * kStageBytes;
        }
        const int next_s = (s + 1) % kKSteps;
        load_a(a[0], st, 2 * next_s);
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt) {
          const uint32_t b_hi[2] = {b[nt][2], b[nt][3]};
#pragma unroll
          for (int mt = 0; mt < kMTiles; ++mt) mma(acc[mt][nt], a[1][mt], b_hi);
          ptx::ldmatrix_x4(b[nt], st + (b_off0 ^ (next_s * kChunksPerStep * 16)) + nt * kNTileBytes);
        }
      }
    }
    ptx::cp_async_wait<0>();

    epilogue(acc, block_m + warp_m * kWarpM, block_n + warp_n * kWarpN);
  }
};

}  // namespace sparse24::dense
