// wgmma_sp step 14, "inlaunch": s11's narrow persistent units with s09's in-launch split-K reduction.
//
// What it adds over s11_narrow: no second launch. At split > 1 each unit still writes its slice's f32 partials; then
// the consumers arrive at the tile's counter and the CTA that arrives last sums the tile's slices in slice order
// from L2 and writes D (s09's InLaunchReduction, by name: the same bits as s11's splitk::reduce for the same split,
// tests/gpu/test_kernels_gpu.cu checks it). In a persistent CTA the producer warpgroup does not wait for that sum:
// it is already streaming the CTA's next unit into the ring, so the sum overlaps the next unit's loads except in
// the last round.
//
// Why: on the H200 the second launch is a visible share of the narrow step's time wherever it splits, because the
// streams are short. ncu at 10240x48x8192 (BN 64, split 2, results/nvidia-h200/session10_2026-12-03_f97e809/prof/):
// splitk::reduce ran 5.3 us beside the GEMM's 38.4, i.e. 12% of the total, to sum 3.9 MB of partials; cuSPARSELt
// runs the shape in 31.7 us in one launch. s09's lesson (its header) was that the last CTA's sum is a tail when a
// tile's partials are large (128 x 128 x 4 B x split, 32 CTAs summing while 100 SMs idle); here a tile is 128 x 16
// to 128 x 64 (8-32 KB of f32 per slice), and the sum of a non-final round hides behind the next unit's loads.
// PREDICTION (H200, fp16, against s11 in the same run): 10240x48x8192 at BN 64 (split 3 by s11's rule) 37.7 -> 33-35
// us (the second launch's ~4-5 us less ~1 us of tail sum); the small decode weights at N = 16 (8192x16x8192 split 2,
// 4096x16x14336 split 4: 25-32 us) 2-4 us faster; 28672x16x8192 (split 1) unchanged: with one slice the epilogue is
// s11's, and so is the code. MEASURED (H200, session 10, results/NOTES.md): no gain: within 2% of s11 on the decode
// shapes and 9% slower at 10240x48x8192 (40.9 against 37.6 us): the last round's sums are a tail, as in s09.
//
// This step defines nothing but the pairing: s11's mainloop and scheduler, PartialsEpilogue over s11's register
// epilogue with InLaunchReduction. InLaunchReduction keeps its "last CTA" flag in a word of the wrapped epilogue's
// shared memory; s11's RegisterEpilogue has none, so WithFlagWord below reserves it.
// Types: 16-bit only. InLaunchReduction sums f32 partials into D of the input type (splitk::store_sum<Tile::T>),
// so int8 (int32 partials) and fp8 (bf16 D from e4m3 inputs) keep s11's second launch; a scaled D likewise (the
// partials are unscaled, PartialsEpilogue refuses a reduction that does not apply the scales).
// Preconditions: s11's. The arrival counters start at zero (the registry zeroes the plan's workspace once) and a
// plan's runs do not overlap (s09's).
// Measured: NVIDIA H200, 10240x48x8192 fp16, best tile 128x64x64: 197.1 TFLOP/s = 21% of the mma.sp m16n8k32 loop (922), 1.09x cuBLAS (run nvidia-h200/session10_2026-12-03_a27091c).
#pragma once

#include <algorithm>

#include "kernels/wgmma_sp/s09_onelaunch.cuh"
#include "kernels/wgmma_sp/s11_narrow.cuh"

namespace sparse24::wgmma_sp {

// The wrapped epilogue with at least one 16-byte word of shared memory for InLaunchReduction's flag (unused by an
// epilogue that writes D from registers, RegisterEpilogue: kSmemBytes 0).
template <class Next>
struct WithFlagWord : Next {
  static constexpr int kSmemBytes = std::max(Next::kSmemBytes, 16);
};

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int SPLIT>
struct s14_inlaunch
    : wgmma::Kernel<s14_inlaunch<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT>,
                    typename s11_narrow<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT>::Mainloop,
                    typename s11_narrow<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT>::Scheduler,
                    PartialsEpilogue<WithFlagWord<RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN>>>,
                                     InLaunchReduction<SparseTile<T, BM, BN, BK, WM, WN>>>> {
  static_assert(T == DType::fp16 || T == DType::bf16,
                "16-bit only: the in-launch sum writes f32 partials into D of the input type");
  static_assert(SPLIT != 1, "the in-launch reduction needs split-K (SPLIT 0: chosen, or 2..kMaxSplit)");
};

}  // namespace sparse24::wgmma_sp
