#!/usr/bin/env python3
"""The kernels' machine code: every mma_sp kernel must issue sparse tensor-core instructions (HMMA ... .SP on
sm_80/sm_90), and no dense kernel may. Reads `cuobjdump --dump-sass` of the kernel library.

    check_sass.py LIBRARY_OR_BINARY

Exit 0 when all good, 1 on a failure, 77 (CTest's skip code) when cuobjdump is not installed (CI has none).
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

FAMILIES = {"mma_sp": True, "dense": False}  # family -> must its HMMAs be sparse?


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 1
    tool = shutil.which("cuobjdump") or "/usr/local/cuda/bin/cuobjdump"
    if not Path(tool).is_file():
        print("check_sass: cuobjdump not found: skipped")
        return 77
    sass = subprocess.run([tool, "--dump-sass", sys.argv[1]], capture_output=True, text=True, check=True).stdout
    # Per (arch, function): count HMMA and sparse HMMA. Sections start with "arch = sm_XX" and "Function : name".
    arch, func, counts = "?", None, {}
    for line in sass.splitlines():
        m = re.search(r"arch = (sm_\w+)", line)
        if m:
            arch = m.group(1)
        m = re.search(r"Function : (\S+)", line)
        if m:
            func = (arch, m.group(1))
            counts.setdefault(func, [0, 0])
        elif func and "HMMA" in line:
            counts[func][0] += 1
            counts[func][1] += ".SP" in line
    failures, checked = [], 0
    for (arch, name), (hmma, sparse) in sorted(counts.items()):
        fam = next((f for f in FAMILIES if re.search(rf"(?<!\d){len(f)}{f}\d", name)), None)
        if fam is None:
            continue
        checked += 1
        ok = hmma > 0 and (sparse == hmma if FAMILIES[fam] else sparse == 0)
        print(f"{'ok  ' if ok else 'FAIL'} {arch:7} {fam:7} HMMA {hmma:4} sparse {sparse:4}  {name}")
        if not ok:
            failures.append(f"{arch} {name}: {hmma} HMMA, {sparse} sparse")
    if checked == 0:
        failures.append("no kernel of a known family found in the SASS: nothing was checked")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
