// Data-type traits: everything a kernel, the format code or the harness needs to know about an element type.
//
// Host and device code both include this file (it has no CUDA-only constructs), so the CPU reference, the GPU
// kernels and the harness read the same facts from one place. Facts about the sparse instructions live with the
// instruction forms (kernels/common/instr.h), and facts about a COMBINATION of types (A, B, D, accumulator: dense
// K per instruction, epilogue conversion, which combinations are legal) in kernels/common/operands.h: one type
// can be the operand of several forms and combinations.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace sparse24 {

// Element types of operands, outputs and accumulators. fp16 and bf16 are the input types with kernels today;
// f32 is their accumulator (and the reference's output). int8, e4m3/e5m2 and tf32 have the format code and the
// harness's tables but no kernels yet; int32 is int8's accumulator and output.
// Adding a value here makes every `switch` over DType that lacks a case fail to compile (-Werror=switch), and
// every run-time dispatch that does not know it throws UnsupportedType, so a new type can never be computed as
// another one. Values are appended: kDTypes below is indexed by them.
enum class DType : int {
  fp16,   // IEEE binary16: 1.5.10
  bf16,   // bfloat16: 1.8.7
  f32,    // IEEE binary32: 1.8.23
  int8,   // two's-complement 8-bit integer, -128..127
  e4m3,   // OCP FP8 E4M3 ("fn"): 1.4.3, bias 7, no infinities, NaN = S.1111.111 only; max 448
  e5m2,   // OCP FP8 E5M2: 1.5.2, bias 15, IEEE-like: inf = S.11111.00, NaN = S.11111.{01,10,11}; max 57344
  tf32,   // TensorFloat-32: 1.8.10 in 32-bit storage (an f32 whose low 13 mantissa bits the tensor core ignores)
  int32,  // two's-complement 32-bit integer: int8's accumulator and output
};
inline constexpr int kDTypeCount = static_cast<int>(DType::int32) + 1;

// Thrown by run-time dispatch on a type it has no code for.
struct UnsupportedType : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// How pruning ranks the magnitudes of a type (kernels/format/rules.h implements each; format.h has the rules):
//   FloatNanHigh:   sign-magnitude float; key = bits with the sign cleared, so |x| orders like the float, -0 is 0,
//                   and every NaN ranks above inf (a NaN is never dropped for a number). fp16, bf16, f32, tf32.
//   FloatNanLow:    sign-magnitude float whose NaNs rank below every nonzero number and above zero: a NaN is never
//                   kept over a nonzero number, only over zeros (so a chunk of NaNs and zeros keeps its NaNs, and
//                   compressing a pruned matrix never drops one). e4m3, e5m2 (issue 16's rule for 8-bit floats).
//   TwosComplement: key = |x| of the signed integer, so -128 ranks above 127 for int8 and 0 is the smallest.
enum class MagnitudeKey : int { FloatNanHigh, FloatNanLow, TwosComplement };

// Runtime description of a dtype, for code that dispatches on a DType value (harness, registry, format).
struct DTypeInfo {
  DType id;
  const char* name;          // the spelling used in variant names, on the command line and in JSON
  int bits;                  // storage bits of one element
  int sign_bit;              // bit index of the sign (the storage's top bit for every type here)
  bool is_integer;           // two's-complement integer (exact arithmetic, no NaN, no rounding)
  bool sparse_input;         // can be the sparse operand A (has a compressed format and a sparse instruction)
  int group;                 // dense elements per metadata group: 4 for 2:4, 2 for tf32's 1:2; 0: not sparse
  int keep;                  // elements kept per group: 2 for 2:4, 1 for 1:2
  double unit_roundoff;      // u: half the spacing of the type's numbers at 1.0 (2^-p for p significand bits);
                             // 0 for integers (exact)
  uint32_t poison;           // what an unwritten output holds (the low `bits` bits of this word), chosen so that
                             // no correct kernel writes it by chance: a NaN for floats (all bits set: a NaN in
                             // every float type here), the most negative value for integers (see below)
  uint32_t max_non_nan;      // floats: the largest magnitude bits that are not a NaN (inf, or the largest finite
                             // value for e4m3); a magnitude above it is a NaN. Integers: 0 (no NaN)
  MagnitudeKey key;          // how pruning ranks magnitudes
};

// NOTE: the integer poisons. int32 D = 0x80000000 = -2^31: an int8 GEMM's output is a sum of K products of at most
// 128 * 128 = 2^14 in magnitude, so reaching -2^31 needs K >= 2^17 = 131072 products all at -2^14 (and with scales
// or beta the output is not int32 at all), so for K < 2^17 no correct kernel can write it. int8 storage = 0x80 =
// -128: symmetric quantizers produce -127..127, so -128 in an output means "never written".
inline constexpr DTypeInfo kDTypes[] = {
    // id          name    bits sign int    sparse grp keep  u               poison       max_non_nan  key
    {DType::fp16, "fp16", 16, 15, false, true, 4, 2, 1.0 / 2048.0, 0xFFFFu, 0x7C00u, MagnitudeKey::FloatNanHigh},
    {DType::bf16, "bf16", 16, 15, false, true, 4, 2, 1.0 / 256.0, 0xFFFFu, 0x7F80u, MagnitudeKey::FloatNanHigh},
    {DType::f32, "f32", 32, 31, false, false, 0, 0, 1.0 / 16777216.0, 0xFFFFFFFFu, 0x7F800000u,
     MagnitudeKey::FloatNanHigh},
    {DType::int8, "int8", 8, 7, true, true, 4, 2, 0.0, 0x80u, 0u, MagnitudeKey::TwosComplement},
    {DType::e4m3, "e4m3", 8, 7, false, true, 4, 2, 1.0 / 16.0, 0xFFu, 0x7Eu, MagnitudeKey::FloatNanLow},
    {DType::e5m2, "e5m2", 8, 7, false, true, 4, 2, 1.0 / 8.0, 0xFFu, 0x7Cu, MagnitudeKey::FloatNanLow},
    {DType::tf32, "tf32", 32, 31, false, true, 2, 1, 1.0 / 2048.0, 0xFFFFFFFFu, 0x7F800000u,
     MagnitudeKey::FloatNanHigh},
    {DType::int32, "int32", 32, 31, true, false, 0, 0, 0.0, 0x80000000u, 0u, MagnitudeKey::TwosComplement},
};
static_assert(sizeof(kDTypes) / sizeof(kDTypes[0]) == kDTypeCount, "kDTypes needs one entry per DType");

constexpr bool dtype_table_consistent() {
  for (int i = 0; i < kDTypeCount; ++i) {
    const DTypeInfo& d = kDTypes[i];
    if (static_cast<int>(d.id) != i) return false;                        // enum order
    if (d.bits != 8 && d.bits != 16 && d.bits != 32) return false;        // whole bytes, one register at most
    if (d.sign_bit != d.bits - 1) return false;                           // the sign is the top bit
    if (d.sparse_input != (d.group > 0)) return false;                    // a sparse type has a group
    if (d.sparse_input && !((d.group == 4 && d.keep == 2) || (d.group == 2 && d.keep == 1))) return false;
    if (d.is_integer != (d.key == MagnitudeKey::TwosComplement)) return false;
    if (d.is_integer != (d.unit_roundoff == 0.0)) return false;
    if (d.bits < 32 && (d.poison >> d.bits) != 0) return false;           // the poison fits the storage
    if (d.bits < 32 && (d.max_non_nan >> d.bits) != 0) return false;
  }
  return true;
}
static_assert(dtype_table_consistent(), "kDTypes: an entry breaks an invariant checked in dtype_table_consistent()");

// True for a value that names a DType (a cast from an int may not).
inline constexpr bool valid_dtype(DType t) { return static_cast<int>(t) >= 0 && static_cast<int>(t) < kDTypeCount; }
inline constexpr const DTypeInfo& info(DType t) { return kDTypes[static_cast<int>(t)]; }
inline const char* name(DType t) { return valid_dtype(t) ? info(t).name : "unknown"; }
inline constexpr int bytes_of(DType t) { return info(t).bits / 8; }

// Parses a type name ("fp16", "bf16", "f32", "int8", "e4m3", "e5m2", "tf32", "int32"); false on anything else.
inline bool parse_dtype(const std::string& s, DType* out) {
  for (const auto& d : kDTypes)
    if (s == d.name) { *out = d.id; return true; }
  return false;
}

}  // namespace sparse24
