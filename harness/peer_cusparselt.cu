// cuSPARSELt as a peer (see peer_cusparselt.h for the contract).
//
// The problem, in cuSPARSELt's terms (every matrix row-major, CUSPARSE_ORDER_ROW):
//
//   matA  structured  M x K, ld = K, opA = N     the pruned weight W = A (2:4 along K, the sparse operand)
//   matB  dense       N x K, ld = K, opB = T     X as we store it; op(B) = X^T is the K x N operand
//   matC  dense       M x N, ld = N              also used as matD (beta = 0, C = D)
//
//   D[M,N] = A[M,K] . op(B)[K,N] = W . X^T
//
// NOTE: why this order/op combination. It is the configuration of NVIDIA's own cuSPARSELt 0.8.0 sample
// (CUDALibrarySamples cuSPARSELt/matmul/matmul_example.cpp: order = ROW for all matrices, opA = N, opB = T,
// B described as num_B_rows = n, num_B_cols = k, ldb = k), and the one PyTorch's _cslt_sparse_mm takes for
// y = x . W^T (dense_B = x.t() not contiguous -> B described as n x k row-major with opB = T). No transposed
// problem is needed: the structured operand stays matA = W, the output stays row-major M x N. The library's own
// checks (messages in libcusparseLt.so.0 0.8.0) tie the op/order combination to the element type ("only opA/B=...
// is supported with orderA/B=... and AB_type = ...": the 8-bit types) and require matC and matD to share order
// and ld, which one descriptor for both guarantees. B K-contiguous is also the layout cuSPARSELt's 8-bit path
// needs (it refuses a row-major B for int8/fp8), so int8/fp8 can later reuse this set-up.
//
// Evidence: on an H200 with cuSPARSELt 0.8.0 (2026-11-22) this set-up gave results bit-identical to a CPU
// reference (small-integer inputs, output rounded once to the type) for bf16 and fp16 at 256x128x512, 128x16x256,
// 384x64x1024 and 4096x4096x4096; N = 1 is refused at cusparseLtDenseDescriptorInit (CUSPARSE_STATUS_NOT_SUPPORTED).
//
// The library context is set up once per problem in the constructor: handle, descriptors, plan, a check that A
// really is 2:4 in the library's sense, the compressed copy of A, one algorithm search, the workspace. run() is
// cusparseLtMatmul alone.
//
// NOTE: a_pruned, b and d must stay valid for the lifetime of the peer: b and d are read/written by every run(),
// and a_pruned is registered as CUSPARSELT_MATMUL_SPARSE_MAT_POINTER, as NVIDIA's 0.8.0 sample does after
// cusparseLtMatmulPlanInit.
#include "harness/peer_cusparselt.h"

#include "kernels/common/cuda_check.h"

#include <stdexcept>
#include <string>

#if defined(SPARSE24_HAVE_CUSPARSELT)
#include <cusparseLt.h>
#endif

namespace sparse24::harness {

#if !defined(SPARSE24_HAVE_CUSPARSELT)

// ---- Built without cuSPARSELt ----------------------------------------------------------------------------------
struct CusparseltPeer::Impl {};

bool CusparseltPeer::available() { return false; }
std::string CusparseltPeer::version() { return "absent"; }

CusparseltPeer::CusparseltPeer(DType, int, int, int, const void*, const void*, void*, cudaStream_t) {
  throw std::runtime_error("cuSPARSELt not built in");
}
CusparseltPeer::~CusparseltPeer() = default;
void CusparseltPeer::run() { throw std::runtime_error("cuSPARSELt not built in"); }
int CusparseltPeer::algorithm() const { return -1; }

#else  // SPARSE24_HAVE_CUSPARSELT

// ---- Built with cuSPARSELt -------------------------------------------------------------------------------------
namespace {

// Throws with the call, cuSPARSELt's name and description of the status, and where to look for the reason
// (cuSPARSELt logs why it refused a descriptor only when asked to).
void check_lt(cusparseStatus_t s, const char* call) {
  if (s == CUSPARSE_STATUS_SUCCESS) return;
  throw std::runtime_error(std::string(call) + " failed: " + cusparseLtGetErrorName(s) + " (" +
                           std::to_string(static_cast<int>(s)) + "): " + cusparseLtGetErrorString(s) +
                           " [run with CUSPARSELT_LOG_LEVEL=5 for the library's reason]");
}

#define SPARSE24_LT(call) check_lt((call), #call)

cudaDataType cuda_type(DType t) {
  switch (t) {
    case DType::fp16: return CUDA_R_16F;
    case DType::bf16: return CUDA_R_16BF;
  }
  throw std::runtime_error(std::string("cuSPARSELt peer: unsupported dtype ") + name(t));
}

// Every pointer handed to cuSPARSELt is 16-byte aligned (alignment = 16 in the descriptors; the library rejects
// anything else).
constexpr uint32_t kAlignment = 16;

}  // namespace

struct CusparseltPeer::Impl {
  // The opaque cuSPARSELt objects, and which of them were initialised (so that a constructor that throws half
  // way frees exactly what it made).
  cusparseLtHandle_t handle{};
  cusparseLtMatDescriptor_t mat_a{}, mat_b{}, mat_c{};
  cusparseLtMatmulDescriptor_t matmul{};
  cusparseLtMatmulAlgSelection_t alg_sel{};
  cusparseLtMatmulPlan_t plan{};
  bool has_handle = false, has_a = false, has_b = false, has_c = false, has_alg_sel = false, has_plan = false;

  // Device memory owned by the peer.
  void* a_compressed = nullptr;   // cuSPARSELt's compressed copy of A (values + its own metadata layout)
  void* workspace = nullptr;
  size_t workspace_size = 0;

  // The problem.
  const void* b = nullptr;
  void* d = nullptr;
  cudaStream_t stream = nullptr;
  float alpha = 1.0f, beta = 0.0f;  // CUSPARSE_COMPUTE_32F: alpha and beta are floats on the host
  int alg_id = -1;

  // cusparseLtMatmul takes an array of streams; (nullptr, 0) means the default stream.
  cudaStream_t* streams() { return stream ? &stream : nullptr; }
  int32_t num_streams() const { return stream ? 1 : 0; }

  void setup(DType t, int M, int N, int K, const void* a_pruned);

  ~Impl() {
    // Destruction order: plan, then what the plan was built from, then the handle. Statuses are ignored here: a
    // destructor must not throw, and there is nothing left to do about a failure.
    if (has_plan) cusparseLtMatmulPlanDestroy(&plan);
    if (has_alg_sel) cusparseLtMatmulAlgSelectionDestroy(&alg_sel);
    if (has_c) cusparseLtMatDescriptorDestroy(&mat_c);
    if (has_b) cusparseLtMatDescriptorDestroy(&mat_b);
    if (has_a) cusparseLtMatDescriptorDestroy(&mat_a);
    if (has_handle) cusparseLtDestroy(&handle);
    if (workspace) cudaFree(workspace);
    if (a_compressed) cudaFree(a_compressed);
  }
};

void CusparseltPeer::Impl::setup(DType t, int M, int N, int K, const void* a_pruned) {
  if (M <= 0 || N <= 0 || K <= 0) throw std::runtime_error("cuSPARSELt peer: M, N, K must be positive");
  const cudaDataType type = cuda_type(t);
  const int64_t m = M, n = N, k = K;

  SPARSE24_LT(cusparseLtInit(&handle));
  has_handle = true;

  // A: the structured operand, M x K row-major (K-contiguous), 2:4 along K.
  SPARSE24_LT(cusparseLtStructuredDescriptorInit(&handle, &mat_a, m, k, /*ld=*/k, kAlignment, type,
                                                 CUSPARSE_ORDER_ROW, CUSPARSELT_SPARSITY_50_PERCENT));
  has_a = true;
  // B: X as stored, N x K row-major (K-contiguous); opB = T makes it the K x N operand.
  SPARSE24_LT(cusparseLtDenseDescriptorInit(&handle, &mat_b, n, k, /*ld=*/k, kAlignment, type, CUSPARSE_ORDER_ROW));
  has_b = true;
  // C = D: M x N row-major, in the input type.
  SPARSE24_LT(cusparseLtDenseDescriptorInit(&handle, &mat_c, m, n, /*ld=*/n, kAlignment, type, CUSPARSE_ORDER_ROW));
  has_c = true;

  // The matmul descriptor holds no resources of its own (there is no destroy call for it).
  SPARSE24_LT(cusparseLtMatmulDescriptorInit(&handle, &matmul, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                             CUSPARSE_OPERATION_TRANSPOSE, &mat_a, &mat_b, &mat_c, &mat_c,
                                             CUSPARSE_COMPUTE_32F));
  SPARSE24_LT(cusparseLtMatmulAlgSelectionInit(&handle, &alg_sel, &matmul, CUSPARSELT_MATMUL_ALG_DEFAULT));
  has_alg_sel = true;
  SPARSE24_LT(cusparseLtMatmulPlanInit(&handle, &plan, &matmul, &alg_sel));
  has_plan = true;
  // As NVIDIA's 0.8.0 sample does, right after the plan: tell the descriptor where the pruned A lives.
  SPARSE24_LT(cusparseLtMatmulDescSetAttribute(&handle, &matmul, CUSPARSELT_MATMUL_SPARSE_MAT_POINTER, &a_pruned,
                                               sizeof(a_pruned)));

  // Is A 2:4 the way the library reads it (along K of op(A))? Our pruner and the library must agree, or the
  // library computes with a different matrix than cuBLAS and our kernels. The result lands in device memory.
  {
    int* d_valid = nullptr;
    SPARSE24_CUDA_CHECK(cudaMalloc(&d_valid, sizeof(int)));
    // NOTE: the check only raises the flag (seen on an H200 with cuSPARSELt 0.8.0: a recycled allocation read back
    // as stale data), so it must start at zero.
    SPARSE24_CUDA_CHECK(cudaMemsetAsync(d_valid, 0, sizeof(int), stream));
    int valid = 1;
    cusparseStatus_t s = cusparseLtSpMMAPruneCheck(&handle, &matmul, a_pruned, d_valid, stream);
    cudaError_t e = cudaSuccess;
    if (s == CUSPARSE_STATUS_SUCCESS) {
      e = cudaMemcpyAsync(&valid, d_valid, sizeof(int), cudaMemcpyDeviceToHost, stream);
      if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
    }
    cudaFree(d_valid);
    check_lt(s, "cusparseLtSpMMAPruneCheck");
    check_cuda(e, "cudaMemcpyAsync/cudaStreamSynchronize (prune check result)");
    if (valid != 0)
      throw std::runtime_error("cuSPARSELt peer: cusparseLtSpMMAPruneCheck says A is not 2:4 along K (valid = " +
                               std::to_string(valid) + ")");
  }

  // Compress A into cuSPARSELt's own format. The plan-based calls are the current API; the *2 variants
  // (descriptor-based) are marked deprecated in the 0.8 documentation. The temporary buffer is freed at once.
  {
    size_t compressed_size = 0, buffer_size = 0;
    SPARSE24_LT(cusparseLtSpMMACompressedSize(&handle, &plan, &compressed_size, &buffer_size));
    SPARSE24_CUDA_CHECK(cudaMalloc(&a_compressed, compressed_size));
    void* buffer = nullptr;
    if (buffer_size > 0) SPARSE24_CUDA_CHECK(cudaMalloc(&buffer, buffer_size));
    cusparseStatus_t s = cusparseLtSpMMACompress(&handle, &plan, a_pruned, a_compressed, buffer, stream);
    cudaError_t e = (s == CUSPARSE_STATUS_SUCCESS) ? cudaStreamSynchronize(stream) : cudaSuccess;
    if (buffer) cudaFree(buffer);
    check_lt(s, "cusparseLtSpMMACompress");
    check_cuda(e, "cudaStreamSynchronize (after compress)");
  }

  // Workspace for the default algorithm, then the search (it runs every candidate configuration on these very
  // buffers, overwriting D, and keeps the fastest in the plan and in alg_sel).
  SPARSE24_LT(cusparseLtMatmulGetWorkspace(&handle, &plan, &workspace_size));
  if (workspace_size > 0) SPARSE24_CUDA_CHECK(cudaMalloc(&workspace, workspace_size));
  SPARSE24_LT(cusparseLtMatmulSearch(&handle, &plan, &alpha, a_compressed, b, &beta, d, d, workspace, streams(),
                                     num_streams()));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));

  // The chosen configuration may want more workspace than the default one (split-K): query again and grow.
  size_t chosen_size = 0;
  SPARSE24_LT(cusparseLtMatmulGetWorkspace(&handle, &plan, &chosen_size));
  if (chosen_size > workspace_size) {
    if (workspace) SPARSE24_CUDA_CHECK(cudaFree(workspace));
    workspace = nullptr;
    SPARSE24_CUDA_CHECK(cudaMalloc(&workspace, chosen_size));
    workspace_size = chosen_size;
  }

  SPARSE24_LT(cusparseLtMatmulAlgGetAttribute(&handle, &alg_sel, CUSPARSELT_MATMUL_ALG_CONFIG_ID, &alg_id,
                                              sizeof(alg_id)));
}

bool CusparseltPeer::available() { return true; }

std::string CusparseltPeer::version() {
  // The library loaded at run time, not the header compiled against.
  int major = 0, minor = 0, patch = 0;
  if (cusparseLtGetProperty(MAJOR_VERSION, &major) != CUSPARSE_STATUS_SUCCESS ||
      cusparseLtGetProperty(MINOR_VERSION, &minor) != CUSPARSE_STATUS_SUCCESS ||
      cusparseLtGetProperty(PATCH_LEVEL, &patch) != CUSPARSE_STATUS_SUCCESS)
    return "unknown";
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

CusparseltPeer::CusparseltPeer(DType t, int M, int N, int K, const void* a_pruned, const void* b, void* d,
                               cudaStream_t stream) {
  auto impl = std::make_unique<Impl>();
  impl->b = b;
  impl->d = d;
  impl->stream = stream;
  impl->setup(t, M, N, K, a_pruned);  // throws; impl's destructor then frees what was made
  impl_ = std::move(impl);
}

CusparseltPeer::~CusparseltPeer() = default;

void CusparseltPeer::run() {
  Impl& p = *impl_;
  SPARSE24_LT(cusparseLtMatmul(&p.handle, &p.plan, &p.alpha, p.a_compressed, p.b, &p.beta, p.d, p.d, p.workspace,
                               p.streams(), p.num_streams()));
}

int CusparseltPeer::algorithm() const { return impl_->alg_id; }

#undef SPARSE24_LT

#endif  // SPARSE24_HAVE_CUSPARSELT

}  // namespace sparse24::harness
