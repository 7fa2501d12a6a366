#!/usr/bin/env python3
"""The instructions a kernel spends on metadata, counted in its SASS main loop (issue 17: metadata overhead in
instructions, beside its bytes and its time).

    scripts/meta_sass.py BUILD_OR_OBJECT [--kernels REGEX] [--against REGEX=REGEX ...] [--json FILE]

For every kernel (demangled name matching --kernels) the main loop is found as the smallest backward branch's
region (from the branch target to the branch) that holds tensor-core instructions (HGMMA, QGMMA, IGMMA, HMMA, IMMA):
the k-loop, not a persistent kernel's loop over tiles around it; with it, every out-of-line block that a branch in
the region jumps to and that jumps back into it (ptxas moves a conditional part of the body, such as mma_sp's
cp.async of the next stage, below the function and branches there and back: it is loop code all the same; the
same source may be laid out inline in a twin and out of line in its step). Instructions that never execute
(guarded by @!PT or @!UPT: ptxas's padding) are not counted. In the loop the script counts:
  lds      shared-memory loads other than ldmatrix (LDS*): in the wgmma kernels these are the metadata's only loads
           (A and B reach the instruction through descriptors), in the mma_sp kernels the metadata's and nothing else
           (A and B arrive by LDSM);
  ldsm     ldmatrix loads (A and B fragments of the warp-level kernels);
  ldgsts   cp.async copies global -> shared (LDGSTS: the mma_sp kernels' A, B and metadata copies; the wgmma kernels
           copy with TMA, UTMALDG, outside this count);
  ldg      global loads into registers (LDG*: the skinny family's A values, 16 bytes each, its B pieces and its
           metadata words, 4 bytes each, all in the loop: a chunk's loads are issued one iteration ahead);
  shfl     shuffles (the skinny family's metadata is re-split with SHFL; a shuffle's out-of-line path for a
           divergent warp, BRA.DIV's target, is loop code too and is counted);
  int_alu  integer ALU operations (LOP3, SHF, PRMT, IADD3, IMAD*, LEA, SEL, ISETP, VIADD, ...): addresses, loop
           control, and the metadata's bit moves where a kernel has them;
  sync     barrier and mbarrier operations (SYNCS*, BAR*, the ring's waits and arrivals).
--against A=B prints, for each kernel matching A, the difference to the kernel matching B with the same text after
the substitution (e.g. an ablation that loads no metadata: 'ablations::s05_constmeta=wgmma_sp::s05_persistent'
compares each ablation with its step; 'ablations::s01_skinnyconstmeta=skinny::s01_splitk' the skinny twin): what the
metadata costs in instructions per tensor instruction.
The counts are static (instructions in the loop body), not dynamic (a predicated-off instruction counts); they
are what a k-tile issues when the loop runs once per k-tile. cuobjdump as in scripts/check_sass.py.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_sass import find_cuobjdump  # noqa: E402
from compare_sass import demangle, dump, inputs, opcode  # noqa: E402

TENSOR = ("HGMMA", "QGMMA", "IGMMA", "HMMA", "IMMA")
INT_ALU = ("LOP3", "SHF", "PRMT", "IADD3", "IMAD", "LEA", "SEL", "ISETP", "VIADD", "IADD", "LOP", "BFE", "BFI",
           "FLO", "POPC", "UIADD3", "UIMAD", "ULOP3", "USHF", "ULEA", "USEL", "UISETP", "UPRMT")
BRANCH = re.compile(r"\bBRA\b.*?0x([0-9a-f]+)")


def classify(op: str) -> str | None:
    base = op.split(".")[0]
    if base in TENSOR:
        return "tensor"
    if base == "LDSM":
        return "ldsm"
    if base == "LDS":
        return "lds"
    if base == "LDGSTS":
        return "ldgsts"
    if base == "LDG":
        return "ldg"
    if base == "SHFL":
        return "shfl"
    if base.startswith("SYNCS") or base.startswith("BAR"):
        return "sync"
    if base in INT_ALU:
        return "int_alu"
    return None


def main_loop(addrs: list[int], text: list[str]) -> tuple[int, int] | None:
    """(first, last) instruction index of the backward-branch region with the most tensor instructions."""
    best = None
    for i, t in enumerate(text):
        m = BRANCH.search(t)
        if not m:
            continue
        target = int(m.group(1), 16)
        if target > addrs[i]:
            continue
        j = next((k for k, a in enumerate(addrs) if a >= target), None)
        if j is None:
            continue
        tensor = sum(1 for k in range(j, i + 1) if classify(opcode(text[k])) == "tensor")
        size = i - j
        if tensor and (best is None or size < best[1]):
            best = (tensor, size, j, i)
    return (best[2], best[3]) if best else None


NEVER = re.compile(r"^\s*@!U?PT\b")  # a guard that is never true: the instruction does not execute
# An out-of-line block longer than this is not a part of the loop body (a safety bound on the walk).
MAX_OUT_OF_LINE = 4096


def loop_body(addrs: list[int], text: list[str], first: int, last: int) -> list[int]:
    """The instruction indices of the loop [first, last] and of every out-of-line block it branches to that ends
    in an unconditional branch back into [first, last]."""
    lo, hi = addrs[first], addrs[last]
    body = set(range(first, last + 1))
    for i in range(first, last + 1):
        m = BRANCH.search(text[i])
        if not m or lo <= int(m.group(1), 16) <= hi:
            continue
        j = next((k for k, a in enumerate(addrs) if a == int(m.group(1), 16)), None)
        if j is None:
            continue
        for k in range(j, min(len(text), j + MAX_OUT_OF_LINE)):
            op = opcode(text[k]).split(".")[0]
            if op in ("EXIT", "RET"):
                break
            back = BRANCH.search(text[k])
            if back and not text[k].lstrip().startswith("@"):  # unconditional: the block ends here
                if lo <= int(back.group(1), 16) <= hi:
                    body.update(range(j, k + 1))
                break
    return sorted(body)


def counts(func) -> dict[str, float] | None:
    addrs = []
    for e in func.enc:  # the address is not kept by compare_sass.dump; instructions are 16 bytes apart
        addrs.append(16 * len(addrs))
    loop = main_loop(addrs, func.text)
    if loop is None:
        return None
    c = {"tensor": 0, "lds": 0, "ldsm": 0, "ldgsts": 0, "ldg": 0, "shfl": 0, "int_alu": 0, "sync": 0,
         "loop_instructions": 0}
    for k in loop_body(addrs, func.text, *loop):
        if NEVER.match(func.text[k]):
            continue
        cls = classify(opcode(func.text[k]))
        c["loop_instructions"] += 1
        if cls:
            c[cls] += 1
    return c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path)
    ap.add_argument("--kernels", default="gemm_entry", help="regex on demangled kernel names")
    ap.add_argument("--only", default="", help="regex on object paths (a build folder)")
    ap.add_argument("--against", action="append", default=[], metavar="A=B")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--cuobjdump")
    a = ap.parse_args()
    tool = find_cuobjdump(a.cuobjdump)
    if not tool:
        print("meta_sass: cuobjdump not found (scripts/check_sass.py says where it looks)", file=sys.stderr)
        return 2
    funcs = dump(tool, inputs(a.path, a.only))
    names = demangle(sorted({n for _, n in funcs}))
    pat = re.compile(a.kernels)
    table: dict[str, dict[str, float]] = {}
    for (arch, mangled), fs in sorted(funcs.items()):
        name = names.get(mangled, mangled)
        if not pat.search(name):
            continue
        c = counts(fs[0])
        if c:  # the default output description is left out of the name, so that a twin without it matches
            table[f"{arch} {name.replace(', sparse24::wgmma::Unscaled', '')}"] = c
    cols = ["tensor", "lds", "ldsm", "ldgsts", "ldg", "shfl", "int_alu", "sync", "loop_instructions"]
    print("per loop iteration (static): " + "  ".join(cols) + "   kernel")
    for k, c in table.items():
        print("  ".join(f"{int(c[x]):>5d}" for x in cols) + "   " + k[:160])
    for spec in a.against:
        left, right = spec.split("=", 1)
        diff_cols = ("lds", "ldgsts", "ldg", "shfl", "int_alu", "sync", "loop_instructions")
        print(f"\n{left} against {right}: difference per loop iteration (" + ", ".join(diff_cols)
              + "), then loop instructions per tensor instruction")
        for k, c in table.items():
            if not re.search(left, k):
                continue
            other = table.get(re.sub(left, right, k))
            if not other:
                print(f"  no counterpart for {k[:120]}")
                continue
            d = [int(c[x] - other[x]) for x in diff_cols]
            per = c["loop_instructions"] / c["tensor"] - other["loop_instructions"] / other["tensor"]
            print("  " + " ".join(f"{x:+4d}" for x in d) + f"  {per:+.2f}   {k[:140]}")
    if a.json:
        a.json.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
