// gbench_loop (timing.h): one row's timed loop, run by Google Benchmark. Host code only, so that the CPU tests
// check how it reads Google Benchmark's calls (tests/cpu/test_report.cpp).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <stdexcept>

#include "harness/timing.h"

namespace sparse24::harness {

namespace {

// Counts the runs Google Benchmark reports: one per repetition, from the last call of the benchmark function (the
// earlier calls only sized the iteration count). Prints nothing: the runner prints its own rows.
class CountRuns final : public benchmark::BenchmarkReporter {
 public:
  int iteration_runs = 0;
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) iteration_runs += r.run_type == Run::RT_Iteration;
  }
};

}  // namespace

LoopSamples gbench_loop(const std::string& name, double min_time,
                        const std::function<std::pair<double, int>()>& iteration) {
  std::vector<LoopSamples> calls;
  benchmark::RegisterBenchmark(name.c_str(), [&](benchmark::State& state) {
    calls.emplace_back();
    LoopSamples& c = calls.back();
    for (auto _ : state) {
      const auto [ms, mhz] = iteration();
      state.SetIterationTime(ms * 1e-3);
      c.ms.push_back(ms);
      if (mhz >= 0) {
        c.clock_min_mhz = std::min(c.clock_min_mhz, mhz);
        c.clock_max_mhz = std::max(c.clock_max_mhz, mhz);
      }
    }
  })
      ->UseManualTime()
      ->MinTime(min_time)
      ->Unit(benchmark::kMicrosecond);
  struct Clear {
    ~Clear() { benchmark::ClearRegisteredBenchmarks(); }
  } clear_on_exit;  // also when an iteration throws: the next row must not run this one again
  CountRuns reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter, ".");
  const size_t reported = std::min(calls.size(), static_cast<size_t>(std::max(reporter.iteration_runs, 0)));
  LoopSamples out;
  out.calls = static_cast<int>(calls.size());
  for (size_t i = calls.size() - reported; i < calls.size(); ++i) {
    out.ms.insert(out.ms.end(), calls[i].ms.begin(), calls[i].ms.end());
    out.clock_min_mhz = std::min(out.clock_min_mhz, calls[i].clock_min_mhz);
    out.clock_max_mhz = std::max(out.clock_max_mhz, calls[i].clock_max_mhz);
  }
  if (out.ms.empty()) throw std::runtime_error("Google Benchmark reported no timed run of " + name);
  return out;
}

}  // namespace sparse24::harness
