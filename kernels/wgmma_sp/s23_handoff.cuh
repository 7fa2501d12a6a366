// wgmma_sp step 23, "handoff": s19's equal runs on s22's wide k-tiles, with a cut tile's two pieces summed in
// registers: the CTA that computes the tile's last k-tiles hands its partial sums to the CTA that finishes it.
//
// What it adds over s22_twosets: s19's schedule (the k-tiles of all tiles dealt to the CTAs in equal runs) without
// s19's reduction launch and without s20's arrivals. Two sessions measured what each lever is worth and what each
// sum of the cut tiles cost (results/NOTES.md, sessions 16 and 17): equal runs took 7.3% off s16's GEMM kernel at
// fp16 28672x16x8192 under ncu (67.5 against 72.8 us), and s19's second launch gave 4.1 us of it back, s20's
// in-launch sum of the last piece to arrive more than that; the wide box took 1.7% (s21, under ncu level with
// cuSPARSELt's kernel). Here neither sum is on the critical path:
//
//   The CTAs are min(SMs, tiles), so a run is at least one tile long and a tile meets at most two runs: its first
//   k-tiles end CTA c's run, its last k-tiles begin CTA c + 1's. CTA c + 1 computes its piece first thing and
//   publishes it: each consumer thread stores its accumulator registers to slot c + 1 of the plan's workspace and
//   fences, then lane 0 of each warp sets the warp's flag (st.release.gpu). CTA c reaches the tile last, at the
//   end of its run: before that piece's k-loop each consumer thread waits for its warp's flag (ld.acquire.gpu),
//   issues the loads of the registers the same thread of CTA c + 1 stored, runs the k-loop from zero, adds them
//   and stores D through s02's RegisterEpilogue; lane 0 clears the flag for the next launch. With a run of L >= T
//   k-tiles (T a tile's), CTA c + 1 finishes its piece (at most T - x k-tiles, for a cut x into the tile) before
//   CTA c has streamed the L - x k-tiles before its own piece, so the wait is normally already over, and the loads'
//   latency overlaps the k-loop (their registers are first read after it).
//
// The sum of a cut tile is (its first piece, from zero) + (its second piece, from zero): s19's reduction's order
// (0 + s0 + s1), fixed for a shape and a grid, so the same bits at every launch.
// Co-residency: CTA c waits for CTA c + 1, only at the end of its run. fit_grid (s19's) checks that the grid fits
// the GPU at once (one CTA per SM); CTAs are dispatched in index order, so a CTA that waits has a successor that has
// started or will start when an earlier CTA exits, even on a GPU shared with other work.
//
// PREDICTION (H200, N = 16, same run as s22 and cuSPARSELt; results/NOTES.md "Session 18: wgmma_sp.s23_handoff
// (prediction)"): fp16 28672x16x8192 (224 tiles of 64 wide k-tiles on 132 CTAs: runs of 108.6, 92 cut tiles) the
// equal runs' -7% of the kernel on s22's 71-72 us, less ~0.5 us for the publication: 66-68 us, 1.02-1.05x
// cuSPARSELt fp16 (69.6-69.8 in session 17), 93-95% of the copy rate; int8 28672x16x8192 40.8 -> 38-39.5 us. Where
// the tiles are fewer than the SMs (8192-row weights at 128 x 16: 64 tiles; 14336x4096: 112) the runs are whole
// tiles and s23 is s22 at split 1: slower than the split rows there (64 CTAs) or level (112).
// MEASURED (H200, session 18, call A; results/NOTES.md "Session 18, call A"): fp16 28672x16x8192 68.61 us, 1.012x
// cuSPARSELt fp16, 92.5% of the copy rate (s22 71.97); ncu 68.32 us against cuSPARSELt's 68.93 and s22's 72.99.
// Call F: in another process all three passes at that weight read 71.9 us (0.952x): a slow level set per process;
// call G: 68.0-68.6 us in six processes, 0.978-0.990x (cuSPARSELt 67.0-67.3 there). Level with it, not past it.
// The 8192-row weights were predicted wrong: 64 CTAs of whole tiles stream at 92.7% of the copy rate at
// 8192x16x28672 (68.42 us, 0.983x cuSPARSELt; s22's split 2 69.98) and 8192x16x8192 runs 1.026x cuSPARSELt; int8
// 8192x16x8192 15.74 us, 1.50x cuBLASLt int8. 4096x16x14336 (32 tiles, 32 CTAs) 1.38x s22's time: not its shape.
// 64-ROW ROWS (session 20; results/NOTES.md "Session 20: 64-row decode tiles ..." and calls A-D): BM = 64 with WM = 4,
// one consumer warpgroup per CTA (256 threads; the hand-off's slot is that warpgroup's accumulators), so a weight
// has twice the tiles: the 8192-row weights run 128 CTAs of whole tiles instead of 64. Measured (H200, N = 16):
// 8192x16x28672 -2.1% fp16 (67.01 us, 95.1% of the copy rate, 0.979x cuSPARSELt), -4.0% int8 (39.30 us, 1.706x
// cuBLASLt int8), -1.5% bf16; level at 28672x16x8192 and (between processes) at 8192x16x8192; slower at 14336x16x4096
// (+2.6% fp16, +5.3% int8: 224 tiles of 16 k-tiles on 132 CTAs, 132 of them cut and handed off, where 112 whole
// tiles of 128 rows cut none). In the band, 64 x 32 / 64 are the fastest rows at 8192x{32,64}x8192 (-0.5 to -3.8%);
// 64 x 128 was slower than the 128 x 128 rows everywhere it ran (one warpgroup waits for each batch with nothing
// else feeding the tensor pipe) and was removed.
// Preconditions: s22's (and s21's rule: K % BK == 0 for the wide k-tile). A plan's launches do not overlap (the
// slots and flags are the plan's); the flags start at zero (the registry zeroes the workspace once) and every
// launch leaves them at zero. sm_90a only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <type_traits>

#include "kernels/wgmma_sp/s19_streamk.cuh"
#include "kernels/wgmma_sp/s22_twosets.cuh"

namespace sparse24::wgmma_sp {

// s19's equal runs over min(SMs, tiles) CTAs: runs of at least one tile, so at most two pieces a tile. A piece's
// slice is 0 for the tile's first k-tiles (the end of CTA c's run) and 1 for its last (the start of CTA c + 1's);
// its split is its tile's piece count. No second launch: split_for is 1.
template <class TileT, int GROUP>
struct HandoffRunUnits : EqualRunUnits<TileT, GROUP> {
  using Base = EqualRunUnits<TileT, GROUP>;
  using typename Base::Units;
  static int ctas_for(const GemmArgs& a) {
    const int64_t tiles = Base::tiles_of(a);
    const int ctas = int(std::min<int64_t>(Base::sm_count(), tiles));
    if (EqualRuns{tiles, a.K / TileT::kBK, ctas}.max_pieces() > 2)
      throw std::logic_error("s23: runs of at least one tile meet at most two pieces a tile");
    return ctas;
  }
  template <class Kernel>
  static int split_for(const GemmArgs&) {
    return 1;
  }
  static int units(const GemmArgs& a, int) { return ctas_for(a); }
  static __device__ wgmma::Work work(const Units& u, int j) {
    wgmma::Work w = Base::work(u, j);
    w.split = int(EqualRuns{u.tiles, u.k_tiles, gridDim.x}.pieces_of_tile(w.cta_tile));
    return w;
  }
};

// The slots and flags of the plan's workspace: slot s holds what CTA s published (its first piece's accumulators,
// when that piece is a tile's second), as uint4 j of consumer thread t at (j x threads + t) (each 16-byte column of
// the slot contiguous over the threads); after the gridDim.x slots, one flag per slot and consumer warp.
template <class Tile>
struct Handoff {
  using Acc = typename Tile::Acc;
  static_assert(sizeof(Acc) == 4 && Tile::kAccRegs % 4 == 0, "f32 or int32 accumulators, whole uint4s");
  static constexpr int kThreads = 128 * Tile::kConsumers, kWarps = kThreads / 32, kVectors = Tile::kAccRegs / 4;
  static constexpr size_t kSlotBytes = size_t(kThreads) * Tile::kAccRegs * sizeof(Acc);
  static size_t workspace_bytes(int slots) { return size_t(slots) * (kSlotBytes + kWarps * sizeof(uint32_t)); }

  static __device__ __forceinline__ int thread_of(const wgmma::ConsumerThread& me) {
    return (me.warpgroup * 4 + me.warp) * 32 + me.lane;
  }
  static __device__ __forceinline__ uint4* vectors(const GemmArgs& args, int slot) {
    return reinterpret_cast<uint4*>(static_cast<uint8_t*>(args.workspace) + size_t(slot) * kSlotBytes);
  }
  static __device__ __forceinline__ uint32_t* flag(const GemmArgs& args, int slot, const wgmma::ConsumerThread& me) {
    return reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(args.workspace) + size_t(gridDim.x) * kSlotBytes) +
           slot * kWarps + me.warpgroup * 4 + me.warp;
  }
  static __device__ __forceinline__ uint32_t bits(float x) { return __float_as_uint(x); }
  static __device__ __forceinline__ uint32_t bits(int32_t x) { return uint32_t(x); }
  static __device__ __forceinline__ void add(float& a, uint32_t b) { a += __uint_as_float(b); }
  static __device__ __forceinline__ void add(int32_t& a, uint32_t b) { a += int32_t(b); }

  // A tile's second piece: the CTA's accumulators to its own slot, then each warp's flag.
  static __device__ __forceinline__ void publish(const Acc (&acc)[Tile::kAccRegs], const GemmArgs& args,
                                                 const wgmma::ConsumerThread& me) {
    uint4* to = vectors(args, blockIdx.x) + thread_of(me);
#pragma unroll
    for (int j = 0; j < kVectors; ++j)
      to[j * kThreads] = make_uint4(bits(acc[4 * j]), bits(acc[4 * j + 1]), bits(acc[4 * j + 2]), bits(acc[4 * j + 3]));
    __threadfence();  // each lane's stores GPU-visible before the warp's flag
    __syncwarp();
    if (me.lane == 0) ptx::st_release_gpu(flag(args, blockIdx.x, me), 1u);
  }
  // A tile's first piece (the CTA's last): wait for the flag of `slot` (here the next CTA's), issue the loads of the
  // slot, clear the flag.
  static __device__ __forceinline__ void fetch(uint4 (&seed)[kVectors], const GemmArgs& args,
                                               const wgmma::ConsumerThread& me, int slot) {
    uint32_t* f = flag(args, slot, me);
    while (ptx::ld_acquire_gpu(f) == 0u) {
    }
    load_and_clear(seed, args, me, slot, f);
  }
  // The slot's loads once every lane has seen its flag set, then the flag cleared for the next launch.
  static __device__ __forceinline__ void load_and_clear(uint4 (&seed)[kVectors], const GemmArgs& args,
                                                        const wgmma::ConsumerThread& me, int slot, uint32_t* f) {
    const uint4* from = vectors(args, slot) + thread_of(me);
#pragma unroll
    for (int j = 0; j < kVectors; ++j) seed[j] = __ldcg(from + j * kThreads);
    __syncwarp();  // every lane has seen the flag before it is cleared
    if (me.lane == 0) ptx::st_relaxed_gpu(f, 0u);  // relaxed: a release would wait for the loads above
  }
  static __device__ __forceinline__ void add_seed(Acc (&acc)[Tile::kAccRegs], const uint4 (&seed)[kVectors]) {
#pragma unroll
    for (int j = 0; j < kVectors; ++j) {
      add(acc[4 * j], seed[j].x);
      add(acc[4 * j + 1], seed[j].y);
      add(acc[4 * j + 2], seed[j].z);
      add(acc[4 * j + 3], seed[j].w);
    }
  }
};

// The k-loop of the base mainloop; on a tile's first piece, the second piece's sums fetched before it and added
// after it.
template <class BaseLoop>
struct HandoffMainloop : BaseLoop {
  using typename BaseLoop::Carried;
  using typename BaseLoop::Ring;
  using typename BaseLoop::Tile;
  using H = Handoff<Tile>;
  template <bool kSlicesMayBeEmpty>
  static __device__ __forceinline__ void consume(typename Tile::Acc (&acc)[Tile::kAccRegs], Carried& carried,
                                                 const GemmArgs& args, const wgmma::Work& w,
                                                 const typename Ring::Smem& ring, const uint8_t* ring_generic,
                                                 const wgmma::ConsumerThread& me, const wgmma::MetaLane& meta_lane,
                                                 int& it) {
    const bool seeded = w.split == 2 && w.slice == 0;
    uint4 seed[H::kVectors];
    if (seeded) H::fetch(seed, args, me, blockIdx.x + 1);
    BaseLoop::template consume<kSlicesMayBeEmpty>(acc, carried, args, w, ring, ring_generic, me, meta_lane, it);
    if (seeded) H::add_seed(acc, seed);
  }
};

// A tile's later pieces (here its second; s25_fanin's up to MAX_PIECES - 1) are published; every other piece (a
// whole tile, or a first piece with the others added) stores D through Next.
template <class Next>
struct HandoffEpilogue : Next {
  using Tile = typename Next::Tile;
  static size_t workspace_bytes(const GemmArgs&, int, int ctas) { return Handoff<Tile>::workspace_bytes(ctas); }
  template <class P>
  static void after_launch(const GemmArgs&, const P&, cudaStream_t) {}
  template <class P>
  static __device__ __forceinline__ void store(const typename Tile::Acc (&acc)[Tile::kAccRegs], const GemmArgs& args,
                                               const P& maps, const wgmma::Work& w, const wgmma::ConsumerThread& me,
                                               const wgmma::SharedBuffer& epi) {
    if (w.split > 1 && w.slice >= 1)
      Handoff<Tile>::publish(acc, args, me);
    else
      Next::store(acc, args, maps, w, me, epi);
  }
};

// s22's k-loop at 16 bits and int8; fp8 promotes each k-tile (s10's PromotingMainloop, s21's for e4m3).
template <class Ring>
using HandoffBaseLoop = std::conditional_t<Ring::Tile::Operands::kPromote, PromotingMainloop<Ring>,
                                           TwoSetInFlightMainloop<Ring>>;

// Arguments as s22's, without SPLIT (the runs decide): T (fp16, bf16, int8, e4m3), BM x BN x BK with BK the wide
// k-tile, WM x WN warps, STAGES, GROUP, Out.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, class Out = wgmma::Unscaled>
struct s23_handoff
    : wgmma::Kernel<s23_handoff<T, BM, BN, BK, WM, WN, STAGES, GROUP, Out>,
                    HandoffMainloop<HandoffBaseLoop<wgmma::StageRing<
                        SparseTile<T, BM, BN, BK, WM, WN, Out>, LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN, Out>>,
                        STAGES>>>,
                    HandoffRunUnits<SparseTile<T, BM, BN, BK, WM, WN, Out>, GROUP>,
                    HandoffEpilogue<RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN, Out>>>> {
  using Tile = SparseTile<T, BM, BN, BK, WM, WN, Out>;
  static_assert(Tile::kARowBytes == 128 && Tile::kBPanels == 2, "s21's wide k-tile");
  static_assert(T == DType::fp16 || T == DType::bf16 || T == DType::int8 || T == DType::e4m3,
                "fp16, bf16, int8 or e4m3 (s21's types)");
  static_assert((BM == 128 || BM == 64) && (BN == 16 || BN == 32 || BN == 64 || BN == 128),
                "s21's tiles, at 128 rows or at 64 (one consumer warpgroup: the header's 64-row rows)");
  static_assert(WM * 16 == BM, "one consumer warpgroup (four warps) per 64 rows");
};

}  // namespace sparse24::wgmma_sp
