#!/usr/bin/env bash
# make sanitize: every GPU test binary on small shapes under compute-sanitizer's memcheck, racecheck and initcheck.
#   scripts/sanitize.sh BUILD_DIR
# SPARSE24_TEST_SMALL=1 keeps the kernel tests to their small shapes; those include, for every variant, a K whose
# every K slice runs the shared-memory ring round at least once (tests/gpu/ring_wrap.h, checked by the test "the
# sanitizer's shapes wrap every variant's ring at least once"), and the skinny tests' split shapes are long enough
# for the same. The one-instruction tests of the Hopper wgmma forms exist only in a build with an sm_90a target
# (CMake 3.25+): run when built, named as left out when not.
set -euo pipefail
build=${1:?usage: scripts/sanitize.sh BUILD_DIR}
san=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
[ -x "$san" ] || { echo "sanitize: compute-sanitizer not found (it comes with the CUDA toolkit)"; exit 1; }
export SPARSE24_TEST_SMALL=1
tests=("$build"/sparse24_test_instructions_gpu "$build"/sparse24_test_instructions_8bit_gpu
       "$build"/sparse24_test_format_gpu "$build"/sparse24_test_kernels_gpu "$build"/sparse24_test_skinny_gpu)
for w in sparse24_test_wgmma_instructions_gpu sparse24_test_wgmma_8bit_gpu sparse24_test_wgmma_tf32_gpu; do
  if [ -x "$build/$w" ]; then
    tests+=("$build/$w")
  else
    echo "== $w: not in this build (no sm_90a target): left out"
  fi
done
status=0
for t in "${tests[@]}"; do
  [ -x "$t" ] || { echo "== $(basename "$t"): not built: FAILED"; status=1; continue; }
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
