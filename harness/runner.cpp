#include "harness/runner.h"

#include <fmt/core.h>
#include <nvtx3/nvToolsExt.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "harness/check.h"
#include "harness/context.h"
#include "harness/device_buffer.h"
#include "harness/peer.h"
#include "harness/peer_cublaslt.h"
#include "harness/peer_cusparselt.h"
#include "harness/problem.h"
#include "kernels/common/cuda_check.h"
#include "kernels/dispatch.h"
#include "kernels/format/format.h"
#include "kernels/format/transposable.h"
#include "kernels/registry.h"

namespace sparse24::harness {

namespace {

// ---- Rows ------------------------------------------------------------------------------------------------------
std::string shape_str(const Row& r) { return fmt::format("{}x{}x{}", r.M, r.N, r.K); }

Row new_row(std::string kernel, const char* kind, const Variant* v, DType t, const Shape& s) {
  Row r;
  r.kernel = std::move(kernel);
  r.kind = kind;
  r.variant = v;
  r.operation = v ? v->operation : Operation::gemm;
  r.dtype = t;
  r.M = s.M, r.N = s.N, r.K = s.K;
  return r;
}

// The only place a finished row's status is written (besides run_group's catch for an exception).
void finish(Row& r, Status status, std::string reason = "") {
  r.status = status;
  r.reason = std::move(reason);
}

// A variant's architecture and shape rules for its row, checked before anything is built: false, with the row
// finished as skipped (not this GPU) or refused (the shape, with the rule), when one fails.
bool runs_here(const Variant& v, int sm, Row& r) {
  const std::string arch = arch_error(v, sm);
  const std::string rule = arch.empty() ? shape_error(v, r.M, r.N, r.K) : "";
  if (!arch.empty()) finish(r, Status::skipped, arch);
  else if (!rule.empty()) finish(r, Status::refused, rule);
  return arch.empty() && rule.empty();
}

// A GEMM's compulsory traffic, each operand once: A's values (compressed for sparse rows), metadata, B, D.
struct GemmTraffic {
  double values, meta, b, d;
  double total() const { return values + meta + b + d; }
};

GemmTraffic gemm_traffic(DType t, DType d_type, const Row& r, bool sparse) {
  const double eb = bytes_of(t), M = r.M, N = r.N, K = r.K;
  // The metadata's bytes from the format (2:4: M K / 8; tf32's 1:2: M K / 4), D's from its own type (an int8
  // GEMM writes 4-byte int32 or, scaled, 2-byte bf16).
  const double meta = sparse ? double(format::meta_bytes(format::MetaLayout::Canonical, t, r.M, r.K)) : 0.0;
  return {sparse ? M * K / 2 * eb : M * K * eb, meta, N * K * eb, M * N * bytes_of(d_type)};
}

// The rate counters of a timed GEMM row. Measured ceilings (ceilings.h): sparse rows against the sparse instruction
// loop, dense rows against the dense one, each the row's own kind: the wgmma loops for rows that issue wgmma
// (`warpgroup`: the wgmma families, which are sm_90a-only, and the libraries on sm_90, whose Hopper kernels are
// wgmma kernels), the warp-level mma loops otherwise; every row's compulsory traffic against the copy rate. Percent.
void gemm_rates(Row& r, bool sparse, double ms, const Ceilings& c, DType d_type, bool warpgroup) {
  const GemmTraffic tr = gemm_traffic(r.dtype, d_type, r, sparse);
  const double s = ms * 1e-3;
  auto& k = r.counters;
  k["M"] = r.M, k["N"] = r.N, k["K"] = r.K;
  k["tflops"] = 2.0 * r.M * r.N * r.K / s / 1e12;
  k["gbps"] = tr.total() / s / 1e9;
  k["value_bytes"] = tr.values;
  k["meta_bytes"] = tr.meta;
  k["b_bytes"] = tr.b;
  k["d_bytes"] = tr.d;
  k["meta_share"] = tr.meta / tr.total();
  const double ceiling = c.tflops(r.dtype, sparse, warpgroup);
  if (ceiling > 0) k["pct_of_ceiling"] = 100.0 * k["tflops"] / ceiling;
  if (c.copy_gbps > 0) k["pct_of_copy"] = 100.0 * k["gbps"] / c.copy_gbps;
}

void check_counters(Row& r, const CheckResult& normal) {
  r.counters["rel_err"] = normal.rel_err;
  r.counters["rel_err_bound"] = normal.bound;
  r.counters["over_tolerance"] = static_cast<double>(normal.over_tolerance);
  r.counters["max_err_over_bound"] = normal.max_err_over_bound;
  r.counters["repeat_mismatches"] = static_cast<double>(normal.repeat_mismatches);
}

// Elements of `elem_bytes` bytes that differ between two host buffers.
int64_t mismatches(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, size_t elem_bytes) {
  if (a.size() != b.size()) return static_cast<int64_t>(std::max(a.size(), b.size()) / elem_bytes);
  if (std::memcmp(a.data(), b.data(), a.size()) == 0) return 0;
  int64_t n = 0;
  for (size_t i = 0; i < a.size(); i += elem_bytes) n += std::memcmp(a.data() + i, b.data() + i, elem_bytes) != 0;
  return n;
}

std::vector<uint8_t> to_host(const DeviceBuffer& d, cudaStream_t stream) {
  std::vector<uint8_t> h(d.bytes());
  SPARSE24_CUDA_CHECK(cudaMemcpyAsync(h.data(), d.get(), d.bytes(), cudaMemcpyDeviceToHost, stream));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
  return h;
}

void print_row(const Row& r, bool profile) {
  std::string line = fmt::format("{:<64} ", r.kernel + "/" + shape_str(r));
  auto k = [&](const char* key) {
    const auto it = r.counters.find(key);
    return it == r.counters.end() ? -1.0 : it->second;
  };
  if (r.status != Status::passed) {
    line += fmt::format("{}: {}", name(r.status), r.reason);
  } else if (profile) {
    line += fmt::format("profiled launch done (NVTX range \"{}:{}\")", r.kernel, shape_str(r));
  } else {
    line += fmt::format("{:10.2f} us", k("median_us"));
    if (k("tflops") >= 0) line += fmt::format(" {:8.1f} TFLOP/s", k("tflops"));
    if (k("gbps") >= 0) line += fmt::format(" {:7.0f} GB/s", k("gbps"));
    if (k("pct_of_copy") >= 0 && r.operation != Operation::gemm)
      line += fmt::format(" {:5.1f}% of copy", k("pct_of_copy"));
    if (k("speedup_vs_cublas") >= 0) line += fmt::format("  x{:.3f} cuBLAS", k("speedup_vs_cublas"));
    if (k("speedup_vs_cusparselt") >= 0) line += fmt::format("  x{:.3f} cuSPARSELt", k("speedup_vs_cusparselt"));
  }
  fmt::print("{}\n", line);
  std::fflush(stdout);
}

// The check of `auto` (kernels/dispatch.h AutoPlan, which may pad): D poisoned, one run, the caller's M x N output
// compared with the unpadded problem's reference, as check_plan does for a variant's plan (run_and_compare, both).
CheckResult check_auto(const AutoPlan& plan, const Problem& p, void* d, cudaStream_t stream) {
  return run_and_compare(plan.variant().types.d, p.fill, d, int64_t(p.M) * p.N, p.reference(),
                         [&](cudaStream_t s) { plan.run(s); }, stream);
}

}  // namespace

// A variant prepared on a group's random-normal problem and checked on both problems, once: its own row and the
// dispatcher's row (when it picks it) share the plan and the verdict.
struct Runner::Prepared {
  std::unique_ptr<Plan> plan;
  Status status = Status::error;  // until prepare and both checks finished
  std::string reason = "preparation did not finish";
  bool checked = false;
  CheckResult exact, normal;
};

// Everything the GEMM rows of one (dtype, shape) share, built on first use (a group of prune_compress rows alone
// builds nothing). One group is alive at a time: the largest shapes take a few GB.
struct Runner::Group {
  Group(DType t, const Shape& s) : dtype(t), shape(s) {}
  DType dtype;
  Shape shape;
  bool built = false;
  std::string setup_error;                 // why the problems could not be built (then every GEMM row says so)
  std::unique_ptr<Problem> exact, normal;  // small-integer and random-normal data
  // The same with every group keeping its first elements (Pattern::FirstInGroup), for the ablations that read a
  // constant metadata word (Variant::uniform_metadata); built when the first such variant runs.
  std::unique_ptr<Problem> exact_uniform, normal_uniform;
  DeviceBuffer d;                          // the output every variant and peer writes
  std::map<const Variant*, Prepared> variants;
  // --passes: the index in run_group's rows of the row being run, and the passed GEMM rows kept for passes 2..N.
  struct Retime {
    size_t row;
    std::function<void()> launch;
    std::function<void(Row&, double)> rates;
    std::vector<double> pass_ms;       // each pass's median
    std::vector<double> pass_mean_ms;  // each pass's mean
  };
  size_t row_index = 0;
  std::vector<Retime> retimes;
};

// The linear_train rows of one (dtype, shape): the shape is a linear layer, M outputs, N tokens, K inputs, and the
// rows time its forward and its data gradient as two GEMMs in our convention (D[M,N] = A[M,K] . X[N,K]ᵀ):
//   forward  yᵀ[M,N]  = W [M,K] . x [N,K]ᵀ     A = W,  2:4 along K (the inputs)
//   dgrad    dxᵀ[K,N] = Wᵀ[K,M] . dy[N,M]ᵀ     A = Wᵀ, 2:4 along M (the outputs): the transposable mask's promise
// W is pruned once with the exact transposable mask (Pattern::Transposable); the dgrad problem holds its transpose
// (Pattern::TransposableTransposed, the same seed), so both GEMMs multiply by the same pruned W. Each problem comes
// in both fills (the exact small-integer check and the random-normal one), as a GEMM row's.
// NOTE: the layouts. Both GEMMs read their B K-contiguous and write D row-major, as every GEMM row does: the
// forward writes yᵀ (feature-major) and the dgrad reads dy token-major. In a real layer one of the two would need
// the activations transposed (or a kernel that reads an N-contiguous B); cuBLAS absorbs a transpose in its op
// flags at no cost. Not counted here, for either side: the rows time the two GEMMs on the operands they read.
struct Runner::TrainGroup {
  bool built = false;
  std::string setup_error;
  std::unique_ptr<Problem> fwd_exact, fwd_normal, dgrad_exact, dgrad_normal;
  DeviceBuffer d_fwd, d_dgrad;  // M x N and K x N, 4 bytes per element (the widest D, as Group::d)
};

Runner::Runner(const Options& options, const Ceilings& ceilings, int device)
    : o_(options), ceilings_(ceilings), device_(device), sm_(compute_capability(device)) {
  SPARSE24_CUDA_CHECK(cudaSetDevice(device_));
  SPARSE24_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  flusher_ = std::make_unique<L2Flusher>(device_);
  timer_ = std::make_unique<EventTimer>();
}

Runner::~Runner() {
  if (stream_) cudaStreamDestroy(stream_);
}

std::vector<Row> Runner::run() {
  load_resume();
  int groups = 0, timed = 0;
  for (DType t : o_.dtypes)
    for (const Shape& s : o_.shapes) {
      const int n = rows_to_time(t, s);
      groups += n > 0, timed += n;
    }
  const bool profile = o_.mode == Mode::profile;
  auto minsec = [](double sec) {
    const long x = std::lround(sec);
    return fmt::format("{}:{:02d}", x / 60, x % 60);
  };
  if (!profile)
    fmt::print(stderr, "sparse24_bench: {} rows to time in {} (dtype, shape) groups{}: estimated {} ({} s per row, "
               "{} s per group)\n", timed, groups, finished_.empty() ? "" : fmt::format(" ({} rows already in {})",
               finished_.size(), o_.resume_path), minsec(estimate_seconds(o_, groups, timed)),
               row_budget_seconds(o_), group_budget_seconds());
  start_ = std::chrono::steady_clock::now();
  std::vector<Row> rows;
  const int total = static_cast<int>(o_.dtypes.size() * o_.shapes.size());
  int done = 0;
  for (DType t : o_.dtypes)
    for (const Shape& s : o_.shapes) {
      const int n = rows_to_time(t, s);
      groups -= n > 0, timed -= n;
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      // The estimate left: this group's rows and the ones after it, at the per-row budget (bench.h).
      if (profile)
        fmt::print(stderr, "sparse24_bench: [{}/{}] {} {}\n", ++done, total, name(t), s.str());
      else
        fmt::print(stderr, "sparse24_bench: [{}/{}] {} {}: {} rows to time; elapsed {}, estimated left {}\n", ++done,
                   total, name(t), s.str(), n, minsec(elapsed),
                   minsec(estimate_seconds(o_, groups + (n > 0), timed + n)));
      run_group(t, s, rows);
    }
  if (!profile)
    fmt::print(stderr, "sparse24_bench: done in {}\n",
               minsec(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count()));
  return rows;
}

void Runner::load_resume() {
  if (o_.resume_path.empty()) return;
  std::ifstream f(o_.resume_path);
  std::string line;
  while (std::getline(f, line)) {
    const auto r = parse_row_line(line);
    // Rows that ended in error (a transient failure: memory, a driver error) are not finished: they run again.
    // A later line of the same key replaces an earlier one (the row that ran last).
    if (r && r->status != Status::error) finished_[RowKey{r->kernel, r->dtype, r->M, r->N, r->K}] = *r;
  }
}

const FinishedRow* Runner::finished(const std::string& kernel, DType t, const Shape& s) const {
  const auto it = finished_.find(RowKey{kernel, t, s.M, s.N, s.K});
  return it == finished_.end() ? nullptr : &it->second;
}

void Runner::append_resume(const std::vector<Row>& rows) const {
  if (o_.resume_path.empty() || rows.empty()) return;
  // One write per (dtype, shape), flushed: an interruption loses at most the group running, and a line cut short
  // is refused on reading (parse_row_line).
  std::string text;
  for (const Row& r : rows) text += row_json(r) + "\n";
  std::ofstream f(o_.resume_path, std::ios::app);
  f << text << std::flush;
  if (!f) throw std::runtime_error("cannot append to " + o_.resume_path);
}

int Runner::rows_to_time(DType t, const Shape& s) const {
  const std::regex re(o_.kernels);
  int n = 0;
  auto pending = [&](const std::string& kernel) { return finished(kernel, t, s) == nullptr; };
  auto accepted = [&](const Variant& v) {
    return arch_error(v, sm_).empty() && shape_error(v, s.M, s.N, s.K).empty();
  };
  for (const Variant& v : registry())
    if (v.types.a == t && o_.runs(v.operation) && std::regex_search(v.name, re) && pending(v.name) && accepted(v))
      ++n;
  if (o_.runs(Operation::gemm) && n > 0) {
    n += pending(std::string("cublas.dense.") + name(t));
    n += o_.cusparselt && CusparseltPeer::available() && pending(std::string("cusparselt.") + name(t));
    n += pending(std::string("auto.") + name(t));  // auto: a row whatever the shape (kernels/dispatch.h)
  }
  if (o_.runs(Operation::prune_compress) && (t == DType::fp16 || t == DType::bf16) && o_.cusparselt &&
      CusparseltPrunePeer::available())
    n += pending(std::string("cusparselt.prune_compress.") + name(t));
  if (o_.runs(Operation::linear_train) && (t == DType::fp16 || t == DType::bf16)) {
    n += pending(std::string("linear_train.cublas.") + name(t)) + pending(std::string("linear_train.auto.") + name(t));
    n += o_.cusparselt && CusparseltPeer::available() && pending(std::string("linear_train.cusparselt.") + name(t));
  }
  return n;
}

void Runner::run_group(DType t, const Shape& s, std::vector<Row>& out) {
  Group g(t, s);
  std::vector<Row> rows;
  const bool profile = o_.mode == Mode::profile;
  std::vector<Row> resumed_peers;  // peers' rows from the resume file: the new rows' ratios, not reported again
  auto run_row = [&](Row r, const std::function<void(Row&)>& body) {
    if (const FinishedRow* f = finished(r.kernel, t, s)) {
      if (r.kind == "peer") resumed_peers.push_back(row_from_finished(*f));
      return;
    }
    g.row_index = rows.size();  // where r will be: keep_for_passes records it
    try {
      body(r);
    } catch (const std::exception& e) {
      finish(r, Status::error, e.what());
    }
    rows.push_back(std::move(r));
  };
  const std::regex re(o_.kernels);
  auto selected = [&](const Variant& v, Operation op) {
    return v.operation == op && v.types.a == t && std::regex_search(v.name, re);
  };
  if (o_.runs(Operation::gemm)) {
    Row cublas = new_row(std::string("cublas.dense.") + name(t), "peer", nullptr, t, s);
    cublas.peer = PeerLibrary::cublas;
    run_row(std::move(cublas), [&](Row& r) { peer_row(g, r); });
    if (o_.cusparselt && CusparseltPeer::available()) {
      Row cslt = new_row(std::string("cusparselt.") + name(t), "peer", nullptr, t, s);
      cslt.peer = PeerLibrary::cusparselt;
      run_row(std::move(cslt), [&](Row& r) { peer_row(g, r); });
    }
    run_row(new_row(std::string("auto.") + name(t), "auto", nullptr, t, s), [&](Row& r) { auto_row(g, r); });
    for (const Variant& v : registry())
      if (selected(v, Operation::gemm))
        run_row(new_row(v.name, "variant", &v, t, s), [&](Row& r) { gemm_row(g, v, r); });
  }
  // cuSPARSELt's prune + compress beside the prune_compress rows (16-bit types: the peer's set-up). An optional
  // peer: a build without cuSPARSELt reports the row as refused with the reason (--no-cusparselt leaves it out).
  if (o_.runs(Operation::prune_compress) && (t == DType::fp16 || t == DType::bf16) && o_.cusparselt) {
    Row peer = new_row(std::string("cusparselt.prune_compress.") + name(t), "peer", nullptr, t, s);
    peer.peer = PeerLibrary::cusparselt;
    peer.operation = Operation::prune_compress;
    run_row(std::move(peer), [&](Row& r) {
      if (!CusparseltPrunePeer::available())
        return finish(r, Status::refused, "cuSPARSELt is not built in (scripts/setup_deps.sh --cusparselt, or "
                                          "SPARSE24_CUSPARSELT_ROOT)");
      prune_peer_row(r);
    });
  }
  for (const Variant& v : registry())
    if (o_.runs(Operation::prune_compress) && selected(v, Operation::prune_compress))
      run_row(new_row(v.name, "variant", &v, t, s), [&](Row& r) { prune_compress_row(v, r); });
  for (const Variant& v : registry())
    if (o_.runs(Operation::prune_compress_both) && selected(v, Operation::prune_compress_both))
      run_row(new_row(v.name, "variant", &v, t, s), [&](Row& r) { prune_compress_both_row(v, r); });
  if (o_.runs(Operation::linear_train)) {
    TrainGroup tg;
    auto train_row_of = [&](const std::string& label, const char* kind, PeerLibrary peer) {
      Row r = new_row("linear_train." + label + "." + name(t), kind, nullptr, t, s);
      r.operation = Operation::linear_train;
      r.peer = peer;
      return r;
    };
    run_row(train_row_of("cublas", "peer", PeerLibrary::cublas), [&](Row& r) { train_peer_row(tg, r); });
    if (o_.cusparselt && CusparseltPeer::available())
      run_row(train_row_of("cusparselt", "peer", PeerLibrary::cusparselt), [&](Row& r) { train_peer_row(tg, r); });
    run_row(train_row_of("auto", "auto", PeerLibrary::none), [&](Row& r) { train_auto_row(tg, r); });
  }

  if (o_.passes > 1 && !profile) run_passes(g, rows);

  // Every row of the (dtype, shape) is finished: only now the ratios, from these rows alone (and the peers' rows
  // of an earlier, resumed session: they stay at the end and are removed again).
  const size_t fresh = rows.size();
  for (Row& r : resumed_peers) rows.push_back(std::move(r));
  compute_ratios(rows);
  rows.resize(fresh);
  for (const Row& r : rows) print_row(r, profile);
  if (!profile) append_resume(rows);
  for (Row& r : rows) out.push_back(std::move(r));
}

bool Runner::ensure_problems(Group& g) {
  if (!g.built) {
    g.built = true;
    try {
      g.exact = Problem::make(g.dtype, g.shape.M, g.shape.N, g.shape.K, Fill::SmallInt, o_.seed, stream_);
      g.normal = Problem::make(g.dtype, g.shape.M, g.shape.N, g.shape.K, Fill::Normal, o_.seed + 1, stream_);
      // Room for any variant's D (a variant's D may be wider than the problem's default: e4m3 -> f32): 4 bytes,
      // the widest output type (operands.h).
      g.d = DeviceBuffer(size_t(g.shape.M) * g.shape.N * sizeof(float));
    } catch (const std::exception& e) {
      g.setup_error = e.what();
    }
  }
  return g.setup_error.empty();
}

namespace {

// A timed loop's GPU state into its row (LoopState): the memory clock's range, the highest temperatures, and
// every clock-event reason seen (OR of the bitmasks), over all of the row's loops. Nothing for a value NVML did not
// give. Returns the loop's own summary for a pass list: "HBM <C> C, mem <MHz> MHz, reasons 0x<hex>".
std::string note_gpu_state(Row& r, const LoopState& st) {
  auto& k = r.counters;
  for (const GpuState& g : {st.before, st.after}) {
    if (g.mem_clock_mhz >= 0) {
      k["mem_clock_min_mhz"] = k.count("mem_clock_min_mhz") ? std::min<double>(k["mem_clock_min_mhz"], g.mem_clock_mhz)
                                                            : g.mem_clock_mhz;
      k["mem_clock_max_mhz"] = std::max<double>(k.count("mem_clock_max_mhz") ? k["mem_clock_max_mhz"] : 0,
                                                g.mem_clock_mhz);
    }
    if (g.gpu_temp_c >= 0) k["gpu_temp_max_c"] = std::max<double>(k.count("gpu_temp_max_c") ? k["gpu_temp_max_c"] : 0,
                                                                   g.gpu_temp_c);
    if (g.mem_temp_c >= 0) k["mem_temp_max_c"] = std::max<double>(k.count("mem_temp_max_c") ? k["mem_temp_max_c"] : 0,
                                                                   g.mem_temp_c);
    if (g.clock_event_reasons >= 0)
      k["clock_event_reasons"] = static_cast<double>(
          (k.count("clock_event_reasons") ? static_cast<long long>(k["clock_event_reasons"]) : 0) |
          g.clock_event_reasons);
  }
  const long long reasons = std::max(st.before.clock_event_reasons, 0LL) | std::max(st.after.clock_event_reasons, 0LL);
  return fmt::format("HBM {} C, mem {} MHz, reasons 0x{:x}", std::max(st.before.mem_temp_c, st.after.mem_temp_c),
                     std::min(st.before.mem_clock_mhz, st.after.mem_clock_mhz), reasons);
}

}  // namespace

double Runner::measure(Row& r, const std::function<void()>& launch, double flop) {
  if (o_.mode == Mode::profile) {
    const std::string range = r.kernel + ":" + shape_str(r);  // ':' not '/': ncu reads '/' as range nesting
    nvtxRangePushA(range.c_str());
    launch();
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream_));
    nvtxRangePop();
    return 0;
  }
  LoopState st;
  const LoopSamples s = timed_loop(r.kernel + "/" + shape_str(r), launch, &st);
  r.notes["pass_gpu_state"] = note_gpu_state(r, st);
  const double ms = median(s.ms);
  r.counters["median_us"] = ms * 1e3;
  r.counters["timed_launches"] = static_cast<double>(s.ms.size());
  r.counters["mean_us"] = mean(s.ms) * 1e3;
  r.counters["p10_us"] = quantile(s.ms, 0.1) * 1e3;
  r.counters["p90_us"] = quantile(s.ms, 0.9) * 1e3;
  if (s.clock_max_mhz >= 0) {
    r.counters["sm_clock_min_mhz"] = s.clock_min_mhz;
    r.counters["sm_clock_max_mhz"] = s.clock_max_mhz;
  }
  if (o_.energy_time > 0 && flop > 0) measure_energy(r, launch, ms, flop);
  return ms;
}

LoopSamples Runner::timed_loop(const std::string& label, const std::function<void()>& launch, LoopState* state) {
  launch();  // warm-up: module load, first touch, clocks up
  SPARSE24_CUDA_CHECK(cudaGetLastError());
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (state) state->before = gpu_state(device_);
  // Each iteration: the L2 flushed (outside the events), the launch timed with CUDA events, then the SM clock
  // (outside the events): a kernel that draws more power can run at lower clocks than its neighbour, and the
  // ratios include that, so each row says at which clocks it ran.
  LoopSamples s = gbench_loop(label, o_.min_time, [&] {
    flusher_->flush(stream_);
    const double ms = timer_->time_ms(launch, stream_);
    return std::make_pair(ms, sm_clock_mhz(device_));
  });
  if (state) state->after = gpu_state(device_);
  return s;
}

void Runner::keep_for_passes(Group& g, std::function<void()> launch, std::function<void(Row&, double)> rates) {
  if (o_.passes > 1 && o_.mode == Mode::run)
    g.retimes.push_back({g.row_index, std::move(launch), std::move(rates), {}, {}});
}

// Why passes: one timing of a 12-75 us decode kernel and another of the same kernel a few seconds later read
// 0.93-1.08x of each other on an H200 (session 14, call C: the dispatcher's row against its variant's own row), so a
// single pass cannot tell a 3% difference between two rows of a shape. Each row keeps its own median per pass; the
// median over passes drops a pass that an excursion of the GPU's state caught, and the mirrored order (pass_order)
// puts every row's passes at comparable places in time. NOTE: session 15 measured what the passes face: the TMA
// decode kernels' loops sit on one of two levels 3-11% apart (SM and memory clocks constant, the copy rate steady),
// so the median of the passes takes the level most of them found; `notes.pass_medians_us` shows both.
void Runner::run_passes(Group& g, std::vector<Row>& rows) {
  std::vector<Group::Retime>& kept = g.retimes;
  kept.erase(std::remove_if(kept.begin(), kept.end(),
                            [&](const Group::Retime& e) {
                              return e.row >= rows.size() || rows[e.row].status != Status::passed ||
                                     !rows[e.row].counters.count("median_us");
                            }),
             kept.end());
  for (Group::Retime& e : kept) {
    e.pass_ms = {rows[e.row].counters.at("median_us") * 1e-3};
    e.pass_mean_ms = {rows[e.row].counters.count("mean_us") ? rows[e.row].counters.at("mean_us") * 1e-3 : 0.0};
  }
  for (int pass = 2; pass <= o_.passes; ++pass)
    for (size_t i : pass_order(kept.size(), pass)) {
      Group::Retime& e = kept[i];
      Row& r = rows[e.row];
      if (r.status != Status::passed) continue;
      try {
        LoopState st;
        const LoopSamples s = timed_loop(fmt::format("{}/{}/pass{}", r.kernel, shape_str(r), pass), e.launch, &st);
        e.pass_ms.push_back(median(s.ms));
        e.pass_mean_ms.push_back(mean(s.ms));
        r.notes["pass_gpu_state"] += "; " + note_gpu_state(r, st);
        r.counters["timed_launches"] += static_cast<double>(s.ms.size());
        if (s.clock_max_mhz >= 0 && r.counters.count("sm_clock_max_mhz")) {
          r.counters["sm_clock_min_mhz"] = std::min<double>(r.counters["sm_clock_min_mhz"], s.clock_min_mhz);
          r.counters["sm_clock_max_mhz"] = std::max<double>(r.counters["sm_clock_max_mhz"], s.clock_max_mhz);
        }
      } catch (const std::exception& ex) {
        finish(r, Status::error, fmt::format("pass {}: {}", pass, ex.what()));
      }
    }
  for (Group::Retime& e : kept) {
    Row& r = rows[e.row];
    if (r.status != Status::passed) continue;
    const double ms = median(e.pass_ms);
    std::string list, means;
    for (double p : e.pass_ms) list += fmt::format("{}{:.3f}", list.empty() ? "" : ", ", p * 1e3);
    for (double p : e.pass_mean_ms) means += fmt::format("{}{:.3f}", means.empty() ? "" : ", ", p * 1e3);
    r.notes["pass_means_us"] = means;
    r.counters["mean_of_pass_means_us"] = mean(e.pass_mean_ms) * 1e3;
    r.counters["median_us"] = ms * 1e3;
    r.counters["passes"] = static_cast<double>(e.pass_ms.size());
    r.notes["pass_medians_us"] = list;
    e.rates(r, ms);
    gemm_same_size_copy(r);  // the copy's rate is cached: only the row's share of it changes
  }
}

// The copy rate at the row's own size, beside pct_of_copy (which is against the ceilings' copy of >= 256 MiB
// buffers): a cudaMemcpyAsync device to device of half the row's compulsory bytes (so that the copy reads and writes
// as many bytes as the row moves), timed as the row is (L2 flushed before each launch, median). A format row at
// 4096 x 4096 moves ~52 MB, about one L2 (50 MB on an H200): its time is then a few microseconds of which the ramp
// and tail of one wave are a fixed share, for a copy of that size as for the kernel. pct_of_same_size_copy says
// how much of the gap to the large copy's rate the size alone explains (issue 18's 4096^2 rows).
// The copy is timed once per byte count and run (the rows of one shape share it): a decode shape's ten rows would
// otherwise time ten identical copies.
void Runner::same_size_copy(Row& r, double moved_bytes) {
  if (o_.mode == Mode::profile || moved_bytes <= 0) return;
  const size_t half = static_cast<size_t>(moved_bytes / 2) / 16 * 16;
  if (half == 0) return;
  auto known = same_size_copy_gbps_.find(half);
  if (known == same_size_copy_gbps_.end()) {
    DeviceBuffer from(half), to(half);
    SPARSE24_CUDA_CHECK(cudaMemsetAsync(from.get(), 0x5A, half, stream_));
    Row scratch = r;  // measure() writes its counters here
    scratch.kernel = r.kernel + ".same_size_copy";
    const auto copy = [&] {
      SPARSE24_CUDA_CHECK(cudaMemcpyAsync(to.get(), from.get(), half, cudaMemcpyDeviceToDevice, stream_));
    };
    // The better of two timings: the copy is the row's reference rate, and one timing of a ~10 us copy read up to
    // 20% low in session 13's call B (4096x1x14336: 2596 GB/s, the same bytes at N = 16 later in the run: 3226).
    const double ms = std::min(measure(scratch, copy), measure(scratch, copy));
    if (ms <= 0) return;
    known = same_size_copy_gbps_.emplace(half, 2.0 * static_cast<double>(half) / (ms * 1e-3) / 1e9).first;
  }
  r.counters["same_size_copy_gbps"] = known->second;
  r.counters["pct_of_same_size_copy"] = 100.0 * r.counters["gbps"] / known->second;
}

// A GEMM row's compulsory bytes (gemm_rates' value_bytes + meta_bytes + b_bytes + d_bytes) against a copy moving as
// many. The copy reads half and writes half where a decode GEMM reads nearly all of its bytes; what the counter
// shows is how far the problem's size alone (one wave's ramp and tail, the launch) keeps a copy of it from the
// large copy's rate, the bound pct_of_copy is read against (issue 16's and 19's decode targets on small weights).
void Runner::gemm_same_size_copy(Row& r) {
  if (!o_.same_size_copy || !r.counters.count("gbps")) return;
  const auto& k = r.counters;
  same_size_copy(r, k.at("value_bytes") + k.at("meta_bytes") + k.at("b_bytes") + k.at("d_bytes"));
}

// NOTE: a loop of its own, not the timed loop's: that one flushes L2 between launches (a 2 x L2 read, as much
// energy as a small GEMM's own traffic) and reads the clock, and both would be charged to the GEMM. Here the
// launches run back to back, so an operand that fits in L2 (the small shapes) is read warm after the first launch:
// the energy of those rows is that of a warm-L2 GEMM (the shapes whose weight exceeds L2 are unaffected).
// NOTE: the loop lasts --energy-time (0.2 s by default), not the timed loop's length: NVML's counter advances in
// steps tens of ms apart, so the timed loop of a fast kernel would be too short to read; energy_loop_ms is
// recorded beside the figures so a reader can see how long each was.
void Runner::measure_energy(Row& r, const std::function<void()>& launch, double median_ms, double flop) {
  constexpr long kMaxLaunches = 1L << 20;  // a 1 us kernel at the default time: 200 000
  constexpr double kSampleSeconds = 0.01;  // power samples (no counter): one per ~10 ms of launches
  const double launch_s = std::max(median_ms * 1e-3, 1e-7);
  const long launches = std::clamp(std::lround(std::ceil(o_.energy_time / launch_s)), 1L, kMaxLaunches);
  const long chunk = std::clamp(std::lround(std::ceil(kSampleSeconds / launch_s)), 1L, launches);
  const double before_mj = total_energy_mj(device_);
  const bool counter = before_mj >= 0;
  std::vector<double> power;
  const double loop_ms = timer_->time_ms([&] {
    for (long i = 0; i < launches; i += chunk) {
      for (long j = i; j < std::min(i + chunk, launches); ++j) launch();
      if (!counter) {
        SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream_));
        power.push_back(power_mw(device_));
      }
    }
  }, stream_);
  const double joules =
      counter ? joules_from_counter(before_mj, total_energy_mj(device_)) : joules_from_power(power, loop_ms * 1e-3);
  const EnergyFigures e = energy_figures(joules, loop_ms * 1e-3, launches, flop);
  auto& k = r.counters;
  k["joules_per_gemm"] = e.joules_per_gemm;  // NaN (null in the JSON) without a reading, never 0
  k["tflops_per_watt"] = e.tflops_per_watt;
  k["energy_watts"] = e.watts;
  k["energy_loop_ms"] = loop_ms;
  k["energy_launches"] = static_cast<double>(launches);
  r.notes["energy_source"] = counter ? "nvml_total_energy_counter"
                             : !power.empty() && power.front() >= 0 ? "nvml_power_samples"
                                                                    : "unavailable (no NVML reading)";
}

// A library peer's row: built on the random-normal problem, every candidate checked and timed L2-flushed
// (search_fastest, peer.h), then the fastest passing one measured like every row.
void Runner::peer_row(Group& g, Row& r) {
  if (!ensure_problems(g)) return finish(r, Status::error, "set-up failed: " + g.setup_error);
  const Problem& p = *g.normal;
  std::unique_ptr<Peer> peer;
  SearchResult search;
  try {
    if (r.peer == PeerLibrary::cublas)
      peer = std::make_unique<CublasLtPeer>(g.dtype, p.M, p.N, p.K, p.a_pruned.get(), p.b.get(), g.d.get(), stream_,
                                            o_.peer_candidates);
    else
      peer = std::make_unique<CusparseltPeer>(g.dtype, p.M, p.N, p.K, p.a_pruned.get(), p.b.get(), g.d.get(),
                                              stream_);
    search = search_fastest(*peer, p, g.d.get(), *flusher_, *timer_, stream_, o_.search_reps);
  } catch (const PeerRefused& e) {
    return finish(r, Status::refused, e.what());
  }
  auto& k = r.counters;
  k["peer_candidates"] = search.candidates;
  k["peer_candidates_refused"] = search.refused;
  k["peer_candidates_failed"] = search.failed_check;
  if (search.chosen < 0) return finish(r, search.failed_check > 0 ? Status::failed : Status::error, search.message);
  fmt::print(stderr, "sparse24_bench: {} {}: {} ({} candidates, {} refused, {} failed the check; {:.1f} us)\n",
             name(g.dtype), g.shape.str(), peer->describe(), search.candidates, search.refused, search.failed_check,
             search.chosen_ms * 1e3);
  check_counters(r, search.check);
  for (const auto& [key, v] : peer->fields()) k[key] = v;
  k["peer_padded"] = peer->padded() ? 1 : 0;
  k["search_us"] = search.chosen_ms * 1e3;
  if (search.first_ms > 0) k["first_candidate_us"] = search.first_ms * 1e3;
  const std::shared_ptr<Peer> run = std::move(peer);  // kept alive for --passes
  const double ms = measure(r, [&] { run->run(); }, 2.0 * r.M * r.N * r.K);
  const auto rates = [this, sparse = r.peer == PeerLibrary::cusparselt, d = default_operands(g.dtype).d](Row& row,
                                                                                                          double t) {
    gemm_rates(row, sparse, t, ceilings_, d, sm_ == 90);
  };
  if (ms > 0) rates(r, ms);
  gemm_same_size_copy(r);
  finish(r, Status::passed);
  keep_for_passes(g, [run] { run->run(); }, rates);
}

// The dispatcher's choice for the shape (kernels/dispatch.h: prepare_auto), checked on both problems and timed like
// any variant: what a user who calls one function gets. The choice (a table row of this GPU, the cache, or the
// candidates measured now) and any padding are made in prepare_auto on the random-normal problem, outside the timed
// loop; the exact problem gets a plan of the same variant. Both checks compare the caller's M x N output with the
// UNPADDED problem's reference. The row names the variant (notes.picked, and its fields), where the choice came
// from (notes.auto_source: table, table_ties, cache, cache_file or measured; notes.auto_detail) and the padded shape.
void Runner::auto_row(Group& g, Row& r) {
  if (!ensure_problems(g)) return finish(r, Status::error, "set-up failed: " + g.setup_error);
  const Gpu gpu = gpu_of(device_);
  auto args = [&](const Problem& p) {
    AutoArgs a;
    a.M = p.M, a.N = p.N, a.K = p.K;
    a.a_values = p.a_values.get();
    a.a_meta_canonical = p.meta(format::MetaLayout::Canonical);
    a.a_meta_layout = p.meta(pick_layout(g.dtype));  // null when the shape does not fit it (then padded)
    a.b = p.b.get();
    a.d = g.d.get();
    return a;
  };
  std::unique_ptr<AutoPlan> normal, exact;
  try {
    normal = prepare_auto(g.dtype, args(*g.normal), gpu, stream_);
    exact = prepare_auto(normal->variant(), g.dtype, args(*g.exact), gpu, stream_);
  } catch (const ShapeError& e) {
    return finish(r, Status::refused, e.what());
  } catch (const ArchError& e) {
    return finish(r, Status::skipped, e.what());
  }
  const Variant& v = normal->variant();
  r.variant = &v;
  r.notes["picked"] = v.name;
  r.notes["auto_source"] = name(normal->source);
  r.notes["auto_detail"] = normal->detail;
  std::string timings;
  for (const AutoTiming& c : normal->timings)
    timings += (timings.empty() ? "" : "; ") + c.variant->name + " " +
               (c.median_us >= 0 ? fmt::format("{:.1f} us", c.median_us) : "refused: " + c.refused);
  if (!timings.empty()) r.notes["auto_timings"] = timings;
  r.counters["auto_padded_M"] = normal->padded_M;
  r.counters["auto_padded_K"] = normal->padded_K;
  const CheckResult ce = check_auto(*exact, *g.exact, g.d.get(), stream_);
  const CheckResult cn = check_auto(*normal, *g.normal, g.d.get(), stream_);
  r.counters["exact_mismatches"] = static_cast<double>(ce.mismatches);
  check_counters(r, cn);
  if (!ce.passed) return finish(r, Status::failed, "exact small-integer check: " + ce.message);
  if (!cn.passed) return finish(r, Status::failed, "random-normal check: " + cn.message);
  const std::shared_ptr<AutoPlan> plan = std::move(normal);  // kept alive for --passes
  const double ms = measure(r, [&] { plan->run(stream_); }, 2.0 * r.M * r.N * r.K);
  const auto rates = [this, &v](Row& row, double t) {
    gemm_rates(row, v.sparse, t, ceilings_, v.types.d, v.arch.arch_specific);
  };
  if (ms > 0) rates(r, ms);
  gemm_same_size_copy(r);
  finish(r, Status::passed);
  keep_for_passes(g, [this, plan] { plan->run(stream_); }, rates);
}

Runner::Prepared& Runner::prepared(Group& g, const Variant& v) {
  auto [it, fresh] = g.variants.try_emplace(&v);
  Prepared& p = it->second;
  if (!fresh) return p;
  // Prepare once per (variant, shape), outside timing: what prepare refuses (strides, grid limits) is a refusal,
  // a GPU without code for the variant a skip.
  if (v.uniform_metadata && !g.normal_uniform) {
    const Operands ops = default_operands(g.dtype);
    g.exact_uniform = Problem::make(ops, g.shape.M, g.shape.N, g.shape.K, Fill::SmallInt, o_.seed, stream_,
                                    Pattern::FirstInGroup);
    g.normal_uniform = Problem::make(ops, g.shape.M, g.shape.N, g.shape.K, Fill::Normal, o_.seed + 1, stream_,
                                     Pattern::FirstInGroup);
  }
  const Problem& exact = v.uniform_metadata ? *g.exact_uniform : *g.exact;
  const Problem& normal = v.uniform_metadata ? *g.normal_uniform : *g.normal;
  try {
    p.plan = prepare(v, args_for(v, normal, g.d.get()));
  } catch (const ShapeError& e) {
    p.status = Status::refused, p.reason = e.what();
    return p;
  } catch (const ArchError& e) {
    p.status = Status::skipped, p.reason = e.what();
    return p;
  }
  // Correct first: both checks, before any timing.
  p.exact = check_variant(v, exact, g.d.get(), stream_);
  p.normal = check_plan(*p.plan, normal, stream_);
  p.checked = true;
  if (!p.exact.passed) p.status = Status::failed, p.reason = "exact small-integer check: " + p.exact.message;
  else if (!p.normal.passed) p.status = Status::failed, p.reason = "random-normal check: " + p.normal.message;
  else p.status = Status::passed, p.reason.clear();
  return p;
}

void Runner::gemm_row(Group& g, const Variant& v, Row& r) {
  if (!runs_here(v, sm_, r)) return;  // the row's shape is the group's
  if (!ensure_problems(g)) return finish(r, Status::error, "set-up failed: " + g.setup_error);
  const Prepared& p = prepared(g, v);
  if (p.checked) {
    r.counters["exact_mismatches"] = static_cast<double>(p.exact.mismatches);
    check_counters(r, p.normal);
  }
  if (p.status != Status::passed) return finish(r, p.status, p.reason);
  const double ms = measure(r, [&] { p.plan->run(stream_); }, 2.0 * r.M * r.N * r.K);
  const auto rates = [this, &v](Row& row, double t) {
    gemm_rates(row, v.sparse, t, ceilings_, v.types.d, v.arch.arch_specific);
  };
  if (ms > 0) rates(r, ms);
  // A variant with scales runs and is checked with all four (args_for). Issue 16's target "per-row x per-column
  // scaling costs <= 3% against per-tensor alpha" needs the same variant without the vectors, in the same run:
  // prepared again with scale_row = scale_col = null (alpha, sa, sb kept: one per-tensor factor, legal for every
  // combination), checked, timed right after, and written into this row as per_tensor_median_us and
  // row_col_scale_cost_pct = 100 (scaled / per_tensor_median_us - 1), where `scaled` is the mean of the row's own
  // median and a second timing of the scaled variant right after the per-tensor one (A B A: a drift of the clocks
  // over the three timings cancels to first order; session 12 saw +2.5..3.7% at 16384^3 with A B only, where each
  // timing is ~0.3 s of 4-6 ms launches). median_us stays the row's first timing.
  if (ms > 0 && v.has_scales) {
    GemmArgs a = args_for(v, *g.normal, g.d.get());
    a.scale_row = a.scale_col = nullptr;
    const std::unique_ptr<Plan> per_tensor = prepare(v, a);
    const CheckResult c = check_plan(*per_tensor, *g.normal, stream_);
    if (!c.passed) return finish(r, Status::failed, "per-tensor scales only: random-normal check: " + c.message);
    Row scratch = r;  // measure() writes its counters here
    scratch.kernel += ".per_tensor_scales";
    const double ms_pt = measure(scratch, [&] { per_tensor->run(stream_); });
    scratch.kernel = r.kernel + ".scaled_again";
    const double ms_again = measure(scratch, [&] { p.plan->run(stream_); });
    r.counters["per_tensor_median_us"] = ms_pt * 1e3;
    r.counters["scaled_again_median_us"] = ms_again * 1e3;
    r.counters["row_col_scale_cost_pct"] = 100.0 * (0.5 * (ms + ms_again) / ms_pt - 1.0);
  }
  gemm_same_size_copy(r);  // after the A B A timings, which must run back to back
  finish(r, Status::passed);
  // The plan lives in g.variants (a std::map: its address is stable) as long as the group.
  keep_for_passes(g, [this, plan = p.plan.get()] { plan->run(stream_); }, rates);
}

// A prune_compress variant on the M x K operand of the row's shape: a random-normal dense matrix (never zeros), the
// outputs poisoned, one run checked bit for bit against kernels/format's CPU reference (prune, compress, reorder on
// the same input), then timed. Its rate: the compulsory bytes (the dense input read once; pruned, values and the
// layout's metadata written once) per second, and that rate as a share of the measured copy rate.
void Runner::prune_compress_row(const Variant& v, Row& r) {
  if (!runs_here(v, sm_, r)) return;
  const DType t = v.types.a;
  const int64_t M = r.M, K = r.K;
  const size_t eb = bytes_of(t), dense_bytes = size_t(M) * size_t(K) * eb;
  DeviceBuffer dense(dense_bytes), pruned(dense_bytes), values(dense_bytes / 2),
      meta(format::meta_bytes(v.meta_layout, t, M, K));
  fill_random(t, Fill::Normal, o_.seed + 2, dense.get(), M * K, stream_);
  std::unique_ptr<Plan> plan;
  try {
    plan = prepare(v, PruneCompressArgs{M, K, dense.get(), v.writes_pruned ? pruned.get() : nullptr, values.get(),
                                        meta.get()});
  } catch (const ShapeError& e) {
    return finish(r, Status::refused, e.what());
  } catch (const ArchError& e) {
    return finish(r, Status::skipped, e.what());
  }

  // The check: poisoned outputs (every byte 0xFF: a NaN in fp16 and bf16, an invalid metadata nibble), one run.
  for (const DeviceBuffer* b : {&pruned, &values, &meta})
    SPARSE24_CUDA_CHECK(cudaMemsetAsync(b->get(), 0xFF, b->bytes(), stream_));
  plan->run(stream_);
  SPARSE24_CUDA_CHECK(cudaGetLastError());
  const std::vector<uint8_t> in = to_host(dense, stream_), got_pruned = to_host(pruned, stream_),
                             got_values = to_host(values, stream_), got_meta = to_host(meta, stream_);
  std::vector<uint8_t> ref_pruned(dense_bytes), ref_values(dense_bytes / 2),
      ref_canonical(format::meta_bytes(format::MetaLayout::Canonical, t, M, K)), ref_meta(meta.bytes());
  format::prune(t, in.data(), M, K, ref_pruned.data());
  format::compress(t, ref_pruned.data(), M, K, ref_values.data(), ref_canonical.data());
  if (v.meta_layout == format::MetaLayout::Canonical) ref_meta = ref_canonical;
  else format::reorder_meta(v.meta_layout, t, ref_canonical.data(), M, K, ref_meta.data());
  const int64_t bad_pruned = v.writes_pruned ? mismatches(got_pruned, ref_pruned, eb) : 0;
  const int64_t bad_values = mismatches(got_values, ref_values, eb);
  const int64_t bad_meta = mismatches(got_meta, ref_meta, 1);
  r.counters["pruned_mismatches"] = static_cast<double>(bad_pruned);
  r.counters["value_mismatches"] = static_cast<double>(bad_values);
  r.counters["meta_mismatches"] = static_cast<double>(bad_meta);
  r.counters["exact_mismatches"] = static_cast<double>(bad_pruned + bad_values + bad_meta);
  if (bad_pruned || bad_values || bad_meta)
    return finish(r, Status::failed, fmt::format("differs from the CPU reference (kernels/format): {} pruned "
                                                 "elements, {} values, {} metadata bytes", bad_pruned, bad_values,
                                                 bad_meta));

  const double ms = measure(r, [&] { plan->run(stream_); });
  if (ms > 0) {
    auto& k = r.counters;
    k["M"] = r.M, k["K"] = r.K;
    k["dense_bytes"] = static_cast<double>(dense_bytes);  // read
    const double pruned_bytes = v.writes_pruned ? static_cast<double>(dense_bytes) : 0.0;
    k["pruned_bytes"] = pruned_bytes;  // written (s01; s02 writes none), as the values and the metadata
    k["value_bytes"] = static_cast<double>(values.bytes());
    k["meta_bytes"] = static_cast<double>(meta.bytes());
    k["gbps"] = (dense_bytes + pruned_bytes + values.bytes() + meta.bytes()) / (ms * 1e-3) / 1e9;
    if (ceilings_.copy_gbps > 0) k["pct_of_copy"] = 100.0 * k["gbps"] / ceilings_.copy_gbps;
    same_size_copy(r, dense_bytes + pruned_bytes + values.bytes() + meta.bytes());
  }
  finish(r, Status::passed);
}

// cuSPARSELt's prune + compress (CusparseltPrunePeer, peer_cusparselt.h) on the same W as the prune_compress rows
// (the same seed), the peer those rows' speedup_vs_cusparselt is taken against. Checked before it is timed:
//   - cusparseLtSpMMAPruneCheck says the pruned copy is 2:4;
//   - every group of the pruned copy keeps input elements unchanged and drops to zero, and keeps the same two
//     magnitudes as format::prune (the library's tie rule may pick the other of two equal magnitudes: such groups
//     are counted, pruned_tie_choices, not failed; a group that keeps less magnitude is a failure);
//   - the compressed copy read back through the library's own GEMM with an identity (multiply_identity: D = W
//     pruned, exact) equals the pruned copy (zeros of either sign equal).
// Timed as one launch of prune + compress (the row's median), and each call alone (prune_us, compress_us).
// Its gbps counts the same compulsory bytes as format.s02_onepass (W read once; canonical values and metadata
// written once: 3.125 bytes per 16-bit element), so the two rates compare as the times do; what the two calls move
// at least (W read, the pruned copy written and read again, the library's compressed form written) is
// library_moved_bytes, and the compressed form's own size library_compressed_bytes.
void Runner::prune_peer_row(Row& r) {
  const DType t = r.dtype;
  const int64_t M = r.M, K = r.K;
  const size_t eb = bytes_of(t), dense_bytes = size_t(M) * size_t(K) * eb;
  DeviceBuffer dense(dense_bytes);
  fill_random(t, Fill::Normal, o_.seed + 2, dense.get(), M * K, stream_);
  std::unique_ptr<CusparseltPrunePeer> peer;
  try {
    peer = std::make_unique<CusparseltPrunePeer>(t, r.M, r.K, dense.get(), stream_);
  } catch (const PeerRefused& e) {
    return finish(r, Status::refused, e.what());
  }
  SPARSE24_CUDA_CHECK(cudaMemsetAsync(peer->pruned(), 0xFF, dense_bytes, stream_));
  peer->run();
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream_));
  const bool library_says_24 = peer->prune_check();
  DeviceBuffer back(dense_bytes);
  SPARSE24_CUDA_CHECK(cudaMemsetAsync(back.get(), 0xFF, dense_bytes, stream_));
  peer->multiply_identity(back.get());
  std::vector<uint8_t> in = to_host(dense, stream_), ref(dense_bytes);
  std::vector<uint8_t> got(dense_bytes), got_back = to_host(back, stream_);
  SPARSE24_CUDA_CHECK(cudaMemcpyAsync(got.data(), peer->pruned(), dense_bytes, cudaMemcpyDeviceToHost, stream_));
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream_));
  format::prune(t, in.data(), M, K, ref.data());
  // Group by group (16-bit elements, fp16 or bf16: CusparseltPrunePeer refuses the others): the magnitude key is
  // the bits with the sign cleared (format.h), zero for +0 and -0.
  constexpr uint16_t kMagnitude = 0x7FFF;
  auto elem = [](const std::vector<uint8_t>& b, int64_t i) {
    uint16_t x;
    std::memcpy(&x, b.data() + 2 * i, sizeof x);
    return x;
  };
  int64_t tie_choices = 0, violations = 0, back_mismatches = 0;
  const DTypeInfo& ti = info(t);
  for (int64_t g = 0; g < M * K / ti.group; ++g) {
    uint16_t kept_got[4] = {}, kept_ref[4] = {};
    int n_got = 0, n_ref = 0;
    bool same = true, altered = false;
    for (int j = 0; j < ti.group; ++j) {
      const int64_t i = g * ti.group + j;
      const uint16_t x = elem(in, i), a = elem(got, i), b = elem(ref, i);
      same = same && a == b;
      if (a & kMagnitude) {
        altered = altered || a != x;   // a nonzero that is not the input's element
        kept_got[n_got++] = static_cast<uint16_t>(a & kMagnitude);
      }
      if (b & kMagnitude) kept_ref[n_ref++] = static_cast<uint16_t>(b & kMagnitude);
    }
    if (same) continue;
    std::sort(kept_got, kept_got + 4), std::sort(kept_ref, kept_ref + 4);
    const bool same_magnitudes = std::equal(kept_got, kept_got + 4, kept_ref);
    if (altered || n_got > ti.keep || !same_magnitudes) ++violations;
    else ++tie_choices;
  }
  for (int64_t i = 0; i < M * K; ++i) {
    const uint16_t a = elem(got, i), b = elem(got_back, i);
    back_mismatches += a != b && ((a | b) & kMagnitude) != 0;   // -0 and +0 are the same product
  }
  auto& k = r.counters;
  k["pruned_tie_choices"] = static_cast<double>(tie_choices);
  k["prune_rule_violations"] = static_cast<double>(violations);
  k["compressed_mismatches"] = static_cast<double>(back_mismatches);
  k["library_compressed_bytes"] = static_cast<double>(peer->compressed_bytes());
  if (!library_says_24 || violations || back_mismatches)
    return finish(r, Status::failed, fmt::format("cuSPARSELt prune + compress: prune check {}, {} groups that are "
                                                 "not the 1-D magnitude rule, {} elements of the compressed copy "
                                                 "(read back through an identity GEMM) that differ from the pruned "
                                                 "one", library_says_24 ? "passed" : "FAILED", violations,
                                                 back_mismatches));
  const double ms = measure(r, [&] { peer->run(); });
  if (ms > 0) {
    Row scratch = r;  // measure() writes its counters here
    scratch.kernel = r.kernel + ".prune";
    k["prune_us"] = measure(scratch, [&] { peer->prune(); }) * 1e3;
    scratch.kernel = r.kernel + ".compress";
    k["compress_us"] = measure(scratch, [&] { peer->compress(); }) * 1e3;
    const double values = static_cast<double>(dense_bytes) / 2;
    const double meta = static_cast<double>(format::meta_bytes(format::MetaLayout::Canonical, t, M, K));
    k["M"] = r.M, k["K"] = r.K;
    k["dense_bytes"] = static_cast<double>(dense_bytes);
    k["pruned_bytes"] = 0.0;   // not counted: the compulsory bytes, as format.s02_onepass's
    k["value_bytes"] = values;
    k["meta_bytes"] = meta;
    k["library_moved_bytes"] = 3.0 * static_cast<double>(dense_bytes) + static_cast<double>(peer->compressed_bytes());
    k["gbps"] = (static_cast<double>(dense_bytes) + values + meta) / (ms * 1e-3) / 1e9;
    if (ceilings_.copy_gbps > 0) k["pct_of_copy"] = 100.0 * k["gbps"] / ceilings_.copy_gbps;
  }
  finish(r, Status::passed);
}

// A prune_compress_both variant (the transposable one pass) on the M x K operand of the row's shape, as
// prune_compress_row: a random-normal W (never zeros; no NaN, which the CPU reference refuses), the four outputs
// poisoned, one run checked bit for bit against transposable::prune_compress_both on the CPU (W's values and
// metadata, Wᵀ's values and metadata) with the NaN counter at zero, then timed. Its rate: the compulsory bytes (W
// read once; W's and Wᵀ's values and metadata written once: 4.25 bytes per 16-bit element) per second.
void Runner::prune_compress_both_row(const Variant& v, Row& r) {
  namespace tr = format::transposable;
  if (!runs_here(v, sm_, r)) return;
  const DType t = v.types.a;
  const int64_t M = r.M, K = r.K;
  const size_t eb = bytes_of(t), dense_bytes = size_t(M) * size_t(K) * eb;
  DeviceBuffer dense(dense_bytes), values(dense_bytes / 2), meta(format::meta_bytes(v.meta_layout, t, M, K)),
      values_t(dense_bytes / 2), meta_t(format::meta_bytes(v.meta_layout, t, K, M)),
      nan_blocks(sizeof(unsigned long long));
  fill_random(t, Fill::Normal, o_.seed + 2, dense.get(), M * K, stream_);
  PruneCompressArgs a{M, K, dense.get(), nullptr, values.get(), meta.get()};
  a.values_t = values_t.get(), a.meta_t = meta_t.get(), a.nan_blocks = nan_blocks.as<unsigned long long>();
  std::unique_ptr<Plan> plan;
  try {
    plan = prepare(v, a);
  } catch (const ShapeError& e) {
    return finish(r, Status::refused, e.what());
  } catch (const ArchError& e) {
    return finish(r, Status::skipped, e.what());
  }

  for (const DeviceBuffer* b : {&values, &meta, &values_t, &meta_t})
    SPARSE24_CUDA_CHECK(cudaMemsetAsync(b->get(), 0xFF, b->bytes(), stream_));
  SPARSE24_CUDA_CHECK(cudaMemsetAsync(nan_blocks.get(), 0, nan_blocks.bytes(), stream_));
  plan->run(stream_);
  SPARSE24_CUDA_CHECK(cudaGetLastError());
  const std::vector<uint8_t> in = to_host(dense, stream_), got_values = to_host(values, stream_),
                             got_meta = to_host(meta, stream_), got_values_t = to_host(values_t, stream_),
                             got_meta_t = to_host(meta_t, stream_), got_nan = to_host(nan_blocks, stream_);
  unsigned long long nans = 0;
  std::memcpy(&nans, got_nan.data(), sizeof nans);
  std::vector<uint8_t> ref_values(values.bytes()), ref_meta(meta.bytes()), ref_values_t(values_t.bytes()),
      ref_meta_t(meta_t.bytes());
  static_assert(sizeof(uint16_t) == 2, "the transposable reference reads 16-bit elements");
  tr::prune_compress_both(t, v.meta_layout, reinterpret_cast<const uint16_t*>(in.data()), M, K,
                          reinterpret_cast<uint16_t*>(ref_values.data()), ref_meta.data(),
                          reinterpret_cast<uint16_t*>(ref_values_t.data()), ref_meta_t.data());
  const int64_t bad_values = mismatches(got_values, ref_values, eb), bad_meta = mismatches(got_meta, ref_meta, 1);
  const int64_t bad_values_t = mismatches(got_values_t, ref_values_t, eb);
  const int64_t bad_meta_t = mismatches(got_meta_t, ref_meta_t, 1);
  auto& k = r.counters;
  k["value_mismatches"] = static_cast<double>(bad_values);
  k["meta_mismatches"] = static_cast<double>(bad_meta);
  k["value_t_mismatches"] = static_cast<double>(bad_values_t);
  k["meta_t_mismatches"] = static_cast<double>(bad_meta_t);
  k["nan_blocks"] = static_cast<double>(nans);
  k["exact_mismatches"] = static_cast<double>(bad_values + bad_meta + bad_values_t + bad_meta_t);
  if (bad_values || bad_meta || bad_values_t || bad_meta_t || nans)
    return finish(r, Status::failed, fmt::format("differs from the CPU reference (transposable::prune_compress_both): "
                                                 "{} values, {} metadata bytes of W; {} values, {} metadata bytes of "
                                                 "Wᵀ; {} NaN blocks counted on a NaN-free input", bad_values, bad_meta,
                                                 bad_values_t, bad_meta_t, nans));

  const double ms = measure(r, [&] { plan->run(stream_); });
  if (ms > 0) {
    k["M"] = r.M, k["K"] = r.K;
    k["dense_bytes"] = static_cast<double>(dense_bytes);  // read
    k["pruned_bytes"] = 0.0;                              // no pruned copy
    k["value_bytes"] = static_cast<double>(values.bytes() + values_t.bytes());  // W's and Wᵀ's, written
    k["meta_bytes"] = static_cast<double>(meta.bytes() + meta_t.bytes());
    k["gbps"] = (dense_bytes + values.bytes() + meta.bytes() + values_t.bytes() + meta_t.bytes()) / (ms * 1e-3) / 1e9;
    if (ceilings_.copy_gbps > 0) k["pct_of_copy"] = 100.0 * k["gbps"] / ceilings_.copy_gbps;
    same_size_copy(r, dense_bytes + values.bytes() + meta.bytes() + values_t.bytes() + meta_t.bytes());
  }
  finish(r, Status::passed);
}

// ---- linear_train (see TrainGroup) -------------------------------------------------------------------------------
bool Runner::ensure_train_problems(TrainGroup& tg, DType t, const Shape& s) {
  if (!tg.built) {
    tg.built = true;
    try {
      const Operands ops = default_operands(t);
      // The same seed for both GEMMs' A (the same W), the GEMM rows' seeds otherwise.
      tg.fwd_exact = Problem::make(ops, s.M, s.N, s.K, Fill::SmallInt, o_.seed, stream_, Pattern::Transposable);
      tg.fwd_normal = Problem::make(ops, s.M, s.N, s.K, Fill::Normal, o_.seed + 1, stream_, Pattern::Transposable);
      tg.dgrad_exact = Problem::make(ops, s.K, s.N, s.M, Fill::SmallInt, o_.seed, stream_,
                                     Pattern::TransposableTransposed);
      tg.dgrad_normal = Problem::make(ops, s.K, s.N, s.M, Fill::Normal, o_.seed + 1, stream_,
                                      Pattern::TransposableTransposed);
      tg.d_fwd = DeviceBuffer(size_t(s.M) * s.N * sizeof(float));
      tg.d_dgrad = DeviceBuffer(size_t(s.K) * s.N * sizeof(float));
    } catch (const std::exception& e) {
      tg.setup_error = e.what();
    }
  }
  return tg.setup_error.empty();
}

namespace {

// The counters of a timed linear_train row: both GEMMs' dense-equivalent work (2MNK each) over the pair's time, and
// their compulsory traffic (each operand once per GEMM: W's values and metadata twice, x, dy, y, dx).
void train_rates(Row& r, bool sparse, double ms, DType d_type) {
  Row dgrad = r;  // the dgrad GEMM's shape: K x N x M
  dgrad.M = r.K, dgrad.K = r.M;
  const double bytes =
      gemm_traffic(r.dtype, d_type, r, sparse).total() + gemm_traffic(r.dtype, d_type, dgrad, sparse).total();
  auto& k = r.counters;
  k["M"] = r.M, k["N"] = r.N, k["K"] = r.K;
  k["tflops"] = 2.0 * 2.0 * r.M * r.N * r.K / (ms * 1e-3) / 1e12;
  k["gbps"] = bytes / (ms * 1e-3) / 1e9;
}

// Why a linear_train row cannot run this (dtype, shape) at all ("" when it can): the transposable mask's rules
// (transposable.h: fp16 and bf16, whole 4x4 blocks). The GEMMs' own rules come after, from the picks and peers.
std::string train_refusal(const Row& r) {
  if (r.dtype != DType::fp16 && r.dtype != DType::bf16)
    return std::string("transposable masks are implemented for fp16 and bf16, not ") + name(r.dtype);
  if (r.M % format::transposable::kBlock != 0 || r.K % format::transposable::kBlock != 0)
    return fmt::format("M = {} and K = {} must be multiples of 4 (the transposable mask's 4x4 blocks)", r.M, r.K);
  return "";
}

}  // namespace

// cuBLAS (through cuBLASLt) or cuSPARSELt on both GEMMs, each at its strongest (search_fastest: every candidate
// checked against the problem's reference, then timed L2-flushed), then the pair timed as one launch: the forward
// then the dgrad, the L2 flushed before the pair. forward_us and dgrad_us: each GEMM timed alone the same way.
void Runner::train_peer_row(TrainGroup& tg, Row& r) {
  if (const std::string why = train_refusal(r); !why.empty()) return finish(r, Status::refused, why);
  const Shape s{r.M, r.N, r.K};
  if (!ensure_train_problems(tg, r.dtype, s)) return finish(r, Status::error, "set-up failed: " + tg.setup_error);
  auto make = [&](const Problem& p, void* d) -> std::unique_ptr<Peer> {
    if (r.peer == PeerLibrary::cublas)
      return std::make_unique<CublasLtPeer>(r.dtype, p.M, p.N, p.K, p.a_pruned.get(), p.b.get(), d, stream_,
                                            o_.peer_candidates);
    return std::make_unique<CusparseltPeer>(r.dtype, p.M, p.N, p.K, p.a_pruned.get(), p.b.get(), d, stream_);
  };
  std::unique_ptr<Peer> fwd, dgrad;
  SearchResult sf, sd;
  try {
    fwd = make(*tg.fwd_normal, tg.d_fwd.get());
    sf = search_fastest(*fwd, *tg.fwd_normal, tg.d_fwd.get(), *flusher_, *timer_, stream_, o_.search_reps);
    dgrad = make(*tg.dgrad_normal, tg.d_dgrad.get());
    sd = search_fastest(*dgrad, *tg.dgrad_normal, tg.d_dgrad.get(), *flusher_, *timer_, stream_, o_.search_reps);
  } catch (const PeerRefused& e) {
    return finish(r, Status::refused, e.what());
  }
  if (sf.chosen < 0)
    return finish(r, sf.failed_check > 0 ? Status::failed : Status::error, "forward: " + sf.message);
  if (sd.chosen < 0)
    return finish(r, sd.failed_check > 0 ? Status::failed : Status::error, "dgrad: " + sd.message);
  auto& k = r.counters;
  k["forward_rel_err"] = sf.check.rel_err, k["dgrad_rel_err"] = sd.check.rel_err;
  k["peer_padded"] = fwd->padded() || dgrad->padded() ? 1 : 0;
  r.notes["forward_config"] = fwd->describe();
  r.notes["dgrad_config"] = dgrad->describe();
  const double ms = measure(r, [&] { fwd->run(), dgrad->run(); }, 4.0 * r.M * r.N * r.K);
  if (ms > 0) {
    Row scratch = r;
    scratch.kernel = r.kernel + ".forward";
    k["forward_us"] = measure(scratch, [&] { fwd->run(); }) * 1e3;
    scratch.kernel = r.kernel + ".dgrad";
    k["dgrad_us"] = measure(scratch, [&] { dgrad->run(); }) * 1e3;
    train_rates(r, r.peer == PeerLibrary::cusparselt, ms, default_operands(r.dtype).d);
  }
  finish(r, Status::passed);
}

// Ours: each GEMM through the dispatcher's pick for its own shape (forward M x N x K, dgrad K x N x M), prepared on
// the random-normal problem and checked on both fills (exact bit for bit, normal within the bound) before anything
// is timed; then the pair timed as the peers' is.
void Runner::train_auto_row(TrainGroup& tg, Row& r) {
  if (const std::string why = train_refusal(r); !why.empty()) return finish(r, Status::refused, why);
  const Gpu gpu = gpu_of(device_);
  const Variant* vf = pick(r.dtype, r.M, r.N, r.K, gpu);
  const Variant* vd = pick(r.dtype, r.K, r.N, r.M, gpu);
  if (!vf || !vd)
    return finish(r, Status::refused, fmt::format("no registered variant accepts the {}", vf ? "dgrad" : "forward"));
  r.notes["forward_variant"] = vf->name;
  r.notes["dgrad_variant"] = vd->name;
  const Shape s{r.M, r.N, r.K};
  if (!ensure_train_problems(tg, r.dtype, s)) return finish(r, Status::error, "set-up failed: " + tg.setup_error);
  struct Gemm {
    const char* what;
    const Variant* v;
    const Problem* exact;
    const Problem* normal;
    void* d;
    std::unique_ptr<Plan> plan;
  };
  Gemm gemms[] = {{"forward", vf, tg.fwd_exact.get(), tg.fwd_normal.get(), tg.d_fwd.get(), nullptr},
                  {"dgrad", vd, tg.dgrad_exact.get(), tg.dgrad_normal.get(), tg.d_dgrad.get(), nullptr}};
  auto& k = r.counters;
  for (Gemm& g : gemms) {
    try {
      g.plan = prepare(*g.v, args_for(*g.v, *g.normal, g.d));
    } catch (const ShapeError& e) {
      return finish(r, Status::refused, std::string(g.what) + ": " + e.what());
    } catch (const ArchError& e) {
      return finish(r, Status::skipped, std::string(g.what) + ": " + e.what());
    }
    const CheckResult exact = check_variant(*g.v, *g.exact, g.d, stream_);
    const CheckResult normal = check_plan(*g.plan, *g.normal, stream_);
    k[std::string(g.what) + "_exact_mismatches"] = static_cast<double>(exact.mismatches);
    k[std::string(g.what) + "_rel_err"] = normal.rel_err;
    k[std::string(g.what) + "_max_err_over_bound"] = normal.max_err_over_bound;
    k[std::string(g.what) + "_repeat_mismatches"] = static_cast<double>(normal.repeat_mismatches);
    if (!exact.passed)
      return finish(r, Status::failed, std::string(g.what) + " (" + g.v->name + "): exact small-integer check: " +
                                           exact.message);
    if (!normal.passed)
      return finish(r, Status::failed, std::string(g.what) + " (" + g.v->name + "): random-normal check: " +
                                           normal.message);
  }
  const double ms = measure(r, [&] { gemms[0].plan->run(stream_), gemms[1].plan->run(stream_); },
                            4.0 * r.M * r.N * r.K);
  if (ms > 0) {
    Row scratch = r;
    scratch.kernel = r.kernel + ".forward";
    k["forward_us"] = measure(scratch, [&] { gemms[0].plan->run(stream_); }) * 1e3;
    scratch.kernel = r.kernel + ".dgrad";
    k["dgrad_us"] = measure(scratch, [&] { gemms[1].plan->run(stream_); }) * 1e3;
    train_rates(r, true, ms, vf->types.d);
  }
  finish(r, Status::passed);
}

int failed_checks(const std::vector<Row>& rows) {
  // Distinct (variant, dtype, shape): the dispatcher's row shares its variant's check, and is not a second failure.
  std::set<std::tuple<const Variant*, DType, int, int, int>> failed;
  for (const Row& r : rows)
    if (r.status == Status::failed && r.kind != "peer") failed.insert({r.variant, r.dtype, r.M, r.N, r.K});
  return static_cast<int>(failed.size());
}

}  // namespace sparse24::harness
