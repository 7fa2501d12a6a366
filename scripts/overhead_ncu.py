#!/usr/bin/env python3
"""One ncu record as JSON: the raw CSV of `scripts/profile.sh --wavefronts` for one (variant, shape).

    python3 scripts/overhead_ncu.py CSV --variant NAME --shape MxNxK --out FILE.json [--status S --reason TEXT]

The CSV is `ncu --import R.ncu-rep --csv --page raw --print-units base`: a header line of column names, a line of
units, then one line per profiled kernel (the variant's kernels inside its NVTX range "<variant>:<MxNxK>": one,
or two for a split-K variant with its reduction). The record, format "sparse24-ncu-1", read by scripts/overhead.py:
  variant, shape, status ("ok", or "failed"/"skipped" with a reason and no metrics), device (the CSV's device
  name where it has one), kernels: [{name, metrics}], metrics: the variant's figures over its kernels (a *.sum
  metric summed, any other taken from the longest kernel, gpu__time_duration.sum).
A value ncu could not give ("n/a", empty) is left out, never set to zero. With --status other than ok the CSV may be
missing: the record says why. Python 3.9+, standard library only.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import results_files as rf  # noqa: E402  (results stored gzipped over 20 KiB: read through it)

FORMAT = "sparse24-ncu-1"
NUMBER = re.compile(r"^-?[\d,]*\.?\d+(e[-+]?\d+)?$", re.I)
TIME = "gpu__time_duration.sum"


def number(text: str):
    t = text.strip()
    if not NUMBER.match(t):
        return None
    try:
        return float(t.replace(",", ""))  # a thousands separator, where a locale adds one
    except ValueError:
        return None


def parse(csv_text: str) -> tuple:
    """(device name or None, [{"name", "metrics"}]) from ncu's raw CSV."""
    lines = [l for l in csv_text.splitlines() if l.strip() and not l.startswith("==")]  # ==PROF== notes
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    if not rows:
        return None, []
    head = rows[0]
    body = rows[1:]
    if body and body[0] and not body[0][0].strip():
        body = body[1:]  # the units line: its first column (ID in a kernel's line) is empty
    metric_cols = [i for i, h in enumerate(head) if re.match(r"^[a-z0-9_]+__", h)]
    name_col = head.index("Kernel Name") if "Kernel Name" in head else None
    device_col = next((head.index(h) for h in ("Device Name", "device__attribute_display_name") if h in head), None)
    kernels, device = [], None
    for r in body:
        if len(r) != len(head):
            continue
        metrics = {}
        for i in metric_cols:
            v = number(r[i])
            if v is not None:
                metrics[head[i]] = v
        kernels.append({"name": r[name_col] if name_col is not None else "?", "metrics": metrics})
        if device_col is not None and r[device_col].strip():
            device = r[device_col].strip()
    return device, kernels


def combine(kernels: list) -> dict:
    """The variant's figures over its kernels: sums summed, the rest from the longest kernel."""
    if not kernels:
        return {}
    longest = max(kernels, key=lambda k: k["metrics"].get(TIME, 0))
    out = dict(longest["metrics"])
    for key in {k for kern in kernels for k in kern["metrics"]}:
        if key.endswith(".sum"):
            out[key] = sum(kern["metrics"].get(key, 0) for kern in kernels)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", type=Path)
    ap.add_argument("--variant", required=True)
    ap.add_argument("--shape", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--status", default="ok")
    ap.add_argument("--reason", default="")
    a = ap.parse_args(argv)
    rec = {"format": FORMAT, "variant": a.variant, "shape": a.shape, "status": a.status, "reason": a.reason}
    if a.status == "ok":
        try:
            device, kernels = parse(rf.read_text(a.csv, errors="replace"))
        except OSError as e:
            device, kernels = None, []
            rec["reason"] = f"cannot read {a.csv}: {e}"
        if not kernels:
            rec["status"] = "failed"
            rec["reason"] = rec["reason"] or f"no kernel row in {a.csv.name} (was the NVTX range profiled?)"
        else:
            rec.update({"device": device, "kernels": kernels, "metrics": combine(kernels)})
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(rec, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{a.out}: {rec['status']}" + (f" ({rec['reason']})" if rec["reason"] else ""))
    return 0 if rec["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
