// skinny step 01, "splitk": decode / small-batch shapes (N <= 128), bound by reading the weight once.
//
// What it adds (first step of the family): with N <= 128 the GEMM moves M*K/2*2 bytes of values and M*K/8 of
// metadata (56.25% of the dense weight) and almost nothing else, so the kernel is a stream: every byte of A and
// its metadata is read exactly once, by 16-byte loads straight into registers (no shared memory for A), from every
// SM at once. K is split into `split` slices so that there are enough blocks even when M/128 is small
// (M = 4096: 32 row blocks for 132 SMs); the f32 partials go to the Plan's workspace and a second tiny kernel sums
// them in a fixed order (kernels/common/splitk.cuh): bit-identical run to run. B (N x K, tiny, L2-resident) is
// staged per k chunk into shared memory, in a permuted k order (below), and read with ldmatrix.
//
// Preconditions (ShapeRule + prepare): M % 32 == 0 (a warp owns one 32-row metadata lane block), K % KC == 0
// (whole k chunks), 1 <= N <= BN (one block column covers all of N: the weight is never read twice).
// Metadata in format::MetaLayout::LaneBlocks16.
// Expected bottleneck: DRAM bandwidth for N <= 64 (the bytes in flight per SM: 4 warps x KC/64 x 4 rows x 512 B
// per block, 2-4 blocks per SM); at N = 128 the 128 accumulators per lane cut the resident blocks to 2 and the
// bytes in flight with them, and ldmatrix of B (one per mma pair) starts to count.
// Measured: NVIDIA H100 80GB HBM3, 28672x16x8192 fp16, best tile 128x16x128: 67.6 TFLOP/s = 7% of the mma.sp m16n8k32 loop (945), 1.46x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_fff01ae-4).
// The step's first run (nvidia-h100-80gb-hbm3/2026-11-22_skinny-6e394ef, H100, bf16; its cuBLAS row was then the
// plain cublasGemmEx call, not today's searched cuBLASLt): 28672x16x8192 with bn 16, split_k 0: 111.8 us, 1.53x
// cuBLAS; 28672x1x8192: 100.2 us, 1.62x; N = 64: 1.0x; N = 128: 473 us, 0.37x (results/NOTES.md says why N >= 64
// is slow).
// Measured, 8-bit (NVIDIA H200, run nvidia-h200/session8_2026-12-03_3fb3c5b): int8 at N <= 16 1.00-1.52x cuBLASLt
// int8, 41-80% of the copy rate; at N = 64/128 0.34-0.75x (registers); e4m3 0.52-0.79x cuBLASLt (the emulated form
// makes it issue-bound). results/NOTES.md, session 8.
// PERF: ptxas sm_90a registers: 123 (bn 8), 144 (16), 174 (32), 179 (64, bk 64), 228 (128, bk 64, one m16 tile per warp).
// tf32 (A 1:2 sparse, mma.sp m16n8k16, f32 D; session 15). Measured (NVIDIA H200, run
// nvidia-h200/session15_2026-12-03_cca5da7): N = 1, BN 8: 136.3 us at 28672x1x8192 (94.9% of the copy rate, 1.93x
// cuBLAS tf32, the fastest tf32 row there); N = 16, BN 16: 85-90% of the copy rate on the large weights, 1.40-1.69x
// cuBLAS tf32, 0.81-0.96x the wgmma s11/s16 rows; N = 64: 0.65x (registers). The same bytes again (below, "tf32
// inputs"), so KC = 64 values is the 16-bit KC = 128 in bytes.
// PERF: ptxas sm_90a registers, tf32: 119 (bn 8, bk 64), 137 (16), 167 (32), 178 (64, bk 32); no spills: the
// counts of the fp16/bf16 kernels of the same bytes in the same build (nvcc 13.0, session 15).
//
// Block = 4 warps; warp w owns rows [32 (4 bx + w), +32) of A (one lane block row group: the two m16 tiles use
// selectors F = 0 and F = 1 of the same metadata word) and all BN columns; grid = (M/128 row blocks, split).
//
//              k slice z of K (chunks [z*C/split, (z+1)*C/split), C = K/KC)
//            +---------------------------------------------+
//   warp 0   | 32 rows  x  slice    -> acc[2][BN/8][4]      |   B chunk (BN x KC), staged once per block,
//   warp 1   | 32 rows                                     |   double-buffered in shared memory
//   warp 2   | 32 rows                                     |
//   warp 3   | 32 rows                                     |
//            +---------------------------------------------+
//
// The k permutation that makes A loads 16 bytes wide. mma.sp m16n8k32 wants lane (g, q) to hold compressed
// values of 4-element chunks q and 4+q of a k-step (fragments.h): chunks 4 apart, never contiguous. Any
// permutation of K applied to A, its metadata and B alike leaves the product unchanged, so for each group of
// two k-steps (64 dense k = 16 chunks = 64 bytes of a compressed row) lane q loads bytes [16q, 16q+16), i.e. its
// own chunks 4q..4q+3, and the two "logical" k-steps s = 0, 1 of the group take
//     logical (s, position p < 4)  <- actual chunk 4p + 2s        (lane p's element 2s:   .x / .z)
//     logical (s, position p >= 4) <- actual chunk 4(p-4) + 2s + 1 (lane p-4's element 2s+1: .y / .w)
//
//     row g, one group (16 chunks):  | q=0: c0 c1 c2 c3 | q=1: c4 .. c7 | q=2: c8 .. c11 | q=3: c12 .. c15 |
//     logical step 0 positions 0..7:   c0  c4  c8  c12  c1  c5  c9  c13
//     logical step 1 positions 0..7:   c2  c6  c10 c14  c3  c7  c11 c15
//
// B is written to shared memory in that logical order (8-byte chunk moves while staging), so the ordinary
// ldmatrix B fragment of each logical step is right. The metadata nibbles move the same way: the LaneBlocks16
// word of lane 4g + 2t + h (t = m16 tile, h = 0: positions 0..3, h = 1: 4..7) holds, in each 16-bit half (rows g
// and g+8 of the tile), the nibbles of one actual k-step. Logical nibble i (i = 0..3) of step s for a lane of
// parity h is nibble 2s + h of source word i of (lo0, hi0, lo1, hi1), the words of lanes 4g+2t (lo) and 4g+2t+1
// (hi) for actual steps 0 and 1 of the group: one __shfl_xor(1) per word fetches the partner's, then 14 integer
// operations build each logical `e`. Nibble values are unchanged, so the ordered-metadata rule still holds.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

#include "kernels/common/cuda_check.h"
#include "kernels/common/elem.cuh"
#include "kernels/common/epilogue.cuh"
#include "kernels/common/fragments.h"
#include "kernels/common/instr.h"
#include "kernels/common/launch.cuh"
#include "kernels/common/ptx.cuh"
#include "kernels/common/splitk.cuh"
#include "kernels/format/format.h"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"

namespace sparse24::skinny {

// Where the main loop's `e` registers come from (a policy of s01_splitk::mainloop, as s04_swizzle's MetaReader is of
// its tile). LoadedLaneMetadata, the step's own: each lane's LaneBlocks16/8 words, loaded with the chunk's values
// (load_a: one 4-byte __ldg per k-step and metadata word) and re-split for the k permutation (the shuffles and bit
// moves of the header, and Meta8). A policy with kLoaded = false loads no metadata and gives every mma.sp its
// constant word kWord instead (kernels/ablations/s01_skinnyconstmeta.cuh: the difference in time is the metadata's
// cost).
struct LoadedLaneMetadata {
  static constexpr bool kLoaded = true;
};

// T: the input type (fp16, bf16, the 8-bit int8, e4m3, e5m2, or tf32). BN: the N tile (the largest N accepted).
// KC: dense k per chunk (the unit of B staging, of the register prefetch of A and of the split). SPLIT: the split-K
// factor; 0 = chosen in prepare() from the SM count, the occupancy and the shape (splitk::choose_split),
// deterministic for a (GPU, shape).
//
// 8-bit inputs (mma.sp m16n8k64) run the same code, because every sparse warp-level form reads 32 bytes of
// compressed A per row and 64 bytes of B per column per k-step in the same registers (instr.h MmaSp, fragments.h
// a8_m16k32): the k permutation above, the 16-byte A loads, the B staging and the ldmatrix addresses are the same
// bytes; a 4-byte chunk is 8 dense k instead of 4, a group 128 dense k instead of 64. Two things differ: the
// metadata (LaneBlocks8: a block per 16 rows, selector 0 only, each lane one row's 32 dense columns; see
// meta_8bit below) and the accumulators (int32 for int8, which writes an exact int32 D; f32 for fp8, a bf16 D:
// operands.h default_operands). On sm_90a the fp8 form is emulated with 16-bit HMMA (docs/sparse-tensor-cores.md
// §9): an fp8 skinny kernel saves the weight's bytes, which is what decode is bound by, not math.
//
// tf32 inputs (A 1:2 sparse, mma.sp m16n8k16) run the 16-bit code, in bytes: the compressed A register i of the
// tf32 form (row g + 8 (i % 2), value q + 4 (i / 2): bytes 16 (i / 2) + 4q .. + 3 of the step's 32-byte row) and its
// B register i (k = q + 4i: bytes 16i + 4q .. + 3 of the column's 64 bytes) are the m16n8k32 registers' bytes
// (frag::tf32_fragments_are_16bit_bytes checks it lane by lane), and its metadata is LaneBlocks16 with one
// pair-nibble (0x4 or 0xE) per kept value where 16 bits have one nibble per two kept values: a nibble still covers
// 4 bytes of compressed row and 8 bytes of B, so the k permutation (which moves 4-byte chunks of A, 8-byte chunks of
// B and their nibbles together), the 16-byte loads, the B staging, the ldmatrix addresses and the metadata bit moves
// are the 16-bit ones; selectors 0 and 1 as at 16 bits (docs/sparse-tensor-cores.md §3). A 4-byte chunk is one
// value (2 dense k), a group 32 dense k: KC = 64 values is the 16-bit KC = 128 in bytes. Accumulators and D are f32
// (operands.h default_operands), the split-K partials f32 as at 16 bits (splitk::reduce<f32>, reduce_rows<f32>).
// What differs is the instruction: m16n8k16 .tf32 (HMMA.SP.16816.F32.TF32 in the sm_90a SASS) instead of m16n8k32.
template <DType T, int BN, int KC, int SPLIT>
struct s01_splitk {
  using Instr = instr::MmaSp<T>;
  static constexpr bool k8Bit = info(T).bits == 8;
  static constexpr bool kTf32 = T == DType::tf32;
  static constexpr Operands kTypes = default_operands(T);  // 16-bit: T in, T out; int8: int32 D; fp8: bf16 D
  static constexpr DType kD = kTypes.d;  // tf32: f32
  using Acc = std::conditional_t<T == DType::int8, int32_t, float>;  // the instruction's accumulator
  static constexpr ArchRule kArch = {Instr::form().min_sm};  // mma.sp, ldmatrix: sm_80+ (fp8: sm_89+)
  static constexpr bool kSparse = true;
  static constexpr bool kHasScales = false;
  static constexpr bool kUniformMetadata = false;  // reads the real metadata (Variant::uniform_metadata)
  static constexpr format::MetaLayout kMetaLayout =
      k8Bit ? format::MetaLayout::LaneBlocks8 : format::MetaLayout::LaneBlocks16;

  static constexpr int kWarps = 4;
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kMinBlocksPerSm = 1;
  // m16 tiles per warp: 2 (16-bit: a whole lane block, F = 0 and 1 from one metadata word) up to BN = 64; at BN =
  // 128 one, since 2 x 16 n8 tiles would be 128 accumulators per lane (ptxas: 255 registers and spills). A 16-bit
  // warp of one tile loads the full metadata word set of its row group, as its neighbour does (L1 serves the second).
  static constexpr int kMT = BN >= 128 ? 1 : 2;
  static constexpr int kWarpRows = 16 * kMT;
  // Rows a warp needs whole (all valid or none, so that `active` is per warp): 16-bit, one 32-row lane block (its
  // metadata word serves both tiles); 8-bit, the warp's own rows (a LaneBlocks8 block is 16 rows).
  static constexpr int kRowGroup = k8Bit ? kWarpRows : format::kLaneBlockRows;
  static constexpr int kBM = kWarps * kWarpRows;                  // 128 rows per block (64 at BN = 128)
  static constexpr int kMetaBlockRows = format::desc(kMetaLayout).block_rows();  // 32 (16-bit), 16 (8-bit)
  static constexpr int kInstrK = Instr::kK;  // dense k per mma.sp: 32 (16-bit), 64 (8-bit), 16 (tf32)
  static constexpr int kGroupK = 2 * kInstrK;                      // one 16-byte load per lane and row
  static constexpr int kGroups = KC / kGroupK;                     // groups per chunk
  static constexpr int kSteps = KC / kInstrK;                      // mma k-steps (and metadata words) per chunk
  static constexpr int kNTiles = BN / Instr::kN;                   // n8 tiles
  static constexpr int kElemBytes = sizeof(typename Elem<T>::type);
  static constexpr int kStepBBytes = kInstrK * kElemBytes;         // 64: B bytes per column and k-step
  static constexpr int kGroupRowBytes = kGroupK / 2 * kElemBytes;  // 64 bytes of compressed row per group
  static constexpr int kLaneBytes = 16;                            // one load
  static constexpr int kBlockWords = format::kLaneBlockBytes / 4;  // 32: one metadata word per lane
  // Metadata words per lane and k-step: 16-bit, one (both tiles: selectors 0 and 1); 8-bit, one per m16 tile.
  static constexpr int kMetaWords = k8Bit ? kMT : 1;
  // B in shared memory: [2 buffers][BN rows][KC k + 16 bytes of pad]; the pad makes the row stride an odd number
  // of 16-byte chunks, so the 8 rows an ldmatrix reads fall in 8 different bank groups.
  static constexpr int kBStrideBytes = KC * kElemBytes + 16;
  static constexpr int kBBufBytes = BN * kBStrideBytes;
  static constexpr int kSmemBytes = 2 * kBBufBytes;
  // Staging B: 16-byte pieces (two 8-byte chunks: 8 dense k at 16 bits, 16 at 8 bits, 4 for tf32) per thread per
  // chunk.
  static constexpr int kPieceK = 16 / kElemBytes;
  static constexpr int kBPieces = BN * KC / kPieceK;
  static constexpr int kBPiecesPerThread = (kBPieces + kThreads - 1) / kThreads;

  static_assert(T == DType::fp16 || T == DType::bf16 || k8Bit || kTf32, "16-bit, 8-bit or tf32 inputs");
  static_assert(kStepBBytes == 64 && kGroupRowBytes == 64,
                "every sparse warp-level form: 32 bytes of compressed A per row and 64 bytes of B per k-step");
  static_assert(kLaneBytes * 4 == kGroupRowBytes, "a quad's four 16-byte loads cover one row of a group");
  // A nibble covers a group of dense values: 4 (2:4), tf32's pairs 2 (1:2).
  static_assert(kInstrK == info(T).group * format::desc(kMetaLayout).block_nibble_cols(), "one lane block per k-step");
  static_assert(!kTf32 || frag::tf32_fragments_are_16bit_bytes(),
                "tf32 fragments must be the 16-bit m16n8k32 ones byte for byte, or the loads and ldmatrix are wrong");
  static_assert(KC % kGroupK == 0,
                "KC must be whole groups of two k-steps (64 dense k at 16 bits, 128 at 8, 32 for tf32)");
  static_assert(BN % Instr::kN == 0 && BN >= Instr::kN && BN <= 128, "BN: whole n8 tiles, at most 128");
  static_assert((kBStrideBytes / 16) % 2 == 1, "B row stride must be an odd number of 16-byte chunks");
  static_assert(kBPieces % kThreads == 0 || kBPieces < kThreads, "B pieces spread evenly or in one partial step");
  static_assert(SPLIT >= 0 && SPLIT <= 65535, "split goes on grid y");

  static constexpr ShapeRule kRule = {kRowGroup, 1, KC, 1, BN,
                                      k8Bit ? (kMT == 2 ? "a warp owns 32 rows (two 16-row metadata lane blocks)"
                                                        : "a warp owns one 16-row metadata lane block")
                                            : "a warp owns one 32-row metadata lane block",
                                      "whole k chunks of the variant (bk)"};

  static Params params() {
    return {{"bm", kBM}, {"bn", BN}, {"bk", KC}, {"wm", kWarps}, {"wn", 1}, {"stages", 2}, {"split_k", SPLIT}};
  }

  // Row blocks go on grid x (no 65535 limit), but the registry's rule for every block-tiled variant (a "bm"
  // parameter) is at most 65535 row blocks (tests/cpu/test_registry.cpp): kept, it costs nothing (M <= 8.3 M).
  static std::string refuse(const GemmArgs& a) {
    const long long row_blocks = (static_cast<long long>(a.M) + kBM - 1) / kBM;
    if (row_blocks > 65535)
      return "M = " + std::to_string(a.M) + " needs " + std::to_string(row_blocks) + " row blocks of " +
             std::to_string(kBM) + ", above the 65535 row blocks every block-tiled variant accepts";
    return "";
  }

  static const void* entry() { return reinterpret_cast<const void*>(&gemm_entry<s01_splitk>); }

  // The split factor for this problem on the current GPU (SPLIT, or the model's choice when SPLIT == 0) for the
  // kernel `fn` (this step's entry or a later step's: their occupancies may differ), with `fixed_bytes` the model's
  // fixed cost of splitting (splitk::choose_split).
  static int split_for(const GemmArgs& a, const void* fn, int64_t fixed_bytes) {
    if (SPLIT > 0) return SPLIT;
    int device = 0, sms = 0, per_sm = 0;
    SPARSE24_CUDA_CHECK(cudaGetDevice(&device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    SPARSE24_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, fn, kThreads, kSmemBytes));
    const int row_blocks = (a.M + kBM - 1) / kBM;
    // Values + metadata: 4 bits per group of dense k (4 k for 2:4, tf32's pairs 2 k: KC / 8 or KC / 4 bytes a row).
    const int64_t chunk_bytes =
        int64_t(kBM) * (KC / 2) * kElemBytes + int64_t(kBM) * KC / (2 * info(T).group);
    return splitk::choose_split(row_blocks, a.K / KC, sms * (per_sm > 0 ? per_sm : 1), chunk_bytes, a.M, a.N,
                                fixed_bytes);
  }

  // The launch configuration of the kernel `fn` (this step's or a later step's, same block and grid): grid =
  // (row blocks, split), dynamic shared memory. Returns the split; the caller sizes the workspace.
  static int configure(Plan& p, const void* fn, int64_t fixed_bytes) {
    require_kernel_image(fn, p.variant().name);
    if (kSmemBytes > 48 * 1024)
      SPARSE24_CUDA_CHECK(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes));
    const int split = split_for(p.args, fn, fixed_bytes);
    p.grid = dim3((p.args.M + kBM - 1) / kBM, split);
    p.block = dim3(kThreads);
    p.smem_bytes = kSmemBytes;
    return split;
  }

  static void prepare(Plan& p) {
    const int split = configure(p, entry(), splitk::kLaunchBytes);
    p.workspace_bytes = splitk::workspace_bytes(split, p.args.M, p.args.N);
  }

  static void run(const Plan& p, cudaStream_t stream) {
    gemm_entry<s01_splitk><<<p.grid, p.block, p.smem_bytes, stream>>>(p.args);
    if (p.grid.y > 1) splitk::launch_reduce<kD>(p.args, static_cast<int>(p.grid.y), stream);
  }

  // One chunk of A for one lane: per group, rows g, g+8 (tile 0) and 16+g, 24+g (tile 1), 16 bytes each, and the
  // lane's metadata words of each k-step (8-bit: one per tile).
  struct AChunk {
    uint4 v[kGroups][2 * kMT];
    uint32_t w[kSteps][kMetaWords];
  };

  // meta_tile_words: the distance between the metadata blocks of a warp's two 16-row tiles (8-bit only).
  // MetaSource: LoadedLaneMetadata loads the words; a constant source leaves c.w unwritten (never read).
  template <class MetaSource>
  static __device__ __forceinline__ void load_a(AChunk& c, const uint8_t* a_lane, int64_t a_row_bytes,
                                                const uint32_t* meta_lane, int64_t meta_tile_words, int chunk) {
#pragma unroll
    for (int gr = 0; gr < kGroups; ++gr)
#pragma unroll
      for (int r = 0; r < 2 * kMT; ++r)
        c.v[gr][r] = __ldg(reinterpret_cast<const uint4*>(a_lane + r * 8 * a_row_bytes +
                                                          (int64_t(chunk) * kGroups + gr) * kGroupRowBytes));
    if constexpr (MetaSource::kLoaded) {
#pragma unroll
      for (int t = 0; t < kSteps; ++t)
#pragma unroll
        for (int mt = 0; mt < kMetaWords; ++mt)
          c.w[t][mt] = __ldg(meta_lane + mt * meta_tile_words + (int64_t(chunk) * kSteps + t) * kBlockWords);
    }
  }

  // B pieces of one chunk: piece i of this thread is (row n, 16-byte k piece h); rows >= N read as zero.
  static __device__ __forceinline__ void load_b(uint4 (&bp)[kBPiecesPerThread], const uint8_t* x, int64_t x_row_bytes,
                                                int N, int chunk) {
#pragma unroll
    for (int i = 0; i < kBPiecesPerThread; ++i) {
      const int piece = i * kThreads + static_cast<int>(threadIdx.x);
      const int n = piece / (KC / kPieceK), h = piece % (KC / kPieceK);
      bp[i] = make_uint4(0, 0, 0, 0);
      if ((kBPieces % kThreads == 0 || piece < kBPieces) && n < N)
        bp[i] = __ldg(
            reinterpret_cast<const uint4*>(x + n * x_row_bytes + (int64_t(chunk) * KC + h * kPieceK) * kElemBytes));
    }
  }

  // Writes the pieces in logical k order: piece h of group G holds actual chunks c = 2h' and 2h'+1 (h' = h % 8),
  // i.e. q' = h'/2 and jj = 2(h'%2) + {0,1}: logical step s = h'%2, positions q' and q'+4. In bytes: position p
  // of step s of group G starts at byte 128 G + 64 s + 8 p of the row (8 bytes of B per 4-byte A chunk, any type).
  static __device__ __forceinline__ void store_b(const uint4 (&bp)[kBPiecesPerThread], uint8_t* buf) {
#pragma unroll
    for (int i = 0; i < kBPiecesPerThread; ++i) {
      const int piece = i * kThreads + static_cast<int>(threadIdx.x);
      if (kBPieces % kThreads != 0 && piece >= kBPieces) break;
      const int n = piece / (KC / kPieceK), h = piece % (KC / kPieceK);
      const int group = h / 8, hh = h % 8;
      const int s = hh % 2, qq = hh / 2;
      const int logical0 = group * 2 * kStepBBytes + s * kStepBBytes + qq * 8;  // byte of position qq of step s
      uint8_t* row = buf + n * kBStrideBytes;
      *reinterpret_cast<uint2*>(row + logical0) = make_uint2(bp[i].x, bp[i].y);
      *reinterpret_cast<uint2*>(row + logical0 + 32) = make_uint2(bp[i].z, bp[i].w);  // position qq + 4
    }
  }

  // The 8-bit metadata of one m16 tile for the two logical k-steps of a group (the k permutation above, applied to
  // LaneBlocks8). A lane (g, q) of the instruction wants, for its row (g or g + 8: q % 2) and its half of the
  // logical step (half = q / 2), the nibbles of logical positions 4 half + i, i = 0..3: one byte per 4-byte chunk
  // (8 dense k = two groups). Logical (s, 4 half + i) is actual chunk 4i + 2s + half, which sits in actual k-step
  // i / 2, at byte 2s + half of the word of lane q' = 2 (i % 2) + q % 2 (LaneBlocks8: lane q' holds row q' % 2 and
  // chunks 4 (q' / 2) .. + 3 of its step). So byte i of the logical `e` is byte 2s + half of the i-th of (lo0,
  // hi0, lo1, hi1): the words of lanes q' = q % 2 (lo) and 2 + q % 2 (hi) for actual steps 0 and 1, the lane's
  // own word and its partner's across __shfl_xor 2. Nibble values are unchanged (a chunk's two nibbles move with
  // its four values), so the ordered-metadata rule still holds.
  struct Meta8 {
    uint32_t lo0, hi0, lo1, hi1;
    static __device__ __forceinline__ Meta8 gather(uint32_t w0, uint32_t w1, int half) {
      const uint32_t p0 = __shfl_xor_sync(0xffffffffu, w0, 2), p1 = __shfl_xor_sync(0xffffffffu, w1, 2);
      // Shifted by the lane's half, so that step s reads byte 2s whatever the half.
      const int sh = 8 * half;
      return {(half ? p0 : w0) >> sh, (half ? w0 : p0) >> sh, (half ? p1 : w1) >> sh, (half ? w1 : p1) >> sh};
    }
    // Logical step s (0, 1) of the group: bytes 2s of lo0, hi0, lo1, hi1.
    __device__ __forceinline__ uint32_t e(int s) const {
      const uint32_t sel = 2 * s | (2 * s + 4) << 4;  // byte 2s of x, byte 2s of y: the two low bytes
      return __byte_perm(__byte_perm(lo0, hi0, sel), __byte_perm(lo1, hi1, sel), 0x5410);
    }
  };

  // The two-selector forms on a LaneBlocks16 word: m16n8k32 for 16-bit inputs, m16n8k16 .tf32 for tf32 (the same
  // registers in bytes, the same selectors: the header's "tf32 inputs").
  template <int kSelector>
  static __device__ __forceinline__ void mma16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[4],
                                               uint32_t e) {
    if constexpr (kTf32)
      ptx::mma_sp_m16n8k16_tf32<kSelector>(d, a, b, e);
    else
      ptx::mma_sp_m16n8k32<T, kSelector>(d, a, b, e);
  }

  // Where a thread's warp is, for the epilogues: the values the main loop computed once, passed on as they are.
  struct Where {
    int lane, M, N, split, z;  // split = grid y, z = this block's slice
    int m0;                    // the warp's first row
    bool active;               // m0 < M: M % 32 == 0, so a warp's rows are all valid or all not
  };

  // The main loop: the block's k slice (grid y) of each warp's 32 rows (16 at BN = 128) and all BN columns, then
  // finish(acc, where) with the warp's accumulators. Every thread of the block runs it (it has barriers).
  // MetaSource: where the `e` registers come from (LoadedLaneMetadata above, or a constant-word ablation).
  // NOTE: the epilogue is a callable handed the loop's own values, not code after a call that returns acc, so that
  // later steps reuse the loop while s01's kernels stay as they were: with the epilogue reading M, N and the slice
  // from the arguments again, ptxas scheduled every s01 kernel differently (1-2 registers fewer, nvcc 13.0,
  // sm_90a). The same code is what this refactor promises; whether fewer registers would be faster is a separate,
  // measured change.
  template <class MetaSource = LoadedLaneMetadata, class Finish>
  static __device__ __forceinline__ void mainloop(const GemmArgs& args, Finish&& finish) {
    extern __shared__ uint4 smem_dyn[];
    uint8_t* smem = reinterpret_cast<uint8_t*>(smem_dyn);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int g = lane / 4, q = lane % 4;
    const int M = args.M, N = args.N, K = args.K;
    const int split = gridDim.y, z = blockIdx.y;
    const int chunks = K / KC;
    const int c_begin = static_cast<int>(int64_t(z) * chunks / split);
    const int c_end = static_cast<int>(int64_t(z + 1) * chunks / split);
    const int m0 = blockIdx.x * kBM + warp * kWarpRows;
    const int meta_row = m0 / kMetaBlockRows;  // the metadata block row of the warp's (first) tile
    const int tile = (m0 / 16) % 2;  // 16-bit, kMT == 1: which m16 tile of the row group (the selector F)
    const bool active = m0 < M;      // M % kRowGroup == 0: a warp's rows are all valid or all not

    const int64_t a_row_bytes = args.lda * kElemBytes, x_row_bytes = args.ldb * kElemBytes;
    const uint8_t* a_lane = static_cast<const uint8_t*>(args.a) + int64_t(active ? m0 + g : 0) * a_row_bytes +
                            q * kLaneBytes;
    const uint32_t* meta_lane = static_cast<const uint32_t*>(args.a_meta) +
                                int64_t(active ? meta_row : 0) * (K / kInstrK) * kBlockWords + lane;
    const int64_t meta_row_words = int64_t(K / kInstrK) * kBlockWords;  // one block row: a block per k-step
    const uint8_t* x = static_cast<const uint8_t*>(args.b);

    // ldmatrix row address of this lane inside a B buffer (matrix i = 8 n rows x bytes 16i..16i+15 of a k-step:
    // the fragment's columns are 16-bit units, whatever T is).
    const frag::RowCol lb = frag::ldmatrix_x4_b_8x32(lane);
    constexpr int kColBytes = 2;  // one ldmatrix column: a 16-bit unit
    const uint32_t b_lane = ptx::smem_addr(smem + (lb.row * (kBStrideBytes / kColBytes) + lb.col) * kColBytes);
    const int odd = q & 1;  // 16-bit: lane parity, logical positions 0..3 (even) or 4..7 (odd) of its tile
    const int half = q >> 1;  // 8-bit: the lane's half of a k-step (dense k 0..31 or 32..63), meta_8bit

    Acc acc[kMT][kNTiles][4] = {};
    AChunk cur;
    uint4 bp[kBPiecesPerThread];
    if (c_begin < c_end) {
      if (active) load_a<MetaSource>(cur, a_lane, a_row_bytes, meta_lane, meta_row_words, c_begin);
      load_b(bp, x, x_row_bytes, N, c_begin);
      store_b(bp, smem);
    }
    __syncthreads();

    for (int c = c_begin; c < c_end; ++c) {
      const int buf = (c - c_begin) & 1;
      const bool has_next = c + 1 < c_end;
      AChunk nxt;
      if (has_next) {
        if (active) load_a<MetaSource>(nxt, a_lane, a_row_bytes, meta_lane, meta_row_words, c + 1);
        // B of the next chunk goes global -> registers -> the other buffer right away, so that its registers are
        // not held across the mma loop: the L2 latency it waits for overlaps the A loads just issued.
        // PERF: holding them across the loop cost 32 registers at BN = 64 (254 in all) and spilled at BN = 128.
        load_b(bp, x, x_row_bytes, N, c + 1);
        store_b(bp, smem + (buf ^ 1) * kBBufBytes);
      }
      if (active) {
        const uint32_t b_buf = b_lane + buf * kBBufBytes;
#pragma unroll
        for (int gr = 0; gr < kGroups; ++gr) {
          // 16-bit: metadata of the group's two actual k-steps, own word and the parity partner's (lanes 4g+2t,
          // 4g+2t+1). 8-bit: meta_8bit's partner words, per tile.
          [[maybe_unused]] uint32_t lo0 = 0, hi0 = 0, lo1 = 0, hi1 = 0;
          [[maybe_unused]] Meta8 m8[kMT];
          if constexpr (!MetaSource::kLoaded) {
            // nothing to gather: every mma.sp below takes MetaSource::kWord
          } else if constexpr (k8Bit) {
#pragma unroll
            for (int mt = 0; mt < kMT; ++mt) m8[mt] = Meta8::gather(cur.w[2 * gr][mt], cur.w[2 * gr + 1][mt], half);
          } else {
            const uint32_t w0 = cur.w[2 * gr][0], w1 = cur.w[2 * gr + 1][0];
            const uint32_t p0 = __shfl_xor_sync(0xffffffffu, w0, 1), p1 = __shfl_xor_sync(0xffffffffu, w1, 1);
            const int sh = 4 * odd;
            lo0 = (odd ? p0 : w0) >> sh, hi0 = (odd ? w0 : p0) >> sh;
            lo1 = (odd ? p1 : w1) >> sh, hi1 = (odd ? w1 : p1) >> sh;
          }
#pragma unroll
          for (int s = 0; s < 2; ++s) {
            constexpr uint32_t kNib = 0x000F000Fu;  // nibble 0 of each 16-bit half (rows g and g+8)
            // 16-bit: the logical `e` of step s (the header's bit moves); a constant source: its word, any width.
            [[maybe_unused]] uint32_t e = 0;
            if constexpr (MetaSource::kLoaded)
              e = ((lo0 >> (8 * s)) & kNib) | (((hi0 >> (8 * s)) & kNib) << 4) | (((lo1 >> (8 * s)) & kNib) << 8) |
                  (((hi1 >> (8 * s)) & kNib) << 12);
            else
              e = MetaSource::kWord;
            const uint4* v = cur.v[gr];
            uint32_t a[kMT][4];
#pragma unroll
            for (int mt = 0; mt < kMT; ++mt) {
              const uint4 r0 = v[2 * mt], r8 = v[2 * mt + 1];  // rows g and g+8 of the tile
              a[mt][0] = s ? r0.z : r0.x, a[mt][1] = s ? r8.z : r8.x;
              a[mt][2] = s ? r0.w : r0.y, a[mt][3] = s ? r8.w : r8.y;
            }
#pragma unroll
            for (int nt = 0; nt < kNTiles; ++nt) {
              uint32_t b[4];
              ptx::ldmatrix_x4(b, b_buf + nt * 8 * kBStrideBytes + (2 * gr + s) * kStepBBytes);
              // The selector is an immediate: tile 0 of a row group is F = 0, tile 1 is F = 1 (16-bit); 8-bit has
              // selector 0 only and a word per tile.
              if constexpr (k8Bit) {
#pragma unroll
                for (int mt = 0; mt < kMT; ++mt)
                  ptx::mma_sp<T, 0>(acc[mt][nt], a[mt], b, MetaSource::kLoaded ? m8[mt].e(s) : e);
              } else if constexpr (kMT == 2) {
                mma16<0>(acc[0][nt], a[0], b, e);
                mma16<1>(acc[1][nt], a[1], b, e);
              } else if (tile == 0) {
                mma16<0>(acc[0][nt], a[0], b, e);
              } else {
                mma16<1>(acc[0][nt], a[0], b, e);
              }
            }
          }
        }
      }
      __syncthreads();
      if (has_next) cur = nxt;
    }
    finish(acc, Where{lane, M, N, split, z, m0, active});
  }

  // The warp's partial tile, into slice z of the workspace: every column < N of its rows, zeros included (a slice
  // may own no chunk). Warps with rows only.
  // int8's partials are int32 (exact; splitk::reduce sums them in int32), every other type's f32.
  static __device__ __forceinline__ void store_partials(const GemmArgs& args, const Acc (&acc)[kMT][kNTiles][4],
                                                        const Where& w) {
    const int lane = w.lane, m0 = w.m0, N = w.N;
    Acc* ws = static_cast<Acc*>(args.workspace) + int64_t(w.z) * w.M * N;
#pragma unroll
    for (int mt = 0; mt < kMT; ++mt)
#pragma unroll
      for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const frag::RowCol rc = frag::acc_m16n8(lane, i);
          const int row = m0 + mt * 16 + rc.row, col = nt * 8 + rc.col;
          if (col < N) ws[int64_t(row) * N + col] = acc[mt][nt][i];
        }
  }

  template <class MetaSource = LoadedLaneMetadata>
  static __device__ void run_block(const GemmArgs& args) {
    mainloop<MetaSource>(args, [&](const Acc (&acc)[kMT][kNTiles][4], const Where& w) {
      if (!w.active) return;
      if (w.split == 1) store_warp_tile<kD>(acc, w.m0, 0, args);
      else store_partials(args, acc, w);
    });
  }
};

}  // namespace sparse24::skinny
