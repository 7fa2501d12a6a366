// The warpgroup instruction loop's geometry and its shared-memory data-pipe account: plain constexpr arithmetic,
// host and device, so that the ceilings (harness/ceilings_wgmma.cu), the data-pipe experiment
// (harness/experiments/datapipe.cu) and the CPU tests (tests/cpu/test_datapipe.cpp) read the same numbers.
//
// The loop (harness/wgmma_loop.cuh) is the consumer side of the TMA kernels with the ring taken away: one block
// per SM of two warpgroups, m64n256 accumulators each, one k-tile's batch of instructions per iteration (the
// kernels' BK: 128 bytes of K per row), one batch in flight.
//
// The account (docs/sparse-tensor-cores.md §5a). Per k-tile and SM (both warpgroups, which run concurrently and
// share the SM's four tensor cores and its one shared-memory data pipe):
//   - tensor cycles: a warpgroup's k-tile is 64 x 256 x (128 / element bytes) dense-equivalent multiply-adds; an
//     SM does 2048 16-bit dense multiply-adds per cycle (989 TFLOP/s = 132 SMs x 1.83 GHz x 4096 flops on an
//     H100 SXM), twice that with sparsity, and the 8-bit (tf32) forms twice (half) as many per cycle for twice
//     (half) the elements per byte, so the count does not depend on the type:
//         sparse: 2 x 64 x 256 x 64 / 4096 = 512      dense: 2 x 64 x 256 x 64 / 2048 = 1024
//   - gmma wavefronts: every operand byte an instruction reads from shared memory crosses the L1TEX data pipe in
//     128-byte wavefronts (ncu l1tex__data_pipe_lsu_wavefronts_mem_shared_op_gmma measured exactly bytes / 128 at
//     8192^3, §5a); both warpgroups read the same B tile, and each reads it itself:
//         B: 256 rows x 128 bytes = 256 wavefronts per warpgroup;  A: 64 rows x 64 bytes (compressed) = 32,
//         64 rows x 128 bytes (dense) = 64, none with A in registers (RS)
//         SS 2 x (256 + 32) = 576     RS 2 x 256 = 512     dense 2 x (256 + 64) = 640
//     i.e. per instruction 144, 128 and 80 wavefronts per 128 tensor cycles, the §5a table.
#pragma once

#include <array>

#include "kernels/common/dtype.h"

#ifdef __CUDACC__
#define SPARSE24_LOOP_HD __host__ __device__
#else
#define SPARSE24_LOOP_HD
#endif

namespace sparse24::harness::wgmma_bench {

inline constexpr int kWarpgroups = 2;            // the kernels' two consumer warpgroups
inline constexpr int kThreads = 128 * kWarpgroups;
inline constexpr int kWarpsPerSm = kThreads / 32;  // one block per SM
inline constexpr int kN = 256;                   // m64n256: the kernels' instruction
inline constexpr int kM = 64;                    // rows of one warpgroup instruction
inline constexpr int kRowBytes = 128;            // one k-tile of each row: B, dense A; compressed A uses 64
inline constexpr int kARowsPerWg = kM;
inline constexpr int kABytes = kWarpgroups * kARowsPerWg * kRowBytes;  // 16 KB (dense; the compressed tile uses half)
inline constexpr int kBBytes = kN * kRowBytes;                          // 32 KB
inline constexpr int kIterations = 2048;         // k-tiles per warpgroup: about 1 ms on an H100/H200
inline constexpr int kReps = 5;                  // timed launches (median)

// Forms of the loop: sparse with A from shared memory or from registers, or dense.
enum class Form { SparseSS, SparseRS, DenseSS };

SPARSE24_LOOP_HD constexpr bool is_sparse(Form f) { return f != Form::DenseSS; }
inline const char* form_name(Form f) {
  switch (f) {
    case Form::SparseSS: return "sparse_ss";
    case Form::SparseRS: return "sparse_rs";
    case Form::DenseSS: return "dense_ss";
  }
  return "?";
}

// ---- The account, per k-tile and SM (header comment) --------------------------------------------------------
inline constexpr int kWavefrontBytes = 128;           // one L1TEX data-pipe wavefront
inline constexpr int kDenseFmaPerCycle16 = 2048;      // 16-bit dense multiply-adds per SM and cycle (header)

// A bytes per row and k-tile as the loop stores them (compressed: half the dense K).
SPARSE24_LOOP_HD constexpr int a_row_bytes(Form f) { return is_sparse(f) ? kRowBytes / 2 : kRowBytes; }
// Instructions per k-tile and warpgroup: m64n256k32 sparse / k16 dense for 16-bit (2 / 4 for 128 bytes of K).
SPARSE24_LOOP_HD constexpr int k_steps(Form f) { return is_sparse(f) ? 2 : 4; }

SPARSE24_LOOP_HD constexpr int tensor_cycles_per_ktile(Form f) {
  // Dense-equivalent multiply-adds of the k-tile, in 16-bit terms (the type cancels, header): K = 128 bytes / 2.
  const int fma = kWarpgroups * kM * kN * (kRowBytes / 2);
  return fma / (is_sparse(f) ? 2 * kDenseFmaPerCycle16 : kDenseFmaPerCycle16);
}
SPARSE24_LOOP_HD constexpr int gmma_wavefronts_per_ktile(Form f) {
  const int b = kN * kRowBytes;
  const int a = f == Form::SparseRS ? 0 : kARowsPerWg * a_row_bytes(f);
  return kWarpgroups * (a + b) / kWavefrontBytes;
}
static_assert(tensor_cycles_per_ktile(Form::SparseSS) == 512 && tensor_cycles_per_ktile(Form::DenseSS) == 1024,
              "the header's tensor-cycle arithmetic");
static_assert(gmma_wavefronts_per_ktile(Form::SparseSS) == 576 && gmma_wavefronts_per_ktile(Form::SparseRS) == 512 &&
                  gmma_wavefronts_per_ktile(Form::DenseSS) == 640,
              "the header's wavefront arithmetic");

// ---- Extra shared-memory loads (the data-pipe experiment, issue 19 item 2) ----------------------------------
// X = extra LSU wavefronts per k-tile and SM: issued by the 8 consumer warps together, X / 8 by each, between the
// batch's commit and its wait. A warp's loads are 128-bit (4 wavefronts: 32 lanes x 16 contiguous bytes, each
// quarter-warp one 128-byte wavefront, no bank conflict), then one 64-bit (2) and one 32-bit (1) load for the rest.
struct ExtraLoads {
  int v4 = 0, v2 = 0, v1 = 0;  // loads per warp and k-tile of each width
  SPARSE24_LOOP_HD constexpr int wavefronts_per_warp() const { return 4 * v4 + 2 * v2 + v1; }
};
SPARSE24_LOOP_HD constexpr bool valid_extra(int x) { return x >= 0 && x % kWarpsPerSm == 0; }
SPARSE24_LOOP_HD constexpr ExtraLoads extra_loads(int x) {
  const int w = x / kWarpsPerSm;
  return ExtraLoads{w / 4, (w % 4) / 2, w % 2};
}

// The X of the experiment: from nothing to half the SS batch's own wavefronts, dense enough near 0 to see a knee.
inline constexpr std::array<int, 9> kExtraWavefronts = {0, 8, 16, 32, 64, 96, 128, 192, 288};

// The prediction (results/NOTES.md, "Session 10: the data-pipe experiment (prediction)"): if the pipe serves one
// wavefront per cycle per SM, is shared by the wgmma operand reads and the LSU loads, and is the wall, a k-tile
// takes max(tensor cycles, gmma wavefronts + X) cycles.
SPARSE24_LOOP_HD constexpr int predicted_cycles_per_ktile(Form f, int x) {
  const int t = tensor_cycles_per_ktile(f), p = gmma_wavefronts_per_ktile(f) + x;
  return t > p ? t : p;
}
// The X where the pipe starts to bind (0 when it binds already: SS; RS is balanced at X = 0).
SPARSE24_LOOP_HD constexpr int knee(Form f) {
  const int d = tensor_cycles_per_ktile(f) - gmma_wavefronts_per_ktile(f);
  return d > 0 ? d : 0;
}

}  // namespace sparse24::harness::wgmma_bench
