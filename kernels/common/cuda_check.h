// Checking CUDA runtime calls: every call's status is read, and a failure throws with the call and its place.
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace sparse24 {

[[noreturn]] inline void throw_cuda_error(cudaError_t e, const char* call, const char* file, int line) {
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call + " failed: " +
                           cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

}  // namespace sparse24

#define SPARSE24_CUDA_CHECK(call)                                                  \
  do {                                                                             \
    const cudaError_t sparse24_err_ = (call);                                      \
    if (sparse24_err_ != cudaSuccess)                                              \
      ::sparse24::throw_cuda_error(sparse24_err_, #call, __FILE__, __LINE__);      \
  } while (0)
