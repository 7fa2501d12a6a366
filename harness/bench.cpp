#include "harness/bench.h"

#include <benchmark/benchmark.h>
#include <fmt/core.h>
#include <nvtx3/nvToolsExt.h>

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "harness/check.h"
#include "harness/context.h"
#include "harness/peer.h"
#include "harness/peer_cublaslt.h"
#include "harness/peer_cusparselt.h"
#include "harness/problem.h"
#include "harness/reference_cublas.h"
#include "harness/report.h"
#include "harness/timing.h"
#include "kernels/common/cuda_check.h"
#include "kernels/dispatch.h"
#include "kernels/registry.h"

namespace sparse24::harness {

std::string Shape::str() const { return fmt::format("{}x{}x{}", M, N, K); }

std::vector<Shape> parse_shapes(const std::string& s) {
  std::vector<Shape> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    Shape sh{};
    char x1 = 0, x2 = 0;
    std::istringstream is(item);
    std::string rest;
    if (!(is >> sh.M >> x1 >> sh.N >> x2 >> sh.K) || x1 != 'x' || x2 != 'x' || (is >> rest) || sh.M <= 0 ||
        sh.N <= 0 || sh.K <= 0)
      throw std::invalid_argument("bad shape '" + item + "': expected MxNxK with positive integers");
    out.push_back(sh);
  }
  if (out.empty()) throw std::invalid_argument("no shape given");
  return out;
}

std::vector<DType> parse_dtypes(const std::string& s) {
  std::vector<DType> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    DType t;
    if (!parse_dtype(item, &t)) throw std::invalid_argument("unknown dtype '" + item + "' (known: fp16, bf16)");
    out.push_back(t);
  }
  if (out.empty()) throw std::invalid_argument("no dtype given");
  return out;
}

std::vector<Shape> default_shapes() {
  return {{2048, 2048, 2048},  {4096, 4096, 4096}, {8192, 8192, 8192},  {28672, 16, 8192},
          {28672, 2048, 8192}, {8192, 16, 28672},  {8192, 2048, 28672}};
}

namespace {

// A library peer of one (dtype, shape): built and searched (search_fastest, peer.h) on the first call of its row.
struct PeerState {
  bool tried = false;
  std::unique_ptr<Peer> peer;  // null: refused, failed or errored (error says which)
  std::string error;           // the row's message: "refused: ...", "FAILED check: ...", "error: ..."
  SearchResult search;
};

// Everything one (dtype, shape) needs, built once and shared by its peers and variants. Benchmarks are
// registered grouped by (dtype, shape), so one entry is alive at a time.
struct Entry {
  DType dtype;
  Shape shape;
  std::string setup_error;                  // why the problem could not be built (then every row reports it)
  std::unique_ptr<Problem> exact, normal;   // small-integer and random-normal data
  DeviceBuffer d;                           // the output every variant and peer writes
  double cublas_ms = 0;                     // median, set by the cuBLAS row
  double cusparselt_ms = 0;                 // median, set by the cuSPARSELt row (0: absent or failed)
  PeerState cublas, cslt;                   // the peers, searched once per (dtype, shape)
  std::map<std::string, std::pair<CheckResult, CheckResult>> verdicts;  // variant -> (exact, normal)
  std::map<std::string, std::unique_ptr<Plan>> plans;   // variant -> its plan on the normal problem (timed)
};

struct Session {
  int device = 0;
  cudaStream_t stream = nullptr;
  std::unique_ptr<L2Flusher> flusher;
  std::unique_ptr<EventTimer> timer;
  std::unique_ptr<Entry> entry;
  uint64_t seed = 0;
  int failed = 0;
  std::vector<Row> rows;  // one per (kernel, dtype, shape), in the order run
  size_t current = 0;     // the row being filled

  // The row of (kernel, dtype, shape), reset: Google Benchmark calls a benchmark several times (growing iteration
  // counts until the minimum time), and the last call's figures are the row's.
  Row& begin_row(const std::string& kernel, const std::string& kind, const Variant* v, DType t, const Shape& s) {
    size_t i = 0;
    while (i < rows.size() && !(rows[i].kernel == kernel && rows[i].dtype == t && rows[i].M == s.M &&
                                rows[i].N == s.N && rows[i].K == s.K))
      ++i;
    if (i == rows.size()) rows.emplace_back();
    Row& r = rows[i];
    r = Row{};
    r.kernel = kernel, r.kind = kind, r.variant = v, r.dtype = t, r.M = s.M, r.N = s.N, r.K = s.K;
    current = i;
    return r;
  }
  Row& row() { return rows.at(current); }
  int peer_candidates = CublasLtPeer::kDefaultCandidates;
  int search_reps = 5;
  Ceilings ceilings;

  Entry& get(DType t, const Shape& s) {
    if (entry && entry->dtype == t && entry->shape.M == s.M && entry->shape.N == s.N && entry->shape.K == s.K)
      return *entry;
    entry.reset();  // free the previous problem's buffers first: the largest shapes take a few GB
    if (!stream) {
      SPARSE24_CUDA_CHECK(cudaSetDevice(device));
      SPARSE24_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
      flusher = std::make_unique<L2Flusher>(device);
      timer = std::make_unique<EventTimer>();
    }
    entry = std::make_unique<Entry>();
    entry->dtype = t;
    entry->shape = s;
    try {
      entry->exact = Problem::make(t, s.M, s.N, s.K, Fill::SmallInt, seed, stream);
      entry->normal = Problem::make(t, s.M, s.N, s.K, Fill::Normal, seed + 1, stream);
      entry->d = DeviceBuffer(entry->normal->d_bytes());
    } catch (const std::exception& e) {
      entry->setup_error = e.what();
    }
    return *entry;
  }
};

Session& session() {
  static Session s;
  return s;
}

// Ends the benchmark without timing it, with the status and reason in the row and in Google Benchmark's output.
void stop(benchmark::State& state, Status status, const std::string& reason) {
  Row& r = session().row();
  r.status = status;
  r.reason = reason;
  state.SkipWithError((std::string(name(status)) + ": " + reason).c_str());
}

// A peer that has no row: its error text starts with the verdict ("refused: N=1 not supported by cuSPARSELt",
// "FAILED check: ...", "error: ..."), which becomes the row's status.
void stop_peer(benchmark::State& state, const std::string& error) {
  auto starts = [&](const char* p) { return error.rfind(p, 0) == 0; };
  if (starts("refused: ")) return stop(state, Status::refused, error.substr(9));
  if (starts("FAILED check: ")) return stop(state, Status::failed, error.substr(14));
  if (starts("skipped: ")) return stop(state, Status::skipped, error.substr(9));
  return stop(state, Status::error, starts("error: ") ? error.substr(7) : error);
}

// Times `launch` with the L2 flushed before each run; returns the median in ms and feeds Google Benchmark the
// per-iteration times (its own mean goes into real_time; our counters use the median). The SM clock is read after
// every launch (outside the events), so each row says at which clocks it ran: a kernel that draws more power can
// run at lower clocks than its neighbour, and the ratios include that.
double timed_loop(benchmark::State& state, const std::function<void()>& launch) {
  Session& S = session();
  launch();  // warm-up: module load, first-touch, clocks up
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(S.stream));
  std::vector<double> times;
  int clock_min = 1 << 30, clock_max = -1;
  for (auto _ : state) {
    S.flusher->flush(S.stream);
    const double ms = S.timer->time_ms(launch, S.stream);
    state.SetIterationTime(ms * 1e-3);
    times.push_back(ms);
    const int mhz = sm_clock_mhz(S.device);
    clock_min = std::min(clock_min, mhz), clock_max = std::max(clock_max, mhz);
  }
  if (clock_max >= 0) {
    state.counters["sm_clock_min_mhz"] = clock_min;
    state.counters["sm_clock_max_mhz"] = clock_max;
  }
  return median(times);
}

struct Traffic {
  double values, meta, b, d;
  double total() const { return values + meta + b + d; }
};

Traffic traffic(DType t, const Shape& s, bool sparse) {
  const double eb = info(t).bits / 8.0, M = s.M, N = s.N, K = s.K;
  return {sparse ? M * K / 2 * eb : M * K * eb, sparse ? M * K / 8 : 0.0, N * K * eb, M * N * eb};
}

void set_rate_counters(benchmark::State& state, const Entry& e, bool sparse, double ms) {
  const Traffic tr = traffic(e.dtype, e.shape, sparse);
  const double s = ms * 1e-3;
  state.counters["M"] = e.shape.M;
  state.counters["N"] = e.shape.N;
  state.counters["K"] = e.shape.K;
  state.counters["median_us"] = ms * 1e3;
  state.counters["tflops"] = 2.0 * e.shape.M * e.shape.N * e.shape.K / s / 1e12;
  state.counters["gbps"] = tr.total() / s / 1e9;
  state.counters["value_bytes"] = tr.values;
  state.counters["meta_bytes"] = tr.meta;
  state.counters["b_bytes"] = tr.b;
  state.counters["d_bytes"] = tr.d;
  state.counters["meta_share"] = tr.meta / tr.total();
  if (e.cublas_ms > 0) state.counters["speedup_vs_cublas"] = e.cublas_ms / ms;
  if (e.cusparselt_ms > 0) state.counters["speedup_vs_cusparselt"] = e.cusparselt_ms / ms;
  // Measured ceilings (ceilings.h): sparse rows against the mma.sp loop, dense rows against mma.sync, every row's
  // compulsory traffic against the copy rate. Percent.
  const Ceilings& c = session().ceilings;
  const double ceiling = c.tflops(e.dtype, sparse);
  if (ceiling > 0) state.counters["pct_of_ceiling"] = 100.0 * state.counters["tflops"].value / ceiling;
  if (c.copy_gbps > 0) state.counters["pct_of_copy"] = 100.0 * state.counters["gbps"].value / c.copy_gbps;
}

// Builds and searches a peer once per (dtype, shape): every candidate checked against the reference on the
// random-normal problem, then timed like the rows (L2 flushed, median); the fastest that passes is kept.
void prepare_peer(PeerState& ps, const std::function<std::unique_ptr<Peer>()>& make, const Entry& e) {
  if (ps.tried) return;
  ps.tried = true;
  Session& S = session();
  try {
    ps.peer = make();
    ps.search = search_fastest(*ps.peer, *e.normal, e.d.get(), *S.flusher, *S.timer, S.stream, S.search_reps);
    if (ps.search.chosen < 0) {
      ps.error = (ps.search.failed_check > 0 ? "FAILED check: " : "error: ") + ps.search.message;
      ps.peer.reset();
      return;
    }
    fmt::print(stderr, "sparse24_bench: {} {}: {} ({} candidates, {} refused, {} failed the check; {:.1f} us)\n",
               name(e.dtype), e.shape.str(), ps.peer->describe(), ps.search.candidates, ps.search.refused,
               ps.search.failed_check, ps.search.chosen_ms * 1e3);
  } catch (const PeerRefused& ex) {
    ps.error = std::string("refused: ") + ex.what();
    ps.peer.reset();
  } catch (const std::exception& ex) {
    ps.error = std::string("error: ") + ex.what();
    ps.peer.reset();
  }
}

// A peer's row: the chosen candidate timed like every row, with its configuration, its search and its check.
double run_peer(benchmark::State& state, PeerState& ps, const Entry& e, bool sparse) {
  const double ms = timed_loop(state, [&] { ps.peer->run(); });
  set_rate_counters(state, e, sparse, ms);
  for (const auto& [k, v] : ps.peer->fields()) state.counters[k] = v;
  state.counters["peer_padded"] = ps.peer->padded() ? 1 : 0;
  state.counters["peer_candidates"] = ps.search.candidates;
  state.counters["peer_candidates_refused"] = ps.search.refused;
  state.counters["peer_candidates_failed"] = ps.search.failed_check;
  state.counters["search_us"] = ps.search.chosen_ms * 1e3;
  if (ps.search.first_ms > 0) state.counters["first_candidate_us"] = ps.search.first_ms * 1e3;
  state.counters["rel_err"] = ps.search.check.rel_err;
  state.counters["rel_err_bound"] = ps.search.check.bound;
  state.counters["over_tolerance"] = static_cast<double>(ps.search.check.over_tolerance);
  state.counters["max_err_over_bound"] = ps.search.check.max_err_over_bound;
  return ms;
}

void run_cublas(benchmark::State& state, DType t, Shape s) {
  state.SetLabel(std::string("cublas.dense.") + name(t));  // the JSON's "label" is the kernel's name
  Entry& e = session().get(t, s);
  if (!e.setup_error.empty()) return stop(state, Status::error, "set-up failed: " + e.setup_error);
  Session& S = session();
  // cuBLASLt (peer_cublaslt.h): the fastest of its heuristic's candidates, padded leading dimensions where the
  // shape's are not 16-byte multiples.
  prepare_peer(e.cublas, [&]() -> std::unique_ptr<Peer> {
    const Problem& p = *e.normal;
    return std::make_unique<CublasLtPeer>(t, p.M, p.N, p.K, p.a_pruned.get(), p.b.get(), e.d.get(), S.stream,
                                          S.peer_candidates);
  }, e);
  if (!e.cublas.peer) return stop_peer(state, e.cublas.error);
  e.cublas_ms = run_peer(state, e.cublas, e, false);
}

void run_cusparselt(benchmark::State& state, DType t, Shape s) {
  state.SetLabel(std::string("cusparselt.") + name(t));
  Entry& e = session().get(t, s);
  Session& S = session();
  if (!e.setup_error.empty()) return stop(state, Status::error, "set-up failed: " + e.setup_error);
  // Plan, compression and the candidate search: once per problem, outside timing; every candidate's answer is
  // checked like ours, so a peer that computes something else cannot post a number.
  prepare_peer(e.cslt, [&]() -> std::unique_ptr<Peer> {
    const Problem& p = *e.normal;
    return std::make_unique<CusparseltPeer>(t, p.M, p.N, p.K, p.a_pruned.get(), p.b.get(), e.d.get(), S.stream);
  }, e);
  // The message starts with the verdict: "refused: N=1 not supported by cuSPARSELt (...)".
  if (!e.cslt.peer) return stop_peer(state, e.cslt.error);
  e.cusparselt_ms = run_peer(state, e.cslt, e, true);
}

void run_variant(benchmark::State& state, const Variant* v, DType t, Shape s, bool label = true) {
  if (label) state.SetLabel(v->name);
  Session& S = session();
  const std::string arch = arch_error(*v, compute_capability(S.device));
  if (!arch.empty()) return stop(state, Status::skipped, arch);
  const std::string rule = shape_error(*v, s.M, s.N, s.K);
  if (!rule.empty()) return stop(state, Status::refused, rule);
  Entry& e = S.get(t, s);
  if (!e.setup_error.empty()) return stop(state, Status::error, "set-up failed: " + e.setup_error);

  // Prepare once per (variant, shape), outside timing: what prepare refuses (strides, grid limits) is a refusal,
  // a GPU without code for the variant a skip.
  auto pit = e.plans.find(v->name);
  if (pit == e.plans.end()) {
    try {
      pit = e.plans.emplace(v->name, prepare(*v, args_for(*v, *e.normal, e.d.get()))).first;
    } catch (const ShapeError& ex) {
      return stop(state, Status::refused, ex.what());
    } catch (const ArchError& ex) {
      return stop(state, Status::skipped, ex.what());
    }
  }
  const Plan& plan = *pit->second;

  // Correct first: both checks, once per (variant, shape), before any timing.
  auto it = e.verdicts.find(v->name);
  if (it == e.verdicts.end()) {
    CheckResult exact = check_variant(*v, *e.exact, e.d.get(), S.stream);
    CheckResult normal = check_plan(plan, *e.normal, S.stream);
    if (!exact.passed || !normal.passed) ++S.failed;
    it = e.verdicts.emplace(v->name, std::make_pair(exact, normal)).first;
  }
  const CheckResult& exact = it->second.first;
  const CheckResult& normal = it->second.second;
  state.counters["exact_mismatches"] = static_cast<double>(exact.mismatches);
  state.counters["rel_err"] = normal.rel_err;
  state.counters["rel_err_bound"] = normal.bound;
  state.counters["over_tolerance"] = static_cast<double>(normal.over_tolerance);
  state.counters["max_err_over_bound"] = normal.max_err_over_bound;
  if (!exact.passed) return stop(state, Status::failed, "exact small-integer check: " + exact.message);
  if (!normal.passed) return stop(state, Status::failed, "random-normal check: " + normal.message);

  const double ms = timed_loop(state, [&] { plan.run(S.stream); });
  set_rate_counters(state, e, v->sparse, ms);
}

// The dispatcher's choice for the shape (kernels/dispatch.h), checked and timed like any variant: what a user who
// calls one function gets. The row names the variant it picked (notes.picked, and its fields).
void run_auto(benchmark::State& state, DType t, Shape s) {
  state.SetLabel(std::string("auto.") + name(t));
  Session& S = session();
  const Variant* v = pick(t, s.M, s.N, s.K, compute_capability(S.device));
  if (!v) return stop(state, Status::refused, "no registered variant accepts this shape");
  Row& r = S.row();
  r.variant = v;
  r.notes["picked"] = v->name;
  run_variant(state, v, t, s, false);
}

// Runs one benchmark function and keeps its row: status and reason (set by stop()), and every counter.
template <class Fn>
void record(benchmark::State& state, const std::string& kernel, const std::string& kind, const Variant* v, DType t,
            const Shape& s, Fn fn) {
  session().begin_row(kernel, kind, v, t, s);
  fn(state, t, s);
  Row& r = session().row();
  for (const auto& [k, c] : state.counters) r.counters[k] = c.value;
}

}  // namespace

void set_ceilings(const Ceilings& c) { session().ceilings = c; }

int register_benchmarks(const Options& o) {
  session().seed = o.seed;
  session().peer_candidates = o.peer_candidates;
  session().search_reps = o.search_reps;
  const std::regex re(o.kernels);
  int n = 0;
  for (DType t : o.dtypes) {
    for (const Shape& s : o.shapes) {
      const std::string suffix = "/" + s.str();
      benchmark::RegisterBenchmark((std::string("cublas.dense.") + name(t) + suffix).c_str(),
                                   [t, s](benchmark::State& st) {
                                     record(st, std::string("cublas.dense.") + name(t), "peer", nullptr, t, s,
                                            run_cublas);
                                   })
          ->UseManualTime()
          ->MinTime(o.min_time)
          ->Unit(benchmark::kMicrosecond);
      if (o.cusparselt && CusparseltPeer::available())
        benchmark::RegisterBenchmark((std::string("cusparselt.") + name(t) + suffix).c_str(),
                                     [t, s](benchmark::State& st) {
                                       record(st, std::string("cusparselt.") + name(t), "peer", nullptr, t,
                                              s, run_cusparselt);
                                     })
            ->UseManualTime()
            ->MinTime(o.min_time)
            ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark((std::string("auto.") + name(t) + suffix).c_str(),
                                   [t, s](benchmark::State& st) {
                                     record(st, std::string("auto.") + name(t), "auto", nullptr, t, s, run_auto);
                                   })
          ->UseManualTime()
          ->MinTime(o.min_time)
          ->Unit(benchmark::kMicrosecond);
      for (const Variant& v : registry()) {
        if (v.types.a != t || !std::regex_search(v.name, re)) continue;
        const Variant* vp = &v;
        benchmark::RegisterBenchmark((v.name + suffix).c_str(), [vp, t, s](benchmark::State& st) {
          record(st, vp->name, "variant", vp, t, s, [vp](benchmark::State& st2, DType t2, Shape s2) {
            run_variant(st2, vp, t2, s2);
          });
        })
            ->UseManualTime()
            ->MinTime(o.min_time)
            ->Unit(benchmark::kMicrosecond);
        ++n;
      }
    }
  }
  return n;
}

int failed_checks() { return session().failed; }

const std::vector<Row>& rows() { return session().rows; }

int profile(const Options& o) {
  Session& S = session();
  S.seed = o.seed;
  S.peer_candidates = o.peer_candidates;
  S.search_reps = o.search_reps;
  const std::regex re(o.kernels);
  const int sm = compute_capability(S.device);
  int failures = 0;
  for (DType t : o.dtypes) {
    for (const Shape& s : o.shapes) {
      Entry& e = S.get(t, s);
      if (!e.setup_error.empty()) {
        fmt::print(stderr, "{} {}: set-up failed: {}\n", name(t), s.str(), e.setup_error);
        ++failures;
        continue;
      }
      const Problem& p = *e.normal;
      // The peers as the rows run them: each searched once outside any range (its search launches are not
      // profiled), then its chosen configuration launched once inside "<peer row>:<MxNxK>".
      auto profile_peer = [&](PeerState& ps, const std::string& row,
                              const std::function<std::unique_ptr<Peer>()>& make) {
        prepare_peer(ps, make, e);
        const std::string range = row + ":" + s.str();
        if (!ps.peer) {
          fmt::print("{}: not run: {}\n", range, ps.error);
          return;
        }
        nvtxRangePushA(range.c_str());
        ps.peer->run();
        SPARSE24_CUDA_CHECK(cudaGetLastError());
        SPARSE24_CUDA_CHECK(cudaStreamSynchronize(S.stream));
        nvtxRangePop();
        fmt::print("{}: profiled launch done\n", range);
      };
      profile_peer(e.cublas, std::string("cublas.dense.") + name(t), [&]() -> std::unique_ptr<Peer> {
        return std::make_unique<CublasLtPeer>(t, p.M, p.N, p.K, p.a_pruned.get(), p.b.get(), e.d.get(), S.stream,
                                              S.peer_candidates);
      });
      if (o.cusparselt && CusparseltPeer::available())
        profile_peer(e.cslt, std::string("cusparselt.") + name(t), [&]() -> std::unique_ptr<Peer> {
          return std::make_unique<CusparseltPeer>(t, p.M, p.N, p.K, p.a_pruned.get(), p.b.get(), e.d.get(),
                                                  S.stream);
        });
      for (const Variant& v : registry()) {
        if (v.types.a != t || !std::regex_search(v.name, re)) continue;
        const std::string range = v.name + ":" + s.str();
        std::string skip = arch_error(v, sm);
        if (skip.empty()) skip = shape_error(v, s.M, s.N, s.K);
        std::unique_ptr<Plan> plan;
        if (skip.empty()) {
          try {
            plan = prepare(v, args_for(v, p, e.d.get()));
          } catch (const std::exception& ex) {
            skip = ex.what();
          }
        }
        if (!skip.empty()) {
          fmt::print("{}: not run: {}\n", range, skip);
          continue;
        }
        const CheckResult exact = check_variant(v, *e.exact, e.d.get(), S.stream);
        const CheckResult normal = check_plan(*plan, p, S.stream);
        if (!exact.passed || !normal.passed) {
          fmt::print(stderr, "{}: FAILED {} check: {}\n", range, exact.passed ? "random-normal" : "exact small-integer",
                     exact.passed ? normal.message : exact.message);
          ++failures;
          continue;
        }
        nvtxRangePushA(range.c_str());
        plan->run(S.stream);
        SPARSE24_CUDA_CHECK(cudaGetLastError());
        SPARSE24_CUDA_CHECK(cudaStreamSynchronize(S.stream));
        nvtxRangePop();
        fmt::print("{}: profiled launch done\n", range);
      }
    }
  }
  return failures;
}

void print_registry(bool json) {
  if (json) {
    fmt::print("{}", registry_json());
    return;
  }
  fmt::print("{:<46} {:<7} {:>4} {:<5} {:<26} {:>7} {:<8} {:<13} {}\n", "variant", "family", "step", "types",
             "parameters", "threads", "arch", "metadata", "shape rule");
  for (const Variant& v : registry()) {
    std::string params;
    for (const auto& [k, val] : v.params) params += fmt::format("{}{}={}", params.empty() ? "" : " ", k, val);
    std::string rule = fmt::format("M%{} K%{} N%{} N>={}", v.rule.m_multiple, v.rule.k_multiple, v.rule.n_multiple,
                                   v.rule.n_min);
    if (v.rule.n_max) rule += fmt::format(" N<={}", v.rule.n_max);
    fmt::print("{:<46} {:<7} {:>4} {:<5} {:<26} {:>7} {:<8} {:<13} {}\n", v.name, v.family, v.step,
               name(v.types.a), params, v.threads, v.arch.str(), v.sparse ? format::name(v.meta_layout) : "-", rule);
  }
}

}  // namespace sparse24::harness
