// Host helpers shared by the GPU tests (the one-instruction tests tests/gpu/test_instructions_gpu.cu and
// test_wgmma_instructions_gpu.cu, and test_skinny_gpu.cu): a float's 16-bit pattern, packing two halves into a
// register, and moving vectors to and from the device.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <vector>

#include "harness/device_buffer.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/dtype.h"

namespace sparse24::gputest {

template <DType T>
uint16_t bits_of(float x) {
  if constexpr (T == DType::bf16) {
    const __nv_bfloat16 v = __float2bfloat16(x);
    return *reinterpret_cast<const uint16_t*>(&v);
  } else {
    const __half v = __float2half(x);
    return *reinterpret_cast<const uint16_t*>(&v);
  }
}

inline uint32_t pack(uint16_t lo, uint16_t hi) { return uint32_t(lo) | (uint32_t(hi) << 16); }

template <class V>
harness::DeviceBuffer upload(const std::vector<V>& h) {
  harness::DeviceBuffer d(h.size() * sizeof(V));
  check_cuda(cudaMemcpy(d.get(), h.data(), d.bytes(), cudaMemcpyHostToDevice), "cudaMemcpy H2D");
  return d;
}

template <class V>
std::vector<V> download(const harness::DeviceBuffer& d) {
  std::vector<V> h(d.bytes() / sizeof(V));
  check_cuda(cudaDeviceSynchronize(), "kernel");
  check_cuda(cudaMemcpy(h.data(), d.get(), d.bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
  return h;
}

}  // namespace sparse24::gputest
