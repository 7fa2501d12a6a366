#!/usr/bin/env bash
# The metadata's shared-memory wavefronts (issue 17, the third measure beside bytes and time): Nsight Compute on
# each sparse family's best variants and every constant-metadata twin (kernels/ablations/) with its real variant,
# at a few shapes, one JSON per (variant, shape), in one run of a few minutes. scripts/overhead.py reads the folder.
#   scripts/overhead_ncu.sh BUILD_DIR [OUT_DIR]
# Environment (all optional):
#   FILTER   named filters of scripts/shape_sets.json (default overhead,best: the twins with their real variants,
#            and each family's fastest variants)
#   DTYPES   A types (default bf16,int8,e4m3: fp16's kernels are bf16's instruction for instruction, so its
#            wavefronts add nothing)
#   SHAPES   comma-separated MxNxK (default 8192x8192x8192,28672x16x8192: a large square and a decode shape, the
#            latter the one where every twin runs: the skinny twin, ablations.s01_skinnyconstmeta, takes N <= 16)
#   BUDGET   seconds; a (variant, shape) not started by then is recorded as skipped, never left out (default 420)
#   PER_RUN  seconds one ncu run may take before it is stopped and recorded as failed (default 120)
#   KEEP_REP 1 keeps the .ncu-rep files (default: deleted, the CSV and JSON hold the figures)
# The variants come from the registry by rule (scripts/shape_sets.py --pairs: the filters' variants at the shapes
# their rules accept on this GPU), never typed here: the wgmma_sp, mma_sp and skinny twins with their real
# variants. The skinny family's metadata never reaches shared memory (16-byte loads into registers), so its pair
# shows in the records' DRAM bytes (scripts/overhead.py's DRAM read column), not in the wavefronts. Each run is
# scripts/profile.sh --wavefronts: the variant's own NVTX range only, the type-independent metrics, clocks as the
# card has them. OUT_DIR defaults to results/<gpu>/overhead-ncu_<date>_<commit>/; it gets <variant>@<shape>.json
# (scripts/overhead_ncu.py), <variant>@<shape>.csv, ncu.log (every run's output) and command.txt.
set -euo pipefail
build=${1:?usage: scripts/overhead_ncu.sh BUILD_DIR [OUT_DIR]}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "${build#/}" != "$build" ] || build="$PWD/$build"
filters=${FILTER:-overhead,best}
dtypes=${DTYPES:-bf16,int8,e4m3}
shapes=${SHAPES:-8192x8192x8192,28672x16x8192}
budget=${BUDGET:-420}
per_run=${PER_RUN:-120}

# The results folder's gpu and commit (scripts/run_id.sh).
source "$top/scripts/run_id.sh"
out=${2:-$top/results/$gpu/overhead-ncu_$(date -u +%Y-%m-%d)_$commit}
mkdir -p "$out"
echo "scripts/overhead_ncu.sh ${build#$top/} (FILTER=$filters DTYPES=$dtypes SHAPES=$shapes BUDGET=$budget" \
     "PER_RUN=$per_run)" >>"$out/command.txt"

# The GPU's compute capability (90 for 9.0), so that a variant it cannot run is not profiled; none without a GPU.
sm=$( (nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null || true) | head -n 1 | tr -cd '0-9')
mapfile -t runs < <("$build/sparse24_bench" --list-json |
                     python3 "$top/scripts/shape_sets.py" --pairs "$filters" "$dtypes" "$shapes" $sm)
[ "${#runs[@]}" -gt 0 ] || { echo "overhead_ncu: filters $filters keep no variant of $dtypes at $shapes"; exit 1; }
total=${#runs[@]}
echo "overhead_ncu: $total ncu runs ((variant, shape) pairs) into ${out#$top/} (budget ${budget} s)"
start=$SECONDS
n=0 failed=0
for pair in "${runs[@]}"; do
  v=${pair% *} shape=${pair#* }
  n=$((n + 1))
  base="$out/$v@$shape"
  if [ $((SECONDS - start)) -ge "$budget" ]; then
    python3 "$top/scripts/overhead_ncu.py" "$base.csv" --variant "$v" --shape "$shape" --out "$base.json" \
      --status skipped --reason "the run's budget of $budget s was spent before this one started" >/dev/null ||
      true  # the record says skipped; overhead_ncu.py's exit 1 means just that
    failed=$((failed + 1))
    continue
  fi
  t0=$SECONDS
  rc=0
  timeout "$per_run" "$top/scripts/profile.sh" --wavefronts "$build" "$v" "$shape" "$base" >>"$out/ncu.log" 2>&1 ||
    rc=$?
  if [ "$rc" -eq 0 ]; then
    python3 "$top/scripts/overhead_ncu.py" "$base.csv" --variant "$v" --shape "$shape" --out "$base.json" \
      >/dev/null || { rc=1; failed=$((failed + 1)); }
  else
    reason="scripts/profile.sh --wavefronts exited $rc$([ "$rc" -eq 124 ] && echo " (stopped after $per_run s)")"
    python3 "$top/scripts/overhead_ncu.py" "$base.csv" --variant "$v" --shape "$shape" --out "$base.json" \
      --status failed --reason "$reason; ncu.log has its output" >/dev/null || true
    failed=$((failed + 1))
  fi
  [ "${KEEP_REP:-0}" = 1 ] || rm -f "$base.ncu-rep"
  echo "overhead_ncu: [$n/$total] $v $shape: $([ "$rc" -eq 0 ] && echo ok || echo "FAILED (rc $rc)")" \
       "$((SECONDS - t0)) s, elapsed $((SECONDS - start)) s"
done
echo "overhead_ncu: $((total - failed)) of $total records ok in $((SECONDS - start)) s; folder ${out#$top/}" \
     "(scripts/overhead.py reads it)"
[ "$failed" -eq 0 ]
