// The registry: one list of every kernel variant, read by the benchmark, the tests, --list and the scripts; and
// the open interface every variant implements (prepare a plan once, then run it).
//
// The list itself is kernels/registry.def (one line per GEMM variant). Each family folder (kernels/<family>/) has a
// family.cmake that names its architectures, and one header per step (sNN_<technique>.cuh); the build generates
// one translation unit per step that turns that step's registry.def lines into Variants with describe<>()
// (kernels/common/instantiate.h), and the list of steps that registry.cu calls, so registry.cu never names a
// family. The operations that are not GEMMs and are implemented by library code rather than a step ladder (today
// the GPU path of kernels/format: prune, compress, reorder) are registered in registry.cu, beside that list.
//
// A Variant describes itself with fields, never through its name: what it computes (its operation), family, step,
// operand types, an open set of integer parameters (tile, warps, stages, split factor, cluster, ...), the
// architectures it runs on, its metadata layout and its shape rule. The name is a label built from those fields,
// unique, and nothing parses it.
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/common/dtype.h"
#include "kernels/common/operands.h"
#include "kernels/format/format.h"
#include "kernels/gemm_args.h"

namespace sparse24 {

// What a variant computes. Code that does something GEMM-specific with a variant (the GEMM tests, the dispatcher,
// the benchmark's GEMM rows) selects operation == gemm first; the JSON's "operation" field says which.
enum class Operation {
  gemm,            // D = alpha * A . B (+ beta * C): GemmArgs, prepare(v, GemmArgs)
  prune_compress,  // dense A (M x K) -> 2:4 pruned A, compressed values, metadata in the variant's meta_layout:
                   // PruneCompressArgs, prepare(v, PruneCompressArgs); checked bit for bit against kernels/format's
                   // CPU reference and timed as bytes per second
  prune_compress_both,  // dense W (M x K) -> the exact transposable 2:4 mask of every 4x4 block
                        // (kernels/format/transposable.h) -> W's values and metadata AND Wᵀ's (K x M) values and
                        // metadata, both in the variant's meta_layout: PruneCompressArgs with values_t, meta_t and
                        // nan_blocks; checked bit for bit against transposable::prune_compress_both on the CPU and
                        // timed as bytes per second, like prune_compress. A separate operation (not a flag on
                        // prune_compress) because it is other work with other outputs: its rows must not be ranked
                        // against the 1-D rows or their peers (compute_ratios keys on the operation).
  linear_train,    // no registered variant: a sparse linear layer's forward y = x Wᵀ plus data gradient dx = dy W,
                   // W pruned once with the transposable mask, each GEMM through the dispatcher's pick (kernels/
                   // dispatch.h) beside cuBLAS (and cuSPARSELt) on the same operands; the benchmark's rows of this
                   // operation are compositions of GEMM variants (harness/runner.cpp, linear_train rows)
};
const char* name(Operation op);  // "gemm", "prune_compress", ...: the spelling on the command line and in JSON
bool parse_operation(const std::string& s, Operation* out);
// Every operation, in enum order (for the usage text, the parser and the tests).
inline constexpr Operation kOperations[] = {Operation::gemm, Operation::prune_compress, Operation::prune_compress_both,
                                            Operation::linear_train};

// The arguments of a prune_compress variant: device pointers, every one 16-byte aligned (as for the GEMMs; the
// format kernels move whole chunks per access), buffers packed row-major.
// prune_compress_both uses the same arguments plus the three of Wᵀ and the NaN counter (null for prune_compress).
struct PruneCompressArgs {
  int64_t M = 0, K = 0;
  const void* dense = nullptr;  // M x K elements of types.a, raw bits: the input
  void* pruned = nullptr;       // M x K: the input with two of every four elements along K zeroed (format.h's rule)
  void* values = nullptr;       // M x K/2: the canonical compressed values
  void* meta = nullptr;         // format::meta_bytes(meta_layout, M, K) bytes: the metadata in the variant's layout
  // prune_compress_both only:
  void* values_t = nullptr;     // K x M/2: Wᵀ's compressed values (what a GEMM by Wᵀ reads as A)
  void* meta_t = nullptr;       // format::meta_bytes(meta_layout, K, M) bytes: Wᵀ's metadata in the variant's layout
  // A device counter the kernel adds the number of 4x4 blocks holding a NaN to (their outputs are unspecified: "the
  // most magnitude" has no meaning with a NaN, and the CPU reference refuses them). Required, 8-byte aligned; the
  // caller zeroes it and reads it after the run: a NaN must never pass unseen (transposable.h, gpu::).
  unsigned long long* nan_blocks = nullptr;
};

// The types of one operation (kernels/common/operands.h: A, B, D, accumulator, and their rules); for a
// prune_compress variant every field is the storage type of A.

// Where a variant runs. Code built for sm_80 runs on every later GPU that the build has code for; code for an
// arch-specific target (sm_90a: wgmma, setmaxnreg) runs on that architecture only, so max_sm pins it.
struct ArchRule {
  int min_sm = 80;          // compute capability major*10+minor
  int max_sm = 0;           // 0: no upper limit
  bool arch_specific = false;  // an 'a' target (sm_90a): printed as such
  std::string str() const;  // "sm_80+", "sm_90a"
};

// What a variant demands of a problem's shape. Anything else is refused with a ShapeError naming the rule.
struct ShapeRule {
  int m_multiple = 1;  // M % m_multiple == 0
  int n_multiple = 1;  // N % n_multiple == 0
  int k_multiple = 1;  // K % k_multiple == 0
  int n_min = 1;       // N >= n_min
  int n_max = 0;       // N <= n_max (0: no limit)
  const char* m_reason = "";  // why M must be a multiple (printed with the refusal)
  const char* k_reason = "";
};

// An open set of integer parameters, in the order they are printed: the block tile (bm, bn, bk), warps (wm, wn),
// stages, and whatever a family adds (split_k, cluster_m, consumers, ...).
using Params = std::vector<std::pair<std::string, int>>;

class Plan;

struct Variant {
  std::string name;            // the label: built by variant_name() from the fields below; unique
  Operation operation = Operation::gemm;
  std::string family;          // the folder under kernels/ ("mma_sp", "dense", ...; "format": kernels/format)
  int step = 0;                // position on the family's ladder (s01 = 1)
  std::string technique;       // what the step adds, one word
  Operands types{};
  bool sparse = false;         // reads (gemm) or writes (prune_compress) compressed A + metadata
  format::MetaLayout meta_layout = format::MetaLayout::Canonical;  // layout of that metadata (unused when !sparse)
  bool has_scales = false;     // takes scale_a / scale_b
  // Correct only on problems whose every metadata nibble is 0x4 (each group keeps its first two elements): the
  // ablations of kernels/ablations/, which read a constant metadata word instead of the metadata.
  bool uniform_metadata = false;
  bool writes_pruned = true;   // prune_compress: also writes the pruned dense copy (false: values + metadata only,
                               // PruneCompressArgs::pruned may be null and is neither checked nor counted)
  Params params;
  int threads = 0;             // threads per block (0: an operation of several launches of library kernels)
  ArchRule arch;
  ShapeRule rule;
  // The variant's hooks (kernels/common/launch.cuh has the block-tiled ones most steps use):
  //   refuse:  variant-specific rules beyond ShapeRule and the common pointer/stride checks ("" = accepted; GEMMs
  //            only, may be null for other operations);
  //   prepare: fills the plan's launch configuration and workspace size, sets function attributes; host only,
  //            called once per problem, never timed;
  //   run:     enqueues the operation on the stream: the only thing the harness times. It allocates nothing.
  //   fill_workspace (optional, GEMMs): after the workspace is allocated, derives data from the plan's operands into
  //            it, once per problem and never timed (wgmma_sp.s15's A values in fragment order); null for most.
  std::string (*refuse)(const GemmArgs&) = nullptr;
  void (*prepare)(Plan&) = nullptr;
  void (*run)(const Plan&, cudaStream_t) = nullptr;
  void (*fill_workspace)(const Plan&) = nullptr;

  // The parameter `key`; throws std::out_of_range when the variant has none (use has_param first).
  int param(const std::string& key) const;
  bool has_param(const std::string& key) const;
};

// A variant bound to one problem: everything that is not the operation itself is done once, here, by prepare();
// run() is the timed part. The plan owns its workspace. GEMM arguments hold concrete leading dimensions and the
// workspace pointer; a prune_compress plan's are in `prune` (and its workspace in args.workspace).
class Plan {
 public:
  Plan(const Variant& v, const GemmArgs& a) : args(a), variant_(&v) {}
  Plan(const Variant& v, const PruneCompressArgs& a) : prune(a), variant_(&v) {}
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  const Variant& variant() const { return *variant_; }
  // Enqueues the operation on `stream` (launch errors are left for cudaGetLastError, as after any launch).
  void run(cudaStream_t stream) const { variant_->run(*this, stream); }

  // Set by the variant's prepare hook.
  dim3 grid, block;
  int smem_bytes = 0;          // dynamic shared memory per block
  size_t workspace_bytes = 0;  // allocated and zeroed by prepare() after the hook, into args.workspace
  GemmArgs args;
  PruneCompressArgs prune;     // operation == prune_compress or prune_compress_both only
  // Kernel parameters beyond GemmArgs that prepare() builds once and run() passes by value, opaque to everyone
  // else: today the TMA tensor maps (128 bytes each, 64-byte aligned) of the wgmma steps: up to four of them (A, B,
  // metadata, D) and a flag, well under the 4 KB of kernel parameters.
  alignas(64) unsigned char launch_data[1024] = {};

 private:
  const Variant* variant_;
};

const std::vector<Variant>& registry();

// Looks a variant up by its exact name (nullptr if none).
const Variant* find_variant(const std::string& name);

// Empty when the variant's shape rule accepts M x N x K, else the rule broken, e.g. "K = 96 is not a multiple of
// the tile K 64". Pure: no CUDA call.
std::string shape_error(const Variant& v, int M, int N, int K);
// Empty when a device of compute capability `sm` (major*10+minor) satisfies the variant's ArchRule, else why not.
std::string arch_error(const Variant& v, int sm);

// Checks everything that can be checked without the GPU (shape rule, pointers, alignment, strides, scales, the
// variant's own rules: ShapeError), then the device (ArchError: architecture, code for it in the build), then
// lets the variant prepare (launch configuration, attributes, workspace size), then allocates the workspace and
// zeroes it once (a kernel may keep counters there that it returns to zero itself). The returned plan's run() is
// the GEMM. A variant whose operation is not gemm is refused (ShapeError).
std::unique_ptr<Plan> prepare(const Variant& v, const GemmArgs& args);
// The same for a prune_compress or prune_compress_both variant: the shape rule (M and K; N has no meaning here),
// null and misaligned pointers (ShapeError; prune_compress_both also needs values_t, meta_t and nan_blocks), the
// device (ArchError), then the workspace (the canonical metadata between compress and reorder). A variant of
// another operation is refused (ShapeError).
std::unique_ptr<Plan> prepare(const Variant& v, const PruneCompressArgs& args);

// ---- For the generated step units (kernels/common/instantiate.h) -----------------------------------------------
// The label of a variant, from its fields: <family>.<step>_<technique>.<types>.<bm>x<bn>x<bk>.w<wm>x<wn>.s<stages>
// followed by .<key><value> for every further parameter, e.g. "mma_sp.s02_smem.bf16.128x128x64.w2x2.s1".
// <types> is the A type alone when every operand and the output share it. A variant of another operation than
// gemm has no tile: <family>.<step>_<technique>.<type>.<meta layout>, e.g. "format.s01_separate.bf16.lane_blocks16".
std::string variant_name(const Variant& v);

// Builds the registry entry of a step struct K (kernels/<family>/<step>.cuh) from its static description:
// K::kTypes, K::params(), K::kThreads, K::kArch, K::kRule, K::kSparse, K::kMetaLayout, K::kHasScales and the hooks
// K::refuse, K::prepare, K::run. `step_technique` is the struct's name, e.g. "s02_smem": step 2, technique "smem".
int parse_step(const std::string& step_technique);

// Whether a step struct K has a fill_workspace hook (registry.h's Variant::fill_workspace): C++17 detection.
template <class K, class = void>
struct HasFillWorkspace : std::false_type {};
template <class K>
struct HasFillWorkspace<K, std::void_t<decltype(&K::fill_workspace)>> : std::true_type {};

template <class K>
Variant describe(const std::string& family, const std::string& step_technique) {
  Variant v;
  v.family = family;
  v.step = parse_step(step_technique);
  v.technique = step_technique.substr(step_technique.find('_') + 1);
  v.types = K::kTypes;
  v.sparse = K::kSparse;
  v.meta_layout = K::kMetaLayout;
  v.has_scales = K::kHasScales;
  v.uniform_metadata = K::kUniformMetadata;
  v.params = K::params();
  v.threads = K::kThreads;
  v.arch = K::kArch;
  v.rule = K::kRule;
  v.refuse = &K::refuse;
  v.prepare = &K::prepare;
  v.run = &K::run;
  if constexpr (HasFillWorkspace<K>::value) v.fill_workspace = &K::fill_workspace;
  v.name = variant_name(v);
  return v;
}

}  // namespace sparse24
