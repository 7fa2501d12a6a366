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
//
// 8-bit operands (session 11, results/NOTES.md "Session 11: the 8-bit TMA-store epilogue (prediction)"). The same
// idea on the 8-bit rows, so the same component, generalised rather than a new step (docs/design.md: a step is one
// new idea; this is s06's, applied to other D types): TmaStoreEpilogue stages D in its own type, int32 (int8's exact
// sum, 8-byte pairs) or bf16 (fp8 through alpha, or any 8-bit input through the per-tensor x per-row x per-column
// scales of ScaledTo<bf16>, applied in registers before staging with RegisterEpilogue's EpilogueScales and
// epilogue.cuh's prescaled(): the same bits as the register epilogue). int8 rows are this step with int8 operands
// (s06_tmastore<int8, ...>, Out as s05's); fp8 rows are s12_lazypromote with its Store parameter set to TmaStore
// (fp8 needs s12's promoting mainloop, which this step's s05 mainloop refuses). Why it should matter more at 8
// bits: the register epilogue writes int32 D one 4-byte element at a time (ldd may be odd: 128 STG.E per consumer
// thread at BN = 256, SASS), half of every 32-byte sector per store, so D's sectors are each written twice as in
// 16-bit but there are twice as many of them; and the 8-bit tiles finish their k-loop in about half the 16-bit time,
// so the epilogue, during which the tensor cores idle, is a larger share. D at the four large shapes (32-byte
// sectors; the register epilogue writes each one twice, the TMA store once, whole):
//   shape                int32 D: bytes, sectors    bf16 D: bytes, sectors
//   8192^3               268 MB, 8.39 M             134 MB, 4.19 M
//   16384^3              1074 MB, 33.6 M            537 MB, 16.8 M
//   28672x2048x8192      235 MB, 7.34 M             117 MB, 3.67 M
//   8192x2048x28672      67 MB, 2.10 M              34 MB, 1.05 M
// Shared memory at 8 bits: int8 128 x 256 (stage A 8 + B 32 + metadata 2 = 42 KB): 5 stages (210 KB) + two 8 KB
// slabs + 80 bytes of barriers + 1 KB for the base's alignment = 227.08 KB, 80 bytes over the 227 KB, so the 5-stage
// rows stage 64-byte slab rows (two 4 KB slabs, 64-byte swizzle: 16 slabs per consumer tile for int32 D, 8 for bf16;
// 219 KB) and a 4-stage row keeps the 8 KB slabs (185 KB): both registered. TmaStoreFor picks the widest slab that
// fits. fp8 s12 128 x 192 (34 KB stages, 6 of them): 204 + 16 + 1.08 = 221 KB with 8 KB slabs.
// PREDICTION (H200, against the same step's register-epilogue row in the same run; calibrated on the H200's 16-bit
// s05 -> s06 in results/nvidia-h200/issue15-checks_2026-12-02_f7c6cb2/ab_a1.json and ab_b1.json, which saved 77,
// 362, 69 and 3-10 us at the four shapes): int8 int32 D +16-27%, +10-16%, +17-30%, +1-4%; bf16 D (int8 scaled,
// e4m3 s12) +9-14%, +6-8%, +9-13%, +0.5-2%. The derivation and the TFLOP/s are in results/NOTES.md.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x256x64: 1002.1 TFLOP/s = 106% of the mma.sp m16n8k32 loop (948), 1.47x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_731aa7e).
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/common/fragments.h"
#include "kernels/wgmma_sp/s05_persistent.cuh"

namespace sparse24::wgmma_sp {

// D through shared memory and TMA stores: per consumer warpgroup one slab of 64 rows x kEpiCols columns of D
// (one swizzle row of SLAB_ROW_BYTES per row of D, one TMA box), in the kernel's shared memory after the ring.
// prepare() decides per problem: TMA writes whole 16-byte pieces at 16-byte aligned addresses and cannot add
// beta * C, so with beta != 0 or unaligned D the registers' epilogue (s02's) runs instead.
//
// The slab holds D in its own type, after the factor, exactly what s02's RegisterEpilogue would have stored:
//   D (kD)        factor                         slab row (128 B)   slab row (64 B)    lane's store
//   fp16 / bf16   alpha (16-bit inputs)          64 columns         32 columns         4-byte pair
//   bf16          alpha (fp8 inputs, f32 acc)    64 columns         32 columns         4-byte pair
//   bf16 scaled   alpha sa sb r[m] c[n]          64 columns         32 columns         4-byte pair
//   int32         none (alpha = 1, exact)        32 columns         16 columns         8-byte pair
//   f32 (tf32)    alpha                          32 columns         16 columns         8-byte pair (session 12)
// The scaled factor is RegisterEpilogue's: EpilogueScales' row part once per thread, the column pairs of a slab
// loaded before it is written, the product by kernels/common/epilogue.cuh's prescaled() (the same f32 bits).
// SLAB_ROW_BYTES: 128 (s06's 16-bit 64 x 64 slab, 8 KB, 128-byte swizzle) or 64 (4 KB, 64-byte swizzle: the int8
// 128 x 256 ring of 5 x 42 KB leaves 17 KB, not the 16 KB + 1.08 KB that two 8 KB slabs, the barriers and the
// alignment need); TmaStoreFor below picks the widest that fits.
template <class TileT, int SLAB_ROW_BYTES = 128>
struct TmaStoreEpilogue : RegisterEpilogue<TileT> {
  using Tile = TileT;
  using Fallback = RegisterEpilogue<TileT>;
  using Instr = typename Tile::Instr;
  using Acc = typename Tile::Acc;
  static constexpr bool kScaled = Tile::Operands::kHasScales;
  static constexpr int kDBytes = bytes_of(Tile::kD);
  static_assert(kDBytes == 2 || kDBytes == 4, "D of 2 bytes (fp16, bf16) or 4 bytes (int32, f32): a lane's pair "
                                              "is one 4- or 8-byte store");
  static_assert(Tile::kD != DType::int32 || (std::is_same_v<Acc, int32_t> && !kScaled),
                "an int32 D is int8's exact s32 sum, unscaled (operands.h)");
  static_assert(SLAB_ROW_BYTES == 128 || SLAB_ROW_BYTES == 64, "a slab row is one 128- or 64-byte swizzle row");
  static constexpr int kSlabRowBytes = SLAB_ROW_BYTES;        // one swizzle row per row of D
  static constexpr int kEpiCols = kSlabRowBytes / kDBytes;    // 64 columns of 16-bit D at 128 bytes
  static constexpr int kEpiTiles = kEpiCols / 8;              // m16n8 accumulator tiles per slab row block
  static constexpr int kEpiSlabBytes = Instr::kM * kSlabRowBytes;  // 8 KB (4 KB at 64-byte rows)
  static constexpr int kSmemBytes = Tile::kConsumers * kEpiSlabBytes;
  static constexpr tma::Swizzle kSlabSwizzle = wgmma::tma_swizzle_for(kSlabRowBytes);
  static_assert(Tile::kBN % kEpiCols == 0, "the TMA-store epilogue writes whole slabs");

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
      lp.d = tma::encode_2d(a.d, kDBytes, a.M, a.N, a.ldd * kDBytes, Instr::kM, kEpiCols, kSlabSwizzle);
  }

  template <class P>
  static __device__ __forceinline__ void store(const Acc (&acc)[Tile::kAccRegs], const GemmArgs& args, const P& maps,
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

  // Byte `byte` of row `row` of a slab in its swizzle: 16-byte chunk c of row r at c ^ r % 8 (128-byte rows) or
  // c ^ (r / 2) % 4 (64-byte rows, two rows per 128 bytes of banks).
  static __device__ __forceinline__ int slab_offset(int row, int byte) {
    if constexpr (kSlabRowBytes == 128)
      return row * kSlabRowBytes + (((byte / 16) ^ (row % 8)) * 16) + byte % 16;
    else
      return row * kSlabRowBytes + (((byte / 16) ^ (row / 2 % 4)) * 16) + byte % 16;
  }

  // One consumer warpgroup: its 64 x BN tile of D in kEpiCols-column slabs through its shared-memory slab. Per slab:
  // the leader waits until the previous TMA store has read the slab (bulk_wait_group_read), the warpgroup meets
  // (named barrier 1 + consumer), every thread writes its accumulators as D pairs (alpha-scaled, or with the scales,
  // or int32 as they are), fences them to the async proxy, the warpgroup meets again and the leader issues the TMA
  // store. Bank conflicts (a warp's stores: 8 rows x one m16n8 tile's 8 columns): 16-bit pairs are 8 rows x one
  // 16-byte chunk, in 32 different banks (one wavefront); 8-byte pairs are 8 rows x 32 bytes, 256 bytes that need
  // two wavefronts, and the swizzle gives exactly two (rows r and r ^ 1 share chunks at 128 bytes, rows r and
  // r ^ 2 at 64). Rows past M and columns past N are clipped by the TMA store; whole slabs past them are skipped
  // (uniformly across the warpgroup).
  template <class P>
  static __device__ void store_tile_tma(const Acc (&acc)[Tile::kAccRegs], const GemmArgs& args, const P& maps,
                                        BlockCoord o, int consumer, uint32_t slab, uint8_t* slab_generic) {
    using E = Elem<Tile::kD>;
    const int warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
    const bool leader = threadIdx.x % 128 == 0;
    const int row0 = o.m + consumer * Instr::kM;
    if (row0 >= args.M) return;
    // The scales' row part, once per thread (its rows g and g + 8 of its warp's 16), as RegisterEpilogue's.
    [[maybe_unused]] EpilogueScales scales{};
    [[maybe_unused]] float row_factor[2] = {};
    if constexpr (kScaled) {
      scales = EpilogueScales::load(args);
      const int warp_row0 = row0 + warp * Tile::kWarpRows;
      row_factor[0] = scales.row_factor(warp_row0 + frag::acc_m16n8(lane, 0).row, args.M);
      row_factor[1] = scales.row_factor(warp_row0 + frag::acc_m16n8(lane, 2).row, args.M);
    }
#pragma unroll
    for (int j = 0; j < Tile::kBN / kEpiCols; ++j) {
      const int col0 = o.n + j * kEpiCols;
      if (col0 >= args.N) break;
      // The slab's column scales before the wait: their loads overlap the previous store's read.
      [[maybe_unused]] float2 col_factor[kEpiTiles];
      if constexpr (kScaled) {
#pragma unroll
        for (int t = 0; t < kEpiTiles; ++t)
          col_factor[t] = scales.col_factors(col0 + t * 8 + frag::acc_m16n8(lane, 0).col, args.N);
      }
      if (leader) ptx::bulk_wait_group_read<0>();
      ptx::named_barrier_sync(1 + consumer, 128);
#pragma unroll
      for (int t = 0; t < kEpiTiles; ++t)
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const frag::RowCol rc = frag::acc_m16n8(lane, 2 * half);
          const int row = warp * Tile::kWarpRows + rc.row, byte = (t * 8 + rc.col) * kDBytes;
          const int at = slab_offset(row, byte);
          const Acc* v = &acc[4 * (j * kEpiTiles + t) + 2 * half];
          if constexpr (Tile::kD == DType::int32) {
            *reinterpret_cast<int2*>(slab_generic + at) = make_int2(v[0], v[1]);
          } else if constexpr (kScaled) {
            *reinterpret_cast<typename E::type2*>(slab_generic + at) =
                E::from_float2(prescaled(row_factor[half], col_factor[t].x, v[0]),
                               prescaled(row_factor[half], col_factor[t].y, v[1]));
          } else {
            *reinterpret_cast<typename E::type2*>(slab_generic + at) =
                E::from_float2(args.alpha * v[0], args.alpha * v[1]);
          }
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

// The widest slab row (128, else 64 bytes) for which a kernel on `Ring` fits the 227 KB a block may have: the
// skeleton's layout (kernel.cuh: ring, epilogue buffer, barriers, + kAlign for the base's rounding).
template <class Ring>
constexpr int tma_store_slab_row_bytes() {
  constexpr int kFixed = Ring::kBytes + Ring::kBarrierBytes + Ring::kAlign;
  constexpr int kSlabsOfOneRow = Ring::Tile::kConsumers * Ring::Tile::Instr::kM;  // bytes per byte of slab row
  return kFixed + kSlabsOfOneRow * 128 <= 227 * 1024 ? 128 : kFixed + kSlabsOfOneRow * 64 <= 227 * 1024 ? 64 : 0;
}

// The epilogue a kernel composes, chosen by name (s12_lazypromote's last parameter): s02's RegisterEpilogue, or
// this step's TmaStoreEpilogue with the widest slab that fits beside the ring.
struct RegisterStore {
  static constexpr bool kTmaStore = false;
  template <class Ring>
  using For = RegisterEpilogue<typename Ring::Tile>;
};
struct TmaStore {
  static constexpr bool kTmaStore = true;
  template <class Ring>
  using For = TmaStoreEpilogue<typename Ring::Tile, tma_store_slab_row_bytes<Ring>()>;
};
template <class Ring>
using TmaStoreFor = TmaStore::For<Ring>;

// PERSISTENT = false: the same epilogue on s04's one-CTA-per-tile grid (at 16384^3 s04 beats s05: the persistent
// clusters drift apart, results/NOTES.md). Out: what the epilogue writes (wgmma::Unscaled: D of the input type at
// 16 bits, int32 for int8; wgmma::ScaledTo<D>: D with the per-tensor, per-row and per-column scales).
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int CLUSTER,
          bool PERSISTENT = true, class Out = wgmma::Unscaled>
struct s06_tmastore
    : wgmma::Kernel<s06_tmastore<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, PERSISTENT, Out>,
                    typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Mainloop,
                    typename std::conditional_t<
                        PERSISTENT, s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>,
                        s04_multicast<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>>::Scheduler,
                    TmaStoreFor<typename s05_persistent<T, BM, BN, BK, WM, WN, STAGES, GROUP, CLUSTER, Out>::Ring>> {
  static_assert(tma_store_slab_row_bytes<typename s06_tmastore::Ring>() != 0,
                "the ring leaves no room for two 64-byte-row slabs: drop a stage");
};

}  // namespace sparse24::wgmma_sp
