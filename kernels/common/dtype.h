// Data-type traits: everything a kernel, the format code or the harness needs to know about an element type.
//
// Host and device code both include this file (it has no CUDA-only constructs), so the CPU reference, the GPU
// kernels and the harness read the same facts from one place. Facts about the sparse instructions live with the
// instruction forms (kernels/common/instr.h), not here: one type can be the operand of several forms.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace sparse24 {

// Element types of operands, outputs and accumulators. fp16 and bf16 are the input types with kernels today;
// f32 is the accumulator (and the reference's output). int8, e4m3/e5m2 and tf32 come next: adding one here makes
// every `switch` over DType that lacks a case fail to compile (-Werror=switch), and every run-time dispatch that
// does not know it throws UnsupportedType, so a new type can never be computed as another one.
enum class DType : int { fp16, bf16, f32 };

// Thrown by run-time dispatch on a type it has no code for.
struct UnsupportedType : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Runtime description of a dtype, for code that dispatches on a DType value (harness, registry, format).
struct DTypeInfo {
  DType id;
  const char* name;          // the spelling used in variant names, on the command line and in JSON
  int bits;                  // storage bits of one element
  int sign_bit;              // bit index of the sign: |x| ordering is the ordering of (bits & ~sign) for floats
  bool sparse_input;         // can be the 2:4 operand A (has a compressed format and a sparse instruction)
  int group;                 // dense elements per metadata chunk: 4 for 2:4 (2 for tf32's 1:2, later); 0: none
  int keep;                  // elements kept per chunk
  double unit_roundoff;      // u: half the spacing of the type's numbers at 1.0 (2^-8 bf16, 2^-11 fp16, 2^-24 f32)
};

inline constexpr DTypeInfo kDTypes[] = {
    {DType::fp16, "fp16", 16, 15, true, 4, 2, 1.0 / 2048.0},
    {DType::bf16, "bf16", 16, 15, true, 4, 2, 1.0 / 256.0},
    {DType::f32, "f32", 32, 31, false, 0, 0, 1.0 / 16777216.0},
};
static_assert(sizeof(kDTypes) / sizeof(kDTypes[0]) == static_cast<int>(DType::f32) + 1,
              "kDTypes needs one entry per DType, in enum order");

inline constexpr const DTypeInfo& info(DType t) { return kDTypes[static_cast<int>(t)]; }
inline const char* name(DType t) { return info(t).name; }
inline constexpr int bytes_of(DType t) { return info(t).bits / 8; }

// Parses a type name ("fp16", "bf16", "f32"); returns false on anything else.
inline bool parse_dtype(const std::string& s, DType* out) {
  for (const auto& d : kDTypes)
    if (s == d.name) { *out = d.id; return true; }
  return false;
}

}  // namespace sparse24
