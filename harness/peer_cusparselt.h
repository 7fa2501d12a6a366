// cuSPARSELt as a peer: the same problem (the pruned A, the same B and D buffers) through NVIDIA's library.
//
// Built only when CMake found cuSPARSELt (SPARSE24_HAVE_CUSPARSELT); otherwise available() is false and the
// benchmark reports the peer as absent. The plan, the compressed copy of A and the algorithm search are done once
// per problem in the constructor, outside any timing: the timed call is cusparseLtMatmul alone (a wrapper that
// builds plans per call measures the wrapper, not the kernel: PyTorch's pays about 0.7 ms per call on an H200).
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <string>

#include "kernels/common/dtype.h"

namespace sparse24::harness {

class CusparseltPeer {
 public:
  // True when this build has cuSPARSELt.
  static bool available();
  // Library version as "major.minor.patch", or "absent".
  static std::string version();

  // a_pruned: the 2:4 pruned dense A (M x K row-major, device). b: X (N x K row-major, device). d: M x N row-major.
  // Throws std::runtime_error with cuSPARSELt's status when the library refuses the problem (for example N = 1).
  CusparseltPeer(DType t, int M, int N, int K, const void* a_pruned, const void* b, void* d, cudaStream_t stream);
  ~CusparseltPeer();
  CusparseltPeer(const CusparseltPeer&) = delete;
  CusparseltPeer& operator=(const CusparseltPeer&) = delete;

  // D = A . B with alpha = 1, beta = 0, enqueued on the stream given to the constructor.
  void run();
  // Which algorithm the search chose (for the JSON context of the row).
  int algorithm() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sparse24::harness
