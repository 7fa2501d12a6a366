// wgmma_sp step 20, "piecesum": s19's equal runs with the pieces of a tile summed inside the launch, by the CTA
// whose piece arrives last.
//
// What it adds over s19_streamk: no second launch. s19's GEMM kernel is 7.3% faster than s16's on the fp16
// 28672x16x8192 weight under ncu (67.5 against 72.8 us: the equal runs), but its reduction (s16's reduce_pdl over
// two slices of 1.8 MB) then runs 4.1 us at 19% of the DRAM peak, so the whole is no faster (results/NOTES.md,
// session 16, calls E and F). Here a piece writes its partials as in s19, then its consumers arrive at its tile's
// counter (s09's InLaunchReduction, by name): the CTA whose piece is the tile's last to arrive sums the tile's
// pieces in slice order from L2 (16 KB a piece at 128 x 16) and writes D. A tile inside one run (one piece) is
// written from registers directly. Only the tiles that runs cut are summed: at most one per CTA boundary (131 of 224
// on that weight), each 2 x 8 KB, where s19's reduction reads and writes every tile's slices.
// The arrivals a tile waits for are its own pieces (1 to P), so the counters and the sum take the tile's piece
// count, and the workspace is laid out for EqualRuns::pieces_bound() slices (an O(1) bound the device computes from
// the grid, where s19 uses the exact maximum: >= it, and equal on the decode weights).
//
// Why not s14's lesson (s14's in-launch sum was a tail: a tile's last CTA summed while the other SMs idled): there
// every tile of the last round was summed at the end; here a CTA's run ends in at most one cut tile, so at the end
// each CTA sums at most one tile of 16-32 KB from L2 (~1 us of latency, against the reduction's 4.1 us).
//
// PREDICTION (H200, fp16 and bf16, N = 16, same run as s16 / s19 and cuSPARSELt; results/NOTES.md "Session 16:
// wgmma_sp.s20_piecesum (prediction)"): 28672x16x8192 s19's GEMM time + ~1 us: 68-70 us in the bench (s16 71.7,
// s19 71.5, cuSPARSELt 67.3-69.8 in this session's runs), **0.97-1.03x cuSPARSELt fp16**; 8192x16x28672 and the small
// weights within +-3% of s19 (their tiles are cut into more pieces: 4-5 at 4096x14336, whose sums are a tail).
// Types: 16-bit only, as s14 (InLaunchReduction sums f32 partials into D of the input type).
// MEASURED (H200, session 16, results/NOTES.md): slower than s19 and s16: 74.6 us at fp16 28672x16x8192 (s19 71.9,
// s16 72.4), 75.4 at 8192x16x28672, 27.9 at 14336x16x4096 (s16 22.2). Not profiled yet (the arrivals' fences and the
// runs' last sums are the candidates).
// Preconditions: s19's; the counters start at zero (the registry zeroes the workspace once) and a plan's runs do not
// overlap. sm_90a only.
#pragma once

#include "kernels/wgmma_sp/s09_onelaunch.cuh"
#include "kernels/wgmma_sp/s14_inlaunch.cuh"
#include "kernels/wgmma_sp/s19_streamk.cuh"

namespace sparse24::wgmma_sp {

// s19's runs and pieces with each piece's own tile's piece count as its split (1: D from registers), and the
// workspace laid out for EqualRuns::pieces_bound() slices.
template <class TileT, int GROUP>
struct PieceUnits : EqualRunUnits<TileT, GROUP> {
  using Base = EqualRunUnits<TileT, GROUP>;
  using typename Base::Units;
  static EqualRuns runs_for(const GemmArgs& a, int ctas) {
    return EqualRuns{Base::tiles_of(a), a.K / TileT::kBK, ctas};
  }
  template <class Kernel>
  static int split_for(const GemmArgs& a) {
    return int(runs_for(a, Base::plan_for(a).ctas).pieces_bound());
  }
  static __device__ wgmma::Work work(const Units& u, int j) {
    wgmma::Work w = Base::work(u, j);
    w.split = int(EqualRuns{u.tiles, u.k_tiles, gridDim.x}.pieces_of_tile(w.cta_tile));
    return w;
  }
};

// s09's InLaunchReduction over a tile's pieces: `w.split` arrivals and slices, counters after pieces_bound() slices.
template <class Tile>
struct PieceSumReduction {
  static size_t workspace_bytes(const GemmArgs& a, int split, int) {
    const int64_t tiles = int64_t((a.M + Tile::kBM - 1) / Tile::kBM) * ((a.N + Tile::kBN - 1) / Tile::kBN);
    return splitk::counted_workspace_bytes(split, a.M, a.N, int(tiles));
  }
  template <class P>
  static void after_launch(const GemmArgs&, const P&, cudaStream_t) {}
  static __device__ __forceinline__ void after_partials(const GemmArgs& args, const wgmma::Work& w,
                                                        const wgmma::SharedBuffer& epi) {
    const int grid_m = (args.M + Tile::kBM - 1) / Tile::kBM, grid_n = (args.N + Tile::kBN - 1) / Tile::kBN;
    const EqualRuns r{int64_t(grid_m) * grid_n, args.K / Tile::kBK, gridDim.x};
    InLaunchReduction<Tile>::reduce_tile_if_last(args, w.o, w.cta_tile, w.split, int(r.pieces_bound()),
                                                 reinterpret_cast<volatile int*>(epi.generic));
  }
};

// Arguments as s19's 16-bit rows: T (fp16, bf16), BM x BN x BK, WM x WN warps, STAGES, GROUP.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP>
struct s20_piecesum
    : wgmma::Kernel<s20_piecesum<T, BM, BN, BK, WM, WN, STAGES, GROUP>,
                    NarrowMainloop<wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN>,
                                                    LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN>>, STAGES>>,
                    PieceUnits<SparseTile<T, BM, BN, BK, WM, WN>, GROUP>,
                    PartialsEpilogue<WithFlagWord<RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN>>>,
                                     PieceSumReduction<SparseTile<T, BM, BN, BK, WM, WN>>>> {
  static_assert(T == DType::fp16 || T == DType::bf16,
                "16-bit only: the in-launch sum writes f32 partials into D of the input type (s14's)");
  static_assert(BM == 128 && (BN == 16 || BN == 32), "s19's decode tiles, 128 x 16 and 128 x 32");
};

}  // namespace sparse24::wgmma_sp
