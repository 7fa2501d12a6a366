// The tensor-core instruction forms the kernels use: one description per form (shape, operand types, dense K,
// sparsity selectors, architecture), read by the kernels (tile arithmetic, static_asserts), the registry
// (architecture rules) and the tests (which forms the one-instruction tests cover).
//
// Host and device code both include this file. The PTX itself is in kernels/common/ptx.cuh, one wrapper per form;
// the per-lane layouts are in kernels/common/fragments.h. Facts: docs/sparse-tensor-cores.md sections 1 and 3.
#pragma once

#include <type_traits>

#include "kernels/common/dtype.h"

namespace sparse24::instr {

struct Form {
  const char* ptx;   // the PTX instruction, as written in ptx.cuh
  int m, n, k;       // the dense shape: D is m x n, the dense A is m x k
  DType a, b, acc;   // operand and accumulator types
  bool sparse;       // A is 2:4 (compressed m x k/2 values + metadata register)
  int selectors;     // sparsity-selector values F the form accepts (0 for dense forms)
  int min_sm;        // lowest compute capability that has it
  bool arch_specific;  // true for sm_90a-only forms (wgmma): they run on exactly that architecture
};

// mma.sp::ordered_metadata m16n8k32, f16/bf16 inputs, f32 accumulators (PTX ISA 9.7.14.6). Selector F = 0 or 1
// picks which lane pair of each quad supplies the metadata word.
template <DType T>
struct MmaSpM16N8K32 {
  static_assert(T == DType::fp16 || T == DType::bf16, "mma.sp m16n8k32 takes 16-bit inputs (fp16, bf16)");
  static constexpr int kM = 16, kN = 8, kK = 32;
  static constexpr int kCompressedK = kK / 2;  // compressed A tile is 16 x 16 values
  static constexpr Form form() {
    return {T == DType::bf16 ? "mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.bf16.bf16.f32"
                             : "mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.f16.f16.f32",
            kM, kN, kK, T, T, DType::f32, true, 2, 80, false};
  }
};

// mma.sp::ordered_metadata m16n8k64, 8-bit inputs (PTX ISA 9.7.14.6): int8 with s32 accumulators (sm_80+), e4m3
// and e5m2 with f32 accumulators (sm_89+; on sm_90 the compiler emulates them with conversions and 16-bit HMMA,
// docs/sparse-tensor-cores.md §9). The compressed A tile is 16 x 32 bytes, the same registers as the 16-bit k32
// form; selector 0 only, and every lane of a quad supplies metadata (format::MetaLayout::LaneBlocks8).
template <DType T>
struct MmaSpM16N8K64 {
  static_assert(T == DType::int8 || T == DType::e4m3 || T == DType::e5m2,
                "mma.sp m16n8k64 takes 8-bit inputs (int8, e4m3, e5m2)");
  static constexpr int kM = 16, kN = 8, kK = 64;
  static constexpr int kCompressedK = kK / 2;  // compressed A tile is 16 x 32 values
  static constexpr Form form() {
    return {T == DType::int8   ? "mma.sp::ordered_metadata.sync.aligned.m16n8k64.row.col.s32.s8.s8.s32"
            : T == DType::e4m3 ? "mma.sp::ordered_metadata.sync.aligned.m16n8k64.row.col.f32.e4m3.e4m3.f32"
                               : "mma.sp::ordered_metadata.sync.aligned.m16n8k64.row.col.f32.e5m2.e5m2.f32",
            kM, kN, kK, T, T, T == DType::int8 ? DType::int32 : DType::f32, true, 1, T == DType::int8 ? 80 : 89,
            false};
  }
};

// mma.sp::ordered_metadata m16n8k16, tf32 inputs (A 1:2 sparse), f32 accumulators (PTX ISA 9.7.14.6): the compressed
// A tile is 16 x 8 values (16 x 32 bytes) and B 16 x 8 (64 bytes per column), the 16-bit k32 form's bytes in the same
// registers (fragments.h); metadata: one pair-nibble per kept value in the 16-bit k32 geometry (LaneBlocks16),
// selectors 0 and 1 (docs/sparse-tensor-cores.md §3).
struct MmaSpM16N8K16Tf32 {
  static constexpr int kM = 16, kN = 8, kK = 16;
  static constexpr int kCompressedK = kK / 2;  // compressed A tile is 16 x 8 values
  static constexpr Form form() {
    return {"mma.sp::ordered_metadata.sync.aligned.m16n8k16.row.col.f32.tf32.tf32.f32", kM, kN, kK, DType::tf32,
            DType::tf32, DType::f32, true, 2, 80, false};
  }
};

// mma.sync m16n8k8, tf32 inputs, f32 accumulators (PTX ISA 9.7.14.5.14): the dense twin of the above (two of them
// cover its K); A 16 x 32 bytes and B 32 bytes per column, the 16-bit m16n8k16 bytes.
struct MmaM16N8K8Tf32 {
  static constexpr int kM = 16, kN = 8, kK = 8;
  static constexpr Form form() {
    return {"mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32", kM, kN, kK, DType::tf32, DType::tf32, DType::f32,
            false, 0, 80, false};
  }
};

// The warp-level sparse form of an input type: m16n8k32 for 16-bit inputs, m16n8k64 for 8-bit ones, m16n8k16 for
// tf32. All read 32 bytes of compressed A per row and 64 bytes of B per column, in the same registers
// (fragments.h), so a kernel that moves bytes serves every type (mma_sp.s01_global, s04_swizzle).
template <DType T>
using MmaSp = std::conditional_t<T == DType::tf32, MmaSpM16N8K16Tf32,
                                 std::conditional_t<info(T).bits == 8, MmaSpM16N8K64<T>, MmaSpM16N8K32<T>>>;

// mma.sync m16n8k16, f16/bf16 inputs, f32 accumulators (PTX ISA 9.7.14.5.14): the dense twin of the above
// (two of them cover the K of one m16n8k32).
template <DType T>
struct MmaM16N8K16 {
  static_assert(T == DType::fp16 || T == DType::bf16, "mma.sync m16n8k16 takes 16-bit inputs (fp16, bf16)");
  static constexpr int kM = 16, kN = 8, kK = 16;
  static constexpr Form form() {
    return {T == DType::bf16 ? "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"
                             : "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32",
            kM, kN, kK, T, T, DType::f32, false, 0, 80, false};
  }
};

// mma.sync m16n8k32, 8-bit inputs (PTX ISA 9.7.14.5.14): the dense twin of m16n8k64 (two of them cover its K);
// int8 with s32 accumulators (sm_80+), e4m3/e5m2 with f32 ones (sm_89+; emulated on sm_90, as the sparse form). Its A
// (16 x 32 bytes) and B (32 x 8 bytes) fragments are the 16-bit m16n8k16 ones byte for byte (fragments.h).
template <DType T>
struct MmaM16N8K32 {
  static_assert(T == DType::int8 || T == DType::e4m3 || T == DType::e5m2,
                "mma.sync m16n8k32 (8-bit) takes 8-bit inputs (int8, e4m3, e5m2)");
  static constexpr int kM = 16, kN = 8, kK = 32;
  static constexpr Form form() {
    return {T == DType::int8   ? "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32"
            : T == DType::e4m3 ? "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32"
                               : "mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e5m2.f32",
            kM, kN, kK, T, T, T == DType::int8 ? DType::int32 : DType::f32, false, 0, T == DType::int8 ? 80 : 89,
            false};
  }
};

// The warp-level dense form of an input type: m16n8k16 for 16-bit inputs, m16n8k32 for 8-bit ones, m16n8k8 for tf32
// (the same bytes of K per instruction), the twin of MmaSp.
template <DType T>
using MmaDense = std::conditional_t<T == DType::tf32, MmaM16N8K8Tf32,
                                    std::conditional_t<info(T).bits == 8, MmaM16N8K32<T>, MmaM16N8K16<T>>>;

// wgmma.mma_async.sp m64nNk32, f16/bf16 inputs, f32 accumulators (PTX ISA 9.7.15.6): a warpgroup (4 warps)
// computes a 64 x N x 32 product, A 2:4-sparse (compressed 64 x 16), from shared memory or registers; B from shared
// memory. Selector 0 or 1 picks the lane pair of each quad that supplies metadata (docs/sparse-tensor-cores.md §3a).
// sm_90a only: the instruction exists in the arch-specific target alone.
template <DType T, int N>
struct WgmmaSpM64NK32 {
  static_assert(T == DType::fp16 || T == DType::bf16, "wgmma.sp m64nNk32 takes 16-bit inputs (fp16, bf16)");
  static_assert(N >= 8 && N <= 256 && N % 8 == 0, "wgmma N is 8..256 in steps of 8");
  static constexpr int kM = 64, kN = N, kK = 32;
  static constexpr int kCompressedK = kK / 2;  // compressed A tile is 64 x 16 values
  static constexpr Form form() {
    return {T == DType::bf16 ? "wgmma.mma_async.sp.sync.aligned.m64nNk32.f32.bf16.bf16"
                             : "wgmma.mma_async.sp.sync.aligned.m64nNk32.f32.f16.f16",
            kM, kN, kK, T, T, DType::f32, true, 2, 90, true};
  }
};

// wgmma.mma_async m64nNk16, f16/bf16 inputs, f32 accumulators (PTX ISA 9.7.15.5): the dense twin of the above, A
// and B both from shared memory here (two of them cover the K of one wgmma.sp m64nNk32). sm_90a only.
template <DType T, int N>
struct WgmmaM64NK16 {
  static_assert(T == DType::fp16 || T == DType::bf16, "wgmma m64nNk16 takes 16-bit inputs (fp16, bf16)");
  static_assert(N >= 8 && N <= 256 && N % 8 == 0, "wgmma N is 8..256 in steps of 8");
  static constexpr int kM = 64, kN = N, kK = 16;
  static constexpr Form form() {
    return {T == DType::bf16 ? "wgmma.mma_async.sync.aligned.m64nNk16.f32.bf16.bf16"
                             : "wgmma.mma_async.sync.aligned.m64nNk16.f32.f16.f16",
            kM, kN, kK, T, T, DType::f32, false, 0, 90, true};
  }
};

// wgmma.mma_async.sp m64nNk64, 8-bit inputs (PTX ISA 9.7.15.6): e4m3/e5m2 with f32 accumulators, s8 with s32. The
// compressed A row of a k-step is 32 bytes and B's is 64 bytes, as in the 16-bit k32 form, so the shared-memory
// layouts and descriptors are the 16-bit ones byte for byte; metadata: every lane of a quad, selector 0 only (the
// m16n8k64 per-warp layout, format::MetaLayout::LaneBlocks8; tests/gpu/test_wgmma_8bit_gpu.cu). sm_90a only.
template <DType T, int N>
struct WgmmaSpM64NK64 {
  static_assert(T == DType::int8 || T == DType::e4m3 || T == DType::e5m2,
                "wgmma.sp m64nNk64 takes 8-bit inputs (int8, e4m3, e5m2)");
  static_assert(N >= 8 && N <= 256 && N % 8 == 0, "wgmma N is 8..256 in steps of 8");
  static constexpr int kM = 64, kN = N, kK = 64;
  static constexpr int kCompressedK = kK / 2;  // compressed A tile is 64 x 32 values
  static constexpr Form form() {
    return {T == DType::int8   ? "wgmma.mma_async.sp.sync.aligned.m64nNk64.s32.s8.s8"
            : T == DType::e4m3 ? "wgmma.mma_async.sp.sync.aligned.m64nNk64.f32.e4m3.e4m3"
                               : "wgmma.mma_async.sp.sync.aligned.m64nNk64.f32.e5m2.e5m2",
            kM, kN, kK, T, T, T == DType::int8 ? DType::int32 : DType::f32, true, 1, 90, true};
  }
};

// wgmma.mma_async m64nNk32, 8-bit inputs: the dense twin of the above (two of them cover one m64nNk64).
template <DType T, int N>
struct WgmmaM64NK32 {
  static_assert(T == DType::int8 || T == DType::e4m3 || T == DType::e5m2,
                "wgmma m64nNk32 takes 8-bit inputs (int8, e4m3, e5m2)");
  static_assert(N >= 8 && N <= 256 && N % 8 == 0, "wgmma N is 8..256 in steps of 8");
  static constexpr int kM = 64, kN = N, kK = 32;
  static constexpr Form form() {
    return {T == DType::int8   ? "wgmma.mma_async.sync.aligned.m64nNk32.s32.s8.s8"
            : T == DType::e4m3 ? "wgmma.mma_async.sync.aligned.m64nNk32.f32.e4m3.e4m3"
                               : "wgmma.mma_async.sync.aligned.m64nNk32.f32.e5m2.e5m2",
            kM, kN, kK, T, T, T == DType::int8 ? DType::int32 : DType::f32, false, 0, 90, true};
  }
};

// wgmma.mma_async.sp m64nNk16, tf32 inputs (1:2 sparse A), f32 accumulators (PTX ISA 9.7.15.6): 32 bytes of
// compressed A and 64 bytes of B per row and k-step, as the 16-bit k32 form; metadata in the m16n8k16 tf32
// per-warp layout (pair-nibbles, two selectors). sm_90a only.
template <int N>
struct WgmmaSpM64NK16Tf32 {
  static_assert(N >= 8 && N <= 256 && N % 8 == 0, "wgmma N is 8..256 in steps of 8");
  static constexpr int kM = 64, kN = N, kK = 16;
  static constexpr int kCompressedK = kK / 2;  // compressed A tile is 64 x 8 values
  static constexpr Form form() {
    return {"wgmma.mma_async.sp.sync.aligned.m64nNk16.f32.tf32.tf32", kM, kN, kK, DType::tf32, DType::tf32,
            DType::f32, true, 2, 90, true};
  }
};

// wgmma.mma_async m64nNk8, tf32 inputs: the dense twin of the above (two of them cover one m64nNk16).
template <int N>
struct WgmmaM64NK8Tf32 {
  static_assert(N >= 8 && N <= 256 && N % 8 == 0, "wgmma N is 8..256 in steps of 8");
  static constexpr int kM = 64, kN = N, kK = 8;
  static constexpr Form form() {
    return {"wgmma.mma_async.sync.aligned.m64nNk8.f32.tf32.tf32", kM, kN, kK, DType::tf32, DType::tf32, DType::f32,
            false, 0, 90, true};
  }
};

// The warpgroup forms of an input type: k32 / k16 for 16-bit inputs, k64 / k32 for 8-bit ones, k16 / k8 for tf32
// (the same bytes of K per k-step in all three).
template <DType T, int N>
using WgmmaSp = std::conditional_t<
    T == DType::tf32, WgmmaSpM64NK16Tf32<N>,
    std::conditional_t<info(T).bits == 8, WgmmaSpM64NK64<T, N>, WgmmaSpM64NK32<T, N>>>;
template <DType T, int N>
using WgmmaDense = std::conditional_t<
    T == DType::tf32, WgmmaM64NK8Tf32<N>,
    std::conditional_t<info(T).bits == 8, WgmmaM64NK32<T, N>, WgmmaM64NK16<T, N>>>;

}  // namespace sparse24::instr
