// The data-pipe experiment's load plan (issue 19 item 2; the experiment: harness/experiments/datapipe.cu): where each
// consumer thread's extra shared-memory loads read, as plain constexpr arithmetic, so that the kernel, the host's
// checksum and the CPU tests (tests/cpu/test_datapipe.cpp) use one plan.
//
// X (wgmma_bench::kExtraWavefronts) counts LSU wavefronts per k-tile and SM: the 8 consumer warps of the SM's one
// block (both warpgroups) issue X / 8 each per k-tile, as wgmma_bench::extra_loads(X) splits them (128-bit loads,
// then one 64-bit and one 32-bit). A warp's loads read one contiguous run of X / 8 x 128 bytes of the loop's B tile,
// warp w's run after warp w - 1's, wrapping at the tile's end (X = 288 asks for 36 KB of the 32 KB tile: the last
// warp's run wraps; wavefronts are counted per instruction, so a re-read byte costs the same):
//
//   B tile (32 KB):  | warp 0: v4 v4 ... v2 v1 | warp 1: ... | ... | warp 7 ... (wraps to 0)
//   a 128-bit load:  lane l reads bytes [16 l, 16 l + 16) of its 512-byte chunk: each quarter-warp (8 lanes) one
//                    128-byte line = all 32 banks once = one wavefront, 4 per instruction; a 64-bit load: half-warps,
//                    2; a 32-bit load: the warp, 1. No two lanes of a wavefront share a bank: no conflict.
#pragma once

#include "harness/wgmma_loop.h"

namespace sparse24::harness::datapipe {

using wgmma_bench::ExtraLoads;

inline constexpr int kBanks = 32, kBankBytes = 4;

// Loads per warp and k-tile for X, and the width (bytes per lane) of load number j (128-bit ones first).
SPARSE24_LOOP_HD constexpr int loads_per_warp(int x) {
  const ExtraLoads l = wgmma_bench::extra_loads(x);
  return l.v4 + l.v2 + l.v1;
}
SPARSE24_LOOP_HD constexpr int load_width(int x, int j) {
  const ExtraLoads l = wgmma_bench::extra_loads(x);
  return j < l.v4 ? 16 : j < l.v4 + l.v2 ? 8 : 4;
}
// Byte offset in the B tile read by lane `lane` of warp `warp` (0..7) in its load number j.
SPARSE24_LOOP_HD constexpr int load_offset(int x, int warp, int j, int lane) {
  const ExtraLoads l = wgmma_bench::extra_loads(x);
  const int run = warp * l.wavefronts_per_warp() * wgmma_bench::kWavefrontBytes;  // this warp's run
  int chunk = 0;                                                                   // load j's start in the run
  for (int i = 0; i < j; ++i) chunk += 32 * load_width(x, i);
  return (run + chunk + lane * load_width(x, j)) % wgmma_bench::kBBytes;
}

}  // namespace sparse24::harness::datapipe
