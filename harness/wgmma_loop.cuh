// The warpgroup instruction loop (geometry and account: harness/wgmma_loop.h), as one device function that the
// ceilings' kernels (harness/ceilings_wgmma.cu) and the data-pipe experiment (harness/experiments/datapipe.cu)
// wrap. A Probe type adds what an experiment needs at three points of the loop and nothing else: NoProbe's empty
// hooks leave the ceilings' code as it was (scripts/compare_sass.py: the ceilings' kernels identical).
//
// The loop is the consumer side of the TMA kernels (kernels/wgmma_sp/s03_inflight.cuh) with the ring taken away:
// one block per SM of two warpgroups (the kernels' two consumers), each with m64n256 accumulators (128 registers per
// thread), issuing one k-tile's batch of instructions (the kernels' BK: 128 bytes of K per row, 2 sparse or 4 dense
// k-steps) per iteration from shared-memory descriptors in the kernels' layouts (A in 64-byte swizzle rows when
// compressed, 128-byte rows when dense; B in 128-byte swizzle rows), committing it, and waiting with one batch in
// flight. The operands are loaded once and never change (nonzero, different per element: the datapath toggles as
// in a GEMM); both warpgroups read the same B tile. The RS variant takes A from registers (the m16n8k32-shaped
// fragment, four registers) and B from shared memory: with A off the shared-memory pipe (docs/sparse-tensor-cores.md
// §5a), the difference between the two sparse loops is what that pipe costs the instruction by itself.
#pragma once

#include <cstdint>
#include <type_traits>

#include "harness/wgmma_loop.h"
#include "kernels/common/elem.cuh"
#include "kernels/common/ptx.cuh"
#include "kernels/common/ptx_sm90.cuh"

namespace sparse24::harness::wgmma_bench {

inline constexpr uint32_t kMetaEven = 0x4E4E4E4Eu, kMetaOdd = 0xE4E4E4E4u;  // valid, differing per lane (ceilings.cu)

template <DType T>
using Acc = std::conditional_t<T == DType::int8, int32_t, float>;

// The shared-memory byte at offset i: the bytes of a value of T between 1 and 2 (int8: 1..5), different from its
// neighbours (the low mantissa bits step with the element index), never NaN or infinite. Host too: the data-pipe
// experiment's checksum of what its extra loads read.
template <DType T>
__host__ __device__ __forceinline__ uint8_t operand_byte(int i) {
  if constexpr (T == DType::int8) return uint8_t(1 + i % 5);
  if constexpr (T == DType::e4m3) return uint8_t(0x38 + i % 8);  // 1.0 .. 1.875
  if constexpr (T == DType::fp16 || T == DType::bf16) {
    const uint32_t one = T == DType::fp16 ? 0x3C00u : 0x3F80u, v = one + uint32_t((i / 2) % 16);
    return uint8_t(i % 2 ? v >> 8 : v);
  }
  if constexpr (T == DType::tf32) {
    const uint32_t v = 0x3F800000u + (uint32_t((i / 4) % 16) << 13);  // tf32: the low 13 mantissa bits zero
    return uint8_t(v >> (8 * (i % 4)));
  }
  return 0;
}

// The hooks of a probe, called by every thread: loop_begins() right before the first iteration (operands in
// place, accumulators zeroed), batch_in_flight(smem) after each batch's commit and before its wait (smem: the
// loop's B tile, kBBytes bytes, read-only), loop_ended() after the last batch has completed; kRolled: true keeps
// the k-tile loop rolled (#pragma unroll 1).
struct NoProbe {
  static constexpr bool kRolled = false;  // the loop as the compiler unrolls it (the ceilings' loop)
  __device__ __forceinline__ void loop_begins() {}
  __device__ __forceinline__ void batch_in_flight(const uint8_t*) {}
  __device__ __forceinline__ void loop_ended() {}
};

// Runs the loop and returns this thread's sum of its accumulators (the caller stores it, so that nothing is
// optimized away). Only for the sm_90a device pass (the caller checks SPARSE24_SM90A_DEVICE).
template <DType T, Form kForm, class Probe>
__device__ __forceinline__ float run_loop(int iterations, Probe& probe) {
  constexpr int kElem = int(sizeof(typename Elem<T>::type));  // bytes_of is host-only in this library
  constexpr int kARow = a_row_bytes(kForm);                    // A bytes per row and k-tile
  constexpr int kSteps = k_steps(kForm);                       // k-steps per k-tile (128 bytes of B)
  constexpr int kAStep = kARow / kSteps, kBStep = kRowBytes / kSteps;
  __shared__ __align__(1024) uint8_t sa[kABytes];
  __shared__ __align__(1024) uint8_t sb[kBBytes];
  for (int i = threadIdx.x; i < kABytes; i += kThreads) sa[i] = operand_byte<T>(i);
  for (int i = threadIdx.x; i < kBBytes; i += kThreads) sb[i] = operand_byte<T>(i + 7);
  ptx::fence_proxy_async_shared();
  __syncthreads();
  const int wg = threadIdx.x / 128, lane = threadIdx.x % 32;
  const uint32_t a0 = ptx::smem_addr(sa) + wg * kARowsPerWg * kARow, b0 = ptx::smem_addr(sb);
  const ptx::SmemSwizzle a_swizzle = kARow == 128 ? ptx::SmemSwizzle::B128 : ptx::SmemSwizzle::B64;
  uint32_t ar[4];
  for (int i = 0; i < 4; ++i) ar[i] = 0x3C003C00u ^ (uint32_t(lane + i) << 2);  // finite in every 16/8-bit type
  if constexpr (T == DType::int8 || kElem == 4)
    for (int i = 0; i < 4; ++i) ar[i] = kElem == 4 ? 0x3F800000u : 0x01020304u;
  uint32_t e = (lane & 1) ? kMetaOdd : kMetaEven;  // nibbles 0x4 and 0xE: valid 2:4 codes and tf32 pair codes
  ptx::fence_register(e);
  Acc<T> acc[kN / 2];
#pragma unroll
  for (int i = 0; i < kN / 2; ++i) acc[i] = 0;
  // One k-tile: the batch, its commit, the probe's work while it is in flight, the wait for the previous batch.
  auto k_tile = [&] {
    ptx::fence_registers(acc);
    ptx::wgmma_fence();
#pragma unroll
    for (int ks = 0; ks < kSteps; ++ks) {
      const uint64_t da = ptx::smem_desc(a0 + ks * kAStep, 16, 8 * kARow, a_swizzle);
      const uint64_t db = ptx::smem_desc(b0 + ks * kBStep, 16, 8 * kRowBytes, ptx::SmemSwizzle::B128);
      if constexpr (kElem == 1) {
        if constexpr (kForm == Form::SparseSS) ptx::wgmma8_sp_ss<T, kN>(acc, da, db, e, true);
        if constexpr (kForm == Form::SparseRS) ptx::wgmma8_sp_rs<T, kN>(acc, ar, db, e, true);
        if constexpr (kForm == Form::DenseSS) ptx::wgmma8_ss<T, kN>(acc, da, db, true);
      } else if constexpr (kElem == 4) {
        if constexpr (kForm == Form::SparseSS) ptx::wgmma_tf32_sp_ss<kN, 0>(acc, da, db, e, true);
        if constexpr (kForm == Form::SparseRS) ptx::wgmma_tf32_sp_rs<kN, 0>(acc, ar, db, e, true);
        if constexpr (kForm == Form::DenseSS) ptx::wgmma_tf32_ss<kN>(acc, da, db, true);
      } else {
        if constexpr (kForm == Form::SparseSS) ptx::wgmma_sp_ss<T, kN, 0>(acc, da, db, e, true);
        if constexpr (kForm == Form::SparseRS) ptx::wgmma_sp_rs<T, kN, 0>(acc, ar, db, e, true);
        if constexpr (kForm == Form::DenseSS) ptx::wgmma_ss<T, kN>(acc, da, db, true);
      }
    }
    ptx::wgmma_commit_group();
    probe.batch_in_flight(sb);
    ptx::wgmma_wait_group<1>();
  };
  probe.loop_begins();
  if constexpr (Probe::kRolled) {
    // NOTE: a probe's loop stays rolled: with the compiler's unrolling, ptxas serialized every wgmma of the
    // data-pipe probe's loop for some X (C7515, "non wgmma instructions defining accumulator registers", nvcc 13.0:
    // X = 8, 16 and 64 of SS and RS), which would measure the serialization instead of the pipe.
#pragma unroll 1
    for (int it = 0; it < iterations; ++it) k_tile();
  } else {
    for (int it = 0; it < iterations; ++it) k_tile();
  }
  ptx::wgmma_wait_group<0>();
  probe.loop_ended();
  ptx::fence_registers(acc);
  float sum = 0;
#pragma unroll
  for (int i = 0; i < kN / 2; ++i) sum += float(acc[i]);
  return sum;
}

}  // namespace sparse24::harness::wgmma_bench
