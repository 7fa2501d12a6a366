// wgmma_sp step 10, "promote": s05's persistent clusters for fp8 inputs, each k-tile's sum promoted into f32
// registers.
//
// What it adds over s05_persistent: fp8 inputs. The fp8 wgmma forms (dense and sparse) do not keep an f32 running
// sum: tests/gpu/test_wgmma_8bit_gpu.cu's accumulation probe measures about 14 bits kept (bf16 control: 24), so a
// sum over all of K in the instruction's accumulator loses the low bits of every partial sum past 2^14 times the
// smallest term (docs/sparse-tensor-cores.md §9). Here a consumer's wgmma batch of one k-tile (BK = 128 dense k: two
// m64nNk64 sparse or four m64nNk32 dense instructions) starts from zero (the first instruction's scale-d is false)
// into `part`, and after the batch retires the consumer adds `part` into its f32 accumulators: the instruction
// sums at most 128 products, every k-tile's partial sum is promoted once, as DeepGEMM does for dense fp8 every 128
// K. With small-integer inputs a k-tile's sum stays below 2^14 (exact), and the f32 sum of the k-tiles is exact
// below 2^24: the harness's exact check holds.
// The cost: twice the accumulator registers (so BN = 128: 64 + 64 per consumer thread; BN = 256 would need 256) and
// kAccRegs FADDs per consumer thread and k-tile, which the other consumer's batch hides; and the batch is waited
// for at every k-tile (s02's rhythm, not s03's batch in flight: keeping one in flight would need a second `part`).
//
// This step defines PromotingMainloop (s02's TmaMainloop: its producer, metadata read and batch issue, by name, with
// this consumer k-loop); the ring, cluster and epilogue are s04's, the scheduler s05's. The other mainloops refuse
// fp8 operands at compile time (SparseOperands::kPromote).
//
// Preconditions, layouts: as s02_tma with the 8-bit geometry (operands.cuh: BK = 128 values, 128 bytes of B per row;
// metadata in format::MetaLayout::LaneBlocks8: M % 16 == 0). sm_90a only.
#pragma once

#include "kernels/wgmma_sp/s05_persistent.cuh"

namespace sparse24::wgmma_sp {

template <class RingT>
struct PromotingMainloop : TmaMainloop<RingT> {
  using Base = TmaMainloop<RingT>;
  using typename Base::Meta;
  using typename Base::Ring;
  using typename Base::Tile;
  static constexpr int kStages = Ring::kStages;
  static_assert(std::is_same_v<typename Tile::Acc, float>, "promotion is into f32 registers");
  static_assert(2 * Tile::kAccRegs <= 128, "the k-tile's sums and the promoted ones: at most 128 registers");

  struct Carried {};

  template <bool kSlicesMayBeEmpty>
  static __device__ __forceinline__ void consume(float (&acc)[Tile::kAccRegs], Carried&, const GemmArgs& args,
                                                 const wgmma::Work& w, const typename Ring::Smem& ring,
                                                 const uint8_t* ring_generic, const wgmma::ConsumerThread& me,
                                                 const wgmma::MetaLane& meta_lane, int& it) {
    const bool valid = Meta::valid(meta_lane, w.o.m, args.M);
#pragma unroll
    for (int i = 0; i < Tile::kAccRegs; ++i) acc[i] = 0.0f;
    for (int kt = w.k.begin; kt < w.k.end; ++kt, ++it) {
      const int s = it % kStages;
      const uint32_t stage = ring.stage(s);
      ptx::mbarrier_wait(ring.full_bar(s), (it / kStages) & 1);
      uint32_t e[Meta::kRegs] = {};
      Base::read_metadata(e, ring_generic, s, meta_lane, valid);
      float part[Tile::kAccRegs];  // written, not read, by the batch's first instruction (scale-d false)
      Base::template issue<true>(part, stage, me.consumer, e);
      ptx::wgmma_wait_group<0>();
      ptx::fence_registers(part);
      if (me.lane == 0) Ring::release(ring.empty_bar(s));
#pragma unroll
      for (int i = 0; i < Tile::kAccRegs; ++i) acc[i] += part[i];
    }
  }
};

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          class Out = wgmma::Unscaled>
struct s10_promote
    : wgmma::Kernel<s10_promote<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>,
                    PromotingMainloop<typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER,
                                                              Out>::Ring>,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Scheduler,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Epilogue> {};

}  // namespace sparse24::wgmma_sp
