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
// This step defines PersistentScheduler (s02's OneTilePerCta with another grid and walk); the mainloop and the
// epilogue are s04's, by name.
// Preconditions, layouts: as s02_tma and s04.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 938.8 TFLOP/s = 99% of the mma.sp m16n8k32 loop (952), 1.34x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_cd5d834).
#pragma once

#include <algorithm>

#include "kernels/wgmma_sp/s04_multicast.cuh"

namespace sparse24::wgmma_sp {

// As many CTAs (clusters) as can be resident at once, never more than there are units; CTA (cluster) c does units
// c, c + stride, ... (stride = the resident clusters) in OneTilePerCta's grouped order. The ring position runs on
// across units: the mainloops never reset it.
template <class TileT, int GROUP, class Cluster = wgmma::SingleCta>
struct PersistentScheduler : OneTilePerCta<TileT, GROUP, Cluster> {
  using Base = OneTilePerCta<TileT, GROUP, Cluster>;
  using Base::kClusterM;

  static void add_params(sparse24::Params& p) { p.push_back({"persistent", 1}); }

  static dim3 launch_grid(const GemmArgs&, int units, int) { return dim3(unsigned(kClusterM * units)); }
  // After the kernel's shared-memory size is set (the occupancy depends on it): the resident CTAs (clusters).
  template <class Kernel>
  static void fit_grid(Plan& p, int units) {
    int resident = 0;
    if constexpr (kClusterM == 1) {
      int dev = 0, sms = 0, per_sm = 0;
      SPARSE24_CUDA_CHECK(cudaGetDevice(&dev));
      SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
      SPARSE24_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, gemm_entry_params<Kernel>,
                                                                        Kernel::kThreads, Kernel::kSmemBytes));
      resident = sms * per_sm;
    } else {
      wgmma::ClusterLaunch l(p, nullptr, kClusterM);
      SPARSE24_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&resident, gemm_entry_params<Kernel>, &l.config));
    }
    if (resident < 1) throw ArchError(p.variant().name + ": not one CTA (cluster) of this size fits on the GPU");
    p.grid = dim3(unsigned(kClusterM * std::min(units, resident)));
  }

  static __device__ __forceinline__ int first(const typename Base::Units&) { return int(blockIdx.x) / kClusterM; }
  static __device__ __forceinline__ int stride(const typename Base::Units&) { return int(gridDim.x) / kClusterM; }
};

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          class Out = wgmma::Unscaled>
struct s05_persistent
    : wgmma::Kernel<s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>,
                    typename s04_multicast<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Mainloop,
                    PersistentScheduler<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP, wgmma_sp::Multicast<CLUSTER>>,
                    typename s04_multicast<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Epilogue> {};

}  // namespace sparse24::wgmma_sp
