// cuBLASLt as the dense peer (see peer_cublaslt.h for the contract).
//
// cuBLASLt is column-major. The row-major D (M x N) is the column-major N x M matrix X . A^T, where the row-major
// X (N x K, leading dimension ldk) is the column-major K x N matrix with ld = ldk taken with op T, and the row-major
// A (M x K) is the column-major K x M matrix taken as is: cuBLASLt's "A" is our X, its "B" our A, its "D" our D
// with ld = ldn. The same TN call as cublasGemmEx in reference_cublas.cu. That "TN" form (cuBLASLt's A transposed,
// its B not) is also the only one cuBLASLt's IMMA (int8) and FP8 kernels accept with column-major order, so every
// type below uses this one mapping.
//
// Types: the operands of the problem's default combination (kernels/common/operands.h, default_operands), the
// combination our kernels of the same input type write, so the comparison is like for like. Support matrix
// implemented (cuBLAS documentation, CUDA 13, https://docs.nvidia.com/cuda/cublas/#cublasltmatmul: the table of
// supported type combinations, and the "IMMA" and "FP8" requirement lists of cublasLtMatmul()):
//
//   input  A/B type(s)       C = D type   compute                        scale (alpha, beta)  notes
//   fp16   CUDA_R_16F        CUDA_R_16F   CUBLAS_COMPUTE_32F             CUDA_R_32F
//   bf16   CUDA_R_16BF       CUDA_R_16BF  CUBLAS_COMPUTE_32F             CUDA_R_32F
//   int8   CUDA_R_8I         CUDA_R_32I   CUBLAS_COMPUTE_32I             CUDA_R_32I (int32)   IMMA: TN only, ld and
//                                                                                             m, k multiples of 4
//   e4m3   CUDA_R_8F_E4M3    CUDA_R_16BF  CUBLAS_COMPUTE_32F             CUDA_R_32F           FP8: TN only (Hopper),
//                                                                                             A/B scale pointers
//   e5m2   refused: cuBLASLt has no e5m2 x e5m2 GEMM (its FP8 table pairs e5m2 only with an e4m3 operand)
//   tf32   CUDA_R_32F        CUDA_R_32F   CUBLAS_COMPUTE_32F_FAST_TF32   CUDA_R_32F           inputs already tf32
//
// FP8: A and B scale pointers (CUBLASLT_MATMUL_DESC_A/B_SCALE_POINTER) point at one device f32 1.0, our kernels'
// per-tensor scale (the quantized buffers are the problem's own; a NULL pointer would mean 1 too, set explicitly so
// the row says what it ran). CUBLASLT_MATMUL_DESC_FAST_ACCUM stays 0 (the default): partial sums are promoted to
// f32, the accumulation our fp8 kernels promise (issue 16), not the ~14-bit one of fast accumulation.
// tf32: the problem's inputs are tf32 values in f32 storage (low 13 bits zero, problem.h), so FAST_TF32's
// down-conversion changes nothing and cuBLASLt multiplies the very numbers the sparse kernels do.
// A type cuBLASLt lacks, or a GPU that lacks it (fp8 before sm_89), is a PeerRefused, never another type's GEMM.
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
#include "kernels/common/operands.h"

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

// What cuBLASLt is asked for, per input type (the matrix at the top of the file).
struct LtTypes {
  cudaDataType_t ab, d;         // A and B, C and D
  cublasComputeType_t compute;
  cudaDataType_t scale;         // alpha and beta
  bool fp8;                     // needs the A/B scale pointers
};

LtTypes lt_types(const Operands& o) {
  switch (o.a) {
    case DType::fp16:
    case DType::bf16:
      return {cuda_data_type(o.a), cuda_data_type(o.d), CUBLAS_COMPUTE_32F, CUDA_R_32F, false};
    case DType::int8:
      return {CUDA_R_8I, CUDA_R_32I, CUBLAS_COMPUTE_32I, CUDA_R_32I, false};
    case DType::e4m3:
      return {CUDA_R_8F_E4M3, cuda_data_type(o.d), CUBLAS_COMPUTE_32F, CUDA_R_32F, true};
    case DType::tf32:
      return {CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, CUDA_R_32F, false};
    case DType::e5m2:
      throw PeerRefused("cuBLASLt has no e5m2 x e5m2 fp8 GEMM (its fp8 kernels pair e5m2 with an e4m3 operand)");
    case DType::f32:
    case DType::int32:
      break;
  }
  throw PeerRefused(std::string("the cuBLASLt peer has no ") + name(o.a) + " input configuration");
}

}  // namespace

struct CublasLtPeer::Impl {
  DType t;
  Operands ops;              // the problem's default combination: D's type comes from here
  int M = 0, N = 0, K = 0;
  int64_t ldk = 0, ldn = 0;  // leading dimensions used (padded or the shape's own)
  bool padded = false;
  const void* a = nullptr;   // what the call reads: the caller's buffers, or the padded copies
  const void* x = nullptr;
  void* d_call = nullptr;    // what the call writes
  void* d_user = nullptr;    // the caller's D
  DeviceBuffer a_pad, x_pad, d_pad, workspace;
  cudaStream_t stream = nullptr;
  // alpha = 1, beta = 0 in the scale type: int32 for IMMA (CUDA_R_32I), f32 otherwise. scale points at the pair used.
  float alpha_f32 = 1.0f, beta_f32 = 0.0f;
  int32_t alpha_s32 = 1, beta_s32 = 0;
  const void* alpha = &alpha_f32;
  const void* beta = &beta_f32;
  DeviceBuffer fp8_scale;   // one f32 1.0 on the device: the A and B scale of an fp8 GEMM

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
  Impl& p = *impl_;
  p.t = t, p.ops = default_operands(t), p.M = M, p.N = N, p.K = K, p.stream = stream, p.d_user = d;
  const LtTypes types = lt_types(p.ops);  // throws PeerRefused for a type cuBLASLt lacks
  const int eb = bytes_of(p.ops.a), db = bytes_of(p.ops.d);
  p.ldk = padded_ld(K, eb);
  // N is D's leading dimension (16 bytes of D) and cuBLASLt's m, which IMMA and FP8 want a multiple of the input
  // type's 16 bytes too (m % 4 for IMMA, 16-byte multiples for FP8): the larger of the two element counts.
  p.ldn = std::max(padded_ld(N, db), padded_ld(N, eb));
  p.padded = p.ldk != K || p.ldn != N;
  if (p.padded) {
    // Copies with 16-byte rows, zeros in the padding (zero columns of K add nothing to the products), made once.
    // NOTE: the padded dimensions themselves are passed to cuBLASLt (K -> ldk, N -> ldn, with zero rows of X past
    // N), not only the leading dimensions: with ldd padded but N = 4097 the heuristic's kernels stayed on the
    // slow path (H100, run a89f4fa: 4096x4097x4096 in 1403 us, 98 TFLOP/s, against about 200 us at 4096 or 4104).
    // That is what a user does (pad the activations to a multiple of 8); the extra columns, at most 15, are work
    // the peer does and its time includes, while its rate is still counted for the shape's own N.
    p.a_pad = DeviceBuffer(size_t(M) * p.ldk * eb);
    p.x_pad = DeviceBuffer(size_t(p.ldn) * p.ldk * eb);
    p.d_pad = DeviceBuffer(size_t(M) * p.ldn * db);
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
  if (types.scale == CUDA_R_32I) p.alpha = &p.alpha_s32, p.beta = &p.beta_s32;

  SPARSE24_BLASLT(cublasLtCreate(&p.handle));
  SPARSE24_BLASLT(cublasLtMatmulDescCreate(&p.op, types.compute, types.scale));
  const cublasOperation_t op_t = CUBLAS_OP_T, op_n = CUBLAS_OP_N;
  SPARSE24_BLASLT(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &op_t, sizeof(op_t)));
  SPARSE24_BLASLT(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &op_n, sizeof(op_n)));
  if (types.fp8) {
    // The scale of cuBLASLt's A (our X) and of its B (our A): one device f32 1.0 serves both (read-only).
    const float one = 1.0f;
    p.fp8_scale = DeviceBuffer(sizeof(one));
    SPARSE24_CUDA_CHECK(cudaMemcpy(p.fp8_scale.get(), &one, sizeof(one), cudaMemcpyHostToDevice));
    const void* scale = p.fp8_scale.get();
    SPARSE24_BLASLT(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &scale, sizeof(scale)));
    SPARSE24_BLASLT(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &scale, sizeof(scale)));
  }
  // Padded or not, the call's K and N are the leading dimensions (equal to K and N when nothing is padded).
  const uint64_t k_call = p.ldk, n_call = p.ldn;
  SPARSE24_BLASLT(cublasLtMatrixLayoutCreate(&p.lx, types.ab, k_call, n_call, p.ldk));  // X: K x N col-major, op T
  SPARSE24_BLASLT(cublasLtMatrixLayoutCreate(&p.la, types.ab, k_call, M, p.ldk));       // A: K x M col-major, op N
  SPARSE24_BLASLT(cublasLtMatrixLayoutCreate(&p.ld, types.d, n_call, M, p.ldn));        // D: N x M (C = D, beta = 0)

  SPARSE24_BLASLT(cublasLtMatmulPreferenceCreate(&p.pref));
  const uint64_t ws = kWorkspaceBytes;
  SPARSE24_BLASLT(cublasLtMatmulPreferenceSetAttribute(p.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                                       sizeof(ws)));
  // Split-K partial sums reduced in the compute type only (the header's NOTE): f32, or int32 for IMMA (exact).
  const uint32_t mask = CUBLASLT_REDUCTION_SCHEME_NONE | CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE;
  SPARSE24_BLASLT(cublasLtMatmulPreferenceSetAttribute(p.pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &mask,
                                                       sizeof(mask)));

  p.algos.resize(std::max(max_candidates, 1));
  int returned = 0;
  const cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(p.handle, p.op, p.lx, p.la, p.ld, p.ld, p.pref,
                                                          static_cast<int>(p.algos.size()), p.algos.data(), &returned);
  // A type the GPU lacks (fp8 before sm_89) lands here too: no algorithm, refused with the type in the reason.
  if (s == CUBLAS_STATUS_NOT_SUPPORTED || (s == CUBLAS_STATUS_SUCCESS && returned == 0))
    throw PeerRefused("no cuBLASLt algorithm for " + std::string(name(t)) + " " + std::to_string(M) + "x" +
                      std::to_string(N) + "x" + std::to_string(K) + " (cublasLtMatmulAlgoGetHeuristic)");
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
  SPARSE24_BLASLT(cublasLtMatmul(p.handle, p.op, p.alpha, p.x, p.lx, p.a, p.la, p.beta, p.d_call, p.ld, p.d_call,
                                 p.ld, &h.algo, p.workspace.get(), h.workspaceSize, p.stream));
}

void CublasLtPeer::finish() {
  Impl& p = *impl_;
  if (!p.padded) return;
  const size_t eb = bytes_of(p.ops.d);  // D's element, not the input's
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
