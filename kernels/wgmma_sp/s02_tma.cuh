// wgmma_sp step 02, "tma": a TMA stage ring fed by a producer warp, two consumer warpgroups, 128-byte swizzle.
//
// What it adds over s01_smem (where all four warps load, wait at a barrier, compute, wait again):
// 1. TMA (cp.async.bulk.tensor) moves each k-tile of A values, B and metadata straight from global to shared memory:
//    one thread issues three copies per k-tile, no registers carry the data, and rows past M or N arrive as zeros
//    (partial tiles cost nothing extra). Tensor maps are built once in prepare() (kernels/common/tma.h).
// 2. A ring of STAGES k-tiles with two mbarriers per stage: "full" completes when the producer has armed it and all
//    of the stage's bytes have landed; "empty" when every consumer warp is done reading the stage. The producer runs
//    up to STAGES k-tiles ahead of the math; nobody waits at a block-wide barrier inside the k-loop.
// 3. Warp specialisation: warpgroup 0 is the producer (one thread issues the TMA; the warpgroup gives registers back
//    with setmaxnreg.dec), warpgroups 1 and 2 are consumers, one m64 tile of the block each (setmaxnreg.inc: 128 f32
//    accumulators per thread for m64n256). While one consumer waits for its wgmma, the other's run: the tensor
//    cores of the SM see two independent instruction streams.
// 4. Swizzled shared memory as TMA writes it and wgmma reads it, no padding, no bank conflicts: B (X) rows of
//    BK = 64 values = 128 bytes in 128-byte swizzle atoms (8 rows x 128 bytes, chunk c of row r at c ^ r % 8), the
//    compressed A rows of 32 values = 64 bytes in 64-byte swizzle atoms (8 rows x 64 bytes, c ^ (r / 2) % 4). A
//    k-step's descriptor starts 32 (A) or 64 (B) bytes into the atom row, as the one-instruction test checks for
//    both modes (tests/gpu/test_wgmma_instructions_gpu.cu).
// Each consumer still waits for its own wgmma (wait_group 0) before it releases the stage and loads the next
// metadata; s03 keeps one batch in flight.
//
// Preconditions (ShapeRule and the common checks): M % 32 == 0 (metadata lane blocks), K % BK == 0, any N >= 1,
// 16-byte aligned operands and rows (TMA's own requirement too). sm_90a only.
// Metadata in format::MetaLayout::LaneBlocks16, as s01 reads it: a k-tile of one 32-row group is BK contiguous
// words in global memory, so the metadata is a 2-D tensor of M/32 rows x K words and one TMA box of BM/32 x BK
// words brings a stage's worth (lane blocks land as they are; word `lane` of a block is read by lane `lane`: no
// bank conflict). A row group past M arrives as zeros, which is not valid metadata: its warps substitute the
// padding word (their rows are never stored, but the instruction must not see invalid metadata).
//
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 803.8 TFLOP/s = 84% of the mma.sp m16n8k32 loop (959), 1.12x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_fff01ae).
//
// Block (BM = 128, BN = 256 shown), 384 threads:
//
//   warpgroup 0 (producer)   thread 0: for each k-tile, wait "empty", arm "full" with the stage's bytes, 3 TMA
//   warpgroup 1 (consumer 0) rows   0..63  of the tile: wgmma.sp m64n256k32, 2 per k-tile (BK = 64)
//   warpgroup 2 (consumer 1) rows  64..127 of the tile
//
//   shared memory, STAGES x (A 8 KB | B 32 KB | metadata 1 KB), each part 1024-byte aligned (the swizzle atoms),
//   then 2 x STAGES mbarriers. 5 stages: 210 KB of the 227 KB a block may have.
//
// Why this tile: wgmma.sp reads B from shared memory for every instruction, and B is the larger operand (the
// instruction's A is only 64 x 16 values): m64n256k32 moves 2 KB of A and 16 KB of B for 2 x 64 x 256 x 32 flops,
// the best bytes-per-flop the instruction offers, so N = 256 per instruction. Two consumers share each B tile
// (BM = 128), the accumulators fill 128 of a consumer's registers, and one block (384 threads) per SM leaves the
// shared memory to the ring. 128 x 128 (64 accumulators, 8 stages) is the cheaper-register variant.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/common/elem.cuh"
#include "kernels/common/epilogue.cuh"
#include "kernels/common/fragments.h"
#include "kernels/common/instr.h"
#include "kernels/common/launch.cuh"
#include "kernels/common/ptx.cuh"
#include "kernels/common/ptx_sm90.cuh"
#include "kernels/common/raster.h"
#include "kernels/common/splitk.cuh"
#include "kernels/common/tma.h"
#include "kernels/format/format.h"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"

namespace sparse24::wgmma_sp {

// The TMA ring shared by the TMA steps: sizes, tensor maps, hooks, and the producer/consumer body. Derived names
// the kernel (the entry is gemm_entry_params<Derived>) and picks how many wgmma batches a consumer leaves in flight.
// WM x WN: consumer warps (WM = 4 per consumer warpgroup, stacked along M; WN = 1). CLUSTER_M > 1 (s04): that many
// CTAs of adjacent row blocks form a cluster and share each B tile, every CTA loading 1/CLUSTER_M of it with TMA
// multicast into all of them.
// PERSISTENT (s05): one CTA (cluster) per SM (group of SMs) walks the tiles in grouped order, its ring running on
// across tiles, so the producer loads the next tile while the consumers store this one.
// SPARSE = false: the dense twin (kernels/wgmma_dense/), the same ring, tiles and schedule with dense A (BM x BK
// values, 128-byte rows in 128-byte swizzle, like B), no metadata, and wgmma m64nNk16: four instructions per
// k-tile instead of two, each doing half the work: per k-tile the dense twin moves 8 KB more of A and, for the same
// dense-equivalent work, keeps its tensor cores busy twice as long (the dense rate is half the sparse one).
// TMA_STORE (s06): the consumers write D through a shared-memory slab and a TMA store (store_tile_tma below)
// instead of 4-byte stores from registers, when beta = 0 and D's rows are 16-byte aligned (prepare() decides).
// META (s07): the metadata layout the consumers read, LaneBlocks16 (the mma_sp family's, two words per k-tile, both
// under selector 0) or Wgmma16x64 (the family's own, one word per k-tile: selector 0 for the first k-step, 1 for
// the second).
// SPLIT (s08): K cut into slices (0: chosen in prepare(); 1: no split-K), each unit of work one (tile, slice); with
// more than one slice the consumers write f32 partials to the workspace and splitk::reduce sums them in slice order.
// REDUCE_IN_LAUNCH (s09): no second launch; the CTA that finishes a tile's last slice sums its partials
// (reduce_tile_if_last below).
template <class Derived, DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER_M = 1,
          bool PERSISTENT = false, bool SPARSE = true, bool TMA_STORE = false,
          format::MetaLayout META = format::MetaLayout::LaneBlocks16, int SPLIT = 1, bool REDUCE_IN_LAUNCH = false>
struct TmaRing : BlockTiled<Derived> {
  static constexpr bool kSparse = SPARSE;
  using Instr = std::conditional_t<SPARSE, instr::WgmmaSpM64NK32<T, BN>, instr::WgmmaM64NK16<T, BN>>;
  static constexpr Operands kTypes = {T, T, T, DType::f32};
  static constexpr int kBM = BM, kBN = BN, kBK = BK;
  static constexpr int kConsumers = BM / Instr::kM;       // consumer warpgroups, one m64 tile each
  static constexpr int kThreads = 128 * (1 + kConsumers);  // + the producer warpgroup
  // One block per SM (the ring takes the shared memory); the cap it implies (65536 / kThreads registers) is what
  // setmaxnreg redistributes.
  static constexpr int kMinBlocksPerSm = 1;
  static constexpr int kProducerRegs = 40, kConsumerRegs = 232;
  static_assert(128 * kProducerRegs + 128 * kConsumers * kConsumerRegs <= 65536, "setmaxnreg beyond the file");
  static constexpr ArchRule kArch = {Instr::form().min_sm, Instr::form().min_sm, Instr::form().arch_specific};
  // The dense twin has no metadata; it keeps the sparse kernel's shape rule so that both run the same shapes.
  static constexpr format::MetaLayout kMetaLayout = SPARSE ? META : format::MetaLayout::Canonical;  // dense: unused
  static constexpr bool kOwnMeta = SPARSE && META == format::MetaLayout::Wgmma16x64;
  static_assert(META == format::MetaLayout::LaneBlocks16 || META == format::MetaLayout::Wgmma16x64,
                "the TMA steps read LaneBlocks16 or Wgmma16x64 metadata");
  // Rows of A one metadata row (of the 2-D metadata tensor) serves: a lane block's 32, or a Wgmma16x64 slab's 16.
  static constexpr int kRowGroup = kOwnMeta ? format::kWgmmaBlockRows : format::kLaneBlockRows;
  static constexpr ShapeRule kRule = {kRowGroup, 1, BK, 1, 0,
                                      !SPARSE   ? "kept equal to the sparse twin's lane-block rows"
                                      : kOwnMeta ? "one wgmma16x64 metadata block serves a warp's 16 rows"
                                                 : "one metadata lane block serves 32 rows",
                                      "whole K tiles (TMA boxes)"};

  static constexpr int kKSteps = BK / Instr::kK;          // 2 (sparse, k32) or 4 (dense, k16) per k-tile
  static constexpr int kElemBytes = 2;
  static constexpr int kAValues = SPARSE ? BK / 2 : BK;   // A values per row and k-tile (compressed when sparse)
  static constexpr int kARowBytes = kAValues * kElemBytes;  // 64: a 64-byte swizzle row; dense 128: a 128-byte one
  static constexpr int kBRowBytes = BK * kElemBytes;      // 128: one 128-byte swizzle row
  static constexpr int kAStepBytes = 32;  // one k-step of A: 16 values (sparse: 32 of K compressed; dense: 16 of K)
  static constexpr int kBStepBytes = Instr::kK * kElemBytes;  // one k-step of B: 64 (sparse) or 32 (dense) bytes
  static constexpr ptx::SmemSwizzle kASwizzle = SPARSE ? ptx::SmemSwizzle::B64 : ptx::SmemSwizzle::B128;
  static constexpr tma::Swizzle kATmaSwizzle = SPARSE ? tma::Swizzle::B64 : tma::Swizzle::B128;
  static constexpr int kABytes = BM * kARowBytes;
  static constexpr int kBBytes = BN * kBRowBytes;
  // Metadata words of one row group per k-tile: BK/32 lane blocks of 32 words, or one Wgmma16x64 block of 32.
  static constexpr int kMetaWords = !SPARSE ? 0 : kOwnMeta ? 32 : BK;
  // Metadata registers per consumer thread per k-tile: one per k-step, or one for both (Wgmma16x64).
  static constexpr int kMetaRegs = kOwnMeta ? 1 : kKSteps;
  static constexpr int kMetaBytes = BM / kRowGroup * kMetaWords * 4;
  static constexpr int kAlign = 1024;                     // the 128-byte swizzle atom
  static constexpr int round_up(int x) { return (x + kAlign - 1) / kAlign * kAlign; }
  static constexpr int kAOffset = 0, kBOffset = round_up(kABytes), kMetaOffset = kBOffset + round_up(kBBytes);
  static constexpr int kStageBytes = round_up(kMetaOffset + kMetaBytes);
  static constexpr int kStageTx = kABytes + kBBytes + kMetaBytes;  // bytes the TMA delivers per stage
  // s06's epilogue slabs: per consumer, 64 rows x kEpiCols columns of D in 128-byte swizzle (one TMA box).
  static constexpr bool kTmaStore = TMA_STORE;
  static constexpr int kEpiCols = 64;                      // 128 bytes of 16-bit D per row: one swizzle row
  static constexpr int kEpiSlabBytes = 64 * kEpiCols * 2;  // 8 KB
  static constexpr int kEpiBytes = TMA_STORE ? kConsumers * kEpiSlabBytes : 0;
  static constexpr int kBarrierBytes = 2 * STAGES * 8;
  static constexpr int kClusterM = CLUSTER_M;
  static constexpr int kBBoxRows = BN / kClusterM;  // rows of B each CTA of a cluster loads (and multicasts)
  static constexpr bool kPersistent = PERSISTENT;
  static constexpr int kSplit = SPLIT;
  static_assert(SPLIT >= 0 && SPLIT <= splitk::kMaxSplit, "SPLIT: 0 (automatic), 1 (none) or 2..kMaxSplit slices");
  static constexpr bool kReduceInLaunch = REDUCE_IN_LAUNCH;
  static_assert(!REDUCE_IN_LAUNCH || (SPLIT != 1 && TMA_STORE),
                "the in-launch reduction needs split-K and the epilogue slab (its flag lives there)");
  static constexpr uint32_t kReduceBarrier = 3;  // named barrier of all consumer threads (0: block, 1-2: slabs)
  // + kAlign: dynamic shared memory is only 16-byte aligned; the kernel rounds its base up.
  static constexpr int kSmemBytes = STAGES * kStageBytes + kEpiBytes + kBarrierBytes + kAlign;

  static_assert(WM == 4 * kConsumers && WN == 1, "WM = 4 warps per consumer warpgroup, one m64 tile each");
  static_assert(BM % Instr::kM == 0 && kConsumers >= 1 && kConsumers <= 2, "1 or 2 consumer warpgroups");
  static_assert(BK == 64, "BK = 64: one 128-byte swizzle row of B (and of dense A), one 64-byte row of compressed A");
  static_assert(kAValues / (Instr::kK / (SPARSE ? 2 : 1)) == kKSteps && kAStepBytes * kKSteps == kARowBytes,
                "the k-steps of A tile its row");
  static_assert(BN / 2 <= 128, "at most 128 accumulator registers per consumer thread");
  static_assert(kSmemBytes <= 227 * 1024, "a block may have at most 227 KB of shared memory");
  static_assert(kClusterM == 1 || kClusterM == 2 || kClusterM == 4, "clusters of 1, 2 or 4 CTAs along M");
  static_assert(GROUP % kClusterM == 0, "a rasterization group holds whole clusters");
  static_assert(!TMA_STORE || BN % kEpiCols == 0, "the TMA-store epilogue writes whole 64-column slabs");
  static_assert(GROUP >= 1 && GROUP <= 64 && grouped_order_is_bijective<GROUP>(7, 5) &&
                    grouped_order_is_bijective<GROUP>(GROUP + 3, 4),
                "grouped order must visit every tile exactly once");

  struct LoadMaps {
    CUtensorMap a, b, meta;
  };
  struct LoadStoreMaps : LoadMaps {
    CUtensorMap d;
    int tma_store;  // 1: the epilogue stores D with TMA (beta = 0, 16-byte aligned rows); 0: from registers
  };
  using Maps = std::conditional_t<TMA_STORE, LoadStoreMaps, LoadMaps>;
  struct SplitMaps : Maps {
    int split;  // slices of K (1: D written directly)
  };
  using LaunchParams = std::conditional_t<SPLIT != 1, SplitMaps, Maps>;

  static Params params() {
    Params p = {{"bm", BM}, {"bn", BN}, {"bk", BK}, {"wm", WM}, {"wn", WN}, {"stages", STAGES}, {"group", GROUP}};
    if (kClusterM > 1) p.push_back({"cluster_m", kClusterM});
    if (kPersistent) p.push_back({"persistent", 1});
    if (kSplit != 1) p.push_back({"split_k", kSplit});
    return p;
  }

  // The split factor for this problem on the current GPU (s08): SPLIT, or splitk::choose_split_compute's choice
  // when SPLIT == 0, with one CTA per SM and the wgmma rate (kWgmmaDenseFlopsPerClkSm, twice that when sparse).
  static int split_for(const GemmArgs& a) {
    if (kSplit > 0) return kSplit;
    int device = 0, sms = 0, sm_khz = 0, mem_khz = 0, bus_bits = 0;
    SPARSE24_CUDA_CHECK(cudaGetDevice(&device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
    const double dram_bytes_per_s = 2.0 * mem_khz * 1e3 * bus_bits / 8;
    const double rate = splitk::kWgmmaDenseFlopsPerClkSm * (SPARSE ? 2 : 1);
    const int64_t tiles = int64_t((a.M + BM - 1) / BM) * ((a.N + BN - 1) / BN);
    return splitk::choose_split_compute(
        static_cast<int>(std::min<int64_t>(tiles, INT32_MAX)), a.K / BK, sms * kMinBlocksPerSm, a.M, a.N,
        kElemBytes, splitk::round_bytes(2.0 * BM * BN * BK, kMinBlocksPerSm, rate, sm_khz * 1e3, dram_bytes_per_s));
  }

  static void prepare(Plan& p) {
    const void* fn = reinterpret_cast<const void*>(&gemm_entry_params<Derived>);
    require_kernel_image(fn, p.variant().name);
    const GemmArgs& a = p.args;
    const int grid_m = (a.M + BM - 1) / BM, grid_n = (a.N + BN - 1) / BN;
    // With clusters the grid is 1-D, whole clusters of row blocks (a last cluster with fewer row blocks gets idle
    // partners whose rows are all past M: they load zeros, compute, store nothing, and keep the protocol whole).
    const int split = kSplit == 1 ? 1 : split_for(a);
    // Units of work: cluster tiles (kClusterM x 1 tiles) times K slices; the 2-D grid takes the slices as z.
    const int units = (grid_m + kClusterM - 1) / kClusterM * grid_n * split;
    p.grid = kClusterM == 1 && !kPersistent ? dim3(grid_n, grid_m, split) : dim3(unsigned(kClusterM * units));
    // s09: one arrival counter per CTA tile after the partials (self-cleaning, zeroed once by prepare()).
    p.workspace_bytes = kReduceInLaunch ? splitk::counted_workspace_bytes(split, a.M, a.N, kClusterM * units / split)
                                        : splitk::workspace_bytes(split, a.M, a.N);
    p.block = dim3(kThreads);
    p.smem_bytes = kSmemBytes;
    SPARSE24_CUDA_CHECK(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes));
    if constexpr (kPersistent) {
      // As many CTAs (clusters) as can be resident at once, never more than there are units.
      int resident = 0;
      if constexpr (kClusterM == 1) {
        int dev = 0, sms = 0, per_sm = 0;
        SPARSE24_CUDA_CHECK(cudaGetDevice(&dev));
        SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
        SPARSE24_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, gemm_entry_params<Derived>,
                                                                          kThreads, kSmemBytes));
        resident = sms * per_sm;
      } else {
        Launch l(p, nullptr);
        SPARSE24_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&resident, gemm_entry_params<Derived>, &l.config));
      }
      if (resident < 1) throw ArchError(p.variant().name + ": not one CTA (cluster) of this size fits on the GPU");
      p.grid = dim3(unsigned(kClusterM * (units < resident ? units : resident)));
    }
    LaunchParams lp;
    lp.a = tma::encode_2d(a.a, kElemBytes, a.M, SPARSE ? a.K / 2 : a.K, a.lda * kElemBytes, BM, kAValues,
                          kATmaSwizzle);
    lp.b = tma::encode_2d(a.b, kElemBytes, a.N, a.K, a.ldb * kElemBytes, kBBoxRows, BK, tma::Swizzle::B128);
    // The metadata as a 2-D tensor of M / kRowGroup rows: K words per row (K/32 lane blocks of 32) or K/2 (K/64
    // Wgmma16x64 blocks of 32).
    if constexpr (SPARSE) {
      const int64_t row_words = int64_t(a.K) / BK * kMetaWords;
      lp.meta = tma::encode_2d(a.a_meta, 4, a.M / kRowGroup, row_words, row_words * 4, BM / kRowGroup, kMetaWords,
                               tma::Swizzle::None);
    }
    if constexpr (TMA_STORE) {
      // TMA writes whole 16-byte pieces at 16-byte aligned addresses and cannot add beta * C: otherwise the
      // registers' epilogue (s05's) runs.
      const bool aligned = reinterpret_cast<uintptr_t>(a.d) % 16 == 0 && (a.ldd * kElemBytes) % 16 == 0;
      lp.tma_store = a.beta == 0.0f && aligned;
      if (lp.tma_store)
        lp.d = tma::encode_2d(a.d, kElemBytes, a.M, a.N, a.ldd * kElemBytes, 64, kEpiCols, tma::Swizzle::B128);
    }
    if constexpr (kSplit != 1) lp.split = split;
    static_assert(sizeof(LaunchParams) <= sizeof(Plan::launch_data), "tensor maps do not fit the plan");
    std::memcpy(p.launch_data, &lp, sizeof lp);
  }

  static void run(const Plan& p, cudaStream_t stream) {
    LaunchParams lp;
    std::memcpy(&lp, p.launch_data, sizeof lp);
    if constexpr (kClusterM == 1) {
      gemm_entry_params<Derived><<<p.grid, p.block, p.smem_bytes, stream>>>(p.args, lp);
    } else {
      Launch l(p, stream);
      (void)cudaLaunchKernelEx(&l.config, gemm_entry_params<Derived>, p.args, lp);  // errors: cudaGetLastError
    }
    if constexpr (kSplit != 1 && !kReduceInLaunch)
      if (lp.split > 1) splitk::launch_reduce<T>(p.args, lp.split, stream);
  }

  // The configuration of a cluster launch (grid, block, shared memory, cluster dimension).
  struct Launch {
    cudaLaunchAttribute cluster{};
    cudaLaunchConfig_t config{};
    Launch(const Plan& p, cudaStream_t stream) {
      config.gridDim = p.grid;
      config.blockDim = p.block;
      config.dynamicSmemBytes = p.smem_bytes;
      config.stream = stream;
      cluster.id = cudaLaunchAttributeClusterDimension;
      cluster.val.clusterDim.x = kClusterM;
      cluster.val.clusterDim.y = 1;
      cluster.val.clusterDim.z = 1;
      config.attrs = &cluster;
      config.numAttrs = 1;
    }
  };

  // The block: kInFlight = wgmma batches (k-tiles) a consumer leaves in flight when it moves on to the next k-tile
  // (0: it waits for its own wgmma before releasing the stage; 1: s03).
  template <int kInFlight>
  static __device__ void block(const GemmArgs& args, const LaunchParams& maps) {
    static_assert(kInFlight == 0 || kInFlight == 1, "0 or 1 batch in flight");
    extern __shared__ uint8_t smem_raw[];
    const uint32_t raw = ptx::smem_addr(smem_raw);
    const uint32_t base = (raw + kAlign - 1) / kAlign * kAlign;
    const uint32_t epi_buf = base + STAGES * kStageBytes;  // s06: kConsumers slabs of kEpiSlabBytes
    const uint32_t full_bar = epi_buf + kEpiBytes, empty_bar = full_bar + STAGES * 8;
    const int warpgroup = threadIdx.x / 128;
    const int KT = args.K / BK;

    // Units of work: cluster tiles of kClusterM row blocks x 1 column block (a tile when kClusterM = 1), in
    // grouped order, times the K slices (s08; one otherwise): unit = slice * tiles + cluster tile, so the units
    // that run together share their slice of B. The CTAs of a cluster take its row blocks in rank order. A CTA
    // (cluster) does unit `first`, then every `stride`-th one after it: exactly one unless persistent.
    const uint32_t rank = kClusterM > 1 ? ptx::cluster_ctarank() : 0;
    const int grid_m = (args.M + BM - 1) / BM, grid_n = (args.N + BN - 1) / BN;
    const int unit_rows = (grid_m + kClusterM - 1) / kClusterM, tiles = unit_rows * grid_n;
    int split = 1;
    if constexpr (kSplit != 1) split = maps.split;
    const int units = tiles * split;
    const int first = kClusterM == 1 && !kPersistent
                          ? int(((kSplit == 1 ? 0 : blockIdx.z) * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x)
                          : int(blockIdx.x) / kClusterM;
    const int stride = kPersistent ? int(gridDim.x) / kClusterM : units;
    auto tile_origin = [&](int unit) {  // (block_m, block_n) of this CTA's tile of `unit`
      const BlockCoord u = grouped_block<GROUP / kClusterM>(kSplit == 1 ? unit : unit % tiles, unit_rows, grid_n);
      return BlockCoord{(u.m * kClusterM + int(rank)) * BM, u.n * BN};
    };
    auto k_tiles_of = [&](int unit) {  // the unit's k-tiles: all of K unless s08
      if constexpr (kSplit == 1) return splitk::Slice{0, KT};
      return splitk::slice_of(unit / tiles, split, KT);
    };

    if (threadIdx.x == 0) {
      for (int s = 0; s < STAGES; ++s) {
        ptx::mbarrier_init(full_bar + 8 * s, 1);                            // the producer's arrive.expect_tx
        ptx::mbarrier_init(empty_bar + 8 * s, 4 * kConsumers * kClusterM);  // each consumer warp of the cluster
      }
      ptx::fence_mbarrier_init();
    }
    // With clusters, the peer's barriers must be initialised before our multicast or our arrivals reach them.
    if constexpr (kClusterM == 1)
      __syncthreads();
    else
      ptx::cluster_sync();

    if (warpgroup == 0) {
      ptx::setmaxnreg_dec<kProducerRegs>();
      if (threadIdx.x == 0) {
        ptx::tma_prefetch_descriptor(&maps.a);
        ptx::tma_prefetch_descriptor(&maps.b);
        if constexpr (SPARSE) ptx::tma_prefetch_descriptor(&maps.meta);
        int it = 0;  // k-tiles loaded so far, over all units: the ring position
        for (int unit = first; unit < units; unit += stride) {
          const BlockCoord o = tile_origin(unit);
          const splitk::Slice k = k_tiles_of(unit);
          for (int kt = k.begin; kt < k.end; ++kt, ++it) {
            const int s = it % STAGES, round = it / STAGES;
            if (round > 0) ptx::mbarrier_wait(empty_bar + 8 * s, (round - 1) & 1);
            const uint32_t stage = base + s * kStageBytes, full = full_bar + 8 * s;
            ptx::mbarrier_arrive_expect_tx(full, kStageTx);
            ptx::tma_load_2d(stage + kAOffset, &maps.a, full, kt * kAValues, o.m);
            if constexpr (kClusterM == 1)
              ptx::tma_load_2d(stage + kBOffset, &maps.b, full, kt * BK, o.n);
            else  // our share of B, into every CTA of the cluster (each CTA's "full" expects the whole tile)
              ptx::tma_load_2d_multicast(stage + kBOffset + rank * kBBoxRows * kBRowBytes, &maps.b, full, kt * BK,
                                         o.n + int(rank) * kBBoxRows, uint16_t((1u << kClusterM) - 1));
            if constexpr (SPARSE)
              ptx::tma_load_2d(stage + kMetaOffset, &maps.meta, full, kt * kMetaWords, o.m / kRowGroup);
          }
        }
      }
      // A CTA may not exit while its peer can still multicast into it or arrive on its barriers.
      if constexpr (kClusterM > 1) ptx::cluster_sync();
      return;
    }

    ptx::setmaxnreg_inc<kConsumerRegs>();
    const int consumer = warpgroup - 1, warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
    // This warp's metadata. LaneBlocks16 (as s01): row group 2 * consumer + warp / 2 of the block, word lane ^ 2 for
    // odd warps (rows 16..31 of the group sit in lanes q = 2, 3 and sp-sel 0 reads q = 0, 1), one block per k-step.
    // Wgmma16x64 (s07): slab 4 * consumer + warp, word `lane` of its one block per k-tile.
    const int group = kOwnMeta ? 4 * consumer + warp : 2 * consumer + warp / 2;
    const int meta_word = group * kMetaWords + (kOwnMeta ? lane : lane ^ (2 * (warp % 2)));
    const uint8_t* smem_generic = smem_raw + (base - raw);
    int it = 0;  // k-tiles consumed so far, over all units: the ring position

    for (int unit = first; unit < units; unit += stride) {
      const BlockCoord o = tile_origin(unit);
      const splitk::Slice k = k_tiles_of(unit);
      const bool group_valid = o.m / kRowGroup + group < args.M / kRowGroup;
      float acc[BN / 2];
#pragma unroll
      for (int i = 0; i < BN / 2; ++i) acc[i] = 0.0f;
      [[maybe_unused]] uint32_t e_prev[kMetaRegs] = {};  // s03: the metadata of the batch still in flight

      for (int kt = k.begin; kt < k.end; ++kt, ++it) {
        const int s = it % STAGES;
        const uint32_t stage = base + s * kStageBytes;
        ptx::mbarrier_wait(full_bar + 8 * s, (it / STAGES) & 1);
        const uint32_t* meta = reinterpret_cast<const uint32_t*>(smem_generic + s * kStageBytes + kMetaOffset);
        uint32_t e[kMetaRegs] = {};
        if constexpr (SPARSE) {
#pragma unroll
          for (int r = 0; r < kMetaRegs; ++r)
            e[r] = group_valid ? meta[meta_word + r * format::kLaneBlockBytes / 4] : format::kPaddingMetaWord;
        }

        ptx::fence_registers(acc);
        ptx::wgmma_fence();
#pragma unroll
        for (int ks = 0; ks < kKSteps; ++ks) {
          const uint64_t da = ptx::smem_desc(stage + kAOffset + consumer * Instr::kM * kARowBytes + ks * kAStepBytes,
                                             16, 8 * kARowBytes, kASwizzle);
          const uint64_t db =
              ptx::smem_desc(stage + kBOffset + ks * kBStepBytes, 16, 8 * kBRowBytes, ptx::SmemSwizzle::B128);
          if constexpr (kOwnMeta) {  // one register, the k-step picks its lanes with the selector
            if (ks == 0)
              ptx::wgmma_sp_ss<T, BN, 0>(acc, da, db, e[0], true);
            else
              ptx::wgmma_sp_ss<T, BN, 1>(acc, da, db, e[0], true);
          } else if constexpr (SPARSE)
            ptx::wgmma_sp_ss<T, BN, 0>(acc, da, db, e[ks], true);
          else
            ptx::wgmma_ss<T, BN>(acc, da, db, true);
        }
        ptx::wgmma_commit_group();
        ptx::wgmma_wait_group<kInFlight>();
        ptx::fence_registers(acc);
        if constexpr (kInFlight == 0) {
          if (lane == 0) release(empty_bar + 8 * s);
        } else {
          // The previous k-tile's batch has completed: its metadata registers may be reused and its stage released.
          if constexpr (SPARSE) keep_metadata(e_prev);
          if (kt > k.begin && lane == 0) release(empty_bar + 8 * ((it - 1) % STAGES));
#pragma unroll
          for (int r = 0; r < kMetaRegs; ++r) e_prev[r] = e[r];
        }
      }
      if constexpr (kInFlight > 0) {
        ptx::wgmma_wait_group<0>();
        ptx::fence_registers(acc);
        if constexpr (SPARSE) keep_metadata(e_prev);
        // The unit's last stage (an empty slice, s08 with more slices than k-tiles, used none).
        if ((kSplit == 1 || k.end > k.begin) && lane == 0) release(empty_bar + 8 * ((it - 1) % STAGES));
      }

      // s08, more than one slice: this slice's f32 partials, unscaled (zeros for an empty slice), for the reduction.
      if constexpr (kSplit != 1) {
        if (split > 1) {
          splitk::store_warp_partials(*reinterpret_cast<const float(*)[1][BN / 8][4]>(acc),
                                      o.m + consumer * Instr::kM + warp * 16, o.n, args, unit / tiles);
          if constexpr (kReduceInLaunch)
            reduce_tile_if_last(args, o, (unit % tiles) * kClusterM + int(rank), split,
                                reinterpret_cast<volatile int*>(smem_raw + (epi_buf - raw)));
          continue;
        }
      }

      if constexpr (TMA_STORE) {
        if (maps.tma_store) {
          store_tile_tma(acc, args, maps, o, consumer, epi_buf + consumer * kEpiSlabBytes,
                         smem_raw + (epi_buf - raw) + consumer * kEpiSlabBytes);
          continue;
        }
      }
      using E = Elem<T>;
      const int row0 = o.m + consumer * Instr::kM + warp * 16;
#pragma unroll
      for (int nt = 0; nt < BN / 8; ++nt)
        store_acc_m16n8<T>(*reinterpret_cast<const float(*)[4]>(&acc[4 * nt]), row0, o.n + nt * 8, args.M,
                           args.N, static_cast<typename E::type*>(args.d), args.ldd,
                           static_cast<const typename E::type*>(args.c), args.ldc, args.alpha, args.beta);
    }
    // s06: the last TMA stores must have read their slabs (and written D) before the CTA's shared memory goes.
    if constexpr (TMA_STORE)
      if (threadIdx.x % 128 == 0) ptx::bulk_wait_group<0>();
    if constexpr (kClusterM > 1) ptx::cluster_sync();
  }

  // s06's epilogue, one consumer warpgroup: its 64 x BN tile of D in 64-column slabs through its shared-memory
  // slab. Per slab: the leader waits until the previous TMA store has read the slab (bulk_wait_group_read), the
  // warpgroup meets (named barrier 1 + consumer), every thread writes its alpha-scaled accumulators as 16-bit
  // pairs, fences them to the async proxy, the warpgroup meets again and the leader issues the TMA store. The slab
  // is in 128-byte swizzle (16-byte chunk c of row r at c ^ r % 8), so a warp's 32 four-byte stores (8 rows x one
  // 16-byte chunk) land in 32 different banks. Rows past M and columns past N are clipped by the TMA store; whole
  // slabs past them are skipped (uniformly across the warpgroup).
  static __device__ void store_tile_tma(const float (&acc)[BN / 2], const GemmArgs& args, const LaunchParams& maps,
                                        BlockCoord o, int consumer, uint32_t slab, uint8_t* slab_generic) {
    using E = Elem<T>;
    const int warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
    const bool leader = threadIdx.x % 128 == 0;
    const int row0 = o.m + consumer * Instr::kM;
    if (row0 >= args.M) return;
#pragma unroll
    for (int j = 0; j < BN / kEpiCols; ++j) {
      const int col0 = o.n + j * kEpiCols;
      if (col0 >= args.N) break;
      if (leader) ptx::bulk_wait_group_read<0>();
      ptx::named_barrier_sync(1 + consumer, 128);
#pragma unroll
      for (int t = 0; t < kEpiCols / 8; ++t)
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const frag::RowCol rc = frag::acc_m16n8(lane, 2 * half);
          const int row = warp * 16 + rc.row, byte = (t * 8 + rc.col) * 2;
          const int at = row * 128 + (((byte / 16) ^ (row % 8)) * 16) + byte % 16;
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

  // s09, the consumers of a CTA after writing their slice's partials of the tile at `o`: arrive at the CTA tile's
  // counter (splitk.h's layout: after the partials); the CTA that arrives last, whichever slice it computed, sums
  // the tile's partials in slice order, from 0.0f (as splitk::reduce: the same bits), and writes D with
  // splitk::store_sum. The pattern and its memory order are splitk::arrive_last's, over the consumer threads only
  // (the producer warpgroup has left): every writer fences, the consumers meet, one thread counts (atomicInc resets
  // the counter on the last arrival), and the last CTA fences again and reads through L2 (__ldcg). `flag` is a word
  // of the epilogue slab, unused when there are partials.
  static __device__ void reduce_tile_if_last(const GemmArgs& args, BlockCoord o, int cta_tile, int split,
                                             volatile int* flag) {
    const int t = int(threadIdx.x) - 128, threads = 128 * kConsumers;
    __threadfence();
    ptx::named_barrier_sync(kReduceBarrier, threads);
    if (t == 0) {
      unsigned* counters = reinterpret_cast<unsigned*>(static_cast<char*>(args.workspace) +
                                                       splitk::counters_offset(split, args.M, args.N));
      const bool last = atomicInc(&counters[cta_tile], unsigned(split - 1)) == unsigned(split - 1);
      if (last) __threadfence();
      *flag = last;
    }
    ptx::named_barrier_sync(kReduceBarrier, threads);
    const bool last = *flag != 0;
    // Everyone has read the flag before thread 0 may write it again (the next unit's first barrier above).
    if (!last) return;
    const int M = args.M, N = args.N;
    const int rows = min(BM, M - o.m), cols = min(BN, N - o.n);
    if (rows <= 0 || cols <= 0) return;  // a cluster's idle partner: rows past M
    const float* ws = static_cast<const float*>(args.workspace);
    const int64_t slice = int64_t(M) * N;
    if (N % 4 == 0) {  // whole float4s: cols is then a multiple of 4 too (BN is)
      const int c4 = cols / 4;
      for (int e = t; e < rows * c4; e += threads) {
        const int64_t m = o.m + e / c4, n = o.n + 4 * (e % c4);
        const float* at = ws + m * N + n;
        float4 sum = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        for (int z = 0; z < split; ++z, at += slice) {
          const float4 v = __ldcg(reinterpret_cast<const float4*>(at));
          sum.x += v.x, sum.y += v.y, sum.z += v.z, sum.w += v.w;
        }
        splitk::store_sum<T>(args, m, n, sum.x);
        splitk::store_sum<T>(args, m, n + 1, sum.y);
        splitk::store_sum<T>(args, m, n + 2, sum.z);
        splitk::store_sum<T>(args, m, n + 3, sum.w);
      }
    } else {
      for (int e = t; e < rows * cols; e += threads) {
        const int64_t m = o.m + e / cols, n = o.n + e % cols;
        const float* at = ws + m * N + n;
        float sum = 0.0f;
        for (int z = 0; z < split; ++z, at += slice) sum += __ldcg(at);
        splitk::store_sum<T>(args, m, n, sum);
      }
    }
  }

  // The metadata registers of the batch left in flight stay allocated until the wait that retires it.
  static __device__ void keep_metadata(const uint32_t (&e)[kMetaRegs]) {
#pragma unroll
    for (int r = 0; r < kMetaRegs; ++r) ptx::keep_register(e[r]);
  }

  // A consumer warp is done with a stage: tell every producer that writes into it (with clusters, each CTA's
  // producer multicasts its share of B into us, so each must hear from us).
  static __device__ void release(uint32_t empty) {
    if constexpr (kClusterM == 1) {
      ptx::mbarrier_arrive(empty);
    } else {
#pragma unroll
      for (int r = 0; r < kClusterM; ++r) ptx::mbarrier_arrive_cluster(empty, r);
    }
  }
};

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP>
struct s02_tma : TmaRing<s02_tma<T, BM, BN, BK, WM, WN, STAGES, GROUP>, T, BM, BN, BK, WM, WN, STAGES, GROUP> {
  using Ring = TmaRing<s02_tma, T, BM, BN, BK, WM, WN, STAGES, GROUP>;
  static __device__ void run_block(const GemmArgs& args, const typename Ring::LaunchParams& maps) {
    Ring::template block<0>(args, maps);
  }
};

}  // namespace sparse24::wgmma_sp
