#include "harness/bench.h"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "harness/report.h"

namespace sparse24::harness {

const char* const kUsage = R"(usage: sparse24_bench [options]
  --list               print every registered variant and exit (no GPU needed)
  --list-json          print every registered variant's fields as a JSON array and exit (no GPU needed)
  --shapes S           comma-separated MxNxK list (A is the sparse M x K operand); default: the sweep
                       2048^3, 4096^3, 8192^3, 28672x{16,2048}x8192, 8192x{16,2048}x28672
  --kernels REGEX      only variants whose name matches (at least one must; cuBLAS, cuSPARSELt and the
                       dispatcher's choice "auto.<dtype>", kernels/dispatch.h, always run with the GEMMs)
  --dtypes LIST        comma-separated: fp16,bf16 (default both)
  --operations LIST    comma-separated: gemm,prune_compress,prune_compress_both,linear_train (default gemm).
                       prune_compress rows run the 2:4 format's GPU path (prune, compress, reorder) on the M x K
                       operand of each shape, check it bit for bit against the CPU reference, and report GB/s
                       and pct_of_copy (beside cuSPARSELt's prune + compress, "cusparselt.prune_compress.<dtype>");
                       prune_compress_both rows do the same for the transposable one pass (W and W^T at once).
                       linear_train rows read MxNxK as a linear layer (M outputs, N tokens, K inputs) and time its
                       forward (M x N x K) plus data gradient (K x N x M) with W pruned once by the transposable
                       mask: "linear_train.auto.<dtype>" (each GEMM through the dispatcher's pick) beside
                       "linear_train.cublas.<dtype>" and "linear_train.cusparselt.<dtype>"; --kernels does not
                       select them
  --min-time SECONDS   timed launches per row, in seconds of kernel time (default 0.25; > 0)
  --passes N           time every passed GEMM row (peers, auto, variants) in N passes over its shape's rows
                       (default 1): pass 1 right after the row's checks, as always, then passes 2..N time each
                       row again, even passes in the reverse order, odd ones in the forward order; the row's
                       median_us is the median of its passes' medians (notes.pass_medians_us lists them), so a
                       drift of the GPU's state over the seconds a shape's rows take falls on every row alike
                       rather than on the ones timed last. The scaled rows' A B A cost, the energy loop and
                       the same-size copy are measured in pass 1 only
  --seed N             input seed, a non-negative integer (default 2024)
  --no-cusparselt      do not run the cuSPARSELt peer
  --peer-candidates N  cuBLASLt heuristic candidates searched per shape (default 8); every peer candidate
                       (cuBLASLt's and cuSPARSELt's) is checked, then timed L2-flushed, and the fastest kept
  --search-reps N      timed launches per peer candidate in that search (default 5, median)
  --no-ceilings        do not measure the instruction-loop and copy ceilings (no pct_of_ceiling/pct_of_copy)
  --ceilings-only      measure and print the ceilings, then exit
  --same-size-copy     GEMM rows also report pct_of_same_size_copy: their compulsory bytes' rate against a
                       device-to-device copy that moves as many bytes, timed like the row (once per byte count
                       per run): how much of a small problem's gap to the copy rate its size alone explains
  --energy-time S      seconds of back-to-back launches per timed GEMM row whose energy NVML's total energy
                       counter measures (power samples where the counter is absent): joules_per_gemm,
                       tflops_per_watt, energy_watts, energy_loop_ms (default 0.2; > 0); null without NVML
  --no-energy          no energy loop (the energy columns are left out)
  --resume FILE        append each (dtype, shape)'s finished rows to FILE as JSON lines when the shape is done,
                       and skip the rows FILE already holds (same kernel, dtype and shape; rows that ended in
                       error run again); the peers' rows read from FILE give the ratios of the new rows
  --json FILE          write the report to FILE: {"context": {...}, "rows": [...]}, one row per (kernel, dtype,
                       shape) with status (passed, failed, refused, skipped, error), reason, the variant's fields
                       and the counters; the ratios (speedup_vs_cublas, speedup_vs_cusparselt) are computed from
                       the finished rows of each (dtype, shape)
  --profile            check every selected row as a timed run does, then launch it once in an NVTX range
                       "<kernel>:<MxNxK>" instead of timing it: the variants, the dispatcher's choice
                       "auto.<dtype>:<MxNxK>", and the peers' chosen configurations ("cublas.dense.<dtype>:<MxNxK>",
                       cuBLAS's GEMM through cuBLASLt, and "cusparselt.<dtype>:<MxNxK>"), for ncu --nvtx
                       --nvtx-include "<range>/" --clock-control none; scripts/profile.sh does this with chosen
                       metrics. Takes no --min-time, --passes, --json, --no-ceilings, --energy-time,
                       --no-energy, --same-size-copy or --resume (it times nothing)
  --help, -h           this text
Every row is timed by Google Benchmark's loop (manual time: CUDA events around each launch, the L2 flushed before
it; the row's time is the median); its own command-line flags are not taken.
Options are checked before anything runs: a bad value, an unknown or repeated option, or options that conflict
(two modes; --profile with a timing or report option; --energy-time with --no-energy; --list, --list-json or --ceilings-only with any
other option) print the reason and exit 1.
exit codes: 0 all checks passed, 1 a check failed, bad usage or the report could not be written, 2 no GPU)";

std::string Shape::str() const { return fmt::format("{}x{}x{}", M, N, K); }

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  if (s.empty() || s.back() == ',') out.push_back("");  // "a," and "" hold an empty item: refused by the caller
  return out;
}

template <class T>
void refuse_repeats(const std::vector<T>& v, const std::vector<std::string>& items, const char* what) {
  for (size_t i = 0; i < v.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (v[i] == v[j]) throw UsageError(std::string(what) + " '" + items[i] + "' given twice");
}

}  // namespace

std::vector<Shape> parse_shapes(const std::string& s) {
  std::vector<Shape> out;
  const auto items = split_list(s);
  for (const std::string& item : items) {
    Shape sh{};
    char x1 = 0, x2 = 0;
    std::istringstream is(item);
    std::string rest;
    if (!(is >> sh.M >> x1 >> sh.N >> x2 >> sh.K) || x1 != 'x' || x2 != 'x' || (is >> rest) || sh.M <= 0 ||
        sh.N <= 0 || sh.K <= 0)
      throw UsageError("bad shape '" + item + "': expected MxNxK with positive integers");
    out.push_back(sh);
  }
  refuse_repeats(out, items, "shape");
  return out;
}

std::vector<DType> parse_dtypes(const std::string& s) {
  // Known: the A types of the registered variants (a type with no variant has nothing to run).
  std::vector<DType> known;
  std::string known_names;
  for (const Variant& v : registry())
    if (std::find(known.begin(), known.end(), v.types.a) == known.end()) {
      known.push_back(v.types.a);
      known_names += (known_names.empty() ? "" : ", ") + std::string(name(v.types.a));
    }
  std::vector<DType> out;
  const auto items = split_list(s);
  for (const std::string& item : items) {
    DType t;
    if (!parse_dtype(item, &t) || std::find(known.begin(), known.end(), t) == known.end())
      throw UsageError("unknown dtype '" + item + "' (known: " + known_names + ")");
    out.push_back(t);
  }
  refuse_repeats(out, items, "dtype");
  return out;
}

std::vector<Operation> parse_operations(const std::string& s) {
  std::vector<Operation> out;
  const auto items = split_list(s);
  for (const std::string& item : items) {
    Operation op;
    if (!parse_operation(item, &op))
    {
      std::string known;
      for (Operation k : kOperations) known += (known.empty() ? "" : ", ") + std::string(name(k));
      throw UsageError("unknown operation '" + item + "' (known: " + known + ")");
    }
    out.push_back(op);
  }
  refuse_repeats(out, items, "operation");
  return out;
}

std::vector<Shape> default_shapes() {
  return {{2048, 2048, 2048},  {4096, 4096, 4096}, {8192, 8192, 8192},  {28672, 16, 8192},
          {28672, 2048, 8192}, {8192, 16, 28672},  {8192, 2048, 28672}};
}

double row_budget_seconds(const Options& o) {
  // Google Benchmark grows the iteration count until the timed (manual) time reaches min_time: its earlier calls
  // add up to ~0.3 x min_time more. Outside the timed window, each iteration also pays the L2 flush (2 x L2 read,
  // ~40 us on an H200) and the clock read: for a ~30 us kernel that doubles the wall time. 3 x min_time covers both;
  // then the energy loop, and ~0.15 s of prepare, the two checks and the warm-up.
  constexpr double kWallPerTimedSecond = 3.0, kPerRowFixedSeconds = 0.15;
  return kWallPerTimedSecond * o.min_time * o.passes + o.energy_time + kPerRowFixedSeconds;
}

double group_budget_seconds() {
  // Both problems generated and pruned, the f64 reference (a 16384^3 f64 GEMM is ~0.15 s on an H100), and the
  // peers' candidate searches (8 + ~20 candidates x 5 launches): ~1 s for the largest default shapes.
  return 1.0;
}

double estimate_seconds(const Options& o, int groups, int timed_rows) {
  return groups * group_budget_seconds() + timed_rows * row_budget_seconds(o);
}

bool Options::runs(Operation op) const {
  return std::find(operations.begin(), operations.end(), op) != operations.end();
}

namespace {

// Whole-string numbers: "5x", "", " 5", "0x10" and out-of-range values are refused, never read as a prefix.
double parse_seconds(const std::string& flag, const std::string& v) {
  errno = 0;
  char* end = nullptr;
  const double x = v.empty() ? 0 : std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || errno == ERANGE || !std::isfinite(x) || !(x > 0))
    throw UsageError(flag + " needs a positive number of seconds, got '" + v + "'");
  return x;
}

uint64_t parse_u64(const std::string& flag, const std::string& v) {
  errno = 0;
  char* end = nullptr;
  const bool digits = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
  const unsigned long long x = digits ? std::strtoull(v.c_str(), &end, 10) : 0;
  if (!digits || errno == ERANGE)
    throw UsageError(flag + " needs a non-negative integer below 2^64, got '" + v + "'");
  return x;
}

int parse_positive(const std::string& flag, const std::string& v) {
  const bool digits = !v.empty() && v.size() <= 9 &&
                      std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
  const int x = digits ? std::atoi(v.c_str()) : 0;
  if (x <= 0) throw UsageError(flag + " needs a positive integer, got '" + v + "'");
  return x;
}

const char* mode_flag(Mode m) {
  switch (m) {
    case Mode::run: return "";
    case Mode::profile: return "--profile";
    case Mode::list: return "--list";
    case Mode::list_json: return "--list-json";
    case Mode::ceilings_only: return "--ceilings-only";
    case Mode::help: return "--help";
  }
  return "?";
}

}  // namespace

Options parse_options(int argc, const char* const* argv) {
  Options o;
  std::set<std::string> given;  // every option seen, by its flag
  std::string kernels_given;
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      o.mode = Mode::help;  // help wins over everything else on the line, valid or not: it is what was asked
      return o;
    }
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (!given.insert(flag).second) throw UsageError(flag + " given twice");
    // Options with a value take the next argument, which must not be another option.
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(flag + " needs a value");
      const std::string v = argv[++i];
      if (v.rfind("--", 0) == 0) throw UsageError(flag + " needs a value, got the option " + v);
      return v;
    };
    auto set_mode = [&](Mode m) {
      if (o.mode != Mode::run)
        throw UsageError(flag + " conflicts with " + mode_flag(o.mode) + ": give one of --list, --list-json, "
                         "--ceilings-only, --profile");
      o.mode = m;
    };
    if (flag == "--list") set_mode(Mode::list);
    else if (flag == "--list-json") set_mode(Mode::list_json);
    else if (flag == "--ceilings-only") set_mode(Mode::ceilings_only);
    else if (flag == "--profile") set_mode(Mode::profile);
    else if (flag == "--shapes") o.shapes = parse_shapes(value());
    else if (flag == "--dtypes") o.dtypes = parse_dtypes(value());
    else if (flag == "--operations") o.operations = parse_operations(value());
    else if (flag == "--kernels") kernels_given = value();
    else if (flag == "--min-time") o.min_time = parse_seconds(flag, value());
    else if (flag == "--passes") o.passes = parse_positive(flag, value());
    else if (flag == "--seed") o.seed = parse_u64(flag, value());
    else if (flag == "--no-cusparselt") o.cusparselt = false;
    else if (flag == "--peer-candidates") o.peer_candidates = parse_positive(flag, value());
    else if (flag == "--search-reps") o.search_reps = parse_positive(flag, value());
    else if (flag == "--no-ceilings") o.ceilings = false;
    else if (flag == "--same-size-copy") o.same_size_copy = true;
    else if (flag == "--energy-time") o.energy_time = parse_seconds(flag, value());
    else if (flag == "--no-energy") o.energy_time = 0;
    else if (flag == "--resume") o.resume_path = value();
    else if (flag == "--json") {
      o.json_path = value();
    } else if (flag.rfind("--benchmark_", 0) == 0) {
      throw UsageError("unknown option " + flag + ": Google Benchmark's own flags are not taken (the rows' timing is "
                       "set by --min-time, the report written by --json)");
    } else {
      throw UsageError("unknown option '" + flag + "'");
    }
  }

  // Options that mean nothing in the chosen mode are refused, not ignored: the user expected them to act.
  given.erase(mode_flag(o.mode));
  if ((o.mode == Mode::list || o.mode == Mode::list_json || o.mode == Mode::ceilings_only) && !given.empty())
    throw UsageError(std::string(mode_flag(o.mode)) + " takes no other option (got " + *given.begin() + ")");
  if (o.mode == Mode::profile)
    for (const char* f : {"--min-time", "--passes", "--json", "--no-ceilings", "--energy-time", "--no-energy",
                          "--resume", "--same-size-copy"})
      if (given.count(f))
        throw UsageError(std::string(f) + " conflicts with --profile: --profile times nothing, measures no ceiling "
                         "and writes no report");

  if (given.count("--energy-time") && given.count("--no-energy"))
    throw UsageError("--energy-time conflicts with --no-energy");
  if (given.count("--kernels")) {
    try {
      const std::regex check(kernels_given);  // a bad pattern is a usage error here, not a crash later
    } catch (const std::regex_error& e) {
      throw UsageError("--kernels '" + kernels_given + "' is not a valid regex: " + e.what());
    }
    o.kernels = kernels_given;
  }
  if (o.mode == Mode::run || o.mode == Mode::profile) {
    // The regex must select something among the chosen operations and dtypes: a typo that matches nothing would
    // otherwise run the peers alone and look like a result.
    const std::regex re(o.kernels);
    // linear_train has no variants of its own (its rows compose the dispatcher's picks): it selects itself.
    bool any = o.runs(Operation::linear_train);
    for (const Variant& v : registry())
      any = any || (o.runs(v.operation) &&
                    std::find(o.dtypes.begin(), o.dtypes.end(), v.types.a) != o.dtypes.end() &&
                    std::regex_search(v.name, re));
    if (!any)
      throw UsageError("--kernels '" + o.kernels + "' matches no registered variant of the selected operations and "
                       "dtypes (--list prints them)");
  }

  for (int i = 0; i < argc; ++i) o.command += (i ? " " : "") + std::string(argv[i]);
  return o;
}

void print_registry(bool json) {
  if (json) {
    fmt::print("{}", registry_json());
    return;
  }
  fmt::print("{:<46} {:<19} {:<7} {:>4} {:<5} {:<26} {:>7} {:<8} {:<13} {}\n", "variant", "operation", "family",
             "step", "types", "parameters", "threads", "arch", "metadata", "shape rule");
  for (const Variant& v : registry()) {
    std::string params;
    for (const auto& [k, val] : v.params) params += fmt::format("{}{}={}", params.empty() ? "" : " ", k, val);
    std::string rule = fmt::format("M%{} K%{} N%{} N>={}", v.rule.m_multiple, v.rule.k_multiple, v.rule.n_multiple,
                                   v.rule.n_min);
    if (v.rule.n_max) rule += fmt::format(" N<={}", v.rule.n_max);
    fmt::print("{:<46} {:<19} {:<7} {:>4} {:<5} {:<26} {:>7} {:<8} {:<13} {}\n", v.name, name(v.operation),
               v.family, v.step, name(v.types.a), params, v.threads, v.arch.str(),
               v.sparse ? format::name(v.meta_layout) : "-", rule);
  }
}

}  // namespace sparse24::harness
