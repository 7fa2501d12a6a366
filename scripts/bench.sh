#!/usr/bin/env bash
# make bench: the default sweep on this machine's GPU, recorded as a results folder, then printed as a table.
#   scripts/bench.sh BUILD_DIR [sparse24_bench options...]
# Writes results/<gpu>/<date>_<commit>/{bench.json,command.txt,environment.txt,bench.log}; commit that folder
# (and the regenerated results/README.md) to publish the run.
set -euo pipefail
build=${1:?usage: scripts/bench.sh BUILD_DIR [options]}
shift
top=$(cd "$(dirname "$0")/.." && pwd)
[ "${build#/}" != "$build" ] || build="$PWD/$build"  # BUILD_DIR is relative to where make was called
cd "$top"
bin="$build/sparse24_bench"

gpu=$( (nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || true) | head -n 1 | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')
gpu=${gpu:-unknown-gpu}
# The commit, as in scripts/commit_header.cmake: git's, "-dirty" if tracked files differ; in a copy without .git,
# SPARSE24_COMMIT if set.
if commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null); then
  git -C "$top" diff --quiet HEAD 2>/dev/null || commit="$commit-dirty"
else
  commit=${SPARSE24_COMMIT:-unknown}
fi
run="$top/results/$gpu/$(date -u +%Y-%m-%d)_$commit"
# A run that could not start (no GPU: exit 2) or wrote no JSON is removed again: nothing half-made stays.
base=$run
n=2
while [ -e "$run" ]; do run="$base-$((n++))"; done  # a second run of the same commit on the same day
mkdir -p "$run"

cmd=("${bin#$top/}" --json "${run#$top/}/bench.json" "$@")  # relative: the JSON records its own command line
# The command as a user would type it from the repository root.
{ printf '%q ' "${cmd[@]}"; echo; } | sed "s|$top/||g" >"$run/command.txt"
{
  echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -srm)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.sm,power.limit --format=csv 2>&1 || true
  "${CUDACXX:-nvcc}" --version 2>&1 | tail -n 2 || true
  echo "cmake: $(cmake --version | head -n 1)"
  echo "compiler: $(c++ --version | head -n 1)"
} >"$run/environment.txt"

set +e
"${cmd[@]}" 2>&1 | tee "$run/bench.log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -eq 2 ] || [ ! -s "$run/bench.json" ]; then
  rm -rf "$run"
  rmdir "$(dirname "$run")" 2>/dev/null || true
  echo "bench: nothing recorded (exit $rc)"
  exit "$rc"
fi
python3 "$top/scripts/make_results_readme.py" --table "$run/bench.json"
echo "run recorded in ${run#$top/}; regenerate the index with: python3 scripts/make_results_readme.py"
exit "$rc"
