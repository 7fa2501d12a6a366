// wgmma_sp step 13, "tall": s11's persistent split-K units at BM = 192 and 256 (three and four consumer
// warpgroups, one m64 tile each, every consumer reading the same B stage): more rows of A per SM for each byte of B
// that crosses into it, for the batched-decode band (N = 32-256).
//
// What it adds over s11_narrow: the block tile's height. s11 (like every earlier step) has BM = 128, two consumer
// warpgroups; here the skeleton takes one to four (kernels/wgmma/kernel.cuh: the register split as a function of
// the consumer count, consumer_regs), and this step registers BM = 256 x BN = 64 / 128 (four consumers) and BM =
// 192 x BN = 200 (three: N = 200 in one column tile). Everything else is s11's, composed by name below: s03's
// in-flight mainloop on s02's LaneBlocks16 metadata (a consumer's row groups 2c and 2c + 1 of the stage's BM / 32),
// s11's NarrowSplitKUnits (persistent CTAs, the streaming split: every resident CTA a unit), s08's partials with
// s02's RegisterEpilogue at split 1. 16-bit only (fp16, bf16): see "Not here" below.
//
// Why (the L2 -> SM ingress, the H200 finding of session 10): in the band a CTA's bytes per SM are the wall, not
// DRAM. s08 128x256 (cluster 2) at 8192x200x29568 moved 1.03 GB from L2 into the SMs in 142.9 us, ~7.3 TB/s over
// 132 SMs (~55 GB/s per SM) whatever the multicast, while DRAM moved a third of that. Per dense K element a CTA of
// BM x BN takes A + metadata 1.125 BM bytes (16-bit: one compressed value per 2 of K, 2 bits of metadata per value)
// and B 2 min(BN, N) bytes, so the ingress of one column tile of D is
//     M K (1.125 + 2 min(BN, N) / BM) bytes,
// and a taller tile divides B's share by BM. The three shapes the header's numbers follow (M K in millions):
//   8192x200x29568 (242.2): BM 128 x BN 256    4.25 M K = 1029 MB = 141 us at 7.3 TB/s (s08 ran 141-143 us)
//                           BM 192 x BN 200    3.21 M K =  778 MB = 107 us
//                           BM 256 x BN 128 x 2 column tiles: 2 x 1.125 + 2 x 200 / 256 = 3.81 M K = 923 MB
//   28672x128x8192 (234.9): BM 128 x BN 128    3.125 M K = 734 MB = 101 us (DRAM: 274 MB = 64 us)
//                           BM 256 x BN 128    2.125 M K = 499 MB =  68 us
//   10240x48x8192 (83.9):   BM 128 x BN 64     1.875 M K = 157 MB =  22 us (DRAM: 96 MB = 22.5 us: DRAM-bound)
//                           BM 256 x BN 64     1.5   M K = 126 MB =  17 us
// So the taller tile pays where B's share is large: N >= ~100 (ingress-bound at BM 128); at N <= 64 it leaves DRAM
// the wall (it still takes ~20% off the ingress, the margin the partly busy SMs of a second round need).
//
// Register account (one block of 512 or 640 threads per SM, kernels/wgmma/kernel.cuh's consumer_regs): at entry
// 65536 / 640 = 102 -> 96 per thread (four consumers), 65536 / 512 = 128 (three); the producer gives back to 32,
// so a consumer thread may hold (5 x 96 - 32) / 4 = 112 (four) or (4 x 128 - 32) / 3 = 160 (three). Accumulators:
// 64 x BN / 128 per thread = 32 (BN 64), 64 (BN 128), 100 (BN 200); the rest is the mainloop's (descriptors, two
// metadata registers and the two of the batch in flight, the ring position) and the epilogue's. ptxas (sm_90a,
// nvcc 13.0; the SASS's highest register in each role): 256 x 64 consumers R0-R61, 256 x 128 R0-R93 (of 112),
// 192 x 200 R0-R129 (of 160), the producer below R20 (of 32); no spills (the build fails on one). NOTE: 192 x 256
// (128 accumulators, the natural tile for N = 256) was tried and refused by ptxas, "insufficient registers (128)"
// (C7602, it asked for 155 at the entry count of 512 threads): N = 256 takes 256 x 128 (two column tiles, 4.25 M K
// of ingress, against 3.79 M K at 192 x 256 and 5.125 M K at 128 x 256).
//
// Shared memory (stages to fill ~200 KB, at most 227 KB a block): a stage is A BM x 64 B + B BN x 128 B + metadata
// BM / 32 x 256 B, each part 1024-aligned:
//   256 x  64: 16 + 8 + 2 KB = 26 KB x 8 stages = 208 KB     192 x 200: 12 + 25 + 1.5 -> 39 KB x 5 = 195 KB
//   256 x 128: 16 + 16 + 2 KB = 34 KB x 6 stages = 204 KB
// The TMA boxes stay legal: A BM <= 256 rows of 64 bytes, B BN <= 256 rows of 128 bytes (rows past N arrive as
// zeros and count toward the stage's bytes), metadata BM / 32 rows.
//
// PREDICTION (H200, fp16, same run as s08 / s11 and cuBLAS; results/NOTES.md "Session 10: wgmma_sp.s13_tall
// (prediction)"): time = max(DRAM bytes / 4.27 TB/s, ingress bytes / 7.3 TB/s, tensor time at 8192 dense-equivalent
// flops per SM and clock, 1.98 GHz) + ~3 us (+ ~2 us for the reduction launch at split > 1). The streaming split
// (s11's, split 0) can leave some SMs a second unit; if the ~55 GB/s per SM is a cap (not an average), those SMs
// set the time, so each line gives the range [aggregate formula, busiest SM's ingress / 55 GB/s]:
//   8192x200x29568   192x200 split 4 (172 units: 40 SMs take two): 112-171 us = 1.51-0.99x cuBLAS (168.8 us);
//                    the forced split 3 row (129 units, one round): 112-115 us = 1.47-1.51x. s08 128x256: 141 us.
//   28672x64x8192    256x64 split 2 (224 units): 75 us = 1.64x cuBLAS (122.7 us): the partials (29 MB) cost what
//                    the ingress saves; s11 128x64 (split 1) measured 79.2 us.
//   10240x48x8192    256x64 split 4 (160 units): 31-34 us = 1.44-1.33x cuBLAS (44.8 us); s11 128x64 44.6 us.
//   6144x100x4096    256x128 split 6 (144 units): ~19 us = 0.92x cuBLAS (17.5 us): too small for the fixed costs
//                    and the partials (split 6: 15 MB against 29 MB of weight); s13 is not the tile for it.
//   28672x128x8192   256x128 split 2: 83-86 us against s11 128x128's 104-122 (1.25-1.4x faster).
// Not here: 8-bit (int8, fp8) tall tiles (fp8's promoted sums need two accumulator sets, beyond 112 registers at
// BM 256; int8 would fall out of the same composition at BK = 128 and is left for a measured reason to add it);
// a split that fits one round (floor(SMs / tiles) instead of the streaming split's ceiling: 8192x200x29568's 3
// instead of 4), which the forced split 3 row tests first.
// Preconditions: as s11 (M % 32 == 0, K % 64 == 0, any N >= 1, 16-byte aligned operands and rows; SPLIT in 0..32).
// sm_90a only.
// Measured: NVIDIA H200, 8192x200x29568 fp16, best tile 192x200x64: 813.9 TFLOP/s = 88% of the mma.sp m16n8k32 loop (922), 1.37x cuBLAS (run nvidia-h200/session10_2026-12-03_a27091c).
#pragma once

#include "kernels/wgmma_sp/s11_narrow.cuh"

namespace sparse24::wgmma_sp {

// T (fp16 or bf16), BM x BN x BK, WM x WN warps (WM = 4 per consumer warpgroup: 12 or 16), STAGES, GROUP, SPLIT (0:
// s11's streaming split, chosen in prepare()). s11's components at a taller tile, by name.
template <DType T, int BM, int BN, int BK, int WM, int WN, int STAGES, int GROUP, int SPLIT>
struct s13_tall
    : wgmma::Kernel<s13_tall<T, BM, BN, BK, WM, WN, STAGES, GROUP, SPLIT>,
                    NarrowMainloop<wgmma::StageRing<SparseTile<T, BM, BN, BK, WM, WN>,
                                                    LaneBlocks<SparseTile<T, BM, BN, BK, WM, WN>>, STAGES>>,
                    NarrowSplitKUnits<SparseTile<T, BM, BN, BK, WM, WN>, GROUP, SPLIT>,
                    PartialsEpilogue<RegisterEpilogue<SparseTile<T, BM, BN, BK, WM, WN>>,
                                     SecondLaunchReduction<SparseTile<T, BM, BN, BK, WM, WN>>>> {
  static_assert(BM == 192 || BM == 256, "three or four consumer warpgroups (BM = 128 is s11's)");
  static_assert(T == DType::fp16 || T == DType::bf16, "16-bit inputs (the header's 'Not here' says why)");
  static_assert(BM == 256 ? (BN == 64 || BN == 128) : BN == 200,
                "the tiles ptxas fits: 256 x 64 / 128 (four consumers), 192 x 200 (three; 192 x 256 is refused)");
};

}  // namespace sparse24::wgmma_sp
