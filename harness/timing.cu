#include "harness/timing.h"

#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"

namespace sparse24::harness {

namespace {
// Reads every 16 bytes of the buffer; the store that can never happen (the buffer is zero) keeps the loads alive.
__global__ void read_all(const uint4* p, size_t n, uint32_t* never) {
  uint32_t x = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    const uint4 v = p[i];
    x |= v.x | v.y | v.z | v.w;
  }
  if (x == 0xDEADBEEFu) *never = x;
}
}  // namespace

L2Flusher::L2Flusher(int device) {
  int l2 = 0;
  SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
  buf_ = DeviceBuffer(size_t(std::max(l2, 1 << 20)) * 2);
  SPARSE24_CUDA_CHECK(cudaMemset(buf_.get(), 0, buf_.bytes()));
  SPARSE24_CUDA_CHECK(cudaDeviceSynchronize());
}

void L2Flusher::flush(cudaStream_t stream) {
  read_all<<<1024, 256, 0, stream>>>(buf_.as<const uint4>(), buf_.bytes() / sizeof(uint4),
                                     static_cast<uint32_t*>(buf_.get()));
  SPARSE24_CUDA_CHECK(cudaGetLastError());
}

EventTimer::EventTimer() {
  SPARSE24_CUDA_CHECK(cudaEventCreate(&start_));
  SPARSE24_CUDA_CHECK(cudaEventCreate(&stop_));
}
EventTimer::~EventTimer() {
  cudaEventDestroy(start_);
  cudaEventDestroy(stop_);
}

float EventTimer::time_ms(const std::function<void()>& launch, cudaStream_t stream) {
  SPARSE24_CUDA_CHECK(cudaEventRecord(start_, stream));
  launch();
  SPARSE24_CUDA_CHECK(cudaGetLastError());
  SPARSE24_CUDA_CHECK(cudaEventRecord(stop_, stream));
  SPARSE24_CUDA_CHECK(cudaEventSynchronize(stop_));
  float ms = 0;
  SPARSE24_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
  return ms;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double median_cold_ms(const std::function<void()>& launch, L2Flusher& flusher, EventTimer& timer,
                      cudaStream_t stream, int reps) {
  std::vector<double> times;
  for (int i = 0; i < std::max(reps, 1); ++i) {
    flusher.flush(stream);
    times.push_back(timer.time_ms(launch, stream));
  }
  return median(std::move(times));
}

}  // namespace sparse24::harness
