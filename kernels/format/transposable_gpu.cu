// Transposable 2:4 on the GPU, in one pass (transposable.h, gpu::prune_compress_both): dense W -> per 4x4 block the
// exact pattern among the 90 -> W's values and metadata AND Wᵀ's values and metadata, each written once, already in
// the requested layout.
//
//   tile: 64 x 64 of W (8 KB), one block of 256 threads, thread t owns 4x4 block (t / 16, t % 16):
//
//     W rows 0..3   | t0  t1  ... t15 |    each thread: 4 rows x 8 bytes of W (one 8-byte load per row; a warp
//     W rows 4..7   | t16 t17 ... t31 |    reads 128 contiguous bytes of each of 8 rows)
//     ...           |                 |
//     W rows 60..63 | t240 ...   t255 |
//
// The decision: the 24 row-pair sums (6 pairs of each row, in double), then the 90 patterns in ascending order, each
// scored (row 0 + row 1) + (row 2 + row 3) and kept when strictly better: the CPU's exact_pattern, the same sums in
// the same order, so the same pattern bit for bit (fp16's sums are exact in double anyway).
// The outputs:
//   W values:   each row of the block keeps 2 -> one 4-byte store per row (a warp: 64 contiguous bytes per row);
//   Wᵀ values:  each column of the block keeps 2 -> a 4-byte word of Wᵀ row (4 bj + c); staged in shared memory
//               (64 Wᵀ rows x 64 bytes) and written as one 16-byte store per thread, 64 contiguous bytes per row;
//   metadata:   each kept pair of W's rows and of Wᵀ's rows is one nibble, staged as a byte per nibble; then thread
//               t < 128 assembles word t of W's tile metadata and thread t >= 128 word t - 128 of Wᵀ's, reading the
//               layout's description backwards (which 8 nibbles make this word), one 4-byte store each (a block's
//               128 bytes are 32 consecutive words).
// Scoring::halves (format.s04_halves): the same pattern from the two halves of the block (transposable.h, "The exact
// pattern in two halves"): 24 + 36 + 36 + 36 additions and 17 + 36 compare-selects where the full scan runs 186
// DADD and 89 DSETP (SASS, sm_90a: the compiler already shares the half sums between patterns, so the saving is the
// 54 final sums and 36 comparisons), where the block's sums are exact (fp16 always but for inf; bf16 within 42
// binades); other blocks run the full scan.
// Expected bottleneck (s03): the FP64 pipe (90 patterns x 3 additions + 24, in double, per 16 elements: about 18
// per element) rather than HBM. Measured (H200, session 8): 25-33% of the copy rate for s03 and s04 alike, so the
// FP64 work was not the wall: with 97-123 registers two blocks of 256 threads fit an SM, and each block loads, then
// scores, then stores, in sequence.
// format.s05_pipelined (transposable_pipelined below): s04's per-tile work on a persistent grid, the next tile's
// loads in flight during the current tile's work, the staging in two shared-memory stages; at most 128 registers
// (two blocks per SM), which the halves scoring fits without spills and the full scan does not. NOTES.md, session 9,
// has the prediction.
// format.s06_intkeys (Scoring::int_keys on the persistent grid): s05 with fewer instructions per tile, the same
// outputs bit for bit. s05 is issue-bound (NOTES.md, session 9), so the step cuts instructions:
//   1. the halves on 32-bit integer keys where they are exact (transposable.h, "The halves in 32-bit integer keys":
//      magnitudes scaled to the block's smallest exponent, spans up to 15 binades fp16 / 18 bf16; a class's running
//      maximum is IADD3 + IMNMX with its rank in the key's low bits), the double path of s05 for the other blocks
//      (inf, NaN, wider spans, bf16 subnormals; random normal weights: ~1e-6 of fp16 blocks, ~7e-5 of bf16);
//   2. W's and Wᵀ's values by byte permutes: a 16-entry shared table maps a row's or column's 4-bit keep mask to
//      the PRMT selector and the nibble; Wᵀ's columns from the block's 4x4 transpose of 16-bit values (8 PRMT);
//   3. both magnitudes of a word at once (|.| on the fp16 pair, one HADD2.F32 per half; bf16: one LOP3 each);
//   4. the next tile's origin by stepping the tile grid's (row, column), not a division per tile.
// Instructions per thread and tile (SASS sm_90a, nvcc -O3 -lineinfo, fp16 lane_blocks16; nvdisasm -g: the
// persistent loop's body, less the lines of the path a block does not run; the ~200-instruction prologue of the
// metadata words' nibble coordinates is hoisted out of the loop and not counted):
//                         static   loop body   per tile on the path taken
//   s05 at 005df69 (run)   2080      1642      1047 (halves; full scan 595 left out)   measured 32.1-32.9% of copy
//   s05 now (fc4e26c)      1688      1378       783 (halves)
//   s06                    1984      1638       686 (integer keys; the double path, 952, left out)
// (bf16: s05 863, s06 705; wgmma16x64 fp16: s05 789, s06 691.) 128 registers, no spills (two blocks per SM).
// Expected (28672x8192 fp16, H200): still issue-bound; time in proportion to the count, calibrated on the run at
// 1047: ~496 us, ~49% of the copy rate (s05 now: ~566 us, ~43%), short of the 60% target; NOTES.md, session 9,
// "format.s06 (prediction)".
// Measured (H200, session 10, 28672x8192 fp16): 46.1% (lane_blocks16) and 47.0% (wgmma16x64) of the copy rate,
// 1.11-1.12x s05 in the same run, bit for bit against the CPU; the count above (line-based) overstated the gain, the
// ALU-pipe bound below (s07's paragraph) accounts for it.
// format.s07_slots (Scoring::slots on the persistent grid): s06 with fewer instructions per tile, the same outputs
// bit for bit, the same fallback (the double path of s05 where the keys are not exact, its mask mapped to a slot):
//   1. the tops' tie rank rides in row 1's six pair sums (transposable.h, "format.s07_slots": within a class the
//      tops' row-1 pairs differ and ascend with t), so a top is one VIADDMNMX where s06 spent IADD3 + IMNMX;
//   2. the choice is one slot (the chosen bottom's ordinal, the top's rank field) and one 64-byte shared entry per
//      slot (SlotTables: W's 4 row selectors and nibbles, Wᵀ's 4 column selectors and nibbles; 4 LDS.128), where
//      s06 looked up the top's bits, then per row and column a keep mask's selector (8 LDS, the column masks by
//      multiply-and-shift);
//   3. each metadata word from two 4-byte loads of the staged nibbles (assemble_word_by_rows: both layouts hold 4
//      consecutive nibble columns of rows rb and rb + 8 in a word), where s06 loaded 8 bytes and shifted each;
//   4. unsigned tile + thread offsets for the loads and every store (no signed 64-bit division per tile);
//   5. the bottoms' sums as IMADs (the FMA pipe) rather than IADD3s (the ALU pipe; transposable.h, int_keys_slot).
// The bound, from the measured runs (NOTES.md, "Session 10: format.s07 (prediction)"): per tile, one warp issues
// N instructions, A of them on the ALU pipe (integer add, logic, compare, select, min/max, shift, PRMT: 16 lanes
// per SM sub-partition on sm_90, so 2 cycles a warp); the rates of s05 at 005df69, s05 and s06 (32.5%, 41.0%,
// 46.1% of the copy rate, fp16 lane_blocks16) follow 1 / max(N, 2 A, 2 x FP64) within 4% (33.4k-34.7k x %):
//                         issued N   ALU A   FP64   bound   measured or (predicted) % of copy, fp16 28672x8192
//   s05 at 005df69           975      535     202    1070    32.1-32.9
//   s05                      799      420     202     840    41.0-42.4
//   s06                      592      363       0     726    46.1-47.0
//   s07                      550      273       0     550    46.2-46.5 (predicted 61-63: wrong)
// Counted as the path one warp executes per tile (nvdisasm -g over a -lineinfo cubin: the persistent loop from its
// head to its back branch, the branches into the double path and the NaN atomic taken, one metadata branch).
// s07: 118-119 registers, no spills, 30 KB static shared memory (two blocks per SM). Measured (H200, session 10,
// results/NOTES.md): 46.2-46.5% of the copy rate, the same as s06 in the same run, so the bound above stopped
// binding at s06: what holds s06 and s07 at ~46% is not measured yet (an ncu profile is the next step).
// format.s08_occupancy (Scoring::lean_slots; transposable_occupancy, process_tile_occupancy): s07 with more work in
// flight per SM, the same outputs bit for bit. s07 is the base rather than s06: the same time measured (46.2-46.5%
// against 46.2-47.1%), 42 fewer instructions per tile and 90 fewer on the ALU pipe, whose headroom a busier SM needs
// (ncu: ALU 47% busy in s07, 61% in s06). The ncu profile of s06/s07 (results/NOTES.md, session 10, call D): both
// run 527 us with DRAM at 38.6% and L2 at 48% of peak, the SMs issuing in 47-51% of cycles with 22-23% of the warp
// slots active (two 256-thread blocks of 118-128 registers per SM), short scoreboard, wait and not-selected the top
// stalls: latency-bound at a quarter occupancy. What s08 changes:
//   1. four blocks per SM (32 of 64 warp slots): __launch_bounds__(256, 4), i.e. at most 64 registers, no spills
//      (ptxas 13.0, sm_90a: 64, all four (type, layout) kernels; sm_80 runs it at three blocks, 76-80 registers).
//      What went: (a) the fallback's registers: s07's double path (the halves in double, 24 + 19 doubles) set its
//      register count (its loop fits 78-79 without it, 118-119 with it); s08 scores the blocks the keys leave with
//      the whole warp, three of the 90 patterns per lane in double and a butterfly (warp_full_scan: the CPU's
//      exact_pattern, the same doubles); (b) the keys' live values: no cleared copy of the 19 class maxima and no
//      separate winner key (the winner's rank bits ride in its score), and each class's tops folded just before its
//      first bottom, so at most 7 class maxima are live (transposable.h, int_keys_lean_slot); (c) the next tile's
//      8 registers: it is staged in shared memory by cp.async, each thread copying and reading back its own pieces
//      (InputStage: no barrier), 2 x 8 KB a block; (d) two metadata branches with their own loop-invariant thread
//      parts, now one path;
//   2. fewer shared-memory wavefronts: s07 needs ~175 per warp and tile (its Wᵀ staging 16-way and 8-way bank
//      conflicts, its 64-byte slot entries read over 2 of 8 bank groups: OccupancyStage's comment), ~63% of the
//      shared pipe at 46% of the copy rate (ncu), which at 1.5x the rate would be the wall; s08 ~70 (the input's
//      16 included), by padded and transposed staging and a 32-byte slot entry.
// Instructions per warp and tile (SASS sm_90a, fp16 lane_blocks16, cuobjdump over a -lineinfo cubin: the loop from
// its head to its back branch, the fallback's and the last tile's branches not taken, one metadata path; s07
// counted the same way: 556, 266 on the ALU pipe, where its NOTES count 550 and 273 by a slightly different rule):
// s08 557, 266 on the ALU pipe (integer add, logic, compare, select, min/max, shift, PRMT, LEA): the same work,
// 15 LDS + 9 STS + 4 LDGSTS where s07 has 7 LDS + 12 STS + 4 LDG. 38.5 KB static shared memory a block (4 x 38.5
// of the SM's 228 KB).
// Expected (PREDICTION, before any GPU run; NOTES.md "Session 11: format.s08 (prediction)"): the issue rate of a
// latency-bound SM sub-partition with W resident warps, each ready in a cycle with probability p independently, is
// 1 - (1 - p)^W; s06/s07 issue in 47-51% of cycles at W = 4, so p = 0.15-0.16, and at W = 8: 72-76%, 1.49-1.52x.
// With the instructions per tile unchanged: fp16 28672x8192 and 8192x28672 at ~69% of the copy rate by the model;
// we predict 60-70% (the model ignores the per-tile barrier that holds a block's 8 warps together and the fixed
// latencies that more warps do not shorten), i.e. the issue's 60% met; at 65% the ALU pipe would be ~66% busy, DRAM
// ~54%, the shared pipe ~35%: none binding. bf16 (579 instructions in s07, 5% more): 57-67%. 4096x4096 (1024 tiles,
// ~2 per block of 528): the prologue (the 9 KB slot table, the first load) is paid per 2 tiles: 45-55%.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "kernels/common/cuda_check.h"
#include "kernels/common/ptx.cuh"
#include "kernels/format/format.h"
#include "kernels/format/rules.h"
#include "kernels/format/transposable.h"

namespace sparse24::format::transposable::gpu {
namespace {

using rules::cat;
using rules::fail;

// kThreads and kTile: transposable.h (the registry's shape rule reads them too).
constexpr int kBlocksPerSide = kTile / kBlock;   // 16 4x4 blocks per tile side
constexpr int kTileNibbleCols = kTile / 4;       // 16 metadata nibbles per tile row (W and Wᵀ alike)
constexpr int kTileMetaWords = kTile * kTileNibbleCols / 8;   // 128 words of metadata per tile, per matrix
static_assert(kBlocksPerSide * kBlocksPerSide == kThreads, "one thread per 4x4 block of the tile");
static_assert(2 * kTileMetaWords == kThreads, "one thread per metadata word of W and of Wᵀ");
static_assert(kTile * kTile / 2 * 2 / 16 == kThreads, "one 16-byte store per thread writes Wᵀ's tile values");

// Where the bits of an in-block nibble index come from (the layout's description, packed 4 bits per entry as in
// onepass_gpu.cu): the inverse map n -> (rb, jb).
constexpr uint64_t packed_src(const MetaLayoutDesc& d) {
  uint64_t s = 0;
  for (int i = 0; i < d.row_bits + d.col_bits; ++i) s |= static_cast<uint64_t>(d.src[i] & 0xF) << (4 * i);
  return s;
}
template <int kRowBits, int kColBits, uint64_t kSrc>
__device__ __forceinline__ void nibble_coordinates(uint32_t n, uint32_t* rb, uint32_t* jb) {
  uint32_t r = 0, j = 0;
#pragma unroll
  for (int i = 0; i < kRowBits + kColBits; ++i) {
    const int src = static_cast<int>((kSrc >> (4 * i)) & 0xF);
    const uint32_t bit = (n >> i) & 1u;
    if (src < MetaLayoutDesc::kColBit)
      r |= bit << src;
    else
      j |= bit << (src - MetaLayoutDesc::kColBit);
  }
  *rb = r, *jb = j;
}

// Word w (0..127) of a tile's metadata, for a matrix of `cols` nibble columns whose tile starts at row `row0`,
// nibble column `col0`; `nib` holds the tile's nibbles, one byte each, [64 rows][16 columns]. Returns the word and
// sets *index to its position (in words) in the layout's buffer.
template <int kRowBits, int kColBits, uint64_t kSrc>
__device__ __forceinline__ uint32_t assemble_word(int w, const uint8_t* nib, int64_t row0, int64_t col0, int64_t cols,
                                                  int64_t* index) {
  constexpr int kBlockRows = 1 << kRowBits, kBlockCols = 1 << kColBits;
  constexpr int kWordsPerBlock = (1 << (kRowBits + kColBits)) / 8;
  constexpr int kTileBlockCols = kTileNibbleCols / kBlockCols;
  static_assert(kTile % kBlockRows == 0 && kTileNibbleCols % kBlockCols == 0 && kWordsPerBlock >= 1,
                "a tile holds whole metadata blocks of at least one word");
  const int tbr = w / (kTileBlockCols * kWordsPerBlock), tbc = (w / kWordsPerBlock) % kTileBlockCols;
  const int ww = w % kWordsPerBlock;
  uint32_t word = 0;
#pragma unroll
  for (int k = 0; k < 8; ++k) {
    uint32_t rb = 0, jb = 0;
    nibble_coordinates<kRowBits, kColBits, kSrc>(static_cast<uint32_t>(8 * ww + k), &rb, &jb);
    word |= static_cast<uint32_t>(nib[(tbr * kBlockRows + rb) * kTileNibbleCols + tbc * kBlockCols + jb]) << (4 * k);
  }
  const int64_t block = (row0 / kBlockRows + tbr) * (cols / kBlockCols) + col0 / kBlockCols + tbc;
  *index = block * kWordsPerBlock + ww;
  return word;
}

// s07: the same word from two 4-byte shared loads. In both layouts the word's nibbles k = 0..7 are in-block index
// bits (column bit 0, column bit 1, row bit 3) (format.h: lane_blocks16 and wgmma16x64 both start j0 j1 r3): nibble
// columns jb..jb + 3 of rows rb and rb + 8, i.e. 4 consecutive staging bytes of each row (one nibble per byte, bits
// 7:4 zero). x + (x >> 4) puts bytes 1 and 3's nibbles above bytes 0 and 2's (no carries: bits 7:4 are zero), and
// one PRMT takes bytes 0 and 2 of both rows: 2 LDS + 2 LEA.HI + 1 PRMT where the byte loop spent 8 LDS.U8 and 11
// shifts and ORs (SASS, s06).
// Its index as unsigned shifts (row0, col0 and cols are never negative): a tile part and a thread part, where the
// signed divisions of assemble_word cost ~18 instructions per tile (SASS, s06).
// kNibRowStride: the staging's bytes per row (s08 pads its Wᵀ rows, OccupancyStage).
template <int kRowBits, int kColBits, uint64_t kSrc, int kNibRowStride = kTileNibbleCols>
__device__ __forceinline__ uint32_t assemble_word_by_rows(int w, const uint8_t* nib, uint64_t row0, uint64_t col0,
                                                          uint64_t cols, uint64_t* index) {
  constexpr int kBlockRows = 1 << kRowBits, kBlockCols = 1 << kColBits;
  constexpr int kWordsPerBlock = (1 << (kRowBits + kColBits)) / 8;
  constexpr int kTileBlockCols = kTileNibbleCols / kBlockCols;
  constexpr int kRowPairStep = 8;   // rows rb and rb + 8: the word's upper four nibbles (in-block index bit 2 = r3)
  static_assert((kSrc & 0xF) == MetaLayoutDesc::kColBit + 0 && ((kSrc >> 4) & 0xF) == MetaLayoutDesc::kColBit + 1 &&
                    ((kSrc >> 8) & 0xF) == 3,
                "the word's nibbles must be (column bit 0, column bit 1, row bit 3): 4 columns of two rows 8 apart");
  constexpr uint32_t kBytes0And2OfBoth = 0x6420;   // PRMT: bytes 0, 2 of the first operand, then of the second
  const int tbr = w / (kTileBlockCols * kWordsPerBlock), tbc = (w / kWordsPerBlock) % kTileBlockCols;
  const int ww = w % kWordsPerBlock;
  uint32_t rb = 0, jb = 0;
  nibble_coordinates<kRowBits, kColBits, kSrc>(static_cast<uint32_t>(8 * ww), &rb, &jb);
  static_assert(kNibRowStride % 4 == 0, "4-byte loads of a staging row");
  const uint8_t* first = nib + (tbr * kBlockRows + rb) * kNibRowStride + tbc * kBlockCols + jb;
  const uint32_t x0 = *reinterpret_cast<const uint32_t*>(first);
  const uint32_t x1 = *reinterpret_cast<const uint32_t*>(first + kRowPairStep * kNibRowStride);
  const uint32_t word = __byte_perm(x0 + (x0 >> 4), x1 + (x1 >> 4), kBytes0And2OfBoth);
  const uint64_t blocks_per_row = cols >> kColBits;
  const uint64_t tile_part = ((row0 >> kRowBits) * blocks_per_row + (col0 >> kColBits)) * kWordsPerBlock;
  *index = tile_part + (uint64_t(tbr) * blocks_per_row + uint64_t(tbc)) * kWordsPerBlock + uint64_t(ww);
  return word;
}

// The pattern table as compile-time constants: PatternAt<P> reads transposable.h's constexpr arrays in the front
// end, and the scan below is a fold over P = 1..89 in ascending order (the tie rule), so every row-pair index is a
// constant and the 24 sums stay in registers.
template <int P>
struct PatternAt {
  static constexpr uint32_t mask = kPatterns[P];
  static constexpr uint32_t row_pairs = kPatternRowPairs[P];
};
template <int P>
__device__ __forceinline__ double pattern_score(const double (&pair_sum)[4][6]) {
  constexpr uint32_t rp = PatternAt<P>::row_pairs;
  return (pair_sum[0][rp & 7] + pair_sum[1][(rp >> 3) & 7]) + (pair_sum[2][(rp >> 6) & 7] + pair_sum[3][rp >> 9]);
}
template <int P>
__device__ __forceinline__ void consider(const double (&pair_sum)[4][6], double& best, uint32_t& mask) {
  const double s = pattern_score<P>(pair_sum);
  if (s > best) best = s, mask = PatternAt<P>::mask;   // strict: the lower index keeps a tie
}
template <std::size_t... P>
__device__ __forceinline__ void consider_after_first(std::index_sequence<P...>, const double (&pair_sum)[4][6],
                                                     double& best, uint32_t& mask) {
  (consider<static_cast<int>(P) + 1>(pair_sum, best, mask), ...);   // left to right: ascending pattern index
}
// Scoring::halves (transposable.h): the schedule's 72 steps as compile-time constants, as PatternAt does for the
// patterns, folded in schedule order; every pair-sum index is a constant, so the sums stay in registers.
template <int S>
struct HalvesAt {
  static constexpr bool top = kHalvesSchedule[S].top, first = kHalvesSchedule[S].first;
  static constexpr int cls = kHalvesSchedule[S].cls, qa = kHalvesSchedule[S].qa, qb = kHalvesSchedule[S].qb;
  static constexpr uint32_t bits = kHalvesSchedule[S].bits;
};
struct HalvesState {
  double a_best[kHalvesClasses];     // per class, the largest top sum so far (every index a constant: registers)
  uint32_t t_best[kHalvesClasses];
  double best = -1.0;                // every score is >= 0: the first bottom always takes over
  uint32_t u_chosen = 0, t_chosen = 0;
};
template <int S>
__device__ __forceinline__ void halves_step(const double (&pair_sum)[4][6], HalvesState& h) {
  using X = HalvesAt<S>;
  if constexpr (X::top) {
    const double a = pair_sum[0][X::qa] + pair_sum[1][X::qb];
    if constexpr (X::first) {
      h.a_best[X::cls] = a, h.t_best[X::cls] = X::bits;
    } else if (a > h.a_best[X::cls]) {   // tops of a class in ascending t, strict: the lowest t keeps a tie
      h.a_best[X::cls] = a, h.t_best[X::cls] = X::bits;
    }
  } else {
    static_assert(!X::first, "a bottom never starts a class (make_halves_schedule)");
    const double score = h.a_best[X::cls] + (pair_sum[2][X::qa] + pair_sum[3][X::qb]);
    if (score > h.best)   // bottoms in ascending u, strict: the lowest u keeps a tie
      h.best = score, h.u_chosen = X::bits, h.t_chosen = h.t_best[X::cls];
  }
}
template <std::size_t... S>
__device__ __forceinline__ uint32_t halves_mask(std::index_sequence<S...>, const double (&pair_sum)[4][6]) {
  HalvesState h;
  (halves_step<static_cast<int>(S)>(pair_sum, h), ...);
  return h.t_chosen | h.u_chosen << 8;
}

// kRowPairs as arithmetic: pairs (0,1) (0,2) (0,3) (1,2) (1,3) (2,3).
__host__ __device__ constexpr int pair_first(int p) { return p < 3 ? 0 : (p < 5 ? 1 : 2); }
__host__ __device__ constexpr int pair_second(int p) { return p < 3 ? p + 1 : (p < 5 ? p - 1 : 3); }
constexpr bool pairs_match() {
  for (int p = 0; p < 6; ++p)
    if (pair_first(p) != kRowPairs[p][0] || pair_second(p) != kRowPairs[p][1]) return false;
  return true;
}
static_assert(pairs_match(), "pair_first/pair_second must list transposable.h's kRowPairs");

// The 4x4 transpose of a block of 16-bit values held by rows (lo[r]: row r's elements 0-1, hi[r]: 2-3): column c's
// rows 0-1 land in rows01[c], rows 2-3 in rows23[c]. Eight PRMTs: 0x5410 takes the low halves of both words, 0x7632
// the high halves. s06, s07 and s08 write Wᵀ's columns from it.
__device__ __forceinline__ void transpose_block16(const uint32_t (&lo)[4], const uint32_t (&hi)[4], uint32_t (&rows01)[4],
                                                  uint32_t (&rows23)[4]) {
  constexpr uint32_t kLowHalves = 0x5410, kHighHalves = 0x7632;
#pragma unroll
  for (int c = 0; c < 4; ++c) {
    const uint32_t(&src)[4] = c < 2 ? lo : hi;
    const uint32_t sel = c % 2 == 0 ? kLowHalves : kHighHalves;
    rows01[c] = __byte_perm(src[0], src[1], sel), rows23[c] = __byte_perm(src[2], src[3], sel);
  }
}

// |x| of 16-bit float bits as a double, exactly as transposable::magnitude computes it on the CPU.
template <bool kBf16>
__device__ __forceinline__ double magnitude16(uint32_t bits) {
  const uint32_t abs = bits & 0x7FFFu;
  if constexpr (kBf16) {
    return static_cast<double>(__uint_as_float(abs << 16));
  } else {
    // fp16 -> f32 by the hardware conversion (one instruction; exact: every fp16 value, subnormals included, is an
    // f32 value; inf stays inf, a NaN stays a NaN, which is all the caller asks of one), then f32 -> f64 (exact).
    // The same doubles as the CPU's field-by-field conversion; about 10 fewer instructions per element than
    // doing it by fields here.
    return static_cast<double>(__half2float(__ushort_as_half(static_cast<unsigned short>(abs))));
  }
}

// |x| of the two 16-bit floats of a word (element 0 in the low half) as f32s (exact: every fp16 and bf16 value is
// an f32 value), for the integer keys. fp16: one |.| on the pair and two HADD2.F32 that read a half each, where
// extracting each element first cost ~8 integer instructions per element (SASS, session 9); bf16: the f32 is the
// element's bits in the upper half, one LOP3 each.
template <bool kBf16>
__device__ __forceinline__ float2 magnitudes32(uint32_t two) {
  constexpr uint32_t kAbsHigh = 0x7FFF0000u;   // the upper element's magnitude bits
  if constexpr (kBf16) return make_float2(__uint_as_float((two << 16) & kAbsHigh), __uint_as_float(two & kAbsHigh));
  __half2 h;
  static_assert(sizeof h == sizeof two, "two fp16 in one word");
  memcpy(&h, &two, sizeof h);
  return __half22float2(__habs2(h));
}

// kTopOfClassRank in shared memory (the threads of a warp index it with different slots: a __constant__ read would
// be serialised), filled once per block before its first tile from a device copy made at compile time.
// With it, s06's outputs by byte permutes: per 4-bit keep mask of a row (or a column) of the block, the PRMT
// selector that gathers its two kept 16-bit elements from (elements 0, 1 | elements 2, 3) (bits 15:0: bytes 2 a,
// 2 a + 1, 2 b, 2 b + 1 for the kept indices a < b) and its nibble (bits 19:16); masks that do not keep two: 0.
constexpr int kKeepMasks = 16;
struct KeyTables {
  uint8_t top[kTopSlots];
  uint32_t keep[kKeepMasks];
};
constexpr KeyTables make_key_tables() {
  KeyTables t{};
  for (int i = 0; i < kTopSlots; ++i) t.top[i] = kTopOfClassRank[i];
  for (uint32_t m = 0; m < kKeepMasks; ++m) {
    if (popcount4(m) != 2) continue;
    uint32_t a = 0, b = 0;   // the kept indices, a < b (rules::nibble_of_keep_mask's code: a | b << 2)
    for (uint32_t i = 0, seen = 0; i < 4; ++i)
      if ((m >> i) & 1u) (seen++ ? b : a) = i;
    const uint32_t nibble = a | b << 2;
    t.keep[m] = (2 * a) | (2 * a + 1) << 4 | (2 * b) << 8 | (2 * b + 1) << 12 | nibble << 16;
  }
  return t;
}
__device__ const KeyTables kKeyTablesDevice = make_key_tables();
__device__ __forceinline__ void fill_key_tables(KeyTables* tables) {
  static_assert(kTopSlots <= kThreads && kKeepMasks <= kThreads, "one thread per entry of the tables");
  if (threadIdx.x < kTopSlots) tables->top[threadIdx.x] = kKeyTablesDevice.top[threadIdx.x];
  if (threadIdx.x < kKeepMasks) tables->keep[threadIdx.x] = kKeyTablesDevice.keep[threadIdx.x];
  __syncthreads();
}

// format.s07_slots: everything the outputs need from the block's choice, per slot (transposable.h, kPatternOfSlot),
// in one 64-byte entry that four 16-byte shared loads fetch: the PRMT selectors of W's rows 0..3 and of Wᵀ's rows
// (the block's columns) 0..3 (s06's KeyTables::keep bits 15:0), then the nibbles of the same, one per word. s06
// spent per row and per column a keep-mask extraction and a table load (and the column's mask by a multiply),
// plus the top's bits from a byte table. Slots that name no pattern hold zeros (never chosen).
struct alignas(16) SlotEntry {   // 16-byte aligned: read (and copied into shared memory) as uint4
  uint32_t row_select[kBlock], col_select[kBlock], row_nibble[kBlock], col_nibble[kBlock];
};
static_assert(sizeof(SlotEntry) == 4 * 16 && alignof(SlotEntry) == 16, "a slot's entry is four 16-byte loads");
struct SlotTables {
  SlotEntry entry[kSlotCount];
};
static_assert(alignof(SlotTables) == 16 && sizeof(SlotTables) % 16 == 0, "SlotTables is copied as uint4");
constexpr SlotTables make_slot_tables() {
  constexpr KeyTables keys = make_key_tables();
  SlotTables t{};
  for (int slot = 0; slot < kSlotCount; ++slot) {
    if (kPatternOfSlot[slot] == kNoPattern) continue;
    const uint32_t mask = kPatterns[kPatternOfSlot[slot]];
    for (int i = 0; i < kBlock; ++i) {
      const uint32_t row = row_bits(static_cast<uint16_t>(mask), i), col = col_bits(static_cast<uint16_t>(mask), i);
      constexpr uint32_t kSelectorBits = 0xFFFFu, kNibbleShift = 16;
      t.entry[slot].row_select[i] = keys.keep[row] & kSelectorBits;
      t.entry[slot].col_select[i] = keys.keep[col] & kSelectorBits;
      t.entry[slot].row_nibble[i] = keys.keep[row] >> kNibbleShift;
      t.entry[slot].col_nibble[i] = keys.keep[col] >> kNibbleShift;
    }
  }
  return t;
}
__device__ const SlotTables kSlotTablesDevice = make_slot_tables();
// Copies a table from global (constant-initialised) memory into the block's shared memory, 16 bytes per thread and
// step, then synchronizes the block: s07's and s08's slot tables.
template <class Table>
__device__ __forceinline__ void fill_shared_table(Table* tables, const Table& device_table) {
  static_assert(sizeof(Table) % sizeof(uint4) == 0, "the table is copied in 16-byte words");
  constexpr int kWords = static_cast<int>(sizeof(Table) / sizeof(uint4));
  const auto* src = reinterpret_cast<const uint4*>(&device_table);
  auto* dst = reinterpret_cast<uint4*>(tables);
  for (int i = static_cast<int>(threadIdx.x); i < kWords; i += kThreads) dst[i] = src[i];
  __syncthreads();
}
__device__ __forceinline__ void fill_slot_tables(SlotTables* tables) { fill_shared_table(tables, kSlotTablesDevice); }

// The shared-memory staging of one tile: the nibbles of W and Wᵀ and Wᵀ's values (6 KB).
struct TileStage {
  uint8_t w_nib[kTile * kTileNibbleCols];    // W: [row][nibble column]
  uint8_t t_nib[kTile * kTileNibbleCols];    // Wᵀ: [row = W column][nibble column = W row / 4]
  alignas(16) uint32_t t_vals[kTile * kTile / 4];   // Wᵀ values: [row][16 words = 32 values]
};

// Tile `tile` (row-major over the (M / 64) x (K / 64) tiles): the origin of its rows and columns in W.
struct TileOrigin {
  int64_t r0, c0;
};
// In 32 bits: prune_compress_both refuses more than 2^31 - 1 tiles (a 64-bit division is a ~70-instruction
// subroutine, which the persistent loop would run per tile).
__device__ __forceinline__ TileOrigin tile_origin(int64_t tile, int64_t K) {
  const uint32_t tiles_k = static_cast<uint32_t>(K / kTile), t32 = static_cast<uint32_t>(tile);
  return TileOrigin{int64_t(t32 / tiles_k) * kTile, int64_t(t32 % tiles_k) * kTile};
}

// Thread t's 4x4 block of a tile: row r in (lo[r], hi[r]) = elements (r, 0..1), (r, 2..3); 4 streaming 8-byte loads.
struct Block4x4 {
  uint32_t lo[4], hi[4];
};
__device__ __forceinline__ Block4x4 load_block(const uint2* __restrict__ dense, TileOrigin o, int64_t K) {
  const int t = threadIdx.x, bi = t / kBlocksPerSide, bj = t % kBlocksPerSide;
  Block4x4 b;
  const uint2* row0 = dense + ((o.r0 + 4 * bi) * K + o.c0 + 4 * bj) / 4;   // one 64-bit address, then row steps
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    const uint2 v = __ldcs(row0 + r * (K / 4));
    b.lo[r] = v.x, b.hi[r] = v.y;
  }
  return b;
}

// s07: the same load with unsigned offsets: r0 * (K / 4) + c0 / 4 (the tile) + bi * K + bj (the thread), where the
// signed division of load_block costs ~12 instructions per tile (SASS, s06).
__device__ __forceinline__ Block4x4 load_block_unsigned(const uint2* __restrict__ dense, TileOrigin o, int64_t K) {
  const int t = threadIdx.x, bi = t / kBlocksPerSide, bj = t % kBlocksPerSide;
  const uint64_t k4 = static_cast<uint64_t>(K) >> 2;
  const uint2* row0 = dense + (static_cast<uint64_t>(o.r0) * k4 + (static_cast<uint64_t>(o.c0) >> 2)) +
                      (static_cast<uint64_t>(bi) * static_cast<uint64_t>(K) + static_cast<uint64_t>(bj));
  Block4x4 b;
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    const uint2 v = __ldcs(row0 + r * k4);
    b.lo[r] = v.x, b.hi[r] = v.y;
  }
  return b;
}

// format.s08_occupancy's input staging (transposable_occupancy): thread t's 4x4 block of the tile, copied by t itself.
struct InputStage {
  uint2 piece[kBlock][kThreads];   // [row r of the thread's 4x4 block][thread]: 8 bytes = the row's 4 elements
};
static_assert(sizeof(InputStage) == kTile * kTile * 2, "an input stage is one 64 x 64 tile of 16-bit elements");
__device__ __forceinline__ Block4x4 read_block(const InputStage& in) {
  Block4x4 b;
#pragma unroll
  for (int r = 0; r < kBlock; ++r) {
    const uint2 v = in.piece[r][threadIdx.x];
    b.lo[r] = v.x, b.hi[r] = v.y;
  }
  return b;
}

// format.s08_occupancy: the blocks the integer keys leave (inf, NaN, wider spans, bf16 subnormals), scored by the
// whole warp. s05-s07 score them in the thread that owns them (the halves or the 90 patterns in double: 24 + 38
// doubles' worth of registers), and that path, not the keys, set s07's register count: without it s07's loop fits
// 78-79 registers (ptxas, sm_90a), with it 118-119, and __launch_bounds__(256, 3) spilled 144-160 bytes there.
// Here a warp whose vote finds such blocks takes them one at a time: every lane reads the owner's rows from the
// input staging (the owner's own slots, one broadcast LDS.64 per row and pattern: the scan runs inside s08's
// 64-register loop, where the block's 8 words held again by every lane spilled on sm_80), lane l scores patterns l, l + 32 and l + 64 (below 90) exactly as exact_pattern does (each row's kept pair
// gathered by one PRMT, its two magnitudes added in column order in double, then (row 0 + row 1) + (row 2 + row 3):
// the same doubles), and a butterfly keeps the largest score, the lowest pattern index on equal scores (the CPU's
// strict '>' from pattern 0). A NaN block is counted by its owner; its outputs are unspecified (the CPU refuses
// it), but its slot is always one of the 90. Cost: ~200 instructions per such block for its whole warp; on normal
// weights ~1e-6 of fp16 blocks and ~7e-5 of bf16 blocks take it (s06's simulation), i.e. ~3e-5 and ~2e-3 of warp
// tiles.
struct alignas(16) ScanPattern {   // read as one 16-byte load
  uint32_t select01, select23;   // PRMT selectors of rows 0 and 1 (bits 15:0, 31:16), of rows 2 and 3 (KeyTables)
  uint32_t slot;                 // the pattern's slot (slot_of_mask), what the outputs read
  uint32_t unused;
};
struct ScanPatterns {
  ScanPattern entry[kPatternCount];
};
constexpr ScanPatterns make_scan_patterns() {
  constexpr KeyTables keys = make_key_tables();
  constexpr uint32_t kSelectorBits = 0xFFFFu, kHighSelector = 16;
  ScanPatterns s{};
  for (int p = 0; p < kPatternCount; ++p) {
    const uint16_t mask = kPatterns[p];
    auto select = [&](int r) { return keys.keep[row_bits(mask, r)] & kSelectorBits; };
    s.entry[p] = {select(0) | select(1) << kHighSelector, select(2) | select(3) << kHighSelector,
                  slot_of_mask(mask), 0};
  }
  return s;
}
// Each entry names its own pattern's slot, and each row's selector gathers that row's two kept elements, the lower
// column into the low half (kept_sum's order): bytes 2 a, 2 a + 1, 2 b, 2 b + 1 of (lo, hi) for kept a < b.
constexpr bool scan_patterns_sound() {
  constexpr ScanPatterns s = make_scan_patterns();
  for (int p = 0; p < kPatternCount; ++p) {
    const ScanPattern& e = s.entry[p];
    if (kPatternOfSlot[e.slot] != p) return false;
    for (int r = 0; r < kBlock; ++r) {
      const uint32_t sel = ((r < 2 ? e.select01 : e.select23) >> (16 * (r % 2))) & 0xFFFFu;
      const uint32_t a = (sel & 0xFu) / 2, b = ((sel >> 8) & 0xFu) / 2;
      if (sel != ((2 * a) | (2 * a + 1) << 4 | (2 * b) << 8 | (2 * b + 1) << 12) || !(a < b) ||
          row_bits(kPatterns[p], r) != ((1u << a) | (1u << b)))
        return false;
    }
  }
  return true;
}
static_assert(scan_patterns_sound(), "the scan's table: each pattern's slot, and each row's kept pair in column order");
__device__ const ScanPatterns kScanPatternsDevice = make_scan_patterns();
constexpr int kWarpLanes = 32;
constexpr int kScanPatternsPerLane = (kPatternCount + kWarpLanes - 1) / kWarpLanes;   // 3
static_assert(kScanPatternsPerLane * kWarpLanes >= kPatternCount && kThreads % kWarpLanes == 0,
              "three patterns per lane cover the 90, and the block is whole warps");

// kept_sum of one pattern of thread `owner`'s block (its rows in `in`): PRMT ignores the selector's bits above 15.
template <bool kBf16>
__device__ __forceinline__ double scan_score(const InputStage& in, int owner, const ScanPattern& p) {
  const uint32_t select[4] = {p.select01, p.select01 >> 16, p.select23, p.select23 >> 16};
  double row[4];
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    const uint2 v = in.piece[r][owner];
    const float2 m = magnitudes32<kBf16>(__byte_perm(v.x, v.y, select[r]));   // exact (see magnitudes32)
    row[r] = static_cast<double>(m.x) + static_cast<double>(m.y);   // the lower column first, as kept_sum
  }
  return (row[0] + row[1]) + (row[2] + row[3]);
}

// Whether the block holds a NaN (|x| above inf's bits, in either 16-bit type).
template <bool kBf16>
__device__ __forceinline__ bool block_has_nan(const Block4x4& b) {
  constexpr uint32_t kInf = kBf16 ? 0x7F80u : 0x7C00u, kAbs = 0x7FFFu, kHalfBits = 16;
  bool nan = false;
#pragma unroll
  for (int r = 0; r < 4; ++r)
    nan |= (b.lo[r] & kAbs) > kInf || ((b.lo[r] >> kHalfBits) & kAbs) > kInf || (b.hi[r] & kAbs) > kInf ||
           ((b.hi[r] >> kHalfBits) & kAbs) > kInf;
  return nan;
}

// Every thread of the warp calls it (the kernels run whole warps through every tile); *slot is set for the
// threads whose `decided` is false. `blk`: this thread's block, as read from `in`.
template <bool kBf16>
__device__ __forceinline__ void warp_full_scan(const Block4x4& blk, const InputStage& in, bool decided, uint32_t* slot,
                                               unsigned long long* nan_blocks) {
  constexpr unsigned kAllLanes = 0xFFFFFFFFu;
  unsigned pending = __ballot_sync(kAllLanes, !decided);
  if (pending == 0) return;   // the common case: one vote per tile
  // The lanes read each other's cp.async-written slots: each waited for its own copies, and the warp barrier
  // orders those writes before the other lanes' reads (a vote alone promises no memory ordering).
  __syncwarp(kAllLanes);
  if (!decided && block_has_nan<kBf16>(blk)) atomicAdd(nan_blocks, 1ull);
  const int lane = static_cast<int>(threadIdx.x) % kWarpLanes, warp_first = static_cast<int>(threadIdx.x) - lane;
  while (pending != 0) {
    const int owner = __ffs(pending) - 1;
    pending &= pending - 1;
    double best = 0.0;
    int best_p = lane;
#pragma unroll
    for (int i = 0; i < kScanPatternsPerLane; ++i) {
      const int p = lane + kWarpLanes * i;
      if (p < kPatternCount) {
        const double s = scan_score<kBf16>(in, warp_first + owner, kScanPatternsDevice.entry[p]);
        if (i == 0 || s > best) best = s, best_p = p;   // ascending p: strict, the lower index keeps a tie
      }
    }
#pragma unroll
    for (int offset = kWarpLanes / 2; offset > 0; offset /= 2) {
      const double other = __shfl_xor_sync(kAllLanes, best, offset);
      const int other_p = __shfl_xor_sync(kAllLanes, best_p, offset);
      if (other > best || (other == best && other_p < best_p)) best = other, best_p = other_p;
    }
    if (lane == owner) *slot = kScanPatternsDevice.entry[best_p].slot;
  }
}

// Everything after the load, for one tile: the pattern, W's values, the staging, one barrier, Wᵀ's values and both
// metadata tiles. The caller must not write `st` again until every thread has passed this call's barrier and read
// it (s03/s04: one tile per block; s05: a second stage, see transposable_pipelined).
template <bool kBf16, bool kHalves, bool kIntKeys, int kRowBits, int kColBits, uint64_t kSrc, bool kSlots = false>
__device__ __forceinline__ void process_tile(const Block4x4& blk, TileOrigin o, TileStage& st, const KeyTables* tables,
                                             const SlotTables* slot_tables,
                                             uint32_t* __restrict__ values, uint32_t* __restrict__ meta,
                                             uint4* __restrict__ values_t, uint32_t* __restrict__ meta_t, int64_t M,
                                             int64_t K, unsigned long long* nan_blocks) {
  const int64_t r0 = o.r0, c0 = o.c0;
  const int t = threadIdx.x, bi = t / kBlocksPerSide, bj = t % kBlocksPerSide;
  const uint32_t(&lo)[4] = blk.lo;
  const uint32_t(&hi)[4] = blk.hi;
  uint8_t* w_nib = st.w_nib;
  uint8_t* t_nib = st.t_nib;
  uint32_t* t_vals = st.t_vals;
  // Element (r, c); r and c may be run-time values: selected by comparison so the block stays in registers.
  auto elem = [&](int r, int c) -> uint32_t {
    uint32_t row_lo = lo[0], row_hi = hi[0];
#pragma unroll
    for (int k = 1; k < 4; ++k)
      if (k == r) row_lo = lo[k], row_hi = hi[k];
    return ((c < 2 ? row_lo : row_hi) >> (16 * (c & 1))) & 0xFFFFu;
  };

  // Scoring::int_keys (format.s06_intkeys): the halves on 32-bit keys where they are exact (transposable.h,
  // int_keys_choice); the blocks it leaves (inf, NaN, wide spans, bf16 subnormals) take the double path below.
  uint32_t mask = 0, out_slot = 0;   // out_slot: s07's answer (transposable.h, int_keys_slot)
  bool decided = false;
  if constexpr (kIntKeys) {
    float mag32[16];
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const float2 m01 = magnitudes32<kBf16>(lo[r]), m23 = magnitudes32<kBf16>(hi[r]);
      mag32[4 * r] = m01.x, mag32[4 * r + 1] = m01.y, mag32[4 * r + 2] = m23.x, mag32[4 * r + 3] = m23.y;
    }
    if constexpr (kSlots) {
      // blockDim.x / kThreads: 1 (the kernel runs with kThreads), which the compiler cannot fold (int_keys_slot).
      decided = int_keys_slot<kBf16>(mag32, &out_slot, blockDim.x / kThreads);
    } else {
      uint32_t slot = 0, u_bits = 0;
      decided = int_keys_choice<kBf16>(mag32, &slot, &u_bits);
      if (decided) mask = tables->top[slot] | u_bits << 8;
    }
  }
  if (!decided) {
  // Row-pair sums, then the 90 patterns (transposable.h: kPatternRowPairs), strict '>' from pattern 0 upwards.
  double pair_sum[4][6];
  bool nan = false;
  // For Scoring::halves: whether the block's sums are exact (transposable.h halves_applies; the same rule, on the
  // exponent fields): no inf or NaN, and for bf16 the nonzero magnitudes within kHalvesMaxExponentSpan binades.
  constexpr uint32_t kExpShift = kBf16 ? 7 : 10, kExpAllOnes = kBf16 ? 0xFF : 0x1F;
  bool special = false;
  int emax = -1, emin = 1 << 30;
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    double mag[4];
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const uint32_t bits = elem(r, c);
      mag[c] = magnitude16<kBf16>(bits);
      nan |= mag[c] != mag[c];
      if constexpr (kHalves) {
        const uint32_t abs = bits & 0x7FFFu, e = abs >> kExpShift;
        special |= e == kExpAllOnes;
        if (kBf16 && abs != 0) {
          const int field = e > 1 ? static_cast<int>(e) : 1;   // a subnormal counts as field 1
          emax = max(emax, field), emin = min(emin, field);
        }
      }
    }
#pragma unroll
    for (int p = 0; p < 6; ++p) pair_sum[r][p] = mag[pair_first(p)] + mag[pair_second(p)];
  }
  if (nan) atomicAdd(nan_blocks, 1ull);
  if (kHalves && !special && (emax < 0 || emax - emin <= kHalvesMaxExponentSpan)) {
    mask = halves_mask(std::make_index_sequence<kHalvesSteps>{}, pair_sum);
  } else {
    double best = pattern_score<0>(pair_sum);
    mask = PatternAt<0>::mask;
    consider_after_first(std::make_index_sequence<kPatternCount - 1>{}, pair_sum, best, mask);
  }
  if constexpr (kSlots) out_slot = slot_of_mask(mask);   // the double path's answer as s07's slot
  }   // !decided

  // W: per row, the kept pair (ordered nibble) -> 4 bytes of values, a nibble.
  uint32_t* w_row0 = values + ((r0 + 4 * bi) * K + c0 + 4 * bj) / 4;
  if constexpr (kSlots) {
    // Unsigned: r0 * (K / 4) + c0 / 4 (the tile, uniform) + bi * K + bj (the thread), where the signed division of
    // the line above costs ~11 instructions per tile (SASS, s06).
    w_row0 = values + (static_cast<uint64_t>(r0) * (static_cast<uint64_t>(K) >> 2) + (static_cast<uint64_t>(c0) >> 2)) +
             (static_cast<uint64_t>(bi) * static_cast<uint64_t>(K) + static_cast<uint64_t>(bj));
    // s07: the slot's entry (SlotTables): four 16-byte loads give every selector and nibble of the block.
    const SlotEntry& e = slot_tables->entry[out_slot];
    const uint4 row_select = *reinterpret_cast<const uint4*>(e.row_select);
    const uint4 col_select = *reinterpret_cast<const uint4*>(e.col_select);
    const uint4 row_nibble = *reinterpret_cast<const uint4*>(e.row_nibble);
    const uint4 col_nibble = *reinterpret_cast<const uint4*>(e.col_nibble);
    const uint32_t rs[4] = {row_select.x, row_select.y, row_select.z, row_select.w};
    const uint32_t cs[4] = {col_select.x, col_select.y, col_select.z, col_select.w};
    const uint32_t rn[4] = {row_nibble.x, row_nibble.y, row_nibble.z, row_nibble.w};
    const uint32_t cn[4] = {col_nibble.x, col_nibble.y, col_nibble.z, col_nibble.w};
    // Wᵀ's columns as s06: the block's 4x4 transpose of 16-bit values.
    uint32_t rows01[4], rows23[4];
    transpose_block16(lo, hi, rows01, rows23);
    const uint64_t row_words = static_cast<uint64_t>(K) >> 2;   // unsigned: no signed division per tile
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      w_row0[r * row_words] = __byte_perm(lo[r], hi[r], rs[r]);
      w_nib[(4 * bi + r) * kTileNibbleCols + bj] = static_cast<uint8_t>(rn[r]);
    }
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      t_vals[(4 * bj + c) * (kTile / 4) + bi] = __byte_perm(rows01[c], rows23[c], cs[c]);
      t_nib[(4 * bj + c) * kTileNibbleCols + bi] = static_cast<uint8_t>(cn[c]);
    }
  } else if constexpr (kIntKeys) {
    // s06: the same outputs by byte permutes (KeyTables::keep) instead of selects with run-time indices. Row r's
    // elements 0..3 are (lo[r], hi[r]); column c's rows 0..3 are (rows01[c], rows23[c]), the block's 4x4 transpose
    // of 16-bit values, eight PRMTs: 0x5410 takes the low halves of both words, 0x7632 the high halves.
    constexpr uint32_t kRowBitsOfColumn = 0x1111;
    constexpr uint32_t kGatherColumn = 0x1248;   // bit 4 i -> bit 12 + i (i = 0..3): no two terms meet, no carry
    uint32_t rows01[4], rows23[4];
    transpose_block16(lo, hi, rows01, rows23);
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const uint32_t e = tables->keep[(mask >> (4 * r)) & 0xFu];
      w_row0[r * (K / 4)] = __byte_perm(lo[r], hi[r], e);
      w_nib[(4 * bi + r) * kTileNibbleCols + bj] = static_cast<uint8_t>(e >> 16);
    }
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const uint32_t col = ((((mask >> c) & kRowBitsOfColumn) * kGatherColumn) >> 12) & 0xFu;
      const uint32_t e = tables->keep[col];
      t_vals[(4 * bj + c) * (kTile / 4) + bi] = __byte_perm(rows01[c], rows23[c], e);
      t_nib[(4 * bj + c) * kTileNibbleCols + bi] = static_cast<uint8_t>(e >> 16);
    }
  } else {
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    const uint32_t nibble = rules::nibble_of_keep_mask((mask >> (4 * r)) & 0xFu);
    const uint32_t a = rules::nibble_idx0(nibble), b = rules::nibble_idx1(nibble);
    w_row0[r * (K / 4)] = elem(r, a) | (elem(r, b) << 16);
    w_nib[(4 * bi + r) * kTileNibbleCols + bj] = static_cast<uint8_t>(nibble);
  }
  // Wᵀ: per column c of the block, the kept rows -> Wᵀ row 4 bj + c, values word bi (W rows 4 bi .. 4 bi + 3).
#pragma unroll
  for (int c = 0; c < 4; ++c) {
    const uint32_t col = ((mask >> c) & 1u) | (((mask >> (4 + c)) & 1u) << 1) | (((mask >> (8 + c)) & 1u) << 2) |
                         (((mask >> (12 + c)) & 1u) << 3);
    const uint32_t nibble = rules::nibble_of_keep_mask(col);
    const int a = rules::nibble_idx0(nibble), b = rules::nibble_idx1(nibble);
    t_vals[(4 * bj + c) * (kTile / 4) + bi] = elem(a, c) | (elem(b, c) << 16);
    t_nib[(4 * bj + c) * kTileNibbleCols + bi] = static_cast<uint8_t>(nibble);
  }
  }   // kIntKeys
  __syncthreads();

  // Wᵀ values: row c0 + R holds W rows r0 .. r0 + 63 compressed: 64 bytes from byte (c0 + R) * M + r0 of values_t.
  if constexpr (kSlots) {   // unsigned: c0 * (M / 16) + r0 / 16 (the tile) + R * (M / 16) + q (the thread)
    const int R = t / 4, q = t % 4;
    const uint64_t row16 = static_cast<uint64_t>(M) >> 4;
    values_t[(static_cast<uint64_t>(c0) * row16 + (static_cast<uint64_t>(r0) >> 4)) +
             (static_cast<uint64_t>(R) * row16 + static_cast<uint64_t>(q))] =
        reinterpret_cast<const uint4*>(t_vals)[R * 4 + q];
  } else {
    const int R = t / 4, q = t % 4;
    values_t[((c0 + R) * M + r0) / 16 + q] = reinterpret_cast<const uint4*>(t_vals)[R * 4 + q];
  }
  // Metadata: 128 words of W's tile, then 128 of Wᵀ's.
  int64_t index = 0;
  if constexpr (kSlots) {   // s07: each word from two 4-byte loads (assemble_word_by_rows)
    const uint64_t ur0 = static_cast<uint64_t>(r0), uc0 = static_cast<uint64_t>(c0);
    const uint64_t uM = static_cast<uint64_t>(M), uK = static_cast<uint64_t>(K);
    uint64_t at = 0;
    if (t < kTileMetaWords) {
      const uint32_t word = assemble_word_by_rows<kRowBits, kColBits, kSrc>(t, w_nib, ur0, uc0 >> 2, uK >> 2, &at);
      meta[at] = word;
    } else {
      const uint32_t word =
          assemble_word_by_rows<kRowBits, kColBits, kSrc>(t - kTileMetaWords, t_nib, uc0, ur0 >> 2, uM >> 2, &at);
      meta_t[at] = word;
    }
  } else if (t < kTileMetaWords) {
    const uint32_t word = assemble_word<kRowBits, kColBits, kSrc>(t, w_nib, r0, c0 / 4, K / 4, &index);
    meta[index] = word;
  } else {
    const uint32_t word = assemble_word<kRowBits, kColBits, kSrc>(t - kTileMetaWords, t_nib, c0, r0 / 4, M / 4, &index);
    meta_t[index] = word;
  }
}


// format.s03/s04: one tile per block, grid = the tiles.
template <bool kBf16, bool kHalves, bool kIntKeys, int kRowBits, int kColBits, uint64_t kSrc, bool kSlots = false>
__global__ void __launch_bounds__(kThreads)
    transposable_kernel(const uint2* __restrict__ dense, uint32_t* __restrict__ values, uint32_t* __restrict__ meta,
                        uint4* __restrict__ values_t, uint32_t* __restrict__ meta_t, int64_t M, int64_t K,
                        unsigned long long* nan_blocks) {
  __shared__ TileStage st;
  __shared__ KeyTables tables;
  if constexpr (kIntKeys) fill_key_tables(&tables);
  const SlotTables* slot_tables = nullptr;
  if constexpr (kSlots) {
    __shared__ SlotTables slots;
    fill_slot_tables(&slots);
    slot_tables = &slots;
  }
  const TileOrigin o = tile_origin(blockIdx.x, K);
  process_tile<kBf16, kHalves, kIntKeys, kRowBits, kColBits, kSrc, kSlots>(
      load_block(dense, o, K), o, st, &tables, slot_tables, values, meta, values_t, meta_t, M, K, nan_blocks);
}

// format.s05_pipelined: s04's work per tile on a persistent grid (block b takes tiles b, b + grid, ...), the next
// tile's 32 bytes per thread loaded into registers before the current tile is scored and stored, so that the DRAM
// round trip of a load overlaps the previous tile's FP64 scan, stores and barrier instead of following them
// (s03/s04 run one tile per block: load, then work, in sequence). The staging alternates between two TileStages:
// tile i writes stage i % 2 before its barrier and reads it after; tile i + 1 writes the other stage, and tile i + 2
// writes stage i % 2 again only after every thread has passed tile i + 1's barrier, hence finished reading tile i's.
// Two blocks per SM (at most 128 registers a thread): the loads in flight per SM are what the step is for.
constexpr int kPipelinedBlocksPerSm = 2;
template <bool kBf16, bool kHalves, bool kIntKeys, int kRowBits, int kColBits, uint64_t kSrc, bool kSlots = false>
__global__ void __launch_bounds__(kThreads, kPipelinedBlocksPerSm)
    transposable_pipelined(const uint2* __restrict__ dense, uint32_t* __restrict__ values,
                           uint32_t* __restrict__ meta, uint4* __restrict__ values_t, uint32_t* __restrict__ meta_t,
                           int64_t M, int64_t K, unsigned long long* nan_blocks) {
  __shared__ TileStage st[2];
  const int64_t tiles = (M / kTile) * (K / kTile);
  int64_t tile = blockIdx.x;
  if (tile >= tiles) return;   // whole blocks only: the barrier inside process_tile is reached by all or none
  __shared__ KeyTables tables;
  if constexpr (kIntKeys) fill_key_tables(&tables);
  const SlotTables* slot_tables = nullptr;
  if constexpr (kSlots) {
    __shared__ SlotTables slots;
    fill_slot_tables(&slots);
    slot_tables = &slots;
  }
  TileOrigin o = tile_origin(tile, K);
  Block4x4 cur = kSlots ? load_block_unsigned(dense, o, K) : load_block(dense, o, K);
  // s06: the next tile's origin by stepping (row, column) of the tile grid by the grid size's quotient and
  // remainder (one division per block), where tile_origin divides per tile (~40 instructions, SASS, session 9).
  // The column stays below tiles_k: c < tiles_k and step_c < tiles_k, so one subtraction wraps it.
  const uint32_t tiles_k = static_cast<uint32_t>(K / kTile);
  const uint32_t step_r = gridDim.x / tiles_k, step_c = gridDim.x % tiles_k;
  uint32_t tile_r = static_cast<uint32_t>(tile) / tiles_k, tile_c = static_cast<uint32_t>(tile) % tiles_k;
  for (int stage = 0;; stage ^= 1) {
    const int64_t next = tile + gridDim.x;
    TileOrigin no;
    if constexpr (kIntKeys) {
      tile_c += step_c, tile_r += step_r;
      if (tile_c >= tiles_k) tile_c -= tiles_k, ++tile_r;
      no = TileOrigin{int64_t(tile_r) * kTile, int64_t(tile_c) * kTile};   // used only when next < tiles
    } else {
      no = tile_origin(next < tiles ? next : tile, K);
    }
    Block4x4 nxt = {};
    if (next < tiles) nxt = kSlots ? load_block_unsigned(dense, no, K) : load_block(dense, no, K);   // in flight
    process_tile<kBf16, kHalves, kIntKeys, kRowBits, kColBits, kSrc, kSlots>(
        cur, o, st[stage], &tables, slot_tables, values, meta, values_t, meta_t, M, K, nan_blocks);
    if (next >= tiles) break;
    tile = next, o = no, cur = nxt;
  }
}

// ---- format.s08_occupancy: the tile's work in 64 registers and fewer shared-memory wavefronts -------------------
// s07's outputs need, per warp and tile, ~175 shared-memory wavefronts (counted from the addresses below; ncu,
// session 10: s07's shared pipe 63% busy at 46% of the copy rate, so at 1.5x the rate it would be the wall near
// 70%), s08's ~70 with its input's 16 (the ideal for the same accesses: ~50): Wᵀ's values stored as 4 words per thread at stride 64 bytes (16-way bank
// conflicts: 64 wavefronts), Wᵀ's nibbles stored at stride 16 bytes (8-way: 32), and the 64-byte SlotEntry read
// with 4 LDS.128 whose 16-byte pieces fall on 2 of 8 bank groups (~16 wavefronts each: 64). s08's layouts:
//   Wᵀ values as [W block row bi][Wᵀ row 4 bj + c], rows padded to kTValsStride words: a thread's four words are
//     consecutive (one STS.128, a warp's 512 bytes in 4 wavefronts); Wᵀ row R is read back as the 4 words of its
//     chunk q from 4 block rows (4 LDS.32, 2-way: the stride is 4 banks past a multiple of 32 for bi 4 apart,
//     so chunks q and q + 2 share banks: 8 wavefronts);
//   Wᵀ nibbles as TileStage's [row][nibble column] with rows padded to kNibStride bytes (bank 5 row + column / 4:
//     rows 4 bj + c for the 16 bj of a warp fall on 8 banks, 2-way: 8 wavefronts for the four stores); W's nibbles
//     padded the same (still one wavefront a store), so that both metadata halves read one layout;
//   the slot's entry in 32 bytes (OccupancySlotEntry: selectors two per word, PRMT reads bits 15:0; nibbles one
//     per byte), two LDS.128 over 4 bank groups (~12 wavefronts each), 5 shifts more per block.
// W's values and the metadata words are s07's (assemble_word_by_rows), both halves of the block's words on one path
// (threads 0..127 W's, 128..255 Wᵀ's, their operands selected per thread: s07's two branches each keep their own
// loop-invariant thread parts, which spilled at 64 registers).
constexpr int kTValsStride = kTile + 4;        // words per Wᵀ-values staging row: 16-byte rows, 4 banks of skew
constexpr int kNibStride = kTileNibbleCols + 4;   // bytes per nibble staging row: 5 banks of skew
struct OccupancyStage {
  uint8_t w_nib[kTile * kNibStride];   // W: [row][nibble column], padded rows
  uint8_t t_nib[kTile * kNibStride];   // Wᵀ: [row = W column][nibble column = W row / 4], padded rows
  alignas(16) uint32_t t_vals[kBlocksPerSide * kTValsStride];   // Wᵀ values: [bi][Wᵀ row], padded rows
};
static_assert(kTValsStride % 4 == 0 && kNibStride % 4 == 0, "16-byte Wᵀ-value rows, 4-byte nibble loads");
struct alignas(16) OccupancySlotEntry {   // SlotEntry in 32 bytes
  uint32_t row_select01, row_select23, col_select01, col_select23;   // selectors of rows (columns) 0, 1 | 2, 3
  uint32_t row_nibbles, col_nibbles;   // byte i: the nibble of row (column) i
  uint32_t unused[2];
};
struct OccupancySlotTables {
  OccupancySlotEntry entry[kSlotCount];
};
static_assert(sizeof(OccupancySlotEntry) == 2 * 16, "a slot's entry is two 16-byte loads");
constexpr OccupancySlotTables make_occupancy_slot_tables() {
  constexpr SlotTables wide = make_slot_tables();
  constexpr uint32_t kHigh = 16, kByte = 8;
  OccupancySlotTables t{};
  for (int slot = 0; slot < kSlotCount; ++slot) {
    const SlotEntry& e = wide.entry[slot];
    OccupancySlotEntry& x = t.entry[slot];
    x.row_select01 = e.row_select[0] | e.row_select[1] << kHigh, x.row_select23 = e.row_select[2] | e.row_select[3] << kHigh;
    x.col_select01 = e.col_select[0] | e.col_select[1] << kHigh, x.col_select23 = e.col_select[2] | e.col_select[3] << kHigh;
    for (int i = 0; i < kBlock; ++i)
      x.row_nibbles |= e.row_nibble[i] << (kByte * i), x.col_nibbles |= e.col_nibble[i] << (kByte * i);
  }
  return t;
}
__device__ const OccupancySlotTables kOccupancySlotTablesDevice = make_occupancy_slot_tables();
__device__ __forceinline__ void fill_occupancy_slot_tables(OccupancySlotTables* tables) {
  fill_shared_table(tables, kOccupancySlotTablesDevice);
}

// One tile: the choice (int_keys_lean_slot, the warp's scan for the blocks it leaves), W's values, the staging, one
// barrier, Wᵀ's values and both metadata tiles. As process_tile: the caller must not write `st` again until every
// thread has passed this call's barrier (two stages, transposable_occupancy).
template <bool kBf16, int kRowBits, int kColBits, uint64_t kSrc>
__device__ __forceinline__ void process_tile_occupancy(const InputStage& in, TileOrigin o, OccupancyStage& st,
                                                       const OccupancySlotTables* slot_tables,
                                                       uint32_t* __restrict__ values, uint32_t* __restrict__ meta,
                                                       uint4* __restrict__ values_t, uint32_t* __restrict__ meta_t,
                                                       int64_t M, int64_t K, unsigned long long* nan_blocks) {
  const int t = threadIdx.x, bi = t / kBlocksPerSide, bj = t % kBlocksPerSide;
  const Block4x4 blk = read_block(in);
  const uint32_t(&lo)[4] = blk.lo;
  const uint32_t(&hi)[4] = blk.hi;
  float mag32[16];
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    const float2 m01 = magnitudes32<kBf16>(lo[r]), m23 = magnitudes32<kBf16>(hi[r]);
    mag32[4 * r] = m01.x, mag32[4 * r + 1] = m01.y, mag32[4 * r + 2] = m23.x, mag32[4 * r + 3] = m23.y;
  }
  uint32_t slot = 0;
  // blockDim.x / kThreads: 1, which the compiler cannot fold (int_keys_slot's NOTE).
  const bool decided = int_keys_lean_slot<kBf16>(mag32, &slot, blockDim.x / kThreads);
  warp_full_scan<kBf16>(blk, in, decided, &slot, nan_blocks);

  // The slot's entry: two 16-byte loads; PRMT reads a selector's bits 15:0, STS.U8 a nibble's byte 0.
  const OccupancySlotEntry& e = slot_tables->entry[slot];
  const uint4 selects = *reinterpret_cast<const uint4*>(&e.row_select01);
  const uint4 nibbles = *reinterpret_cast<const uint4*>(&e.row_nibbles);
  const uint32_t rs[4] = {selects.x, selects.x >> 16, selects.y, selects.y >> 16};
  const uint32_t cs[4] = {selects.z, selects.z >> 16, selects.w, selects.w >> 16};
  // W: as s07 (unsigned offsets, one PRMT and one 4-byte store per row).
  uint32_t* w_row0 =
      values + (static_cast<uint64_t>(o.r0) * (static_cast<uint64_t>(K) >> 2) + (static_cast<uint64_t>(o.c0) >> 2)) +
      (static_cast<uint64_t>(bi) * static_cast<uint64_t>(K) + static_cast<uint64_t>(bj));
  const uint64_t row_words = static_cast<uint64_t>(K) >> 2;
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    w_row0[r * row_words] = __byte_perm(lo[r], hi[r], rs[r]);
    st.w_nib[(4 * bi + r) * kNibStride + bj] = static_cast<uint8_t>(nibbles.x >> (8 * r));
  }
  // Wᵀ: the block's 4x4 transpose of 16-bit values (s06's eight PRMTs), column c's kept pair -> Wᵀ row 4 bj + c.
  uint32_t rows01[4], rows23[4], col_words[4];
  transpose_block16(lo, hi, rows01, rows23);
#pragma unroll
  for (int c = 0; c < 4; ++c) {
    col_words[c] = __byte_perm(rows01[c], rows23[c], cs[c]);
    st.t_nib[(4 * bj + c) * kNibStride + bi] = static_cast<uint8_t>(nibbles.y >> (8 * c));
  }
  *reinterpret_cast<uint4*>(&st.t_vals[bi * kTValsStride + 4 * bj]) =
      make_uint4(col_words[0], col_words[1], col_words[2], col_words[3]);
  __syncthreads();

  const uint64_t ur0 = static_cast<uint64_t>(o.r0), uc0 = static_cast<uint64_t>(o.c0);
  const uint64_t uM = static_cast<uint64_t>(M), uK = static_cast<uint64_t>(K);
  {   // Wᵀ values: row R's chunk q (words of block rows 4q..4q+3), 16 bytes to (c0 + R) * M / 2 + r0 / 2 + 16 q
    const int R = t / 4, q = t % 4;
    const uint32_t* col = &st.t_vals[4 * q * kTValsStride + R];
    const uint64_t row16 = uM >> 4;
    values_t[(uc0 * row16 + (ur0 >> 4)) + (static_cast<uint64_t>(R) * row16 + static_cast<uint64_t>(q))] =
        make_uint4(col[0], col[kTValsStride], col[2 * kTValsStride], col[3 * kTValsStride]);
  }
  {   // Metadata: word t of W's tile (t < 128) or word t - 128 of Wᵀ's.
    const bool transposed = t >= kTileMetaWords;
    const int w = t % kTileMetaWords;
    uint64_t at = 0;
    const uint32_t word = assemble_word_by_rows<kRowBits, kColBits, kSrc, kNibStride>(
        w, transposed ? st.t_nib : st.w_nib, transposed ? uc0 : ur0, (transposed ? ur0 : uc0) >> 2,
        (transposed ? uM : uK) >> 2, &at);
    (transposed ? meta_t : meta)[at] = word;
  }
}

// format.s08_occupancy: s07's work per tile in fewer registers and shared-memory wavefronts (process_tile_occupancy)
// on a persistent grid at four blocks per SM. The ncu profile of s06/s07 (NOTES.md, session 10, call D) found them
// latency-bound at a quarter occupancy: two blocks of 8 warps per SM (16 of 64 warp slots), the SMs issuing in
// 47-51% of cycles, DRAM at 38.6% of peak. Four blocks need at most 64 registers a thread (65536 / (4 x 256)).
// What had to go, besides the keys' and the fallback's registers: the next tile's 8 registers. s05-s07
// hold the next tile's 32 bytes per thread in registers while the current one is worked on; with them the loop
// spilled 8-48 bytes at 64 registers (ptxas, sm_90a), without them it fits. So the next tile is staged in shared
// memory instead, by cp.async (InputStage): each thread copies its own four 8-byte row pieces, waits for its own
// group, and reads them back with four LDS.64 (a warp's load is 256 contiguous bytes: 2 wavefronts); no barrier is
// involved, since no thread reads another's piece. The next tile is still in flight during the current one's work,
// as in s05, and per SM 4 x 8 KB are in flight where s07 had 2 x 8 KB.
// The loop state is 32-bit: the tile's (row, column) in the tile grid, stepped as s06 does, and the count of tiles
// left. Shared memory: 2 x 6.75 KB staging (OccupancyStage) + 2 x 8 KB input (InputStage) + 9 KB slot table =
// 38.5 KB static a block, 4 x 38.5 KB of the SM's 228 KB. Grid::tile_per_block launches it with one block per tile.
// Thread t's 4x4 block of the tile at `o`: four 8-byte cp.async into its own slots of `in` (one commit group).
__device__ __forceinline__ void copy_block_async(const uint2* __restrict__ dense, TileOrigin o, int64_t K,
                                                 InputStage& in) {
  const int t = threadIdx.x, bi = t / kBlocksPerSide, bj = t % kBlocksPerSide;
  const uint64_t k4 = static_cast<uint64_t>(K) >> 2;   // as load_block_unsigned
  const uint2* row0 = dense + (static_cast<uint64_t>(o.r0) * k4 + (static_cast<uint64_t>(o.c0) >> 2)) +
                      (static_cast<uint64_t>(bi) * static_cast<uint64_t>(K) + static_cast<uint64_t>(bj));
#pragma unroll
  for (int r = 0; r < kBlock; ++r) ptx::cp_async_ca_8(ptx::smem_addr(&in.piece[r][t]), row0 + r * k4);
  ptx::cp_async_commit();
}
// sm_80 and sm_86 (A100 and consumer Ampere) run it at three: without VIADDMNMX (sm_90) a top is IADD3 + IMNMX, and
// at 64 registers bf16 wgmma16x64 spilled 4 bytes there (ptxas 13.0). The H200 (sm_90a) is the target.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
constexpr int kOccupancyBlocksPerSm = 3;
#else
constexpr int kOccupancyBlocksPerSm = 4;
#endif
template <bool kBf16, int kRowBits, int kColBits, uint64_t kSrc>
__global__ void __launch_bounds__(kThreads, kOccupancyBlocksPerSm)
    transposable_occupancy(const uint2* __restrict__ dense, uint32_t* __restrict__ values,
                           uint32_t* __restrict__ meta, uint4* __restrict__ values_t, uint32_t* __restrict__ meta_t,
                           int64_t M, int64_t K, unsigned long long* nan_blocks) {
  __shared__ OccupancyStage st[2];
  __shared__ InputStage in[2];
  const uint32_t tiles_k = static_cast<uint32_t>(K / kTile);
  const uint32_t tiles = static_cast<uint32_t>(M / kTile) * tiles_k;   // below 2^31 (prune_compress_both)
  if (blockIdx.x >= tiles) return;   // whole blocks only: the barrier inside process_tile is reached by all or none
  auto origin = [](uint32_t r, uint32_t c) { return TileOrigin{int64_t(r) * kTile, int64_t(c) * kTile}; };
  uint32_t tile_r = blockIdx.x / tiles_k, tile_c = blockIdx.x % tiles_k;
  copy_block_async(dense, origin(tile_r, tile_c), K, in[0]);   // in flight while the table is filled
  __shared__ OccupancySlotTables slots;
  fill_occupancy_slot_tables(&slots);
  // This block's tiles: blockIdx.x, + gridDim.x, ...: (tiles - 1 - blockIdx.x) / gridDim.x more after the first.
  uint32_t more = (tiles - 1 - blockIdx.x) / gridDim.x;
  const uint32_t step_r = gridDim.x / tiles_k, step_c = gridDim.x % tiles_k;
  for (int stage = 0;; stage ^= 1) {
    const TileOrigin o = origin(tile_r, tile_c);
    if (more > 0) {   // the next tile's origin by stepping (row, column), as s06; its copy in flight
      tile_c += step_c, tile_r += step_r;
      if (tile_c >= tiles_k) tile_c -= tiles_k, ++tile_r;
      copy_block_async(dense, origin(tile_r, tile_c), K, in[stage ^ 1]);
      ptx::cp_async_wait<1>();   // all but the group just committed: this tile's pieces have landed
    } else {
      ptx::cp_async_wait<0>();
    }
    // in[stage ^ 1] held the previous tile, which this thread read into registers before working on it.
    process_tile_occupancy<kBf16, kRowBits, kColBits, kSrc>(in[stage], o, st[stage], &slots, values, meta, values_t,
                                                           meta_t, M, K, nan_blocks);
    if (more == 0) break;
    --more;
  }
}

template <bool kBf16, bool kHalves, bool kIntKeys, bool kSlots, bool kLean, MetaLayout kLayout>
void launch(const void* dense, int64_t M, int64_t K, void* values, uint8_t* meta, void* values_t, uint8_t* meta_t,
            unsigned long long* nan_blocks, cudaStream_t stream, Grid grid, int max_blocks) {
  constexpr int kRowBits = desc(kLayout).row_bits, kColBits = desc(kLayout).col_bits;
  constexpr uint64_t kSrc = packed_src(desc(kLayout));
  const int64_t tiles = (M / kTile) * (K / kTile);
  const auto* in = static_cast<const uint2*>(dense);
  auto* v = static_cast<uint32_t*>(values);
  auto* m = reinterpret_cast<uint32_t*>(meta);
  auto* vt = static_cast<uint4*>(values_t);
  auto* mt = reinterpret_cast<uint32_t*>(meta_t);
  if constexpr (kLean) {   // s08: one kernel for both grids
    const auto kernel = transposable_occupancy<kBf16, kRowBits, kColBits, kSrc>;
    int64_t blocks = tiles;
    if (grid == Grid::persistent) {
      int device = 0, sms = 0, per_sm = 0;
      SPARSE24_CUDA_CHECK(cudaGetDevice(&device));
      SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
      // Four blocks of 30 KB static shared memory need a 120 KB carveout: the driver sizes it for occupancy by
      // default, and the hint makes that explicit (a hint only: the occupancy query has the last word).
      SPARSE24_CUDA_CHECK(
          cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared));
      SPARSE24_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, 0));
      blocks = int64_t(sms) * (per_sm > 0 ? per_sm : 1);
      if (max_blocks > 0 && blocks > max_blocks) blocks = max_blocks;
      if (blocks > tiles) blocks = tiles;
    }
    kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(in, v, m, vt, mt, M, K, nan_blocks);
  } else if (grid == Grid::tile_per_block) {
    transposable_kernel<kBf16, kHalves, kIntKeys, kRowBits, kColBits, kSrc, kSlots>
        <<<static_cast<unsigned>(tiles), kThreads, 0, stream>>>(in, v, m, vt, mt, M, K, nan_blocks);
  } else if constexpr (kHalves) {
    // As many blocks as are resident at once (the occupancy the compiler's registers allow), or max_blocks.
    const auto kernel = transposable_pipelined<kBf16, kHalves, kIntKeys, kRowBits, kColBits, kSrc, kSlots>;
    int device = 0, sms = 0, per_sm = 0;
    SPARSE24_CUDA_CHECK(cudaGetDevice(&device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    SPARSE24_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, 0));
    int64_t blocks = int64_t(sms) * (per_sm > 0 ? per_sm : 1);
    if (max_blocks > 0 && blocks > max_blocks) blocks = max_blocks;
    if (blocks > tiles) blocks = tiles;
    kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(in, v, m, vt, mt, M, K, nan_blocks);
  }   // Grid::persistent with Scoring::full: refused by prune_compress_both before the launch
  SPARSE24_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void prune_compress_both(DType t, MetaLayout l, const void* dense, int64_t M, int64_t K, void* values,
                         uint8_t* meta, void* values_t, uint8_t* meta_t, unsigned long long* nan_blocks,
                         void* stream, Scoring scoring, Grid grid, int max_blocks) {
  const char* fn = "transposable::gpu::prune_compress_both";
  if (t != DType::fp16 && t != DType::bf16)
    fail(fn, cat("dtype ", rules::check_dtype(fn, t).name, ": transposable masks are implemented for fp16 and bf16"));
  if (l != MetaLayout::LaneBlocks16 && l != MetaLayout::Wgmma16x64)
    fail(fn, cat("metadata layout ", name(l), ": the kernel writes lane_blocks16 or wgmma16x64"));
  rules::check_layout_shape(fn, l, M, K, 16, 4);
  rules::check_layout_shape(fn, l, K, M, 16, 4);
  if (M % kTile != 0) fail(fn, cat("M = ", M, " is not a multiple of ", kTile, " (the kernel's tile)"));
  if (K % kTile != 0) fail(fn, cat("K = ", K, " is not a multiple of ", kTile, " (the kernel's tile)"));
  if ((M / kTile) * (K / kTile) > 0x7FFFFFFF) fail(fn, cat(M, " x ", K, " needs more than 2^31 - 1 blocks"));
  const void* ptrs[] = {dense, values, meta, values_t, meta_t};
  const char* names[] = {"dense", "values", "meta", "values_t", "meta_t"};
  for (int i = 0; i < 5; ++i) {
    rules::check_ptr(fn, ptrs[i], names[i]);
    if (reinterpret_cast<uintptr_t>(ptrs[i]) % 16 != 0)
      fail(fn, cat(names[i], " is not 16-byte aligned (the kernel moves up to 16 bytes per access)"));
  }
  rules::check_ptr(fn, nan_blocks, "nan_blocks");
  const cudaStream_t s = static_cast<cudaStream_t>(stream);
  // The full scan's sums and the next tile's registers need more than the 128 registers of two blocks per SM
  // (ptxas, sm_90a: 24-60 bytes of spills), so the persistent grid is built with the halves scoring only.
  if (grid == Grid::persistent && scoring == Scoring::full)
    fail(fn, "the persistent grid (format.s05_pipelined) runs the halves scoring only: the full scan spills there");
  if (max_blocks < 0) fail(fn, cat("max_blocks = ", max_blocks, ": 0 (as many as are resident) or a positive count"));
  // Scoring::int_keys falls back to the halves in double (and they to the full scan), so it implies kHalves.
  const bool bf16 = t == DType::bf16;
  // Scoring::slots is int_keys with s07's keys and outputs (kSlots), so it implies kIntKeys and kHalves too;
  // Scoring::lean_slots is slots with s08's keys, fallback and occupancy (kLean), so it implies all three.
  auto go = [&](auto bf16_tag, auto halves_tag, auto keys_tag, auto slots_tag, auto lean_tag) {
    constexpr bool kB = decltype(bf16_tag)::value, kH = decltype(halves_tag)::value, kI = decltype(keys_tag)::value;
    constexpr bool kS = decltype(slots_tag)::value, kL = decltype(lean_tag)::value;
    static_assert(!kL || (kS && kI && kH), "s08 is s07 (slots, integer keys, halves) plus its own changes");
    if (l == MetaLayout::LaneBlocks16)
      return launch<kB, kH, kI, kS, kL, MetaLayout::LaneBlocks16>(dense, M, K, values, meta, values_t, meta_t,
                                                                   nan_blocks, s, grid, max_blocks);
    return launch<kB, kH, kI, kS, kL, MetaLayout::Wgmma16x64>(dense, M, K, values, meta, values_t, meta_t, nan_blocks,
                                                              s, grid, max_blocks);
  };
  using Yes = std::true_type;
  using No = std::false_type;
  switch (scoring) {
    case Scoring::full: return bf16 ? go(Yes{}, No{}, No{}, No{}, No{}) : go(No{}, No{}, No{}, No{}, No{});
    case Scoring::halves: return bf16 ? go(Yes{}, Yes{}, No{}, No{}, No{}) : go(No{}, Yes{}, No{}, No{}, No{});
    case Scoring::int_keys: return bf16 ? go(Yes{}, Yes{}, Yes{}, No{}, No{}) : go(No{}, Yes{}, Yes{}, No{}, No{});
    case Scoring::slots: return bf16 ? go(Yes{}, Yes{}, Yes{}, Yes{}, No{}) : go(No{}, Yes{}, Yes{}, Yes{}, No{});
    case Scoring::lean_slots:
      return bf16 ? go(Yes{}, Yes{}, Yes{}, Yes{}, Yes{}) : go(No{}, Yes{}, Yes{}, Yes{}, Yes{});
  }
  fail(fn, "unknown scoring");
}

}  // namespace sparse24::format::transposable::gpu
