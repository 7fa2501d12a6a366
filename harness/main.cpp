// sparse24_bench: checks every selected variant against cuBLAS, then times it beside cuBLAS (and cuSPARSELt).
//
// Our options come first and are removed from argv; everything else goes to Google Benchmark
// (--benchmark_out=FILE --benchmark_out_format=json, --benchmark_repetitions=N, ...).
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <cstdlib>
#include <cstring>
#include <regex>
#include <string>
#include <vector>

#include "harness/bench.h"
#include "harness/ceilings.h"
#include "harness/context.h"
#include "kernels/common/cuda_check.h"

namespace {

constexpr const char* kUsage = R"(usage: sparse24_bench [options] [google benchmark options]
  --list               print every registered variant and exit (no GPU needed)
  --list-json          print every registered variant's fields as a JSON array and exit (no GPU needed)
  --shapes S           comma-separated MxNxK list (A is the sparse M x K operand); default: the sweep
                       2048^3, 4096^3, 8192^3, 28672x{16,2048}x8192, 8192x{16,2048}x28672
  --kernels REGEX      only variants whose name matches (cuBLAS, cuSPARSELt and the dispatcher's choice
                       "auto.<dtype>", kernels/dispatch.h, always run)
  --dtypes LIST        comma-separated: fp16,bf16 (default both)
  --min-time SECONDS   timed launches per benchmark (default 0.25)
  --seed N             input seed (default 2024)
  --no-cusparselt      do not run the cuSPARSELt peer
  --peer-candidates N  cuBLASLt heuristic candidates searched per shape (default 8); every peer candidate
                       (cuBLASLt's and cuSPARSELt's) is checked, then timed L2-flushed, and the fastest kept
  --search-reps N      timed launches per peer candidate in that search (default 5, median)
  --no-ceilings        do not measure the instruction-loop and copy ceilings (no pct_of_ceiling/pct_of_copy)
  --ceilings-only      measure and print the ceilings, then exit
  --json FILE          write the report to FILE: {"context": {...}, "rows": [...]}, one row per (kernel, dtype,
                       shape) with status (passed, failed, refused, skipped, error), reason, the variant's fields
                       and the counters (Google Benchmark's own JSON: --benchmark_out=F --benchmark_out_format=json)
  --profile            check, then launch each selected variant once in an NVTX range "<variant>:<MxNxK>"
                       (and the peers' chosen configurations in "cublas.dense.<dtype>:<MxNxK>" and
                       "cusparselt.<dtype>:<MxNxK>"), for ncu --nvtx --nvtx-include
                       "<range>/" --clock-control none; scripts/profile.sh does this with chosen metrics
exit codes: 0 all checks passed, 1 a check failed or bad usage, 2 no GPU)";

bool take_value(int& i, int argc, char** argv, const char* flag, std::string* out) {
  if (std::strcmp(argv[i], flag) != 0) return false;
  if (i + 1 >= argc) throw std::invalid_argument(std::string(flag) + " needs a value");
  *out = argv[++i];
  return true;
}

int positive(const std::string& v, const char* flag) {
  const int n = std::stoi(v);
  if (n <= 0) throw std::invalid_argument(std::string(flag) + " needs a positive integer");
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sparse24::harness;
  Options o;
  bool list = false, list_json = false, ceilings = true, ceilings_only = false;
  std::string json_path;
  std::vector<char*> rest = {argv[0]};
  try {
    for (int i = 1; i < argc; ++i) {
      std::string v;
      if (!std::strcmp(argv[i], "--list")) list = true;
      else if (!std::strcmp(argv[i], "--list-json")) list_json = true;
      else if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
        fmt::print("{}\n", kUsage);
        return 0;
      } else if (take_value(i, argc, argv, "--shapes", &v)) o.shapes = parse_shapes(v);
      else if (take_value(i, argc, argv, "--kernels", &v)) {
        std::regex check(v);  // a bad pattern is a usage error here, not a crash later
        o.kernels = v;
      }
      else if (take_value(i, argc, argv, "--dtypes", &v)) o.dtypes = parse_dtypes(v);
      else if (take_value(i, argc, argv, "--min-time", &v)) o.min_time = std::stod(v);
      else if (take_value(i, argc, argv, "--seed", &v)) o.seed = std::stoull(v);
      else if (!std::strcmp(argv[i], "--no-cusparselt")) o.cusparselt = false;
      else if (take_value(i, argc, argv, "--peer-candidates", &v)) o.peer_candidates = positive(v, "--peer-candidates");
      else if (take_value(i, argc, argv, "--search-reps", &v)) o.search_reps = positive(v, "--search-reps");
      else if (!std::strcmp(argv[i], "--no-ceilings")) ceilings = false;
      else if (!std::strcmp(argv[i], "--ceilings-only")) ceilings_only = true;
      else if (take_value(i, argc, argv, "--json", &v)) json_path = v;
      else if (!std::strcmp(argv[i], "--profile")) o.profile = true;
      else rest.push_back(argv[i]);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "sparse24_bench: {}\n{}\n", e.what(), kUsage);
    return 1;
  }

  if (list || list_json) {
    print_registry(list_json);
    return 0;
  }

  std::string why;
  if (cuda_device_count(&why) == 0) {
    fmt::print(stderr, "sparse24_bench: no CUDA GPU available ({}); nothing to check or time\n", why);
    return 2;
  }

  if (o.profile) return profile(o) == 0 ? 0 : 1;

  // Ceilings first, on an idle GPU, once per run (ceilings.h): the rows' pct_of_ceiling and pct_of_copy.
  Ceilings measured;
  if (ceilings || ceilings_only) {
    try {
      SPARSE24_CUDA_CHECK(cudaSetDevice(0));
      measured = measure_ceilings(0, nullptr);
    } catch (const std::exception& e) {
      measured.error = e.what();
    }
    if (measured.measured) {
      fmt::print(stderr, "sparse24_bench: ceilings at {} MHz: copy {:.0f} GB/s", measured.sm_clock_mhz,
                 measured.copy_gbps);
      for (const auto& [t, v] : measured.mma_sp_tflops) fmt::print(stderr, ", mma.sp {} {:.1f}", name(t), v);
      for (const auto& [t, v] : measured.mma_sync_tflops) fmt::print(stderr, ", mma.sync {} {:.1f}", name(t), v);
      fmt::print(stderr, " TFLOP/s\n");
    } else {
      fmt::print(stderr, "sparse24_bench: ceilings not measured: {}\n", measured.error);
    }
    if (ceilings_only) {
      for (const auto& [key, value] : measured.context()) fmt::print("{}: {}\n", key, value);
      return measured.measured ? 0 : 1;
    }
    set_ceilings(measured);
  }
  int gb_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&gb_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(gb_argc, rest.data())) return 1;

  auto context = run_context(0);
  if (ceilings) for (const auto& kv : measured.context()) context.push_back(kv);
  std::string cmd;
  for (int i = 0; i < argc; ++i) cmd += (i ? " " : "") + std::string(argv[i]);
  context.emplace_back("command", cmd);
  for (const auto& [key, value] : context) benchmark::AddCustomContext(key, value);

  if (register_benchmarks(o) == 0) fmt::print(stderr, "sparse24_bench: no variant matches '{}'\n", o.kernels);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (!json_path.empty()) {
    try {
      write_report(json_path, context, rows());
    } catch (const std::exception& e) {
      fmt::print(stderr, "sparse24_bench: {}\n", e.what());
      return 1;
    }
  }
  const int failed = failed_checks();
  if (failed) fmt::print(stderr, "sparse24_bench: {} variant/shape pairs FAILED a correctness check\n", failed);
  return failed ? 1 : 0;
}
