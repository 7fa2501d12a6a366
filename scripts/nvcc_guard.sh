#!/usr/bin/env bash
# Compiler launcher for the kernel families (CMakeLists.txt, sparse24_add_family): runs the compile and fails it
# when ptxas reports a serialized wgmma. ptxas prints C7510/C7520 ("wgmma ... serialized ... Potential Performance
# Loss") as info, not as a warning, so -Werror does not catch it (seen with nvcc 13.0 on a deliberately bad kernel:
# the build exited 0), and a serialized wgmma costs a large factor.
out=$("$@" 2>&1)
rc=$?
[ -n "$out" ] && printf '%s\n' "$out"
if [ "$rc" -eq 0 ] && grep -qE 'C75(10|20)' <<<"$out"; then
  echo "error: ptxas serialized a wgmma (C7510/C7520 above): a large performance loss; treated as an error" >&2
  exit 1
fi
exit "$rc"
