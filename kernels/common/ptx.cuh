// Every inline-asm instruction of the project, one wrapper per instruction form.
//
// Each wrapper names the PTX ISA section it implements and says why we need it. No other file may contain asm.
// Operand layouts (which lane holds which element) are documented in fragments.h and in
// docs/sparse-tensor-cores.md section 3.
#pragma once

#include <cstdint>

#include "kernels/common/dtype.h"

namespace sparse24::ptx {

// ---- Shared-memory addresses ----------------------------------------------------------------------------------
// ldmatrix takes a 32-bit shared-state-space address; the intrinsic converts a generic pointer without asm.
__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// ---- ldmatrix (PTX ISA 9.7.14.5.15, "Warp-level matrix load instruction: ldmatrix") ------------------------------
// Loads 8x8 matrices of 16-bit elements from shared memory, one 16-byte row per address: lanes 8i..8i+7 give the
// row addresses of matrix i, and lane l receives, in register i, elements (row l/4, cols 2*(l%4), 2*(l%4)+1) of
// matrix i. That is exactly the per-lane order of the mma A and B fragments, so one instruction replaces 4-8
// scalar shared loads per lane.
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

// ---- Dense mma (PTX ISA 9.7.14.5.14, "mma.sync m16n8k16 with .f16/.bf16") ---------------------------------------
// D = A . B + D, f32 accumulators in place. A: 16x16 row fragment (4 regs), B: 16x8 col fragment (2 regs).
template <DType T>
__device__ __forceinline__ void mma_m16n8k16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  static_assert(T == DType::bf16 || T == DType::fp16, "mma_m16n8k16: 16-bit inputs only");
  if constexpr (T == DType::bf16) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
}

// ---- Sparse mma (PTX ISA 9.7.14.6, "mma.sp", shape m16n8k32 for .f16/.bf16) -------------------------------------
// D = A . B + D where A is the 16x32 dense tile given as its 16x16 compressed values (4 regs, the dense m16n8k16 A
// fragment of the compressed tile) plus the metadata register `e`; B is 32x8 (4 regs). kSelector (the sparsity
// selector F) says which lane pair supplies the metadata: 0 -> lanes with q = 0, 1; 1 -> q = 2, 3. It must be an
// immediate, hence a template parameter and the "n" constraint. We use ::ordered_metadata: the plain form draws a
// ptxas advisory on nvcc 13, and ordered nibbles are what our compressor writes anyway (docs/sparse-tensor-cores.md §2).
template <DType T, int kSelector>
__device__ __forceinline__ void mma_sp_m16n8k32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[4],
                                                uint32_t e) {
  static_assert(T == DType::bf16 || T == DType::fp16, "mma_sp_m16n8k32: 16-bit inputs only");
  static_assert(kSelector == 0 || kSelector == 1, "m16n8k32 has two sparsity selectors: 0 and 1");
  if constexpr (T == DType::bf16) {
    asm volatile(
        "mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9, %10, %11}, {%0, %1, %2, %3}, %12, %13;\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(e),
          "n"(kSelector));
  } else {
    asm volatile(
        "mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9, %10, %11}, {%0, %1, %2, %3}, %12, %13;\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(e),
          "n"(kSelector));
  }
}

// ---- 8-bit and tf32 warp-level forms ----------------------------------------------------------------------------
// The operand types past 16 bits (docs/sparse-tensor-cores.md §1, §3): int8 (s32 accumulators, sm_80+), the two
// OCP fp8 kinds e4m3 and e5m2 (f32 accumulators, sm_89+) and tf32 (f32 storage, 1:2 sparsity, sm_80+). A 32-bit
// register holds four 8-bit values or one tf32 value, so the sparse 8-bit instruction covers twice the K of the
// 16-bit one (k64) with the same registers, and its metadata register carries 8 nibbles of one row per lane (all
// four lanes of a quad supply it: selector 0 only). Lane maps: kernels/common/fragments.h; each form has a
// one-instruction test in tests/gpu/test_instructions_gpu.cu. The fp8 forms do not exist before sm_89: compiled
// for an older target they trap (the host never launches them there: the registry's ArchRule, the tests' check).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 890
#define SPARSE24_PTX_NO_FP8 1
#endif

// The 8-bit float operand types, for the static_asserts below.
template <DType T>
inline constexpr bool kIsFp8 = T == DType::e4m3 || T == DType::e5m2;

// mma.sp m16n8k64, s8 x s8 -> s32 (PTX ISA 9.7.14.6.3): A the 16 x 64 dense tile as its 16 x 32 compressed bytes
// (4 regs), B 64 x 8 (4 regs), metadata `e` from all four lanes of each quad (selector 0, the only one this shape
// has). Without .satfinite the s32 sum wraps, as integer GEMMs expect (no int8 GEMM here can reach 2^31).
__device__ __forceinline__ void mma_sp_m16n8k64_s8(int32_t (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[4],
                                                   uint32_t e) {
  asm volatile(
      "mma.sp::ordered_metadata.sync.aligned.m16n8k64.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, "
      "{%4, %5, %6, %7}, {%8, %9, %10, %11}, {%0, %1, %2, %3}, %12, 0x0;\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(e));
}

// mma.sync m16n8k32, s8 x s8 -> s32 (PTX ISA 9.7.14.5.14): the dense twin (two of them cover one k64).
__device__ __forceinline__ void mma_m16n8k32_s8(int32_t (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// mma.sp m16n8k64, e4m3/e5m2 -> f32 (PTX ISA 9.7.14.6.3, sm_89+): the same registers and metadata as the s8 form.
// How many bits of the running f32 sum the tensor core keeps is measured by the one-instruction tests
// (docs/sparse-tensor-cores.md, "fp8 accumulation"), since an exact check of an fp8 kernel depends on it.
template <DType T>
__device__ __forceinline__ void mma_sp_m16n8k64_f8(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[4],
                                                   uint32_t e) {
  static_assert(kIsFp8<T>, "mma_sp_m16n8k64_f8: e4m3 or e5m2 inputs");
#ifdef SPARSE24_PTX_NO_FP8
  __trap();
#else
  if constexpr (T == DType::e4m3) {
    asm volatile(
        "mma.sp::ordered_metadata.sync.aligned.m16n8k64.row.col.f32.e4m3.e4m3.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9, %10, %11}, {%0, %1, %2, %3}, %12, 0x0;\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(e));
  } else {
    asm volatile(
        "mma.sp::ordered_metadata.sync.aligned.m16n8k64.row.col.f32.e5m2.e5m2.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9, %10, %11}, {%0, %1, %2, %3}, %12, 0x0;\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(e));
  }
#endif
}

// mma.sync m16n8k32, e4m3/e5m2 -> f32 (PTX ISA 9.7.14.5.14, sm_89+): the dense twin of the above.
template <DType T>
__device__ __forceinline__ void mma_m16n8k32_f8(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  static_assert(kIsFp8<T>, "mma_m16n8k32_f8: e4m3 or e5m2 inputs");
#ifdef SPARSE24_PTX_NO_FP8
  __trap();
#else
  if constexpr (T == DType::e4m3) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e5m2.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
#endif
}

// mma.sp m16n8k16, tf32 -> f32 (PTX ISA 9.7.14.6.3): A is 1:2 sparse, the 16 x 16 dense tile as 16 x 8
// compressed values (4 regs), B 16 x 8 (4 regs). One metadata nibble per PAIR of dense elements (0x4 keeps the
// first, 0xE the second); selector F = 0 reads lanes q = 0, 1 and F = 1 lanes q = 2, 3, as for 16-bit m16n8k32.
template <int kSelector>
__device__ __forceinline__ void mma_sp_m16n8k16_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[4],
                                                     uint32_t e) {
  static_assert(kSelector == 0 || kSelector == 1, "tf32 m16n8k16 has two sparsity selectors: 0 and 1");
  asm volatile(
      "mma.sp::ordered_metadata.sync.aligned.m16n8k16.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, "
      "{%4, %5, %6, %7}, {%8, %9, %10, %11}, {%0, %1, %2, %3}, %12, %13;\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(e),
        "n"(kSelector));
}

// mma.sync m16n8k8, tf32 -> f32 (PTX ISA 9.7.14.5.14): the dense twin (two of them cover one sparse k16).
__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// The warp-level sparse MMA of input type T (instr::MmaSp<T>): m16n8k32 for 16-bit inputs (selector 0 or 1),
// m16n8k64 for 8-bit ones (selector 0 only). Not an instruction of its own: the one place that maps a type to its
// form, so that a kernel written in bytes (mma_sp.s01_global) serves every type. Acc is float, or int32_t for int8.
template <DType T, int kSelector, class Acc>
__device__ __forceinline__ void mma_sp(Acc (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[4], uint32_t e) {
  if constexpr (T == DType::int8) {
    static_assert(kSelector == 0, "m16n8k64 has one sparsity selector: 0");
    mma_sp_m16n8k64_s8(d, a, b, e);
  } else if constexpr (kIsFp8<T>) {
    static_assert(kSelector == 0, "m16n8k64 has one sparsity selector: 0");
    mma_sp_m16n8k64_f8<T>(d, a, b, e);
  } else {
    mma_sp_m16n8k32<T, kSelector>(d, a, b, e);
  }
}

}  // namespace sparse24::ptx

// ==== Asynchronous copies global -> shared (sm_80+): the multistage pipelines of mma_sp/dense s03 and later ====
namespace sparse24::ptx {

// ---- cp.async.cg, 16 bytes, with zero fill (PTX ISA 9.7.9.25.3.1, "cp.async") ----------------------------------
// Copies 16 bytes from global to shared memory without passing through registers, so a block can keep several
// k-tiles in flight while it computes on an earlier one. .cg caches in L2 only (the tile is read once per block
// from shared memory, so L1 would only hold a dead copy). `src_bytes` (0 or 16) is the src-size operand: the
// bytes past it are written as zeros, which is how edge rows of values and B are zero-filled without a branch
// around the instruction. The source address must still be a valid global address when src_bytes is 0.
// Metadata must NEVER be zero-filled this way (zero nibbles are invalid codes, docs/sparse-tensor-cores.md §2).
__device__ __forceinline__ void cp_async_cg_16(uint32_t dst_smem, const void* src, uint32_t src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst_smem), "l"(src), "r"(src_bytes)
               : "memory");
}

// ---- cp.async.ca, 4 bytes (PTX ISA 9.7.9.25.3.1, "cp.async") ----------------------------------------------------
// Copies one 32-bit word: the metadata of s04 is scattered word by word from its lane-block order in global memory
// into a per-lane order in shared memory ([row group][lane][k-step]), so that a lane fetches every k-step's `e`
// register of a k-tile with one wide shared load. (.cg accepts only 16 bytes; .ca is the 4-byte form.)
__device__ __forceinline__ void cp_async_ca_4(uint32_t dst_smem, const void* src) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(dst_smem), "l"(src) : "memory");
}

// ---- cp.async.ca, 8 bytes (PTX ISA 9.7.9.25.3.1, "cp.async") ----------------------------------------------------
// format.s08_occupancy stages each thread's own four 8-byte row pieces of the next W tile, so that the copy needs no
// register and no barrier (the thread that copies is the thread that reads). .ca: .cg accepts only 16 bytes.
__device__ __forceinline__ void cp_async_ca_8(uint32_t dst_smem, const void* src) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 8;\n" ::"r"(dst_smem), "l"(src) : "memory");
}

// ---- cp.async.commit_group (PTX ISA 9.7.9.25.3.2) ---------------------------------------------------------------
// Closes the group of this thread's cp.async issued since the last commit: one group per pipeline stage.
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

// ---- cp.async.wait_group N (PTX ISA 9.7.9.25.3.3) ---------------------------------------------------------------
// Waits until at most kPending of this thread's committed groups are still in flight. It orders this thread's
// copies only: a __syncthreads() must follow before other threads read the data. kPending must be an immediate.
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  static_assert(kPending >= 0, "cp.async.wait_group takes a non-negative immediate");
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending) : "memory");
}

// ==== A flag between two CTAs of one launch (PTX ISA 8.5, "Memory Consistency Model"; sm_70+) =====================

// ---- ld.acquire.gpu.global.b32 (PTX ISA 9.7.9.8, "ld", .acquire and .gpu) ------------------------------------------
// Reads a flag another CTA sets with st_release_gpu below: once it reads the value released, this thread's later
// loads see every write the releasing thread made (or made visible to itself) before its release. wgmma_sp s23 spins
// on it until a peer CTA's partial sums are published.
__device__ __forceinline__ uint32_t ld_acquire_gpu(const uint32_t* p) {
  uint32_t v;
  asm volatile("ld.acquire.gpu.global.b32 %0, [%1];\n" : "=r"(v) : "l"(p) : "memory");
  return v;
}

// ---- st.release.gpu.global.b32 (PTX ISA 9.7.9.9, "st", .release and .gpu) ------------------------------------------
// Sets a flag after this thread's earlier writes (and those it has made visible to itself, e.g. through a barrier
// after the other threads' fences) are visible GPU-wide: the publishing side of ld_acquire_gpu.
__device__ __forceinline__ void st_release_gpu(uint32_t* p, uint32_t v) {
  asm volatile("st.release.gpu.global.b32 [%0], %1;\n" ::"l"(p), "r"(v) : "memory");
}

// ---- st.relaxed.gpu.global.b32 (PTX ISA 9.7.9.9, "st", .relaxed and .gpu) ------------------------------------------
// Clears a flag that nothing reads again in this launch (wgmma_sp s23, for the next launch: kernel boundaries order
// it). Not st_release_gpu: its release compiles to MEMBAR.ALL.GPU (SASS, nvcc 13.0), which would wait for the loads
// the thread has just issued.
__device__ __forceinline__ void st_relaxed_gpu(uint32_t* p, uint32_t v) {
  asm volatile("st.relaxed.gpu.global.b32 [%0], %1;\n" ::"l"(p), "r"(v) : "memory");
}

// ---- ld.shared.v2.b32 / v4.b32 (PTX ISA 9.7.9.8, "ld") ------------------------------------------------------------
// (Not asm: plain vector loads through uint2/uint4 pointers compile to LDS.64/LDS.128; listed here so a reader
// looking for every shared load form finds that the wide metadata load of s04 needs no wrapper.)

}  // namespace sparse24::ptx
