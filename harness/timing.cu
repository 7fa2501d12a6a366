#include "harness/timing.h"

#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/l2_flush.h"

namespace sparse24::harness {

L2Flusher::L2Flusher(int device) {
  buf_ = DeviceBuffer(l2_flush_bytes(device));
  SPARSE24_CUDA_CHECK(cudaMemset(buf_.get(), 0, buf_.bytes()));  // flush_l2 reads zeros
  SPARSE24_CUDA_CHECK(cudaDeviceSynchronize());
}

void L2Flusher::flush(cudaStream_t stream) { flush_l2(buf_.get(), buf_.bytes(), stream); }

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
