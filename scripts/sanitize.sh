#!/usr/bin/env bash
# make sanitize: every GPU test binary on small shapes under compute-sanitizer's memcheck, racecheck and initcheck.
#   scripts/sanitize.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: scripts/sanitize.sh BUILD_DIR}
san=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
[ -x "$san" ] || { echo "sanitize: compute-sanitizer not found (it comes with the CUDA toolkit)"; exit 1; }
export SPARSE24_TEST_SMALL=1
status=0
for t in "$build"/sparse24_test_instructions_gpu "$build"/sparse24_test_format_gpu "$build"/sparse24_test_kernels_gpu; do
  for tool in memcheck racecheck initcheck; do
    echo "== $tool: $(basename "$t")"
    set +e
    "$san" --tool "$tool" --error-exitcode 3 "$t"
    rc=$?
    set -e
    case $rc in
      0) echo "== $tool: $(basename "$t"): no error" ;;
      77) echo "== no GPU: skipped"; exit 77 ;;
      *) echo "== $tool: $(basename "$t"): FAILED (exit $rc)"; status=1 ;;
    esac
  done
done
exit $status
