#!/usr/bin/env python3
"""The registers an asynchronous wgmma still reads: no instruction may overwrite them before the wait that retires it.

    check_wgmma_operands.py [--cuobjdump PATH] [--kernels REGEX] [--verbose] OBJECT_LIBRARY_OR_BINARY...

wgmma.mma_async runs after it is issued: its register operands (the accumulators; a sparse wgmma's metadata word
`e`; an RS-form wgmma's A fragment) are read while the instruction is in flight, until a wgmma.wait_group
(SASS: WARPGROUP.DEPBAR.LE gsb0, N) retires its group. ptxas guards the accumulators (it serializes the wgmma and
warns when it cannot), but not the metadata register (session 17, results/NOTES.md "Session 17, call A"): a
k-loop that keeps one batch in flight and is not unrolled loads the next k-tile's metadata with LDS into the very
register the batch in flight reads, and the sums come out wrong. The source's register-keeping asm statements
(ptx::keep_register) emit no PTX, so nothing at the PTX level stops it; only the SASS shows it.

For every sparse GMMA instruction (HGMMA/IGMMA/QGMMA .SP) of every function, this script follows the control flow
(both ways at a conditional branch, loops walked until the state repeats) from the instruction to the
WARPGROUP.DEPBAR that retires its group (a group is committed by the GMMA carrying gsb0; DEPBAR.LE N retires
the groups older than the N newest), and reports any instruction on the way that writes the metadata register
(or, in the RS form, a register of the A fragment). The predicates are not evaluated, so a path may be one the
kernel never takes; a write reached only through a taken forward conditional branch (the early exit of an unrolled
k-loop into its latch, which then leaves the loop: wgmma_sp s15's ldmatrix control) is reported as "possible"
and does not fail the check; one reached along fall-throughs and loop back-edges (the loop-carried reuse above)
is a hazard. Exit 1 when a hazard is found (or nothing was checked), 0 otherwise, 77 when no cuobjdump is found;
--self-test runs the analysis on three synthetic loops (a hazard, a double-buffered loop, an early exit) and needs
no tool.
"""
import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_sass import dump_sass, find_cuobjdump, function_lines  # noqa: E402  (one search, one dump, one split)

# "/*1650*/   @!P1 HGMMA.SP.64x32x32.F32 R24, gdesc[UR16], R24, R43, 0x0 ;"
INSTR = re.compile(r"^\s*/\*([0-9a-f]{4,})\*/\s*(.*?)\s*;")
GMMA = re.compile(r"^[HIQ]GMMA\.")
REG = re.compile(r"^R(\d+)$")
MAX_PENDING = 4  # groups tracked past the instruction's own; DEPBAR.LE N retires when more than N are newer


def parse_functions(sass: str):
    """{(arch, function): [(address, predicate, opcode, operands)]} from cuobjdump -sass text."""
    funcs = {}
    for func, lines in function_lines(sass).items():
        code = funcs[func] = []
        for line in lines:
            m = INSTR.match(line)
            if not m:
                continue
            text = m.group(2)
            pred = ""
            if text.startswith("@"):
                pred, text = text.split(None, 1)
            parts = text.split(None, 1)
            operands = [o.strip() for o in parts[1].split(",")] if len(parts) > 1 else []
            code.append((int(m.group(1), 16), pred, parts[0], operands))
    return funcs


def written_registers(opcode: str, operands):
    """The general registers an instruction writes (its first operand, widened by .64/.WIDE/.128), GMMA excluded."""
    if GMMA.match(opcode) or not operands:
        return set()
    m = REG.match(operands[0])
    if not m:
        return set()
    width = 4 if ".128" in opcode else 2 if (".64" in opcode or ".WIDE" in opcode) else 1
    r = int(m.group(1))
    return set(range(r, r + width))


def read_async_registers(opcode: str, operands):
    """The registers a sparse GMMA reads while in flight: its metadata word (the last general register operand) and,
    in the RS form (a register operand before the B descriptor), the four registers of its A fragment."""
    regs = [(i, int(REG.match(o).group(1))) for i, o in enumerate(operands) if REG.match(o)]
    if not regs:
        return set()
    out = {regs[-1][1]}
    desc = next((i for i, o in enumerate(operands) if o.startswith("gdesc")), None)
    if desc is not None and desc >= 2 and REG.match(operands[1]):
        a = int(REG.match(operands[1]).group(1))
        out |= set(range(a, a + 4))
    return out


def branch_target(operands):
    for o in reversed(operands):
        if re.fullmatch(r"0x[0-9a-f]+", o):
            return int(o, 16)
    return None


def hazards_of(code):
    """[(gmma address, writer address, writer text, registers, definite)] for one function's instructions."""
    index = {addr: i for i, (addr, *_rest) in enumerate(code)}
    found = []
    for g, (gaddr, _gp, gop, gops) in enumerate(code):
        if not (GMMA.match(gop) and ".SP" in gop):
            continue
        watched = read_async_registers(gop, gops)
        if not watched:
            continue
        # State: (instruction index, groups committed since and including this GMMA's group (0: not yet
        # committed), whether a forward conditional branch was taken on the way).
        own_commit = "gsb0" in gops
        seen, work, reported = set(), [(g + 1, 1 if own_commit else 0, False)], set()
        while work:
            i, k, fwd = work.pop()
            while i < len(code):
                if (i, k, fwd) in seen:
                    break
                seen.add((i, k, fwd))
                addr, pred, op, ops = code[i]
                if op.startswith("WARPGROUP.DEPBAR"):
                    n = int(ops[-1], 16) if ops and ops[-1].startswith("0x") else 0
                    if k > n:
                        break  # the group is retired on this path
                if GMMA.match(op) and "gsb0" in ops:
                    k = min(k + 1, MAX_PENDING)  # a group committed after (or, k = 0, as) this one's
                hit = written_registers(op, ops) & watched
                if hit and (addr, fwd) not in reported:
                    reported.add((addr, fwd))
                    found.append((gaddr, addr, f"{pred} {op} {', '.join(ops)}".strip(), sorted(hit), not fwd))
                if op.startswith(("EXIT", "RET")) and not pred:
                    break  # the path ends here
                if op.startswith("BRA") or op.startswith("JMP"):
                    t = branch_target(ops)
                    j = index.get(t) if t is not None else None
                    if j is not None:
                        if pred:
                            work.append((j, k, fwd or j > i))  # taken; fall through below
                        else:
                            i = j
                            continue
                    elif not pred:
                        break
                i += 1
    return found


# Three k-loops in cuobjdump's form. HAZARD: one register set, the next k-tile's metadata loaded (LDS) while the
# batch issued last is still in flight (DEPBAR.LE 1): s21_widebox's first loop (session 17, call A). DOUBLE: two
# register sets in a loop unrolled by two (s16's): each LDS writes the set whose batch the DEPBAR just retired.
# EARLY_EXIT: HAZARD's loop with its back-edge behind a forward conditional branch to the latch: "possible" only.
SELF_TEST = {
    "HAZARD": """
        /*0000*/  MOV R40, 0x44444444 ;
        /*0010*/  SYNCS.PHASECHK.TRANS64.TRYWAIT P1, [UR4], R8 ;
        /*0020*/  LDS R40, [R14+0x6000] ;
        /*0030*/  WARPGROUP.ARRIVE ;
        /*0040*/  HGMMA.SP.64x32x32.F32 R24, gdesc[UR16], R24, R40, 0x0, gsb0 ;
        /*0050*/  WARPGROUP.DEPBAR.LE gsb0, 0x1 ;
        /*0060*/  @!P1 BRA 0x10 ;
        /*0070*/  WARPGROUP.DEPBAR.LE gsb0, 0x0 ;
        /*0080*/  EXIT ;""",
    "DOUBLE": """
        /*0000*/  LDS R40, [R14+0x6000] ;
        /*0010*/  WARPGROUP.ARRIVE ;
        /*0020*/  HGMMA.SP.64x32x32.F32 R24, gdesc[UR16], R24, R40, 0x0, gsb0 ;
        /*0030*/  WARPGROUP.DEPBAR.LE gsb0, 0x1 ;
        /*0040*/  LDS R41, [R14+0x6000] ;
        /*0050*/  WARPGROUP.ARRIVE ;
        /*0060*/  HGMMA.SP.64x32x32.F32 R24, gdesc[UR16], R24, R41, 0x0, gsb0 ;
        /*0070*/  WARPGROUP.DEPBAR.LE gsb0, 0x1 ;
        /*0080*/  @!P1 BRA 0x0 ;
        /*0090*/  WARPGROUP.DEPBAR.LE gsb0, 0x0 ;
        /*00a0*/  EXIT ;""",
    "EARLY_EXIT": """
        /*0000*/  LDS R40, [R14+0x6000] ;
        /*0010*/  WARPGROUP.ARRIVE ;
        /*0020*/  HGMMA.SP.64x32x32.F32 R24, gdesc[UR16], R24, R40, 0x0, gsb0 ;
        /*0030*/  WARPGROUP.DEPBAR.LE gsb0, 0x1 ;
        /*0040*/  @P4 BRA 0x90 ;
        /*0050*/  LDS R41, [R14+0x6000] ;
        /*0060*/  WARPGROUP.ARRIVE ;
        /*0070*/  HGMMA.SP.64x32x32.F32 R24, gdesc[UR16], R24, R41, 0x0, gsb0 ;
        /*0080*/  WARPGROUP.DEPBAR.LE gsb0, 0x1 ;
        /*0090*/  @!P1 BRA 0x0 ;
        /*00a0*/  WARPGROUP.DEPBAR.LE gsb0, 0x0 ;
        /*00b0*/  EXIT ;""",
}


def self_test() -> int:
    verdicts = {}
    for name, body in SELF_TEST.items():
        code = parse_functions(f"\t\tFunction : {name}\n{body}")[("?", name)]
        found = hazards_of(code)
        verdicts[name] = "hazard" if any(f[4] for f in found) else "possible" if found else "clean"
    expected = {"HAZARD": "hazard", "DOUBLE": "clean", "EARLY_EXIT": "possible"}
    for name in SELF_TEST:
        print(f"{'ok  ' if verdicts[name] == expected[name] else 'FAIL'} {name}: {verdicts[name]} "
              f"(expected {expected[name]})")
    return 0 if verdicts == expected else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cuobjdump", default="")
    ap.add_argument("--kernels", default="", help="only functions whose mangled name matches")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("inputs", nargs="*")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.inputs:
        ap.error("an object, library or binary to check")
    tool = find_cuobjdump(args.cuobjdump)
    if not tool:
        print("check_wgmma_operands: cuobjdump not found (pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm): "
              "skipped")
        return 77
    checked, bad, possible = 0, 0, 0
    for path in args.inputs:
        run = dump_sass(tool, path)
        if run.returncode != 0:
            print(f"FAIL: {tool} --dump-sass {path} exited {run.returncode}: {run.stderr.strip()}")
            return 1
        for (arch, name), code in sorted(parse_functions(run.stdout).items()):
            if args.kernels and not re.search(args.kernels, name):
                continue
            if not any(GMMA.match(op) and ".SP" in op for _a, _p, op, _o in code):
                continue
            checked += 1
            found = hazards_of(code)
            definite = [f for f in found if f[4]]
            if found:
                bad += bool(definite)
                possible += not definite
                what = "FAIL" if definite else "possible"
                print(f"{what} {arch} {name}: {len(definite) or len(found)} write(s) to registers an in-flight "
                      f"sparse wgmma reads{'' if definite else ' (only through a taken forward branch)'}")
                for gaddr, waddr, text, regs, _d in (definite or found)[: (len(found) if args.verbose else 3)]:
                    print(f"    GMMA at {gaddr:#06x}: {text} at {waddr:#06x} writes R{', R'.join(map(str, regs))}")
            elif args.verbose:
                print(f"ok   {arch} {name}")
    print(f"check_wgmma_operands: {checked} functions with sparse wgmma, {bad} with a hazard, {possible} with a "
          f"write only on a path through a taken forward branch")
    return 1 if bad or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
