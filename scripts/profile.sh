#!/usr/bin/env bash
# Nsight Compute on one variant at one shape, beside cuBLAS and cuSPARSELt (the configurations their rows time) on
# the same problem, with the metrics that matter for a sparse GEMM already chosen. Clocks are left as the card has
# them (--clock-control none), always.
#   scripts/profile.sh [--wavefronts] BUILD_DIR VARIANT SHAPE [OUT_PREFIX]
#   scripts/profile.sh build mma_sp.s02_smem.bf16.128x128x64.w2x2.s1 8192x8192x8192 prof/s02
# Writes OUT_PREFIX.ncu-rep (open it in ncu-ui) and OUT_PREFIX.csv (raw metrics, one row per kernel).
# --wavefronts: the variant alone (no peers, no sections), only the type-independent metrics below (shared-memory
# wavefronts by operation, tensor instructions, DRAM bytes, time), the CSV in base units: a few replay passes, for
# scripts/overhead_ncu.sh (the metadata's wavefronts, a real kernel against its constant-metadata twin).
set -euo pipefail
wavefronts=0
if [ "${1:-}" = --wavefronts ]; then
  wavefronts=1
  shift
fi
build=${1:?usage: scripts/profile.sh [--wavefronts] BUILD_DIR VARIANT SHAPE [OUT_PREFIX]}
variant=${2:?variant name, as printed by make list}
shape=${3:?shape MxNxK}
out=${4:-profile-$variant-$shape}
ncu=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
[ -x "$ncu" ] || { echo "profile: ncu (Nsight Compute) not found"; exit 1; }
# The variant's A type and operation, read from its fields (sparse24_bench --list-json), never parsed out of its
# name. A prune_compress variant (kernels/format's GPU path) is profiled alone: the GEMM peers run with GEMMs only.
read -r dtype operation < <("$build/sparse24_bench" --list-json | python3 -c '
import json, sys
name = sys.argv[1]
match = [v for v in json.load(sys.stdin) if v["name"] == name]
if not match:
    sys.exit(f"profile: no variant named {name} (make list prints them)")
print(match[0]["types"]["a"], match[0].get("operation", "gemm"))' "$variant")
[ -n "${operation:-}" ] || exit 1
mkdir -p "$(dirname "$out")"

# Sections: speed of light (compute vs memory), where the tensor pipe and the memory hierarchy spend their time,
# occupancy and launch resources, warp-state (stall reasons). Metrics: the sparse and dense tensor-op counts of
# the warp-level (hmma) and warpgroup (hgmma, Hopper) paths (sparsity_on must dominate in a sparse kernel; cuBLAS
# on Hopper uses hgmma), tensor-pipe activity, shared-memory bank conflicts of ldmatrix/ld.shared, DRAM traffic,
# and the shared-memory data pipe's wavefronts by operation: gmma (the operands an SS wgmma reads from shared
# memory), ld, st, misc, reads and writes. On Hopper that pipe, not the tensor pipe, limits a sparse SS wgmma
# (results/NOTES.md, session 5): compare the gmma wavefronts per wgmma with the operand bytes / 128.
# The type-independent ones (the --wavefronts set) first.
wavefront_metrics=(
  sm__cycles_elapsed.avg.per_second
  l1tex__data_pipe_lsu_wavefronts_mem_shared.sum.pct_of_peak_sustained_elapsed
  sm__inst_executed_pipe_tensor_op_gmma.sum
  sm__inst_executed_pipe_tensor_op_hmma.sum
  l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum
  l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_gmma.sum
  l1tex__data_pipe_lsu_wavefronts_mem_shared.sum
  l1tex__data_pipe_lsu_wavefronts_mem_shared_op_gmma.sum
  l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum
  l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum
  l1tex__data_pipe_lsu_wavefronts_mem_shared_op_misc.sum
  l1tex__data_pipe_lsu_wavefronts_mem_shared_cmd_read.sum
  l1tex__data_pipe_lsu_wavefronts_mem_shared_cmd_write.sum
  l1tex__lsuin_requests_op_gmma.sum
  dram__bytes_read.sum
  dram__bytes_write.sum
  gpu__time_duration.sum
)
metrics=(
  "${wavefront_metrics[@]}"
  "sm__ops_path_tensor_op_hmma_src_${dtype}_dst_fp32_sparsity_on.sum"
  "sm__ops_path_tensor_op_hmma_src_${dtype}_dst_fp32_sparsity_off.sum"
  "sm__ops_path_tensor_op_hgmma_src_${dtype}_dst_fp32_sparsity_on.sum"
  "sm__ops_path_tensor_op_hgmma_src_${dtype}_dst_fp32_sparsity_off.sum"
  sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active
  sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active
  l1tex__throughput.avg.pct_of_peak_sustained_active
  # The L2 -> SM path (the batched-decode band: each CTA re-reads B, and at N = 100-256 B is most of its bytes):
  # L2 sectors served to the SMs' L1TEX (TMA included) against peak, the bytes per second that cross the crossbar
  # into the SMs, and DRAM on the same (elapsed) basis.
  lts__t_sectors_srcunit_tex.avg.pct_of_peak_sustained_elapsed
  l1tex__m_xbar2l1tex_read_bytes.sum.per_second
  dram__throughput.avg.pct_of_peak_sustained_elapsed
)
bench_args=(--profile --kernels "^${variant//./\\.}\$" --shapes "$shape" --dtypes "$dtype" --operations "$operation")

if [ "$wavefronts" = 1 ]; then
  metric_list=$(IFS=,; echo "${wavefront_metrics[*]}")
  "$ncu" --clock-control none --nvtx --nvtx-include "$variant:$shape/" --metrics "$metric_list" -f -o "$out" \
    "$build/sparse24_bench" "${bench_args[@]}"
  "$ncu" --import "$out.ncu-rep" --csv --page raw --print-units base >"$out.csv"
  echo "profile: $out.ncu-rep, $out.csv"
  exit 0
fi
metric_list=$(IFS=,; echo "${metrics[*]}")

"$ncu" --clock-control none --nvtx \
  --nvtx-include "$variant:$shape/" --nvtx-include "cublas.dense.$dtype:$shape/" \
  --nvtx-include "cusparselt.$dtype:$shape/" \
  --section SpeedOfLight --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis \
  --section MemoryWorkloadAnalysis_Tables --section Occupancy --section LaunchStats --section WarpStateStats --metrics "$metric_list" \
  -f -o "$out" \
  "$build/sparse24_bench" "${bench_args[@]}"
"$ncu" --import "$out.ncu-rep" --csv --page raw >"$out.csv"
"$ncu" --import "$out.ncu-rep" --page details --section SpeedOfLight
echo "profile: $out.ncu-rep, $out.csv"
