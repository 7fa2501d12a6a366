// wgmma_sp step 28, "pairsum": s27's cluster of two K slices with the pair's sum done in registers: each consumer
// warpgroup that holds the half of the tile its own CTA writes keeps it in its accumulators, and the other sends its
// half to the peer CTA once, through DSMEM stores.
//
// What it adds over s27_wideclustersum: the sum of a split-2 tile. s17's ClusterSumEpilogue (s27's) stages every
// accumulator of both CTAs in their own shared memory, and after a cluster barrier each CTA sums its band of rows
// by loading both slices' copies (its own and its peer's: 16-byte ld.shared::cluster), then writes D element by
// element. With two slices and two consumer warpgroups, CTA r's band is exactly consumer r's 64 rows, which consumer
// r of CTA r already holds in registers, in the fragment layout that the register epilogue stores from. So here:
//   1. cluster barrier: both CTAs' consumers are past their rings (the receiver's ring is about to be written);
//   2. consumer c of CTA r != c (the sender) stores its accumulators into CTA c's ring, thread t's four-register
//      chunk j at (j x 128 + t) x 16 bytes (a warp's 32 stores are 512 contiguous bytes);
//   3. cluster barrier (release / acquire): the halves are visible to their receivers; the senders are done;
//   4. consumer r of CTA r (the receiver) loads the same chunks from its own shared memory, adds them to its
//      registers in slice order from zero, (0 + s0) + s1 (s22's reduction's order and start, so the same bits as
//      s22 and s27 at split 2), and stores D through s02's RegisterEpilogue (two-element stores of each fragment).
// Against s27's sum: half the bytes through the cluster (32 KB stored per CTA at 128 x 128 instead of 64 KB staged
// and 64 KB loaded, half of it from the peer), no staging of the receiver's own half, and D stored from fragments
// in pairs instead of one element at a time from the staged rows. Every other split (the cluster rule may take 3 or
// 4 where the tiles are few) and the 1-consumer tiles keep s27's ClusterSumEpilogue.
//
// Why (results/NOTES.md "Session 21, call A, measured"): under ncu at fp16 8192x128x8192 s27's kernel ran 28.96 us,
// s22's GEMM kernel without its reduction 26.82: s17's sum costs ~2.1 us of a ~29 us kernel, and that cell passes
// 1.3x cuBLAS by 0.1-1% (calls A and B).
// PREDICTION (H200, same run as s27 / s22; results/NOTES.md "Session 21: wgmma_sp.s28_pairsum (prediction)"): the
// sum's ~2.1 us falls to 1.0-1.4 us, so s28 is 0.7-1.1 us under s27 at 8192x128x8192 (28.6-29.0 us, 1.34-1.36x
// cuBLAS) and at 4096x256x14336, level with it wherever the split is not 2.
// MEASURED (H200, session 21 call C; results/NOTES.md "Session 21, call C, measured"): level with s27 at
// 8192x128x8192 in both types (fp16 29.50 against 29.54 us; the prediction was wrong at the cell it was made for),
// 1.6 us faster at fp16 4096x256x14336 (36.29 us, 1.434x cuBLAS; bf16 0.3 us), 1.3 us at 128 x 64 on 8192x64x8192.
// Not priced in the prediction: one consumer warpgroup per CTA sums and stores the whole band while the other
// idles, and the second barrier's release waits for the sender's remote stores.
// Preconditions: s27's. 16-bit only (f32 accumulators, unscaled D). sm_90a only.
#pragma once

#include <type_traits>

#include "kernels/wgmma_sp/s27_wideclustersum.cuh"

namespace sparse24::wgmma_sp {

// s17's ClusterSumEpilogue with the split-2 sum of a two-consumer tile in registers (the header's steps 1-4); every
// other split is the base's.
template <class RingT, class Next>
struct PairSumEpilogue : ClusterSumEpilogue<RingT, Next> {
  using Base = ClusterSumEpilogue<RingT, Next>;
  using typename Base::Acc;
  using typename Base::Ring;
  using typename Base::Tile;
  static_assert(std::is_same_v<Acc, float> && !Tile::Operands::kHasScales,
                "f32 sums into an unscaled D (the 16-bit rows): Next's store is then splitk's store_sum");
  static constexpr int kChunks = Tile::kAccRegs / 4;  // four-register chunks a consumer thread sends
  static_assert(Tile::kAccRegs % 4 == 0, "whole 16-byte chunks");
  static_assert(128 * Tile::kAccRegs * 4 <= Ring::kBytes, "one consumer's accumulators fit in the receiver's ring");

  template <class P>
  static __device__ __forceinline__ void store(const Acc (&acc)[Tile::kAccRegs], const GemmArgs& args, const P& maps,
                                               const wgmma::Work& w, const wgmma::ConsumerThread& me,
                                               const wgmma::SharedBuffer& epi) {
    if (w.split != 2 || Tile::kConsumers != 2) {
      Base::store(acc, args, maps, w, me, epi);
      return;
    }
    // The ring ends where the epilogue's buffer starts (kernel.cuh's layout; s27 asserts it).
    const uint32_t staged = epi.addr - Ring::kBytes;
    const float4* const staged_generic = reinterpret_cast<const float4*>(epi.generic - Ring::kBytes);
    const int t = me.warp * 32 + me.lane;  // the thread within its consumer warpgroup
    const bool receiver = me.consumer == w.slice;

    // 1. Both CTAs' consumers are past their rings (every wgmma retired: the mainloop ends with wait_group 0).
    ptx::cluster_sync();
    // 2. The sender's half, to the CTA whose band it is (rank = this consumer's index).
    if (!receiver) {
      const uint32_t peer = ptx::mapa_shared_cluster(staged, uint32_t(me.consumer));
#pragma unroll
      for (int j = 0; j < kChunks; ++j) {
        const float v[4] = {acc[4 * j], acc[4 * j + 1], acc[4 * j + 2], acc[4 * j + 3]};
        ptx::st_shared_cluster_v4(peer + uint32_t((j * 128 + t) * 16), v);
      }
    }
    // 3. Every sent half is visible to its receiver.
    ptx::cluster_sync();
    if (!receiver) return;
    // 4. (0 + s0) + s1, s0 being slice 0's partial: this CTA's own (rank 0) or the peer's (rank 1).
    Acc sum[Tile::kAccRegs];
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const float4 p = staged_generic[j * 128 + t];
      const float peer[4] = {p.x, p.y, p.z, p.w};
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const float mine = acc[4 * j + c];
        const float s0 = w.slice == 0 ? mine : peer[c], s1 = w.slice == 0 ? peer[c] : mine;
        sum[4 * j + c] = __fadd_rn(__fadd_rn(0.0f, s0), s1);
      }
    }
    Next::store(sum, args, maps, w, me, epi);
  }
};

// Arguments as s27's (the tile's sums unscaled: Out = Unscaled).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int SPLIT>
struct s28_pairsum
    : WideClusterKernel<s28_pairsum<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT>, T, BM, BN, BK, WM, WN, STAGES, GROUP,
                        SPLIT, wgmma::Unscaled, PairSumEpilogue> {
  static_assert(BM == 128 && (BN == 64 || BN == 128), "s27's band tiles, two consumer warpgroups");
};

}  // namespace sparse24::wgmma_sp
