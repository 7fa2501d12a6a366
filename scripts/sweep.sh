#!/usr/bin/env bash
# make sweep SET=<name> [FILTER=<regex or named filter>] [DTYPES=fp16,bf16] [BUILD_DIR=build]: every registered
# variant (or those FILTER keeps) over a named shape set of scripts/shape_sets.json, resumable.
#   scripts/sweep.sh BUILD_DIR SET [FILTER] [DTYPES] [sparse24_bench options...]
# FILTER: a --kernels regex, or one or more named filters of scripts/shape_sets.json's "filters", comma-separated
# (best: each sparse family's fastest variants; overhead: the constant-metadata twins and their real variants;
# `python3 scripts/shape_sets.py --filters` lists them), resolved against this build's registry by their fields.
# The peers and `auto` run with any filter.
# Timing: --min-time 0.1 and --energy-time 0.1 (as make bench) unless the options give their own: a sweep is many
# rows, and the harness prints its estimate and a progress line per (dtype, shape) with the time left.
# The folder is results/<gpu>/sweep-<SET>_<commit>/: the same command on the same commit finds it again and skips
# the rows its rows.jsonl already holds (sparse24_bench --resume), so an interrupted sweep loses at most the
# (dtype, shape) it was in. Each session adds its command (command.txt), its environment and its report
# (session-<n>.json: the context, and the rows run in that session); rows.jsonl holds every row.
set -euo pipefail
build=${1:?usage: scripts/sweep.sh BUILD_DIR SET [FILTER] [DTYPES] [options]}
set_name=${2:?usage: scripts/sweep.sh BUILD_DIR SET [FILTER] [DTYPES] [options]; sets: $(python3 "$(dirname "$0")/shape_sets.py" --list | cut -d: -f1 | tr '\n' ' ')}
filter=${3:-}
dtypes=${4:-}
shift $(($# < 4 ? $# : 4))
top=$(cd "$(dirname "$0")/.." && pwd)
[ "${build#/}" != "$build" ] || build="$PWD/$build"
shapes=$(python3 "$top/scripts/shape_sets.py" "$set_name")  # exits 1 naming the known sets

# A named filter (every comma-separated word a filter's name) becomes the regex of the variants it keeps.
named=$(python3 "$top/scripts/shape_sets.py" --filters | cut -d: -f1)
is_named=0
if [ -n "$filter" ]; then
  is_named=1
  for word in ${filter//,/ }; do
    grep -qx -- "$word" <<<"$named" || is_named=0
  done
fi
if [ "$is_named" = 1 ]; then
  filter=$("$build/sparse24_bench" --list-json | python3 "$top/scripts/shape_sets.py" --filter "$filter" "${dtypes:-fp16,bf16}")
fi

# The results folder's gpu and commit (scripts/run_id.sh).
source "$top/scripts/run_id.sh"
run="results/$gpu/sweep-${set_name}_$commit"
# A committed sweep stores rows.jsonl gzipped (scripts/results_files.py): resume from its text; results_files.py
# replaces the .gz with the grown file before the next commit.
if [ -e "$run/rows.jsonl.gz" ] && [ ! -e "$run/rows.jsonl" ]; then gzip -dk "$run/rows.jsonl.gz"; fi
args=(--shapes "$shapes" --resume "$run/rows.jsonl")
[ -z "$filter" ] || args+=(--kernels "$filter")
[ -z "$dtypes" ] || args+=(--dtypes "$dtypes")
given=" $* "
[[ "$given" == *" --min-time "* ]] || args+=(--min-time 0.1)
[[ "$given" == *" --energy-time "* || "$given" == *" --no-energy "* ]] || args+=(--energy-time 0.1)
RUN_DIR="$run" QUICK=0 exec "$top/scripts/bench.sh" "$build" "${args[@]}" "$@"
