// dense step 02, "smem": the dense counterpart of mma_sp/s02_smem.cuh, for a like-for-like ratio.
//
// Same block and warp tiling, same B tile, same shared-memory scheme and epilogue; the only differences are the
// ones sparsity makes: A is the dense BM x BK tile (twice the values, no metadata), and each 32-wide k-step is two
// dense mma.sync m16n8k16 instead of one mma.sp m16n8k32. So the ratio sparse / dense at the same step isolates
// what the sparse instruction and the halved A traffic buy, free of tiling differences.
//
// Preconditions (checked by the registry before launch): the sparse step's rules (M % 32 == 0, K % BK == 0, any
// N >= 1), kept identical so that both run exactly the same shapes.
// Expected bottleneck: as the sparse s02, load and compute in turn, no overlap.
// Measured: NVIDIA H100 80GB HBM3, 8192x8192x8192 bf16, best tile 128x128x64: 234.9 TFLOP/s = 37% of the mma.sync m16n8k16 loop (642), 0.35x cuBLAS (run nvidia-h100-80gb-hbm3/2026-11-22_a89f4fa).
//
// Shared tiles, rows padded by 16 bytes (row stride an odd number of 16-byte chunks: conflict-free ldmatrix):
//   A  BM rows x (BK + 8) elements   (BK = 64: 144-byte stride)
//   B  BN rows x (BK + 8) elements
#pragma once

#include <cstdint>

#include "kernels/common/elem.cuh"
#include "kernels/common/instr.h"
#include "kernels/common/launch.cuh"
#include "kernels/common/epilogue.cuh"
#include "kernels/common/ptx.cuh"
#include "kernels/common/tile_io.cuh"
#include "kernels/format/format.h"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"

namespace sparse24::dense {

template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES>
struct s02_smem : WarpTiled<s02_smem<T, BM, BN, BK, WM, WN, STAGES>, T, BM, BN, BK, WM, WN, STAGES> {
  using Base = WarpTiled<s02_smem, T, BM, BN, BK, WM, WN, STAGES>;
  using Base::kThreads;  // a dependent base's names need naming
  using Instr = instr::MmaM16N8K16<T>;
  static constexpr ArchRule kArch = {Instr::form().min_sm};  // mma.sync m16n8k16 bf16, ldmatrix: sm_80+
  static constexpr bool kSparse = false;
  static constexpr format::MetaLayout kMetaLayout = format::MetaLayout::Canonical;  // unused: no metadata
  static constexpr int kSmemBytes = 0;  // static shared memory only
  // The sparse s02's rule, for identical shape coverage.
  static constexpr ShapeRule kRule = {32, 1, BK, 1, 0, "kept equal to the sparse twin's lane-block rows",
                                      "whole K tiles"};

  static constexpr int kInstrK = Instr::kK;  // dense K of mma.sync m16n8k16
  static constexpr int kStepK = 32;   // k consumed per B fragment (ldmatrix.x4 of 4 8-wide k chunks)
  static constexpr int kKSteps = BK / kStepK;
  static constexpr int kWarpM = BM / WM, kWarpN = BN / WN;
  static constexpr int kMTiles = kWarpM / 16, kNTiles = kWarpN / 8;
  static constexpr int kElemBytes = sizeof(typename Elem<T>::type);
  static constexpr int kAStride = BK + 8;
  static constexpr int kBStride = BK + 8;

  static_assert(STAGES == 1, "s02_smem loads and computes in turn: one stage");
  static_assert(BK % kStepK == 0, "BK must be a multiple of 32");
  static_assert(kWarpM % 16 == 0 && kWarpN % 8 == 0, "warp tiles must be whole m16n8 tiles");
  static_assert((kAStride * kElemBytes / 16) % 2 == 1 && (kBStride * kElemBytes / 16) % 2 == 1,
                "row strides must be an odd number of 16-byte chunks for conflict-free ldmatrix");

  struct Shared {
    alignas(16) typename Elem<T>::type a[BM * kAStride];
    alignas(16) typename Elem<T>::type b[BN * kBStride];
  };
  static_assert(sizeof(Shared) <= 48 * 1024, "static shared memory is limited to 48 KB");

  static __device__ void run_block(const GemmArgs& args) {
    __shared__ Shared smem;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int warp_m = warp / WN, warp_n = warp % WN;
    const int M = args.M, N = args.N, K = args.K;
    const int block_m = blockIdx.y * BM, block_n = blockIdx.x * BN;

    const auto* a_g = static_cast<const uint8_t*>(args.a);
    const auto* x = static_cast<const uint8_t*>(args.b);
    const int64_t a_row_bytes = args.lda * kElemBytes, x_row_bytes = args.ldb * kElemBytes;

    // ldmatrix row addresses (as in the sparse s02; A is now 16 dense columns per fragment).
    const frag::RowCol la = frag::ldmatrix_x4_a_16x16(lane), lb = frag::ldmatrix_x4_b_8x32(lane);
    const uint32_t a_base = ptx::smem_addr(&smem.a[(warp_m * kWarpM + la.row) * kAStride + la.col]);
    const uint32_t b_base = ptx::smem_addr(&smem.b[(warp_n * kWarpN + lb.row) * kBStride + lb.col]);

    float acc[kMTiles][kNTiles][4] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
      copy_rows_16B<BM, BK * kElemBytes, kAStride * kElemBytes, kThreads>(
          reinterpret_cast<uint8_t*>(smem.a), a_g + block_m * a_row_bytes + k0 * kElemBytes, a_row_bytes,
          M - block_m);
      copy_rows_16B<BN, BK * kElemBytes, kBStride * kElemBytes, kThreads>(
          reinterpret_cast<uint8_t*>(smem.b), x + block_n * x_row_bytes + k0 * kElemBytes, x_row_bytes,
          N - block_n);
      __syncthreads();

#pragma unroll
      for (int ks = 0; ks < kKSteps; ++ks) {
        // Two k16 halves of this 32-wide step: A fragments for both, then one B ldmatrix.x4 serves both
        // (registers b0, b1 = k 0..15, b2, b3 = k 16..31).
        uint32_t a[kMTiles][2][4];
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
          for (int h = 0; h < 2; ++h)
            ptx::ldmatrix_x4(a[mt][h], a_base + (mt * 16 * kAStride + ks * kStepK + h * kInstrK) * kElemBytes);
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt) {
          uint32_t b[4];
          ptx::ldmatrix_x4(b, b_base + (nt * 8 * kBStride + ks * kStepK) * kElemBytes);
          const uint32_t b_lo[2] = {b[0], b[1]}, b_hi[2] = {b[2], b[3]};
#pragma unroll
          for (int mt = 0; mt < kMTiles; ++mt) {
            ptx::mma_m16n8k16<T>(acc[mt][nt], a[mt][0], b_lo);
            ptx::mma_m16n8k16<T>(acc[mt][nt], a[mt][1], b_hi);
          }
        }
      }
      __syncthreads();
    }

    store_warp_tile<T>(acc, block_m + warp_m * kWarpM, block_n + warp_n * kWarpN, args);
  }
};

}  // namespace sparse24::dense
