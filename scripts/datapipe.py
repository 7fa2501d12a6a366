#!/usr/bin/env python3
"""The data-pipe experiment's figures in one table: the timed rows of sparse24_datapipe joined with Nsight Compute's.

    python3 scripts/datapipe.py OUT_DIR          (what scripts/datapipe.sh runs)
    python3 scripts/datapipe.py --self-test      (synthetic inputs through the same code; no GPU, no ncu)

OUT_DIR holds datapipe.json (sparse24_datapipe --json: one row per (form, X), cycles per k-tile from clock64),
order.jsonl (sparse24_datapipe --profile: the launch order) and ncu.csv (ncu --import --csv --page raw
--print-units base: one line per kernel, in launch order). Writes OUT_DIR/datapipe_ncu.json ({"context", "rows",
"fits"}) and OUT_DIR/datapipe.csv, and prints the table and the fits.

Per row, from ncu, on one basis (pct_of_peak_sustained_elapsed: share of the elapsed cycles' peak):
  pipe_pct, gmma_pct, ld_pct   l1tex__data_pipe_lsu_wavefronts_mem_shared{,_op_gmma,_op_ld}
  tensor_pct_ncu               sm__pipe_tensor_op_gmma_cycles_active
and from the raw counts, per k-tile and SM (SMs x iterations k-tiles in a launch): gmma_wavefronts_ncu,
ld_wavefronts_ncu (must be the row's X: the accounting check), cycles_per_ktile_ncu (sm__cycles_elapsed.avg /
iterations: includes the launch's set-up and drain, so a little above clock64's). The fits: per form, the least-
squares slope of cycles per k-tile against X over the X at and above the form's knee (the account: 1.0 for SS and
RS; none for dense, whose knee lies past the range), its intercept against the prediction's, and the slope over
every X (the dense control's: 0 if the loads cost the tensor pipe nothing while the pipe has room).
Python 3.9+, standard library only.
"""
from __future__ import annotations

import csv
import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead_ncu import parse  # noqa: E402  (one reader of ncu's raw CSV, shared with the overhead study)
import results_files as rf  # noqa: E402  (results stored gzipped over 20 KiB: read through it)

PCT = "pct_of_peak_sustained_elapsed"
METRICS = {
    "pipe_pct": f"l1tex__data_pipe_lsu_wavefronts_mem_shared.sum.{PCT}",
    "gmma_pct": f"l1tex__data_pipe_lsu_wavefronts_mem_shared_op_gmma.sum.{PCT}",
    "ld_pct": f"l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum.{PCT}",
    "tensor_pct_ncu": f"sm__pipe_tensor_op_gmma_cycles_active.avg.{PCT}",
}
PIPE_SUM = "l1tex__data_pipe_lsu_wavefronts_mem_shared.sum"
GMMA_SUM = "l1tex__data_pipe_lsu_wavefronts_mem_shared_op_gmma.sum"
LD_SUM = "l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum"
CYCLES = "sm__cycles_elapsed.avg"
FORMS = ["sparse_ss", "sparse_rs", "dense_ss"]  # wgmma_bench::Form's order (the kernel names carry its value)
KERNEL = re.compile(r"datapipe_loop<\(?[^,<>]*Form\)?\s*(\d+),\s*(\d+)>")


def fit(points: list) -> tuple:
    """Least-squares (slope, intercept) of y on x; slope None with fewer than two distinct x."""
    if len({x for x, _ in points}) < 2:
        return None, None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    return slope, my - slope * mx


def knee(row: dict) -> int:
    return max(0, row["tensor_cycles_per_ktile"] - row["gmma_wavefronts_per_ktile"])


def join(report: dict, order: list, kernels: list) -> tuple:
    """(rows with the ncu figures, problems found)."""
    problems = []
    ctx = report["context"]
    sms = int(ctx.get("sm_count", 0) or 0)
    iterations = int(ctx["iterations"])
    if len(kernels) != len(order):
        problems.append(f"ncu has {len(kernels)} kernels, the launch order {len(order)}: "
                        "paired by position up to the shorter")
    by_key = {(r["form"], r["x"]): r for r in report["rows"]}
    rows = []
    for launch, kern in zip(order, kernels):
        key = (launch["form"], launch["x"])
        m = KERNEL.search(kern["name"])
        if m and (FORMS[int(m.group(1))], int(m.group(2))) != key:
            problems.append(f"ncu's kernel {kern['name']!r} is not launch {key}: the order is off")
        row = dict(by_key.get(key, {"form": key[0], "x": key[1]}))
        met = kern["metrics"]
        for field, name in METRICS.items():
            if name in met:
                row[field] = round(met[name], 2)
        # Every l1tex wavefront pct shares the data pipe's peak: one ncu did not give is the total's pct scaled by
        # the raw counts.
        for field, raw in (("gmma_pct", GMMA_SUM), ("ld_pct", LD_SUM)):
            if field not in row and "pipe_pct" in row and met.get(PIPE_SUM) and raw in met:
                row[field] = round(row["pipe_pct"] * met[raw] / met[PIPE_SUM], 2)
        ktiles = sms * iterations
        if ktiles and GMMA_SUM in met:
            row["gmma_wavefronts_ncu"] = round(met[GMMA_SUM] / ktiles, 2)
        if ktiles and LD_SUM in met:
            row["ld_wavefronts_ncu"] = round(met[LD_SUM] / ktiles, 2)
            # The accounting check: the loads cost X wavefronts per k-tile and SM (the kernel's set-up adds none:
            # it stores, and its only loads are these).
            if abs(row["ld_wavefronts_ncu"] - key[1]) > 0.01 * max(key[1], 1) + 0.5:
                problems.append(f"{key}: ncu counts {row['ld_wavefronts_ncu']} ld wavefronts per k-tile and SM, not X")
        if ktiles and PIPE_SUM in met:
            row["pipe_wavefronts_ncu"] = round(met[PIPE_SUM] / ktiles, 2)
        if iterations and CYCLES in met:
            row["cycles_per_ktile_ncu"] = round(met[CYCLES] / iterations, 2)
        if "gmma_wavefronts_per_ktile" in row and "gmma_wavefronts_ncu" in row:
            account = row["gmma_wavefronts_per_ktile"]
            if abs(row["gmma_wavefronts_ncu"] - account) > 0.01 * account:
                problems.append(f"{key}: ncu counts {row['gmma_wavefronts_ncu']} gmma wavefronts per k-tile and SM, "
                                f"the account {row['gmma_wavefronts_per_ktile']}")
        rows.append(row)
    return rows, problems


def fits(rows: list) -> dict:
    out = {}
    for form in FORMS:
        pts = [r for r in rows if r.get("form") == form and "cycles_per_ktile" in r]
        if not pts:
            continue
        k = knee(pts[0])
        slope, intercept = fit([(r["x"], r["cycles_per_ktile"]) for r in pts if r["x"] >= k])
        p_slope, p_intercept = fit([(r["x"], r["predicted_cycles_per_ktile"]) for r in pts if r["x"] >= k])
        slope_all, _ = fit([(r["x"], r["cycles_per_ktile"]) for r in pts])
        out[form] = {"knee_x": k, "points": sum(r["x"] >= k for r in pts),
                     "slope_over_all_x": None if slope_all is None else round(slope_all, 3),
                     "slope_cycles_per_wavefront": None if slope is None else round(slope, 3),
                     "intercept_cycles": None if intercept is None else round(intercept, 1),
                     "predicted_slope": None if p_slope is None else round(p_slope, 3),
                     "predicted_intercept": None if p_intercept is None else round(p_intercept, 1)}
    return out


COLUMNS = ["form", "x", "cycles_per_ktile", "predicted_cycles_per_ktile", "cycles_per_ktile_ncu", "tensor_pct",
           "predicted_tensor_pct", "tensor_pct_ncu", "pipe_pct", "gmma_pct", "ld_pct", "gmma_wavefronts_ncu",
           "ld_wavefronts_ncu", "pipe_wavefronts_ncu", "tflops", "predicted_tflops", "loop_clock_mhz", "sums_ok"]


def write(out_dir: Path, report: dict, rows: list, problems: list) -> dict:
    result = {"context": report["context"], "rows": rows, "fits": fits(rows), "problems": problems}
    (out_dir / "datapipe_ncu.json").write_text(json.dumps(result, indent=1) + "\n")
    with open(out_dir / "datapipe.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([r.get(c, "") for c in COLUMNS])
    return result


def show(result: dict) -> None:
    head = ["form", "x", "cycles_per_ktile", "predicted_cycles_per_ktile", "tensor_pct", "tensor_pct_ncu",
            "pipe_pct", "gmma_pct", "ld_pct", "ld_wavefronts_ncu", "tflops"]
    short = ["form", "X", "cyc/kt", "pred", "tensor%", "t%ncu", "pipe%", "gmma%", "ld%", "ld wf", "TFLOP/s"]
    print(" ".join(f"{h:>9}" for h in short))
    for r in result["rows"]:
        print(" ".join(f"{r[c]:>9.5g}" if isinstance(r.get(c), float) else f"{str(r.get(c, '-')):>9}" for c in head))
    for form, f in result["fits"].items():
        print(f"fit {form}: cycles per k-tile = {f['intercept_cycles']} + {f['slope_cycles_per_wavefront']} X "
              f"(X >= {f['knee_x']}, {f['points']} points); "
              f"predicted {f['predicted_intercept']} + {f['predicted_slope']} X; "
              f"slope over every X {f['slope_over_all_x']}")
    for p in result["problems"]:
        print(f"datapipe: PROBLEM: {p}")


def run(out_dir: Path) -> int:
    report = json.loads(rf.read_text(out_dir / "datapipe.json"))
    order = [json.loads(l) for l in rf.read_text(out_dir / "order.jsonl").splitlines() if l.strip()]
    _, kernels = parse(rf.read_text(out_dir / "ncu.csv", errors="replace"))
    rows, problems = join(report, order, kernels)
    result = write(out_dir, report, rows, problems)
    show(result)
    return 1 if problems else 0


def self_test() -> int:
    """Synthetic run: a pipe-bound SS and RS (cycles = gmma + X), a flat dense; ncu's counts exact."""
    sms, iterations = 4, 2048
    xs = [0, 8, 16, 32, 64, 96, 128, 192, 288]
    account = {"sparse_ss": (512, 576), "sparse_rs": (512, 512), "dense_ss": (1024, 640)}
    rows, order, lines = [], [], []
    metric_names = list(METRICS.values()) + [PIPE_SUM, GMMA_SUM, LD_SUM, CYCLES]
    header = ["ID", "Kernel Name"] + metric_names
    lines.append(",".join(f'"{h}"' for h in header))
    lines.append(",".join('""' for _ in header[:2]) + "," + ",".join('"%"' for _ in METRICS) + ',"","","","cycle"')
    for fi, form in enumerate(FORMS):
        t, g = account[form]
        for x in xs:
            cycles = max(t, g + x)
            rows.append({"form": form, "x": x, "tensor_cycles_per_ktile": t, "gmma_wavefronts_per_ktile": g,
                         "predicted_cycles_per_ktile": cycles, "cycles_per_ktile": cycles * 1.05 + 3})
            order.append({"form": form, "x": x})
            n = len(order) - 1
            ktiles = sms * iterations
            vals = [100.0 * (g + x) / cycles, 100.0 * g / cycles, 100.0 * x / cycles, 100.0 * t / cycles,
                    (g + x) * ktiles, g * ktiles, x * ktiles, cycles * iterations]
            name = ("void sparse24::harness::datapipe::(anonymous namespace)::datapipe_loop<"
                    f"(sparse24::harness::wgmma_bench::Form){fi}, {x}>(int, float *, unsigned int *, long long *)")
            lines.append(f'"{n}","{name}",' + ",".join(f'"{v:,.2f}"' for v in vals))
    report = {"context": {"sm_count": str(sms), "iterations": iterations}, "rows": rows}
    failures = []
    with tempfile.TemporaryDirectory() as d:
        out = Path(d)
        (out / "datapipe.json").write_text(json.dumps(report))
        (out / "order.jsonl").write_text("\n".join(json.dumps(o) for o in order) + "\n")
        (out / "ncu.csv").write_text("\n".join(lines) + "\n")
        if run(out) != 0:
            failures.append("a consistent synthetic run reported problems")
        result = json.loads((out / "datapipe_ncu.json").read_text())
        f = result["fits"]
        if abs(f["sparse_ss"]["slope_cycles_per_wavefront"] - 1.05) > 1e-6 or f["sparse_ss"]["knee_x"] != 0:
            failures.append(f"SS fit {f['sparse_ss']}")
        if (f["dense_ss"]["knee_x"] != 384 or f["dense_ss"]["slope_cycles_per_wavefront"] is not None or
                abs(f["dense_ss"]["slope_over_all_x"]) > 1e-9):
            failures.append(f"dense fit {f['dense_ss']} (no point at or past the knee: no slope)")
        if result["rows"][3]["ld_wavefronts_ncu"] != 32 or result["rows"][3]["gmma_pct"] is None:
            failures.append(f"row 3 {result['rows'][3]}")
        # A launch order that does not match ncu's kernels, and an X the loads did not cost, are reported.
        (out / "order.jsonl").write_text("\n".join(json.dumps(o) for o in reversed(order)) + "\n")
        if run(out) == 0:
            failures.append("a reversed launch order went unnoticed")
    for msg in failures:
        print(f"datapipe self-test: FAILED: {msg}")
    print("datapipe self-test:", "failed" if failures else "ok")
    return 1 if failures else 0


def main(argv: list) -> int:
    if argv == ["--self-test"]:
        return self_test()
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    return run(Path(argv[0]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
