// cuBLASLt as the dense peer: the strongest dense GEMM cuBLAS offers for the problem, through the call a user of
// y = x . W^T makes (the same TN layout as cublasGemmEx in reference_cublas.h: row-major D[M,N] = A[M,K] . X[N,K]^T).
//
// Candidates: the first `max_candidates` algorithms of cublasLtMatmulAlgoGetHeuristic (its own order; candidate 0
// is what a plain cublasLtMatmul user, and PyTorch, gets), searched by search_fastest() (peer.h).
// Types: the input type's default combination (operands.h default_operands: fp16/bf16 -> D of the same type, int8
// -> int32 D through IMMA, e4m3 -> bf16 D, tf32 -> f32 D), the one our kernels write; e5m2 (no e5m2 x e5m2 GEMM in
// cuBLASLt) is refused. The support matrix and its source are at the top of peer_cublaslt.cu.
// Precision: f32 compute and scale (int32 for int8, tf32 products for tf32), and reductions of split-K partial
// sums only in the compute type (CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK = NONE | COMPUTE_TYPE). NOTE: why.
// The in-place and output-type schemes add partial sums in the 16-bit output type; that is what made
// cublasGemmEx's fp16 answers at 4096x3x4096 miss the rounding bound (7 of 12288 elements, |err| 0.125): a less
// accurate answer than our f32-accumulating kernels, so not a like-for-like peer. The mask does not touch shapes
// that need no split-K (8192^3).
// Padding: when K or N elements are not a multiple of 16 bytes (N: of the input type and of D's), the peer
// multiplies copies with leading dimensions padded to 16 bytes (zeros in the padding, made once at construction)
// and copies D back in finish(), outside timing: an unaligned leading dimension puts cuBLAS on a slow path
// (4096x4097x4096 bf16: 93 TFLOP/s), and a ratio against that would be a ratio against our own set-up.
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness/peer.h"
#include "kernels/common/dtype.h"

namespace sparse24::harness {

class CublasLtPeer final : public Peer {
 public:
  // How many heuristic candidates are timed by default.
  static constexpr int kDefaultCandidates = 8;
  // Workspace offered to cuBLASLt: 32 MiB, NVIDIA's recommendation for Hopper (cuBLAS docs, cublasSetWorkspace)
  // and PyTorch's default there.
  static constexpr size_t kWorkspaceBytes = size_t(32) << 20;

  // a: A (M x K row-major), x: X (N x K row-major), both of type t; d: D (M x N row-major) of
  // default_operands(t).d; all device memory that must outlive the peer. Throws PeerRefused when cuBLASLt has no
  // configuration (e5m2) or no algorithm (a shape, or a type the GPU lacks) for the problem.
  CublasLtPeer(DType t, int M, int N, int K, const void* a, const void* x, void* d, cudaStream_t stream,
               int max_candidates = kDefaultCandidates);
  ~CublasLtPeer() override;

  const char* library() const override { return "cuBLASLt"; }
  int candidates() const override;
  void select(int i) override;
  int selected() const override;
  void run() override;
  void finish() override;
  bool padded() const override;
  // algo_id, tile_id, stages_id, splitk, reduction_scheme, cta_swizzling, custom_option, workspace_bytes,
  // heuristic_rank (the candidate's position in the heuristic's list), waves.
  std::vector<std::pair<std::string, double>> fields() const override;
  std::string describe() const override;

  static std::string version();  // cuBLASLt's version as "major.minor.patch"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sparse24::harness
