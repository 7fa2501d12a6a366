// wgmma_sp step 27, "wideclustersum": s22's wide k-tiles and two-set mainloop with the K slices of a tile of D run by
// the CTAs of one thread-block cluster and summed on chip (s17's cluster sum), in one launch.
//
// What it adds over s22_twosets: where the split-K sum happens. s22 (as s16) writes each slice's f32 partials to the
// plan's workspace and sums them in a programmatic dependent launch (DependentLaunchReduction, reduce_pdl); here the
// slices of a tile are the CTAs of one cluster, and s17's ClusterSumEpilogue stages each CTA's accumulators over its
// own ring, then every CTA sums its band of the tile's rows from its peers' shared memory (DSMEM) and stores D. The
// mainloop, the ring and the wide box are s22's; the units and the epilogue are s17's (ClusterSliceUnits: one tile
// per cluster, the slice from the CTA's rank; the split chosen in prepare() from the clusters that fit), by name.
// Nothing else is new: this step is the composition, timed where s17 could not show it; it is written as
// WideClusterKernel, with the sum as its parameter, which s28 and s29 reuse with their own sums.
//
// Why: the band's two cells that sat under 1.3x cuBLAS in every run since session 17 (fp16 / bf16 8192x128x8192,
// 1.27-1.29x; 4096x256x14336, 1.26-1.27x) are 64 tiles of 128 x 128 that s21 / s22 split in two, so each pays
// reduce_pdl over 8.4 MB of partials (64 tiles x 2 slices x 64 KB written, then read back, on ~31-38 us kernels).
// s17 tested the cluster sum on s13's narrow-box 256-row tiles, where its rule took split 3 on 96 CTAs (fewer than
// 32 quads fit) and the sum's gain went to idle SMs (session 12, call C). At 128 x 128 the split is 2: 64 pairs of
// the 66 that fit, 128 CTAs, the same CTAs as s22's split. What it removes: the partials' 8.4 MB round trip through
// L2 / DRAM, the dependent grid's launch and its wait for the GEMM grid to drain; what it adds: staging 64 KB per
// CTA in shared memory, two cluster barriers and 32 KB read from the peer.
// PREDICTION (H200, same run as s22 / s21 and cuBLAS; results/NOTES.md "Session 21: wgmma_sp.s27_wideclustersum
// (prediction)"): 8192x128x8192 fp16 / bf16 30.9-31.1 -> 28.5-30.0 us (1.33-1.40x cuBLAS); 4096x256x14336 38.2 ->
// 35.7-37.2 us (1.31-1.36x); 128 x 16 at the 8192-row decode weights level with s22's split (within +-2%).
// MEASURED (H200, session 21 call A; results/NOTES.md "Session 21, call A, measured"): 8192x128x8192 fp16 29.73 us
// (s22 31.10), 1.310x cuBLAS, bf16 29.87 (1.313x); 4096x256x14336 fp16 37.54 (s22 38.29), 1.370x, bf16 1.338x: the
// band's four cells under 1.3x since session 17 pass in that run, thinly at 8192x128x8192. ncu at fp16
// 8192x128x8192: one kernel of 28.96 us against s22's GEMM 26.82 + reduce_pdl 6.46 us, so the cluster sum costs ~2.1
// us inside the kernel. Slower than s21 / s22 where the cluster rule takes a split they do not (4096x128x14336: 6%;
// 28672x16x8192, quads in waves: 4.7% behind s22): the dispatch table and auto choose between them.
// Preconditions: s22's (M % 32 == 0, K % 128 == 0 at 16 bits: the wide k-tile; any N >= 1, 16-byte aligned operands
// and rows); SPLIT 0 (the cluster split) or 2..8 (a portable cluster; 1 would be s22 at one slice with s02's
// epilogue). 16-bit only (int8's wide rows keep s22 / s23; fp8 promotes and waits for each batch: s26). sm_90a only.
#pragma once

#include "kernels/wgmma_sp/s17_clustersum.cuh"
#include "kernels/wgmma_sp/s22_twosets.cuh"

namespace sparse24::wgmma_sp {

// s27's composition with the sum of a tile's slices as its parameter (s28 and s29 change nothing else): s22's
// mainloop on the wide k-tile, s17's ClusterSliceUnits, and SumEpilogue<Ring, Next> over the ring with s02's
// RegisterEpilogue as Next (the store at split 1, and of the summed fragments). Arguments as s22's: T (fp16, bf16),
// BM x BN x BK with BK the wide k-tile (128), WM x WN warps, STAGES, GROUP, SPLIT (0: s17's cluster split; else
// 2..kMaxClusterSplit), Out.
template <class Self, DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int SPLIT, class Out,
          template <class, class> class SumEpilogue>
struct WideClusterKernel
    : wgmma::Kernel<Self,
                    TwoSetInFlightMainloop<wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN, Out>,
                                                            LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN, Out>>, STAGES>>,
                    ClusterSliceUnits<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP, SPLIT>,
                    SumEpilogue<wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN, Out>,
                                                 LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN, Out>>, STAGES>,
                                RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN, Out>>>> {
  using Tile = SparseTile<T, BM, BN, BK, WM, WN, Out>;
  static_assert(Tile::kARowBytes == 128 && Tile::kBPanels == 2, "s21's wide k-tile");
  static_assert(T == DType::fp16 || T == DType::bf16, "16 bits (f32 sums into D of the input type)");
  static_assert(SPLIT != 1, "SPLIT 0 (the cluster split) or 2..kMaxClusterSplit");
  static_assert(WideClusterKernel::kEpilogueOffset == WideClusterKernel::Ring::kBytes,
                "the sum stages its slices in the ring, which ends where the epilogue's buffer starts");
};

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int SPLIT,
          class Out = wgmma::Unscaled>
struct s27_wideclustersum
    : WideClusterKernel<s27_wideclustersum<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT, Out>, T, BM, BN, BK, WM, WN,
                        STAGES, GROUP, SPLIT, Out, ClusterSumEpilogue> {
  static_assert(BM == 128 && (BN == 16 || BN == 64 || BN == 128), "s22's 16-bit tiles");
};

}  // namespace sparse24::wgmma_sp
