// The warpgroup instruction-loop ceilings (ceilings.h, issue 19): what wgmma and wgmma.sp issue per second on this
// GPU when nothing but the instruction runs, the ceiling of every row that issues them (the wgmma families, and the
// libraries, whose Hopper kernels are wgmma kernels).
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
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "harness/ceilings.h"
#include "harness/context.h"
#include "harness/device_buffer.h"
#include "harness/timing.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/elem.cuh"
#include "kernels/common/ptx.cuh"
#include "kernels/common/ptx_sm90.cuh"

namespace sparse24::harness {

namespace {

constexpr int kWarpgroups = 2;            // the kernels' two consumer warpgroups
constexpr int kThreads = 128 * kWarpgroups;
constexpr int kN = 256;                   // m64n256: the kernels' instruction
constexpr int kRowBytes = 128;            // one k-tile of each row: B, dense A; compressed A uses 64
constexpr int kARowsPerWg = 64;
constexpr int kABytes = kWarpgroups * kARowsPerWg * kRowBytes;  // 16 KB (dense; the compressed tile uses half)
constexpr int kBBytes = kN * kRowBytes;                          // 32 KB
constexpr int kIterations = 2048;         // k-tiles per warpgroup: about 1 ms on an H100/H200
constexpr int kReps = 5;                  // timed launches (median)
constexpr uint32_t kMetaEven = 0x4E4E4E4Eu, kMetaOdd = 0xE4E4E4E4u;  // valid, differing per lane (ceilings.cu)

// Forms of the loop: sparse with A from shared memory or from registers, or dense.
enum class Form { SparseSS, SparseRS, DenseSS };

template <DType T>
using Acc = std::conditional_t<T == DType::int8, int32_t, float>;

// The shared-memory byte at offset i: the bytes of a value of T between 1 and 2 (int8: 1..5), different from its
// neighbours (the low mantissa bits step with the element index), never NaN or infinite.
template <DType T>
__device__ uint8_t operand_byte(int i) {
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

template <DType T, Form kForm>
__global__ void __launch_bounds__(kThreads, 1) wgmma_loop(int iterations, float* sink) {
#if SPARSE24_SM90A_DEVICE
  constexpr bool kSparse = kForm != Form::DenseSS;
  constexpr int kElem = int(sizeof(typename Elem<T>::type));  // bytes_of is host-only in this library
  constexpr int kARow = kSparse ? kRowBytes / 2 : kRowBytes;  // A bytes per row and k-tile
  constexpr int kSteps = kSparse ? 2 : 4;                      // k-steps per k-tile (128 bytes of B)
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
  for (int it = 0; it < iterations; ++it) {
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
    ptx::wgmma_wait_group<1>();
  }
  ptx::wgmma_wait_group<0>();
  ptx::fence_registers(acc);
  float sum = 0;
#pragma unroll
  for (int i = 0; i < kN / 2; ++i) sum += float(acc[i]);
  sink[blockIdx.x * kThreads + threadIdx.x] = sum;  // used: nothing may be optimized away
#else
  // Not sm_90a: no wgmma, the loop is never launched (measure_wgmma_ceilings checks the GPU first).
  (void)iterations, (void)sink, (void)kABytes, (void)kBBytes, (void)kMetaEven, (void)kMetaOdd;
#endif
}

template <DType T, Form kForm>
double wgmma_loop_tflops(int sms, float* sink, EventTimer& timer, cudaStream_t stream) {
  auto launch = [&] { wgmma_loop<T, kForm><<<sms, kThreads, 0, stream>>>(kIterations, sink); };
  launch();  // warm-up: module load, clocks up
  SPARSE24_CUDA_CHECK(cudaGetLastError());
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<double> ms;
  for (int r = 0; r < kReps; ++r) ms.push_back(timer.time_ms(launch, stream));
  // Dense-equivalent flops of one k-tile per warpgroup: 64 x 256 x (dense K of 128 bytes of B per row) x 2.
  const double k_tile = double(kRowBytes) / bytes_of(T);
  const double flops = 2.0 * 64 * kN * k_tile * double(kIterations) * kWarpgroups * sms;
  return flops / (median(ms) * 1e-3) / 1e12;
}

template <DType T>
void measure_type(Ceilings& c, int sms, float* sink, EventTimer& timer, cudaStream_t stream) {
  const std::string t = name(T);
  c.wgmma_tflops["wgmma_sp_ss_" + t] = wgmma_loop_tflops<T, Form::SparseSS>(sms, sink, timer, stream);
  c.wgmma_tflops["wgmma_sp_rs_" + t] = wgmma_loop_tflops<T, Form::SparseRS>(sms, sink, timer, stream);
  c.wgmma_tflops["wgmma_ss_" + t] = wgmma_loop_tflops<T, Form::DenseSS>(sms, sink, timer, stream);
}

}  // namespace

void measure_wgmma_ceilings(Ceilings& c, int device, cudaStream_t stream) {
  if (compute_capability(device) != 90) return;  // wgmma exists on sm_90 (the 'a' target) alone
  int sms = 0;
  SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  DeviceBuffer sink(size_t(sms) * kThreads * sizeof(float));
  EventTimer timer;
  float* s = sink.as<float>();
  measure_type<DType::fp16>(c, sms, s, timer, stream);
  measure_type<DType::bf16>(c, sms, s, timer, stream);
  measure_type<DType::int8>(c, sms, s, timer, stream);
  measure_type<DType::e4m3>(c, sms, s, timer, stream);
  measure_type<DType::tf32>(c, sms, s, timer, stream);
}

}  // namespace sparse24::harness
