// What a run reports: one row per (peer or variant, dtype, shape) with its status, the variant's fields and the
// counters, written as JSON (--json). Scripts read these fields; nothing parses a name. The ratios between rows
// are computed here, from finished rows only (compute_ratios), never while rows are still being run.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernels/registry.h"

namespace sparse24::harness {

// passed: checked and timed. failed: a correctness check failed (not timed). refused: the variant or peer does
// not accept this shape (the reason says which rule). skipped: it cannot run here (architecture, peer absent).
// error: something else went wrong (set-up, a CUDA error).
enum class Status { passed, failed, refused, skipped, error };
const char* name(Status s);

// The libraries whose rows every ratio is taken against (design.md: "Ratios are against these rows").
enum class PeerLibrary { none, cublas, cusparselt };

struct Row {
  std::string kernel;              // the variant's name; a peer's label: cublas.dense.<dtype> (cuBLAS's dense GEMM,
                                   // run through cuBLASLt: harness/peer_cublaslt.h) or cusparselt.<dtype>; or
                                   // auto.<dtype> for the dispatcher's choice
  std::string kind = "variant";    // "variant", "peer", or "auto" (kernels/dispatch.h picked `variant`)
  PeerLibrary peer = PeerLibrary::none;  // which library, for kind "peer"
  Operation operation = Operation::gemm;
  const Variant* variant = nullptr;  // null for peers
  DType dtype = DType::bf16;
  int M = 0, N = 0, K = 0;
  Status status = Status::error;   // set once, when the row is finished (an unfinished row reads as an error)
  std::string reason;              // why, when not passed
  // Every number of the row: median_us (the timed rows), the rates, the check figures, the clocks, and the ratios
  // that compute_ratios() adds.
  std::map<std::string, double> counters;
  std::map<std::string, std::string> notes;  // string facts of the row (a peer's algorithm, its padding)
};

// The ratio counters: speedup_vs_<peer> = the peer row's median_us / this row's median_us, for every passed row of
// the same (operation, dtype, M, N, K) as a passed peer row. A pure function of the rows present: it first
// removes every ratio counter, so any order, any subset or filter of the rows, and calling it again give the same
// ratios for the rows present; a peer's ratio to itself is exactly 1 (x / x); a peer that is absent or did not
// pass gives no ratio. Two passed rows of the same peer for one (operation, dtype, shape) are a logic error
// (std::logic_error): the ratio would depend on which one is read.
void compute_ratios(std::vector<Row>& rows);
// The counter holding the ratio against `peer` ("speedup_vs_cublas", "speedup_vs_cusparselt").
const char* ratio_counter(PeerLibrary peer);

// The variant's fields as one JSON object (also what --list --json prints, one per variant).
std::string variant_json(const Variant& v);
// Every registered variant as a JSON array.
std::string registry_json();

// Writes {"context": {...}, "rows": [...]} to `path`; throws std::runtime_error if it cannot.
void write_report(const std::string& path, const std::vector<std::pair<std::string, std::string>>& context,
                  const std::vector<Row>& rows);

// One row as one JSON object on one line (the objects of write_report's "rows", and the lines of --resume's file).
std::string row_json(const Row& r);

// What --resume reads back from a line that row_json wrote: the row's identity, status and median (0 if none).
// std::nullopt for a line that is not such a row (blank, truncated by an interrupted write).
struct FinishedRow {
  std::string kernel, kind;
  Operation operation = Operation::gemm;
  DType dtype = DType::bf16;
  int M = 0, N = 0, K = 0;
  Status status = Status::error;
  double median_us = 0;
};
std::optional<FinishedRow> parse_row_line(const std::string& line);
// A peer row rebuilt from a finished line (status, median_us; peer from its kernel label), for compute_ratios.
Row row_from_finished(const FinishedRow& f);

// JSON string literal of s (quotes included).
std::string json_string(const std::string& s);

}  // namespace sparse24::harness
