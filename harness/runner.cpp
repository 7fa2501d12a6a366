#include "harness/runner.h"

#include <fmt/core.h>
#include <nvtx3/nvToolsExt.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
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

// A GEMM's compulsory traffic, each operand once: A's values (compressed for sparse rows), metadata, B, D.
struct GemmTraffic {
  double values, meta, b, d;
  double total() const { return values + meta + b + d; }
};

GemmTraffic gemm_traffic(DType t, const Row& r, bool sparse) {
  const double eb = bytes_of(t), M = r.M, N = r.N, K = r.K;
  return {sparse ? M * K / 2 * eb : M * K * eb, sparse ? M * K / 8 : 0.0, N * K * eb, M * N * eb};
}

// The rate counters of a timed GEMM row. Measured ceilings (ceilings.h): sparse rows against the mma.sp loop,
// dense rows against mma.sync, every row's compulsory traffic against the copy rate. Percent.
void gemm_rates(Row& r, bool sparse, double ms, const Ceilings& c) {
  const GemmTraffic tr = gemm_traffic(r.dtype, r, sparse);
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
  const double ceiling = c.tflops(r.dtype, sparse);
  if (ceiling > 0) k["pct_of_ceiling"] = 100.0 * k["tflops"] / ceiling;
  if (c.copy_gbps > 0) k["pct_of_copy"] = 100.0 * k["gbps"] / c.copy_gbps;
}

void check_counters(Row& r, const CheckResult& normal) {
  r.counters["rel_err"] = normal.rel_err;
  r.counters["rel_err_bound"] = normal.bound;
  r.counters["over_tolerance"] = static_cast<double>(normal.over_tolerance);
  r.counters["max_err_over_bound"] = normal.max_err_over_bound;
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
  DeviceBuffer d;                          // the output every variant and peer writes
  std::map<const Variant*, Prepared> variants;
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
  std::vector<Row> rows;
  for (DType t : o_.dtypes)
    for (const Shape& s : o_.shapes) run_group(t, s, rows);
  return rows;
}

void Runner::run_group(DType t, const Shape& s, std::vector<Row>& out) {
  Group g(t, s);
  std::vector<Row> rows;
  const bool profile = o_.mode == Mode::profile;
  auto run_row = [&](Row r, const std::function<void(Row&)>& body) {
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
  fmt::print(stderr, "sparse24_bench: {} {}\n", name(t), s.str());
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
  for (const Variant& v : registry())
    if (o_.runs(Operation::prune_compress) && selected(v, Operation::prune_compress))
      run_row(new_row(v.name, "variant", &v, t, s), [&](Row& r) { prune_compress_row(v, r); });

  // Every row of the (dtype, shape) is finished: only now the ratios, from these rows alone.
  compute_ratios(rows);
  for (const Row& r : rows) print_row(r, profile);
  for (Row& r : rows) out.push_back(std::move(r));
}

bool Runner::ensure_problems(Group& g) {
  if (!g.built) {
    g.built = true;
    try {
      g.exact = Problem::make(g.dtype, g.shape.M, g.shape.N, g.shape.K, Fill::SmallInt, o_.seed, stream_);
      g.normal = Problem::make(g.dtype, g.shape.M, g.shape.N, g.shape.K, Fill::Normal, o_.seed + 1, stream_);
      g.d = DeviceBuffer(g.normal->d_bytes());
    } catch (const std::exception& e) {
      g.setup_error = e.what();
    }
  }
  return g.setup_error.empty();
}

double Runner::measure(Row& r, const std::function<void()>& launch) {
  if (o_.mode == Mode::profile) {
    const std::string range = r.kernel + ":" + shape_str(r);  // ':' not '/': ncu reads '/' as range nesting
    nvtxRangePushA(range.c_str());
    launch();
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream_));
    nvtxRangePop();
    return 0;
  }
  launch();  // warm-up: module load, first touch, clocks up
  SPARSE24_CUDA_CHECK(cudaGetLastError());
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream_));
  // Each iteration: the L2 flushed (outside the events), the launch timed with CUDA events, then the SM clock
  // (outside the events): a kernel that draws more power can run at lower clocks than its neighbour, and the
  // ratios include that, so each row says at which clocks it ran.
  const LoopSamples s = gbench_loop(r.kernel + "/" + shape_str(r), o_.min_time, [&] {
    flusher_->flush(stream_);
    const double ms = timer_->time_ms(launch, stream_);
    return std::make_pair(ms, sm_clock_mhz(device_));
  });
  const double ms = median(s.ms);
  r.counters["median_us"] = ms * 1e3;
  r.counters["timed_launches"] = static_cast<double>(s.ms.size());
  if (s.clock_max_mhz >= 0) {
    r.counters["sm_clock_min_mhz"] = s.clock_min_mhz;
    r.counters["sm_clock_max_mhz"] = s.clock_max_mhz;
  }
  return ms;
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
  const double ms = measure(r, [&] { peer->run(); });
  if (ms > 0) gemm_rates(r, r.peer == PeerLibrary::cusparselt, ms, ceilings_);
  finish(r, Status::passed);
}

// The dispatcher's choice for the shape (kernels/dispatch.h), checked and timed like any variant: what a user who
// calls one function gets. The row names the variant it picked (notes.picked, and its fields).
void Runner::auto_row(Group& g, Row& r) {
  const Variant* v = pick(g.dtype, g.shape.M, g.shape.N, g.shape.K, sm_);
  if (!v) return finish(r, Status::refused, "no registered variant accepts this shape");
  r.variant = v;
  r.notes["picked"] = v->name;
  gemm_row(g, *v, r);
}

Runner::Prepared& Runner::prepared(Group& g, const Variant& v) {
  auto [it, fresh] = g.variants.try_emplace(&v);
  Prepared& p = it->second;
  if (!fresh) return p;
  // Prepare once per (variant, shape), outside timing: what prepare refuses (strides, grid limits) is a refusal,
  // a GPU without code for the variant a skip.
  try {
    p.plan = prepare(v, args_for(v, *g.normal, g.d.get()));
  } catch (const ShapeError& e) {
    p.status = Status::refused, p.reason = e.what();
    return p;
  } catch (const ArchError& e) {
    p.status = Status::skipped, p.reason = e.what();
    return p;
  }
  // Correct first: both checks, before any timing.
  p.exact = check_variant(v, *g.exact, g.d.get(), stream_);
  p.normal = check_plan(*p.plan, *g.normal, stream_);
  p.checked = true;
  if (!p.exact.passed) p.status = Status::failed, p.reason = "exact small-integer check: " + p.exact.message;
  else if (!p.normal.passed) p.status = Status::failed, p.reason = "random-normal check: " + p.normal.message;
  else p.status = Status::passed, p.reason.clear();
  return p;
}

void Runner::gemm_row(Group& g, const Variant& v, Row& r) {
  const std::string arch = arch_error(v, sm_);
  if (!arch.empty()) return finish(r, Status::skipped, arch);
  const std::string rule = shape_error(v, g.shape.M, g.shape.N, g.shape.K);
  if (!rule.empty()) return finish(r, Status::refused, rule);
  if (!ensure_problems(g)) return finish(r, Status::error, "set-up failed: " + g.setup_error);
  const Prepared& p = prepared(g, v);
  if (p.checked) {
    r.counters["exact_mismatches"] = static_cast<double>(p.exact.mismatches);
    check_counters(r, p.normal);
  }
  if (p.status != Status::passed) return finish(r, p.status, p.reason);
  const double ms = measure(r, [&] { p.plan->run(stream_); });
  if (ms > 0) gemm_rates(r, v.sparse, ms, ceilings_);
  finish(r, Status::passed);
}

// A prune_compress variant on the M x K operand of the row's shape: a random-normal dense matrix (never zeros), the
// outputs poisoned, one run checked bit for bit against kernels/format's CPU reference (prune, compress, reorder on
// the same input), then timed. Its rate: the compulsory bytes (the dense input read once; pruned, values and the
// layout's metadata written once) per second, and that rate as a share of the measured copy rate.
void Runner::prune_compress_row(const Variant& v, Row& r) {
  const std::string arch = arch_error(v, sm_);
  if (!arch.empty()) return finish(r, Status::skipped, arch);
  const std::string rule = shape_error(v, r.M, r.N, r.K);
  if (!rule.empty()) return finish(r, Status::refused, rule);
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
