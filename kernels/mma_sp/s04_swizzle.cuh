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
// 8-bit operands (below): M % 16 == 0, metadata LaneBlocks8, BK / 64 = 2 or 4. tf32 (below): BK / 16 = 2 or 4.
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
//
// 8-bit operands (int8, e4m3; issue 16): the same kernel on mma.sp m16n8k64 with BK = 128 values, which is BK = 64 at
// 16 bits in bytes. The evidence (docs/sparse-tensor-cores.md §3, layouts verified on an H200 by the one-instruction
// tests of §9; PTX ISA 9.7.14.6.2): m16n8k64's compressed A register i of lane (g, q) holds row g + 8 (i % 2), bytes
// 16 (i / 2) + 4q .. + 3, exactly the bytes of m16n8k32's A register i (16 x 16 two-byte values: values 8 (i / 2)
// + 2q and + 1); m16n8k64's B register i holds column g, bytes 16i + 4q .. + 3, exactly m16n8k32's B register i
// (k = 8i + 2q and + 1). fragments_match_in_bytes() below checks it lane by lane and element by element. So every
// byte in shared memory, the swizzle, the cp.async copies and the ldmatrix.x4 addresses of a k-step are the 16-bit
// ones (ldmatrix .b16 moves bytes in pairs; which values share a pair is the instruction's business). What differs
// (`if constexpr (k8Bit)`):
//  - metadata: LaneBlocks8, one 32-word block per m16 tile and k-step (selector 0 only: every lane of a quad supplies
//    its own word), so twice the words per row and k-step. The stage keeps the global order [row group][k-step][lane]
//    (16-byte cp.async, row groups past M skipped and padded once), and a lane reads its word of (m16 tile, k-step)
//    with one conflict-free ld.shared.b32 right after that tile's last mma.sp of the step, as the A fragment is
//    refilled: 4 registers for a 64-row warp tile, where the 16-bit e / e_next double buffer over 4 row groups x 2
//    k-steps would take 16 (the 16-bit kernels are at 249-255 registers already). Shared wavefronts per warp and
//    k-tile: 8 for the metadata against 4 at 16 bits, beside the 96 of the ldmatrix.x4 (+4%).
//  - the accumulators and D (operands.h's defaults): int8 accumulates exactly in s32 and writes an int32 D; e4m3
//    accumulates in f32 and writes a bf16 D.
//  - M: a multiple of 16 (one LaneBlocks8 block). The last block tile may then hold warps without rows; they compute
//    on zero-filled A and padding metadata and store nothing (store_acc_m16n8 checks rows), and nothing is read past
//    A or the metadata (every copy checks rows_valid): s01's memcheck lesson (warps past M) is about its direct loads.
// Shared stage, 8-bit, 128x128x128: A 8192 + B 16384 + metadata 8 row groups x 2 k-steps x 128 B = 2048: 26624 B (4
// stages 104 KB, 2 blocks per SM); 128x256x128: 43008 (3 stages 126 KB); 256x128x128: 36864 (3 stages 108 KB).
//
// tf32 operands (A 1:2 sparse): the same again on mma.sp m16n8k16 with BK = 32 values (128 bytes of B per row). Its
// compressed A register i (row g + 8 (i % 2), value q + 4 (i / 2): bytes 16 (i / 2) + 4q .. + 3) and B register i
// (k = q + 4i: bytes 16i + 4q .. + 3) are m16n8k32's bytes (frag::tf32_fragments_are_16bit_bytes() checks it), and its
// metadata is the 16-bit k32 geometry in pair-nibbles (0x4 keeps the first of a pair, 0xE the second; selectors 0
// and 1: docs/sparse-tensor-cores.md §3), i.e. LaneBlocks16 as at 16 bits, one nibble per 2 dense values. So tf32
// differs from 16-bit only in the instruction and in its f32 D. Stages: the 16-bit sizes.
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
// one row group and one k-tile (read: `p` is their place in the stage; 8-bit operands read one word per m16 tile
// and k-step, Vec = uint32_t).
struct StagedLaneMetadata {
  static constexpr bool kStaged = true;
  template <class Vec>
  static __device__ __forceinline__ Vec read(const uint8_t* p) {
    return *reinterpret_cast<const Vec*>(p);  // one ld.shared.v2 (BK = 64) or .v4 (BK = 128); 8-bit: ld.shared.b32
  }
};

// THE fact the 8-bit kernels rest on (header), checked for every lane: 8-bit fragment element j of m16n8k64 (A:
// compressed 16 x 32 bytes; B: 64 x 8 bytes) sits in the same register of the same lane, at the same (row, byte), as
// byte j % 2 of 16-bit element j / 2 of m16n8k32 (A: compressed 16 x 16 values; B: 32 x 8). The lane maps are
// kernels/common/fragments.h's, verified on an H200 by one-instruction tests (docs/sparse-tensor-cores.md §3, §9).
// So the ldmatrix.x4 addresses of a 16-bit k-step load an 8-bit one: register i of 4 bytes, element j in register
// j / 4 (8-bit) = (j / 2) / 2 (16-bit), byte j % 4 of it (8-bit) = 2 * ((j / 2) % 2) + j % 2 (16-bit).
constexpr bool fragments_match_in_bytes() {
  for (int lane = 0; lane < 32; ++lane)
    for (int j = 0; j < 16; ++j) {
      const frag::RowCol a8 = frag::a8_m16k32(lane, j), a16 = frag::a_m16k16(lane, j / 2);
      if (a8.row != a16.row || a8.col != 2 * a16.col + j % 2) return false;  // (row, byte column)
      const frag::RowCol b8 = frag::b8_k64n8(lane, j), b16 = frag::b_k32n8(lane, j / 2);
      if (b8.col != b16.col || b8.row != 2 * b16.row + j % 2) return false;  // (byte row k, column n)
    }
  return true;
}

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES>
struct s04_swizzle : WarpTiled<s04_swizzle<T, BM, BN, BK, WM, WN, STAGES>, T, BM, BN, BK, WM, WN, STAGES> {
  using Base = WarpTiled<s04_swizzle, T, BM, BN, BK, WM, WN, STAGES>;
  using Base::kThreads;  // a dependent base's names need naming
  // Measured with __launch_bounds__(threads, 1) (BlockTiled's default when it was measured): kept explicitly.
  static constexpr int kMinBlocksPerSm = 1;
  using Instr = instr::MmaSp<T>;  // m16n8k32 (16-bit) or m16n8k64 (8-bit): the same bytes per k-step (header)
  static constexpr bool k8Bit = info(T).bits == 8;
  // mma.sp, ldmatrix, cp.async: sm_80+ (int8); the fp8 forms sm_89+ (emulated on sm_90, header)
  static constexpr ArchRule kArch = {Instr::form().min_sm};
  static constexpr bool kSparse = true;
  static constexpr format::MetaLayout kMetaLayout = k8Bit ? format::MetaLayout::LaneBlocks8
                                                           : format::MetaLayout::LaneBlocks16;
  static constexpr int kRowGroup = desc(kMetaLayout).block_rows();  // rows per metadata lane block: 32, 8-bit 16
  static constexpr int kBlockBytes = desc(kMetaLayout).block_bytes();  // one lane block: a word per lane (both)
  static constexpr ShapeRule kRule = {kRowGroup, 1, BK, 1, 0,
                                      k8Bit ? "one 8-bit metadata lane block serves 16 rows"
                                            : "one metadata lane block serves 32 rows",
                                      "whole K tiles"};
  // The accumulators (int8: s32, exact) and D (16-bit: T; int8: int32; fp8: bf16; tf32: f32), operands.h's defaults.
  using Acc = std::conditional_t<T == DType::int8, int32_t, float>;
  static constexpr DType kD = default_operands(T).d;

  static constexpr int kInstrK = Instr::kK;          // dense K of mma.sp m16n8k32 (8-bit: m16n8k64, tf32: m16n8k16)
  static constexpr int kKSteps = BK / kInstrK;       // mma k-steps per k-tile
  static constexpr int kWarpM = BM / WM, kWarpN = BN / WN;
  static constexpr int kMTiles = kWarpM / Instr::kM, kNTiles = kWarpN / Instr::kN;
  static constexpr int kWarpGroups = kWarpM / kRowGroup;  // metadata row groups of one warp
  static constexpr int kTilesPerGroup = kRowGroup / Instr::kM;  // m16 tiles one metadata word serves: 2, 8-bit 1
  static constexpr int kElemBytes = sizeof(typename Elem<T>::type);
  static constexpr int kAChunks = BK / 2 * kElemBytes / 16;  // 16-byte chunks per compressed A row (BK 64: 4)
  static constexpr int kBChunks = BK * kElemBytes / 16;      // per B row (BK 64: 8; 8-bit BK 128: 8)
  static constexpr int kAChunksPerStep = Instr::kCompressedK * kElemBytes / 16;  // 2 (both widths)
  static constexpr int kBChunksPerStep = kInstrK * kElemBytes / 16;              // 4 (both widths)
  static constexpr int kABytesPerStep = Instr::kCompressedK * kElemBytes;  // compressed A bytes per row, k-step
  static constexpr int kBBytesPerStep = kInstrK * kElemBytes;              // B bytes per column, k-step
  static constexpr int kBlockWords = kBlockBytes / 4;  // one lane block: a word per lane
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
                "BK / instruction K must be 2 or 4: even (static fragment buffers across k-tiles) and one v2/v4 "
                "meta load");
  // A nibble covers a group of dense values: 4 (2:4), tf32's pairs 2 (1:2).
  static_assert(kInstrK == info(T).group * desc(kMetaLayout).block_nibble_cols(),
                "one lane block per k-step of the instruction");
  static_assert(kWarpM % kRowGroup == 0, "a warp's rows must cover whole metadata row groups (F = 0 and 1 pairs)");
  static_assert(kRowGroup % Instr::kM == 0 && (k8Bit ? kTilesPerGroup == 1 : kTilesPerGroup == 2),
                "a 16-bit metadata word serves two m16 tiles (selectors 0, 1), an 8-bit one a single tile");
  static_assert(!k8Bit || fragments_match_in_bytes(),
                "8-bit fragments must be the 16-bit ones byte for byte, or the ldmatrix addresses below are wrong");
  static_assert(T != DType::tf32 || frag::tf32_fragments_are_16bit_bytes(),
                "tf32 fragments must be the 16-bit ones byte for byte, or the ldmatrix addresses below are wrong");
  static_assert(kABytesPerStep == 32 && kBBytesPerStep == 64,
                "every sparse warp-level form reads 32 bytes of compressed A per row and 64 of B per column");
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
                     [&](const auto& acc, int m0, int n0) { store_warp_tile<kD>(acc, m0, n0, args); });
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
    const int64_t meta_group_bytes = int64_t(K / kInstrK) * kBlockBytes;  // one row group, all of K
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
      // 8-bit: the global order, [g][ks][l]: a row group's k-steps are consecutive 128-byte blocks there, so a
      // group's k-tile is one 16-byte-copyable row (kMetaGroupWords * 4 bytes); row groups past M are skipped.
      if constexpr (MetaReader::kStaged && k8Bit) {
        constexpr int kRowBytes = kMetaGroupWords * 4;
        cp_async_rows_16B<kMetaGroups, kRowBytes, kThreads, EdgeRows::Skip>(
            s + kAStageBytes + kBStageBytes, meta_block + (k0 / kInstrK) * kBlockBytes, meta_group_bytes,
            meta_groups_valid, [](int r, int c) { return r * kRowBytes + c * 16; });
      } else if constexpr (MetaReader::kStaged) {
        constexpr int kWords = kMetaGroups * kMetaGroupWords;
        const uint32_t sm = s + kAStageBytes + kBStageBytes;
#pragma unroll
        for (int i = 0; i < (kWords + kThreads - 1) / kThreads; ++i) {
          const int w = i * kThreads + threadIdx.x;
          if (kWords % kThreads != 0 && w >= kWords) break;
          const int ks = w % kKSteps, l = (w / kKSteps) % kBlockWords, g = w / kMetaGroupWords;
          if (g < meta_groups_valid)
            ptx::cp_async_ca_4(sm + w * 4, meta_block + g * meta_group_bytes +
                                               (k0 / kInstrK + ks) * kBlockBytes + l * 4);
        }
      }
    };

    // Fragment addresses. Every row a lane addresses differs from its first by a multiple of 8 (m16 and n8 tiles,
    // warp offsets), so the swizzle term is fixed per lane. A lane's first chunk (A: 0 or 1, B: 0..3) is below the
    // chunks per k-step (2, 4: powers of 2), so k-step ks's chunk is first + ks * step = first ^ (ks * step), and
    // XOR commutes with the swizzle's XOR: the offset of step ks is the offset of step 0 XOR a constant.
    // The ldmatrix maps count 16-bit elements (ldmatrix .b16) whatever the operand type: their columns are
    // converted to bytes as such (8-bit operands: the same bytes, twice the values; header).
    constexpr int kLdmatrixBytes = 2;
    const frag::RowCol la = frag::ldmatrix_x4_a_16x16(lane), lb = frag::ldmatrix_x4_b_8x32(lane);
    const uint32_t a_off0 = swizzle_offset<kAChunks>(warp_m * kWarpM + la.row, la.col * kLdmatrixBytes / 16);
    const uint32_t b_off0 = kAStageBytes + swizzle_offset<kBChunks>(warp_n * kWarpN + lb.row, lb.col * kLdmatrixBytes / 16);
    static_assert(8 * kLdmatrixBytes / 16 * 2 <= kAChunksPerStep && 8 * kLdmatrixBytes / 16 * 4 <= kBChunksPerStep &&
                      (kAChunksPerStep & (kAChunksPerStep - 1)) == 0 && (kBChunksPerStep & (kBChunksPerStep - 1)) == 0,
                  "a lane's first chunk must be below the (power of 2) chunks per k-step for the XOR step offsets");
    constexpr uint32_t kAMTileBytes = Instr::kM * kAChunks * 16, kBNTileBytes = Instr::kN * kBChunks * 16;
    const uint32_t meta_off = kAStageBytes + kBStageBytes + ((warp_m * kWarpGroups) * kBlockWords + lane) * kKSteps * 4;

    // 8-bit: word (m16 tile mt, k-step ks) of this lane at [g][ks][lane] (load_tile), refilled in place after
    // its last use, as a[mt]: 4 registers where e and e_next below would take 16 (4 row groups x 2 k-steps x 2).
    const uint32_t meta8_off = kAStageBytes + kBStageBytes + (warp_m * kWarpGroups * kMetaGroupWords + lane) * 4;
    [[maybe_unused]] auto load_e8 = [&](int stage, int ks, int mt) -> uint32_t {
      return MetaReader::template read<uint32_t>(smem + stage * kStageBytes + meta8_off +
                                                 (mt * kKSteps + ks) * kBlockBytes);
    };

    uint32_t a[kMTiles][4], b[2][kNTiles][4];
    [[maybe_unused]] uint32_t e8[kMTiles];
    [[maybe_unused]] MetaVec e[kWarpGroups], e_next[kWarpGroups];
    auto load_a = [&](uint32_t (&dst)[4], uint32_t stage_addr, int ks, int mt) {
      ptx::ldmatrix_x4(dst, stage_addr + (a_off0 ^ (ks * kAChunksPerStep * 16)) + mt * kAMTileBytes);
    };
    auto load_b = [&](uint32_t (&dst)[4], uint32_t stage_addr, int ks, int nt) {
      ptx::ldmatrix_x4(dst, stage_addr + (b_off0 ^ (ks * kBChunksPerStep * 16)) + nt * kBNTileBytes);
    };
    [[maybe_unused]] auto load_e = [&](MetaVec (&dst)[kWarpGroups], int stage) {
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
    if constexpr (k8Bit) {
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) e8[mt] = load_e8(0, 0, mt);
    } else {
      load_e(e, 0);
    }

    Acc acc[kMTiles][kNTiles][4] = {};
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
          if constexpr (!k8Bit) load_e(e_next, read_stage);
        }
        // On the last k-tile the prefetch reads a stage nobody writes any more: harmless, and branch-free.
        const uint32_t st = smem_base + read_stage * kStageBytes;
        const int next_ks = (ks + 1) % kKSteps;
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt) {
#pragma unroll
          for (int mt = 0; mt < kMTiles; ++mt) {
            if constexpr (k8Bit) {
              // 8-bit: each m16 tile is its own row group, selector 0 (the only one of m16n8k64).
              ptx::mma_sp<T, 0>(acc[mt][nt], a[mt], b[cur][nt], e8[mt]);
            } else {
              // Even m16 tiles are rows 0..15 of their row group (selector 0), odd ones rows 16..31 (selector 1).
              // tf32: m16n8k16 with the same selectors (pair-nibbles in the 16-bit geometry).
              const uint32_t ew = word(e[mt / 2], ks);
              if constexpr (T == DType::tf32) {
                if (mt % 2 == 0)
                  ptx::mma_sp_m16n8k16_tf32<0>(acc[mt][nt], a[mt], b[cur][nt], ew);
                else
                  ptx::mma_sp_m16n8k16_tf32<1>(acc[mt][nt], a[mt], b[cur][nt], ew);
              } else {
                if (mt % 2 == 0)
                  ptx::mma_sp_m16n8k32<T, 0>(acc[mt][nt], a[mt], b[cur][nt], ew);
                else
                  ptx::mma_sp_m16n8k32<T, 1>(acc[mt][nt], a[mt], b[cur][nt], ew);
              }
            }
            if (nt == kNTiles - 1) {  // a[mt]'s (and e8[mt]'s) last use this step: refill it
              load_a(a[mt], st, next_ks, mt);
              if constexpr (k8Bit) e8[mt] = load_e8(read_stage, next_ks, mt);
            }
          }
          load_b(b[nxt][nt], st, next_ks, nt);  // b[cur][nt] is dead: refill its twin
        }
      }
      if constexpr (!k8Bit) {
#pragma unroll
        for (int j = 0; j < kWarpGroups; ++j) e[j] = e_next[j];
      }
    }
    ptx::cp_async_wait<0>();  // nothing may be in flight into shared memory when the block exits

    epilogue(acc, block_m + warp_m * kWarpM, block_n + warp_n * kWarpN);
  }
};

}  // namespace sparse24::mma_sp
