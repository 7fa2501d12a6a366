// wgmma_sp step 29, "colpairsum": s28's split-2 sum in registers with the tile halved by columns instead of rows, so
// that every consumer warpgroup of both CTAs sends a quarter of the tile's sums and sums and stores another.
//
// What it adds over s28_pairsum: which half of the tile a CTA writes. s28 gives CTA r the rows of consumer r, so in
// each CTA one consumer warpgroup sends all 64 of its accumulators per thread and then has nothing to do, while the
// other receives 64, adds them and stores its 64 rows x BN columns of D alone (session 21, call C: level with s27 at
// 8192x128x8192, where the prediction had s28 0.7-1.1 us faster; that imbalance was not priced). Here CTA r writes
// columns [r BN / 2, (r + 1) BN / 2) of all BM rows. Consumer c of CTA r holds rows 64 c..64 c + 63 of every column
// of its slice; it sends the accumulators of the other CTA's columns (BN / 16 m16n8 tiles, 4 registers each) to
// consumer c's slot in that CTA's ring, and after the barrier adds the peer's sums of its own columns to its
// registers, (0 + s0) + s1 in slice order, and stores those tiles through store_acc_m16n8 (s02's RegisterEpilogue
// store, so the same bits as s22 / s27 / s28 at split 2). Per CTA the bytes through the cluster are s28's (32 KB at
// 128 x 128); per consumer thread half of s28's sender's stores, half of its receiver's sums and stores.
// Slot layout in the receiver's ring: consumer c, chunk j (its j-th m16n8 tile of the half), thread t at
// ((c x BN / 16 + j) x 128 + t) x 16 bytes: a warp's 32 stores or loads are 512 contiguous bytes.
// PREDICTION (H200, same run as s27 / s28; results/NOTES.md "Session 21: wgmma_sp.s29_colpairsum (prediction)"):
// the sum's critical path halves again (the last consumer to finish sums 32 registers, not 64, and stores half the
// columns): 0.3-0.8 us under s28 at 8192x128x8192 (fp16 / bf16 ~28.7-29.2 us) and at 4096x256x14336.
// MEASURED (H200, session 21 call E; results/NOTES.md "Session 21, call E, measured"): against s28 -0.29 us (fp16
// 8192x128x8192, 29.28 us), -0.99 (bf16, 28.61), -0.54 (fp16 4096x256x14336, 35.33), +0.16 (bf16 there): in or near
// the range at three cells, level at one; 0.8-1.6 us (2.7-3.7%) under s27's staged sum on all four.
// Preconditions: s28's. sm_90a only.
#pragma once

#include <type_traits>

#include "kernels/common/epilogue.cuh"
#include "kernels/wgmma_sp/s28_pairsum.cuh"

namespace sparse24::wgmma_sp {

// s17's ClusterSumEpilogue with the split-2 sum of a tile halved by columns (the header); every other split is the
// base's.
template <class RingT, class Next>
struct ColumnPairSumEpilogue : ClusterSumEpilogue<RingT, Next> {
  using Base = ClusterSumEpilogue<RingT, Next>;
  using typename Base::Acc;
  using typename Base::Ring;
  using typename Base::Tile;
  static_assert(std::is_same_v<Acc, float> && !Tile::Operands::kHasScales && Tile::kD != DType::int32,
                "f32 sums into an unscaled floating-point D (the 16-bit rows): store_acc_m16n8's store");
  static constexpr int kTiles = Tile::kBN / 8;  // m16n8 tiles of a consumer thread's accumulators
  static constexpr int kHalf = kTiles / 2;      // ... in one CTA's half of the columns
  static_assert(kTiles % 2 == 0, "whole m16n8 tiles in each half");
  static_assert(Tile::kConsumers * kHalf * 128 * 16 <= Ring::kBytes, "every consumer's slot fits in the ring");

  template <class P>
  static __device__ __forceinline__ void store(const Acc (&acc)[Tile::kAccRegs], const GemmArgs& args, const P& maps,
                                               const wgmma::Work& w, const wgmma::ConsumerThread& me,
                                               const wgmma::SharedBuffer& epi) {
    if (w.split != 2) {
      Base::store(acc, args, maps, w, me, epi);
      return;
    }
    // The halves by compile-time index: a run-time index into acc would put the accumulators in local memory
    // (ptxas: a 256-byte stack frame, and every wgmma serialized).
    if (w.slice == 0)
      sum_half<0>(acc, args, w, me, epi);
    else
      sum_half<1>(acc, args, w, me, epi);
  }

  // The header's steps 1-4 for the CTA of slice kSlice, which writes columns [kSlice BN / 2, (kSlice + 1) BN / 2).
  template <int kSlice>
  static __device__ __forceinline__ void sum_half(const Acc (&acc)[Tile::kAccRegs], const GemmArgs& args,
                                                  const wgmma::Work& w, const wgmma::ConsumerThread& me,
                                                  const wgmma::SharedBuffer& epi) {
    constexpr int kMine = kSlice * kHalf, kTheirs = (1 - kSlice) * kHalf;  // first m16n8 tile of each half
    // The ring ends where the epilogue's buffer starts (kernel.cuh's layout; s27 asserts it).
    const uint32_t staged = epi.addr - Ring::kBytes;
    const float4* const staged_generic = reinterpret_cast<const float4*>(epi.generic - Ring::kBytes);
    const int t = me.warp * 32 + me.lane;  // the thread within its consumer warpgroup
    const int slot = me.consumer * kHalf;  // this consumer's first chunk in a ring's slots

    // 1. Both CTAs' consumers are past their rings (every wgmma retired: the mainloop ends with wait_group 0).
    ptx::cluster_sync();
    // 2. The other CTA's columns, to this consumer's slot in its ring.
    const uint32_t peer = ptx::mapa_shared_cluster(staged, uint32_t(1 - kSlice));
#pragma unroll
    for (int j = 0; j < kHalf; ++j) {
      const float v[4] = {acc[4 * (kTheirs + j)], acc[4 * (kTheirs + j) + 1], acc[4 * (kTheirs + j) + 2],
                          acc[4 * (kTheirs + j) + 3]};
      ptx::st_shared_cluster_v4(peer + uint32_t(((slot + j) * 128 + t) * 16), v);
    }
    // 3. Every sent quarter is visible to its receiver.
    ptx::cluster_sync();
    // 4. This CTA's columns: (0 + s0) + s1, s0 being slice 0's partial (this CTA's own at slice 0), then D.
    using E = Elem<Tile::kD>;
    const int row0 = w.o.m + me.consumer * Tile::Instr::kM + me.warp * Tile::kWarpRows;
#pragma unroll
    for (int j = 0; j < kHalf; ++j) {
      const float4 p = staged_generic[(slot + j) * 128 + t];
      const float peer_sum[4] = {p.x, p.y, p.z, p.w};
      float sum[4];
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const float own = acc[4 * (kMine + j) + c];
        sum[c] = kSlice == 0 ? __fadd_rn(__fadd_rn(0.0f, own), peer_sum[c])
                             : __fadd_rn(__fadd_rn(0.0f, peer_sum[c]), own);
      }
      store_acc_m16n8<Tile::kD>(sum, row0, w.o.n + (kMine + j) * 8, args.M, args.N,
                                static_cast<typename E::type*>(args.d), args.ldd,
                                static_cast<const typename E::type*>(args.c), args.ldc, args.alpha, args.beta);
    }
  }
};

// Arguments as s27's (the tile's sums unscaled: Out = Unscaled).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int SPLIT>
struct s29_colpairsum
    : WideClusterKernel<s29_colpairsum<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT>, T, BM, BN, BK, WM, WN, STAGES,
                        GROUP, SPLIT, wgmma::Unscaled, ColumnPairSumEpilogue> {
  static_assert(BM == 128 && (BN == 64 || BN == 128), "s28's band tiles, two consumer warpgroups");
};

}  // namespace sparse24::wgmma_sp
