#!/usr/bin/env bash
# make bench: a quick look (about 2 minutes on an H100/H200), recorded as a results folder, then a compact table.
#   scripts/bench.sh BUILD_DIR [sparse24_bench options...]
# The quick look, by rule (scripts/shape_sets.py): the shapes of the set "quick" in scripts/shape_sets.json; the
# variants the dispatch table names (what `auto` can pick: each family's fastest) and their dense twins; the peers
# and `auto`, which always run; --min-time 0.1 and --energy-time 0.1. Options given on the command line (BENCH_ARGS)
# replace the quick ones of the same name (--shapes, --kernels, --min-time, --energy-time/--no-energy).
# The console shows the estimate, one progress line per (dtype, shape) and the table; every row's line (wide) goes to
# the folder's bench.log only.
# Writes results/<gpu>/<date>_<commit>/{bench.json,command.txt,environment.txt,bench.log}; commit that folder
# (and the regenerated results/README.md) to publish the run.
#
# scripts/sweep.sh runs this with RUN_DIR (a fixed folder, reused: the sweep resumes in it) and QUICK=0.
set -euo pipefail
build=${1:?usage: scripts/bench.sh BUILD_DIR [options]}
shift
top=$(cd "$(dirname "$0")/.." && pwd)
[ "${build#/}" != "$build" ] || build="$PWD/$build"  # BUILD_DIR is relative to where make was called
cd "$top"
bin="$build/sparse24_bench"
quick=${QUICK:-1}

# The results folder's gpu and commit (scripts/run_id.sh).
source "$top/scripts/run_id.sh"
if [ -n "${RUN_DIR:-}" ]; then
  run="$top/${RUN_DIR#$top/}"
  fresh=0; [ -e "$run" ] || fresh=1
else
  run="$top/results/$gpu/$(date -u +%Y-%m-%d)_$commit"
  base=$run
  n=2
  while [ -e "$run" ]; do run="$base-$((n++))"; done  # a second run of the same commit on the same day
  fresh=1
fi
mkdir -p "$run"

# The quick look's options, unless the command line gives its own.
has() { local a; for a in "${args[@]}"; do [ "$a" = "$1" ] && return 0; done; return 1; }
args=("$@")
extra=()
if [ "$quick" = 1 ]; then
  has --shapes || extra+=(--shapes "$(python3 scripts/shape_sets.py quick)")
  if ! has --kernels; then
    dtypes=fp16,bf16
    for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[$i]}" = --dtypes ] && dtypes=${args[$((i + 1))]}; done
    extra+=(--kernels "$("$bin" --list-json | python3 scripts/shape_sets.py --quick-kernels "$dtypes")")
  fi
  has --min-time || extra+=(--min-time 0.1)
  has --energy-time || has --no-energy || extra+=(--energy-time 0.1)
fi

# A sweep's folder holds one report per session (its context and that session's rows) and rows.jsonl (every row).
json="$run/bench.json"
if [ -n "${RUN_DIR:-}" ]; then
  s=1
  while [ -e "$run/session-$s.json" ] || [ -e "$run/session-$s.json.gz" ]; do s=$((s + 1)); done  # .gz: committed
  json="$run/session-$s.json"
fi
cmd=("${bin#$top/}" --json "${json#$top/}" "${extra[@]}" "$@")  # relative: the JSON records its own command line
# The command as a user would type it from the repository root (a sweep's sessions: one line each).
{ printf '%q ' "${cmd[@]}"; echo; } | sed "s|$top/||g" >>"$run/command.txt"
{
  echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -srm)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.sm,power.limit --format=csv 2>&1 || true
  "${CUDACXX:-nvcc}" --version 2>&1 | tail -n 2 || true
  echo "cmake: $(cmake --version | head -n 1)"
  echo "compiler: $(c++ --version | head -n 1)"
} >>"$run/environment.txt"

# stdout (one wide line per row) to the log only; stderr (estimate, progress, peers, failures) to the console too.
set +e
"${cmd[@]}" >>"$run/bench.log" 2> >(tee -a "$run/bench.log" >&2)
rc=$?
set -e
wait  # the tee above
if [ "$rc" -eq 2 ] || [ ! -s "$json" ]; then
  if [ "$fresh" = 1 ]; then
    rm -rf "$run"
    rmdir "$(dirname "$run")" 2>/dev/null || true
  else
    rm -f "$json"
  fi
  echo "bench: nothing recorded (exit $rc)"
  exit "$rc"
fi
if [ -n "${RUN_DIR:-}" ]; then
  python3 "$top/scripts/make_results_readme.py" --compact "$run"
else
  python3 "$top/scripts/make_results_readme.py" --compact "$json"
fi
# scripts/decode_sweep.sh reads the folder from this line, up to the ';'.
echo "run recorded in ${run#$top/}; every row's line is in its bench.log; regenerate the index with: python3 scripts/make_results_readme.py"
exit "$rc"
