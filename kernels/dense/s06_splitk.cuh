// dense step 06 (the dense twin of mma_sp/s06_splitk.cuh), "splitk": s05's tiles and block order, with K cut into
// `split` slices that different blocks compute (grid z), their f32 partials summed by a deterministic reduction
// when split > 1.
//
// What it adds over dense s05_raster: what the sparse s06 adds over its s05 (that file's header says how and why),
// with dense A and mma.sync: grid z = split slices of whole BK tiles (splitk::slice_of); split > 1 writes unscaled
// f32 partials (splitk::store_warp_partials) that splitk::launch_reduce sums in the fixed order z = 0, 1, ... and
// scales (alpha, beta, C); split == 1 is s05's kernel work with D written directly, no workspace, no second launch;
// SPLIT = 0 chosen in prepare() by splitk::choose_split_compute (the dense instruction's rate is half the sparse
// one's, so one round is twice as long and the same partials cost half as many rounds).
//
// Preconditions: dense s05's (M % 32 == 0, K % BK == 0, any N >= 1); SPLIT in 0..32.
// Expected bottleneck: s05's main loop in every slice; with split > 1 add the DRAM-bound reduction after it.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 256x128x64: 414.6 TFLOP/s = 64% of the mma.sync m16n8k16 loop (647), 0.58x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_fff01ae-2).
#pragma once

#include "kernels/common/splitk.cuh"
#include "kernels/dense/s05_raster.cuh"

namespace sparse24::dense {

// The block (Prev's tile over a K slice, then partials or Prev's epilogue) is splitk::SplitKTiled's.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int SPLIT>
struct s06_splitk : splitk::SplitKTiled<s06_splitk<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT>,
                                        s05_raster<T, BM, BN, BK, WM, WN, STAGES, GROUP>, SPLIT> {};

}  // namespace sparse24::dense
