// Split-K, host side: the workspace layouts and the choice of the split factor. Plain C++ (no CUDA), so the CPU
// tests check the model directly (tests/cpu/test_splitk.cpp); the device code is in splitk.cuh, which includes this.
//
// Workspace layouts (owned by the Plan, prepare() sizes it, registry.cu allocates and zeroes it once):
//   two launches (skinny.s01):  partials[split][M][N] f32, packed (row m of slice z at ((z * M) + m) * N)
//   one launch (skinny.s02):    the same partials, then counters[row_blocks] u32 (one arrival counter per row block
//                               of the grid), starting at byte counters_offset(split, M, N)
// Nothing is allocated for split = 1: the kernels then write D directly.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/common/fragments.h"  // SPARSE24_HD: the layout functions serve the host and the kernels alike

namespace sparse24::splitk {

// Workspace bytes for `split` slices of an M x N f32 output (0 when there is nothing to reduce).
SPARSE24_HD constexpr size_t workspace_bytes(int split, int M, int N) {
  return split > 1 ? static_cast<size_t>(split) * M * N * sizeof(float) : 0;
}

// Where the arrival counters of the one-launch layout start: right after the partials. M is a multiple of 32 for
// every split-K variant (its shape rule), so this is a multiple of 128 bytes and the counters are aligned.
SPARSE24_HD constexpr size_t counters_offset(int split, int M, int N) { return workspace_bytes(split, M, N); }

// Workspace bytes of the one-launch layout: partials and one 32-bit counter per row block (0 for split = 1).
SPARSE24_HD constexpr size_t counted_workspace_bytes(int split, int M, int N, int row_blocks) {
  return split > 1 ? counters_offset(split, M, N) + static_cast<size_t>(row_blocks) * sizeof(uint32_t) : 0;
}

// The split factor chosen from the GPU's size, for kernels that stream the weight once (memory-bound):
//   row_blocks: blocks along M; chunks: k chunks along K (a slice is a run of whole chunks);
//   slots: blocks resident at once on the whole GPU (SMs x blocks per SM from the occupancy calculator);
//   chunk_bytes: bytes one block reads per chunk (values + metadata); M, N: the output;
//   fixed_bytes: the fixed cost of splitting at all (s > 1), as bytes at the same bandwidth: kLaunchBytes for a
//   second reduction launch, kArrivalBytes for the reduction done in the same launch by the last-arriving block.
// Model, in bytes at one bandwidth (so that the terms add): a resident block keeps a fixed number of bytes in
// flight, so the GPU moves `slots` chunks per round whether or not every slot is filled (a half-empty wave costs a
// full round). Main kernel: waves(s) = ceil(row_blocks * s / slots) rounds of ceil(chunks / s) chunks, each round
// slots * chunk_bytes. Reduction (s > 1): the partials written and read once, 8 * s * M * N bytes, plus
// fixed_bytes. The smallest s in 1..min(chunks, kMaxSplit) with the lowest cost wins: deterministic for a
// (GPU, shape). fixed_bytes only moves the choice between s = 1 and the best s > 1 (it is added to every s > 1
// alike), so a lower fixed cost never picks a smaller split (tests/cpu/test_splitk.cpp).
inline constexpr int kMaxSplit = 32;
// The second launch and the tail between the two kernels (about 1 us at 3 TB/s).
inline constexpr int64_t kLaunchBytes = 3'000'000;
// The one-launch reduction keeps the partial traffic (counted above) and replaces the kernel boundary (the first
// kernel's drain, the second's launch and ramp) by one __threadfence and one atomic per block before the last
// block of a row block reads the partials: about one L2 round trip more than the partial reads themselves, on the
// last row block's path only. NOTE: a third of kLaunchBytes is an estimate, not a fit. Evaluated on the decode
// sweep's 40 shapes with the registers of skinny.s01, the model picks the same split for every fixed cost from 0
// to kLaunchBytes, so that sweep cannot tell the two constants apart; the fixed-split variants (split_k 4) in the
// same sweep are what to compare the choice against.
inline constexpr int64_t kArrivalBytes = kLaunchBytes / 3;

inline int choose_split(int row_blocks, int chunks, int slots, int64_t chunk_bytes, int M, int N,
                        int64_t fixed_bytes) {
  int best = 1;
  double best_cost = 0;
  const int max_split = std::max(1, std::min(chunks, kMaxSplit));
  for (int s = 1; s <= max_split; ++s) {
    const int64_t waves = (static_cast<int64_t>(row_blocks) * s + slots - 1) / slots;
    const int64_t per_block = (chunks + s - 1) / s;
    double cost = double(waves) * double(per_block) * double(slots) * double(chunk_bytes);
    if (s > 1) cost += 8.0 * s * double(M) * double(N) + double(fixed_bytes);
    if (s == 1 || cost < best_cost) best = s, best_cost = cost;
  }
  return best;
}

}  // namespace sparse24::splitk
