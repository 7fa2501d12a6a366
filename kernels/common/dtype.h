// Data-type traits: everything a kernel, the format code or the harness needs to know about an element type.
//
// Host and device code both include this file (it has no CUDA-only constructs), so the CPU reference, the GPU
// kernels and the harness read the same facts from one place. Facts about the sparse instructions come from
// docs/sparse-tensor-cores.md section 1 (verified on an H200 for the 16-bit forms).
#pragma once

#include <cstdint>
#include <string>

namespace sparse24 {

// Only the 16-bit types have kernels today; the enum is where int8, e4m3/e5m2 and tf32 will be added.
enum class DType : int { fp16, bf16 };

// Runtime description of a dtype, for code that dispatches on a DType value (harness, registry, format).
struct DTypeInfo {
  DType id;
  const char* name;          // the spelling used in variant names and on the command line
  int bits;                  // storage bits of one element
  int sign_bit;              // bit index of the sign: |x| ordering is the ordering of (bits & ~sign) for floats
  int group;                 // dense elements per metadata chunk: 4 for 2:4 (2 for tf32's 1:2, later)
  int keep;                  // elements kept per chunk
  int instr_k;               // dense K of the largest warp-level mma.sp shape (m16n8k32 for 16-bit)
  double unit_roundoff;      // u: half the spacing of the type's numbers at 1.0 (2^-8 bf16, 2^-11 fp16)
  double rel_error_bound;    // relative Frobenius bound for the random-normal check, see NOTE below
};

// NOTE: the random-normal bound. Both our kernels and cuBLAS accumulate in f32 and round once to the output type,
// so the two results differ only where different summation orders land on different sides of a rounding
// boundary: a few elements by one ulp. One rounding is at most 2^-8 relative for bf16 and 2^-11 for fp16 (the unit
// roundoff); we allow twice that as a Frobenius norm over the whole output, far above the few flipped roundings
// and far below what a layout or indexing bug gives (an error of order 1). A norm over the whole output can hide a
// small wrong region, so the check also bounds every element (harness/check.cu): |d - ref| <= 4u|ref| + u rms(ref).
inline constexpr DTypeInfo kDTypes[] = {
    {DType::fp16, "fp16", 16, 15, 4, 2, 32, 1.0 / 2048.0, 2.0 / 2048.0},
    {DType::bf16, "bf16", 16, 15, 4, 2, 32, 1.0 / 256.0, 2.0 / 256.0},
};

inline constexpr const DTypeInfo& info(DType t) { return kDTypes[static_cast<int>(t)]; }
inline const char* name(DType t) { return info(t).name; }

// Parses "fp16"/"bf16"; returns false on anything else.
inline bool parse_dtype(const std::string& s, DType* out) {
  for (const auto& d : kDTypes)
    if (s == d.name) { *out = d.id; return true; }
  return false;
}

}  // namespace sparse24
