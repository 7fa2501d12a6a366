// wgmma_sp step 19, "streamk": s16's decode tiles, mainloop, partials and PDL reduction, with the k-tiles of all
// tiles dealt to the CTAs in equal runs (stream-K) instead of whole units.
//
// What it adds over s16_pdl: the schedule. s11/s16 give each persistent CTA whole units (a tile, or a tile's K
// slice of equal size), so when the units do not divide evenly among the SMs the last round runs on fewer CTAs:
// 28672 rows at BM = 128 are 224 row blocks for 132 SMs, and the second round's 92 CTAs cannot keep the HBM busy
// (a CTA's stream is capped by the bytes its ring holds over the loaded latency: session 10). Here the k-tiles of
// every tile, laid end to end (tile t's k-tile k is number t x k_tiles + k), are cut into G equal runs, one per CTA
// (G = the SMs, fewer when the runs would be shorter than splitk::kMinSliceTiles): CTA c streams k-tiles
// [c W / G, (c + 1) W / G) of the W in all. A run crosses tile boundaries, so a tile is computed in pieces by the
// consecutive CTAs whose runs meet it; piece z of tile t (z = c - the first CTA of the tile) writes its f32 (int8:
// int32) partials to slice z of the plan's workspace, and s16's programmatic dependent launch sums the slices in the
// order 0, 1, ... as it does for split-K (the same reduction, so the same kind of sum: splitk.cuh). The split factor
// the reduction reads is P, the most pieces any tile has; a tile of fewer pieces leaves its other slices as
// allocate_workspace zeroed them (no launch writes them: the pieces of a plan are the same at every launch), so
// they add zeros. With P = 1 (every tile inside one run) the pieces write D directly and nothing is launched after.
//
// Why (session 16, results/NOTES.md): the streaming experiment (harness/experiments/tmastream.cu) reads the 235 MB
// of the fp16 28672 x 8192 weight's values at 79.6% of the copy rate in s11/s16's schedule and 89.4% in equal runs,
// with the same 64-byte boxes and ring.
//
// PREDICTION (H200, same run as s16 and cuSPARSELt; results/NOTES.md "Session 16: wgmma_sp.s19_streamk
// (prediction)"): fp16 28672x16x8192, 224 tiles of 128 k-tiles on 132 CTAs (runs of 217: P = 2, every run meets two
// or three tiles): the stream's -11% on the 235 MB of values and the same on the metadata, less the partials (2 x
// 1.8 MB written once and read once: ~1.7 us) and the reduction's tail: 72.6 -> 66-69 us, 1.01-1.06x cuSPARSELt
// fp16. Where s16 already splits evenly (8192 rows: 64 tiles at split 2 = 128 units for 132 SMs) s19 within +-3%
// of s16; 14336x16x4096 (112 tiles, split 1: 20 SMs idle) -5 to -12%.
//
// MEASURED (H200, session 16, results/NOTES.md): the GEMM kernel -7.3% against s16's at fp16 28672x16x8192 under
// ncu (67.5 against 72.8 us), but the reduction over the two slices then runs 4.1 us: 71.5 us in the bench, s16's
// time; 2-17% slower than s16 on the smaller weights. The prediction took the reduction as ~1.7 us of bytes; it is
// latency-bound.
// Preconditions: s11's (M % 32 == 0 at 16 bits, M % 16 at 8 bits; K % BK == 0; any N >= 1; 16-byte aligned operands
// and rows). A plan's runs do not overlap (the partials are shared). One CTA per SM must be resident (the decode
// tiles' rings take most of the shared memory): prepare() checks it, since the pieces depend on the grid. sm_90a only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "kernels/wgmma_sp/s16_pdl.cuh"

namespace sparse24::wgmma_sp {

// The equal runs, plain arithmetic (host and device): `tiles` tiles of `k_tiles` k-tiles each, in runs for `ctas`
// CTAs; k-tile w (of tiles x k_tiles) belongs to the CTA c with begin(c) <= w < begin(c + 1).
struct EqualRuns {
  int64_t tiles, k_tiles, ctas;
  SPARSE24_HD constexpr int64_t total() const { return tiles * k_tiles; }
  SPARSE24_HD constexpr int64_t begin(int64_t c) const { return c * total() / ctas; }
  // The largest c with floor(c W / G) <= w, i.e. c W < (w + 1) G.
  SPARSE24_HD constexpr int64_t cta_of(int64_t w) const { return ((w + 1) * ctas - 1) / total(); }
  SPARSE24_HD constexpr int64_t pieces_of_tile(int64_t t) const {
    return cta_of((t + 1) * k_tiles - 1) - cta_of(t * k_tiles) + 1;
  }
  SPARSE24_HD constexpr int64_t pieces_of_cta(int64_t c) const {
    const int64_t b = begin(c), e = begin(c + 1);
    return e > b ? (e - 1) / k_tiles - b / k_tiles + 1 : 0;
  }
  // At most this many pieces meet a tile, from the shortest run alone (O(1), so the device can compute it too):
  // k_tiles consecutive k-tiles meet at most ceil((k_tiles - 1) / shortest) + 1 runs.
  SPARSE24_HD constexpr int64_t pieces_bound() const {
    const int64_t shortest = total() / ctas;
    return (k_tiles - 1 + shortest - 1) / shortest + 1;
  }
  // The most pieces of any tile: the reduction's slices.
  constexpr int64_t max_pieces() const {
    int64_t p = 0;
    for (int64_t t = 0; t < tiles; ++t) p = std::max(p, pieces_of_tile(t));
    return p;
  }
};
// 224 tiles of 128 k-tiles on 132 CTAs: runs of 217, each tile in at most two of them; one tile on 5 CTAs: five
// pieces; whole tiles per CTA when the tiles divide evenly (a run is then its CTA's two tiles).
static_assert(EqualRuns{224, 128, 132}.max_pieces() == 2 && EqualRuns{224, 128, 132}.pieces_of_cta(0) == 2 &&
                  EqualRuns{1, 40, 5}.max_pieces() == 5 && EqualRuns{264, 64, 132}.max_pieces() == 1 &&
                  EqualRuns{264, 64, 132}.pieces_of_cta(131) == 2 && EqualRuns{224, 128, 132}.cta_of(0) == 0 &&
                  EqualRuns{224, 128, 132}.cta_of(28671) == 131 && EqualRuns{224, 128, 132}.pieces_bound() == 2 &&
                  EqualRuns{1, 40, 5}.pieces_bound() == 6,
              "equal runs: pieces per tile and per CTA");

// The CTAs and the slices of a problem: G = the resident CTAs (one per SM), fewer while a run would be shorter than
// kMinSliceTiles k-tiles or a tile would have more than kMaxSplit pieces (the reduction's limit).
struct StreamKPlan {
  int ctas, split;
};
constexpr StreamKPlan streamk_plan(int64_t tiles, int64_t k_tiles, int resident) {
  int64_t g = std::max<int64_t>(1, std::min<int64_t>(resident, tiles * k_tiles / splitk::kMinSliceTiles));
  while (g > 1 && EqualRuns{tiles, k_tiles, g}.max_pieces() > splitk::kMaxSplit) --g;
  return {int(g), int(EqualRuns{tiles, k_tiles, g}.max_pieces())};
}
static_assert(streamk_plan(224, 128, 132).ctas == 132 && streamk_plan(224, 128, 132).split == 2 &&
                  streamk_plan(1, 16, 132).ctas == 2 && streamk_plan(1, 544, 132).ctas == splitk::kMaxSplit,
              "the stream-K plan: one CTA per SM, runs of at least kMinSliceTiles, at most kMaxSplit pieces a tile");

// The scheduler: each CTA's units are the pieces of its run, in order (first 0, stride 1, units = its piece count);
// a piece's slice is its index among its tile's pieces. s16's TriggerAtLastUnit wraps it (the producer starts the
// dependent reduction at the CTA's last piece).
template <class TileT, int GROUP>
struct EqualRunUnits {
  using Tile = TileT;
  static constexpr int kGroup = GROUP, kClusterM = 1, kBM = Tile::kBM, kBN = Tile::kBN;
  static constexpr bool kSlicesMayBeEmpty = false;  // a piece has at least one k-tile
  static_assert(GROUP >= 1 && GROUP <= 64 && grouped_order_is_bijective<GROUP>(7, 5),
                "grouped order must visit every tile exactly once");

  template <class B>
  struct Params : B {
    int split;  // the most pieces of a tile (1: every piece writes D)
  };
  template <class P>
  static void encode(P& lp, int split) {
    lp.split = split;
  }
  // split_k 0: the slices are chosen in prepare() (the dispatcher's name for a split chosen from the SM count).
  static void add_params(sparse24::Params& p) { p.push_back({"split_k", 0}); }

  // The problem's BM x BN tiles, and the current GPU's SMs (host).
  static int64_t tiles_of(const GemmArgs& a) { return int64_t((a.M + kBM - 1) / kBM) * ((a.N + kBN - 1) / kBN); }
  static int sm_count() {
    int device = 0, sms = 0;
    SPARSE24_CUDA_CHECK(cudaGetDevice(&device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    return sms;
  }
  static StreamKPlan plan_for(const GemmArgs& a) { return streamk_plan(tiles_of(a), a.K / Tile::kBK, sm_count()); }
  template <class Kernel>
  static int split_for(const GemmArgs& a) {
    return plan_for(a).split;
  }
  static int units(const GemmArgs& a, int) { return plan_for(a).ctas; }
  static dim3 launch_grid(const GemmArgs&, int ctas, int) { return dim3(unsigned(ctas)); }
  // The pieces depend on the grid: every CTA of it must be resident at once (the decode tiles run one per SM).
  template <class Kernel>
  static void fit_grid(Plan& p, int ctas) {
    int dev = 0, sms = 0, per_sm = 0;
    SPARSE24_CUDA_CHECK(cudaGetDevice(&dev));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    SPARSE24_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, gemm_entry_params<Kernel>,
                                                                      Kernel::kThreads, Kernel::kSmemBytes));
    if (sms * per_sm < ctas)
      throw ArchError(p.variant().name + ": " + std::to_string(ctas) + " CTAs must be resident at once, " +
                      std::to_string(sms * per_sm) + " fit");
  }

  // What a CTA knows: its run [begin, end) and the tiles' geometry.
  struct Units {
    uint32_t rank;  // 0: no cluster
    int k_tiles, grid_n, grid_m, split, units;
    int64_t begin, end;
    int64_t tiles;
  };
  template <class P>
  static __device__ __forceinline__ Units units_of(const GemmArgs& args, const P& maps) {
    const int k_tiles = args.K / Tile::kBK;
    const int grid_m = (args.M + kBM - 1) / kBM, grid_n = (args.N + kBN - 1) / kBN;
    const EqualRuns r{int64_t(grid_m) * grid_n, k_tiles, gridDim.x};
    return {0, k_tiles, grid_n, grid_m, maps.split, int(r.pieces_of_cta(blockIdx.x)), r.begin(blockIdx.x),
            r.begin(blockIdx.x + 1), r.tiles};
  }
  static __device__ __forceinline__ int first(const Units&) { return 0; }
  static __device__ __forceinline__ int stride(const Units&) { return 1; }
  // The CTA's j-th piece: tile begin / k_tiles + j, the k-tiles of the run inside it, slice = its index among the
  // tile's pieces.
  static __device__ wgmma::Work work(const Units& u, int j) {
    const int64_t t = u.begin / u.k_tiles + j, t0 = t * u.k_tiles;
    const int kb = int(std::max(u.begin, t0) - t0), ke = int(std::min(u.end, t0 + u.k_tiles) - t0);
    const int slice = int(blockIdx.x - EqualRuns{u.tiles, u.k_tiles, gridDim.x}.cta_of(t0));
    const BlockCoord c = grouped_block<GROUP>(int(t), u.grid_m, u.grid_n);
    return {BlockCoord{c.m * kBM, c.n * kBN}, splitk::Slice{kb, ke}, slice, u.split, int(t)};
  }
};

// Arguments as s16's decode rows: T (fp16, bf16, int8), BM x BN x BK (BK: the type's 128-byte k-tile), WM x WN
// warps, STAGES, GROUP, Out (Unscaled or ScaledTo<bf16> for int8). s16's composition with EqualRunUnits in place of
// NarrowSplitKUnits.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, class Out = wgmma::Unscaled>
struct s19_streamk
    : wgmma::Kernel<s19_streamk<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>,
                    NarrowMainloop<wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN, Out>,
                                                    LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN, Out>>, STAGES>>,
                    TriggerAtLastUnit<EqualRunUnits<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP>>,
                    PartialsEpilogue<RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN, Out>>,
                                     DependentLaunchReduction<SparseTile<T, BM, BN, BK, WM, WN, Out>>>> {
  static_assert(T == DType::fp16 || T == DType::bf16 || T == DType::int8, "fp16, bf16 or int8 (s16's decode types "
                "whose reductions this step has been measured with)");
  static_assert(BM == 128 && (BN == 16 || BN == 32), "s11's decode tiles, 128 x 16 and 128 x 32");
};

}  // namespace sparse24::wgmma_sp
