// The instruction-loop and copy ceilings (see ceilings.h).
//
// Each loop kernel: every warp holds kAccumulators independent accumulator tiles and issues one mma into each per
// step, so kAccumulators mma are in flight per warp; kBlocksPerSm blocks of kWarpsPerBlock warps on every SM keep
// the tensor pipes fed (docs/sparse-tensor-cores.md section 5 measured the same shape of loop: 958 TFLOP/s mma.sp
// bf16 and 640 mma.sync on an H200). Operands live in registers and never change, so the loop measures issue
// throughput alone; they are nonzero and differ per lane, so the datapath toggles as in a real GEMM (an all-zero
// loop can draw less power and hold higher clocks than any kernel it would be a ceiling for).
// The instructions are the wrappers of kernels/common/ptx.cuh, the very forms the kernels issue.
#include "harness/ceilings.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "harness/context.h"
#include "harness/device_buffer.h"
#include "harness/timing.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/elem.cuh"
#include "kernels/common/instr.h"
#include "kernels/common/ptx.cuh"

namespace sparse24::harness {

namespace {

constexpr int kAccumulators = 8;   // independent mma chains per warp: more than the mma latency / issue interval
constexpr int kWarpsPerBlock = 8;
constexpr int kBlocksPerSm = 4;    // 32 warps per SM
constexpr int kIterations = 4096;  // steps per warp: about 1 ms of loop on an H100, about as long on smaller GPUs
                                   // (the grid scales with the SM count)
constexpr int kReps = 5;           // timed launches per loop (median)
// The instruction shapes of the wrappers (ptx::mma_sp_m16n8k32, ptx::mma_m16n8k16): M and N of both, the dense K;
// the sparse K is instr::MmaSpM16N8K32<T>::kK.
constexpr int kMmaM = 16, kMmaN = 8, kDenseK = 16;
// A valid ordered metadata nibble pair pattern (0x4: elements 0,1 of each group of 4; 0xE: elements 2,3), one per
// lane parity: the selection changes between lanes, as with real metadata.
constexpr uint32_t kMetaEven = 0x4E4E4E4Eu, kMetaOdd = 0xE4E4E4E4u;

template <DType T>
__device__ uint32_t packed(float x, float y) {
  const typename Elem<T>::type2 v = Elem<T>::from_float2(x, y);
  uint32_t u;
  memcpy(&u, &v, sizeof(u));
  return u;
}

template <DType T, bool kSparse>
__global__ void __launch_bounds__(kWarpsPerBlock * 32) mma_loop(int iterations, float* sink) {
  const int lane = threadIdx.x % 32;
  uint32_t a[4], b[4];
  for (int i = 0; i < 4; ++i) {
    a[i] = packed<T>(0.5f + 0.01f * (lane + i), 0.75f - 0.01f * i);
    b[i] = packed<T>(0.25f - 0.003f * (lane + i), 0.125f + 0.002f * i);
  }
  const uint32_t e = (lane & 1) ? kMetaOdd : kMetaEven;
  const uint32_t b2[2] = {b[0], b[1]};  // m16n8k16's B: the first two registers of m16n8k32's
  float acc[kAccumulators][4] = {};
  for (int it = 0; it < iterations; ++it) {
#pragma unroll
    for (int j = 0; j < kAccumulators; ++j) {
      if constexpr (kSparse)
        ptx::mma_sp_m16n8k32<T, 0>(acc[j], a, b, e);
      else
        ptx::mma_m16n8k16<T>(acc[j], a, b2);
    }
  }
  float sum = 0;
#pragma unroll
  for (int j = 0; j < kAccumulators; ++j) sum += acc[j][0] + acc[j][1] + acc[j][2] + acc[j][3];
  sink[blockIdx.x * blockDim.x + threadIdx.x] = sum;  // the results are used: nothing may be optimized away
}

template <DType T, bool kSparse>
double loop_tflops(int sms, float* sink, EventTimer& timer, cudaStream_t stream) {
  const int blocks = sms * kBlocksPerSm;
  auto launch = [&] { mma_loop<T, kSparse><<<blocks, kWarpsPerBlock * 32, 0, stream>>>(kIterations, sink); };
  launch();  // warm-up: module load, clocks up
  SPARSE24_CUDA_CHECK(cudaGetLastError());
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<double> ms;
  for (int r = 0; r < kReps; ++r) ms.push_back(timer.time_ms(launch, stream));
  const double k = kSparse ? instr::MmaSpM16N8K32<T>::kK : kDenseK;  // dense-equivalent K of one instruction
  const double flops = 2.0 * kMmaM * kMmaN * k * kAccumulators * double(kIterations) * kWarpsPerBlock * blocks;
  return flops / (median(ms) * 1e-3) / 1e12;
}

double copy_gbps(int device, EventTimer& timer, cudaStream_t stream) {
  // Buffers far larger than L2 (so the copy streams from and to HBM): 8x L2, at least 256 MiB each.
  int l2 = 0;
  SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
  const size_t bytes = std::max(size_t(8) * size_t(l2), size_t(256) << 20);
  DeviceBuffer src(bytes), dst(bytes);
  SPARSE24_CUDA_CHECK(cudaMemsetAsync(src.get(), 0x5A, bytes, stream));
  auto launch = [&] {
    SPARSE24_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, stream));
  };
  launch();  // warm-up
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<double> ms;
  for (int r = 0; r < kReps; ++r) ms.push_back(timer.time_ms(launch, stream));
  return 2.0 * double(bytes) / (median(ms) * 1e-3) / 1e9;  // read + write
}

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

double Ceilings::tflops(DType t, bool sparse) const {
  const auto& m = sparse ? mma_sp_tflops : mma_sync_tflops;
  const auto it = m.find(t);
  return it == m.end() ? 0.0 : it->second;
}

double Ceilings::tflops(DType t, bool sparse, bool warpgroup) const {
  if (warpgroup) {
    const auto it = wgmma_tflops.find(std::string(sparse ? "wgmma_sp_ss_" : "wgmma_ss_") + name(t));
    if (it != wgmma_tflops.end()) return it->second;
  }
  return tflops(t, sparse);
}

std::vector<std::pair<std::string, std::string>> Ceilings::context() const {
  std::vector<std::pair<std::string, std::string>> c;
  if (!measured) {
    c.emplace_back("ceilings", "not measured: " + error);
    return c;
  }
  for (const auto& [t, v] : mma_sp_tflops) c.emplace_back(std::string("ceiling_mma_sp_") + name(t) + "_tflops", fixed1(v));
  for (const auto& [t, v] : mma_sync_tflops)
    c.emplace_back(std::string("ceiling_mma_sync_") + name(t) + "_tflops", fixed1(v));
  for (const auto& [k, v] : wgmma_tflops) c.emplace_back("ceiling_" + k + "_tflops", fixed1(v));
  c.emplace_back("copy_gbps", fixed1(copy_gbps));
  c.emplace_back("ceiling_sm_clock_mhz", std::to_string(sm_clock_mhz));
  return c;
}

Ceilings measure_ceilings(int device, cudaStream_t stream) {
  Ceilings c;
  constexpr int kMinSm = 80;  // mma.sp and mma.sync m16n8k16 with bf16: sm_80 and later
  const int cc = compute_capability(device);
  if (cc < kMinSm) {
    c.error = "compute capability " + std::to_string(cc) + " is below sm_" + std::to_string(kMinSm);
    return c;
  }
  int sms = 0;
  SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  DeviceBuffer sink(size_t(sms) * kBlocksPerSm * kWarpsPerBlock * 32 * sizeof(float));
  EventTimer timer;
  float* s = sink.as<float>();
  c.mma_sp_tflops[DType::fp16] = loop_tflops<DType::fp16, true>(sms, s, timer, stream);
  c.mma_sp_tflops[DType::bf16] = loop_tflops<DType::bf16, true>(sms, s, timer, stream);
  c.mma_sync_tflops[DType::fp16] = loop_tflops<DType::fp16, false>(sms, s, timer, stream);
  c.mma_sync_tflops[DType::bf16] = loop_tflops<DType::bf16, false>(sms, s, timer, stream);
  measure_wgmma_ceilings(c, device, stream);
  c.sm_clock_mhz = sm_clock_mhz(device);
  c.copy_gbps = copy_gbps(device, timer, stream);
  c.measured = true;
  return c;
}

}  // namespace sparse24::harness
