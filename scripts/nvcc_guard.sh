#!/usr/bin/env bash
# Compiler launcher for the kernel families (CMakeLists.txt, sparse24_add_family): runs the compile and fails it
# when ptxas reports a serialized wgmma. ptxas prints C7510/C7520 ("wgmma ... serialized ... Potential Performance
# Loss") as info, not as a warning, so -Werror does not catch it (seen with nvcc 13.0 on a deliberately bad kernel:
# the build exited 0), and a serialized wgmma costs a large factor. There are more codes for more causes (C7518:
# "... due to program dependence on compiler-inserted WG.DP in divergent path", met in session 5 with a
# wgmma.wait_group under a branch), so any C75xx and the message itself are caught.
out=$("$@" 2>&1)
rc=$?
[ -n "$out" ] && printf '%s\n' "$out"
if [ "$rc" -eq 0 ] && grep -qE 'C75[0-9][0-9]|wgmma[.a-z_]* instructions are serialized' <<<"$out"; then
  echo "error: ptxas serialized a wgmma (C75xx above): a large performance loss; treated as an error" >&2
  exit 1
fi
exit "$rc"
