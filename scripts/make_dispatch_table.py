#!/usr/bin/env python3
"""Regenerates kernels/dispatch_table.inc (the table kernels/dispatch.cpp's pick() reads), one set of rows per GPU.

    make_dispatch_table.py [--registry build/sparse24_bench] [--out kernels/dispatch_table.inc] [--family REGEX]
                           [--no-results] [--check] [REPORT.json | DIR ...]

--check writes nothing: exit 0 when --out already holds what this run would write, 1 (with the differing rows)
when it does not (a stale table: runs committed or variants changed since it was made; CTest "dispatch: table up
to date"), 77 (skipped) when this build's registry lacks a family that the table names (the sm_90a families under
CMake < 3.24): the table cannot be judged there.

Reads every committed run under results/ (unless --no-results) and the reports or folders given (a sweep not yet
committed, say); a file given twice counts once. --registry is `sparse24_bench --list-json`'s output, or the
binary itself (then it is run; default build/sparse24_bench): the variants of this tree and their fields. Nothing
is read from a variant's name.

Each REPORT.json is a report of `sparse24_bench --json` (format sparse24-report-1: {"context": {...}, "rows": [...]},
rows with kernel, kind, dtype, M, N, K, status, counters.median_us). A directory stands for every report below it.
Files that are not such reports (Google Benchmark's own JSON of the first runs, which has no per-row check verdict
and no status; A/B tables; ncu exports) are skipped and listed. For every (GPU model, dtype, M, N, K) the passed
variant row (kind "variant"; peers such as cuBLAS and cuSPARSELt, and the "auto" rows, are never picked) that is
fastest over the reports of that GPU becomes one table row, whatever its family: every family competes. "Fastest"
is judged on each row's time over the cuBLAS peer's time at the same shape in the same report (every report times
cuBLAS beside the variants), and a variant timed in several reports takes the median of those ratios: a ratio is
comparable across runs whose clocks differ, and a median does not reward the one lucky timing that the lowest
time of all reports would (session 14: in one run, one kernel timed twice read up to 6% apart at the decode
shapes, and a table of lowest times picked such luck where two variants were within a few per cent). A report
with no cuBLAS row at a shape counts there only if no report has one (then the lowest time, as before).
Rows of a variant whose code changed after a run (the name stayed, the kernel did not) are listed in
results/superseded.txt, one "RUN_FOLDER VARIANT_REGEX reason" line each (RUN_FOLDER relative to results/), and
are not candidates: they timed a kernel this tree no longer has.
Only rows whose variant still exists in the registry and that pick() may return are candidates (kernels/dispatch.h:
a sparse GEMM on the type's default operands, metadata in the type's pick layout (lane_blocks16 for 16-bit and
tf32, lane_blocks8 for 8-bit), no scales, not an ablation: neither uniform_metadata nor family ablations), judged
from the registry's fields of today, and whose shape the variant's rule still accepts on the report's architecture.

The GPU model is the report's context.gpu spelled as scripts/bench.sh names the results folder (lower case, spaces
to '-', anything but [a-z0-9-] dropped): "NVIDIA H100 80GB HBM3" -> nvidia-h100-80gb-hbm3. pick() uses only the
rows of the device's own model (kernels/dispatch.h), so a GPU without rows gets measured choices, never another
GPU's table.

A row is the fastest of the variants that the reports timed at that shape, not of every variant. So that a row
is a decision and not one family's best, a (GPU, dtype, shape) becomes a row only when the variants timed there
(over all reports of that GPU) are at least MIN_TIMED = 2 and include one of every LADDER family of the shape: a
family with a pickable variant past its first step (s01 is a ladder's correctness baseline, e.g. mma_sp's only
8-bit variant s01_global, not a contender) that accepts the shape in today's registry (skinny, mma_sp, wgmma_sp for
a 16-bit decode shape). A shape timed by one family alone (an A/B of the wgmma steps; a decode run of one 8-bit
variant) is left out and listed on stderr, and prepare_auto() measures it on the GPU instead (kernels/dispatch.h).
The comment of each row says how many variants were timed there.

Each row also names its near ties (near_ties): the variants whose median ratio is within NEAR_TIE (10%) of the
chosen one's, at most MAX_TIES (3), nearest first. prepare_auto() times the row's variant and those in the
process that asks (kernels/dispatch.h): variants that close change places between runs. Then, at most
MAX_UNTIMED (2), the variants that lead (fastest or near tie) at the same N elsewhere on the GPU, in the row's type
or, for fp16 and bf16, the other 16-bit type (the same instructions on the same bytes), that no report timed at the
row's shape in its type, nearest shape first (untimed_leaders): a step added after a row's runs is otherwise never
a candidate there.
"""
import argparse
import json
import math
import re
import statistics
import subprocess
import sys
from pathlib import Path

import results_files as rf  # results stored gzipped over 20 KiB: read through it

ROOT = Path(__file__).resolve().parent.parent
# A dtype as the C++ enumerator names it (kernels/common/dtype.h): the JSON spells DType's name().
DTYPES = {"fp16", "bf16", "int8", "e4m3", "e5m2", "tf32"}


def gpu_model_key(name):
    """scripts/bench.sh's folder name of a device name (kernels/dispatch.cpp gpu_model_key is the same rule)."""
    s = "".join("-" if c == " " else c for c in name.lower())
    return re.sub(r"[^a-z0-9-]", "", s)


def pick_layout(dtype):
    """The metadata layout pick() serves for an input type (kernels/dispatch.cpp pick_layout)."""
    return "lane_blocks8" if dtype in ("int8", "e4m3", "e5m2") else "lane_blocks16"


# D of the type's default operands (kernels/common/operands.h default_operands): what pick() serves.
DEFAULT_D = {"fp16": "fp16", "bf16": "bf16", "int8": "int32", "e4m3": "bf16", "e5m2": "bf16", "tf32": "f32"}


def load_registry(arg):
    p = Path(arg)
    if p.is_file() and p.suffix != ".json":
        text = subprocess.run([str(p), "--list-json"], check=True, capture_output=True, text=True).stdout
    else:
        text = p.read_text()
    reg = {v["name"]: v for v in json.loads(text)}
    if reg and "uniform_metadata" not in next(iter(reg.values())):
        sys.exit("the registry has no uniform_metadata field: list it with a sparse24_bench of this tree")
    return reg


def pickable(v, dtype):
    """Whether pick() may return variant v (registry fields) for dtype, whatever the shape."""
    return (v["operation"] == "gemm" and v["sparse"] and v["meta_layout"] == pick_layout(dtype)
            and v["types"]["a"] == dtype and v["types"]["b"] == dtype and not v["has_scales"]
            and not v["uniform_metadata"] and v["family"] != "ablations")


def default_operands_ok(v, dtype, default_d):
    """The type's default operands (kernels/common/operands.h): D as DEFAULT_D says."""
    return v["types"]["d"] == default_d


def accepts(v, M, N, K, sm):
    r, a = v["shape_rule"], v["arch"]
    return (M % r["m_multiple"] == 0 and N % r["n_multiple"] == 0 and K % r["k_multiple"] == 0
            and N >= r["n_min"] and (r["n_max"] == 0 or N <= r["n_max"])
            and sm >= a["min_sm"] and (a["max_sm"] == 0 or sm <= a["max_sm"]))


MIN_TIMED = 2
# A row's near ties (near_ties): variants within NEAR_TIE of the row's median ratio, at most MAX_TIES of them.
NEAR_TIE = 0.10
MAX_TIES = 3


def ladder_families(reg, dtype, M, N, K, sm, family_re):
    """The families with a variant past step 1 that pick() may return for the shape: a complete row timed each."""
    return {v["family"] for v in reg.values()
            if re.search(family_re, v["family"]) and pickable(v, dtype) and v["step"] > 1
            and default_operands_ok(v, dtype, DEFAULT_D[dtype]) and accepts(v, M, N, K, sm)}


def report_sm(report):
    cc = str(report.get("context", {}).get("compute_capability", ""))
    m = re.match(r"^(\d+)\.(\d+)$", cc)
    return int(m.group(1)) * 10 + int(m.group(2)) if m else None


def load_superseded(path):
    """[(run folder, compiled variant regex)] from results/superseded.txt (blank lines and # comments skipped)."""
    out = []
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                folder, regex = line.split()[:2]
                out.append(((ROOT / "results" / folder).resolve(), re.compile(regex)))
    return out


def reports_of(paths):
    seen = set()
    for p in paths:
        p = Path(p)
        for f in rf.rglob(p, "*.json") if p.is_dir() else [rf.stored(p)]:
            if f.resolve() not in seen:
                seen.add(f.resolve())
                yield f


def check(out, text, reg):
    old = out.read_text() if out.exists() else ""
    if old == text:
        print(f"{out} is up to date")
        return 0
    families = {v["family"] for v in reg.values()}
    # Every name a row holds (its near ties and its variant), by family.
    named = {name.split(".")[0] for ties, variant in
             re.findall(r'^\{"[^"]*", \d+, DType::\w+, \d+, \d+, \d+, "([^"]*)", "([^"]+)"\}', old, re.M)
             for name in ties.split() + [variant]}
    if named - families:
        print(f"this build has no {', '.join(sorted(named - families))} variants: {out} not judged")
        return 77
    rows = lambda t: {ln.split("  //")[0] for ln in t.splitlines() if ln.startswith("{")}
    gone, new = sorted(rows(old) - rows(text)), sorted(rows(text) - rows(old))
    print(f"{out} is stale: {len(gone)} rows to drop, {len(new)} to add "
          f"(python3 scripts/make_dispatch_table.py --registry BUILD/sparse24_bench)")
    for ln in gone:
        print("  - " + ln)
    for ln in new:
        print("  + " + ln)
    if not gone and not new:
        print("  (the same rows; the header's list of runs or a row's comment differs)")
    return 1


def fastest_by_median_ratio(per_kernel, cublas_us):
    """per_kernel: kernel -> [(median_us, run, source)] at one (GPU, dtype, shape); cublas_us: run -> the cuBLAS
    peer's median_us there. Returns (kernel, us, source, median ratio, runs) of the variant whose median over runs of
    us / cublas_us[run] is lowest (ties to the name), its us and source from the run nearest that median; None when
    no run of the shape has a cuBLAS row (the caller keeps the lowest time)."""
    scores = {}
    for kernel, ts in per_kernel.items():
        ratios = sorted((us / cublas_us[run], us, src) for us, run, src in ts if run in cublas_us)
        if ratios:
            med = statistics.median(x[0] for x in ratios)
            _, us, src = min((abs(x[0] - med), x[1], x[2]) for x in ratios)
            scores[kernel] = (med, us, src, len(ratios))
    if not scores:
        return None
    kernel = min(scores, key=lambda k: (scores[k][0], k))
    med, us, src, n = scores[kernel]
    return kernel, us, src, med, n


def near_ties(per_kernel, cublas_us, kernel):
    """The variants whose median ratio (fastest_by_median_ratio's score) is within NEAR_TIE of the chosen kernel's,
    nearest first (ties to the name), at most MAX_TIES: prepare_auto() times them beside the row's variant."""
    scores = {}
    for k, ts in per_kernel.items():
        ratios = [us / cublas_us[run] for us, run, _ in ts if run in cublas_us]
        if ratios:
            scores[k] = statistics.median(ratios)
    if kernel not in scores:
        return []
    limit = scores[kernel] * (1 + NEAR_TIE)
    return sorted((k for k in scores if k != kernel and scores[k] <= limit), key=lambda k: (scores[k], k))[:MAX_TIES]


# fp16 and bf16 run the same instructions at the same rate on the same bytes: one type's leaders are candidates of
# the other's rows (untimed_leaders).
SIBLING = {"fp16": "bf16", "bf16": "fp16"}
# At most this many untimed leaders join a row's ties (prepare_auto() times each: a warm-up and 5 runs or more).
MAX_UNTIMED = 2


def twin_in(reg, name, dtype):
    """The registered variant with name's family, step, technique and parameters whose operands are dtype's (A, B and
    the type's default D), pickable for it; None when the registry has none."""
    v = reg[name]
    same = (v["family"], v["step"], v["technique"], v["params"])
    for w in reg.values():
        if ((w["family"], w["step"], w["technique"], w["params"]) == same and w["types"]["a"] == dtype
                and pickable(w, dtype) and default_operands_ok(w, dtype, DEFAULT_D[dtype])):
            return w["name"]
    return None


def shape_distance(a, b):
    """How far apart two (M, K) are: |log2 of the M ratio| + |log2 of the K ratio|."""
    return abs(math.log2(a[0] / b[0])) + abs(math.log2(a[1] / b[1]))


def untimed_leaders(reg, key, leaders, timed_here, sm):
    """[(variant, where it leads)]: variants that lead elsewhere at the same N on the same GPU, in this row's type,
    that no report timed at this row's shape in its type, and that its rule accepts, nearest shape first (the other
    16-bit type's leaders at the same shape, distance 0, come before everything), at most MAX_UNTIMED. A row is the
    fastest of what its reports timed: a step added after its runs is otherwise never a candidate there. Session 23:
    bf16 8192x200x29568's row, s08 at 140.7 us, was made before s13_tall existed; in fp16, s13 192 x 200 ran 119.9 us
    there against s08's 142.6 in the same run (session10_2026-12-03_a27091c), and no run timed it in bf16. The bf16
    rows of the model sweep (sweep-models_005df69) predate the decode steps s22 / s23 that lead the newer rows.
    leaders: key -> [its fastest variant (by median ratio), then its near ties], whether or not the shape is a
    complete row, of every shape where MIN_TIMED variants or more were timed (fewer is no decision: an 8-bit shape
    timed by mma_sp's s01 alone leads with it); timed_here: the names timed at key."""
    gpu, dt, M, N, K = key
    found = []
    for other, names in leaders.items():
        if other[0] != gpu or other[3] != N or other == key or other[1] not in (dt, SIBLING.get(dt)):
            continue
        d = shape_distance((M, K), (other[2], other[4]))
        for i, name in enumerate(names):
            found.append((d, other[1] != dt, i, name, other))
    out = []
    for d, _, _, name, other in sorted(found):
        twin = name if other[1] == dt else twin_in(reg, name, dt)
        if (twin is None or twin in timed_here or any(twin == t for t, _ in out)
                or not accepts(reg[twin], M, N, K, sm)):
            continue
        where = f"{other[1]} " + ("at this shape" if other[2:] == key[2:] else f"{other[2]}x{other[3]}x{other[4]}")
        out.append((twin, where))
        if len(out) == MAX_UNTIMED:
            break
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="*", default=[])
    ap.add_argument("--no-results", action="store_true", help="do not read the committed runs under results/")
    ap.add_argument("--registry", default=str(ROOT / "build" / "sparse24_bench"),
                    help="sparse24_bench --list-json output, or the binary (default: build/sparse24_bench)")
    ap.add_argument("--out", default=str(ROOT / "kernels" / "dispatch_table.inc"))
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it (see above)")
    ap.add_argument("--family", default=".*",
                    help="only variants whose family matches this regex (default: every family competes)")
    a = ap.parse_args()
    if not Path(a.registry).exists():
        sys.exit(f"no registry at {a.registry}: build sparse24_bench, or pass --registry")
    reg = load_registry(a.registry)
    sources = ([] if a.no_results else [str(ROOT / "results")]) + a.reports

    best = {}     # (gpu, dtype, M, N, K) -> [median_us, kernel, source, sm, timed]
    timings = {}  # (gpu, dtype, M, N, K) -> kernel -> [(median_us, run, source)]
    cublas = {}   # (gpu, dtype, M, N, K) -> run -> the cuBLAS peer's median_us in that report
    used = {}     # gpu -> set of run names (folder/file) that gave at least one candidate row
    skipped = []  # (path, why)
    superseded = load_superseded(ROOT / "results" / "superseded.txt")
    for path in reports_of(sources):
        try:
            report = json.loads(rf.read_text(path))
        except (ValueError, UnicodeDecodeError, OSError):
            skipped.append((path, "not JSON"))
            continue
        if not isinstance(report, dict) or not isinstance(report.get("rows"), list):
            skipped.append((path, "not a sparse24 report (no rows: an older Google Benchmark JSON, or another file)"))
            continue
        ctx = report.get("context", {})
        sm = report_sm(report)
        gpu = gpu_model_key(str(ctx.get("gpu", "")))
        if not gpu or sm is None:
            skipped.append((path, "no gpu or compute_capability in its context"))
            continue
        commit = ctx.get("commit", "?")
        run = f"{path.parent.name}/{rf.logical(path).name}"  # the logical name: the same once gzipped
        for r in report["rows"]:
            if (r.get("status") == "passed" and r.get("kind") == "peer" and str(r.get("kernel", "")).startswith("cublas.")
                    and (r.get("counters") or {}).get("median_us")):
                cublas.setdefault((gpu, r.get("dtype"), int(r["M"]), int(r["N"]), int(r["K"])), {})[run] = \
                    r["counters"]["median_us"]
                continue
            if r.get("status") != "passed" or r.get("kind", "variant") != "variant":
                continue
            v, dt = reg.get(r.get("kernel")), r.get("dtype")
            if v is None or dt not in DTYPES or not re.search(a.family, v["family"]):
                continue  # a variant this tree no longer has, or another family
            if any(path.resolve().is_relative_to(folder) and rx.search(r["kernel"]) for folder, rx in superseded):
                continue  # timed an earlier form of the variant's code (results/superseded.txt)
            M, N, K = int(r["M"]), int(r["N"]), int(r["K"])
            if not pickable(v, dt) or not default_operands_ok(v, dt, DEFAULT_D[dt]) or not accepts(v, M, N, K, sm):
                continue
            us = (r.get("counters") or {}).get("median_us")
            if us is None:
                continue
            key = (gpu, dt, M, N, K)
            used.setdefault(gpu, set()).add(run)
            entry = best.setdefault(key, [float("inf"), None, None, sm, set()])
            entry[4].add(r["kernel"])
            timings.setdefault(key, {}).setdefault(r["kernel"], []).append(
                (us, run, f"{ctx.get('gpu', '?')} @ {commit}, {run}"))
            if us < entry[0]:
                entry[:4] = [us, r["kernel"], f"{ctx.get('gpu', '?')} @ {commit}, {run}", sm]

    # The fastest by the median over reports of time / cuBLAS's time (the docstring).
    ties = {}  # (gpu, dtype, M, N, K) -> [kernel]: the row's near ties (near_ties)
    for key, per_kernel in timings.items():
        chosen = fastest_by_median_ratio(per_kernel, cublas.get(key, {}))
        if chosen:
            kernel, us, src, med, n = chosen
            best[key][:3] = [us, kernel, src + (f"; {med:.3f}x cuBLAS's time, median of {n} runs" if n > 1 else "")]
            ties[key] = near_ties(per_kernel, cublas.get(key, {}), kernel)

    # Each shape's fastest and near ties, complete row or not (untimed_leaders reads them).
    leaders = {key: [entry[1]] + ties.get(key, []) for key, entry in best.items() if len(entry[4]) >= MIN_TIMED}
    # Complete rows only (the docstring): at least MIN_TIMED variants, and every ladder family of the shape.
    incomplete = []
    for key in sorted(best):
        gpu, dt, M, N, K = key
        timed_families = {reg[k]["family"] for k in best[key][4]}
        missing = [f"no {f} variant timed" for f in
                   sorted(ladder_families(reg, dt, M, N, K, best[key][3], a.family) - timed_families)]
        if len(best[key][4]) < MIN_TIMED:
            missing.append(f"{len(best[key][4])} variant timed, fewer than {MIN_TIMED}")
        if missing:
            incomplete.append((key, missing))
            del best[key]
    used = {g: runs for g, runs in used.items() if any(k[0] == g for k in best)}
    # Leaders at the same N that this row's runs never timed (untimed_leaders) join its ties.
    untimed = {}
    for key in best:
        untimed[key] = untimed_leaders(reg, key, leaders, timings.get(key, {}), best[key][3])
        ties[key] = ties.get(key, []) + [name for name, _ in untimed[key]]

    lines = ["// Generated by scripts/make_dispatch_table.py; do not edit by hand. One block of rows per GPU model,",
             "// from these runs (results/<gpu>/<folder>/<file>):"]
    for gpu in sorted(used):
        lines.append(f"//   {gpu}: " + ", ".join(sorted(used[gpu])))
    lines.append(f"// {{gpu, sm, dtype, M, N, K, near ties (within {NEAR_TIE:.0%} of the variant's ratio, space-separated; "
                 "then the leaders at the same N that this shape's runs never timed), fastest passed variant}  "
                 "// median us, variants timed there, GPU @ commit, run")
    for key in sorted(best):
        gpu, dt, M, N, K = key
        us, kernel, src, sm, timed = best[key]
        lines.append(f'{{"{gpu}", {sm}, DType::{dt}, {M}, {N}, {K}, "{" ".join(ties.get(key, []))}", "{kernel}"}},  '
                     f'// {us:.1f} us of {len(timed)}, {src}'
                     + (f"; untimed here, leading at {', '.join(w for _, w in untimed[key])}" if untimed[key] else ""))
    text = "\n".join(lines) + "\n"
    if a.check:
        return check(Path(a.out), text, reg)
    Path(a.out).write_text(text)
    per_gpu = {g: sum(1 for k in best if k[0] == g) for g in sorted(used)}
    print(f"{len(best)} rows -> {a.out}: " + ", ".join(f"{g} {n}" for g, n in per_gpu.items()))
    for path, why in skipped:
        print(f"skipped {path}: {why}", file=sys.stderr)
    for (gpu, dt, M, N, K), missing in incomplete:
        print(f"left out {gpu} {dt} {M}x{N}x{K}: {'; '.join(missing)}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
