#!/usr/bin/env python3
"""Same-run A/B of two builds: the time of each (kernel, dtype, shape) in B over its time in A.

    ab_compare.py --a A1.json [A2.json ...] --b B1.json [B2.json ...] [--tolerance 0.01] [--kernels REGEX]

Each JSON is a sparse24 report ({"context", "rows"}, harness/report.h). Run the two binaries alternately in one
session on one GPU (A, B, A, B: scripts/ab_bench.sh does this), so that clock and thermal drift fall on both
sides alike. For every key present and passed on both sides, the script takes the median of each side's
median_us over its rounds, and prints B/A with each side's spread (max/min over its rounds): a difference
smaller than the spread is noise, whatever its sign. The exit status is 0 when every |B/A - 1| is within the
tolerance or within the larger of the two spreads, 1 otherwise (each such row is marked), 2 on bad input.

Rows run on both sides that passed on one side only are listed apart: a variant that stopped passing is a
regression whatever its time. Rows run on one side only are counted, not compared.
"""
import argparse
import json
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import results_files as rf  # noqa: E402  (results stored gzipped over 20 KiB: read through it)


def load(paths):
    """{(kernel, dtype, M, N, K): [median_us per round]} and {key: status} of the last round that had the key."""
    times, status = {}, {}
    for p in paths:
        try:
            rep = json.loads(rf.read_text(p))
        except (OSError, ValueError) as e:
            sys.exit(f"ab_compare: cannot read {p}: {e}")
        for r in rep.get("rows", []):
            key = (r["kernel"], r["dtype"], r["M"], r["N"], r["K"])
            status[key] = r["status"]
            us = r.get("counters", {}).get("median_us")
            if r["status"] == "passed" and us:
                times.setdefault(key, []).append(us)
    return times, status


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", nargs="+", required=True, help="reports of build A (the baseline), one per round")
    ap.add_argument("--b", nargs="+", required=True, help="reports of build B, one per round")
    ap.add_argument("--tolerance", type=float, default=0.01, help="allowed |B/A - 1| beyond noise (default 0.01)")
    ap.add_argument("--kernels", default=".*", help="only kernels whose name matches")
    args = ap.parse_args()
    if args.tolerance < 0:
        print("ab_compare: --tolerance must be >= 0", file=sys.stderr)
        return 2
    ta, sa = load(args.a)
    tb, sb = load(args.b)
    rx = re.compile(args.kernels)
    keys = sorted(k for k in set(ta) & set(tb) if rx.search(k[0]))
    if not keys:
        print("ab_compare: no (kernel, shape) passed on both sides", file=sys.stderr)
        return 2
    bad = 0
    print(f"{'kernel':<58} {'dtype':<5} {'shape':<17} {'A us':>9} {'B us':>9} {'B/A':>7} "
          f"{'spreadA':>7} {'spreadB':>7}")
    for k in keys:
        a, b = statistics.median(ta[k]), statistics.median(tb[k])
        spread_a = max(ta[k]) / min(ta[k]) - 1
        spread_b = max(tb[k]) / min(tb[k]) - 1
        ratio = b / a
        over = abs(ratio - 1) > max(args.tolerance, spread_a, spread_b)
        bad += over
        shape = f"{k[2]}x{k[3]}x{k[4]}"
        print(f"{k[0]:<58} {k[1]:<5} {shape:<17} {a:9.1f} {b:9.1f} {ratio:7.4f} {spread_a:7.2%} {spread_b:7.2%}"
              + ("  <-- beyond tolerance and spread" if over else ""))
    # Run on both sides, passed on one: a regression (or a fix) whatever the times say. A key that one side did
    # not run at all (another filter, a variant one build lacks) is only counted.
    one_sided = sorted(k for k in set(sa) & set(sb)
                       if rx.search(k[0]) and (sa[k] == "passed") != (sb[k] == "passed"))
    absent = sum(1 for k in set(sa) ^ set(sb) if rx.search(k[0]))
    for k in one_sided:
        print(f"passed on one side only: {k[0]} {k[1]} {k[2]}x{k[3]}x{k[4]}: A {sa[k]}, B {sb[k]}")
    print(f"{len(keys)} compared, {bad} beyond max(tolerance {args.tolerance:.1%}, spread), "
          f"{len(one_sided)} passed on one side only, {absent} run on one side only")
    return 1 if bad or one_sided else 0


if __name__ == "__main__":
    sys.exit(main())
