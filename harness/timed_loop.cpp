// gbench_loop (timing.h): one row's timed loop, run by Google Benchmark. Host code only, so that the CPU tests
// check how it reads Google Benchmark's calls (tests/cpu/test_report.cpp).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <numeric>
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

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double rank = std::clamp(q, 0.0, 1.0) * double(v.size() - 1);
  return v[static_cast<size_t>(rank + 0.5)];
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}

std::vector<size_t> pass_order(size_t rows, int pass) {
  std::vector<size_t> order(rows);
  std::iota(order.begin(), order.end(), size_t{0});
  if (pass % 2 == 0) std::reverse(order.begin(), order.end());
  return order;
}

double joules_from_counter(double before_mj, double after_mj) {
  if (!(before_mj >= 0) || !(after_mj >= before_mj)) return std::numeric_limits<double>::quiet_NaN();
  return (after_mj - before_mj) * 1e-3;
}

double joules_from_power(const std::vector<double>& samples_mw, double loop_s) {
  const bool all_read = std::all_of(samples_mw.begin(), samples_mw.end(), [](double x) { return x >= 0; });
  if (samples_mw.empty() || !all_read || !(loop_s > 0)) return std::numeric_limits<double>::quiet_NaN();
  const double mean_mw = std::accumulate(samples_mw.begin(), samples_mw.end(), 0.0) / samples_mw.size();
  return mean_mw * 1e-3 * loop_s;
}

EnergyFigures energy_figures(double joules, double loop_s, long launches, double flop_per_launch) {
  EnergyFigures f;
  // A loop that drew no energy is a counter that did not tick, not a free GEMM: no figure rather than infinity.
  if (!(joules > 0) || launches <= 0) return f;
  f.joules_per_gemm = joules / launches;
  if (flop_per_launch > 0) f.tflops_per_watt = flop_per_launch * launches / joules / 1e12;
  if (loop_s > 0) f.watts = joules / loop_s;
  return f;
}

}  // namespace sparse24::harness
