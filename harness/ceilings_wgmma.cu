// The warpgroup instruction-loop ceilings (ceilings.h, issue 19): what wgmma and wgmma.sp issue per second on this
// GPU when nothing but the instruction runs, the ceiling of every row that issues them (the wgmma families, and the
// libraries, whose Hopper kernels are wgmma kernels).
//
// The loop itself (harness/wgmma_loop.cuh, shared with the data-pipe experiment harness/experiments/datapipe.cu):
// m64n256, two warpgroups per SM, one k-tile's batch in flight, the kernels' shared-memory layouts; SS, RS and dense.
#include <string>
#include <vector>

#include "harness/ceilings.h"
#include "harness/context.h"
#include "harness/device_buffer.h"
#include "harness/timing.h"
#include "harness/wgmma_loop.cuh"
#include "kernels/common/cuda_check.h"

namespace sparse24::harness {

namespace {

using namespace wgmma_bench;

template <DType T, Form kForm>
__global__ void __launch_bounds__(kThreads, 1) wgmma_loop(int iterations, float* sink) {
#if SPARSE24_SM90A_DEVICE
  NoProbe probe;
  sink[blockIdx.x * kThreads + threadIdx.x] = run_loop<T, kForm>(iterations, probe);  // used: nothing optimized away
#else
  // Not sm_90a: no wgmma, the loop is never launched (measure_wgmma_ceilings checks the GPU first).
  (void)iterations, (void)sink;
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
