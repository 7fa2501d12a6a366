// wgmma_sp step 06, "tmastore": s05's persistent clusters, with D written through shared memory and TMA stores.
//
// What it adds over s05_persistent: ncu at 8192^3 (results/NOTES.md, session 4; run 2026-11-22_5b978f3, prof/)
// puts cuSPARSELt's kernel beside s05: the same instruction, CTA shape, cluster and registers, 14% fewer cycles,
// and D written through shared memory (4.36 M L2 sectors written for D's 4.19 M) where s05 writes 4-byte pairs from
// registers that touch every sector twice (8.39 M). Here each consumer warpgroup writes its 64 x 256 tile in four
// 64 x 64 slabs: alpha-scaled accumulators into an 8 KB slab in 128-byte swizzle (conflict-free: a warp's stores
// cover 8 rows x one 16-byte chunk, every chunk in another bank group), a fence to the async proxy, and one
// thread's cp.async.bulk.tensor store of the slab; the next slab waits only until the previous store has READ its
// shared memory (cp.async.bulk.wait_group.read), so the global writes overlap the next slab, the next tile's first
// wgmma and the producer's loads. Full 16-byte pieces reach L2, and the consumers spend fewer instructions on
// the epilogue (no address arithmetic or bounds checks per element: the TMA clips rows past M, columns past N).
// When beta != 0 (C must be read) or D's rows are not 16-byte aligned (odd N), prepare() keeps s05's epilogue.
//
// This step defines TmaStoreEpilogue (with s02's RegisterEpilogue as its fallback, by name); the mainloop is s05's
// (s04's), the scheduler s05's, or s04's when PERSISTENT = false.
// Shared memory: s05's ring (5 x 41 KB) + 2 slabs of 8 KB = 222 KB of the 227 KB a block may have.
// Preconditions, layouts: as s05. The TMA store's own one-box test is in tests/gpu/test_wgmma_instructions_gpu.cu.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 1002.1 TFLOP/s = 106% of the mma.sp m16n8k32 loop (948), 1.47x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_731aa7e).
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/common/fragments.h"
#include "kernels/wgmma_sp/s05_persistent.cuh"

namespace sparse24::wgmma_sp {

// D through shared memory and TMA stores: per consumer warpgroup one slab of 64 rows x kEpiCols columns of D
// (one 128-byte swizzle row per row of D, one TMA box), in the kernel's shared memory after the ring. prepare()
// decides per problem: TMA writes whole 16-byte pieces at 16-byte aligned addresses and cannot add beta * C, so
// with beta != 0 or unaligned D the registers' epilogue (s02's) runs instead.
template <class TileT>
struct TmaStoreEpilogue : RegisterEpilogue<TileT> {
  using Tile = TileT;
  static_assert(Tile::kD == Tile::T && !Tile::Operands::kHasScales,
                "the TMA store stages D in the input type, unscaled: 16-bit operands only so far");
  using Fallback = RegisterEpilogue<TileT>;
  using Instr = typename Tile::Instr;
  static constexpr int kDBytes = bytes_of(Tile::Operands::kTypes.d);
  static constexpr int kSlabRowBytes = 128;                   // one 128-byte swizzle row per row of D
  static constexpr int kEpiCols = kSlabRowBytes / kDBytes;    // 64 columns of 16-bit D
  static constexpr int kEpiSlabBytes = Instr::kM * kSlabRowBytes;  // 8 KB
  static constexpr int kSmemBytes = Tile::kConsumers * kEpiSlabBytes;
  static_assert(Tile::kBN % kEpiCols == 0, "the TMA-store epilogue writes whole 64-column slabs");

  template <class Base>
  struct Params : Base {
    CUtensorMap d;
    int tma_store;  // 1: the epilogue stores D with TMA (beta = 0, 16-byte aligned rows); 0: from registers
  };
  template <class P>
  static void encode(P& lp, const GemmArgs& a) {
    const bool aligned = reinterpret_cast<uintptr_t>(a.d) % 16 == 0 && (a.ldd * kDBytes) % 16 == 0;
    lp.tma_store = a.beta == 0.0f && aligned;
    if (lp.tma_store)
      lp.d = tma::encode_2d(a.d, kDBytes, a.M, a.N, a.ldd * kDBytes, Instr::kM, kEpiCols, tma::Swizzle::B128);
  }

  template <class P>
  static __device__ __forceinline__ void store(const float (&acc)[Tile::kAccRegs], const GemmArgs& args, const P& maps,
                               const wgmma::Work& w, const wgmma::ConsumerThread& me, const wgmma::SharedBuffer& epi) {
    if (maps.tma_store)
      store_tile_tma(acc, args, maps, w.o, me.consumer, epi.addr + me.consumer * kEpiSlabBytes,
                     epi.generic + me.consumer * kEpiSlabBytes);
    else
      Fallback::store(acc, args, maps, w, me, epi);
  }

  // The last TMA stores must have read their slabs (and written D) before the CTA's shared memory goes.
  static __device__ __forceinline__ void finish() {
    if (threadIdx.x % 128 == 0) ptx::bulk_wait_group<0>();
  }

  // One consumer warpgroup: its 64 x BN tile of D in 64-column slabs through its shared-memory slab. Per slab: the
  // leader waits until the previous TMA store has read the slab (bulk_wait_group_read), the warpgroup meets (named
  // barrier 1 + consumer), every thread writes its alpha-scaled accumulators as 16-bit pairs, fences them to the
  // async proxy, the warpgroup meets again and the leader issues the TMA store. The slab is in 128-byte swizzle
  // (16-byte chunk c of row r at c ^ r % 8), so a warp's 32 four-byte stores (8 rows x one 16-byte chunk) land in
  // 32 different banks. Rows past M and columns past N are clipped by the TMA store; whole slabs past them are
  // skipped (uniformly across the warpgroup).
  template <class P>
  static __device__ void store_tile_tma(const float (&acc)[Tile::kAccRegs], const GemmArgs& args, const P& maps,
                                        BlockCoord o, int consumer, uint32_t slab, uint8_t* slab_generic) {
    using E = Elem<Tile::T>;
    const int warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
    const bool leader = threadIdx.x % 128 == 0;
    const int row0 = o.m + consumer * Instr::kM;
    if (row0 >= args.M) return;
#pragma unroll
    for (int j = 0; j < Tile::kBN / kEpiCols; ++j) {
      const int col0 = o.n + j * kEpiCols;
      if (col0 >= args.N) break;
      if (leader) ptx::bulk_wait_group_read<0>();
      ptx::named_barrier_sync(1 + consumer, 128);
#pragma unroll
      for (int t = 0; t < kEpiCols / 8; ++t)
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const frag::RowCol rc = frag::acc_m16n8(lane, 2 * half);
          const int row = warp * Tile::kWarpRows + rc.row, byte = (t * 8 + rc.col) * kDBytes;
          const int at = row * kSlabRowBytes + (((byte / 16) ^ (row % 8)) * 16) + byte % 16;
          const float* v = &acc[4 * (j * (kEpiCols / 8) + t) + 2 * half];
          *reinterpret_cast<typename E::type2*>(slab_generic + at) =
              E::from_float2(args.alpha * v[0], args.alpha * v[1]);
        }
      ptx::fence_proxy_async_shared();
      ptx::named_barrier_sync(1 + consumer, 128);
      if (leader) {
        ptx::tma_store_2d(&maps.d, slab, col0, row0);
        ptx::bulk_commit_group();
      }
    }
  }
};

// PERSISTENT = false: the same epilogue on s04's one-CTA-per-tile grid (at 16384^3 s04 beats s05: the persistent
// clusters drift apart, results/NOTES.md).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          bool PERSISTENT = true>
struct s06_tmastore
    : wgmma::Kernel<s06_tmastore<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PERSISTENT>,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>::Mainloop,
                    typename std::conditional_t<
                        PERSISTENT, s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>,
                        s04_multicast<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER>>::Scheduler,
                    TmaStoreEpilogue<SparseTile<T, BM, BN, BK, WM, WN>>> {};

}  // namespace sparse24::wgmma_sp
