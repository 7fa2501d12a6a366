// wgmma_sp step 16, "pdl": s13's (and s11's) persistent split-K units with the reduction as a programmatic
// dependent launch of a vectorized sum.
//
// What it adds over s13_tall / s11_narrow: the second launch's cost. At split > 1 each unit still writes its slice's
// f32 (int8: int32) partials and a second kernel sums them (slice order, splitk::store_sum: the same bits as s11's /
// s13's splitk::reduce for the same split; the twin test in tests/gpu/test_kernels_gpu.cu compares them), but
//   1. the sum is splitk::reduce_pdl: 16 bytes of partials per thread and up to 8 slices' loads in flight before
//      the adds (reduce: one f32 per thread, one load at a time), and
//   2. it is launched with cudaLaunchAttributeProgrammaticStreamSerialization (splitk::launch_reduce_pdl), and the
//      GEMM's CTAs issue griddepcontrol.launch_dependents (TriggerAtLastUnit below): the reduction's grid is
//      launched and its blocks dispatched while the GEMM still runs; each waits in griddepcontrol.wait until the
//      GEMM's grid has completed and its memory is visible (CUDA C++ Programming Guide, "Programmatic Dependent
//      Launch and Synchronization": the wait, not the trigger, gives the visibility of the whole primary grid's
//      writes), then sums. At split 1 nothing is launched after the GEMM and the trigger has no one to wake.
//
// Why (ncu, H200, session 11, fp16): at 8192x64x8192 s13 256x64's GEMM ran 25.8 us, faster than cuSPARSELt's whole
// kernel (30.1 us), then splitk::reduce ran 5.3 us (2048 blocks of 256 threads, 8.4 MB read at 33% of DRAM peak:
// latency-bound scalar loads) after a launch gap; at 4096x32x14336 s11 128x32 21.8 us + reduce 3.3 us. The second
// launch is ~5-8 us of a ~30 us problem. s14 (the sum inside the launch by a tile's last CTA) did not win: its
// last round of sums is a serial tail.
//
// Where the trigger is issued: by the producer thread when it starts the CTA's LAST unit (it loads a unit before the
// consumers compute it, so it is the CTA's first thread to start it). Not at the CTA's end: the dependent grid is
// scheduled only once every CTA has triggered or exited, and without any trigger the runtime kicks it off itself
// after all warps of the primary finish (cudaTriggerProgrammaticLaunchCompletion's documentation,
// cuda_device_runtime_api.h), so a trigger at the end would buy almost nothing. Not earlier than the last unit:
// nothing is gained at the band's shapes (the streaming split gives every CTA one unit, s11_narrow.cuh), and at
// shapes of several rounds the reduction's blocks would wait on SMs for longer. Early scheduling cannot take an SM
// from the GEMM: the last CTA of the grid triggers only once it runs, so every GEMM CTA is resident by then; the
// reduction's blocks take what is left (SMs without a unit, or as the GEMM's CTAs exit: a GEMM CTA holds 61440 of
// the 65536 registers at 640 threads, 64512 at 384) and wait there.
//
// PREDICTION (H200, fp16, same run as s11 / s13 and cuBLAS; results/NOTES.md "Session 11: wgmma_sp.s16_pdl
// (prediction)" has the account): time = the GEMM's time (as s13 / s11) + the reduction's bytes (split x M N x 4
// read + M N x 2 written) at ~3.5 TB/s, instead of + the launch gap (~2-3 us) + the latency-bound reduce (5.3 us at
// 8192x64, split 4), the gap taken as 1.4-2.5 us (the bench's time minus ncu's two kernels: 1.4 us at 8192x64x8192
// and at 4096x32x14336; ncu's locked base clock makes that a lower bound). Predicted: 8192x64x8192 (256 x 64,
// split 4) 32.5 -> 28.1-29.2 us = 1.26-1.31x cuBLAS (36.8 us); 4096x32x14336 (128 x 32, split 4) 26.5 -> 22.1-23.2
// us = 1.41-1.48x (32.6 us); 8192x128x8192 (256 x 128, split 4: 16.8 MB of partials) 37.8 -> 33.5-34.6 us =
// 1.12-1.16x (38.8 us); the table for the five band shapes is in NOTES.
// Measured (NVIDIA H200, fp16, results/nvidia-h200/session11_2026-12-03_f2443c8/band_fp16.json): 8192x64x8192 30.0
// us at 256 x 64 (28.5 at 128 x 64) = 1.27x cuBLAS; 4096x32x14336 24.7 us (128 x 32) = 1.34x, past cuSPARSELt (25.1);
// 8192x128x8192 35.2 us = 1.10x: 1.5-2 us saved per launch, not the predicted 3-4: under ncu reduce_pdl runs 5.8 us
// (16-byte loads did not make the small reduction faster; 512 blocks, 30% of DRAM peak), so what PDL saves is the
// launch gap alone. s16 is the band's best row on the two small weights at N = 32-256 in fp16 and bf16 but one.
// Types (session 13): every type s11 runs, each with the PDL form of the reduction s11 uses for it (splitk.cuh;
// DependentLaunchReduction below picks it): fp16/bf16 f32 partials into D of the input type; int8 int32 partials
// summed exactly into an int32 D (reduce_pdl<int32>, int4 loads); e4m3/e5m2 f32 partials (s10's promoted sums) into
// a bf16 D; tf32 f32 partials into an f32 D; int8 and fp8 with ScaledTo<bf16> (the per-tensor x per-row x
// per-column scales applied to the slices' sum: reduce_scaled_pdl, int4 or float4 loads).
// Tiles: 16-bit s13's (256 x 64, 256 x 128, 192 x 200) and s11's 128 x 16 / 32 / 64; 8-bit (BK 128) and tf32 (BK
// 32) s11's decode tiles 128 x 16 and 128 x 32. Why the 8-bit and tf32 decode (session 13): on the H200 s11's 8-bit
// decode of the small weights runs 15-20 us at 49-63% of the copy rate (session 10's decode8.json); at 8192x8192
// (split 2) and 4096x14336 (split 4) the launch gap that s16 removes at 16 bits (1.5-2 us) is ~10% of the time
// (14336x4096 and 28672x8192 run split 1: s16 changes nothing there). PREDICTION (results/NOTES.md "Session 13:
// s16_pdl for 8-bit and tf32 decode (prediction)", per shape): 8192x16x8192 int8 19.7 -> 17.7-18.2 us = 1.29-1.33x
// cuBLASLt int8, 57-59% of the copy rate; no decode cell newly reaches issue 16's 1.4x.
// Preconditions: s11's (M % 32 == 0 at 16 bits and tf32, M % 16 at 8 bits; K % BK == 0; any N >= 1; 16-byte aligned
// operands and rows; SPLIT 0 or 2..32). A plan's runs do not overlap (the partials are shared). sm_90a only.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/common/ptx_sm90.cuh"
#include "kernels/common/splitk.cuh"
#include "kernels/wgmma_sp/s11_narrow.cuh"

namespace sparse24::wgmma_sp {

// A scheduler that hands out Base's units and, when it hands the CTA's last unit to the producer thread, lets the
// dependent grid (the reduction) be scheduled. work() is called by the producer thread when it starts loading a
// unit and by the consumers when they start computing it; only the producer thread (thread 0: kernel.cuh) issues
// the trigger, once per CTA.
template <class Base>
struct TriggerAtLastUnit : Base {
  using typename Base::Units;
  static __device__ __forceinline__ wgmma::Work work(const Units& u, int unit) {
    if (threadIdx.x == 0 && unit + Base::stride(u) >= u.units) ptx::griddepcontrol_launch_dependents();
    return Base::work(u, unit);
  }
};

// The reduction as a programmatic dependent launch, picked by the product's type as s08's SecondLaunchReduction picks
// its two-launch one (the same slices, order and expression, so the same bits: splitk.cuh):
//   unscaled, f32 partials (16-bit, fp8, tf32)  splitk::reduce_pdl<D>         (reduce<D>: D of the input type, fp8's
//                                                                              bf16, tf32's f32)
//   unscaled, int32 partials (int8)             splitk::reduce_pdl<int32>     (reduce<int32>: exact, int32 D)
//   ScaledTo<D> (int8's int32 or fp8's f32)     splitk::reduce_scaled_pdl<D, Acc> (reduce_scaled<D, Acc>)
template <class Tile>
struct DependentLaunchReduction {
  static constexpr bool kAppliesScales = true;
  using Acc = typename Tile::Acc;
  static_assert(std::is_same_v<Acc, float> || std::is_same_v<Acc, int32_t>, "f32 or int32 partials");
  static_assert(Tile::Operands::kHasScales || std::is_same_v<Acc, int32_t> == (Tile::kD == DType::int32),
                "unscaled: int32 partials go to an int32 D, f32 partials to a floating-point D");
  static size_t workspace_bytes(const GemmArgs& a, int split, int) { return splitk::workspace_bytes(split, a.M, a.N); }
  template <class P>
  static void after_launch(const GemmArgs& args, const P& lp, cudaStream_t stream) {
    if (lp.split <= 1) return;
    if constexpr (Tile::Operands::kHasScales)
      splitk::launch_reduce_scaled_pdl<Tile::kD, Acc>(args, lp.split, stream);
    else
      splitk::launch_reduce_pdl<Tile::kD>(args, lp.split, stream);
  }
  static __device__ __forceinline__ void after_partials(const GemmArgs&, const wgmma::Work&,
                                                        const wgmma::SharedBuffer&) {}
};

// Arguments as s11's / s13's: T (fp16, bf16, int8, e4m3, e5m2, tf32), BM x BN x BK (BK: the type's 128-byte k-tile,
// 64 at 16 bits, 128 at 8, 32 for tf32), WM x WN warps (WM = 4 per consumer warpgroup), STAGES, GROUP, SPLIT (0:
// s11's streaming split, chosen in prepare()), Out (operands.cuh: Unscaled, or ScaledTo<D> for int8 and fp8).
// s13's composition (which is s11's at BM = 128, NarrowMainloop included: fp8 promotes) with the two components
// above.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int SPLIT,
          class Out = wgmma::Unscaled>
struct s16_pdl
    : wgmma::Kernel<s16_pdl<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT, Out>,
                    NarrowMainloop<wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN, Out>,
                                                    LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN, Out>>, STAGES>>,
                    TriggerAtLastUnit<NarrowSplitKUnits<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP, SPLIT>>,
                    PartialsEpilogue<RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN, Out>>,
                                     DependentLaunchReduction<SparseTile<T, BM, BN, BK, WM, WN, Out>>>> {
  static constexpr bool k16Bit = T == DType::fp16 || T == DType::bf16;
  static constexpr bool kDecodeType = T == DType::int8 || T == DType::e4m3 || T == DType::e5m2 || T == DType::tf32;
  static_assert(k16Bit || kDecodeType, "fp16, bf16, int8, e4m3, e5m2 or tf32 (every type s11 runs)");
  static_assert(!k16Bit || (BM == 128 && (BN == 16 || BN == 32 || BN == 64)) ||
                    (BM == 256 && (BN == 64 || BN == 128)) || (BM == 192 && BN == 200),
                "16 bits: s11's 128 x 16 / 32 / 64 and s13's 256 x 64 / 128 and 192 x 200 (the tiles whose twins "
                "exist)");
  static_assert(!kDecodeType || (BM == 128 && (BN == 16 || BN == 32)),
                "8-bit and tf32: s11's decode tiles, 128 x 16 and 128 x 32 (the tiles whose twins exist)");
  static_assert(SPLIT != 1, "the step is the split-K reduction's launch: SPLIT 0 (chosen) or 2..kMaxSplit");
};

}  // namespace sparse24::wgmma_sp
