// ablation of wgmma_sp step 06 for fp8 (and of s12_lazypromote's promotion), "fp8fastaccum": s06's kernel (TMA
// ring, clusters of 2 sharing B, persistent, D through shared-memory slabs and TMA stores) on e4m3 / e5m2 with the
// sums kept in the wgmma accumulator for the whole of K, never promoted to f32 registers. What cuSPARSELt's sparse
// e4m3 kernel does (results/NOTES.md, session 12 call A: ncu at 8192^3, FMA pipe 3.8% busy, N = 256 per wgmma) and
// what cuBLASLt's CUBLASLT_MATMUL_DESC_FAST_ACCUM does for dense fp8. The time difference against
// wgmma_sp.s12_lazypromote P 2 with the TMA store (same run, same shape) is the price of our promotion as built:
// the FADDs and full waits of s12's interval AND the narrower tile they force (two accumulator sets fit BN = 192,
// one fits BN = 256, as the int8 rows). It is a study and a row at cuSPARSELt's precision, not a ladder step: the
// dispatcher never picks it (kernels/dispatch.cpp: no variant of family ablations), make_dispatch_table.py never
// considers it, make_results_readme.py never calls it our best kernel.
//
// PRECISION: ITS SUMS KEEP ~14 BITS. The fp8 wgmma (dense and sparse) keeps about 14 significant bits of its
// running sum (docs/sparse-tensor-cores.md, "Accumulation width": products and the incoming accumulator aligned to
// the largest exponent), so here every k-step (m64n256k64: 32 nonzero products per output) drops what lies more
// than 2^-13 below the running sum, K / 64 times per output. rel_err (||D - ref||_F / ||ref||_F on the random-normal
// problem) therefore GROWS WITH K, where s12's stays at the bf16 output's rounding (0.00166 at every K measured).
// Use it only where that is acceptable (as cuSPARSELt's users do, knowingly or not).
//
// Why it passes the harness's checks anyway (as cuSPARSELt's e4m3 does, NOTES session 12): neither check can tell
// 14 bits from 24 at the shapes we run.
// - Exact mode (harness/problem.h: A and B in {-1, 0, 1}): every product is -1, 0 or 1, every running sum an integer
//   of magnitude <= K / 2 (2:4 keeps K / 2 products per output), and a 14-bit sum aligned to its largest exponent
//   holds every integer below 2^14 exactly: exact for K <= 32768 whatever the signs (static_assert below for the
//   four large shapes' largest K, 28672), and beyond that as long as no running sum reaches 2^14 (a random walk of
//   {-1, 0, 1} steps stays near sqrt(K)). D bit for bit, as any variant.
// - Normal mode (harness/check.cu, element_rule: |d - ref| <= u_out |ref| + 6 K u32 S, and the relative Frobenius
//   bound 2 u_out + K u32): derived for an f32 accumulator, so it does not cover this kernel by construction; it
//   holds by margin. The error relative to the bound is largest at the smallest K, and up to K = 512 this kernel
//   keeps at most 8 k-steps in 14 bits, exactly what s12 P 4 keeps between its promotions (it passes every test
//   shape); past that the bound grows like K S ~ K^2 and the truncations like (K / 64) ulp(sqrt(K)) ~ K^1.5.
//   Measured on cuSPARSELt's kernel, which sums the same way: its largest element error 0.24 of the bound, rel_err
//   0.00203-0.00314 against the relative bound's 0.0083-0.0095 (K = 8192-28672).
//
// The mechanism: the ladder's mainloops refuse fp8 operands (SparseOperands::kPromote, s02/s03's static_assert "fp8
// sums need f32 promotion"). This ablation gives s03's InFlightMainloop an operand description of its own,
// FastAccumOperands = SparseOperands with kPromote false, which no ladder step names: so the ladder keeps its guard
// and every ladder kernel's code is untouched (its SASS byte-identical: scripts/compare_sass.py against main).
// The components are s06's, by name: s03's mainloop on s04's cluster ring, s05's PersistentScheduler, s06's
// TmaStoreFor (the widest slab beside the ring).
//
// Tile and ring: 128 x 256 x 128, 5 stages of 42 KB (A 8 + B 32 + metadata 2 KB, the int8 s06 rows' stage), which
// leave room for 4 KB slabs of 64-byte rows (32 bf16 columns; 219 KB in all), as int8's scaled bf16-D s06 row,
// the closest measured kernel: the same instruction shape, ring, epilogue, D type and k-loop rhythm, on e4m3.
// Registers: acc 128 f32 per consumer thread (int8's 128 s32), no second set.
//
// PREDICTION (H200, written before any run; against the same run's s12 P 2 TMA-store row and cuSPARSELt e4m3).
// Basis: session 11's epi8.json (results/nvidia-h200/session11_2026-12-03_d567ef9/, same run): int8 s06 scaled bf16
// D, this kernel on int8, 606.5 / 4410.0 / 546.7 / 466.0 us; e4m3 s12 P 2 TMA 697.2 / 5594.8 / 618.7 / 645.6;
// cuSPARSELt e4m3 539.2 / 4419.6 / 516.7 / 469.0. e4m3's instruction ceiling is 3214 against int8's 3405 TFLOP/s
// (6% lower: the SS instruction loops in run issue16-run_2026-12-02_a16bdbd, results/NOTES.md), so this kernel
// should run at int8's time x 1.00-1.06:
//   shape               this kernel     x s12 P 2 TMA (speed)   x cuSPARSELt e4m3   rel_err (s12: 0.00166)
//   8192^3              605-645 us      1.08-1.15x              0.84-0.89x          0.0019-0.0022 (Lt 0.00203)
//   16384^3             4410-4680 us    1.20-1.27x              0.94-1.00x          0.0023-0.0027 (Lt 0.00249)
//   28672x2048x8192     545-580 us      1.07-1.14x              0.89-0.95x          0.0019-0.0022 (K = 8192)
//   8192x2048x28672     466-495 us      1.30-1.39x              0.95-1.01x          0.0029-0.0034 (Lt 0.00314)
// So the promotion should cost 7-28% of s12's time (1.07-1.39x speed), most at 8192x2048x28672, where session 11
// had s12 furthest from int8 s06 (645.6 against 466.0 us; not explained there); without it we should be at
// 0.84-1.01x cuSPARSELt, the rest of the gap being what int8 s06 also has (0.86-1.04x cuSPARSELt int8). rel_err: as
// cuSPARSELt's (the same instruction summing the same K in the same order of k-steps), within +-10%; if it comes out
// at s12's 0.00166 instead, the 14-bit reading of docs §9 is wrong for this use. The scaled row: within the spread
// of the unscaled one (NOTES session 12: 0-3%).
#pragma once

#include "kernels/wgmma_sp/s06_tmastore.cuh"
#include "kernels/wgmma_sp/s12_lazypromote.cuh"

namespace sparse24::ablations {

// The sparse operand description with the promotion switched off: the fp8 sums stay in the wgmma accumulator.
// Only this ablation names it, so s02/s03's guard against unpromoted fp8 sums still holds for every ladder step.
template <DType T, class Out = wgmma::Unscaled>
struct FastAccumOperands : wgmma::SparseOperands<T, Out> {
  static_assert(T == DType::e4m3 || T == DType::e5m2, "the fast accumulation ablation is the fp8 forms' (the others "
                                                      "never promote: use the ladder)");
  static_assert(wgmma::SparseOperands<T, Out>::kPromote, "the ladder promotes fp8: this is the ablation of that");
  static constexpr bool kPromote = false;  // sums kept in the instruction's ~14-bit accumulator for all of K
};

// Exact mode's largest running sum at the largest K the four large shapes have (8192x2048x28672): K / 2 products of
// magnitude kExactModeMaxInput^2, which the 14-bit accumulator must hold exactly.
inline constexpr int kLargestTimedK = 28672;
static_assert(kLargestTimedK / 2 * wgmma_sp::kExactModeMaxInput * wgmma_sp::kExactModeMaxInput <
                  (1 << wgmma_sp::kFp8AccumulatorBits),
              "exact mode: the whole K's integer sum must fit the fp8 wgmma's 14 bits at the timed shapes");

template <DType T, int BM, int BN, int BK, int WM, int WN, class Out>
using FastAccumTile = wgmma::Tile<FastAccumOperands<T, Out>, BM, BN, BK, WM, WN>;
// s06's ring: s02's StageRing of the tile with the 8-bit metadata reader, shared by a cluster (s04).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int CLUSTER, class Out>
using FastAccumRing = wgmma::StageRing<FastAccumTile<T, BM, BN, BK, WM, WN, Out>,
                                       wgmma_sp::LaneBlocks<FastAccumTile<T, BM, BN, BK, WM, WN, Out>>, STAGES,
                                       wgmma_sp::Multicast<CLUSTER>>;

// wgmma_sp::s06_tmastore<T, ..., PERSISTENT = true, Out> composed on FastAccumOperands: s03's InFlightMainloop (one
// batch in flight, no promotion), s05's PersistentScheduler, s06's TMA-store epilogue.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          class Out = wgmma::Unscaled>
struct s06_fp8fastaccum
    : wgmma::Kernel<s06_fp8fastaccum<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>,
                    wgmma_sp::InFlightMainloop<FastAccumRing<T, BM, BN, BK, WM, WN, STAGES, CLUSTER, Out>>,
                    wgmma_sp::PersistentScheduler<FastAccumTile<T, BM, BN, BK, WM, WN, Out>, GROUP,
                                                  wgmma_sp::Multicast<CLUSTER>>,
                    wgmma_sp::TmaStoreFor<FastAccumRing<T, BM, BN, BK, WM, WN, STAGES, CLUSTER, Out>>> {
  static_assert(wgmma_sp::tma_store_slab_row_bytes<typename s06_fp8fastaccum::Ring>() != 0,
                "the ring leaves no room for two 64-byte-row slabs: drop a stage");
  static_assert(!s06_fp8fastaccum::Tile::Operands::kPromote && s06_fp8fastaccum::Tile::kAccRegs <= 128,
                "one accumulator set of at most 128 registers: the unpromoted sums only");
};

}  // namespace sparse24::ablations
