// sparse24_bench: checks every selected variant against the f64 reference, then times it beside cuBLAS (and
// cuSPARSELt); or, with --profile, launches each once in an NVTX range for Nsight Compute.
//
// main parses and validates the options (bench.h), measures the ceilings, runs the rows (runner.h) and writes the
// report (report.h); the Options are passed to each explicitly, and nothing is configured anywhere else.
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <fstream>
#include <string>
#include <vector>

#include "harness/bench.h"
#include "harness/ceilings.h"
#include "harness/context.h"
#include "harness/report.h"
#include "harness/runner.h"
#include "kernels/common/cuda_check.h"

int main(int argc, char** argv) {
  using namespace sparse24::harness;
  Options o;
  try {
    o = parse_options(argc, argv);
  } catch (const UsageError& e) {
    fmt::print(stderr, "sparse24_bench: {}\n{}\n", e.what(), kUsage);
    return 1;
  }

  switch (o.mode) {
    case Mode::help: fmt::print("{}\n", kUsage); return 0;
    case Mode::list: print_registry(false); return 0;
    case Mode::list_json: print_registry(true); return 0;
    case Mode::run:
    case Mode::profile:
    case Mode::ceilings_only: break;
  }

  std::string why;
  if (cuda_device_count(&why) == 0) {
    fmt::print(stderr, "sparse24_bench: no CUDA GPU available ({}); nothing to check or time\n", why);
    return 2;
  }
  // The report's file is opened (and left empty) before the run, so that a path that cannot be written fails in a
  // second, not after the sweep.
  if (!o.json_path.empty() && !std::ofstream(o.json_path)) {
    fmt::print(stderr, "sparse24_bench: cannot write the report to {}\n", o.json_path);
    return 1;
  }

  try {
    // Ceilings first, on an idle GPU, once per run (ceilings.h): the rows' pct_of_ceiling and pct_of_copy.
    Ceilings measured;
    if (o.mode == Mode::ceilings_only || (o.mode == Mode::run && o.ceilings)) {
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
      if (o.mode == Mode::ceilings_only) {
        for (const auto& [key, value] : measured.context()) fmt::print("{}: {}\n", key, value);
        return measured.measured ? 0 : 1;
      }
    }

    // Google Benchmark times each row (runner.cpp); none of its command-line flags are taken (parse_options
    // refuses them), so it is initialised with the program name alone.
    int gb_argc = 1;
    benchmark::Initialize(&gb_argc, argv);

    Runner runner(o, measured, 0);
    const std::vector<Row> rows = runner.run();

    if (!o.json_path.empty()) {
      auto context = run_context(0);
      if (o.ceilings) for (const auto& kv : measured.context()) context.push_back(kv);  // or why not measured
      context.emplace_back("command", o.command);
      write_report(o.json_path, context, rows);
    }
    const int failed = failed_checks(rows);
    if (failed) fmt::print(stderr, "sparse24_bench: {} variant/shape pairs FAILED a correctness check\n", failed);
    return failed ? 1 : 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sparse24_bench: {}\n", e.what());
    return 1;
  }
}
