// The benchmark driver: options, default sweep, and the registration of one Google Benchmark per
// (peer or variant, shape).
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "harness/report.h"
#include "harness/ceilings.h"
#include "kernels/common/dtype.h"

namespace sparse24::harness {

struct Shape {
  int M, N, K;
  std::string str() const;  // "MxNxK"
};

// Parses "MxNxK[,MxNxK...]"; throws std::invalid_argument naming the bad item.
std::vector<Shape> parse_shapes(const std::string& s);
// Parses "fp16,bf16"; throws std::invalid_argument naming the bad item.
std::vector<DType> parse_dtypes(const std::string& s);

// The default sweep (M x N x K, A = the sparse M x K weight): square sizes, and the shapes of a 8192 <-> 28672
// MLP projection at decode (N = 16) and prefill (N = 2048) batch sizes.
std::vector<Shape> default_shapes();

struct Options {
  std::vector<Shape> shapes = default_shapes();
  std::vector<DType> dtypes = {DType::fp16, DType::bf16};
  std::string kernels = ".*";     // regex over variant names
  double min_time = 0.25;         // seconds of timed launches per benchmark (Google Benchmark's min time)
  uint64_t seed = 2024;
  bool cusparselt = true;         // time cuSPARSELt where it is built in
  int peer_candidates = 8;        // cuBLASLt heuristic candidates searched per shape (CublasLtPeer)
  int search_reps = 5;            // L2-flushed launches per peer candidate in the search (median)
  bool profile = false;           // one launch per selected (variant, shape) in an NVTX range, no timing
};

// Registers every benchmark (peers first for each shape, then the variants that match). Returns how many
// variant rows were registered.
int register_benchmarks(const Options& o);

// The measured ceilings every row's pct_of_ceiling and pct_of_copy are relative to (none set: the counters are
// left out).
void set_ceilings(const Ceilings& c);

// After RunSpecifiedBenchmarks: how many variants failed a check (the process exits non-zero if any did).
int failed_checks();
// After RunSpecifiedBenchmarks: every row, with status, reason, the variant's fields and the counters.
const std::vector<Row>& rows();

// --profile: check each selected (variant, shape), then launch it once inside an NVTX range named
// "<variant>:<MxNxK>" (the peers, each searched first as for its row: "cublas.dense.<dtype>:<MxNxK>" and
// "cusparselt.<dtype>:<MxNxK>"), for ncu --nvtx --nvtx-include "<range>/" (a '/'
// in the name would read as range nesting to ncu, hence the colon). Returns the number of failures.
int profile(const Options& o);

// --list: the registry as a table, or (json) as a JSON array of the variants' fields. Needs no GPU.
void print_registry(bool json);

}  // namespace sparse24::harness
