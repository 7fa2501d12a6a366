// wgmma_sp step 25, "fanin": s23's hand-off with the runs on every SM when the tiles are fewer than the SMs, so a tile
// meets up to kMaxPieces runs, and the CTA that finishes it sums all of their pieces in registers.
//
// What it adds over s23_handoff: s23 runs on min(SMs, tiles) CTAs so that a tile meets at most two runs. Where the
// tiles are fewer than the SMs that leaves SMs idle: the decode weights of 4096 and 8192 rows at N = 16 (32 and 64
// tiles of 128 x 16) stream on 32 and 64 of the H200's 132 SMs, and session 18 measured s23 at 1.15-1.38x s22's time
// on the 4096-row weight (s22 splits K over 128 CTAs and sums the slices in a second, dependent launch). Here the
// CTAs are s19's (one per SM while the runs keep kMinSliceTiles k-tiles), fewer only while some tile would meet more
// than kMaxPieces runs, and no second launch:
//
//   tile t's k-tiles:   [ piece 0: the end of CTA c's run | piece 1: CTA c + 1's | ... | piece p - 1: CTA c + p - 1's ]
//
// - A tile's piece s >= 1 begins at a run's start, so it is its CTA's first piece: the CTA computes it first and
//   publishes it to its own slot with per-warp flags (s23's HandoffEpilogue and Handoff::publish; one slot per CTA).
// - Piece 0 ends at a run's end, so it is its CTA's last: CTA c finishes the tile. Before that piece's k-loop it
//   takes piece 1 if its flags are already set (the usual case when runs are longer than a tile, s23's); after the
//   loop it waits for each remaining piece's flags in order, issuing each slot's loads as soon as its flags are set
//   (the waits for later pieces overlap the loads of earlier ones), then adds them in piece order and stores D.
//   When the runs are shorter than a tile every piece of it runs at once, so the finisher's wait is what is left of
//   the slowest piece plus one L2 round trip, where s22 pays a second launch and a pass over its partials.
// - The sum of a tile is (((piece 0 + piece 1) + piece 2) + ...), each piece from zero: fixed for a shape and a grid,
//   the same bits at every launch (and s23's where both have at most two pieces a tile on the same grid).
// Co-residency: a CTA waits only for later CTAs' first pieces, which wait for nothing, and fit_grid checks that the
// grid is resident at once (s23's argument).
//
// PREDICTION (H200, N = 16; results/NOTES.md "Session 19: wgmma_sp.s25_fanin (prediction)"): 4096x16x14336 int8
// (32 tiles of 56 k-tiles on 132 CTAs: runs of 13.6, up to 5 pieces a tile) 14.5-15.5 us against s22's 16.3 (1.36-
// 1.46x cuBLASLt int8); 8192x16x8192 int8 (64 tiles of 32 on 132 CTAs: up to 3 pieces) 13.5-14.5 against s23's 15.9
// on 64 CTAs; where tiles >= SMs, s23's grid and s23's time (+-1%).
// MEASURED (H200, session 19 calls C and D; results/NOTES.md "Session 19, call D, measured"): a measured negative.
// Wherever the tiles are fewer than the SMs s25 is the slowest of s22 / s23 / s25: int8 8192x16x8192 19.97-20.00 us
// against s23's 15.74-15.78 on 64 CTAs, 4096x16x14336 19.26-19.39 against s22's 16.26-16.29 (fp16 and e4m3 alike);
// where tiles >= SMs it is s23 (fp16 28672x16x8192 68.83 against 68.80). The first form polled the flags with every
// lane; the quiet wait below changed nothing (20.00 against 19.97 us), and ncu puts s25's L2 requests from the SMs
// only 9% above s23's at 8192x16x8192, so the polling was not the cost. ncu (one launch each): s25's GEMM kernel runs
// 18.1 us where s22's runs 15.3 (+ 3.0 for its reduction launch) and s23's 15.1 on half the SMs, DRAM 48.7% of peak
// against 60.1% and 58.3%. Our reading: a finisher waits for the slowest CTA among its tile's pieces, so the kernel
// ends with the slowest of the tiles' groups, not of the CTAs, and the runs of 13-16 k-tiles are short against the
// ring's fill; s23's 64 CTAs already read the 8192-row weight as fast as s22's 128. Kept as that evidence, at fp16
// and int8 128 x 16 (the other rows were timed and removed).
// Preconditions: s23's. The flags start at zero (the registry zeroes the workspace once) and every launch leaves
// them at zero. sm_90a only.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/wgmma_sp/s23_handoff.cuh"

namespace sparse24::wgmma_sp {

// s23's units (a piece's slice is its index among its tile's pieces, its split their count) on s19's grid: one CTA
// per SM, fewer while a run would be shorter than kMinSliceTiles k-tiles or a tile would meet more than MAX_PIECES runs.
template <class TileT, int GROUP, int MAX_PIECES>
struct FanInRunUnits : HandoffRunUnits<TileT, GROUP> {
  using Base = HandoffRunUnits<TileT, GROUP>;
  static constexpr int kMaxPieces = MAX_PIECES;
  static int ctas_for(const GemmArgs& a) {
    const int64_t tiles = Base::tiles_of(a), k_tiles = a.K / TileT::kBK;
    int64_t g = std::max<int64_t>(1, std::min<int64_t>(Base::sm_count(), tiles * k_tiles / splitk::kMinSliceTiles));
    while (g > 1 && EqualRuns{tiles, k_tiles, g}.max_pieces() > kMaxPieces) --g;
    return int(g);
  }
  static int units(const GemmArgs& a, int) { return ctas_for(a); }
};
// 32 tiles of 56 k-tiles (the 4096-row int8 weight at N = 16) on 132 CTAs: runs of 13-14, at most 5 pieces a tile.
static_assert(EqualRuns{32, 56, 132}.max_pieces() == 5 && EqualRuns{64, 32, 132}.max_pieces() == 3,
              "the decode weights' pieces on the H200's 132 SMs");

// s23's slots and flags, and a flag read that does not wait.
template <class Tile>
struct FanIn : Handoff<Tile> {
  using H = Handoff<Tile>;
  // Piece `slot`'s sums if every lane of the warp sees its warp's flag set already (the flag is then cleared);
  // false, with nothing loaded, otherwise.
  static __device__ __forceinline__ bool try_fetch(uint4 (&seed)[H::kVectors], const GemmArgs& args,
                                                   const wgmma::ConsumerThread& me, int slot) {
    uint32_t* f = H::flag(args, slot, me);
    const bool ready = __all_sync(0xffffffffu, ptx::ld_acquire_gpu(f) != 0u);
    if (ready) H::load_and_clear(seed, args, me, slot, f);
    return ready;
  }
  // Piece `slot`'s sums, waiting for its flag with one lane of the warp, which backs off between reads: here the
  // finisher normally arrives while its tile's other pieces are still being computed (runs shorter than a tile), and
  // s23's wait (every lane polling without pause) would put 256 loads per round of every waiting CTA into the L2
  // that the streaming CTAs read through. Then each lane acquires the flag itself before it loads the slot. (Call D:
  // no faster than polling with every lane; kept because it is the cheaper wait, not because it was measured to help.)
  static __device__ __forceinline__ void fetch_quietly(uint4 (&seed)[H::kVectors], const GemmArgs& args,
                                                       const wgmma::ConsumerThread& me, int slot) {
    uint32_t* f = H::flag(args, slot, me);
    if (me.lane == 0)
      for (unsigned pause = 32; ptx::ld_acquire_gpu(f) == 0u; pause = pause < 512 ? 2 * pause : pause)
        __nanosleep(pause);
    __syncwarp();
    (void)ptx::ld_acquire_gpu(f);  // set: lane 0 saw it; each lane's own acquire orders its loads of the slot
    H::load_and_clear(seed, args, me, slot, f);
  }
};

// The base k-loop; on a tile's piece 0, piece 1 taken before the loop when it is ready, every other piece after it.
template <class BaseLoop, int MAX_PIECES>
struct FanInMainloop : BaseLoop {
  using typename BaseLoop::Carried;
  using typename BaseLoop::Ring;
  using typename BaseLoop::Tile;
  using F = FanIn<Tile>;
  static constexpr int kVectors = F::kVectors;
  static_assert(MAX_PIECES >= 2, "a cut tile has at least two pieces");
  template <bool kSlicesMayBeEmpty>
  static __device__ __forceinline__ void consume(typename Tile::Acc (&acc)[Tile::kAccRegs], Carried& carried,
                                                 const GemmArgs& args, const wgmma::Work& w,
                                                 const typename Ring::Smem& ring, const uint8_t* ring_generic,
                                                 const wgmma::ConsumerThread& me, const wgmma::MetaLane& meta_lane,
                                                 int& it) {
    const bool finishes = w.split > 1 && w.slice == 0;
    uint4 piece[MAX_PIECES - 1][kVectors];  // pieces 1..split-1 of the tile, by their CTAs' slots
    const bool early = finishes && F::try_fetch(piece[0], args, me, blockIdx.x + 1);
    BaseLoop::template consume<kSlicesMayBeEmpty>(acc, carried, args, w, ring, ring_generic, me, meta_lane, it);
    if (!finishes) return;
    if (!early) F::fetch_quietly(piece[0], args, me, blockIdx.x + 1);
#pragma unroll
    for (int s = 2; s < MAX_PIECES; ++s)
      if (s < w.split) F::fetch_quietly(piece[s - 1], args, me, blockIdx.x + s);
    F::add_seed(acc, piece[0]);
#pragma unroll
    for (int s = 2; s < MAX_PIECES; ++s)
      if (s < w.split) F::add_seed(acc, piece[s - 1]);
  }
};

// Arguments as s23's, and MAX_PIECES: the most runs a tile may meet (the finisher holds that many pieces' registers).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int MAX_PIECES,
          class Out = wgmma::Unscaled>
struct s25_fanin
    : wgmma::Kernel<s25_fanin<T, BM, BN, BK, WM, WN, STAGES, GROUP, MAX_PIECES, Out>,
                    FanInMainloop<HandoffBaseLoop<wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN, Out>,
                                                                   LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN, Out>>,
                                                                   STAGES>>,
                                  MAX_PIECES>,
                    FanInRunUnits<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP, MAX_PIECES>,
                    HandoffEpilogue<RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN, Out>>>> {
  using Tile = SparseTile<T, BM, BN, BK, WM, WN, Out>;
  static_assert(Tile::kARowBytes == 128 && Tile::kBPanels == 2, "s21's wide k-tile");
  static_assert(T == DType::fp16 || T == DType::bf16 || T == DType::int8 || T == DType::e4m3,
                "fp16, bf16, int8 or e4m3 (s21's types)");
  static_assert(BM == 128 && (BN == 16 || BN == 32), "the decode tiles (the finisher holds MAX_PIECES - 1 pieces)");
  static_assert(MAX_PIECES >= 2 && MAX_PIECES <= 8, "2..8 pieces a tile");
  // The piece limit is a name field (two rows of one tile differ in it).
  static Params params() {
    Params p = s25_fanin::Kernel::params();
    p.push_back({"max_pieces", MAX_PIECES});
    return p;
  }
};

}  // namespace sparse24::wgmma_sp
