// wgmma_dense step 02 (the dense twin of wgmma_sp/s02_tma.cuh), "tma": the same TMA stage ring, producer warpgroup
// and two consumer warpgroups, with dense A and the dense instruction wgmma.mma_async m64nNk16.
//
// What differs from the sparse step (all of it in the operand description, wgmma::DenseOperands, and the ring's
// metadata policy, wgmma::NoMetadata, kernels/wgmma/; the components are the sparse step's, by name):
// - A is BM x BK dense values per k-tile: 128-byte rows in 128-byte swizzle, the same layout as B (one TMA box of
//   BK x BM); no metadata is loaded.
// - Four wgmma m64nBNk16 per consumer and k-tile (BK = 64) instead of two wgmma.sp m64nBNk32: the same
//   dense-equivalent work, half of it per instruction, at the dense instruction's rate (half the sparse one's).
// - A stage holds 16 + 32 KB (sparse: 8 + 32 + 1 KB), so 128 x 256 fits 4 stages in 227 KB instead of 5.
// The one-instruction test of the dense form (layouts, k-step offsets, N up to 256) is in
// tests/gpu/test_wgmma_instructions_gpu.cu. What a step adds over the previous one is said in the sparse file.
//
// Preconditions: the sparse twin's (M % 32 kept for like-for-like shapes, K % BK == 0, any N, 16-byte aligned
// rows). sm_90a only.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 628.2 TFLOP/s = 97% of the mma.sync m16n8k16 loop (648), 0.87x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_fff01ae).
#pragma once

#include "kernels/wgmma/kernel.cuh"
#include "kernels/wgmma/operands.cuh"
#include "kernels/wgmma/ring.cuh"
#include "kernels/wgmma_sp/s02_tma.cuh"

namespace sparse24::wgmma_dense {

// The block tile of this family: dense A through wgmma.mma_async m64nNk16.
template <DType T, int BM, int BN, int BK, int WM, int WN, class Out = wgmma::Unscaled>
using DenseTile = wgmma::Tile<wgmma::DenseOperands<T, Out>, BM, BN, BK, WM, WN>;

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, class Out = wgmma::Unscaled>
struct s02_tma
    : wgmma::Kernel<s02_tma<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>,
                    wgmma_sp::TmaMainloop<wgmma::StageRing<
                        DenseTile<T, BM, BN, BK, WM, WN, Out>, wgmma::NoMetadata<DenseTile<T, BM, BN, BK, WM, WN, Out>>, STAGES>>,
                    wgmma_sp::OneTilePerCta<DenseTile<T, BM, BN, BK, WM, WN, Out>, GROUP>,
                    wgmma_sp::RegisterEpilogue<DenseTile<T, BM, BN, BK, WM, WN, Out>>> {};

}  // namespace sparse24::wgmma_dense
