// wgmma_sp step 17, "clustersum": s13's (and s11's) split-K with the K slices of one tile of D run by the CTAs of
// one thread-block cluster, and the slices summed on chip through distributed shared memory, in the same launch,
// with no partials in global memory.
//
// What it adds over s13_tall / s16_pdl: where the split-K sum happens. s13 writes every slice's f32 partials to the
// workspace and sums them in a second launch (splitk::reduce); s16 makes that launch a programmatic dependent one;
// s14 sums them in the tile's last CTA. Here a tile's `split` slices are the `split` CTAs of one cluster (the launch
// sets the cluster dimension to the split, chosen in prepare(): kernels/wgmma/kernel.cuh, launch_cluster_ctas), and
// after its mainloop each CTA
//   1. waits until every consumer warpgroup of the CTA is done with the ring (a named barrier), then writes its
//      accumulators (f32; int8's int32), unscaled, into its own shared memory, over the ring (why that is safe:
//      ClusterSumEpilogue);
//   2. cluster_sync: every CTA's slice is in its shared memory and visible to the cluster (release / acquire);
//   3. CTA r (its rank, which is also its slice) sums rows [r BM / split, (r + 1) BM / split) of the tile: for each
//      16 bytes, the loads of slices z = 0, 1, ..., split-1 from CTA z's shared memory (mapa + ld.shared::cluster,
//      four slices issued before their adds), added in that order from zero, then per element the store of the
//      reduction s11 / s13 / s16 run for those partials (splitk::SumStore: store_sum's alpha, beta, C; int8's
//      exact store_sum_int32; store_sum_scaled's scales): their order and expression, so the same bits as s13 / s16
//      at the same split and slice boundaries (the twin test in tests/gpu/test_kernels_gpu.cu compares them);
//   4. a cluster barrier again before any CTA exits: a peer may still be reading its shared memory (relaxed: it
//      orders no memory, and the release form would wait for the CTA's stores of D: ptx_sm90.cuh).
//
// Why this can win where s14 lost (the sum inside the launch by a tile's last CTA, whose last round of sums was a
// serial tail) and where s16 gained only the launch gap (reduce_pdl latency-bound: 8.4 MB over 512 blocks at 30%
// of DRAM peak under ncu, 5.8 us at 8192x64x8192): the sum is parallel over the cluster's CTAs (every CTA sums
// 1 / split of its tile, all of them at once, instead of one CTA all of it), and the slices never leave the chip:
// no partials written to L2 / DRAM and read back, no second grid, no wait for the whole GEMM grid to drain. A CTA
// reads BM x BN x 4 bytes (its band of rows in every slice, (split - 1) / split of it from peers) and writes its
// band of D. The session 11 finding it acts on (ncu, H200, fp16): at 8192x64x8192 the GEMM part of s13 ran 25.8
// us, under cuSPARSELt's whole kernel (30.1), then the reduction took 5.8 us.
//
// The split rule (ClusterSliceUnits::cluster_split): clusters are co-scheduled on one GPC, so the number of
// resident clusters of s CTAs is not SMs / s (cudaOccupancyMaxActiveClusters answers it for the kernel's cluster
// size, block and shared memory). A tile's time is its slice's k-tiles (the CTA streams them: s11's header), so the
// rule takes the split s in 1..kMaxClusterSplit (8: the portable cluster size) of the fewest k-tile rounds,
//     rounds(s) = ceil(tiles / clusters(s)) x ceil(k_tiles / s),
// a larger split only where it saves more than a tenth of the rounds, with slices of at least
// splitk::kMinSliceTiles k-tiles (as s11's streaming split). The
// grid is tiles x split CTAs, one tile per cluster, not persistent: a grid larger than the resident clusters runs
// in waves (correct, and charged by rounds(s)); at split 1 there is no cluster and no sum (s02's RegisterEpilogue
// writes D from the accumulators, as s13 at split 1).
// Unequal and empty slices: slices are splitk::slice_of's (lengths differ by at most one k-tile; the cluster's CTAs
// wait for the longest at the first cluster_sync). A slice is empty when split > k_tiles (forced splits only: the
// rule keeps slices of >= 8 k-tiles): its CTA loads nothing, its mainloop leaves the accumulators at zero, it
// stages zeros and still sums its band, as s13's empty slice writes zero partials that the reduction adds.
//
// PREDICTION (H200, fp16, same run as s13 / s16 and cuBLAS; results/NOTES.md "Session 12:
// wgmma_sp.s17_clustersum (prediction)" has the account): s16's measured time (session 11 call D) minus the
// reduction it launches (reduce_pdl: 3.1 us + 0.32 us per MB of partials, the old reduce's slope through ncu's 5.8
// us at 8.4 MB; 75-100% of it, ncu's clock being the base clock), the GEMM part scaled by the k-tile rounds of the
// two splits, plus the cluster sum: ~0.8 us of staging, barriers and latency, and BM x BN x 4 x (split - 1) / split
// bytes per CTA over DSMEM, between the SM's own shared-memory rate (128 B/clk) and ~25 GB/s per SM (the aggregate
// SM-to-SM throughput, ~3.3 TB/s, that Luo et al. 2024 measured on Hopper, over 132 SMs). Best tile per shape:
//   8192x64x8192   128x64 split 2:  28.5 (s16 128x64) -> 24.9-26.6 us = 1.36-1.45x cuBLAS (36.2)
//   8192x128x8192  256x128 split 4: 35.3 -> 28.0-33.7 us = 1.15-1.38x (38.7)
//   8192x256x8192  256x128 split 2: 48.0 -> 40.6-45.1 us = 1.12-1.24x (50.4)
//   4096x64x14336  256x64 split 8:  27.9 (split 7) -> 20.6-23.9 us = 1.38-1.60x (32.9); 128x64 split 4 22.4-24.4
//   4096x128x14336 256x128 split 8: 32.0 (split 7) -> 22.5-28.3 us = 1.29-1.62x (36.4)
//   4096x256x14336 256x128 split 4: 41.7 -> 34.5-40.1 us = 1.24-1.44x (49.6)
// What would make it wrong: DSMEM slower than ~25 GB/s per SM (the 256 x 128 tiles read 96-112 KB per CTA from
// peers); a CTA's stream not capped per SM (then split 8's shorter slices, 28 k-tiles instead of s16's 32 at split
// 7, buy less than 12%); clusters of 4 or 8 not all resident (the rule then picks another split).
// RESULT (session 12 call C, results/NOTES.md "Session 12, call C, measured"): within -2.6..+2.8% of s16 at every
// shape above, not 5-30% faster. The last case is what happened: at 8192x128x8192 fewer than 32 clusters of 4
// fit (GPCs of 16-18 SMs), the rule took split 3 and 96 CTAs (ncu), so 36 SMs idle where s16's grid used all.
// Decode tiles (session 13): s11's 128 x 16 and 128 x 32 too, where at N <= 16 the split-K reduction and its launch
// are a fixed 3-5 us of a 22-73 us problem (prediction and result: results/NOTES.md, "Session 13: s17_clustersum at
// the decode tiles").
// Measured: NVIDIA H200, 8192x64x8192 bf16, best tile 256x128x64: 238.7 TFLOP/s = 25% of the mma.sp m16n8k32 loop (958), 1.02x cuBLAS (run nvidia-h200/session18_2026-12-04_4287d16).
//
// 8-bit decode (session 14): int8, e4m3 and e5m2 at s16's 8-bit decode tiles, 128 x 16 and 128 x 32 (BK 128, 16
// stages), where s16 was the best row in session 13 (int8 8192x16x28672 43.0 us = 83.4% of the copy rate, issue 16
// asks 85%; 8192x16x8192 18.0 us = 1.29x cuBLASLt, it asks 1.4x) and s17 had beaten s16 in 16 bits by 3% and 8% on
// the same two weights. What the 8-bit sum adds: int8's s32 accumulators are staged as int32 (4 bytes, as f32: the
// staged layout and the 16-byte DSMEM loads are the same) and summed exactly in integers into an int32 D (+ C at
// beta = 1: store_sum_int32); fp8's accumulators are s10's promoted f32 sums (NarrowMainloop) into a bf16 D; with
// ScaledTo<bf16> (int8, e4m3) the per-tensor x per-row x per-column scales are applied to the slices' sum
// (store_sum_scaled, the int32 sum converted RN first), as s11's reduce_scaled and s16's reduce_scaled_pdl do. The
// cluster rule's split there (H200, 8-bit k-tiles of 128; kH200Clusters, or below 32 quads and 16 octets as session
// 12's ncu implies): 8192x28672 and 8192x8192 take 2 as s16 does; 14336x4096 takes 1 (nothing changes);
// 4096x14336 4 or 7; 28672x8192 4 or 1. PREDICTION (results/NOTES.md "Session 14: s17_clustersum for 8-bit decode
// (prediction)", per cell): s16's time less the 1.7-2.1 us the 16-bit sum saved at split 2 (or its relative 3% /
// 7.5%), so 8192x16x28672 int8 40.9-41.7 us = 86.0-87.7% of the copy rate (e4m3 85.9-87.6%), 8192x16x8192 int8
// 15.9-16.7 us = 1.39-1.46x cuBLASLt (e4m3 1.19-1.25x).
// RESULT (session 14 calls B and C, results/nvidia-h200/session14_2026-12-03_f319a2b/decode8.log.gz and
// session14_2026-12-03_c87016b/decode8.json; NOTES "Session 14, call B/C, measured"): correct and bit for bit equal
// to s11 / s16 at split 3 (ctest, the twin test), memcheck and racecheck clean. The time as predicted: 8192x16x28672
// int8 41.4 / 41.7 us (s16 42.7), e4m3 42.0 / 41.8 (s16 42.7): 86.3% / 84.4% of the copy rate in the two runs (the
// copy ceiling itself moved 1.7%), 1.55-1.66x cuBLASLt int8, 1.40-1.48x e4m3, level with cuSPARSELt int8 (0.98-1.00x)
// and 0.92-0.96x its e4m3; 8192x16x8192 int8 16.7 / 17.1 us = 1.41x cuBLASLt (s16 18.1), e4m3 1.18-1.19x. No change
// where the rule takes split 1 (14336x4096) and 1-6% slower than s11 / s16 at 28672x8192 (one tile per CTA, not
// persistent). The fastest 8-bit row at 15 of the 20 decode rows of the H200 table.
//
// This step defines ClusterSliceUnits (s08's SplitKUnits with one tile per cluster and the slice from the cluster
// rank) and ClusterSumEpilogue; the mainloop is s13's / s11's (NarrowMainloop: s03's InFlightMainloop, or fp8's
// s10 PromotingMainloop, on s02's LaneBlocks ring, one CTA per ring: the slices share no B), by name. Types: fp16 /
// bf16 (f32 sums into D of the input type), int8 (int32 D, or ScaledTo<bf16>), e4m3 / e5m2 (bf16 D, or
// ScaledTo<bf16>); tf32 keeps s11's / s16's reduction.
// Preconditions: s11's (M % 32 == 0 at 16 bits, M % 16 at 8 bits; K % BK == 0; any N >= 1, 16-byte aligned
// operands and rows); SPLIT 0 (chosen) or 1..kMaxClusterSplit. sm_90a only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/common/ptx_sm90.cuh"
#include "kernels/common/splitk.cuh"
#include "kernels/wgmma_sp/s11_narrow.cuh"

namespace sparse24::wgmma_sp {

// The largest cluster a launch may ask for without cudaFuncAttributeNonPortableClusterSizeAllowed (CUDA C++
// Programming Guide, "Thread Block Clusters": 8 is the portable cluster size).
inline constexpr int kMaxClusterSplit = 8;

// Host side, plain arithmetic: the split for `tiles` tiles of D and `k_tiles` k-tiles when clusters[s] clusters of s
// CTAs are resident at once (s = 1..kMaxClusterSplit; clusters[0] unused): the header's rounds(s), taking a larger s
// only when it saves more than a tenth of the rounds of the best smaller one (the cluster sum and its barriers are
// not in rounds(s); without the margin 2048 tiles of 256 x 64 at K = 8192 would split 3 to save 1.3%), slices of at
// least splitk::kMinSliceTiles k-tiles, a split whose cluster does not fit skipped.
constexpr int64_t cluster_split_rounds(int64_t tiles, int k_tiles, int split, int clusters) {
  return (tiles + clusters - 1) / clusters * ((k_tiles + split - 1) / split);
}
constexpr int cluster_split(int64_t tiles, int k_tiles, const int (&clusters)[kMaxClusterSplit + 1]) {
  if (tiles < 1 || k_tiles < 1 || clusters[1] < 1) return 1;
  const int longest = std::max(1, std::min(kMaxClusterSplit, k_tiles / splitk::kMinSliceTiles));
  int best = 1;
  for (int s = 2; s <= longest; ++s)
    if (clusters[s] >= 1 && 10 * cluster_split_rounds(tiles, k_tiles, s, clusters[s]) <
                                9 * cluster_split_rounds(tiles, k_tiles, best, clusters[best]))
      best = s;
  return best;
}
// The band's small weights on an H200 (132 SMs; resident clusters as the occupancy calculator may answer: GPCs of
// 16-18 SMs, so 66 pairs, 32 quads, 16 octets), 256-row tiles, 16-bit k-tiles of 64: 8192 rows (32 tiles) at
// K = 8192 take 4 (one wave of 32 quads: 32 rounds; 8 would be two waves of 16, also 32: the smaller wins);
// 4096 rows (16 tiles) at K = 14336 take 8 (16 octets: 28 rounds); 64 tiles (N = 256 at BN = 128) take 2; a short
// K keeps slices of kMinSliceTiles; whole waves of tiles (2048, 264) do not split; with one quad fewer resident
// (31) 8192 rows move to 8.
namespace detail_s17 {
inline constexpr int kH200Clusters[kMaxClusterSplit + 1] = {0, 132, 66, 44, 32, 24, 18, 16, 16};
inline constexpr int kFewerQuads[kMaxClusterSplit + 1] = {0, 132, 66, 44, 31, 24, 18, 16, 16};
}  // namespace detail_s17
static_assert(cluster_split(32, 128, detail_s17::kH200Clusters) == 4 &&
                  cluster_split(16, 224, detail_s17::kH200Clusters) == 8 &&
                  cluster_split(64, 128, detail_s17::kH200Clusters) == 2 &&
                  cluster_split(1, 16, detail_s17::kH200Clusters) == 16 / splitk::kMinSliceTiles &&
                  cluster_split(2048, 128, detail_s17::kH200Clusters) == 1 &&
                  cluster_split(264, 128, detail_s17::kH200Clusters) == 1 &&
                  cluster_split(32, 128, detail_s17::kFewerQuads) == 8,
              "the cluster split: fewest k-tile rounds over the resident clusters, a larger one for a tenth less");
// The five decode weights in 8 bits (BM 128, one column tile at N <= BN, k-tiles of 128; the splits of results/NOTES.md
// "Session 14: s17_clustersum for 8-bit decode (prediction)"): 8192 rows (64 tiles) take 2 at K = 28672 and 8192,
// as s16's streaming split; 14336x4096 (112 tiles, 32 k-tiles: at most 4 slices of 8) none; 4096x14336 (32 tiles)
// 4; 28672x8192 (224 tiles, 64 k-tiles) 4, seven waves of 32 quads (112 rounds against 128 unsplit), and none with
// one quad and one octet fewer resident (session 12's ncu: fewer than 32 quads fit), where 4096x14336 moves to 7.
namespace detail_s17 {
inline constexpr int kFewerQuadsAndOctets[kMaxClusterSplit + 1] = {0, 132, 66, 44, 31, 24, 18, 16, 15};
}  // namespace detail_s17
static_assert(cluster_split(64, 224, detail_s17::kH200Clusters) == 2 &&
                  cluster_split(64, 64, detail_s17::kH200Clusters) == 2 &&
                  cluster_split(112, 32, detail_s17::kH200Clusters) == 1 &&
                  cluster_split(32, 112, detail_s17::kH200Clusters) == 4 &&
                  cluster_split(224, 64, detail_s17::kH200Clusters) == 4 &&
                  cluster_split(224, 64, detail_s17::kFewerQuadsAndOctets) == 1 &&
                  cluster_split(32, 112, detail_s17::kFewerQuadsAndOctets) == 7,
              "the cluster split at the 8-bit decode weights (the prediction's splits)");

// s08's (tile, K slice) units with the slices of a tile in one cluster: CTA rank r of cluster c runs slice r of
// tile c (grouped order, s02's raster), one unit per CTA (the grid is tiles x split CTAs, clusters of `split` along
// x: CTA blockIdx.x is rank blockIdx.x % split of cluster blockIdx.x / split). The ring stays one CTA's
// (wgmma::SingleCta: the slices read different k-tiles of A and B, nothing to multicast); the cluster is the
// launch's (cluster_ctas, kernel.cuh's hook), of the split chosen in prepare().
template <class TileT, int GROUP, int SPLIT>
struct ClusterSliceUnits : SplitKUnits<TileT, GROUP, wgmma::SingleCta, SPLIT> {
  using Base = SplitKUnits<TileT, GROUP, wgmma::SingleCta, SPLIT>;
  using typename Base::Units;
  using Base::kBM;
  using Base::kBN;
  using Base::kSplit;
  static_assert(SPLIT >= 0 && SPLIT <= kMaxClusterSplit, "SPLIT: 0 (chosen), 1 (none) or 2..8 (a portable cluster)");

  // The launch's cluster: one CTA per slice.
  template <class P>
  static int cluster_ctas(const P& lp) {
    return lp.split;
  }

  // Resident clusters of `ctas` CTAs of Kernel (its block and shared memory; the attribute is set here, before
  // Kernel::prepare sets it again, because the occupancy calculator reads it).
  template <class Kernel>
  static int resident_clusters(int ctas) {
    const void* fn = reinterpret_cast<const void*>(&gemm_entry_params<Kernel>);
    SPARSE24_CUDA_CHECK(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, Kernel::kSmemBytes));
    cudaLaunchConfig_t config{};
    cudaLaunchAttribute cluster{};
    config.gridDim = dim3(unsigned(ctas));
    config.blockDim = dim3(Kernel::kThreads);
    config.dynamicSmemBytes = Kernel::kSmemBytes;
    cluster.id = cudaLaunchAttributeClusterDimension;
    cluster.val.clusterDim.x = unsigned(ctas);
    cluster.val.clusterDim.y = cluster.val.clusterDim.z = 1;
    config.attrs = &cluster;
    config.numAttrs = 1;
    int clusters = 0;
    SPARSE24_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&clusters, gemm_entry_params<Kernel>, &config));
    return clusters;
  }

  template <class Kernel>
  static int split_for(const GemmArgs& a) {
    if (kSplit > 0) {
      if (resident_clusters<Kernel>(kSplit) < 1)
        throw ArchError("not one cluster of " + std::to_string(kSplit) + " CTAs of this kernel fits on the GPU");
      return kSplit;
    }
    int clusters[kMaxClusterSplit + 1] = {};
    for (int s = 1; s <= kMaxClusterSplit; ++s) clusters[s] = resident_clusters<Kernel>(s);
    const int64_t tiles = int64_t((a.M + kBM - 1) / kBM) * ((a.N + kBN - 1) / kBN);
    return cluster_split(tiles, a.K / TileT::kBK, clusters);
  }

  // Tiles x split CTAs (units counts CTAs on the host: OneTilePerCta's tiles x split), whole clusters along x.
  static dim3 launch_grid(const GemmArgs&, int units, int) { return dim3(unsigned(units)); }

  // On the device a unit is a tile: the cluster's, sliced by the CTA's rank.
  template <class P>
  static __device__ __forceinline__ Units units_of(const GemmArgs& args, const P& maps) {
    Units u = Base::units_of(args, maps);
    u.rank = ptx::cluster_ctarank();  // 0 without a cluster (split 1)
    u.units = u.tiles;
    return u;
  }
  static __device__ __forceinline__ int first(const Units& u) { return int(blockIdx.x) / u.split; }
  static __device__ __forceinline__ int stride(const Units& u) { return u.units; }  // one unit per CTA
  // The tile's origin from a copy of u with rank 0: Base::origin adds u.rank as the CTA's row of a multicast
  // cluster ((c.m * kClusterM + rank) * BM, s08_splitk.cuh), and here u.rank is the K slice. Session 12's first GPU
  // run had u itself there: CTA r computed tile row c.m + r, so every slice but rank 0's came from rows past the
  // tile (zeros past M), and the sums missed them (32x1x64 at split 4: the one k-tile is slice 3's, D read 0).
  static __device__ __forceinline__ wgmma::Work work(const Units& u, int unit) {
    Units tile_units = u;
    tile_units.rank = 0;
    return {Base::origin(tile_units, unit), splitk::slice_of(int(u.rank), u.split, u.k_tiles), int(u.rank), u.split,
            unit};
  }
};

// At split 1, Next (s02's RegisterEpilogue) writes D from the accumulators. At split > 1, the cluster sum of the
// header (steps 1-4). The staged tile is row-major, the accumulators as they are (f32, or int8's int32: 4 bytes
// either way), with rows of BN + kPadWords words, in the CTA's ring:
//
//   staged (ring base)   row 0:   | c0 c1 ... c(BN-1) | pad 8 |      row r at r x kRowWords x 4 bytes
//                        row 1:   | ...                            (BM rows; at most 139 KB at 256 x 128)
//
// A lane stores its accumulator pairs (columns 2q, 2q + 1 of rows g, g + 8 of its warp's m16n8 tiles) as 8-byte
// stores: a half-warp's 16 stores are rows g = 0..3 x 32 bytes, and the 8 words of padding put those four rows
// 8 banks apart, so each half-warp is one wavefront (without padding, BN x 4 bytes = a multiple of 128: all four
// rows on the same 8 banks). The sum reads 16 bytes per lane, 8 lanes along one row: 128 contiguous bytes.
// Why the ring may be overwritten: a CTA has one unit (ClusterSliceUnits), so the producer issues no load after the
// unit's last k-tile, and every load it issued has landed (each consumer waited on its stage's full barrier); each
// consumer warpgroup's wgmma have completed (the mainloop ends with wgmma.wait_group 0; fp8's PromotingMainloop
// has added the last k-tile into its f32 registers, which are what it hands over); and the named barrier below
// makes every consumer warpgroup of the CTA wait for all the others, because all of them read each stage's B.
// The barriers (after the ring and the epilogue buffer) are not touched.
// What D gets from a sum: splitk::SumStore, the store of the reduction s11 / s16 run for the same partials (f32
// unscaled: store_sum into D of the input type, fp8's bf16; int32 unscaled: store_sum_int32, exact; ScaledTo<D>:
// store_sum_scaled with the element's row and column factors, the int32 sum converted RN first).
template <class RingT, class Next>
struct ClusterSumEpilogue {
  using Ring = RingT;
  using Tile = typename Ring::Tile;
  using Acc = typename Tile::Acc;
  static_assert(std::is_same_v<Acc, float> || std::is_same_v<Acc, int32_t>,
                "f32 accumulators (16-bit, fp8's promoted sums) or int8's int32 ones");
  static_assert(Tile::Operands::kHasScales || std::is_same_v<Acc, int32_t> == (Tile::kD == DType::int32),
                "unscaled: int32 sums go to an int32 D, f32 sums to a floating-point D (as s16's reductions)");
  using Store = splitk::SumStore<Tile::kD, Acc, Tile::Operands::kHasScales>;
  static constexpr int kSmemBytes = Next::kSmemBytes;  // the staged tile lives in the ring
  static constexpr int kWordBytes = int(sizeof(Acc));
  static_assert(kWordBytes == 4, "4-byte accumulators: the staged rows and the 16-byte loads are four words");
  static constexpr int kPadWords = 8;
  static constexpr int kRowWords = Tile::kBN + kPadWords;
  static constexpr int kQuads = Tile::kBN / 4;  // 16-byte loads per row of the sum
  static constexpr int kStagedBytes = Tile::kBM * kRowWords * kWordBytes;
  static_assert(Tile::kBN % 8 == 0 && (kRowWords * kWordBytes) % 16 == 0, "whole, aligned 16-byte loads");
  static_assert(kStagedBytes <= Ring::kBytes, "the staged tile fits in the ring it replaces");
  static constexpr int kSumThreads = 128 * Tile::kConsumers;
  // Slices whose 16 bytes a thread loads before it adds them: 4 (a split of 8 takes two rounds of DSMEM latency).
  // NOTE: all 8 at once (32 registers of loads) spilled 40 bytes at 256 x 128 (ptxas, sm_90a, nvcc 13.0: the four
  // consumers' 112 registers).
  static constexpr int kSlicesInFlight = 4;
  // Named barrier of the consumer threads (0 is __syncthreads; nothing else in this kernel uses named barriers).
  static constexpr uint32_t kStagingBarrier = 1;

  template <class Base>
  using Params = typename Next::template Params<Base>;
  template <class P>
  static void encode(P& lp, const GemmArgs& a) {
    Next::encode(lp, a);
  }
  static size_t workspace_bytes(const GemmArgs&, int, int) { return 0; }  // nothing leaves the chip but D
  template <class P>
  static void after_launch(const GemmArgs&, const P&, cudaStream_t) {}

  template <class P>
  static __device__ __forceinline__ void store(const Acc (&acc)[Tile::kAccRegs], const GemmArgs& args, const P& maps,
                                               const wgmma::Work& w, const wgmma::ConsumerThread& me,
                                               const wgmma::SharedBuffer& epi) {
    if (w.split <= 1) {
      Next::store(acc, args, maps, w, me, epi);
      return;
    }
    // The ring ends where the epilogue's buffer starts (kernel.cuh's layout; s17_clustersum asserts it).
    const uint32_t staged = epi.addr - Ring::kBytes;
    Acc* const staged_generic = reinterpret_cast<Acc*>(epi.generic - Ring::kBytes);

    // 1. Every consumer warpgroup is past the ring; then this thread's accumulators into the staged tile.
    ptx::named_barrier_sync(kStagingBarrier, kSumThreads);
    const int row0 = me.consumer * Tile::Instr::kM + me.warp * Tile::kWarpRows;
#pragma unroll
    for (int nt = 0; nt < Tile::kBN / 8; ++nt)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const frag::RowCol rc = frag::acc_m16n8(me.lane, 2 * half);
        const auto pair = splitk::PartialPair<Acc>::make(acc[4 * nt + 2 * half], acc[4 * nt + 2 * half + 1]);
        *reinterpret_cast<std::remove_const_t<decltype(pair)>*>(staged_generic + (row0 + rc.row) * kRowWords +
                                                                 nt * 8 + rc.col) = pair;  // float2 or int2
      }
    // 2. Every slice of the tile is staged and visible to the cluster.
    ptx::cluster_sync();
    // 3. This CTA's band of rows, summed over the slices in slice order.
    sum_band(args, w, staged);
    // 4. No CTA leaves (its shared memory) while a peer may still read it. Relaxed: every value this thread loaded
    // was added (sum_band adds all four lanes of each load) before it arrives, and no memory needs ordering.
    ptx::cluster_sync_relaxed();
  }

  // Rows [rank BM / split, (rank + 1) BM / split) of the tile at w.o (those below M), columns below N: 16 bytes of
  // each slice per step, slice z from CTA z, every load issued before the adds (kSlicesInFlight at a time).
  static __device__ __forceinline__ void sum_band(const GemmArgs& args, const wgmma::Work& w, uint32_t staged) {
    const int split = w.split, rank = w.slice;
    const int band_begin = rank * Tile::kBM / split;
    const int band_end = min((rank + 1) * Tile::kBM / split, args.M - w.o.m);
    const int cols = min(Tile::kBN, args.N - w.o.n);
    const int quads = min(kQuads, (cols + 3) / 4);  // 16-byte steps that hold a column below N
    const int count = max(0, band_end - band_begin) * quads;
    const Store store(args);
    for (int e = int(threadIdx.x) - 128; e < count; e += kSumThreads) {
      const int row = band_begin + e / quads, quad = e % quads;
      const uint32_t at = staged + uint32_t((row * kRowWords + 4 * quad) * kWordBytes);
      // From zero (+0.0f or 0), slice 0 first: the reductions' order and start (splitk.cuh).
      Acc sum[4] = {Acc(0), Acc(0), Acc(0), Acc(0)};
#pragma unroll 1
      for (int z0 = 0; z0 < split; z0 += kSlicesInFlight) {
        Acc p[kSlicesInFlight][4];
#pragma unroll
        for (int s = 0; s < kSlicesInFlight; ++s)
          if (z0 + s < split) ptx::ld_shared_cluster_v4(p[s], ptx::mapa_shared_cluster(at, uint32_t(z0 + s)));
        // Added in slice order, and only the slices there are (adding a zero would turn a -0.0f sum into +0.0f).
#pragma unroll
        for (int s = 0; s < kSlicesInFlight; ++s)
          if (z0 + s < split)
#pragma unroll
            for (int c = 0; c < 4; ++c) sum[c] += p[s][c];
      }
      const int64_t m = w.o.m + row;
      const float row_factor = store.row_factor(args, m);  // the scaled form's factor of the row, 1 otherwise
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const int n = w.o.n + 4 * quad + c;
        if (n < args.N) store(args, row_factor, m, n, sum[c]);
      }
    }
  }
  static __device__ __forceinline__ void finish() { Next::finish(); }
};

// Arguments as s13's / s16's: T (fp16, bf16; int8, e4m3, e5m2), BM x BN x BK (BK: the type's 128-byte k-tile, 64
// at 16 bits, 128 at 8), WM x WN warps (WM = 4 per consumer warpgroup), STAGES, GROUP, SPLIT (0: the cluster split,
// chosen in prepare(); else 1..8), Out (operands.cuh: Unscaled, or ScaledTo<D> for int8 and fp8). s13's mainloop
// (s11's at BM = 128: NarrowMainloop, so fp8 promotes each k-tile into f32) with the two components above.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int SPLIT,
          class Out = wgmma::Unscaled>
struct s17_clustersum
    : wgmma::Kernel<s17_clustersum<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT, Out>,
                    NarrowMainloop<wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN, Out>,
                                                    LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN, Out>>, STAGES>>,
                    ClusterSliceUnits<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP, SPLIT>,
                    ClusterSumEpilogue<wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN, Out>,
                                                        LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN, Out>>, STAGES>,
                                       RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN, Out>>>> {
  static constexpr bool k16Bit = T == DType::fp16 || T == DType::bf16;
  static constexpr bool k8Bit = T == DType::int8 || T == DType::e4m3 || T == DType::e5m2;
  static_assert(k16Bit || k8Bit,
                "16-bit inputs (f32 sums into D of the input type) or 8-bit (int8's int32 sums into an int32 D, "
                "fp8's f32 sums into a bf16 D, or either ScaledTo<D>); tf32 keeps s16's reduction");
  static_assert(!k16Bit || (BM == 128 && (BN == 16 || BN == 32 || BN == 64)) ||
                    (BM == 256 && (BN == 64 || BN == 128)),
                "16 bits: s11's 128 x 16 / 32 / 64 and s13's 256 x 64 / 128 (the decode and band tiles whose twins "
                "exist)");
  static_assert(!k8Bit || (BM == 128 && (BN == 16 || BN == 32)),
                "8 bits: s11's / s16's decode tiles, 128 x 16 and 128 x 32 (the tiles whose twins exist)");
  static_assert(!Out::kScales || k8Bit, "ScaledTo<D>: the scaled products of int8 and fp8 (s11's / s16's rows)");
  static_assert(s17_clustersum::kEpilogueOffset == s17_clustersum::Ring::kBytes,
                "the cluster sum stages its tile in the ring, which ends where the epilogue's buffer starts");
  static_assert(std::is_same_v<typename s17_clustersum::Ring, typename s17_clustersum::Epilogue::Ring>,
                "the epilogue stages over the mainloop's ring");
};

}  // namespace sparse24::wgmma_sp
