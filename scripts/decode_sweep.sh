#!/usr/bin/env bash
# The decode sweep (issue 8): five LLM weights x N = 1..128, every sparse family that pick() may return (skinny,
# mma_sp, wgmma_sp: sparse A, lane_blocks16 metadata; the dense family takes dense A and is left out), with cuBLAS,
# cuSPARSELt, the copy ceiling and the dispatcher's `auto` row, so that the dispatch table can pick across families.
#   scripts/decode_sweep.sh BUILD_DIR [DTYPE...] [-- sparse24_bench options...]
# DTYPE: fp16, bf16 (default both). One recorded run per dtype (scripts/bench.sh: results/<gpu>/<date>_<commit>[-N]),
# so that each stays under the device machine's 10 minutes per command; the table merges them with the latest full
# sweep (its large shapes; a shape in several reports takes the fastest row of any):
#   python3 scripts/make_dispatch_table.py FULL_SWEEP/bench.json RUN1/bench.json RUN2/bench.json
# (this script prints that line with the folders it recorded). Weights are M x K (A = W, M output features):
#   28672x8192 8192x8192 8192x28672 14336x4096 4096x14336
# --min-time 0.05 and --search-reps 3 as in the first decode sweep (results/nvidia-h100-80gb-hbm3/
# 2026-11-22_a2e31be-2), but with the ceilings measured in the run (the issue's target is a share of the copy rate).
set -uo pipefail
build=${1:?usage: scripts/decode_sweep.sh BUILD_DIR [fp16] [bf16] [-- sparse24_bench options...]}
shift
top=$(cd "$(dirname "$0")/.." && pwd)
dtypes=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do dtypes+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#dtypes[@]} -gt 0 ] || dtypes=(fp16 bf16)

weights="28672x8192 8192x8192 8192x28672 14336x4096 4096x14336"
shapes=""
for w in $weights; do
  for n in 1 2 4 8 16 32 64 128; do shapes="$shapes,${w%x*}x${n}x${w#*x}"; done
done
shapes=${shapes#,}

reports=()
rc_all=0
for t in "${dtypes[@]}"; do
  log=$(mktemp)
  "$top/scripts/bench.sh" "$build" --kernels '^(skinny|mma_sp|wgmma_sp)\.' --dtypes "$t" --shapes "$shapes" \
    --min-time 0.05 --search-reps 3 "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || rc_all=$rc
  run=$(sed -n 's/^run recorded in \([^;]*\);.*/\1/p' "$log" | tail -n 1)
  rm -f "$log"
  [ -n "$run" ] && reports+=("$run/bench.json")
done
if [ ${#reports[@]} -gt 0 ]; then
  echo "decode sweep recorded: ${reports[*]}"
  echo "dispatch table: python3 scripts/make_dispatch_table.py FULL_SWEEP/bench.json ${reports[*]}"
  echo "  (FULL_SWEEP: the latest full sweep's folder, for the shapes outside the decode sweep)"
fi
exit "$rc_all"
