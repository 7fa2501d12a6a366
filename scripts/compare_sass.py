#!/usr/bin/env python3
"""Compare the SASS of every kernel in two builds: a refactoring that should not change the code must show none.

    scripts/compare_sass.py BASE NEW [--only REGEX] [--kernels REGEX] [--rename OLD=NEW ...] [--report-only]

BASE and NEW are each a build folder (every *.o under it, filtered by --only on the path), an object file, a
static library or an executable. cuobjdump -sass dumps every function of every cubin; functions are matched by
(architecture, demangled name), after --rename's regular-expression substitutions on BASE's names (for kernels
whose names legitimately change: say which base name is which new one). Per kernel the report says

  identical        the same instructions and the same encodings (control codes included)
  same-text        the same instruction text; some encodings (scheduling control codes) differ
  same-normalised  equal once register numbers, branch targets and constant-bank offsets are normalised
  different        the opcode histogram differences and a normalised diff (first --context lines)
  only-base / only-new  no counterpart on the other side

A function that appears in several objects (a template instantiated in several translation units) is compared as
the set of its distinct bodies. Exit 1 on any kernel that is not identical (or only on one side) unless
--report-only; 2 on a usage or tool error. cuobjdump comes from PATH, /usr/local/cuda/bin or the pip package
nvidia-cuda-cuobjdump (scripts/check_sass.py's find_cuobjdump; --cuobjdump overrides).
"""
from __future__ import annotations

import argparse
import collections
import difflib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_sass import find_cuobjdump  # noqa: E402  (one search for the tool, shared with the CI's SASS check)

# One instruction line of cuobjdump -sass: "/*0a30*/  @!P0 HGMMA.64x256x32.F32.BF16 R24, gdesc[UR8], ... ;  /* 0x... */"
INSTR = re.compile(r"^\s*/\*([0-9a-f]{4,})\*/\s*(.*?)\s*;\s*/\*\s*(0x[0-9a-f]+)\s*\*/\s*$")
# The second line of an instruction: the upper half of its 128-bit encoding (control codes: stalls, barriers).
CONTROL = re.compile(r"^\s*/\*\s*(0x[0-9a-f]+)\s*\*/\s*$")


def inputs(path: Path, only: str) -> list[Path]:
    if path.is_dir():
        pat = re.compile(only) if only else None
        return sorted(p for p in path.rglob("*.o") if pat is None or pat.search(str(p.relative_to(path))))
    return [path]


def demangle(names: list[str]) -> dict[str, str]:
    tool = shutil.which("c++filt") or shutil.which("cu++filt")
    if not tool or not names:
        return {n: n for n in names}
    out = subprocess.run([tool], input="\n".join(names), capture_output=True, text=True, check=True).stdout
    return dict(zip(names, out.splitlines()))


class Function:
    def __init__(self, obj: str):
        self.obj = obj
        self.text: list[str] = []  # instruction text, one per instruction
        self.enc: list[str] = []  # both halves of each encoding

    def key_strict(self):
        return (tuple(self.text), tuple(self.enc))


def dump(tool: str, files: list[Path]) -> dict[tuple[str, str], list[Function]]:
    """{(arch, mangled name): [Function per object it appears in]}."""
    env = dict(os.environ, NVDISASM_PATH=str(Path(tool).parent),
               PATH=str(Path(tool).parent) + os.pathsep + os.environ.get("PATH", ""))
    funcs: dict[tuple[str, str], list[Function]] = collections.defaultdict(list)
    for f in files:
        run = subprocess.run([tool, "-sass", str(f)], capture_output=True, text=True, env=env)
        if run.returncode != 0:
            if "does not contain device code" in run.stderr or "no device code" in run.stderr.lower():
                continue
            raise RuntimeError(f"{tool} -sass {f} exited {run.returncode}: {run.stderr.strip()}")
        arch, cur = "?", None
        for line in run.stdout.splitlines():
            m = re.search(r"arch = (sm_\w+)", line)
            if m:
                arch = m.group(1)
                continue
            m = re.search(r"Function : (\S+)", line)
            if m:
                cur = Function(str(f))
                funcs[(arch, m.group(1))].append(cur)
                continue
            if cur is None:
                continue
            m = INSTR.match(line)
            if m:
                cur.text.append(re.sub(r"\s+", " ", m.group(2)))
                cur.enc.append(m.group(3))
                continue
            m = CONTROL.match(line)
            if m and cur.enc:
                cur.enc[-1] += ":" + m.group(1)
    return funcs


def opcode(instr: str) -> str:
    """The opcode with its modifiers, without the predicate guard: '@!P0 HGMMA.64x256x32.F32 R24, ...' gives
    'HGMMA.64x256x32.F32'."""
    words = instr.split()
    if words and words[0].startswith("@"):
        words = words[1:]
    return words[0] if words else ""


def normalise(instr: str) -> str:
    s = re.sub(r"\bU?R\d+\b", lambda m: "UR" if m.group(0).startswith("U") else "R", instr)
    s = re.sub(r"\bU?P\d\b", lambda m: "UP" if m.group(0).startswith("U") else "P", s)
    s = re.sub(r"\bB\d+\b", "B", s)  # convergence barriers (BSSY/BSYNC)
    s = re.sub(r"c\[0x[0-9a-f]+\]\[0x[0-9a-f]+\]", "c[BANK][OFF]", s)
    s = re.sub(r"\b0x[0-9a-f]+\b", "0xADDR", s)  # branch targets, immediates printed in hex, shared offsets
    return s


def compare(base: list[Function], new: list[Function]):
    """(status, detail lines) for one kernel's bodies on both sides."""
    def distinct(fs, key):
        seen = {}
        for f in fs:
            seen.setdefault(key(f), f)
        return seen

    b_strict, n_strict = distinct(base, Function.key_strict), distinct(new, Function.key_strict)
    if set(b_strict) == set(n_strict):
        return "identical", []
    if set(distinct(base, lambda f: tuple(f.text))) == set(distinct(new, lambda f: tuple(f.text))):
        return "same-text", []
    norm = lambda f: tuple(normalise(i) for i in f.text)  # noqa: E731
    if set(distinct(base, norm)) == set(distinct(new, norm)):
        return "same-normalised", []
    # Describe the difference between the first body of each side.
    b, n = base[0], new[0]
    hb = collections.Counter(opcode(i) for i in b.text)
    hn = collections.Counter(opcode(i) for i in n.text)
    lines = [f"instructions: {len(b.text)} -> {len(n.text)}"]
    for op in sorted(set(hb) | set(hn)):
        if hb[op] != hn[op]:
            lines.append(f"  opcode {op}: {hb[op]} -> {hn[op]}")
    if len(lines) == 1:
        lines.append("  opcode histogram: equal (order or operands differ)")
    return "different", (lines, [normalise(i) for i in b.text], [normalise(i) for i in n.text])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--only", default="", help="regex on object paths (relative to a build folder)")
    ap.add_argument("--kernels", default="", help="regex on demangled kernel names")
    ap.add_argument("--rename", action="append", default=[], metavar="OLD=NEW",
                    help="regex substitution applied to BASE's demangled names before matching (repeatable)")
    ap.add_argument("--context", type=int, default=40, help="diff lines shown per different kernel")
    ap.add_argument("--report-only", action="store_true", help="exit 0 whatever the differences")
    ap.add_argument("--cuobjdump", default="")
    args = ap.parse_args(argv)

    tool = find_cuobjdump(args.cuobjdump)
    if not tool:
        print("compare_sass: cuobjdump not found (python3 -m pip install --target DIR nvidia-cuda-cuobjdump "
              "nvidia-cuda-nvdisasm, then --cuobjdump DIR/nvidia/cu*/bin/cuobjdump)", file=sys.stderr)
        return 2
    renames = []
    for r in args.rename:
        if "=" not in r:
            print(f"compare_sass: --rename takes OLD=NEW, got {r!r}", file=sys.stderr)
            return 2
        old, new = r.split("=", 1)
        renames.append((re.compile(old), new))

    for path in (args.base, args.new):
        if not path.exists():
            print(f"compare_sass: {path} does not exist", file=sys.stderr)
            return 2
    sides = {}
    for label, path in (("base", args.base), ("new", args.new)):
        files = inputs(path, args.only)
        if not files:
            print(f"compare_sass: no objects under {path} (--only {args.only!r})", file=sys.stderr)
            return 2
        try:
            raw = dump(tool, files)
        except RuntimeError as e:
            print(f"compare_sass: {e}", file=sys.stderr)
            return 2
        names = demangle(sorted({name for _, name in raw}))
        funcs = {}
        for (arch, name), fs in raw.items():
            d = names[name]
            if label == "base":
                for pat, rep in renames:
                    d = pat.sub(rep, d)
            if args.kernels and not re.search(args.kernels, d):
                continue
            funcs.setdefault((arch, d), []).extend(fs)
        sides[label] = (files, funcs)

    base, new = sides["base"][1], sides["new"][1]
    counts = collections.Counter()
    out = [f"# base: {args.base} ({len(sides['base'][0])} objects), new: {args.new} ({len(sides['new'][0])} objects)",
           f"# cuobjdump: {tool}", ""]
    details = []
    for key in sorted(set(base) | set(new)):
        arch, name = key
        if key not in new:
            status, detail = "only-base", []
        elif key not in base:
            status, detail = "only-new", []
        else:
            status, detail = compare(base[key], new[key])
        counts[status] += 1
        n_instr = len((new.get(key) or base.get(key))[0].text)
        out.append(f"{status:16s} {arch} {n_instr:6d} instr  {name}")
        if status == "different":
            lines, b, n = detail
            details.append(f"== {arch} {name}")
            details.extend(lines)
            diff = list(difflib.unified_diff(b, n, "base", "new", n=1, lineterm=""))
            details.extend(diff[: args.context])
            if len(diff) > args.context:
                details.append(f"  ... {len(diff) - args.context} more diff lines")
            details.append("")
    out.append("")
    out.append("summary: " + ", ".join(f"{k} {counts[k]}" for k in
                                       ("identical", "same-text", "same-normalised", "different", "only-base",
                                        "only-new")))
    if details:
        out += ["", "# differences (normalised: registers, branch targets and constant-bank offsets)", ""] + details
    print("\n".join(out))
    bad = sum(counts[k] for k in counts if k != "identical")
    return 0 if args.report_only or bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
