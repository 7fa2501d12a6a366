// cuSPARSELt as a peer: the same problem (the pruned A, the same B and D buffers) through NVIDIA's library.
//
// Built only when CMake found cuSPARSELt (SPARSE24_HAVE_CUSPARSELT); otherwise available() is false and the
// benchmark reports the peer as absent. The plan, the compressed copy of A and the candidate list are made once
// per problem in the constructor, outside any timing; select() rebuilds the plan (and the compressed A) for one
// candidate; the timed call is cusparseLtMatmul alone (a wrapper that builds plans per call measures the wrapper,
// not the kernel: PyTorch's pays about 0.7 ms per call on an H200).
//
// Candidates (searched by search_fastest(), peer.h, like cuBLASLt's):
//   0      the configuration cusparseLtMatmulSearch picks (run once, warm, in the constructor: the library's own
//          choice, which the harness used alone before; its pick varied 5% run to run)
//   1      the default algorithm selection, nothing set
//   then   every algorithm id 0..CUSPARSELT_MATMUL_ALG_CONFIG_MAX_ID with the library's default split-K, and with
//          split-K 2, 4 and 8 where K / split >= kMinSplitK
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness/peer.h"
#include "kernels/common/dtype.h"

namespace sparse24::harness {

class CusparseltPeer final : public Peer {
 public:
  // True when this build has cuSPARSELt.
  static bool available();
  // Library version as "major.minor.patch", or "absent".
  static std::string version();

  // a_pruned: the pruned dense A (M x K row-major, device; 2:4, or 1:2 for tf32). b: X (N x K row-major, device).
  // Both of type t. d: M x N row-major, of default_operands(t).d (int32 for int8, bf16 for fp8, f32 for tf32; the
  // matrix at the top of peer_cusparselt.cu). All must outlive the peer. Leading dimensions that are not 16-byte
  // multiples are padded as in CublasLtPeer.
  // Throws PeerRefused with a short reason when the library refuses the problem (for example N = 1, or a type the
  // library or the GPU lacks), and
  // std::runtime_error with cuSPARSELt's status for anything else. Selects candidate 0.
  CusparseltPeer(DType t, int M, int N, int K, const void* a_pruned, const void* b, void* d, cudaStream_t stream);
  ~CusparseltPeer() override;

  const char* library() const override { return "cuSPARSELt"; }
  int candidates() const override;
  void select(int i) override;
  int selected() const override;
  // D = A . X^T with alpha = 1, beta = 0, enqueued on the stream given to the constructor.
  void run() override;
  void finish() override;
  bool padded() const override;
  // algorithm (config id), split_k, split_k_mode, split_k_buffers (as the plan has them), candidate,
  // workspace_bytes.
  std::vector<std::pair<std::string, double>> fields() const override;
  std::string describe() const override;
  // The selected candidate's algorithm config id.
  int algorithm() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// cuSPARSELt's own prune and compress, the peer of the prune_compress rows (issue 18): the same dense W (M x K,
// row-major, 2:4 along K), cusparseLtSpMMAPrune with CUSPARSELT_PRUNE_SPMMA_STRIP (two of every four along K, by
// magnitude: the 1-D rule our format implements) into a pruned copy, then cusparseLtSpMMACompress of that copy
// into the library's compressed form (its values and its own metadata). What a cuSPARSELt user runs to get a
// weight ready, and what torch's _cslt_compress calls (on a W already pruned); torch itself is not on the GPU
// machines (no network there, and a torch wheel is far over the 64 MiB that can be carried), so its peers
// (_cslt_compress, _sparse_semi_structured_tile) are not timed: the cuSPARSELt row stands for _cslt_compress.
//
// The compressed layout belongs to a matmul plan, so the constructor builds the descriptors and a plan for
// D (M x K) = W . X^T with X an identity of K x K (the matmul set-up of CusparseltPeer with N = K): compress() is
// then exactly what it is for any N, and multiply_identity() reads the compressed W back through the library's own
// GEMM (D = W, exact: one product by 1 per output), which is how the harness checks the compressed copy without a
// decompress call (cuSPARSELt has none). Everything is made once, outside timing; prune() and compress() are the
// two calls alone. Throws PeerRefused for what the library refuses (a shape, a type), std::runtime_error else.
class CusparseltPrunePeer {
 public:
  static bool available() { return CusparseltPeer::available(); }
  // dense: M x K row-major, device, type t (fp16 or bf16), outliving the peer.
  CusparseltPrunePeer(DType t, int M, int K, const void* dense, cudaStream_t stream);
  ~CusparseltPrunePeer();
  CusparseltPrunePeer(const CusparseltPrunePeer&) = delete;
  CusparseltPrunePeer& operator=(const CusparseltPrunePeer&) = delete;

  void prune();     // dense -> pruned(): cusparseLtSpMMAPrune (STRIP), enqueued on the stream
  void compress();  // pruned() -> the library's compressed copy: cusparseLtSpMMACompress, enqueued on the stream
  void run() { prune(), compress(); }
  void* pruned() const;              // M x K, device (the harness poisons it before the check)
  size_t compressed_bytes() const;   // the library's compressed size for this plan (values and metadata)
  // D = compressed W . I^T = W pruned, M x K in type t (device, caller's buffer); synchronizes the stream.
  void multiply_identity(void* d);
  // cusparseLtSpMMAPruneCheck on pruned(): true when the library reads it as 2:4; synchronizes the stream.
  bool prune_check();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sparse24::harness
