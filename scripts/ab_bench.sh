#!/usr/bin/env bash
# Same-run A/B of two builds on this machine's GPU: their benchmarks alternate (A B, then B A, ...) so that clock
# and thermal drift fall on both alike, then scripts/ab_compare.py prints each (kernel, shape)'s time in B over A.
#   scripts/ab_bench.sh BUILD_A BUILD_B OUT ROUNDS [sparse24_bench options...]
# Writes OUT/a<r>.json, OUT/b<r>.json, OUT/ab.txt (the comparison) and OUT/command.txt. The options go to both
# binaries unchanged, so use only options both builds know (--kernels, --shapes, --dtypes, --min-time,
# --no-cusparselt, --no-ceilings). Exit status: ab_compare.py's (0: every row within tolerance or noise).
set -euo pipefail
a=${1:?usage: scripts/ab_bench.sh BUILD_A BUILD_B OUT ROUNDS [options]}
b=${2:?usage}
out=${3:?usage}
rounds=${4:?usage}
shift 4
case $rounds in '' | *[!0-9]* | 0) echo "ab_bench: ROUNDS must be a positive integer" >&2; exit 2 ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
{ printf '%q ' "$0" "$a" "$b" "$out" "$rounds" "$@"; echo; } >"$out/command.txt"
for ((r = 1; r <= rounds; ++r)); do
  # Alternate which side goes first, so neither always runs on a GPU the other has just warmed.
  if ((r % 2)); then order="a b"; else order="b a"; fi
  for side in $order; do
    build=$a
    [ "$side" = b ] && build=$b
    echo "=== round $r, $side: $build"
    "$build/sparse24_bench" --json "$out/$side$r.json" "$@" >"$out/$side$r.log" 2>&1 ||
      echo "ab_bench: $side round $r exited $? (see $out/$side$r.log)"
  done
done
as=() bs=()
for ((r = 1; r <= rounds; ++r)); do
  as+=("$out/a$r.json")
  bs+=("$out/b$r.json")
done
set +e
python3 "$top/scripts/ab_compare.py" --a "${as[@]}" --b "${bs[@]}" | tee "$out/ab.txt"
exit "${PIPESTATUS[0]}"
