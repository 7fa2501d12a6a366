// wgmma_sp step 21, "widebox": s16's decode units, mainloop, partials and PDL reduction on k-tiles twice as long, so
// that each TMA copy of A brings 128 bytes of every row instead of 64.
//
// What it adds over s16_pdl: the width of A's box. Every earlier step's k-tile is the type's 128 bytes of B per row
// (BK = 64 at 16 bits, 128 at 8), which makes A's compressed row half of that: a stage's A box is 128 rows x 64
// bytes, and each row's 64 bytes are a separate 2-sector request to the L2 and DRAM. Here BK doubles (128 at 16
// bits, 256 at 8): A's box is 128 rows x 128 bytes (one 128-byte swizzle atom row per row; the k-steps' descriptors
// start 0, 32, 64 and 96 bytes into it), B's rows of 256 bytes arrive as two 128-byte panels, each its own TMA box
// and swizzle atoms (operands.cuh: kBPanels, b_step_offset; TmaMainloop issues one box per panel), and the metadata
// box is the four k-steps' lane blocks (2 KB at 16 bits, 4 KB at 8). A stage is four k-steps of wgmma.sp instead
// of two; the ring holds the same bytes in half as many stages.
//
// Why (session 16, results/NOTES.md "Session 16, calls B and C"): the decode kernels' A stream without the tensor
// work (harness/experiments/tmastream.cu) reads the fp16 28672 x 8192 weight's 235 MB of values at 79.6% of the
// copy rate in 64-byte boxes and 84.5% in 128-byte ones, with s11/s16's schedule and the same bytes in flight (ncu:
// half the L2 requests for the same sectors; 70.9% -> 82.2% of the DRAM peak). cuSPARSELt's fp16 decode kernel is
// s16's design with 64-byte A boxes in one run (tilesize 128x64x64) and picked BK = 128 (128-byte boxes) in another.
// The other lever of that experiment (equal runs, s19) needs a sum of the cut tiles, which cost what it saved; this
// one needs nothing summed.
//
// PREDICTION (H200, same run as s16 / s19 and cuSPARSELt; results/NOTES.md "Session 17: wgmma_sp.s21_widebox
// (prediction)"): fp16 28672x16x8192 (split 1: the same units as s16) the stream's -5.8% on s16's time, 72.4 ->
// 67-69 us = 1.00-1.04x cuSPARSELt fp16, 93-95% of the copy rate; the other weights -3 to -8%; int8 (256-byte A
// boxes) 41.5 -> 38.5-40 us at 28672x16x8192.
// MEASURED (H200, session 17, results/NOTES.md "Session 17, calls A-F"): under ncu the kernel took 1.7% off s16's
// at fp16 28672x16x8192 (68.4 against 69.6 us; cuSPARSELt 68.6, with 128-byte boxes too), half the L2 requests;
// in the bench 72.96 us, 0.957x cuSPARSELt (s16 0.951x). (Session 18 corrected what session 17 read into that: in
// one run every kernel's bench time was within 1 us of its ncu duration; the one ncu launch of s21 had caught the
// fast one of the two levels its loops take. results/NOTES.md, "Session 18, call A".)
// The prediction took the pure stream's 6% for the kernel's; the metadata and B boxes already shared its rounds.
// 128 x 128 is the band's best row at N = 128 on the 8192-, 14336- and 4096-row weights (1.32-1.49x cuBLAS).
// The consumer waits for each k-tile's batch (s02's TmaMainloop; fp8: s10's PromotingMainloop, which always did),
// where s16 keeps one batch in flight (s03's InFlightMainloop). Why (session 17, results/NOTES.md "Session 17, call
// A"): with s03's loop on the wide tile, every row at BN = 32 and 64 read wrong sums from the second k-tile on, and
// BN = 16 at 4096 x 4097 x 4096; the SASS shows why: the k-loop is not unrolled, and the next k-tile's metadata is
// loaded (LDS) into the very registers the batch still in flight reads (wgmma.sp reads its metadata register
// asynchronously, like an A fragment). s03's Meta::keep emits no PTX, so ptxas does not see the batch's use; s16's
// loops are safe only because NVVM unrolled them by two, alternating two register sets (docs/sparse-tensor-cores.md,
// pitfalls). At N <= 64 a k-tile's four wgmma.sp are ~5% of its streaming time (~20% at N = 128), so waiting for them
// costs the stream little: the producer runs STAGES k-tiles ahead either way.
// Tiles: s16's decode tiles 128 x 16 / 32 / 64 at 16 bits, 128 x 16 / 32 at 8 bits, each ring the bytes of s16's
// row of that tile (16-bit 128 x 16: 8 stages of 22 KB against 16 of 11 KB), so that the box is what differs; and
// 128 x 128 at 16 bits (4 stages of 50 KB), which s16 has not: at N = 128 a 64-column tile streams the weight
// twice (session 17, call B: s21 128 x 64 at 8192 x 128 x 8192 1.18x cuBLAS, at 28672 x 128 x 8192 0.98x).
// Preconditions: s16's, with K % BK == 0 for the wider BK (K % 128 at 16 bits, K % 256 at 8: the five decode
// weights pass; 8192 x 200 x 29568 does not at 8 bits, and is refused by the rule). sm_90a only.
#pragma once

#include <type_traits>

#include "kernels/wgmma_sp/s16_pdl.cuh"

namespace sparse24::wgmma_sp {

// The k-loop: each batch waited for before the next k-tile's metadata is read (the header says why).
template <class Ring>
using WaitEachBatchMainloop =
    std::conditional_t<Ring::Tile::Operands::kPromote, PromotingMainloop<Ring>, TmaMainloop<Ring>>;

// Arguments as s16's: T (fp16, bf16, int8, e4m3), BM x BN x BK with BK the wide k-tile (128 at 16 bits, 256 at 8),
// WM x WN warps, STAGES, GROUP, SPLIT (0: s11's streaming split over the wide k-tiles), Out. s16's composition with
// WaitEachBatchMainloop; the components read the wide geometry from the tile (operands.cuh).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int SPLIT,
          class Out = wgmma::Unscaled>
struct s21_widebox
    : wgmma::Kernel<s21_widebox<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT, Out>,
                    WaitEachBatchMainloop<wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN, Out>,
                                                           LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN, Out>>, STAGES>>,
                    TriggerAtLastUnit<NarrowSplitKUnits<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP, SPLIT>>,
                    PartialsEpilogue<RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN, Out>>,
                                     DependentLaunchReduction<SparseTile<T, BM, BN, BK, WM, WN, Out>>>> {
  using Tile = SparseTile<T, BM, BN, BK, WM, WN, Out>;
  static_assert(Tile::kARowBytes == 128 && Tile::kBPanels == 2,
                "the wide k-tile: A rows of 128 bytes, B rows of two 128-byte panels (BK = 128 at 16 bits, 256 at 8)");
  static_assert(T == DType::fp16 || T == DType::bf16 || T == DType::int8 || T == DType::e4m3,
                "fp16, bf16, int8 or e4m3 (s16's decode types measured with the wide box)");
  static_assert(BM == 128 && (BN == 16 || BN == 32 || BN == 64 || BN == 128),
                "s11's decode and band tiles, 128 x 16 / 32 / 64, and 128 x 128 (the band's N = 128 in one column "
                "tile: the weight streamed once)");
  static_assert(SPLIT != 1, "s16's reduction launch: SPLIT 0 (chosen) or 2..kMaxSplit");
};

}  // namespace sparse24::wgmma_sp
