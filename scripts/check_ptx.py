#!/usr/bin/env python3
"""Checks the kernels' PTX: the right tensor-core instruction in every kernel, and no register spills.

Called by CTest ("build: kernel_ptx"):

    check_ptx.py --ptxas <path to ptxas> --archs "80;90a" <file.ptx>...

(a) Instructions. Every `.entry` (kernel) whose mangled name lies in a namespace `mma_sp` must contain an `mma.sp`
    instruction (`wgmma.mma_async.sp` for a namespace `wgmma_sp`), and every `.entry` in a namespace `dense` must
    contain `mma.sync`: a kernel that silently lost its tensor-core instruction (a wrong #if, a dead-code-eliminated
    main loop) computes something else, or nothing, and would still be timed. The instruction may sit in the
    entry's own body or in a `.func` it calls.
(b) Spills. For each architecture in --archs, `ptxas -arch=sm_XX -v` places every kernel; any function that reports
    nonzero "bytes spill stores" or "bytes spill loads" fails the check. A table of registers, stack and spills per
    architecture and function is printed either way.

Exit status 0 when everything holds, 1 otherwise with one line per failure ("FAIL: ..."), 2 for bad usage. A run that
finds no `.entry` at all, or no kernel of any family, fails: a check that checks nothing must not pass.

Python 3.9+, standard library only. c++filt is used for readable names when it is on PATH.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

# Family namespace -> the instruction every kernel in it must contain. (wgmma_sp kernels exist only in PTX for
# sm_90a; the check applies whenever such PTX is passed in.)
FAMILY_INSTRUCTION = {
    "mma_sp": "mma.sp",
    "wgmma_sp": "wgmma.mma_async.sp",
    "dense": "mma.sync",
}


# ---- PTX parsing -----------------------------------------------------------------------------------------------

@dataclass
class Function:
    name: str                 # mangled
    is_entry: bool
    body: str                 # text between the outer braces, comments removed
    calls: set = field(default_factory=set)


_COMMENT_RE = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
# `.visible .entry NAME(` / `.entry NAME(` / `.func (.param ...) NAME(` / `.weak .func NAME(`.
_DECL_RE = re.compile(r"\.(entry|func)\s+(?:\([^)]*\)\s*)?([A-Za-z_$][\w$]*)")
_CALL_RE = re.compile(r"\bcall(?:\.uni)?\s+(?:\([^)]*\)\s*,\s*)?([A-Za-z_$][\w$]*)")
_TARGET_RE = re.compile(r"^\s*\.target\s+(sm_\w+)", re.M)


def strip_comments(text: str) -> str:
    # PTX has no string literals that could hold "//", so a plain regex is enough.
    return _COMMENT_RE.sub("", text)


def parse_ptx(text: str) -> dict:
    """Returns {mangled name: Function} for every .entry and every .func that has a body."""
    text = strip_comments(text)
    functions = {}
    for m in _DECL_RE.finditer(text):
        kind, name = m.group(1), m.group(2)
        # The body starts at the first '{' after the parameter list; a declaration without a body ends with ';'.
        i = m.end()
        depth_paren = 0
        while i < len(text):
            c = text[i]
            if c == "(":
                depth_paren += 1
            elif c == ")":
                depth_paren -= 1
            elif depth_paren == 0 and c in "{;":
                break
            i += 1
        if i >= len(text) or text[i] == ";":
            continue  # a prototype (.extern .func ...;), not a definition
        # Matching closing brace: PTX bodies nest braces for scoped register blocks ({ .reg ...; ... }).
        depth, j = 0, i
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        body = text[i + 1:j]
        fn = Function(name=name, is_entry=(kind == "entry"), body=body)
        fn.calls = set(_CALL_RE.findall(body))
        functions[name] = fn
    return functions


def contains_instruction(fn_name: str, functions: dict, instruction: str, seen=None):
    """Returns None if absent, else the chain of functions through which `instruction` is reached."""
    seen = set() if seen is None else seen
    if fn_name in seen or fn_name not in functions:
        return None
    seen.add(fn_name)
    fn = functions[fn_name]
    # Match the opcode as a token: "mma.sp" followed by '.', ':' or whitespace (mma.sp.sync..., mma.sp::ordered...).
    if re.search(r"(?<![\w.])" + re.escape(instruction) + r"(?=[.:\s])", fn.body):
        return [fn_name]
    for callee in sorted(fn.calls):
        chain = contains_instruction(callee, functions, instruction, seen)
        if chain is not None:
            return [fn_name] + chain
    return None


# ---- Names -----------------------------------------------------------------------------------------------------

def namespaces(mangled: str) -> list:
    """The enclosing scopes of an Itanium-mangled function name, from its <nested-name>.

    _ZN8sparse246mma_sp4gemmILi128EEEvPKjS3_Pfj -> ["sparse24", "mma_sp"] (the last component, "gemm", is the
    function itself). Names that are not nested (_Z5kernelPf) have no scopes. Only the leading <source-name>s are
    read, which is all that a namespace path is; template arguments are not parsed.
    """
    if not mangled.startswith("_ZN"):
        return []
    i, parts = 3, []
    while i < len(mangled) and mangled[i] in "rVKRO":  # cv- and ref-qualifiers of member functions
        i += 1
    while i < len(mangled) and mangled[i].isdigit():
        j = i
        while j < len(mangled) and mangled[j].isdigit():
            j += 1
        n = int(mangled[i:j])
        parts.append(mangled[j:j + n])
        i = j + n
    return parts[:-1]


def family_of(mangled: str):
    """The family namespace that scopes the kernel itself or, for the entry template
    sparse24::gemm_entry<sparse24::<family>::<step><...>>, its kernel struct argument."""
    scopes = namespaces(mangled)
    for fam in FAMILY_INSTRUCTION:
        # A nested-name component is mangled as <length><name>, followed by the next component's length.
        if fam in scopes or re.search(rf"(?<!\d){len(fam)}{fam}\d", mangled):
            return fam
    return None


class Demangler:
    """Batch demangling through c++filt, falling back to the mangled names."""

    def __init__(self):
        self.tool = shutil.which("c++filt")
        self.cache = {}

    def prime(self, names):
        todo = [n for n in set(names) if n not in self.cache]
        if not todo:
            return
        if self.tool:
            try:
                out = subprocess.run([self.tool], input="\n".join(todo) + "\n", capture_output=True, text=True,
                                     check=True, timeout=60).stdout.splitlines()
                if len(out) == len(todo):
                    self.cache.update(zip(todo, out))
                    return
            except (OSError, subprocess.SubprocessError):
                pass
        self.cache.update({n: n for n in todo})

    def __call__(self, name: str) -> str:
        self.prime([name])
        return self.cache[name]


# ---- Architectures ---------------------------------------------------------------------------------------------

def parse_archs(spec: str):
    """CMAKE_CUDA_ARCHITECTURES-style list -> ([sm_XX...], [notes]).

    "80" and "80-real" -> sm_80; "90a" -> sm_90a; "80-virtual" builds PTX only (no SASS, so nothing for ptxas to
    place) and is skipped; "sm_80"/"compute_80" are accepted too. "native", "all" and "all-major" cannot be resolved
    here and are errors.
    """
    archs, notes = [], []
    for item in re.split(r"[;,\s]+", spec.strip()):
        if not item:
            continue
        m = re.fullmatch(r"(?:sm_|compute_)?(\d+[a-z]?)(-real|-virtual)?", item)
        if not m:
            raise ValueError(f"cannot map architecture '{item}' to an sm_XX target (give numbers such as 80;90a)")
        if m.group(2) == "-virtual":
            notes.append(f"note: '{item}' is PTX only (no SASS is built for it): skipped by the spill check")
            continue
        sm = "sm_" + m.group(1)
        if sm not in archs:
            archs.append(sm)
    return archs, notes


def _sm_key(sm: str):
    m = re.fullmatch(r"sm_(\d+)([a-z]?)", sm)
    return (int(m.group(1)), m.group(2)) if m else (0, "")


def can_place(ptx_target: str, arch: str) -> bool:
    """Whether PTX written for ptx_target can be compiled for arch (PTX is forward compatible, except the
    architecture-specific 'a' targets, which compile only for exactly their own architecture)."""
    if not ptx_target:
        return True
    t_num, t_suffix = _sm_key(ptx_target)
    a_num, _ = _sm_key(arch)
    if t_suffix:
        return ptx_target == arch
    return a_num >= t_num


# ---- ptxas -----------------------------------------------------------------------------------------------------

@dataclass
class Placement:
    arch: str
    function: str        # mangled
    is_entry: bool
    registers: str = "-"
    stack: int = 0
    spill_stores: int = 0
    spill_loads: int = 0
    path: str = ""       # the .ptx file


_COMPILING_RE = re.compile(r"Compiling entry function '([^']+)' for '(\w+)'")
_PROPS_RE = re.compile(r"Function properties for (\S+)")
_FRAME_RE = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_USED_RE = re.compile(r"Used (\d+) registers")


def parse_ptxas_verbose(text: str, arch: str) -> list:
    """Rows from `ptxas -v` output (it writes to stderr): one per function that has a properties block."""
    rows, by_name = [], {}
    entry, props_for = None, None
    for line in text.splitlines():
        m = _COMPILING_RE.search(line)
        if m:
            entry, props_for = m.group(1), None
            continue
        m = _PROPS_RE.search(line)
        if m:
            props_for = m.group(1)
            continue
        m = _FRAME_RE.search(line)
        if m and props_for:
            row = Placement(arch=arch, function=props_for, is_entry=(props_for == entry),
                            stack=int(m.group(1)), spill_stores=int(m.group(2)), spill_loads=int(m.group(3)))
            rows.append(row)
            by_name[props_for] = row
            props_for = None
            continue
        m = _USED_RE.search(line)
        if m and entry:
            row = by_name.get(entry)
            if row is None:  # registers reported without a properties block: still worth a row
                row = Placement(arch=arch, function=entry, is_entry=True)
                rows.append(row)
                by_name[entry] = row
            row.registers = m.group(1)
    return rows


def run_ptxas(ptxas: str, arch: str, path: str):
    """-> (rows, error message or None)."""
    cmd = [ptxas, f"-arch={arch}", "-v", path, "-o", os.devnull]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        return [], f"cannot run {ptxas}: {e}"
    output = proc.stderr + proc.stdout
    if proc.returncode != 0:
        errors = [l.strip() for l in output.splitlines() if "error" in l.lower()] or output.strip().splitlines()[-3:]
        return [], f"ptxas -arch={arch} failed on {path} (exit {proc.returncode}): " + " | ".join(errors[:3])
    return parse_ptxas_verbose(output, arch), None


# ---- Main ------------------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ptxas", required=True, help="path to ptxas")
    ap.add_argument("--archs", required=True, help='architectures as in CMAKE_CUDA_ARCHITECTURES, e.g. "80;90a"')
    ap.add_argument("ptx", nargs="+", help=".ptx files (a ';'-separated list in one argument is split)")
    args = ap.parse_args(argv)

    # A generator expression such as $<TARGET_OBJECTS:...> can reach us as one ';'-separated argument.
    files = [f for arg in args.ptx for f in arg.split(";") if f]
    failures, notes = [], []
    try:
        archs, arch_notes = parse_archs(args.archs)
    except ValueError as e:
        print(f"FAIL: {e}")
        return 2
    notes += arch_notes
    if not archs:
        failures.append(f"no architecture to place the PTX for in --archs '{args.archs}'")

    demangle = Demangler()
    parsed = {}
    for path in files:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError as e:
            failures.append(f"cannot read {path}: {e}")
            continue
        m = _TARGET_RE.search(text)
        parsed[path] = (parse_ptx(text), m.group(1) if m else "")

    # (a) The instruction in every kernel of a family.
    n_entries = n_family = 0
    print("== tensor-core instruction per kernel")
    for path, (functions, _target) in parsed.items():
        entries = [f for f in functions.values() if f.is_entry]
        demangle.prime(f.name for f in functions.values())
        print(f"{path}: {len(entries)} kernel(s)")
        for fn in entries:
            n_entries += 1
            fam = family_of(fn.name)
            if fam is None:
                print(f"  -      {demangle(fn.name)} (no family namespace: not checked)")
                continue
            n_family += 1
            instr = FAMILY_INSTRUCTION[fam]
            chain = contains_instruction(fn.name, functions, instr)
            if chain is None:
                print(f"  FAIL   {demangle(fn.name)}: no {instr}")
                failures.append(f"{fam} kernel {demangle(fn.name)} in {path} contains no {instr}")
            else:
                via = "" if len(chain) == 1 else " (via " + " -> ".join(demangle(c) for c in chain[1:]) + ")"
                print(f"  ok     {demangle(fn.name)}: {instr}{via}")
    if n_entries == 0:
        failures.append("no .entry found in " + (", ".join(files) if files else "no files") +
                        ": the PTX holds no kernels, so nothing was checked")
    elif n_family == 0:
        failures.append(f"{n_entries} kernel(s) found but none in a namespace {'/'.join(FAMILY_INSTRUCTION)}: "
                        "nothing was checked (did the namespaces change?)")

    # (b) Spills, one ptxas run per (file, architecture), in parallel.
    rows = []
    jobs = []
    for path, (_functions, target) in parsed.items():
        for arch in archs:
            if can_place(target, arch):
                jobs.append((path, arch))
            else:
                notes.append(f"note: {path} is PTX for {target}, which cannot be placed on {arch}: skipped")
    if archs and parsed and not jobs:
        failures.append("no (PTX file, architecture) pair could be placed with ptxas: the spill check checked nothing")
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda job: run_ptxas(args.ptxas, job[1], job[0]), jobs))
    for (path, arch), (file_rows, err) in zip(jobs, results):
        if err:
            failures.append(err)
        rows += file_rows
        for r in file_rows:
            r.path = path
            if r.spill_stores or r.spill_loads:
                failures.append(f"{arch}: {demangle(r.function)} spills ({r.spill_stores} bytes stores, "
                                f"{r.spill_loads} bytes loads) in {path}")

    if rows:
        demangle.prime(r.function for r in rows)
        print("\n== ptxas placement (registers per thread, stack frame and spills in bytes)")
        # With several files the same function can appear in more than one: name the file then.
        several = len(parsed) > 1
        header = ("arch", "regs", "stack", "spill st", "spill ld") + (("file",) if several else ()) + ("function",)
        table = [(r.arch, r.registers, str(r.stack), str(r.spill_stores), str(r.spill_loads))
                 + ((os.path.basename(r.path),) if several else ())
                 + (demangle(r.function) + ("" if r.is_entry else "  [.func]"),)
                 for r in sorted(rows, key=lambda r: (r.arch, r.path, demangle(r.function)))]
        widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(header[:-1])]
        # Numbers right-aligned, text (arch, file) left-aligned; the function name last, unpadded.
        fmt = "  ".join(f"{{:>{w}}}" if 1 <= i <= 4 else f"{{:<{w}}}" for i, w in enumerate(widths)) + "  {}"
        print(fmt.format(*header))
        for t in table:
            print(fmt.format(*t))

    for n in notes:
        print(n)
    if failures:
        print()
        for f in failures:
            print(f"FAIL: {f}")
        return 1
    print(f"\nok: {n_family} kernel(s) contain their tensor-core instruction; no spills on {', '.join(archs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
