#!/usr/bin/env python3
"""make plots: PNG plots beside a run's committed JSON.

    python3 scripts/plots.py [RUN ...]     RUN: a run folder or one report JSON in it; default: the newest
                                           harness report of each GPU under results/

Per report (bench.json, a sweep's rows.jsonl, or any other report JSON of the folder, each on its own: an A/B
folder's two builds are never mixed) and per type, written beside it as <report>_<plot>_<dtype>.png:
  tflops_vs_n     TFLOP/s against N for each weight (M x K) measured at two N or more: each family's best variant
                  (dense families are the sparse ones' twins), cuBLAS and cuSPARSELt
  copy_vs_n       the same rows as % of the measured copy rate (compulsory bytes / time against the copy loop)
  sparse_dense    per shape, the best sparse row's TFLOP/s over the best dense row's (cuBLAS or a dense twin)
  ladders         per family, each step's best TFLOP/s at the shape where most steps were measured, the dense twin
                  family's steps beside it
  clock           TFLOP/s against the SM clock the row ran at (the mean of the clock read after each launch's
                  min and max), at the shape with the most rows
  per_watt        TFLOP/s per watt (energy rows only): per shape, our best row against the peers
Ablation rows (correct only on their uniform problem) are left out here: the metadata-overhead plot, each twin beside
its real variant, is scripts/overhead.py's (make plots runs it after this). A plot without data (no energy rows,
one N per weight) is not written. Reads only the JSON (the same loader as
scripts/make_results_readme.py). Needs matplotlib (pip install matplotlib); not part of the CI's tests.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_results_readme as mr  # noqa: E402  (the rows' loader: one reading of the report format)
import results_files as rf  # noqa: E402  (results stored gzipped over 20 KiB: read through it)

SPARSE_COLORS = {"skinny": "tab:green", "mma_sp": "tab:blue", "wgmma_sp": "tab:red"}
DENSE_COLORS = {"dense": "tab:cyan", "wgmma_dense": "tab:orange"}
PEER_STYLE = {"cublas": ("cuBLAS (dense)", "black", "--"), "cusparselt": ("cuSPARSELt", "tab:purple", ":")}


def dims(shape: str):
    return mr.shape_sort_key(shape)


def family_of(r) -> str:
    return r.peer or r.family or "?"


def color(fam: str) -> str:
    if fam in PEER_STYLE:
        return PEER_STYLE[fam][1]
    return SPARSE_COLORS.get(fam) or DENSE_COLORS.get(fam) or "tab:gray"


def measured(rows: list, dtype: str) -> list:
    """Passed, timed rows of our variants and the peers (the auto row repeats a variant: left out; an ablation is
    correct only on its own uniform problem: scripts/overhead.py plots it, beside its real variant)."""
    return [r for r in rows if r.dtype == dtype and r.status() == "ok" and r.tflops() is not None
            and (r.peer is not None or ((r.fields or {}).get("kind") == "variant" and not mr.is_ablation(r)))]


def best_by(rows: list, key) -> dict:
    """{key(r): fastest row}."""
    out: dict = {}
    for r in rows:
        k = key(r)
        if k not in out or r.tflops() > out[k].tflops():
            out[k] = r
    return out


def grid(plt, n: int):
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def plot_vs_n(plt, rows: list, dtype: str, value, ylabel: str, title: str, out: Path) -> bool:
    weights: dict = {}
    for r in rows:
        M, N, K = dims(r.shape)
        weights.setdefault((M, K), set()).add(N)
    weights = {w: ns for w, ns in weights.items() if len(ns) >= 2}
    if not weights:
        return False
    fig, axes = grid(plt, len(weights))
    for ax, (M, K) in zip(axes, sorted(weights)):
        sub = [r for r in rows if (dims(r.shape)[0], dims(r.shape)[2]) == (M, K) and value(r) is not None]
        best = best_by(sub, lambda r: (family_of(r), dims(r.shape)[1]))
        for fam in sorted({f for f, _ in best}):
            pts = sorted((n, value(r)) for (f, n), r in best.items() if f == fam)
            label, style = (PEER_STYLE[fam][0], PEER_STYLE[fam][2]) if fam in PEER_STYLE else (fam, "-")
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="o", ms=3, color=color(fam),
                    label=label)
        ax.set_xscale("log", base=2)
        ax.set_title(f"{dtype} weight {M} x {K}", fontsize=9)
        ax.set_xlabel("N (tokens)")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return True


def plot_sparse_dense(plt, rows: list, dtype: str, out: Path) -> bool:
    shapes = sorted({r.shape for r in rows}, key=dims)
    ratios = []
    for s in shapes:
        sp = [r for r in rows if r.shape == s and r.sparse]
        de = [r for r in rows if r.shape == s and not r.sparse]
        if sp and de:
            ratios.append((s, max(r.tflops() for r in sp) / max(r.tflops() for r in de)))
    if not ratios:
        return False
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(ratios) + 2), 4))
    ax.bar(range(len(ratios)), [v for _, v in ratios], color="tab:blue")
    ax.axhline(1.0, color="black", lw=0.8)
    ax.axhline(2.0, color="tab:red", lw=0.8, ls="--", label="2x (the math's promise)")
    ax.set_xticks(range(len(ratios)))
    ax.set_xticklabels([s for s, _ in ratios], rotation=70, fontsize=7)
    ax.set_ylabel("best sparse / best dense TFLOP/s")
    ax.set_title(f"{dtype}: sparse over dense (cuBLAS or our dense twins), per shape", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return True


def step_of(r):
    v = (r.fields or {}).get("variant") or {}
    return v.get("step"), v.get("technique")


TWIN = {"mma_sp": "dense", "wgmma_sp": "wgmma_dense"}


def plot_ladders(plt, rows: list, dtype: str, out: Path) -> bool:
    families = sorted({r.family for r in rows if r.peer is None and r.sparse and r.family})
    panels = []
    for fam in families:
        fam_rows = [r for r in rows if r.family == fam]
        # The shape where this family's most steps were measured (ties: the largest).
        by_shape: dict = {}
        for r in fam_rows:
            by_shape.setdefault(r.shape, set()).add(step_of(r))
        shape = max(by_shape, key=lambda s: (len(by_shape[s]), dims(s)))
        if len(by_shape[shape]) < 2:
            continue
        panels.append((fam, shape))
    if not panels:
        return False
    fig, axes = grid(plt, len(panels))
    for ax, (fam, shape) in zip(axes, panels):
        cub = [r for r in rows if r.shape == shape and r.peer == "cublas"]
        for f, offset in ((fam, -0.2), (TWIN.get(fam), 0.2)):
            if not f:
                continue
            best = best_by([r for r in rows if r.family == f and r.shape == shape], step_of)
            if not best:
                continue
            steps = sorted(best, key=lambda s: s[0] or 0)
            ax.bar([(s[0] or 0) + offset for s in steps], [best[s].tflops() for s in steps], width=0.4,
                   color=color(f), label=f)
        if cub:
            ax.axhline(cub[0].tflops(), color="black", ls="--", lw=0.8, label="cuBLAS")
        ax.set_xlabel("step")
        ax.set_ylabel("TFLOP/s (best variant of the step)")
        ax.set_title(f"{fam} ladder, {dtype} {shape}", fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return True


def clock_of(r):
    lo, hi = r.value("sm_clock_min_mhz"), r.value("sm_clock_max_mhz")
    if lo and hi:
        return (lo + hi) / 2
    return r.value("sm_clock_mhz")


def plot_clock(plt, rows: list, dtype: str, out: Path) -> bool:
    with_clock = [r for r in rows if clock_of(r)]
    if not with_clock:
        return False
    counts: dict = {}
    for r in with_clock:
        counts[r.shape] = counts.get(r.shape, 0) + 1
    shape = max(counts, key=lambda s: (counts[s], dims(s)))
    sub = [r for r in with_clock if r.shape == shape]
    if len(sub) < 3:
        return False
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for fam in sorted({family_of(r) for r in sub}):
        pts = [r for r in sub if family_of(r) == fam]
        label = PEER_STYLE[fam][0] if fam in PEER_STYLE else fam
        ax.scatter([clock_of(r) for r in pts], [r.tflops() for r in pts], s=14, color=color(fam), label=label)
    ax.set_xlabel("SM clock during the timed launches (MHz, mean of min and max)")
    ax.set_ylabel("TFLOP/s")
    ax.set_title(f"{dtype} {shape}: TFLOP/s against the clock each row ran at", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return True


def plot_per_watt(plt, rows: list, dtype: str, out: Path) -> bool:
    rows = [r for r in rows if r.value("tflops_per_watt")]
    if not rows:
        return False
    shapes = sorted({r.shape for r in rows}, key=dims)
    series = {"ours (best per watt)": [], "cuBLAS": [], "cuSPARSELt": []}
    for s in shapes:
        here = [r for r in rows if r.shape == s]
        ours = [r.value("tflops_per_watt") for r in here if r.peer is None]
        series["ours (best per watt)"].append(max(ours) if ours else 0)
        for peer, label in (("cublas", "cuBLAS"), ("cusparselt", "cuSPARSELt")):
            v = [r.value("tflops_per_watt") for r in here if r.peer == peer]
            series[label].append(v[0] if v else 0)
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(shapes) + 2), 4))
    width = 0.27
    for i, (label, vals) in enumerate(series.items()):
        ax.bar([x + (i - 1) * width for x in range(len(shapes))], vals, width=width, label=label,
               color=["tab:red", "black", "tab:purple"][i])
    ax.set_xticks(range(len(shapes)))
    ax.set_xticklabels(shapes, rotation=70, fontsize=7)
    ax.set_ylabel("TFLOP/s per W (= TFLOP per J)")
    ax.set_title(f"{dtype}: energy efficiency (NVML energy counter over each row's energy loop)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return True


def reports_of(target: Path) -> list:
    """The report files of a run folder (or the one file given)."""
    if target.is_file():
        return [target]
    if rf.stored(target / mr.ROWS_FILE).is_file():
        return [target / mr.ROWS_FILE]
    if rf.stored(target / "bench.json").is_file():
        return [target / "bench.json"]
    return [p for p in rf.glob(target, "*.json") if not p.name.startswith("session-")]


def plot_report(plt, path: Path) -> list:
    run = mr.Run(path)
    if run.error or not run.rows or any(r.fields is None for r in run.rows):
        return []  # unreadable, empty, or Google Benchmark's older format (no variant fields)
    name = rf.logical(path)  # bench.json.gz plots as bench.json did
    stem = "rows" if name.name == mr.ROWS_FILE else name.stem
    written = []
    for dtype in sorted({r.dtype for r in run.rows}):
        rows = measured(run.rows, dtype)
        if not rows:
            continue
        jobs = [
            ("tflops_vs_n", lambda o: plot_vs_n(plt, rows, dtype, lambda r: r.tflops(), "TFLOP/s",
                                                f"{dtype}: TFLOP/s against N, per weight ({run_name(path)})", o)),
            ("copy_vs_n", lambda o: plot_vs_n(plt, rows, dtype, lambda r: r.value("pct_of_copy"), "% of copy rate",
                                              f"{dtype}: compulsory bytes / time as % of the copy rate "
                                              f"({run_name(path)})", o)),
            ("sparse_dense", lambda o: plot_sparse_dense(plt, rows, dtype, o)),
            ("ladders", lambda o: plot_ladders(plt, rows, dtype, o)),
            ("clock", lambda o: plot_clock(plt, rows, dtype, o)),
            ("per_watt", lambda o: plot_per_watt(plt, rows, dtype, o)),
        ]
        for name, job in jobs:
            out = path.parent / f"{stem}_{name}_{dtype}.png"
            if job(out):
                written.append(out)
    return written


def run_name(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="*", type=Path, help="run folders or report JSONs (default: the newest per GPU)")
    args = ap.parse_args(argv)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plots.py: matplotlib is missing: pip install matplotlib", file=sys.stderr)
        return 1
    # Default: the newest report of each GPU (make_results_readme's order), the one the lead regenerates after a run.
    targets = args.runs or [runs[0].path for runs in mr.report_runs(mr.REPO / "results").values()]
    written = []
    for t in targets:
        if not t.exists():
            print(f"plots.py: {t} does not exist", file=sys.stderr)
            return 1
        for report in reports_of(t):
            written += plot_report(plt, report)
    for p in written:
        print(f"wrote {p}")
    if not written:
        print("plots.py: nothing to plot (no report rows with data for any plot)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
