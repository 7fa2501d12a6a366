#!/usr/bin/env bash
# One full pass on a GPU host, in one command: build, every test (the GPU ones and the SASS check run there),
# benchmark sweep, sanitizers, and optionally one ncu profile.
# Logs and JSON go to OUT (default ./gpu-run); every step runs even if an earlier one failed, and the summary at
# the end says which passed. Used for the device machine, where each call is expensive, and for a quick look on
# any CUDA machine.
#   scripts/gpu_host_run.sh [OUT] [sparse24_bench options for the sweep...]
# Environment: BUILD_DIR (build-gpu), SKIP_SANITIZE=1, SKIP_BENCH=1, PROFILE="VARIANT SHAPE" (scripts/profile.sh
# on one variant, into OUT/prof), TOTAL_S (a wall-clock budget for the whole
# pass: the benchmark and the sanitizers get what is left of it, so a cut-off call still returns its logs).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=${1:-gpu-run}
shift || true
mkdir -p "$out"
out=$(cd "$out" && pwd)
build=${BUILD_DIR:-build-gpu}
export SPARSE24_REQUIRE_GPU=1  # this is a GPU host: a GPU test that cannot reach it fails instead of skipping
declare -A status

step() {  # step NAME TIMEOUT_S COMMAND...: runs it, logs to OUT/NAME.log, records pass/fail
  local name=$1 limit=$2
  if [ -n "${TOTAL_S:-}" ]; then  # never past the pass's budget
    local left=$((TOTAL_S - SECONDS - 15))
    [ "$left" -lt "$limit" ] && limit=$left
    if [ "$limit" -le 0 ]; then status[$name]="not run: no time left"; shift 2; return; fi
  fi
  shift 2
  echo "=== $name: $*"
  local t0=$SECONDS
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  status[$name]="exit $rc, $((SECONDS - t0)) s"
  tail -n 25 "$out/$name.log"
}

nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv >"$out/gpu.txt" 2>&1
step build 400 make build BUILD_DIR="$build"
step ctest 300 ctest --test-dir "$build" --output-on-failure
[ "${SKIP_BENCH:-0}" = 1 ] || step bench 500 make bench BUILD_DIR="$build" BENCH_ARGS="$*"
[ "${SKIP_SANITIZE:-0}" = 1 ] || step sanitize 400 make sanitize BUILD_DIR="$build"
# shellcheck disable=SC2086  # PROFILE is two words on purpose
[ -z "${PROFILE:-}" ] || step profile 200 scripts/profile.sh "$build" $PROFILE "$out/prof/profile"
# One archive for what nests too deep to copy back as it is: the results folders and the profile.
mkdir -p "$out/prof"
tar czf "$out/artifacts.tgz" results -C "$out" prof 2>/dev/null || true
rm -rf "$out/prof"

echo "=== summary"
for k in build ctest bench sanitize profile; do [ -n "${status[$k]:-}" ] && echo "$k: ${status[$k]}"; done
