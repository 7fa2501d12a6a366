// What a run reports: one row per (peer or variant, dtype, shape) with its status, the variant's fields and the
// counters, written as JSON (--json). Scripts read these fields; nothing parses a name.
#pragma once

#include <map>
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

struct Row {
  std::string kernel;              // the variant's name, or the peer's label (cublaslt.dense.bf16, cusparselt.bf16),
                                   // or auto.<dtype> for the dispatcher's choice
  std::string kind = "variant";    // "variant", "peer", or "auto" (kernels/dispatch.h picked `variant`)
  const Variant* variant = nullptr;  // null for peers
  DType dtype = DType::bf16;
  int M = 0, N = 0, K = 0;
  Status status = Status::passed;
  std::string reason;              // why, when not passed
  std::map<std::string, double> counters;
  std::map<std::string, std::string> notes;  // string facts of the row (a peer's algorithm, its padding)
};

// The variant's fields as one JSON object (also what --list --json prints, one per variant).
std::string variant_json(const Variant& v);
// Every registered variant as a JSON array.
std::string registry_json();

// Writes {"context": {...}, "rows": [...]} to `path`; throws std::runtime_error if it cannot.
void write_report(const std::string& path, const std::vector<std::pair<std::string, std::string>>& context,
                  const std::vector<Row>& rows);

// JSON string literal of s (quotes included).
std::string json_string(const std::string& s);

}  // namespace sparse24::harness
