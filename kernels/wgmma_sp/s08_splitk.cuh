// wgmma_sp step 08, "splitk": s06's non-persistent clusters (s04's grid, D through TMA stores) with K cut into
// slices computed by different clusters, their f32 partials summed by a deterministic reduction.
//
// What it adds over s06_tmastore: a unit of work is a (cluster tile, K slice) pair, unit = slice x tiles + tile, so
// the clusters that run at the same time read the same slice of B. Each slice is a run of whole BK tiles
// (splitk::slice_of: sizes differ by at most one); the producer loads only the slice's k-tiles and the consumers
// run the same ring over them. With one slice the epilogue is s06's (D directly); with more, each consumer warp
// writes its accumulators unscaled to partials[slice] (f32, the plan's workspace) and splitk::reduce, a second
// launch, sums the slices in the fixed order 0, 1, ... and applies alpha, beta and C: the same bits run to run for
// a given split (the mma_sp and skinny split-K steps share that code, kernels/common/splitk.cuh). SPLIT = 0 lets
// prepare() choose with splitk::choose_split_compute (wave quantization against the partials' DRAM traffic, at the
// wgmma rate, one CTA per SM).
//
// Why: a GEMM whose tiles do not fill the GPU, above all the decode shape 4096 x 128 x 14336 (32 row blocks of 128
// for 132 SMs: a quarter of the tensor cores idle, 0.81x cuBLAS with the best earlier step, results/NOTES.md). With
// split 4 it becomes 128 CTAs of 56 k-tiles each, at the cost of 8 MB of partials and a second launch.
// Where it does not help: shapes of several full waves (8192^3 has 2048 tiles): the choice is 1 there.
//
// This step defines SplitKUnits (s02's OneTilePerCta over (tile, slice) units: no persistence, and s02's
// LaneBlocks16, not s07's layout: the ladder branches here from s06 on s04's grid), PartialsEpilogue (the partials
// when split > 1, else the epilogue it wraps: s06's TmaStoreEpilogue) and SecondLaunchReduction; the mainloop is
// s06's on s04's grid, by name.
// Preconditions: s06's (M % 32 == 0, K % 64 == 0, any N >= 1, 16-byte aligned operands and rows); SPLIT in 0..32
// (a slice is empty when SPLIT exceeds the k-tiles: its CTAs load nothing and write zero partials).
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 939.2 TFLOP/s = 99% of the mma.sp m16n8k32 loop (950), 1.36x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_3157a7e).
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/common/splitk.cuh"
#include "kernels/wgmma_sp/s06_tmastore.cuh"

namespace sparse24::wgmma_sp {

// Units of work = (cluster tile, K slice) pairs, unit = slice x tiles + tile, in OneTilePerCta's grid (a 2-D grid
// takes the slices as z; with clusters the grid is 1-D). SPLIT: 0 (chosen in prepare()), 1 (none) or 2..kMaxSplit
// slices; the kernel's parameters carry the chosen count.
template <class TileT, int GROUP, class Cluster, int SPLIT>
struct SplitKUnits : OneTilePerCta<TileT, GROUP, Cluster> {
  using Base = OneTilePerCta<TileT, GROUP, Cluster>;
  using Base::kBM;
  using Base::kBN;
  using Base::kClusterM;
  using typename Base::Units;
  using Tile = TileT;
  static constexpr int kSplit = SPLIT;
  static_assert(SPLIT >= 0 && SPLIT <= splitk::kMaxSplit, "SPLIT: 0 (automatic), 1 (none) or 2..kMaxSplit slices");
  static constexpr bool kSlicesMayBeEmpty = true;  // more slices than k-tiles leave some empty

  template <class B>
  struct Params : B {
    int split;  // slices of K (1: D written directly)
  };
  template <class P>
  static void encode(P& lp, int split) {
    lp.split = split;
  }
  static void add_params(sparse24::Params& p) {
    if (kSplit != 1) p.push_back({"split_k", kSplit});
  }

  // The split factor for this problem on the current GPU: SPLIT, or splitk::choose_split_compute's choice when
  // SPLIT == 0, with the kernel's CTAs per SM and the wgmma rate (kWgmmaDenseFlopsPerClkSm, twice that when sparse).
  template <class Kernel>
  static int split_for(const GemmArgs& a) {
    if (kSplit > 0) return kSplit;
    int device = 0, sms = 0, sm_khz = 0, mem_khz = 0, bus_bits = 0;
    SPARSE24_CUDA_CHECK(cudaGetDevice(&device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
    const double dram_bytes_per_s = 2.0 * mem_khz * 1e3 * bus_bits / 8;
    const double rate = splitk::kWgmmaDenseFlopsPerClkSm * Tile::Operands::kRateVsDense;
    const int64_t tiles = int64_t((a.M + kBM - 1) / kBM) * ((a.N + kBN - 1) / kBN);
    constexpr int kPerSm = Kernel::kMinBlocksPerSm;
    return splitk::choose_split_compute(
        static_cast<int>(std::min<int64_t>(tiles, INT32_MAX)), a.K / Tile::kBK, sms * kPerSm, a.M, a.N,
        bytes_of(Tile::Operands::kTypes.d),
        splitk::round_bytes(2.0 * kBM * kBN * Tile::kBK, kPerSm, rate, sm_khz * 1e3, dram_bytes_per_s));
  }

  template <class P>
  static __device__ __forceinline__ Units units_of(const GemmArgs& args, const P& maps) {
    Units u = Base::units_of(args, maps);
    u.split = maps.split;
    u.units = u.tiles * u.split;
    return u;
  }
  static __device__ __forceinline__ int first(const Units&) {
    return kClusterM == 1 ? int((blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x)
                          : int(blockIdx.x) / kClusterM;
  }
  // Unit = slice x tiles + tile: the units that run together share their slice of B.
  static __device__ BlockCoord origin(const Units& u, int unit) {
    const BlockCoord c = grouped_block<GROUP / kClusterM>(unit % u.tiles, u.unit_rows, u.grid_n);
    return BlockCoord{(c.m * kClusterM + int(u.rank)) * kBM, c.n * kBN};
  }
  static __device__ splitk::Slice slice(const Units& u, int unit) {
    return splitk::slice_of(unit / u.tiles, u.split, u.k_tiles);
  }
  static __device__ __forceinline__ wgmma::Work work(const Units& u, int unit) {
    return {origin(u, unit), slice(u, unit), unit / u.tiles, u.split, (unit % u.tiles) * kClusterM + int(u.rank)};
  }
};

// With more than one slice, each consumer warp writes its accumulators unscaled to partials[slice] (the plan's
// workspace; zeros for an empty slice) and Reduction sums the slices; with one, Next (the epilogue it wraps) writes
// D. The partials have the accumulators' type: f32 (16-bit inputs; fp8, whose f32 registers are the promoted sums
// of s10's mainloop) or int32 (int8's s32 accumulation, summed exactly: splitk::reduce<DType::int32>). The partials
// are unscaled; a scaled product (ScaledTo<D>) needs a Reduction that applies the scales (kAppliesScales).
template <class R, class = void>
struct reduction_applies_scales : std::false_type {};
template <class R>
struct reduction_applies_scales<R, std::void_t<decltype(R::kAppliesScales)>> : std::bool_constant<R::kAppliesScales> {};

template <class Next, class Reduction>
struct PartialsEpilogue {
  using Tile = typename Next::Tile;
  using Acc = typename Tile::Acc;
  static_assert(std::is_same_v<Acc, float> || std::is_same_v<Acc, int32_t>, "f32 or int32 partials");
  static_assert(!Tile::Operands::kHasScales || reduction_applies_scales<Reduction>::value,
                "the partials are unscaled: a scaled product needs a reduction that applies the scales");
  using Wrapped = Next;
  static constexpr int kSmemBytes = Next::kSmemBytes;
  template <class Base>
  using Params = typename Next::template Params<Base>;
  template <class P>
  static void encode(P& lp, const GemmArgs& a) {
    Next::encode(lp, a);
  }
  static size_t workspace_bytes(const GemmArgs& a, int split, int cta_tiles) {
    return Reduction::workspace_bytes(a, split, cta_tiles);
  }
  template <class P>
  static void after_launch(const GemmArgs& args, const P& lp, cudaStream_t stream) {
    Reduction::after_launch(args, lp, stream);
  }

  template <class P>
  static __device__ __forceinline__ void store(const Acc (&acc)[Tile::kAccRegs], const GemmArgs& args, const P& maps,
                               const wgmma::Work& w, const wgmma::ConsumerThread& me, const wgmma::SharedBuffer& epi) {
    if (w.split > 1) {
      splitk::store_warp_partials(*reinterpret_cast<const Acc(*)[1][Tile::kBN / 8][4]>(acc),
                                  w.o.m + me.consumer * Tile::Instr::kM + me.warp * Tile::kWarpRows, w.o.n, args,
                                  w.slice);
      Reduction::after_partials(args, w, epi);
    } else {
      Next::store(acc, args, maps, w, me, epi);
    }
  }
  static __device__ __forceinline__ void finish() { Next::finish(); }
};

// The reduction as a second launch: splitk::reduce sums the slices in the fixed order 0, 1, ... and applies
// alpha, beta and C (kernels/common/splitk.cuh, shared with the mma_sp and skinny split-K steps). It is
// instantiated for D's type (the input type at 16 bits; int32 for int8, whose int32 partials it sums exactly;
// bf16 for fp8, from f32 partials). With ScaledTo<D> operands it is splitk::reduce_scaled (the epilogue's scales
// applied to the sum).
template <class Tile>
struct SecondLaunchReduction {
  static constexpr bool kAppliesScales = true;
  static size_t workspace_bytes(const GemmArgs& a, int split, int) { return splitk::workspace_bytes(split, a.M, a.N); }
  template <class P>
  static void after_launch(const GemmArgs& args, const P& lp, cudaStream_t stream) {
    if (lp.split <= 1) return;
    if constexpr (Tile::Operands::kHasScales)
      splitk::launch_reduce_scaled<Tile::kD, typename Tile::Acc>(args, lp.split, stream);
    else
      splitk::launch_reduce<Tile::kD>(args, lp.split, stream);
  }
  static __device__ __forceinline__ void after_partials(const GemmArgs&, const wgmma::Work&,
                                                        const wgmma::SharedBuffer&) {}
};

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER, int SPLIT>
struct s08_splitk
    : wgmma::Kernel<s08_splitk<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, SPLIT>,
                    typename s06_tmastore<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, false>::Mainloop,
                    SplitKUnits<SparseTile<T, BM, BN, BK, WM, WN>, GROUP, Multicast<CLUSTER>, SPLIT>,
                    PartialsEpilogue<
                        typename s06_tmastore<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, false>::Epilogue,
                        SecondLaunchReduction<SparseTile<T, BM, BN, BK, WM, WN>>>> {};

}  // namespace sparse24::wgmma_sp
