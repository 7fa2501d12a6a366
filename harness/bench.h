// The benchmark's command line: the options, their validation, the default sweep, and --list. Needs no GPU (the
// CPU tests link it); what runs the rows is harness/runner.h.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/common/dtype.h"
#include "kernels/registry.h"

namespace sparse24::harness {

struct Shape {
  int M, N, K;
  std::string str() const;  // "MxNxK"
  bool operator==(const Shape& o) const { return M == o.M && N == o.N && K == o.K; }
};

// A bad command line: the message names the option and the rule it breaks (main prints it with the usage, exit 1).
struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Parses "MxNxK[,MxNxK...]"; throws UsageError naming the bad item (or the repeated one).
std::vector<Shape> parse_shapes(const std::string& s);
// Parses "fp16,bf16"; throws UsageError naming the bad item (or the repeated one).
std::vector<DType> parse_dtypes(const std::string& s);
// Parses "gemm,prune_compress"; throws UsageError naming the bad item (or the repeated one).
std::vector<Operation> parse_operations(const std::string& s);

// The default sweep (M x N x K, A = the sparse M x K weight): square sizes, and the shapes of a 8192 <-> 28672
// MLP projection at decode (N = 16) and prefill (N = 2048) batch sizes.
std::vector<Shape> default_shapes();

// What the command asks for: exactly one of these.
enum class Mode {
  run,            // check and time every selected row, report them
  profile,        // --profile: check every selected row, launch each once in an NVTX range, time nothing
  list,           // --list: the registry as a table (no GPU needed)
  list_json,      // --list-json: the registry as a JSON array (no GPU needed)
  ceilings_only,  // --ceilings-only: measure and print the ceilings
  help,           // --help / -h
};

struct Options {
  Mode mode = Mode::run;
  std::vector<Shape> shapes = default_shapes();
  std::vector<DType> dtypes = {DType::fp16, DType::bf16};
  // Which operations' rows run: gemm (the peers, the dispatcher's choice and the GEMM variants) and/or
  // prune_compress (kernels/format's GPU path). GEMM only by default: the sweeps' tables are GEMM tables.
  std::vector<Operation> operations = {Operation::gemm};
  std::string kernels = ".*";     // regex over variant names; must match at least one selected variant
  double min_time = 0.25;         // seconds of timed launches per row (Google Benchmark's minimum time)
  // --passes: each timed GEMM row (peer, auto, variant) is timed in this many passes over its (dtype, shape)'s
  // rows, min_time each; the row's median_us is the median of the passes' medians (Runner::run_passes).
  int passes = 1;
  uint64_t seed = 2024;
  bool cusparselt = true;         // time cuSPARSELt where it is built in
  int peer_candidates = 8;        // cuBLASLt heuristic candidates searched per shape (CublasLtPeer)
  int search_reps = 5;            // L2-flushed launches per peer candidate in the search (median)
  bool ceilings = true;           // measure the instruction-loop and copy ceilings first
  // --same-size-copy: GEMM rows also get pct_of_same_size_copy, against a copy that moves the row's compulsory
  // bytes (Runner::same_size_copy; format rows always get it). Off by default: it times one copy per byte count.
  bool same_size_copy = false;
  // Seconds of back-to-back launches per timed GEMM row whose energy NVML's counter measures (0: --no-energy).
  // NOTE: 0.2 s: the counter is read in mJ but advances in steps (tens of ms apart on Hopper boards), so a loop
  // shorter than ~50 ms reads mostly the step; at 0.2 s one step is a few percent of the loop.
  double energy_time = 0.2;
  std::string json_path;          // --json: where the report goes (empty: no report)
  std::string resume_path;        // --resume: the JSON-lines file finished rows are appended to (and read from)
  std::string command;            // the command line as given, for the report's context

  bool runs(Operation op) const;  // whether `op` is among `operations`
};

// Parses and validates the whole command line (argv[0] is the program). Every option is checked: values (min-time
// a positive finite number, seed a non-negative integer, counts positive integers, shapes, dtypes and operations
// known and not repeated, the kernels regex valid and matching a selected variant), options given twice, unknown
// options, and options that conflict with the mode (--profile times nothing, so --min-time and --json conflict
// with it; --list, --list-json and --ceilings-only take no other option). Throws UsageError.
Options parse_options(int argc, const char* const* argv);

// What the run is expected to take, printed before it starts and as it goes (the "estimated left" of each progress
// line): the measured-shape groups' fixed cost (problems, the f64 reference, the peers' candidate searches) plus,
// per row that will be timed, its budget (--passes times its timed loop). An estimate, not a bound: rows of tiny kernels pay more per timed second
// (the L2 flush and the clock read between launches are outside the timed window), large ones less.
double row_budget_seconds(const Options& o);
double group_budget_seconds();
double estimate_seconds(const Options& o, int groups, int timed_rows);

// The usage text (main prints it for --help and after a UsageError).
extern const char* const kUsage;

// --list: the registry as a table, or (json) as a JSON array of the variants' fields. Needs no GPU.
void print_registry(bool json);

}  // namespace sparse24::harness
