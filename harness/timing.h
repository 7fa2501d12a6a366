// Timing one launch with CUDA events, with the L2 cache flushed before it (docs/design.md, "The harness").
#pragma once

#include <cuda_runtime_api.h>

#include <climits>
#include <cmath>
#include <limits>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "harness/device_buffer.h"

namespace sparse24::harness {

// Reads a buffer twice the size of L2 before each timed launch, so no operand is served from a warm L2: the
// numbers are those of a kernel that reads its weight from HBM, as it does inside a model.
// NOTE: reading, not writing: a memset would leave L2 full of dirty lines, and the timed kernel would then pay
// for writing them back to HBM inside its own event window (up to 60 MB on an H200, several microseconds, a
// large share of a 20-30 us launch). A read leaves only clean lines behind. The flush itself is
// kernels/common/l2_flush.h's, which `auto` also times its candidates with (kernels/dispatch.cpp).
class L2Flusher {
 public:
  explicit L2Flusher(int device);
  void flush(cudaStream_t stream);

 private:
  DeviceBuffer buf_;
};

// Events around `launch` only (the flush is outside them). Returns milliseconds. Synchronizes `stream`.
class EventTimer {
 public:
  EventTimer();
  ~EventTimer();
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;
  float time_ms(const std::function<void()>& launch, cudaStream_t stream);

 private:
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

double median(std::vector<double> v);
// The q-quantile (0 <= q <= 1) of v by the nearest rank (0 for an empty v), and the mean. Beside the median they
// tell a loop whose launches take turns between two times (the median then sits on either level as the count of
// each tips, the mean between them, p10 and p90 on the two levels) from a loop that sits on one level as a whole.
// NOTE: session 15 (H200) found mostly the second: s17's decode rows read two levels 6% apart from one pass to the
// next, one of them with p90 / p10 = 1.02 inside its first loop (results/NOTES.md, session 15 call C).
// Host code (timed_loop.cpp, in the CLI library the CPU tests link), CPU-tested.
double quantile(std::vector<double> v, double q);
double mean(const std::vector<double>& v);

// One row's timed loop, run by Google Benchmark (harness/timed_loop.cpp, host code only): it calls the benchmark
// function with growing iteration counts until the iterations' times add up to `min_time` seconds (manual time),
// and reports only its last call (one per repetition); the samples are those of the reported calls. `iteration`
// runs one timed iteration and returns its time in ms and the SM clock read after it (-1: unknown). One benchmark
// is registered, run and cleared per call, also when `iteration` throws, so Google Benchmark runs exactly the row
// the caller is at. Throws when no iteration was reported.
struct LoopSamples {
  std::vector<double> ms;
  int clock_min_mhz = INT_MAX, clock_max_mhz = -1;  // -1: no clock could be read
  int calls = 0;  // calls of the benchmark function, reported or not (the earlier ones sized the iteration count)
};
LoopSamples gbench_loop(const std::string& name, double min_time,
                        const std::function<std::pair<double, int>()>& iteration);

// --passes (Runner::run_passes): the order in which pass `pass` (2, 3, ...) times again the `rows` rows of a shape
// that pass 1 timed in the order 0 .. rows-1: even passes in reverse, odd passes forward, so that with a slow drift
// of the GPU's state (clocks, temperature) over the passes each row's passes sit at mirrored places in time, and a
// row timed last in pass 1 is not always the one timed latest. Pure, CPU-tested (tests/cpu/test_timed_loop.cpp).
std::vector<size_t> pass_order(size_t rows, int pass);

// ---- Energy (pure arithmetic, CPU-tested: tests/cpu/test_timed_loop.cpp) ----------------------------------------
// What a row's energy loop (runner.cpp, Runner::measure_energy) turns into the row's columns. NaN (written as null,
// never 0) when there is no reading: NVML absent, no counter, a counter that went backwards.
struct EnergyFigures {
  double joules_per_gemm = std::numeric_limits<double>::quiet_NaN();
  double tflops_per_watt = std::numeric_limits<double>::quiet_NaN();  // = TFLOP per joule
  double watts = std::numeric_limits<double>::quiet_NaN();            // mean board power over the loop
};
// Joules between two reads of NVML's total energy counter (mJ; -1 = no read): NaN without both reads or when the
// counter went backwards (a driver reload resets it).
double joules_from_counter(double before_mj, double after_mj);
// Joules from power samples (mW; any -1 = no read) taken through a loop of `loop_s` seconds: mean power x duration.
double joules_from_power(const std::vector<double>& samples_mw, double loop_s);
// The row's figures from the loop's energy, its duration (event time, s), its launch count and the flop of one
// launch (2MNK for a GEMM). joules_per_gemm = J / launches; tflops_per_watt = (flop x launches) / J / 1e12.
EnergyFigures energy_figures(double joules, double loop_s, long launches, double flop_per_launch);

// The median of `reps` launches, each with the L2 flushed before it: the rows' own conditions, for the peers'
// candidate searches (peer.h). Synchronizes `stream`.
double median_cold_ms(const std::function<void()>& launch, L2Flusher& flusher, EventTimer& timer,
                      cudaStream_t stream, int reps);

}  // namespace sparse24::harness
