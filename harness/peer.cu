#include "harness/peer.h"

#include "kernels/common/cuda_check.h"

namespace sparse24::harness {

int64_t padded_ld(int64_t ld, int elem_bytes) {
  constexpr int64_t kAlignBytes = 16;  // the vector width of the libraries' loads (and ours)
  const int64_t per = kAlignBytes / elem_bytes;
  return (ld + per - 1) / per * per;
}

SearchResult search_fastest(Peer& peer, const Problem& p, void* d, L2Flusher& flusher, EventTimer& timer,
                            cudaStream_t stream, int reps) {
  SearchResult r;
  r.candidates = peer.candidates();
  const int64_t count = int64_t(p.M) * p.N;
  std::string first_failure;  // the first candidate that ran and failed the check
  for (int i = 0; i < r.candidates; ++i) {
    try {
      peer.select(i);
      // D's own poison and D's own check: an int8 problem's D is int32, whose all-ones bytes (the byte poison) are
      // -1, a value a GEMM writes; the typed poison is a pattern no correct int8 GEMM of K < 2^17 writes (dtype.h).
      poison(p.types.d, d, count, stream);
      peer.run();
      SPARSE24_CUDA_CHECK(cudaGetLastError());
      peer.finish();
    } catch (const std::exception& e) {
      ++r.refused;
      r.message = std::string(peer.library()) + " candidate " + std::to_string(i) + ": " + e.what();
      cudaGetLastError();  // a refused candidate must not leave a sticky launch error for the next one
      continue;
    }
    const CheckResult c = compare(p.types.d, p.fill, d, p.reference(), count, stream);
    if (!c.passed) {
      ++r.failed_check;
      if (first_failure.empty())
        first_failure = std::string(peer.library()) + " candidate " + std::to_string(i) + " failed the check: " + c.message;
      continue;
    }
    const double ms = median_cold_ms([&] { peer.run(); }, flusher, timer, stream, reps);
    if (i == 0) r.first_ms = ms;
    if (r.chosen < 0 || ms < r.chosen_ms) {
      r.chosen = i, r.chosen_ms = ms, r.check = c;
    }
  }
  if (r.chosen >= 0) {
    peer.select(r.chosen);
    r.message.clear();
  } else if (r.candidates == 0) {
    r.message = std::string(peer.library()) + " offered no candidate";
  } else {
    // No candidate passed: say how many were refused and how many failed the check, and the first failure (the
    // reason that matters when some ran: a refusal of the last candidate said nothing about the others).
    r.message = std::string(peer.library()) + ": none of " + std::to_string(r.candidates) + " candidates passed (" +
                std::to_string(r.refused) + " refused, " + std::to_string(r.failed_check) + " failed the check)" +
                (first_failure.empty() ? "; last refusal: " + r.message : "; first failure: " + first_failure);
  }
  return r;
}

}  // namespace sparse24::harness
