// Ceilings measured on the GPU at hand, never typed in (design.md, "The harness"): the warp-level tensor-core
// instruction loops (mma.sp m16n8k32 and mma.sync m16n8k16, each 16-bit type) and the device-to-device copy rate.
// Every benchmark row's pct_of_ceiling and pct_of_copy are relative to these, and the run's JSON context holds them.
#pragma once

#include <cuda_runtime_api.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kernels/common/dtype.h"

namespace sparse24::harness {

struct Ceilings {
  bool measured = false;
  std::map<DType, double> mma_sp_tflops;    // dense-equivalent: 2 * 16 * 8 * 32 flops per mma.sp.m16n8k32
  std::map<DType, double> mma_sync_tflops;  // 2 * 16 * 8 * 16 flops per mma.sync.m16n8k16
  // The warpgroup loops (sm_90 only, harness/ceilings_wgmma.cu), dense-equivalent, keyed "<form>_<dtype>":
  // wgmma_sp_ss (wgmma.sp, A and B from shared memory), wgmma_sp_rs (A from registers), wgmma_ss (dense), for
  // fp16, bf16, int8, e4m3 and tf32, m64n256, two warpgroups per SM.
  std::map<std::string, double> wgmma_tflops;
  double copy_gbps = 0;                     // cudaMemcpyAsync device to device: (read + write bytes) / time
  int sm_clock_mhz = -1;                    // SM clock read right after the instruction loops (-1: unknown)
  std::string error;                        // why nothing was measured (GPU below sm_80, ...)

  // The instruction ceiling of a row: mma.sp for sparse rows (ours and cuSPARSELt), mma.sync for dense ones
  // (ours and cuBLAS). 0 when not measured.
  double tflops(DType t, bool sparse) const;
  // The same for a row that issues the warpgroup instructions (`warpgroup`: the wgmma families, and the libraries
  // on sm_90, whose kernels are wgmma kernels): the wgmma_sp_ss or wgmma_ss loop of the type; the warp-level loop
  // when that was not measured.
  double tflops(DType t, bool sparse, bool warpgroup) const;
  // JSON context entries: ceiling_mma_sp_<dtype>_tflops, ceiling_mma_sync_<dtype>_tflops, copy_gbps,
  // ceiling_sm_clock_mhz (values as text, one decimal).
  std::vector<std::pair<std::string, std::string>> context() const;
};

// Runs the loops and the copy on `device` (a few tens of milliseconds). Never throws for a GPU that lacks the
// instructions: returns measured = false with the reason.
Ceilings measure_ceilings(int device, cudaStream_t stream);
// The warpgroup loops into c.wgmma_tflops (nothing on a GPU other than sm_90).
void measure_wgmma_ceilings(Ceilings& c, int device, cudaStream_t stream);

}  // namespace sparse24::harness
