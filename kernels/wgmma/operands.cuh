// The operand descriptions and the block tile of the wgmma families (kernels/wgmma_sp, kernels/wgmma_dense).
//
// Shared by both families (this folder is not a family: no family.cmake, no steps). What a stage ring, a mainloop or
// an epilogue needs to know about the operand types lives in ONE place per combination: SparseOperands<T> (2:4 A,
// wgmma.mma_async.sp m64nNk32) and DenseOperands<T> (dense A, wgmma.mma_async m64nNk16). Tile<Ops, BM, BN, BK, WM,
// WN> derives every shared-memory size, swizzle and k-step offset from the description and the block tile, so an
// operand combination with other element bytes (8-bit, tf32) needs a new description, not new constants in the
// components. Element bytes come from dtype.h (bytes_of); the instruction shapes from instr.h.
//
// Both descriptions take 16-bit and 8-bit inputs (instr.h's WgmmaSp / WgmmaDense pick the form: k32 / k16 at 16 bits,
// k64 / k32 at 8 bits, the same bytes of K per k-step), and Tile asserts the geometry the components are written
// for: B rows of one 128-byte swizzle row per k-tile (BK = 64 values at 16 bits, 128 at 8 bits), or of two such
// panels for the sparse wide k-tiles (BK = 128 / 256, A rows of 128 bytes: wgmma_sp/s21_widebox.cuh). What the
// epilogue writes is the description's Output: Unscaled (D of default_operands: the input type at 16 bits, int32
// for int8, bf16 for fp8; alpha and beta only) or ScaledTo<D> (D, and the epilogue applies GemmArgs' per-tensor,
// per-row and per-column scales: kernels/common/epilogue.cuh's EpilogueScales).
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/common/dtype.h"
#include "kernels/common/instr.h"
#include "kernels/common/operands.h"
#include "kernels/common/ptx_sm90.cuh"
#include "kernels/common/tma.h"
#include "kernels/registry.h"

namespace sparse24::wgmma {

// The swizzle mode TMA writes and wgmma reads for shared-memory rows of `row_bytes` (one row of a swizzle atom of 8
// rows): 128-byte rows in 128-byte swizzle (chunk c of row r at c ^ r % 8), 64-byte rows in 64-byte swizzle
// (c ^ (r / 2) % 4). The two enums are the two units' spellings of the same mode.
constexpr ptx::SmemSwizzle smem_swizzle_for(int row_bytes) {
  return row_bytes == 128 ? ptx::SmemSwizzle::B128 : row_bytes == 64 ? ptx::SmemSwizzle::B64 : ptx::SmemSwizzle::None;
}
constexpr tma::Swizzle tma_swizzle_for(int row_bytes) {
  return row_bytes == 128 ? tma::Swizzle::B128 : row_bytes == 64 ? tma::Swizzle::B64 : tma::Swizzle::None;
}

// What a kernel writes: D's type and whether its epilogue applies the scales. Unscaled: the D of default_operands
// (operands.h), alpha and beta only; ScaledTo<D>: D, with the per-tensor, per-row and per-column scales of GemmArgs
// (the form int8 needs for a floating-point D, and the per-channel x per-token scaling of fp8 inference).
struct Unscaled {
  template <DType T>
  static constexpr DType d = default_operands(T).d;
  static constexpr bool kScales = false;
};
template <DType D>
struct ScaledTo {
  template <DType T>
  static constexpr DType d = D;
  static constexpr bool kScales = true;
};

// The accumulator registers of an operand combination: s32 for int8, f32 otherwise.
template <DType Acc>
using AccRegister = std::conditional_t<Acc == DType::int32, int32_t, float>;

// 2:4-sparse A (values compressed to K/2 per row, metadata beside), dense B, f32 (or, for int8, s32) accumulators:
// wgmma.mma_async.sp m64nNk32 at 16 bits, m64nNk64 at 8 bits (PTX ISA 9.7.15.6), A and B from shared memory.
// kPromote: the accumulator keeps too few bits of a long sum to be the whole K's (fp8 keeps about 14 bits of the
// running sum, docs/sparse-tensor-cores.md §9), so a mainloop that supports it adds each k-tile's partial sum
// into f32 registers of its own (wgmma_sp/s10_promote.cuh); the others refuse such operands at compile time.
template <DType T, class Out = Unscaled>
struct SparseOperands {
  static constexpr bool kSparse = true;
  static constexpr Operands kTypes = {T, T, Out::template d<T>, default_operands(T).acc};
  static constexpr bool kHasScales = Out::kScales;
  static_assert(operands_legal(kTypes, kHasScales), "illegal operand combination: see operands_rule()");
  using Acc = AccRegister<kTypes.acc>;
  static constexpr bool kPromote = T == DType::e4m3 || T == DType::e5m2;
  template <int N>
  using Instr = instr::WgmmaSp<T, N>;
  static constexpr int kAPack = 2;        // dense K per stored A value: 2:4 keeps 2 of every 4
  static constexpr int kRateVsDense = 2;  // the sparse instruction's dense-equivalent rate over the dense one's
};

// The dense twin: dense A and B, wgmma.mma_async m64nNk16 (m64nNk32 at 8 bits): two of them cover the K of one
// sparse instruction.
template <DType T, class Out = Unscaled>
struct DenseOperands {
  static constexpr bool kSparse = false;
  static constexpr Operands kTypes = {T, T, Out::template d<T>, default_operands(T).acc};
  static constexpr bool kHasScales = Out::kScales;
  static_assert(operands_legal(kTypes, kHasScales), "illegal operand combination: see operands_rule()");
  using Acc = AccRegister<kTypes.acc>;
  static constexpr bool kPromote = T == DType::e4m3 || T == DType::e5m2;
  template <int N>
  using Instr = instr::WgmmaDense<T, N>;
  static constexpr int kAPack = 1;
  static constexpr int kRateVsDense = 1;
};

// A block tile of BM x BN x BK over the operand description Ops: WM x WN consumer warps (WM = 4 per consumer
// warpgroup, stacked along M, one m64 tile of the instruction each; WN = 1). The sizes every component reads.
template <class Ops, int BM, int BN, int BK, int WM, int WN>
struct Tile {
  using Operands = Ops;
  static constexpr DType T = Ops::kTypes.a;
  static constexpr DType kD = Ops::kTypes.d;  // what the epilogue writes
  using Acc = typename Ops::Acc;              // the accumulator registers' type
  using Instr = typename Ops::template Instr<BN>;
  static constexpr int kBM = BM, kBN = BN, kBK = BK, kWM = WM, kWN = WN;
  static constexpr int kConsumers = BM / Instr::kM;       // consumer warpgroups, one m64 tile each
  static constexpr int kThreads = 128 * (1 + kConsumers);  // + the producer warpgroup
  static constexpr int kAccRegs = Instr::kM * BN / 128;    // accumulators per consumer thread: 64 x BN / 128
  static constexpr int kWarpRows = Instr::kM / 4;          // rows of the m64 tile per warp of a warpgroup: 16
  static constexpr int kKSteps = BK / Instr::kK;           // 2 (sparse, k32) or 4 (dense, k16) per k-tile
  static constexpr int kElemBytes = bytes_of(T);           // A and B elements
  static constexpr int kAValues = BK / Ops::kAPack;        // A values per row and k-tile (compressed when sparse)
  static constexpr int kARowBytes = kAValues * kElemBytes;  // 64: a 64-byte swizzle row; dense 128: a 128-byte one
  static constexpr int kBRowBytes = BK * kElemBytes;       // 128: one 128-byte swizzle row (256: two, wide k-tiles)
  static constexpr int kAStepBytes = Instr::kK / Ops::kAPack * kElemBytes;  // one k-step of A: 32 (16 values)
  static constexpr int kBStepBytes = Instr::kK * kElemBytes;  // one k-step of B: 64 (sparse) or 32 (dense) bytes
  // B in panels: a 128-byte swizzle row is the widest a TMA box (inner box bytes <= the swizzle span) and a wgmma
  // descriptor (one swizzle atom along K) take, so a k-tile whose B rows are 256 bytes (BK = 128 at 16 bits, 256 at
  // 8: wgmma_sp/s21_widebox.cuh, for A rows of 128 bytes) is kBPanels panels of BN rows x 128 bytes one after the
  // other, each its own TMA box and its own swizzle atoms; k-step ks reads panel ks * kBStepBytes / 128.
  static constexpr int kBPanelRowBytes = 128;
  static constexpr int kBPanels = kBRowBytes / kBPanelRowBytes;
  static constexpr int kBPanelValues = kBPanelRowBytes / kElemBytes;  // B values per row of a panel (a TMA box)
  static constexpr int kBPanelBytes = BN * kBPanelRowBytes;
  static constexpr int kBAtomBytes = 8 * kBPanelRowBytes;            // the descriptor's stride: 8 rows of a panel
  static constexpr int b_step_offset(int ks) {
    return ks * kBStepBytes / kBPanelRowBytes * kBPanelBytes + ks * kBStepBytes % kBPanelRowBytes;
  }
  static constexpr ptx::SmemSwizzle kASwizzle = smem_swizzle_for(kARowBytes);
  static constexpr tma::Swizzle kATmaSwizzle = tma_swizzle_for(kARowBytes);
  static constexpr ptx::SmemSwizzle kBSwizzle = smem_swizzle_for(kBPanelRowBytes);
  static constexpr tma::Swizzle kBTmaSwizzle = tma_swizzle_for(kBPanelRowBytes);
  static constexpr int kABytes = BM * kARowBytes;
  static constexpr int kBBytes = BN * kBRowBytes;  // kBPanels x kBPanelBytes

  static_assert(WM == 4 * kConsumers && WN == 1, "WM = 4 warps per consumer warpgroup, one m64 tile each");
  static_assert(BM % Instr::kM == 0 && kConsumers >= 1 && kConsumers <= 4,
                "1 to 4 consumer warpgroups (the register split of kernel.cuh's consumer_regs)");
  static_assert(kBRowBytes == 128 || (Ops::kSparse && kBRowBytes == 256),
                "a k-tile of B is one 128-byte swizzle row (BK = 64 at 16 bits, 128 at 8), or two for the sparse "
                "wide k-tiles whose A rows are 128 bytes (BK = 128 at 16 bits, 256 at 8)");
  static_assert(kBStepBytes <= kBPanelRowBytes && kBPanelRowBytes % kBStepBytes == 0, "a k-step inside one panel");
  static_assert(kASwizzle != ptx::SmemSwizzle::None, "a k-tile of A is one 64- or 128-byte swizzle row");
  static_assert(kAValues / (Instr::kK / Ops::kAPack) == kKSteps && kAStepBytes * kKSteps == kARowBytes,
                "the k-steps of A tile its row");
  static_assert(kAccRegs <= 128, "at most 128 accumulator registers per consumer thread");
};

}  // namespace sparse24::wgmma
