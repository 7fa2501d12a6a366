// wgmma_sp step 04, "multicast": s03's consumers, with two CTAs of adjacent row blocks in a cluster sharing B
// through TMA multicast.
//
// What it adds over s03_inflight: ncu on s02/s03 (bf16 8192^3, H100, results/NOTES.md) shows the L2 to SM read
// path as the busiest unit (lts__t_sectors_srcunit_tex 90% of peak, L2 throughput 84%) while the tensor pipe is
// active 46% of the time: the kernel is fed too slowly from L2. Per k-tile a CTA reads 8 KB of A values, 32 KB of B
// and 1 KB of metadata; B is the same for every CTA of a column block. Here the two CTAs of a cluster (row blocks
// 2i and 2i+1, one column block) each load half of the B tile (128 rows) with cp.async.bulk.tensor .multicast,
// which writes it into both CTAs' shared memory and signals both CTAs' "full" barriers: 8 + 16 + 1 = 25 KB read
// from L2 per CTA and k-tile instead of 41 KB (-39%).
// The price is a protocol between the two CTAs: a stage may be refilled only when the consumers of both CTAs are
// done with it (each consumer warp arrives on the "empty" barrier of both CTAs, through mapa), the barriers of both
// must be initialised before either CTA's first copy (cluster barrier after init), and neither may exit while the
// other can still write to it (cluster barrier at the end).
//
// Clusters of 4 (a quarter of B each: 8 + 8 + 1 = 17 KB per CTA and k-tile) are the same protocol with four
// parties; they need 4 free SMs in one GPC at once, which may leave SMs idle (GPCs of an SM count not a multiple
// of 4).
// This step defines Multicast<N>, the ring's cluster policy (kernels/wgmma/ring.cuh's SingleCta is the one-CTA
// form): who loads which rows of B, to whom a consumer releases a stage, and the cluster barriers at start and end.
// The mainloop is s03's InFlightMainloop on a ring with this policy; s02's OneTilePerCta hands out cluster tiles
// (a 1-D grid of whole clusters) and s02's epilogue is kept.
// Preconditions, layouts: as s02_tma. The grid is 1-D, whole clusters (a last cluster with fewer row blocks than
// CTAs gets idle partners whose rows are all past M).
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 907.6 TFLOP/s = 95% of the mma.sp m16n8k32 loop (952), 1.29x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_cd5d834).
#pragma once

#include "kernels/wgmma_sp/s03_inflight.cuh"

namespace sparse24::wgmma_sp {

// N CTAs of adjacent row blocks (one cluster along x) share each B tile: CTA `rank` loads rows
// [rank * BN / N, (rank + 1) * BN / N) of it with cp.async.bulk.tensor .multicast into the same offset of every
// CTA's stage, and signals every CTA's "full" barrier (each expects the whole stage: kStageTx is unchanged). A
// stage may be refilled only when the consumers of all N CTAs are done with it: a consumer warp arrives on the
// "empty" barrier of every CTA (mapa), so each barrier expects N times the warps. The peers' barriers must be
// initialised before anyone's first copy, and no CTA may exit while a peer can still write to it: a cluster
// barrier at both ends.
template <int N>
struct Multicast {
  static constexpr int kCtas = N;
  static_assert(N == 2 || N == 4, "clusters of 2 or 4 CTAs along M");
  static constexpr int b_box_rows(int bn) { return bn / N; }
  static __device__ __forceinline__ uint32_t rank() { return ptx::cluster_ctarank(); }
  static __device__ __forceinline__ void sync_init() { ptx::cluster_sync(); }
  static __device__ __forceinline__ void leave() { ptx::cluster_sync(); }
  template <class Tile>
  static __device__ __forceinline__ void load_b(uint32_t dst, const CUtensorMap* map, uint32_t full, int k0, int n0,
                                                uint32_t rank) {
    constexpr int kBoxRows = b_box_rows(Tile::kBN);
    // dst: the panel (operands.cuh) this box of 128-byte rows belongs to; this CTA's rows start kBoxRows x rank in.
    ptx::tma_load_2d_multicast(dst + rank * kBoxRows * Tile::kBPanelRowBytes, map, full, k0,
                               n0 + int(rank) * kBoxRows, uint16_t((1u << N) - 1));
  }
  static __device__ __forceinline__ void release(uint32_t empty) {
#pragma unroll
    for (int r = 0; r < N; ++r) ptx::mbarrier_arrive_cluster(empty, r);
  }
};

// CLUSTER: CTAs per cluster along M (2 or 4), each loading 1/CLUSTER of the B tile for all of them.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          class Out = wgmma::Unscaled>
struct s04_multicast
    : wgmma::Kernel<s04_multicast<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>,
                    InFlightMainloop<typename s03_inflight<T, BM, BN, BK, WM, WN, STAGES, GROUP,
                                                           Out>::Ring::template WithCluster<Multicast<CLUSTER>>>,
                    OneTilePerCta<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP, Multicast<CLUSTER>>,
                    typename s03_inflight<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>::Epilogue> {};

}  // namespace sparse24::wgmma_sp
