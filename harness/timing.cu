#include "harness/timing.h"

#include <algorithm>

#include "kernels/common/cuda_check.h"

namespace sparse24::harness {

L2Flusher::L2Flusher(int device) {
  int l2 = 0;
  SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
  buf_ = DeviceBuffer(size_t(std::max(l2, 1 << 20)) * 2);
}

void L2Flusher::flush(cudaStream_t stream) {
  SPARSE24_CUDA_CHECK(cudaMemsetAsync(buf_.get(), 0, buf_.bytes(), stream));
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

}  // namespace sparse24::harness
