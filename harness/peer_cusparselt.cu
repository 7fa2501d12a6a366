// cuSPARSELt as a peer (see peer_cusparselt.h for the contract).
//
// The problem, in cuSPARSELt's terms (every matrix row-major, CUSPARSE_ORDER_ROW):
//
//   matA  structured  M x K, ld = K', opA = N    the pruned weight W = A (2:4 along K, the sparse operand)
//   matB  dense       N x K, ld = K', opB = T    X as we store it; op(B) = X^T is the K x N operand
//   matC  dense       M x N, ld = N'             also used as matD (beta = 0, C = D)
//   K', N': K and N padded to 16 bytes (padded_ld, peer.h); equal to K and N when those already are.
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
// The library context is set up once per problem in the constructor: handle, descriptors, a check that A really
// is 2:4 in the library's sense, one cusparseLtMatmulSearch (candidate 0), the candidate list. select() destroys
// the plan and builds the candidate's: algorithm selection with its attributes, plan, compressed A (compression
// takes the plan, so it is redone for each plan), workspace. run() is cusparseLtMatmul alone.
//
// Types: the input type's default combination (operands.h default_operands), the one our kernels write, so the
// comparison is like for like. Support matrix implemented (cuSPARSELt documentation,
// https://docs.nvidia.com/cuda/cusparselt/functions.html#cusparseltmatmuldescriptorinit, its table of supported
// data types; the GPU host has 0.8.0; PyTorch's _cslt_sparse_mm asks 0.8 for the same int8 and e4m3 rows):
//
//   input  A/B type         C = D type   compute               alpha/beta   notes
//   fp16   CUDA_R_16F       CUDA_R_16F   CUSPARSE_COMPUTE_32F  float
//   bf16   CUDA_R_16BF      CUDA_R_16BF  CUSPARSE_COMPUTE_32F  float
//   int8   CUDA_R_8I        CUDA_R_32I   CUSPARSE_COMPUTE_32I  float        int32 D exists since 0.5 (int8 -> int32,
//                                                                          as our kernels); exact, like IMMA
//   e4m3   CUDA_R_8F_E4M3   CUDA_R_16BF  CUSPARSE_COMPUTE_32F  float        sm_89+; no scale pointers: the A/B/D
//                                                                          scale modes are block scaling for
//                                                                          sm_100+ (default NONE = scale 1)
//   e5m2   CUDA_R_8F_E5M2   CUDA_R_16BF  CUSPARSE_COMPUTE_32F  float        asked as e4m3 is; 0.8's table lists
//                                                                          e4m3 only, so on 0.8 the library refuses
//                                                                          it (a PeerRefused with its status), and
//                                                                          a later library that accepts it is checked
//   tf32   CUDA_R_32F       CUDA_R_32F   CUSPARSE_COMPUTE_32F  float        the library's float path: TF32 tensor
//                                                                          cores, 1:2 sparsity (CUSPARSELT_SPARSITY_
//                                                                          50_PERCENT is 1:2 for float), the same
//                                                                          pairs our tf32 pruning keeps
//
// alpha and beta are float for every compute type (cusparseLtMatmul takes them as float, also for
// CUSPARSE_COMPUTE_32I). cuSPARSELt's 8-bit kernels need the K-contiguous B of this set-up (see above). A
// combination the library refuses (a type, a shape, a GPU without fp8) is a PeerRefused with the library's status,
// never another type's GEMM.
//
// NOTE: a_pruned, b and d must stay valid for the lifetime of the peer: b and d are read/written by every run(),
// and a_pruned is registered as CUSPARSELT_MATMUL_SPARSE_MAT_POINTER, as NVIDIA's 0.8.0 sample does after
// cusparseLtMatmulPlanInit.
#include "harness/peer_cusparselt.h"

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/device_buffer.h"
#include "harness/cuda_types.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/operands.h"

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
int CusparseltPeer::candidates() const { return 0; }
void CusparseltPeer::select(int) { throw std::runtime_error("cuSPARSELt not built in"); }
int CusparseltPeer::selected() const { return -1; }
void CusparseltPeer::run() { throw std::runtime_error("cuSPARSELt not built in"); }
void CusparseltPeer::finish() {}
bool CusparseltPeer::padded() const { return false; }
std::vector<std::pair<std::string, double>> CusparseltPeer::fields() const { return {}; }
std::string CusparseltPeer::describe() const { return "cuSPARSELt not built in"; }
int CusparseltPeer::algorithm() const { return -1; }

struct CusparseltPrunePeer::Impl {};
CusparseltPrunePeer::CusparseltPrunePeer(DType, int, int, const void*, cudaStream_t) {
  throw std::runtime_error("cuSPARSELt not built in");
}
CusparseltPrunePeer::~CusparseltPrunePeer() = default;
void CusparseltPrunePeer::prune() { throw std::runtime_error("cuSPARSELt not built in"); }
void CusparseltPrunePeer::compress() { throw std::runtime_error("cuSPARSELt not built in"); }
void* CusparseltPrunePeer::pruned() const { return nullptr; }
size_t CusparseltPrunePeer::compressed_bytes() const { return 0; }
void CusparseltPrunePeer::multiply_identity(void*) { throw std::runtime_error("cuSPARSELt not built in"); }
bool CusparseltPrunePeer::prune_check() { return false; }

#else  // SPARSE24_HAVE_CUSPARSELT

// ---- Built with cuSPARSELt -------------------------------------------------------------------------------------
namespace {

// A failed cuSPARSELt call: the status is kept so that the constructor can tell a refusal from an error.
struct LtError : std::runtime_error {
  cusparseStatus_t status;
  std::string call;  // the function's name alone
  LtError(cusparseStatus_t s, std::string c, const std::string& what) : std::runtime_error(what), status(s),
                                                                       call(std::move(c)) {}
};

// Throws with the call, cuSPARSELt's name and description of the status, and where to look for the reason
// (cuSPARSELt logs why it refused a descriptor only when asked to).
void check_lt(cusparseStatus_t s, const char* call) {
  if (s == CUSPARSE_STATUS_SUCCESS) return;
  std::string fn(call);
  fn = fn.substr(0, fn.find('('));
  throw LtError(s, fn,
                fn + " failed: " + cusparseLtGetErrorName(s) + " (" + std::to_string(static_cast<int>(s)) + "): " +
                    cusparseLtGetErrorString(s) + " [run with CUSPARSELT_LOG_LEVEL=5 for the library's reason]");
}

#define SPARSE24_LT(call) check_lt((call), #call)

// Every pointer handed to cuSPARSELt is 16-byte aligned (alignment = 16 in the descriptors; the library rejects
// anything else).
constexpr uint32_t kAlignment = 16;
// Split-K candidates: 2, 4, 8, each only where every split still gets kMinSplitK of K (shorter splits are all
// reduction and no work; the library's own search covers its own split-K choices anyway, candidate 0).
constexpr int kSplits[] = {2, 4, 8};
constexpr int kMinSplitK = 1024;

// One candidate: -1 leaves an attribute at the library's default.
struct Config {
  int alg_id = -1, split_k = -1, split_k_mode = -1, split_k_buffers = -1;
  bool operator==(const Config& o) const {
    return alg_id == o.alg_id && split_k == o.split_k && split_k_mode == o.split_k_mode &&
           split_k_buffers == o.split_k_buffers;
  }
};

// What cuSPARSELt is asked for, per input type (the matrix at the top of the file).
struct LtTypes {
  cudaDataType ab, d;  // A and B; C and D
  cusparseComputeType compute;
};

LtTypes lt_types(const Operands& o) {
  switch (o.a) {
    case DType::fp16:
    case DType::bf16: return {cuda_data_type(o.a), cuda_data_type(o.d), CUSPARSE_COMPUTE_32F};
    case DType::int8: return {CUDA_R_8I, CUDA_R_32I, CUSPARSE_COMPUTE_32I};
    case DType::e4m3: return {CUDA_R_8F_E4M3, cuda_data_type(o.d), CUSPARSE_COMPUTE_32F};
    case DType::e5m2: return {CUDA_R_8F_E5M2, cuda_data_type(o.d), CUSPARSE_COMPUTE_32F};
    case DType::tf32: return {CUDA_R_32F, CUDA_R_32F, CUSPARSE_COMPUTE_32F};
    case DType::f32:
    case DType::int32: break;
  }
  throw PeerRefused(std::string("the cuSPARSELt peer has no ") + name(o.a) + " input configuration");
}

// The short refusal text: the dimensions that are not multiples of 16 elements (every refusal seen so far, N = 1,
// 3, 4097 and K = 8200, is one), else the whole shape; then the type (a type the library or the GPU lacks is
// refused by the same calls).
std::string refusal(DType t, int M, int N, int K, const LtError& e) {
  std::string dims;
  auto add = [&](const char* n, int v) {
    if (v % 16 != 0) dims += std::string(dims.empty() ? "" : ", ") + n + "=" + std::to_string(v);
  };
  add("M", M), add("N", N), add("K", K);
  if (dims.empty()) dims = std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
  return dims + " not supported by cuSPARSELt (" + name(t) + "; " + e.call + ": " + cusparseLtGetErrorName(e.status) +
         ")";
}

// The statuses that mean the library refuses the problem (a shape, layout or type it does not take; ARCH_MISMATCH:
// a type this GPU lacks, fp8 before sm_89) rather than failed: the peers turn these into PeerRefused.
bool refused_by_library(const LtError& e) {
  return e.status == CUSPARSE_STATUS_NOT_SUPPORTED || e.status == CUSPARSE_STATUS_INVALID_VALUE ||
         e.status == CUSPARSE_STATUS_MATRIX_TYPE_NOT_SUPPORTED || e.status == CUSPARSE_STATUS_ARCH_MISMATCH;
}

// The cuSPARSELt objects of one matmul as the top of this file lays it out (matA structured M x K, matB N x K with
// opB = T, matC = matD M x N, all row-major), which of them were initialised (so that a constructor that throws half
// way frees exactly what it made), and the stream the calls go to. Both peers' Impls are one of these.
struct LtMatmul {
  cusparseLtHandle_t handle{};
  cusparseLtMatDescriptor_t mat_a{}, mat_b{}, mat_c{};
  cusparseLtMatmulDescriptor_t matmul{};
  cusparseLtMatmulAlgSelection_t alg_sel{};
  cusparseLtMatmulPlan_t plan{};
  bool has_handle = false, has_a = false, has_b = false, has_c = false, has_alg_sel = false, has_plan = false;
  cudaStream_t stream = nullptr;

  LtMatmul() = default;
  LtMatmul(const LtMatmul&) = delete;
  LtMatmul& operator=(const LtMatmul&) = delete;
  ~LtMatmul() { release(); }

  // cusparseLtMatmul takes an array of streams; (nullptr, 0) means the default stream.
  cudaStream_t* streams() { return stream ? &stream : nullptr; }
  int32_t num_streams() const { return stream ? 1 : 0; }

  // The handle, the three descriptors (A and B with leading dimension ldk, C = D with ldn) and the matmul
  // descriptor (which holds no resources of its own: there is no destroy call for it).
  void init(int64_t m, int64_t n, int64_t k, int64_t ldk, int64_t ldn, const LtTypes& types) {
    SPARSE24_LT(cusparseLtInit(&handle));
    has_handle = true;
    // A: the structured operand, M x K row-major (K-contiguous), 2:4 along K.
    SPARSE24_LT(cusparseLtStructuredDescriptorInit(&handle, &mat_a, m, k, ldk, kAlignment, types.ab,
                                                   CUSPARSE_ORDER_ROW, CUSPARSELT_SPARSITY_50_PERCENT));
    has_a = true;
    // B: X as stored, N x K row-major (K-contiguous); opB = T makes it the K x N operand.
    SPARSE24_LT(cusparseLtDenseDescriptorInit(&handle, &mat_b, n, k, ldk, kAlignment, types.ab, CUSPARSE_ORDER_ROW));
    has_b = true;
    // C = D: M x N row-major, in D's type.
    SPARSE24_LT(cusparseLtDenseDescriptorInit(&handle, &mat_c, m, n, ldn, kAlignment, types.d, CUSPARSE_ORDER_ROW));
    has_c = true;
    SPARSE24_LT(cusparseLtMatmulDescriptorInit(&handle, &matmul, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                               CUSPARSE_OPERATION_TRANSPOSE, &mat_a, &mat_b, &mat_c, &mat_c,
                                               types.compute));
  }
  // An algorithm selection at the library's default (the caller may set its attributes), then the plan on it.
  void init_alg_sel() {
    SPARSE24_LT(cusparseLtMatmulAlgSelectionInit(&handle, &alg_sel, &matmul, CUSPARSELT_MATMUL_ALG_DEFAULT));
    has_alg_sel = true;
  }
  void init_plan() {
    SPARSE24_LT(cusparseLtMatmulPlanInit(&handle, &plan, &matmul, &alg_sel));
    has_plan = true;
  }
  void destroy_plan() {
    if (has_plan) cusparseLtMatmulPlanDestroy(&plan);
    if (has_alg_sel) cusparseLtMatmulAlgSelectionDestroy(&alg_sel);
    has_plan = has_alg_sel = false;
  }
  // Destruction order: plan, then what the plan was built from, then the handle. Statuses are ignored here: a
  // destructor must not throw, and there is nothing left to do about a failure. Idempotent: an Impl calls it first
  // in its destructor, so that the library objects go before its buffers, as they always did.
  void release() {
    destroy_plan();
    if (has_c) cusparseLtMatDescriptorDestroy(&mat_c);
    if (has_b) cusparseLtMatDescriptorDestroy(&mat_b);
    if (has_a) cusparseLtMatDescriptorDestroy(&mat_a);
    if (has_handle) cusparseLtDestroy(&handle);
    has_c = has_b = has_a = has_handle = false;
  }

  // cusparseLtSpMMAPruneCheck of `a` (M x K as matA): the library's flag, 0 when A is 2:4 along K of op(A) the way
  // the library reads it. Synchronizes the stream.
  int prune_check(const void* a) {
    DeviceBuffer d_valid(sizeof(int));
    // NOTE: the check only raises the flag (seen on an H200 with cuSPARSELt 0.8.0: a recycled allocation read back
    // as stale data), so it must start at zero.
    SPARSE24_CUDA_CHECK(cudaMemsetAsync(d_valid.get(), 0, sizeof(int), stream));
    int valid = 1;
    SPARSE24_LT(cusparseLtSpMMAPruneCheck(&handle, &matmul, a, d_valid.as<int>(), stream));
    SPARSE24_CUDA_CHECK(cudaMemcpyAsync(&valid, d_valid.get(), sizeof(int), cudaMemcpyDeviceToHost, stream));
    SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
    return valid;
  }
};

}  // namespace

// The library's objects (LtMatmul), then the peer's own.
struct CusparseltPeer::Impl : LtMatmul {
  // Device memory owned by the peer.
  DeviceBuffer a_compressed;   // cuSPARSELt's compressed copy of A (values + its own metadata layout)
  DeviceBuffer workspace;
  DeviceBuffer a_pad, b_pad, d_pad;  // padded copies (only when padded)

  // The problem.
  DType t{};
  int M = 0, N = 0, K = 0;
  int64_t ldk = 0, ldn = 0;
  Operands ops{};           // the problem's default combination: D's type comes from here
  int eb = 0, db = 0;       // bytes per element of A and B, of C and D
  bool padded = false;
  const void* a = nullptr;  // the pruned A the library reads (the caller's, or the padded copy)
  const void* b = nullptr;
  void* d = nullptr;        // what the call writes
  void* d_user = nullptr;
  float alpha = 1.0f, beta = 0.0f;  // floats on the host for every compute type (CUSPARSE_COMPUTE_32I included)

  std::vector<Config> configs;
  int chosen = -1;
  Config actual;  // the selected plan's attributes as the library reports them

  void setup(const void* a_pruned, const void* b_in);
  void build_plan(const Config& c);  // alg_sel + plan + compressed A + workspace for c
  int alg_attr(cusparseLtMatmulAlgAttribute_t attr) const {
    int v = -1;
    SPARSE24_LT(cusparseLtMatmulAlgGetAttribute(&handle, &alg_sel, attr, &v, sizeof(v)));
    return v;
  }

  ~Impl() { release(); }  // the library's objects before the buffers (LtMatmul::release)
};

void CusparseltPeer::Impl::build_plan(const Config& c) {
  destroy_plan();
  init_alg_sel();
  // Only what the candidate sets; split-K values read back from a plan without split-K (mode 0 =
  // CUSPARSELT_INVALID_MODE, 0 buffers) are left at the default rather than set.
  auto set = [&](cusparseLtMatmulAlgAttribute_t attr, int v, int min_value) {
    if (v >= min_value) SPARSE24_LT(cusparseLtMatmulAlgSetAttribute(&handle, &alg_sel, attr, &v, sizeof(v)));
  };
  set(CUSPARSELT_MATMUL_ALG_CONFIG_ID, c.alg_id, 0);
  set(CUSPARSELT_MATMUL_SPLIT_K, c.split_k, 1);
  set(CUSPARSELT_MATMUL_SPLIT_K_MODE, c.split_k_mode, 1);
  set(CUSPARSELT_MATMUL_SPLIT_K_BUFFERS, c.split_k_buffers, 1);
  init_plan();
  // As NVIDIA's 0.8.0 sample does, right after the plan: tell the descriptor where the pruned A lives.
  SPARSE24_LT(cusparseLtMatmulDescSetAttribute(&handle, &matmul, CUSPARSELT_MATMUL_SPARSE_MAT_POINTER, &a, sizeof(a)));

  // Compress A into cuSPARSELt's own format for this plan. The plan-based calls are the current API; the *2
  // variants (descriptor-based) are marked deprecated in the 0.8 documentation. The temporary buffer is freed at
  // once.
  size_t compressed_size = 0, buffer_size = 0;
  SPARSE24_LT(cusparseLtSpMMACompressedSize(&handle, &plan, &compressed_size, &buffer_size));
  if (a_compressed.bytes() < compressed_size) a_compressed = DeviceBuffer(compressed_size);
  DeviceBuffer buffer(buffer_size);
  SPARSE24_LT(cusparseLtSpMMACompress(&handle, &plan, a, a_compressed.get(), buffer.get(), stream));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));

  size_t ws = 0;
  SPARSE24_LT(cusparseLtMatmulGetWorkspace(&handle, &plan, &ws));
  if (workspace.bytes() < ws) workspace = DeviceBuffer(ws);

  actual.alg_id = alg_attr(CUSPARSELT_MATMUL_ALG_CONFIG_ID);
  actual.split_k = alg_attr(CUSPARSELT_MATMUL_SPLIT_K);
  actual.split_k_mode = alg_attr(CUSPARSELT_MATMUL_SPLIT_K_MODE);
  actual.split_k_buffers = alg_attr(CUSPARSELT_MATMUL_SPLIT_K_BUFFERS);
}

void CusparseltPeer::Impl::setup(const void* a_pruned, const void* b_in) {
  if (M <= 0 || N <= 0 || K <= 0) throw std::runtime_error("cuSPARSELt peer: M, N, K must be positive");
  ops = default_operands(t);
  const LtTypes types = lt_types(ops);
  eb = bytes_of(ops.a), db = bytes_of(ops.d);
  ldk = padded_ld(K, eb);
  // N: 16 bytes of D (its leading dimension) and of the input type (B's rows), as in CublasLtPeer.
  ldn = std::max(padded_ld(N, db), padded_ld(N, eb));
  padded = ldk != K || ldn != N;
  if (padded) {
    // Zeros in the padding: zero groups of four are valid 2:4 groups, and zero columns add nothing.
    a_pad = DeviceBuffer(size_t(M) * ldk * eb);
    b_pad = DeviceBuffer(size_t(N) * ldk * eb);
    d_pad = DeviceBuffer(size_t(M) * ldn * db);
    SPARSE24_CUDA_CHECK(cudaMemsetAsync(a_pad.get(), 0, a_pad.bytes(), stream));
    SPARSE24_CUDA_CHECK(cudaMemsetAsync(b_pad.get(), 0, b_pad.bytes(), stream));
    SPARSE24_CUDA_CHECK(cudaMemcpy2DAsync(a_pad.get(), ldk * eb, a_pruned, size_t(K) * eb, size_t(K) * eb, M,
                                          cudaMemcpyDeviceToDevice, stream));
    SPARSE24_CUDA_CHECK(cudaMemcpy2DAsync(b_pad.get(), ldk * eb, b_in, size_t(K) * eb, size_t(K) * eb, N,
                                          cudaMemcpyDeviceToDevice, stream));
    SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
    a = a_pad.get(), b = b_pad.get(), d = d_pad.get();
  } else {
    a = a_pruned, b = b_in, d = d_user;
  }
  // C = D in D's type: the input type for 16-bit, int32 for int8, bf16 for fp8, f32 for tf32.
  init(M, N, K, ldk, ldn, types);

  // Is A 2:4 the way the library reads it (along K of op(A))? Our pruner and the library must agree, or the
  // library computes with a different matrix than the reference and our kernels.
  if (const int valid = prune_check(a); valid != 0)
    throw std::runtime_error("cuSPARSELt peer: cusparseLtSpMMAPruneCheck says A is not 2:4 along K (valid = " +
                             std::to_string(valid) + ")");

  // Candidate 0: the library's own search (it runs every configuration it considers on these very buffers,
  // overwriting D, and leaves its pick in the plan and alg_sel).
  build_plan(Config{});
  SPARSE24_LT(cusparseLtMatmulSearch(&handle, &plan, &alpha, a_compressed.get(), b, &beta, d, d, workspace.get(),
                                     streams(), num_streams()));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
  const Config searched{alg_attr(CUSPARSELT_MATMUL_ALG_CONFIG_ID), alg_attr(CUSPARSELT_MATMUL_SPLIT_K),
                        alg_attr(CUSPARSELT_MATMUL_SPLIT_K_MODE), alg_attr(CUSPARSELT_MATMUL_SPLIT_K_BUFFERS)};
  const int max_id = alg_attr(CUSPARSELT_MATMUL_ALG_CONFIG_MAX_ID);

  auto add = [&](const Config& c) {
    if (std::find(configs.begin(), configs.end(), c) == configs.end()) configs.push_back(c);
  };
  add(searched);
  add(Config{});
  // NOTE: MAX_ID is taken as inclusive; an id the library does not have is refused in select() and skipped.
  for (int id = 0; id <= max_id; ++id) {
    add(Config{id, -1, -1, -1});
    for (int s : kSplits)
      if (K / s >= kMinSplitK) add(Config{id, s, -1, -1});
  }
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
  impl->t = t, impl->M = M, impl->N = N, impl->K = K;
  impl->d_user = d;
  impl->stream = stream;
  try {
    impl->setup(a_pruned, b);  // throws; impl's destructor then frees what was made
  } catch (const LtError& e) {
    if (refused_by_library(e)) throw PeerRefused(refusal(t, M, N, K, e));
    throw;
  }
  impl_ = std::move(impl);
  // Candidate 0 (the search's pick) normally; the next one the library accepts if it refuses to rebuild that.
  for (int i = 0; i < candidates(); ++i) {
    try {
      select(i);
      return;
    } catch (const LtError&) {
      if (i + 1 == candidates()) throw;
    }
  }
}

CusparseltPeer::~CusparseltPeer() = default;

int CusparseltPeer::candidates() const { return static_cast<int>(impl_->configs.size()); }

void CusparseltPeer::select(int i) {
  Impl& p = *impl_;
  if (i < 0 || i >= candidates()) throw std::out_of_range("cuSPARSELt peer: no candidate " + std::to_string(i));
  p.chosen = -1;
  p.build_plan(p.configs[i]);  // throws for a configuration the library refuses
  p.chosen = i;
}

int CusparseltPeer::selected() const { return impl_->chosen; }

void CusparseltPeer::run() {
  Impl& p = *impl_;
  if (p.chosen < 0) throw std::logic_error("cuSPARSELt peer: no candidate selected");
  SPARSE24_LT(cusparseLtMatmul(&p.handle, &p.plan, &p.alpha, p.a_compressed.get(), p.b, &p.beta, p.d, p.d,
                               p.workspace.get(), p.streams(), p.num_streams()));
}

void CusparseltPeer::finish() {
  Impl& p = *impl_;
  if (!p.padded) return;
  const size_t db = p.db;  // D's element, not the input's
  SPARSE24_CUDA_CHECK(cudaMemcpy2DAsync(p.d_user, size_t(p.N) * db, p.d_pad.get(), size_t(p.ldn) * db,
                                        size_t(p.N) * db, p.M, cudaMemcpyDeviceToDevice, p.stream));
}

bool CusparseltPeer::padded() const { return impl_->padded; }

std::vector<std::pair<std::string, double>> CusparseltPeer::fields() const {
  const Impl& p = *impl_;
  return {{"algorithm", p.actual.alg_id},
          {"split_k", p.actual.split_k},
          {"split_k_mode", p.actual.split_k_mode},
          {"split_k_buffers", p.actual.split_k_buffers},
          {"candidate", p.chosen},
          {"workspace_bytes", static_cast<double>(p.workspace.bytes())}};
}

std::string CusparseltPeer::describe() const {
  std::ostringstream o;
  o << "cuSPARSELt candidate " << impl_->chosen << " of " << candidates()
    << (impl_->chosen == 0 ? " (cusparseLtMatmulSearch's pick)" : "");
  for (const auto& [k, v] : fields()) o << " " << k << "=" << v;
  if (impl_->padded) o << " (leading dimensions padded to 16 bytes: ldk=" << impl_->ldk << " ldn=" << impl_->ldn << ")";
  return o.str();
}

int CusparseltPeer::algorithm() const { return impl_->actual.alg_id; }

// ---- CusparseltPrunePeer ---------------------------------------------------------------------------------------
struct CusparseltPrunePeer::Impl : LtMatmul {
  DType t{};
  int M = 0, K = 0;
  const void* dense = nullptr;
  DeviceBuffer pruned, compressed, compress_buffer, identity, workspace;
  size_t compressed_size = 0;
  float alpha = 1.0f, beta = 0.0f;
  ~Impl() { release(); }  // the library's objects before the buffers (LtMatmul::release)
};

CusparseltPrunePeer::CusparseltPrunePeer(DType t, int M, int K, const void* dense, cudaStream_t stream) {
  if (t != DType::fp16 && t != DType::bf16)
    throw PeerRefused(std::string("the cuSPARSELt prune peer is set up for fp16 and bf16, not ") + name(t));
  if (M <= 0 || K <= 0) throw std::runtime_error("cuSPARSELt prune peer: M and K must be positive");
  auto p = std::make_unique<Impl>();
  p->t = t, p->M = M, p->K = K, p->dense = dense, p->stream = stream;
  const cudaDataType ab = cuda_data_type(t);
  const int64_t m = M, k = K, eb = bytes_of(t);
  try {
    // The matmul of CusparseltPeer with N = K: A = W (M x K, structured), B = X = I (K x K, opB = T), C = D (M x K).
    p->init(m, k, k, k, k, LtTypes{ab, ab, CUSPARSE_COMPUTE_32F});
    p->init_alg_sel();
    p->init_plan();
  } catch (const LtError& e) {
    if (refused_by_library(e)) throw PeerRefused(refusal(t, M, K, K, e));
    throw;
  }
  p->pruned = DeviceBuffer(size_t(m * k * eb));
  // As CusparseltPeer (and NVIDIA's sample) does after the plan: where the pruned A lives.
  const void* a = p->pruned.get();
  SPARSE24_LT(cusparseLtMatmulDescSetAttribute(&p->handle, &p->matmul, CUSPARSELT_MATMUL_SPARSE_MAT_POINTER, &a,
                                               sizeof(a)));
  size_t buffer_size = 0;
  SPARSE24_LT(cusparseLtSpMMACompressedSize(&p->handle, &p->plan, &p->compressed_size, &buffer_size));
  p->compressed = DeviceBuffer(p->compressed_size);
  p->compress_buffer = DeviceBuffer(std::max<size_t>(buffer_size, 1));
  impl_ = std::move(p);
}

CusparseltPrunePeer::~CusparseltPrunePeer() = default;

void CusparseltPrunePeer::prune() {
  Impl& p = *impl_;
  SPARSE24_LT(cusparseLtSpMMAPrune(&p.handle, &p.matmul, p.dense, p.pruned.get(), CUSPARSELT_PRUNE_SPMMA_STRIP,
                                   p.stream));
}

void CusparseltPrunePeer::compress() {
  Impl& p = *impl_;
  SPARSE24_LT(cusparseLtSpMMACompress(&p.handle, &p.plan, p.pruned.get(), p.compressed.get(), p.compress_buffer.get(),
                                      p.stream));
}

void* CusparseltPrunePeer::pruned() const { return impl_->pruned.get(); }
size_t CusparseltPrunePeer::compressed_bytes() const { return impl_->compressed_size; }

bool CusparseltPrunePeer::prune_check() { return impl_->prune_check(impl_->pruned.get()) == 0; }

void CusparseltPrunePeer::multiply_identity(void* d) {
  Impl& p = *impl_;
  const size_t eb = bytes_of(p.t);
  if (!p.identity.get()) {
    // I (K x K): zeros, then a 1 on the diagonal, copied from a device vector of K ones with a destination pitch of
    // K + 1 elements (one element per row, on the diagonal).
    p.identity = DeviceBuffer(size_t(p.K) * p.K * eb);
    SPARSE24_CUDA_CHECK(cudaMemsetAsync(p.identity.get(), 0, p.identity.bytes(), p.stream));
    // 1.0: the exponent field at its bias, mantissa zero (bf16: 8 exponent bits above 7 mantissa bits, bias 127;
    // fp16: 5 above 10, bias 15).
    const uint16_t one = p.t == DType::bf16 ? uint16_t{127u << 7} : uint16_t{15u << 10};
    const std::vector<uint16_t> ones(size_t(p.K), one);
    DeviceBuffer d_ones(ones.size() * sizeof(uint16_t));
    SPARSE24_CUDA_CHECK(cudaMemcpyAsync(d_ones.get(), ones.data(), d_ones.bytes(), cudaMemcpyHostToDevice, p.stream));
    SPARSE24_CUDA_CHECK(cudaMemcpy2DAsync(p.identity.get(), (size_t(p.K) + 1) * eb, d_ones.get(), eb, eb, p.K,
                                          cudaMemcpyDeviceToDevice, p.stream));
    SPARSE24_CUDA_CHECK(cudaStreamSynchronize(p.stream));
    size_t ws = 0;
    SPARSE24_LT(cusparseLtMatmulGetWorkspace(&p.handle, &p.plan, &ws));
    p.workspace = DeviceBuffer(std::max<size_t>(ws, 1));
  }
  SPARSE24_LT(cusparseLtMatmul(&p.handle, &p.plan, &p.alpha, p.compressed.get(), p.identity.get(), &p.beta, d, d,
                               p.workspace.get(), p.streams(), p.num_streams()));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(p.stream));
}

#undef SPARSE24_LT

#endif  // SPARSE24_HAVE_CUSPARSELT

}  // namespace sparse24::harness
