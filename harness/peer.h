// A library peer (cuBLASLt, cuSPARSELt): one problem bound at construction, a list of candidate configurations,
// one of them selected; and the search that checks and times every candidate the same way for every peer.
//
// NOTE: why the harness searches, not the library. cusparseLtMatmulSearch times its candidates back to back on a
// warm L2 and its pick varied by 5% between runs on an H200 (2026-11-22); cublasGemmEx's default algorithm was 13%
// slower than the fastest of cuBLASLt's top 8 heuristic candidates at 2048^3 (anchors.md). Timing every candidate
// under the rows' own conditions (L2 flushed, median of several launches), once per shape, outside the rows, and
// keeping the fastest that passes the check, gives each peer its strongest configuration by the same rule.
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "harness/check.h"
#include "harness/problem.h"
#include "harness/timing.h"

namespace sparse24::harness {

// Thrown by a peer's constructor when the library does not support the problem (a shape or layout it refuses).
// The message is short and readable, e.g. "N=4097 not supported by cuSPARSELt (cusparseLtDenseDescriptorInit:
// CUSPARSE_STATUS_NOT_SUPPORTED)": the benchmark row shows it after "refused: ".
struct PeerRefused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Peer {
 public:
  virtual ~Peer() = default;
  virtual const char* library() const = 0;  // "cuBLASLt", "cuSPARSELt"
  // Candidate configurations, in the library's order of preference (candidate 0: its own first choice).
  virtual int candidates() const = 0;
  // Makes candidate i the one run() runs. Throws when the library refuses that configuration (then the search
  // skips it). Not timed.
  virtual void select(int i) = 0;
  virtual int selected() const = 0;
  // The library call alone, on the stream given at construction: what the rows time.
  virtual void run() = 0;
  // After run(), outside timing: puts the result into the caller's D (a padded peer computes into its own
  // buffer, see padded()). No-op for a peer that writes D directly.
  virtual void finish() {}
  // True when the shape's own leading dimensions are not 16-byte multiples and the peer runs on copies padded to
  // 16 bytes (its fast path; a user would pad too). The row says so (peer_padded = 1).
  virtual bool padded() const = 0;
  // The selected configuration: numeric fields for the row's counters, and one line for logs.
  virtual std::vector<std::pair<std::string, double>> fields() const = 0;
  virtual std::string describe() const = 0;
};

struct SearchResult {
  int candidates = 0;     // offered by the library
  int refused = 0;        // select() threw
  int failed_check = 0;   // ran, but failed the check against the reference (the runner: random-normal mode)
  int chosen = -1;        // fastest passing candidate (-1: none)
  double chosen_ms = 0;   // its median time in the search
  double first_ms = 0;    // candidate 0's (the library's own first choice) median time, 0 if it did not pass
  CheckResult check;      // the chosen candidate's check
  std::string message;    // when chosen < 0: why (the last refusal or check failure)
};

// For every candidate: select, poison `d` with D's poison, run, finish, compare with p's reference in D's type and
// p's mode (p.types.d, p.fill: int32 for int8, bf16 for fp8, f32 for tf32; p must be the problem the peer was built
// on, `d` the D it writes); if it passes, its median over `reps` L2-flushed launches. Leaves the fastest
// passing candidate selected. Synchronizes `stream`.
SearchResult search_fastest(Peer& peer, const Problem& p, void* d, L2Flusher& flusher, EventTimer& timer,
                            cudaStream_t stream, int reps);

// Leading dimension in elements, padded up to a multiple of 16 bytes (the alignment the libraries' fast kernels
// want): ld itself when it already is one.
int64_t padded_ld(int64_t ld, int elem_bytes);

}  // namespace sparse24::harness
