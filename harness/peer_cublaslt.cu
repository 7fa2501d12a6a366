// cuBLASLt as the dense peer (see peer_cublaslt.h for the contract).
//
// cuBLASLt is column-major. The row-major D (M x N) is the column-major N x M matrix X . A^T, where the row-major
// X (N x K, leading dimension ldk) is the column-major K x N matrix with ld = ldk taken with op T, and the row-major
// A (M x K) is the column-major K x M matrix taken as is: cuBLASLt's "A" is our X, its "B" our A, its "D" our D
// with ld = ldn. The same TN call as cublasGemmEx in reference_cublas.cu.
#include "harness/peer_cublaslt.h"

#include <cublasLt.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

#include "harness/device_buffer.h"
#include "harness/cuda_types.h"
#include "kernels/common/cuda_check.h"

namespace sparse24::harness {

namespace {

void check_lt(cublasStatus_t s, const char* call) {
  if (s != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string(call) + " failed: " + cublasGetStatusName(s));
}
#define SPARSE24_BLASLT(call) check_lt((call), #call)

template <class V>
V algo_attr(const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoConfigAttributes_t attr) {
  V v{};
  size_t written = 0;
  check_lt(cublasLtMatmulAlgoConfigGetAttribute(&algo, attr, &v, sizeof(v), &written),
           "cublasLtMatmulAlgoConfigGetAttribute");
  return v;
}

}  // namespace

struct CublasLtPeer::Impl {
  DType t;
  int M = 0, N = 0, K = 0;
  int64_t ldk = 0, ldn = 0;  // leading dimensions used (padded or the shape's own)
  bool padded = false;
  const void* a = nullptr;   // what the call reads: the caller's buffers, or the padded copies
  const void* x = nullptr;
  void* d_call = nullptr;    // what the call writes
  void* d_user = nullptr;    // the caller's D
  DeviceBuffer a_pad, x_pad, d_pad, workspace;
  cudaStream_t stream = nullptr;
  float alpha = 1.0f, beta = 0.0f;

  cublasLtHandle_t handle = nullptr;
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t lx = nullptr, la = nullptr, ld = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  std::vector<cublasLtMatmulHeuristicResult_t> algos;
  int chosen = 0;

  ~Impl() {
    // Statuses ignored: a destructor must not throw, and nothing is left to do about a failure.
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (ld) cublasLtMatrixLayoutDestroy(ld);
    if (la) cublasLtMatrixLayoutDestroy(la);
    if (lx) cublasLtMatrixLayoutDestroy(lx);
    if (op) cublasLtMatmulDescDestroy(op);
    if (handle) cublasLtDestroy(handle);
  }
};

CublasLtPeer::CublasLtPeer(DType t, int M, int N, int K, const void* a, const void* x, void* d, cudaStream_t stream,
                           int max_candidates)
    : impl_(std::make_unique<Impl>()) {
  // The peer's other types (IMMA int8 with int32 D, fp8 with scale pointers, tf32 compute) come with issue 16;
  // until then a row of another type says so instead of calling cuBLASLt with a description it would refuse.
  if (t != DType::fp16 && t != DType::bf16)
    throw PeerRefused(std::string("the cuBLASLt peer has no ") + name(t) + " configuration yet (fp16, bf16)");
  Impl& p = *impl_;
  p.t = t, p.M = M, p.N = N, p.K = K, p.stream = stream, p.d_user = d;
  const int eb = info(t).bits / 8;
  p.ldk = padded_ld(K, eb);
  p.ldn = padded_ld(N, eb);
  p.padded = p.ldk != K || p.ldn != N;
  if (p.padded) {
    // Copies with 16-byte rows, zeros in the padding (zero columns of K add nothing to the products), made once.
    // NOTE: the padded dimensions themselves are passed to cuBLASLt (K -> ldk, N -> ldn, with zero rows of X past
    // N), not only the leading dimensions: with ldd padded but N = 4097 the heuristic's kernels stayed on the
    // slow path (H100, run a89f4fa: 4096x4097x4096 in 1403 us, 98 TFLOP/s, against about 200 us at 4096 or 4104).
    // That is what a user does (pad the activations to a multiple of 8); the extra columns, at most 7, are work
    // the peer does and its time includes, while its rate is still counted for the shape's own N.
    p.a_pad = DeviceBuffer(size_t(M) * p.ldk * eb);
    p.x_pad = DeviceBuffer(size_t(p.ldn) * p.ldk * eb);
    p.d_pad = DeviceBuffer(size_t(M) * p.ldn * eb);
    SPARSE24_CUDA_CHECK(cudaMemsetAsync(p.a_pad.get(), 0, p.a_pad.bytes(), stream));
    SPARSE24_CUDA_CHECK(cudaMemsetAsync(p.x_pad.get(), 0, p.x_pad.bytes(), stream));
    SPARSE24_CUDA_CHECK(cudaMemcpy2DAsync(p.a_pad.get(), p.ldk * eb, a, size_t(K) * eb, size_t(K) * eb, M,
                                          cudaMemcpyDeviceToDevice, stream));
    SPARSE24_CUDA_CHECK(cudaMemcpy2DAsync(p.x_pad.get(), p.ldk * eb, x, size_t(K) * eb, size_t(K) * eb, N,
                                          cudaMemcpyDeviceToDevice, stream));
    SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
    p.a = p.a_pad.get(), p.x = p.x_pad.get(), p.d_call = p.d_pad.get();
  } else {
    p.a = a, p.x = x, p.d_call = d;
  }

  const cudaDataType_t ty = cuda_data_type(t);
  SPARSE24_BLASLT(cublasLtCreate(&p.handle));
  SPARSE24_BLASLT(cublasLtMatmulDescCreate(&p.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t op_t = CUBLAS_OP_T, op_n = CUBLAS_OP_N;
  SPARSE24_BLASLT(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &op_t, sizeof(op_t)));
  SPARSE24_BLASLT(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &op_n, sizeof(op_n)));
  // Padded or not, the call's K and N are the leading dimensions (equal to K and N when nothing is padded).
  const uint64_t k_call = p.ldk, n_call = p.ldn;
  SPARSE24_BLASLT(cublasLtMatrixLayoutCreate(&p.lx, ty, k_call, n_call, p.ldk));  // X: K x N col-major, op T
  SPARSE24_BLASLT(cublasLtMatrixLayoutCreate(&p.la, ty, k_call, M, p.ldk));       // A: K x M col-major, op N
  SPARSE24_BLASLT(cublasLtMatrixLayoutCreate(&p.ld, ty, n_call, M, p.ldn));       // D: N x M (C = D, beta = 0)

  SPARSE24_BLASLT(cublasLtMatmulPreferenceCreate(&p.pref));
  const uint64_t ws = kWorkspaceBytes;
  SPARSE24_BLASLT(cublasLtMatmulPreferenceSetAttribute(p.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                                       sizeof(ws)));
  // Split-K partial sums reduced in f32 only (the header's NOTE).
  const uint32_t mask = CUBLASLT_REDUCTION_SCHEME_NONE | CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE;
  SPARSE24_BLASLT(cublasLtMatmulPreferenceSetAttribute(p.pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &mask,
                                                       sizeof(mask)));

  p.algos.resize(std::max(max_candidates, 1));
  int returned = 0;
  const cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(p.handle, p.op, p.lx, p.la, p.ld, p.ld, p.pref,
                                                          static_cast<int>(p.algos.size()), p.algos.data(), &returned);
  if (s == CUBLAS_STATUS_NOT_SUPPORTED || (s == CUBLAS_STATUS_SUCCESS && returned == 0))
    throw PeerRefused("no cuBLASLt algorithm for " + std::to_string(M) + "x" + std::to_string(N) + "x" +
                      std::to_string(K) + " (cublasLtMatmulAlgoGetHeuristic)");
  check_lt(s, "cublasLtMatmulAlgoGetHeuristic");
  p.algos.resize(returned);
  size_t need = 0;
  for (const auto& h : p.algos) need = std::max(need, h.workspaceSize);
  if (need > 0) p.workspace = DeviceBuffer(need);
}

CublasLtPeer::~CublasLtPeer() = default;

int CublasLtPeer::candidates() const { return static_cast<int>(impl_->algos.size()); }

void CublasLtPeer::select(int i) {
  if (i < 0 || i >= candidates()) throw std::out_of_range("cuBLASLt peer: no candidate " + std::to_string(i));
  if (impl_->algos[i].state != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("heuristic result not usable: ") + cublasGetStatusName(impl_->algos[i].state));
  impl_->chosen = i;
}

int CublasLtPeer::selected() const { return impl_->chosen; }

void CublasLtPeer::run() {
  Impl& p = *impl_;
  const cublasLtMatmulHeuristicResult_t& h = p.algos[p.chosen];
  SPARSE24_BLASLT(cublasLtMatmul(p.handle, p.op, &p.alpha, p.x, p.lx, p.a, p.la, &p.beta, p.d_call, p.ld, p.d_call,
                                 p.ld, &h.algo, p.workspace.get(), h.workspaceSize, p.stream));
}

void CublasLtPeer::finish() {
  Impl& p = *impl_;
  if (!p.padded) return;
  const size_t eb = info(p.t).bits / 8;
  SPARSE24_CUDA_CHECK(cudaMemcpy2DAsync(p.d_user, size_t(p.N) * eb, p.d_pad.get(), size_t(p.ldn) * eb,
                                        size_t(p.N) * eb, p.M, cudaMemcpyDeviceToDevice, p.stream));
}

bool CublasLtPeer::padded() const { return impl_->padded; }

std::vector<std::pair<std::string, double>> CublasLtPeer::fields() const {
  const Impl& p = *impl_;
  const cublasLtMatmulHeuristicResult_t& h = p.algos[p.chosen];
  return {
      {"algo_id", algo_attr<int32_t>(h.algo, CUBLASLT_ALGO_CONFIG_ID)},
      {"algo_tile_id", algo_attr<uint32_t>(h.algo, CUBLASLT_ALGO_CONFIG_TILE_ID)},
      {"algo_stages_id", algo_attr<uint32_t>(h.algo, CUBLASLT_ALGO_CONFIG_STAGES_ID)},
      {"algo_splitk", algo_attr<int32_t>(h.algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM)},
      {"algo_reduction_scheme", algo_attr<uint32_t>(h.algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME)},
      {"algo_cta_swizzling", algo_attr<uint32_t>(h.algo, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING)},
      {"algo_custom_option", algo_attr<uint32_t>(h.algo, CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION)},
      {"algo_workspace_bytes", static_cast<double>(h.workspaceSize)},
      {"heuristic_rank", p.chosen},
      {"heuristic_waves", h.wavesCount},
  };
}

std::string CublasLtPeer::describe() const {
  std::ostringstream o;
  o << "cuBLASLt heuristic candidate " << impl_->chosen << " of " << candidates();
  for (const auto& [k, v] : fields()) o << " " << k << "=" << v;
  if (impl_->padded) o << " (leading dimensions padded to 16 bytes: ldk=" << impl_->ldk << " ldn=" << impl_->ldn << ")";
  return o.str();
}

std::string CublasLtPeer::version() {
  const size_t v = cublasLtGetVersion();  // major * 10000 + minor * 100 + patch
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

#undef SPARSE24_BLASLT

}  // namespace sparse24::harness
