#!/usr/bin/env python3
"""How close `auto` came to the fastest variant it could have run, cell by cell, in the same report.

    python3 scripts/auto_check.py REPORT.json|RUN_DIR ... [--within 0.03,0.10] [--cells]

Issue 19's target for the dispatcher: `auto` within 3% of the best variant on every swept shape, within 10% off
the sweeps. This is that figure, computed from the reports (`sparse24_bench --json`) rather than by hand. A
RUN_DIR means every report in the folder (*.json, stored gzipped or not: scripts/results_files.py).

A cell is (report, dtype, M, N, K) where the report holds a passed `auto` row. Its figure is auto's median_us over
the lowest median_us among the report's passed variant rows at that cell that pick() could have returned for the
type (kernels/dispatch.cpp; scripts/make_dispatch_table.py `pickable`: sparse GEMM, the type's metadata layout and
default D, no scales, not an ablation or a uniform-metadata twin). Only same-report rows are compared: one process,
one GPU, one L2-flushed timing loop. A cell where no such variant was timed is listed apart (nothing to compare).

Prints one line per report (cells, within each bound, the worst), and with --cells one line per cell: auto's
variant, the fastest variant, both times and the ratio. Exit 0; 1 when no report held an `auto` row. Python 3.9+,
standard library only.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import results_files as rf  # noqa: E402  (results stored gzipped over 20 KiB)
from make_dispatch_table import DEFAULT_D, default_operands_ok, pickable  # noqa: E402  (pick()'s rule, once)


def reports(paths) -> list:
    out = []
    for p in map(Path, paths):
        out += [q for q in rf.glob(p, "*.json")] if p.is_dir() else [rf.stored(p)]
    return out


def median_us(row):
    return (row.get("counters") or {}).get("median_us") if row.get("status") == "passed" else None


def could_pick(row) -> bool:
    v, dt = row.get("variant") or {}, row.get("dtype")
    try:
        return dt in DEFAULT_D and pickable(v, dt) and default_operands_ok(v, dt, DEFAULT_D[dt])
    except (KeyError, TypeError):
        return False  # a row of an older report without the fields pick() reads


def cells_of(report: dict) -> tuple:
    """([(dtype, M, N, K, auto_us, auto_variant, best_us, best_variant)], [cells with auto but no variant])."""
    auto, best = {}, {}
    for r in report.get("rows") or []:
        us = median_us(r)
        if us is None:
            continue
        key = (r.get("dtype"), r.get("M"), r.get("N"), r.get("K"))
        if r.get("kind") == "auto":
            auto[key] = (us, (r.get("variant") or {}).get("name") or (r.get("notes") or {}).get("picked", "?"))
        elif r.get("kind", "variant") == "variant" and could_pick(r):
            if key not in best or us < best[key][0]:
                best[key] = (us, r["kernel"])
    cells = [(*k, *auto[k], *best[k]) for k in sorted(auto, key=str) if k in best]
    return cells, [k for k in sorted(auto, key=str) if k not in best]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reports", nargs="+", help="report JSON files or run folders")
    ap.add_argument("--within", default="0.03,0.10", help="bounds to count, as fractions (default 0.03,0.10)")
    ap.add_argument("--cells", action="store_true", help="one line per cell")
    a = ap.parse_args(argv)
    bounds = [float(x) for x in a.within.split(",")]
    total, within, any_auto = 0, [0] * len(bounds), False
    for path in reports(a.reports):
        try:
            report = json.loads(rf.read_text(path))
        except (OSError, ValueError) as e:
            print(f"{path}: unreadable ({e})")
            continue
        if not isinstance(report, dict):
            continue
        cells, alone = cells_of(report)
        if not cells and not alone:
            continue
        any_auto = True
        name = f"{path.parent.name}/{rf.logical(path).name}"
        ratios = [c[4] / c[6] for c in cells]
        counts = [sum(x <= 1 + b for x in ratios) for b in bounds]
        total += len(cells)
        within = [w + c for w, c in zip(within, counts)]
        worst = max(range(len(cells)), key=lambda i: ratios[i]) if cells else None
        line = f"{name}: {len(cells)} cells; " + ", ".join(
            f"within {b:.0%}: {c}" for b, c in zip(bounds, counts))
        if worst is not None:
            c = cells[worst]
            line += f"; worst {c[0]} {c[1]}x{c[2]}x{c[3]} {ratios[worst]:.3f}"
        if alone:
            line += f"; {len(alone)} with no variant timed beside auto"
        print(line)
        if a.cells:
            for c, x in zip(cells, ratios):
                print(f"  {c[0]} {c[1]}x{c[2]}x{c[3]}: auto {c[4]:.2f} us ({c[5]}), fastest {c[6]:.2f} us "
                      f"({c[7]}): {x:.3f}")
    if not any_auto:
        print("no report here holds a passed auto row", file=sys.stderr)
        return 1
    print(f"all: {total} cells; " + ", ".join(f"within {b:.0%}: {c}" for b, c in zip(bounds, within)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
