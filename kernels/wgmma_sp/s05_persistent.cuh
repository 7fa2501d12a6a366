// wgmma_sp step 05, "persistent": s04's clusters, launched once per pair of SMs and walking the tiles.
//
// What it adds over s04_multicast: s04 launches one CTA per tile (2048 at 8192^3, 15.5 waves of 132). Each CTA
// starts with an empty ring (the first k-tile's latency exposed) and ends with an epilogue during which its SM's
// tensor cores idle and nothing is being loaded. Here the grid holds only as many clusters as fit on the GPU at once
// (cudaOccupancyMaxActiveClusters), and each cluster walks the cluster tiles in the same grouped order, unit
// `first`, `first + stride`, ...: the ring's position runs on across tiles, so while the consumers store tile i the
// producer is already filling the ring with tile i+1's first k-tiles, and the consumers come back to full stages.
// The consumers release the last stage of each tile (s03/s04 never needed to: the kernel ended).
//
// Not done here: the consumers still share each tile, so the tensor cores idle during the epilogue itself
// (a ping-pong schedule, one consumer per tile, alternating, would hide it), and the epilogue still writes D with
// ordinary stores from registers (s06_tmastore replaces them with shared-memory slabs and TMA stores).
// Preconditions, layouts: as s02_tma and s04.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 938.8 TFLOP/s = 99% of the mma.sp m16n8k32 loop (952), 1.34x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_cd5d834).
#pragma once

#include "kernels/wgmma_sp/s02_tma.cuh"

namespace sparse24::wgmma_sp {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER>
struct s05_persistent : TmaRing<s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>, T, BM, BN, BK, WM,
                                WN, STAGES, GROUP, CLUSTER, true> {
  using Ring = TmaRing<s05_persistent, T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, true>;
  static __device__ void run_block(const GemmArgs& args, const typename Ring::LaunchParams& maps) {
    Ring::template block<1>(args, maps);
  }
};

}  // namespace sparse24::wgmma_sp
