// Checking CUDA runtime calls: every call's status is read, and a failure throws with the call and its place.
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace sparse24 {

// Throws when `e` is an error, naming `what` (the call, and where it was made when called through the macro).
inline void check_cuda(cudaError_t e, const std::string& what) {
  if (e != cudaSuccess)
    throw std::runtime_error(what + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

}  // namespace sparse24

#define SPARSE24_CUDA_CHECK(call) \
  ::sparse24::check_cuda((call), std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " + #call)
