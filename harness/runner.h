// The run loop: for each (dtype, shape), every selected row (the peers, the dispatcher's choice, the GEMM variants,
// the prune_compress variants) goes through one path: set-up, prepare, check, then either the timed loop or, with
// --profile, one launch inside an NVTX range. A row is finished (status, reason, median, clocks, counters) before
// the next one starts; only when every row of the (dtype, shape) is finished are the ratios computed from them
// (compute_ratios, report.h), so no ratio depends on the order rows run in or on which rows were selected.
#pragma once

#include <cuda_runtime_api.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "harness/bench.h"
#include "harness/ceilings.h"
#include "harness/context.h"
#include "harness/report.h"
#include "harness/timing.h"

namespace sparse24::harness {

// The GPU's state (context.h: memory clock, temperatures, clock-event reasons) read right before and right after
// one timed loop (Runner::timed_loop).
struct LoopState {
  GpuState before, after;
};

class Runner {
 public:
  // Selects device `device`; the ceilings are those pct_of_ceiling and pct_of_copy are relative to (unmeasured:
  // the counters are left out).
  Runner(const Options& options, const Ceilings& ceilings, int device);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Runs every selected row (options.mode: run or profile) and returns them in the order run, with the ratios.
  // Prints one line per row (stdout) when its (dtype, shape) is finished, and to stderr the estimate before the
  // start and a progress line per (dtype, shape) (elapsed, estimated left). With --resume, rows the file already
  // holds are skipped (not returned) and each (dtype, shape)'s new rows are appended to it when it finishes.
  std::vector<Row> run();

 private:
  struct Group;
  struct Prepared;
  struct TrainGroup;  // the linear_train rows' problems (runner.cpp)

  // Each *_row fills a row whose identity (kernel, kind, dtype, shape) is set, and finishes it: its status and
  // reason are written once, by finish() (or, for an exception, by run_group's catch).
  void run_group(DType t, const Shape& s, std::vector<Row>& out);
  // The rows of (t, s) that would be timed: selected, not finished in the resume file, accepted by the GPU and the
  // shape rule (refused and skipped rows cost nothing). For the estimate.
  int rows_to_time(DType t, const Shape& s) const;
  // The resume file's finished row for (kernel, t, s), or null.
  using RowKey = std::tuple<std::string, DType, int, int, int>;
  const FinishedRow* finished(const std::string& kernel, DType t, const Shape& s) const;
  void load_resume();
  void append_resume(const std::vector<Row>& rows) const;
  void peer_row(Group& g, Row& r);
  void auto_row(Group& g, Row& r);
  void gemm_row(Group& g, const Variant& v, Row& r);
  void prune_compress_row(const Variant& v, Row& r);
  void prune_compress_both_row(const Variant& v, Row& r);
  void prune_peer_row(Row& r);  // cuSPARSELt's prune + compress beside the prune_compress rows
  // linear_train: a layer's forward + dgrad through cuBLAS / cuSPARSELt (train_peer_row) or the dispatcher's picks
  // (train_auto_row), on problems built once per (dtype, shape).
  bool ensure_train_problems(TrainGroup& tg, DType t, const Shape& s);
  void train_peer_row(TrainGroup& tg, Row& r);
  void train_auto_row(TrainGroup& tg, Row& r);
  Prepared& prepared(Group& g, const Variant& v);
  bool ensure_problems(Group& g);
  // The end of the per-row path for a row that passed its checks: the timed loop (the median and the clocks into
  // the row's counters), or with --profile one launch in the NVTX range "<kernel>:<MxNxK>". Returns the median in
  // ms (0 when profiling).
  // flop: of one launch (2MNK for a GEMM; 0: no energy loop).
  double measure(Row& r, const std::function<void()>& launch, double flop = 0);
  // The timed loop itself (measure's, without the counters): one warm-up launch, then Google Benchmark's loop of
  // L2-flushed, event-timed launches under `label`.
  // `state`, when given, gets the GPU's state read right before and right after the loop.
  LoopSamples timed_loop(const std::string& label, const std::function<void()>& launch, LoopState* state = nullptr);
  // --passes > 1: keeps a passed GEMM row for the later passes: `launch` must own what it runs (it outlives the
  // *_row call), `rates` writes the row's rate counters from a time in ms (gemm_rates with the row's own kind).
  void keep_for_passes(Group& g, std::function<void()> launch, std::function<void(Row&, double)> rates);
  // Passes 2..--passes over the rows kept by keep_for_passes (pass_order), then each row's median_us = the median of
  // its passes' medians, its rates and its pct_of_same_size_copy from that time.
  void run_passes(Group& g, std::vector<Row>& rows);
  void same_size_copy(Row& r, double moved_bytes);  // same_size_copy_gbps, pct_of_same_size_copy
  void gemm_same_size_copy(Row& r);  // --same-size-copy: same_size_copy of a timed GEMM row's compulsory bytes
  // The energy loop (after the timed loop, --energy-time): back-to-back launches, NVML's energy counter read
  // before and after; the energy columns, null without NVML.
  void measure_energy(Row& r, const std::function<void()>& launch, double median_ms, double flop);

  const Options& o_;
  Ceilings ceilings_;
  int device_;
  int sm_;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<L2Flusher> flusher_;
  std::unique_ptr<EventTimer> timer_;
  std::map<RowKey, FinishedRow> finished_;  // from --resume's file
  std::map<size_t, double> same_size_copy_gbps_;  // same_size_copy's rate by half the moved bytes, once per run
  std::chrono::steady_clock::time_point start_;
};

// Rows that failed a correctness check, peers excluded (a peer that fails is reported, and is not our failure).
int failed_checks(const std::vector<Row>& rows);

}  // namespace sparse24::harness
