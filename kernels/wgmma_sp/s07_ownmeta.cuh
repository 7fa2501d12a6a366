// wgmma_sp step 07, "ownmeta": s06 reading the family's own metadata layout, format::MetaLayout::Wgmma16x64.
//
// What it adds over s06_tmastore (which reads LaneBlocks16, the mma_sp family's layout, s01's header says why):
// wgmma.sp m64nNk32 reads a warp's metadata from lanes q = 0, 1 under selector 0 and from q = 2, 3 under selector 1
// (docs/sparse-tensor-cores.md §3a). In LaneBlocks16 a k-step's word serves 32 rows, so a warp of the m64 tile
// finds its 16 rows in one lane pair of each k-step's block and issues both k-steps with selector 0: two 32-bit
// loads and two registers per k-tile, half of each word unused by this warp. Wgmma16x64 reorders the canonical
// nibbles so that one word per lane carries the warp's 16 rows for BOTH k-steps of a 64-wide k-tile: k-step 0 in
// q = 0, 1 (selector 0), k-step 1 in q = 2, 3 (selector 1). Per k-tile a consumer warp now does
//   s06: LDS, LDS, wgmma.sp(e0, sel 0), wgmma.sp(e1, sel 0)       two metadata registers (four while in flight)
//   s07: LDS,      wgmma.sp(e,  sel 0), wgmma.sp(e,  sel 1)       one metadata register (two while in flight)
// The TMA moves the same 1 KB of metadata per stage (a box of BM/16 slab rows x 32 words instead of BM/32 lane-block
// rows x 64 words), and a warp's 32 loads still hit 32 banks. A 16-row slab past M arrives as zeros and its warp
// substitutes the padding word, as before. Because a block serves 16 rows, not 32, the shape rule relaxes to
// M % 16 == 0.
//
// Effect (results/NOTES.md, session 5; run 2026-11-22_731aa7e and its prof/): the consumers' shared-memory load
// wavefronts fall from 32.7 M to 24.1 M at 8192^3, the time does not move beyond the run-to-run spread (-1.2% to
// +2.4% against s06, s06 itself moving by 3%). The limit is elsewhere: the shared-memory data pipe, which the
// wgmma's own operand reads (144 wavefronts per m64n256k32) fill to 82% of its cycles in s07 and in cuSPARSELt,
// which issue the same instructions as s06 (docs/sparse-tensor-cores.md §5a). What s07 does give: half the metadata registers and loads, M % 16
// shapes, and a layout made for the instruction. The dense twin is s06's (wgmma_dense.s06_tmastore): dense A has
// no metadata.
//
// Preconditions: M % 16 == 0, K % 64 == 0, any N >= 1, 16-byte aligned operands and rows. sm_90a only.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 1005.1 TFLOP/s = 106% of the mma.sp m16n8k32 loop (948), 1.47x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_731aa7e).
#pragma once

#include "kernels/wgmma_sp/s02_tma.cuh"

namespace sparse24::wgmma_sp {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          bool PERSISTENT = true>
struct s07_ownmeta : TmaRing<s07_ownmeta<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PERSISTENT>, T, BM, BN, BK,
                             WM, WN, STAGES, GROUP, CLUSTER, PERSISTENT, true, true, format::MetaLayout::Wgmma16x64> {
  using Ring = TmaRing<s07_ownmeta, T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PERSISTENT, true, true,
                       format::MetaLayout::Wgmma16x64>;
  static __device__ void run_block(const GemmArgs& args, const typename Ring::LaunchParams& maps) {
    Ring::template block<1>(args, maps);
  }
};

}  // namespace sparse24::wgmma_sp
