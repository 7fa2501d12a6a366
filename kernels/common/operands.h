// Operand combinations: the facts that belong to a (A, B, D, accumulator) tuple rather than to one type.
//
// dtype.h says what one element is (bits, group, roundoff, poison, magnitude key); this file says what a GEMM of
// given types is: bytes per element of each operand, the dense K of one sparse instruction (and of its dense
// twin) for the warp-level mma.sp and the Hopper wgmma.sp forms, the metadata geometry, the type the epilogue
// computes in, and whether the combination is legal at all, with the rule when it is not. Host and device code
// both include it. Instruction facts: docs/sparse-tensor-cores.md section 1 (table of forms).
#pragma once

#include "kernels/common/dtype.h"

namespace sparse24 {

// The types of one GEMM: A and B operands, D (and C) output, accumulator.
struct Operands {
  DType a, b, d, acc;
};
constexpr bool operator==(const Operands& x, const Operands& y) {
  return x.a == y.a && x.b == y.b && x.d == y.d && x.acc == y.acc;
}
constexpr bool operator!=(const Operands& x, const Operands& y) { return !(x == y); }

// The combination of today's kernels and of the harness default for an input type: A = B = t, D = t for 16-bit
// inputs; the accumulator and D that the type implies otherwise (int8 -> int32 D and accumulator; fp8 -> bf16 D,
// the output every fp8 peer offers; tf32 -> f32 D).
constexpr Operands default_operands(DType t) {
  switch (t) {
    case DType::fp16: return {t, t, t, DType::f32};
    case DType::bf16: return {t, t, t, DType::f32};
    case DType::tf32: return {t, t, DType::f32, DType::f32};
    case DType::int8: return {t, t, DType::int32, DType::int32};
    case DType::e4m3: return {t, t, DType::bf16, DType::f32};
    case DType::e5m2: return {t, t, DType::bf16, DType::f32};
    case DType::f32: return {t, t, t, t};      // not a GEMM input: operands_rule() refuses it
    case DType::int32: return {t, t, t, t};    // likewise
  }
  return {t, t, t, t};
}

namespace detail {
constexpr bool is_fp8(DType t) { return t == DType::e4m3 || t == DType::e5m2; }
constexpr bool is_16bit_float(DType t) { return t == DType::fp16 || t == DType::bf16; }
constexpr bool is_float_output(DType t) { return t == DType::fp16 || t == DType::bf16 || t == DType::f32; }
}  // namespace detail

// nullptr when (ops, with scales or not) is a legal GEMM of this repository, else the rule it breaks. Legal:
//   fp16 x fp16 or bf16 x bf16, f32 accumulator, D the input type or f32;
//   tf32 x tf32 (1:2), f32 accumulator, D f32, fp16 or bf16;
//   e4m3/e5m2 x e4m3/e5m2 (the mma.sp and wgmma.sp kinds allow the mixed pairs), f32 accumulator, D bf16, fp16 or
//     f32 (no 8-bit D: the quantization of an output is the next layer's business);
//   int8 x int8, int32 accumulator, D int32 (exact; then no scales), or D bf16, fp16 or f32 WITH scales (the
//     dequantized product: an int32 sum rounded into a float type without its scales is meaningless).
// constexpr, so that a kernel's traits can static_assert it and the harness can print the same words.
constexpr const char* operands_rule(const Operands& o, bool has_scales) {
  if (!valid_dtype(o.a) || !valid_dtype(o.b) || !valid_dtype(o.d) || !valid_dtype(o.acc))
    return "an operand type is not a DType value";
  if (!info(o.a).sparse_input) return "A must be a sparse input type (fp16, bf16, tf32, int8, e4m3 or e5m2)";
  if (detail::is_fp8(o.a) != detail::is_fp8(o.b) || (!detail::is_fp8(o.a) && o.a != o.b))
    return "A and B must have the same type (only e4m3 and e5m2 may be mixed)";
  if (o.a == DType::int8) {
    if (o.acc != DType::int32) return "int8 accumulates in int32";
    if (o.d == DType::int32)
      return has_scales ? "int32 D takes no scales (a scaled product is not an integer)" : nullptr;
    if (!detail::is_float_output(o.d)) return "int8 D must be int32, or bf16, fp16 or f32 with scales";
    return has_scales ? nullptr
                      : "int8 with a float D needs scales: without them the int32 sum would be rounded into a "
                        "type that cannot hold it exactly (use int32 D, or pass scales)";
  }
  if (o.acc != DType::f32) return "floating-point inputs accumulate in f32";
  if (detail::is_16bit_float(o.a))
    return (o.d == o.a || o.d == DType::f32) ? nullptr : "16-bit inputs write D in their own type or f32";
  if (o.a == DType::tf32 || detail::is_fp8(o.a))
    return detail::is_float_output(o.d) ? nullptr : "tf32 and fp8 inputs write D in bf16, fp16 or f32";
  return "no rule for this combination";
}
constexpr bool operands_legal(const Operands& o, bool has_scales) { return operands_rule(o, has_scales) == nullptr; }

// Facts of a legal combination, at run time (harness, registry, format) and at compile time (OperandTraits).
struct OperandInfo {
  int a_bytes, b_bytes, d_bytes, acc_bytes;  // bytes per element of each operand (A dense; values have the same)
  int sparse_k;           // dense K of one sparse instruction: mma.sp m16n8kK and wgmma.sp m64nNkK (the same K)
  int dense_k;            // dense K of the dense twin (mma.sync m16n8kK, wgmma m64nNkK): half of sparse_k
  int mma_sp_selectors;   // selector values F of mma.sp at sparse_k: 2 (F = 0, 1) for 16-bit and tf32, 1 for k64
  int group, keep;        // sparsity of A: 4/2 (2:4) or 2/1 (tf32's 1:2)
  int meta_bits_per_group;       // 4: one nibble per group (a 2:4 code; tf32 pairs use the codes 0x4 and 0xE)
  int meta_bits_per_k_row;       // metadata bits per instruction K of one row: sparse_k / group * 4
  DType epilogue;         // the type the epilogue computes in before the one rounding to D: f32 for float D,
                          // int32 for int32 D (exact: no scales, alpha = 1, beta 0 or 1)
};

// Requires a legal combination (operands_rule() == nullptr with or without scales); a refused one gives zeros.
constexpr OperandInfo operand_info(const Operands& o) {
  OperandInfo r{};
  if (!valid_dtype(o.a) || !valid_dtype(o.b) || !valid_dtype(o.d) || !valid_dtype(o.acc) || !info(o.a).sparse_input)
    return r;
  r.a_bytes = bytes_of(o.a), r.b_bytes = bytes_of(o.b), r.d_bytes = bytes_of(o.d), r.acc_bytes = bytes_of(o.acc);
  // One sparse instruction reads 256 bits of compressed A per row in every form: 16 values of 16 bits (k32), 32 of
  // 8 bits (k64), 8 of 32 bits (k16; tf32 keeps 1 of 2). So sparse_k = 256 / bits * group / keep.
  r.group = info(o.a).group, r.keep = info(o.a).keep;
  r.sparse_k = 256 / info(o.a).bits * r.group / r.keep;
  r.dense_k = r.sparse_k / 2;
  r.mma_sp_selectors = info(o.a).bits == 8 ? 1 : 2;
  r.meta_bits_per_group = 4;
  r.meta_bits_per_k_row = r.sparse_k / r.group * r.meta_bits_per_group;
  r.epilogue = o.d == DType::int32 ? DType::int32 : DType::f32;
  return r;
}
static_assert(operand_info(default_operands(DType::bf16)).sparse_k == 32, "16-bit mma.sp/wgmma.sp is k32");
static_assert(operand_info(default_operands(DType::int8)).sparse_k == 64, "8-bit mma.sp/wgmma.sp is k64");
static_assert(operand_info(default_operands(DType::e4m3)).sparse_k == 64, "8-bit mma.sp/wgmma.sp is k64");
static_assert(operand_info(default_operands(DType::tf32)).sparse_k == 16, "tf32 mma.sp/wgmma.sp is k16");
// Every form's metadata register holds 2 rows x sparse_k/group nibbles per supplying lane pair = 32 bits per lane
// pair: the 16-bit fields of docs/sparse-tensor-cores.md section 3 for k32 and k16, the 32-bit fields of k64.
static_assert(operand_info(default_operands(DType::fp16)).meta_bits_per_k_row == 32, "k32: 8 nibbles per row");
static_assert(operand_info(default_operands(DType::tf32)).meta_bits_per_k_row == 32, "k16: 8 pair nibbles per row");
static_assert(operand_info(default_operands(DType::int8)).meta_bits_per_k_row == 64, "k64: 16 nibbles per row");

// The compile-time face of one legal combination, for kernels: refuses an illegal one at compile time with the
// rule's words in the message of the failing static_assert's context.
template <DType A, DType B, DType D, DType Acc, bool kHasScales = false>
struct OperandTraits {
  static constexpr Operands kOperands = {A, B, D, Acc};
  static_assert(operands_legal(kOperands, kHasScales), "illegal operand combination: see operands_rule()");
  static constexpr OperandInfo kInfo = operand_info(kOperands);
  static constexpr int kABytes = kInfo.a_bytes, kBBytes = kInfo.b_bytes, kDBytes = kInfo.d_bytes;
  static constexpr int kSparseK = kInfo.sparse_k, kDenseK = kInfo.dense_k;
  static constexpr int kGroup = kInfo.group, kKeep = kInfo.keep;
  static constexpr DType kEpilogue = kInfo.epilogue;
};

}  // namespace sparse24
