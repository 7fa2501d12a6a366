#!/usr/bin/env bash
# The data-pipe experiment (issue 19 item 2; harness/experiments/datapipe.cu, prediction in results/NOTES.md,
# "Session 10: the data-pipe experiment (prediction)"): the timed rows, then Nsight Compute over the same kernels,
# into one folder. Clocks as the card has them (--clock-control none), always.
#   scripts/datapipe.sh BUILD_DIR [OUT_DIR]
# OUT_DIR defaults to results/<gpu>/datapipe_<date>_<commit>/. It gets
#   datapipe.json      sparse24_datapipe's rows: (form, X) -> cycles per k-tile (clock64), TFLOP/s, the prediction
#   order.jsonl        the launch order of the profiled run (one kernel per (form, X))
#   ncu.csv            ncu's raw metrics, base units, one line per kernel; ncu.log its output
#   datapipe_ncu.json  scripts/datapipe.py: the rows joined with ncu's figures, the fits; datapipe.csv the same table
#   command.txt        how it was made
# Duration: about a minute on an H200 (27 kernels of about 1 ms: timed 6 times each, then profiled once each).
# KEEP_REP=1 keeps ncu's report (ncu.ncu-rep; default: deleted, the CSV holds the figures).
set -euo pipefail
build=${1:?usage: scripts/datapipe.sh BUILD_DIR [OUT_DIR]}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "${build#/}" != "$build" ] || build="$PWD/$build"
exe="$build/sparse24_datapipe"
[ -x "$exe" ] || {
  echo "datapipe: $exe not found (built for sm_90a, CMake 3.25+: cmake --build $build --target sparse24_datapipe)"
  exit 1
}
ncu=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
[ -x "$ncu" ] || { echo "datapipe: ncu (Nsight Compute) not found"; exit 1; }

# The results folder's gpu and commit (scripts/run_id.sh).
source "$top/scripts/run_id.sh"
out=${2:-$top/results/$gpu/datapipe_$(date -u +%Y-%m-%d)_$commit}
mkdir -p "$out"
rm -f "$out/ncu.log"
echo "scripts/datapipe.sh ${build#$top/} ${2:-}" >>"$out/command.txt"
start=$SECONDS

# 1. The timed rows (exit 1 on a wrong checksum of the extra loads: the folder keeps the rows and says so).
rc=0
"$exe" --json "$out/datapipe.json" || rc=$?
[ "$rc" = 0 ] || { echo "datapipe: sparse24_datapipe exited $rc (77: no sm_90 GPU)"; exit "$rc"; }

# 2. Nsight Compute, every metric on one basis: the share of the peak sustained over the elapsed cycles. The raw
# counts beside them give the per-k-tile figures (wavefronts by operation, elapsed cycles).
metrics=(
  l1tex__data_pipe_lsu_wavefronts_mem_shared.sum.pct_of_peak_sustained_elapsed
  l1tex__data_pipe_lsu_wavefronts_mem_shared_op_gmma.sum.pct_of_peak_sustained_elapsed
  l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum.pct_of_peak_sustained_elapsed
  sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_elapsed
  l1tex__data_pipe_lsu_wavefronts_mem_shared.sum
  l1tex__data_pipe_lsu_wavefronts_mem_shared_op_gmma.sum
  l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum
  l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum
  l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum
  sm__pipe_tensor_op_gmma_cycles_active.avg
  sm__inst_executed_pipe_tensor_op_gmma.sum
  sm__cycles_elapsed.avg
  sm__cycles_elapsed.max
  sm__cycles_elapsed.avg.per_second
  gpu__time_duration.sum
)
ncu_failed() {
  echo "datapipe: ncu failed (the end of $out/ncu.log:)"
  tail -n 20 "$out/ncu.log"
  exit 1
}
profile() {
  local metric_list
  metric_list=$(IFS=,; echo "${metrics[*]}")
  "$ncu" --clock-control none --metrics "$metric_list" -f -o "$out/ncu" "$exe" --profile "$out/order.jsonl" \
    >>"$out/ncu.log" 2>&1
}
if ! profile; then
  # A metric this ncu does not know fails the whole run: once, drop the ones its log names and run again
  # (scripts/datapipe.py derives a missing pct from the raw counts where it can).
  unknown=()
  for m in "${metrics[@]}"; do grep -qE -- "${m//./\\.}([^a-z0-9_.]|\$)" "$out/ncu.log" && unknown+=("$m"); done
  [ "${#unknown[@]}" -gt 0 ] || ncu_failed
  echo "datapipe: ncu refused ${unknown[*]}; profiling without them" | tee -a "$out/command.txt"
  kept=()
  for m in "${metrics[@]}"; do [[ " ${unknown[*]} " == *" $m "* ]] || kept+=("$m"); done
  metrics=("${kept[@]}")
  profile || ncu_failed
fi
"$ncu" --import "$out/ncu.ncu-rep" --csv --page raw --print-units base >"$out/ncu.csv"
[ "${KEEP_REP:-0}" = 1 ] || rm -f "$out/ncu.ncu-rep"

# 3. One table.
rc=0
python3 "$top/scripts/datapipe.py" "$out" || rc=$?
echo "datapipe: ${out#$top/} ($((SECONDS - start)) s)"
exit "$rc"
