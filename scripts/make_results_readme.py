#!/usr/bin/env python3
"""Regenerates results/README.md from the committed benchmark runs.

    python3 scripts/make_results_readme.py                 write results/README.md
    python3 scripts/make_results_readme.py --check         exit 1 if results/README.md is not up to date (CI)
    python3 scripts/make_results_readme.py --table F.json  print the tables of one run to stdout
    python3 scripts/make_results_readme.py --compact RUN   the compact table (make bench) of a report or sweep folder
    options: --results DIR (default: the repository's results/)

A run is a folder results/<gpu>/<date>_<commit>/ holding bench.json (the harness's report, format
"sparse24-report-1": context keys gpu, sm_count, compute_capability, driver, cuda_runtime, cublas, cusparselt,
commit, clocks, command, the measured ceilings ceiling_mma_sp_<dtype>_tflops, ceiling_mma_sync_<dtype>_tflops,
copy_gbps, and one row per (kernel, dtype, shape) with status, reason, the variant's fields and the counters; runs
made before that format hold Google Benchmark's JSON and are read too), command.txt
and environment.txt. The README shows the newest run of each GPU in full (its context, then per dtype a summary
table and a table of every row) and lists the older runs with links. Failed, refused and skipped rows are shown as
such, never as numbers. The output depends only on the files, so --check is stable.

Python 3.9+, standard library only.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

import results_files as rf  # results stored gzipped over 20 KiB: read through it

REPO = Path(__file__).resolve().parent.parent
REGEN_COMMAND = "python3 scripts/make_results_readme.py"
SHAPE_RE = re.compile(r"^(\d+)x(\d+)x(\d+)$")
# Element types as they appear as one dot-separated component of a kernel name.
DTYPE_RE = re.compile(r"^(fp16|bf16|fp32|tf32|int8|s8|int4|e4m3|e5m2|fp8\w*|fp4\w*|e2m1)$")
RUN_DIR_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})_(.+)$")
# A sweep's folder (scripts/sweep.sh): sweep-<set>_<commit>, its rows in rows.jsonl (sparse24_bench --resume).
SWEEP_DIR_RE = re.compile(r"^sweep-[^_]+_()(.+)$")
ROWS_FILE = "rows.jsonl"


# ---- Reading one run -------------------------------------------------------------------------------------------

class Row:
    """One (kernel, shape) result: counters, or the reason it has none."""

    def __init__(self, kernel: str, shape: str, order: int):
        self.kernel = kernel
        self.shape = shape
        self.order = order             # first appearance in the file: the order the user asked for
        self.counters: dict = {}
        self.error = None               # message when the row failed, was refused or skipped
        self.fields = None              # report rows: {"dtype", "kind", "variant": {...} or None}

    @property
    def family(self):
        """The variant's family from its fields (report rows), else the first name component (old runs)."""
        if self.fields is not None:
            v = self.fields.get("variant")
            return v.get("family") if v else None
        return self.kernel.split(".")[0]

    @property
    def dtype(self) -> str:
        if self.fields is not None:
            return self.fields.get("dtype", "other")
        for part in self.kernel.split("."):
            if DTYPE_RE.match(part):
                return part
        return "other"

    @property
    def peer(self):
        """'cublas' / 'cusparselt' for a reference library, None for one of our kernels."""
        k = self.kernel.lower()
        if k.startswith("cublas"):
            return "cublas"
        if k.startswith("cusparselt"):
            return "cusparselt"
        return None

    @property
    def sparse(self) -> bool:
        """Sparse rows (our mma_sp family, cuSPARSELt) are measured against the mma.sp ceiling, the rest mma.sync."""
        if self.peer is not None:
            return self.peer == "cusparselt"
        if self.fields is not None:
            v = self.fields.get("variant")
            return bool(v and v.get("sparse"))
        return self.kernel.split(".")[0] != "dense"

    def is_step(self, family: str, step: str) -> bool:
        """Whether this row is a variant of kernels/<family>/<step>.cuh (not the dispatcher's auto row)."""
        if self.fields is not None:
            v = self.fields.get("variant")
            return (self.fields.get("kind") == "variant" and v is not None and v.get("family") == family
                    and f"s{v.get('step', 0):02d}_{v.get('technique')}" == step)
        return self.kernel.startswith(f"{family}.{step}.")

    @property
    def has_scales(self) -> bool:
        """A variant with the per-row x per-column scales (its fields' has_scales; old runs have none)."""
        v = self.fields.get("variant") if self.fields is not None else None
        return bool(v and v.get("has_scales"))

    def tile_label(self) -> str:
        """'bf16, best tile 128x128x64' from the fields (report rows) or the name (old runs)."""
        if self.fields is not None and self.fields.get("variant"):
            v = self.fields["variant"]
            p = v.get("params", {})
            return f"{v['types']['a']}, best tile {p.get('bm')}x{p.get('bn')}x{p.get('bk')}"
        parts = self.kernel.split(".")
        return f"{parts[2]}, best tile {parts[3]}"

    def value(self, key):
        v = self.counters.get(key)
        return v if isinstance(v, (int, float)) and v == v else None  # drops NaN

    def tflops(self):
        v = self.value("tflops")
        if v is None:  # recompute from the time where the rate counter is missing
            us, m = self.value("median_us"), SHAPE_RE.match(self.shape)
            if us and m:
                M, N, K = map(int, m.groups())
                v = 2.0 * M * N * K / (us * 1e-6) / 1e12
        return v

    def status(self) -> str:
        """'ok', or the kind of non-result: 'skipped', 'refused', 'failed'."""
        if self.error is None:
            return "ok"
        low = self.error.lower()
        if low.startswith("skipped"):
            return "skipped"
        if low.startswith("refused") or "not supported" in low:
            return "refused"
        return "failed"


def split_name(name: str):
    """'mma_sp.s02.bf16.../4096x4096x4096/min_time:0.500/manual_time' -> (kernel, shape)."""
    parts = name.split("/")
    shape = next((p for p in parts[1:] if SHAPE_RE.match(p)), "")
    return parts[0], shape


def load_rows(benchmarks: list) -> list:
    """Rows of a Google Benchmark 'benchmarks' list, one per (kernel, shape).

    With --benchmark_repetitions the file holds one row per repetition plus aggregates (mean, median, stddev, cv):
    the 'median' aggregate is used when present, else the per-counter median of the repetitions.
    """
    groups: dict = {}
    for b in benchmarks:
        if not isinstance(b, dict) or "name" not in b:
            continue
        kernel, shape = split_name(b.get("run_name") or b["name"])
        groups.setdefault((kernel, shape), []).append(b)

    rows = []
    for order, ((kernel, shape), items) in enumerate(groups.items()):
        row = Row(kernel, shape, order)
        errors = [b for b in items if b.get("error_occurred")]
        if errors:
            row.error = str(errors[0].get("error_message") or "error (no message)")
            # Counters of a failed row are kept only for its error figures (never shown as rates).
            row.counters = {k: v for k, v in errors[0].items() if k in ("exact_mismatches", "rel_err")}
            rows.append(row)
            continue
        medians = [b for b in items if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median"]
        iterations = [b for b in items if b.get("run_type", "iteration") == "iteration"]
        if medians:
            row.counters = dict(medians[0])
        elif len(iterations) == 1:
            row.counters = dict(iterations[0])
        elif iterations:
            keys = {k for b in iterations for k, v in b.items() if isinstance(v, (int, float))}
            row.counters = {k: statistics.median(b[k] for b in iterations if isinstance(b.get(k), (int, float)))
                            for k in keys}
        else:
            continue  # only mean/stddev aggregates: nothing to show
        rows.append(row)
    return rows


def load_report_rows(rows: list) -> list:
    """Rows of a sparse24 report ("sparse24-report-1"): fields and status are read, never parsed from names."""
    out = []
    for order, r in enumerate(rows):
        if not isinstance(r, dict) or "kernel" not in r:
            continue
        if r.get("operation", "gemm") != "gemm":
            continue  # these are GEMM tables (TFLOP/s, x cuBLAS): a prune_compress row is no GEMM
        row = Row(r["kernel"], f"{r.get('M')}x{r.get('N')}x{r.get('K')}", order)
        row.fields = {"dtype": r.get("dtype", "other"), "kind": r.get("kind"), "variant": r.get("variant")}
        status = r.get("status", "error")
        counters = r.get("counters") or {}
        if status != "passed":
            row.error = f"{status}: {r.get('reason', '')}"
            row.counters = {k: v for k, v in counters.items() if k in ("exact_mismatches", "rel_err")}
        else:
            row.counters = dict(counters)
        row.notes = r.get("notes") or {}
        out.append(row)
    return out


def read_jsonl_rows(path: Path) -> list:
    """The rows of a --resume file: one JSON object per line; a line cut short is skipped (the harness runs that
    row again), and a later line of the same (kernel, dtype, shape) replaces an earlier one (a row rerun after an
    error)."""
    rows: dict = {}
    for line in rf.read_text(path).splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict) and "kernel" in r:
            rows[(r["kernel"], r.get("dtype"), r.get("M"), r.get("N"), r.get("K"))] = r
    return list(rows.values())


class Run:
    def __init__(self, path: Path, gpu_dir: str = ""):
        self.path = rf.stored(path)      # the bench.json (as stored: bench.json.gz over 20 KiB)
        self.gpu_dir = gpu_dir
        self.context: dict = {}
        self.rows: list = []
        self.error = None
        try:
            if rf.logical(path).name == ROWS_FILE:
                # A sweep (scripts/sweep.sh): every row in rows.jsonl, the context of its first session's report.
                self.rows = load_report_rows(read_jsonl_rows(path))
                sessions = sorted(rf.glob(path.parent, "session-*.json"), key=lambda p: rf.logical(p).stem)
                if sessions:
                    self.context = json.loads(rf.read_text(sessions[0])).get("context") or {}
            else:
                data = json.loads(rf.read_text(path))
                self.context = data.get("context") or {}
                if data.get("format") == "sparse24-report-1":
                    self.rows = load_report_rows(data.get("rows") or [])
                else:
                    self.rows = load_rows(data.get("benchmarks") or [])
        except (OSError, ValueError, AttributeError) as e:
            self.error = f"{type(e).__name__}: {e}"
        m = RUN_DIR_RE.match(path.parent.name) or SWEEP_DIR_RE.match(path.parent.name)
        self.date = (m.group(1) if m else "") or str(self.context.get("date", ""))[:10]
        self.commit = str(self.context.get("commit") or (m.group(2) if m else "unknown"))
        # When the run started (scripts/bench.sh writes it to environment.txt; older folders have none).
        self.started = ""
        try:
            for line in rf.read_text(path.parent / "environment.txt").splitlines():
                if line.startswith("date_utc:"):
                    self.started = line.split(":", 1)[1].strip()
        except OSError:
            pass

        if not self.date and self.started:  # a sweep's folder name has no date: its first session's
            self.date = self.started[:10]

    @property
    def name(self) -> str:
        return self.path.parent.name

    def sort_key(self):
        # Newest = latest folder date; then the start time in environment.txt (a folder without one is older than
        # any with one on the same date: bench.sh has written it since early on); then the folder name.
        return (self.date, self.started, str(self.context.get("date", "")), self.name)


# ---- Ceilings (measured by the harness, in the run's context) ----------------------------------------------------

def context_number(context: dict, key: str):
    """A numeric context value (the harness writes them as text), None when absent or not a number."""
    try:
        v = float(context.get(key))
    except (TypeError, ValueError):
        return None
    return v if v == v and v > 0 else None


def ceiling_tflops(context: dict, dtype: str, sparse: bool):
    """The run's measured instruction-loop ceiling: mma.sp for sparse rows, mma.sync for dense ones. None for runs
    made before the harness measured them."""
    return context_number(context, f"ceiling_mma_{'sp' if sparse else 'sync'}_{dtype}_tflops")


CEILING_NAMES = {True: "mma.sp m16n8k32 loop", False: "mma.sync m16n8k16 loop"}


# ---- Formatting ------------------------------------------------------------------------------------------------

def cell(text) -> str:
    """Makes any text safe inside a markdown table cell."""
    s = " ".join(str(text).split())
    return s.replace("|", "\\|")


def num(v, fmt="{:.1f}", none="–"):
    return none if v is None else fmt.format(v)


def ratio(v):
    return num(v, "{:.2f}x")


def percent(v):
    if v is None:
        return "–"
    return f"{v * 100:.1f}%" if v <= 1.0 else f"{v:.1f}%"


def shape_label(shape: str) -> str:
    return shape.replace("x", " x ") if shape else "?"


def check_text(row: Row) -> str:
    parts = []
    mism = row.value("exact_mismatches")
    if mism is not None:
        parts.append("exact" if mism == 0 else f"{int(mism)} exact mismatches")
    rel = row.value("rel_err")
    if rel is not None:
        parts.append(f"rel {rel:.1e}")
    return ", ".join(parts)


def non_result(row: Row) -> str:
    st = row.status()
    msg = row.error or ""
    # The harness already starts its messages with the verdict ("skipped: ...", "FAILED exact ..."); avoid saying
    # it twice.
    low = msg.lower()
    if low.startswith(st):
        msg = msg[len(st):].lstrip(" :")
    label = "**FAILED**" if st == "failed" else st
    if len(msg) > 200:
        msg = msg[:197] + "..."
    return f"{label}: {msg}" if msg else label


def speedup(row: Row, key: str, peer_row):
    v = row.value(key)
    if v is None and peer_row is not None and peer_row.status() == "ok":
        a, b = row.tflops(), peer_row.tflops()
        if a and b:
            v = a / b
    return v


def dtype_tables(rows: list, level: str = "###", collapse: bool = True, every_row: bool = True,
                 context: dict = None) -> list:
    """Markdown lines: for each dtype, a summary (best kernel per shape against the peers) and every row.

    collapse: fold the table of every row into a <details> block (the README); the terminal wants it plain.
    every_row: False for the summary alone (the top-level README).
    """
    out = []
    context = context or {}
    dtypes = []
    for r in sorted(rows, key=lambda r: r.order):
        if r.dtype not in dtypes:
            dtypes.append(r.dtype)
    for dt in dtypes:
        drows = [r for r in rows if r.dtype == dt]
        shapes = []
        for r in sorted(drows, key=lambda r: r.order):
            if r.shape not in shapes:
                shapes.append(r.shape)
        has_cslt = any(r.peer == "cusparselt" for r in drows)

        def peer_of(shape, name):
            return next((r for r in drows if r.shape == shape and r.peer == name), None)

        def peer_cell(r):
            if r is None:
                return "–"
            return num(r.tflops()) if r.status() == "ok" else r.status()

        out.append(f"{level} {dt}")
        out.append("")
        out.append("Dense-equivalent TFLOP/s (2·M·N·K / time), median of L2-flushed runs. Best of our kernels per "
                   "shape:")
        out.append("")
        head = ["M x N x K", "cuBLAS"] + (["cuSPARSELt"] if has_cslt else []) + ["best kernel", "TFLOP/s",
                                                                                  "x cuBLAS"]
        head += ["x cuSPARSELt"] if has_cslt else []
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "|".join("---" if h in ("M x N x K", "best kernel") else "---:" for h in head) + "|")
        for shape in shapes:
            cub, csl = peer_of(shape, "cublas"), peer_of(shape, "cusparselt")
            ours = [r for r in drows if r.shape == shape and r.peer is None]
            good = [r for r in ours if r.status() == "ok" and r.tflops() is not None]
            line = [shape_label(shape), peer_cell(cub)] + ([peer_cell(csl)] if has_cslt else [])
            if good:
                best = max(good, key=lambda r: r.tflops())
                line += [f"`{best.kernel}`", num(best.tflops()), ratio(speedup(best, "speedup_vs_cublas", cub))]
                line += [ratio(speedup(best, "speedup_vs_cusparselt", csl))] if has_cslt else []
            else:
                why = f"none of {len(ours)} ran" if ours else "no kernel"
                line += [why, "–", "–"] + (["–"] if has_cslt else [])
            out.append("| " + " | ".join(cell(c) for c in line) + " |")
        out.append("")
        if not every_row:
            continue

        def pct_ceiling(r):
            v = r.value("pct_of_ceiling")
            if v is None:  # runs whose rows lack the counter but whose context has the ceilings
                c, t = ceiling_tflops(context, dt, r.sparse), r.tflops()
                v = 100.0 * t / c if c and t else None
            return num(v, "{:.0f}%")

        out += ["<details><summary>every row</summary>", ""] if collapse else ["Every row:", ""]
        head = ["M x N x K", "kernel", "TFLOP/s", "% ceiling", "GB/s", "median us", "x cuBLAS"]
        head += ["x cuSPARSELt"] if has_cslt else []
        head += ["meta share", "check"]
        out.append("| " + " | ".join(head) + " |")
        align = ["---", "---"] + ["---:"] * (len(head) - 4) + ["---:", "---"]
        out.append("|" + "|".join(align) + "|")
        for shape in shapes:
            cub, csl = peer_of(shape, "cublas"), peer_of(shape, "cusparselt")
            group = sorted((r for r in drows if r.shape == shape),
                           key=lambda r: ({"cublas": 0, "cusparselt": 1}.get(r.peer, 2), r.order))
            for i, r in enumerate(group):
                first = shape_label(shape) if i == 0 else ""
                name = f"`{r.kernel}`"
                if r.value("peer_padded") == 1:
                    name += " (ld padded)"  # the peer ran on copies with 16-byte leading dimensions
                if r.status() != "ok":
                    # A non-result spans the number columns: no number may stand where none was measured.
                    line = [first, name, non_result(r)] + [""] * (len(head) - 4) + [check_text(r)]
                else:
                    line = [first, name, num(r.tflops()), pct_ceiling(r), num(r.value("gbps"), "{:.0f}"),
                            num(r.value("median_us")),
                            "" if r.peer == "cublas" else ratio(speedup(r, "speedup_vs_cublas", cub))]
                    if has_cslt:
                        line.append("" if r.peer else ratio(speedup(r, "speedup_vs_cusparselt", csl)))
                    # The metadata share is our traffic model's, not measured: shown for our kernels only.
                    line += ["" if r.peer else percent(r.value("meta_share")), check_text(r)]
                out.append("| " + " | ".join(cell(c) for c in line) + " |")
        out.append("")
        out += ["</details>", ""] if collapse else []
    return out


def ceilings_text(context: dict) -> str:
    """The measured ceilings of a run, one line; "–" for runs made before the harness measured them."""
    parts = []
    for dt in ("fp16", "bf16"):
        sp, sync = ceiling_tflops(context, dt, True), ceiling_tflops(context, dt, False)
        if sp or sync:
            parts.append(f"{dt}: mma.sp {num(sp)}, mma.sync {num(sync)} TFLOP/s")
    copy = context_number(context, "copy_gbps")
    if copy:
        parts.append(f"copy {copy:.0f} GB/s (read + write)")
    return "; ".join(parts) if parts else "–"


def context_lines(run: Run, link_base: str = "") -> list:
    c = run.context

    def get(*keys):
        for k in keys:
            v = c.get(k)
            if v not in (None, ""):
                return str(v)
        return None

    gpu = get("gpu") or run.gpu_dir or "unknown GPU"
    details = []
    if get("sm_count"):
        details.append(f"{get('sm_count')} SMs")
    if get("compute_capability"):
        details.append(f"compute capability {get('compute_capability')}")
    if get("memory_bytes") and get("memory_bytes").isdigit():
        details.append(f"{int(get('memory_bytes')) / 2**30:.0f} GiB")
    if get("l2_bytes") and get("l2_bytes").isdigit():
        details.append(f"L2 {int(get('l2_bytes')) / 2**20:.0f} MiB")

    clocks = []
    if get("sm_clock_mhz"):
        clocks.append(f"{get('sm_clock_mhz')} MHz")
    if get("sm_clock_mhz_at_start"):
        clocks.append(f"{get('sm_clock_mhz_at_start')} MHz at start")
    # Rows carry sm_clock_min_mhz/sm_clock_max_mhz (sampled after every timed launch); older runs one sm_clock_mhz.
    seen = [r.value(k) for r in run.rows for k in ("sm_clock_mhz", "sm_clock_min_mhz", "sm_clock_max_mhz")
            if r.value(k) and r.value(k) > 0]
    if seen:
        lo, hi = min(seen), max(seen)
        clocks.append(f"{lo:.0f}–{hi:.0f} MHz during the rows" if lo != hi else f"{lo:.0f} MHz during the rows")
    if get("sm_clock_max_mhz"):
        clocks.append(f"max {get('sm_clock_max_mhz')} MHz")

    items = [
        ("GPU", gpu + (f" ({', '.join(details)})" if details else "")),
        ("SM clock", "; ".join(clocks) if clocks else None),
        ("Driver", get("driver")),
        ("CUDA runtime", get("cuda_runtime")),
        ("Ceilings", ceilings_text(c)),
        ("cuBLAS", get("cublas")),
        ("cuSPARSELt", get("cusparselt")),
        ("Checked against", reference_text(run)),
        ("Commit", run.commit),
        ("Date", run.date or get("date")),
        ("Command", f"`{get('command')}`" if get("command") else None),
    ]
    lines = ["| | |", "|---|---|"]
    lines += [f"| {k} | {cell(v)} |" for k, v in items if v]
    n_ok = sum(r.status() == "ok" for r in run.rows)
    counts = {s: sum(r.status() == s for r in run.rows) for s in ("failed", "refused", "skipped")}
    summary = f"{n_ok} of {len(run.rows)} rows measured"
    extra = [f"{n} {s}" for s, n in counts.items() if n]
    lines.append(f"| Rows | {summary}{' (' + ', '.join(extra) + ')' if extra else ''} |")
    if link_base:
        files = sorted(p.name for p in run.path.parent.iterdir() if p.is_file())
        lines.append("| Files | " + ", ".join(f"[{f}]({link_base}/{f})" for f in files) + " |")
    return lines


def reference_text(run) -> str:
    """What the run's checks compared with: the context's `reference` (harness/context.cpp) where the run records
    it. Otherwise inferred: the f64 reference (commit a498ffd) came with the element bound, whose figure
    max_err_over_bound every row checked in random-normal mode carries; a run without that counter anywhere was
    checked against cuBLAS's own answer in the input type."""
    if run.context.get("reference"):
        return str(run.context["reference"]) + " (harness/reference_cublas.h)"
    if any(r.value("max_err_over_bound") is not None for r in run.rows):
        return ("an f64 GEMM (cublasDgemm, pedantic math) on the decompressed A and X, rounded once "
                "(harness/reference_cublas.h)")
    return "cuBLAS's cublasGemmEx output in the input type (the harness before commit a498ffd)"


# ---- The README ------------------------------------------------------------------------------------------------

def find_runs(results: Path) -> dict:
    """{gpu folder: [Run, ...] newest first}."""
    runs: dict = {}
    if not results.is_dir():
        return runs
    for gpu_dir in sorted(p for p in results.iterdir() if p.is_dir()):
        found = [Run(j, gpu_dir.name) for j in rf.glob(gpu_dir, "*/bench.json") + rf.glob(gpu_dir, f"*/{ROWS_FILE}")]
        if found:
            runs[gpu_dir.name] = sorted(found, key=lambda r: r.sort_key(), reverse=True)
    return runs


def make_readme(results: Path) -> str:
    out = [
        "# Results",
        "",
        "<!-- Generated by scripts/make_results_readme.py from results/<gpu>/<date>_<commit>/bench.json. "
        "Do not edit by hand. -->",
        f"Generated from the committed runs by `{REGEN_COMMAND}`; do not edit by hand (CI checks it is up to date "
        f"with `{REGEN_COMMAND} --check`).",
        "",
        "Each run folder holds the harness's report (`bench.json`: `{\"format\": \"sparse24-report-1\", "
        "\"context\", \"rows\"}`, written by harness/report.cpp; runs made before that format hold Google "
        "Benchmark's JSON, its context with ours added, and are read too), the command that made it "
        "(`command.txt`) and, for most runs, the machine it ran on (`environment.txt`). Rates are dense-equivalent "
        "(2·M·N·K / time). "
        "Every row with a number passed its correctness checks before it was timed (`exact`: small-integer "
        "inputs, every output bit for bit equal to the reference rounded once to the output type; `rel`: "
        "random-normal inputs, the relative Frobenius error shown, and since the f64 reference every element "
        "within its bound; the peers are checked in the random-normal mode only). The reference is one f64 GEMM "
        "(cublasDgemm, pedantic math) on the decompressed A and on X upcast to f64, rounded once "
        "(harness/reference_cublas.h, harness/check.h), not cuBLAS's 16-bit answer; runs made before commit "
        "a498ffd were checked against cublasGemmEx's output, and each run's table says which (`Checked against`). "
        "`meta share` is the metadata's share of the compulsory traffic.",
    ]
    if (results / "NOTES.md").is_file():
        out += ["", "What each change was expected to do and what it did: [NOTES.md](NOTES.md)."]
    out.append("")

    runs = find_runs(results)
    if not runs:
        out += ["No runs are committed yet."]
        return "\n".join(out) + "\n"
    out += front_page(results)
    out += ["## The newest run of each GPU", ""]

    for gpu_dir, gpu_runs in runs.items():
        newest = gpu_runs[0]
        title = newest.context.get("gpu") or gpu_dir
        out += [f"## {title}: {newest.name}", ""]
        base = f"{gpu_dir}/{newest.name}"
        if newest.error:
            out += [f"The newest run's [bench.json]({base}/{newest.path.name}) could not be read: {cell(newest.error)}", ""]
        else:
            out += context_lines(newest, base)
            out.append("")
            out += (dtype_tables(newest.rows, "###", context=newest.context) if newest.rows
                    else ["The run has no benchmark rows.", ""])
        older = gpu_runs[1:]
        if older:
            out += [f"### Older runs on {title}", ""]
            for r in older:
                if r.error:
                    desc = f"unreadable ({cell(r.error)})"
                else:
                    n_ok = sum(x.status() == "ok" for x in r.rows)
                    desc = f"commit {cell(r.commit)}, {n_ok} of {len(r.rows)} rows measured"
                out.append(f"- [{r.name}]({gpu_dir}/{r.name}/{r.path.name}): {desc}")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# ---- The front page: best measured rows, the paper's claims, plots ------------------------------------------------

def report_runs(results: Path) -> dict:
    """{gpu folder: [Run, ...] newest first}: every harness report under results/<gpu>/<run>/ (bench.json, a
    sweep's rows.jsonl, and any other *.json in the report format, such as an A/B's two reports), each read on its
    own. Runs in Google Benchmark's format (before the report format) are not among them: stale_runs lists them."""
    out: dict = {}
    if not results.is_dir():
        return out
    for gpu_dir in sorted(p for p in results.iterdir() if p.is_dir()):
        found = []
        for path in rf.glob(gpu_dir, "*/*.json") + rf.glob(gpu_dir, f"*/{ROWS_FILE}"):
            if path.name.startswith("session-"):
                continue  # a sweep's sessions: read through its rows.jsonl
            run = Run(path, gpu_dir.name)
            if run.error is None and run.rows and all(r.fields is not None for r in run.rows):
                found.append(run)
        if found:
            out[gpu_dir.name] = sorted(found, key=lambda r: r.sort_key(), reverse=True)
    return out


def stale_runs(results: Path) -> dict:
    """{gpu folder: [Run, ...]}: runs in Google Benchmark's format, made before the harness's report (their rows
    lack the variant's fields and the checks of today's harness): listed apart, never among the best rows."""
    out: dict = {}
    for gpu_dir, runs in find_runs(results).items():
        old = [r for r in runs if r.error is None and r.rows and any(x.fields is None for x in r.rows)]
        if old:
            out[gpu_dir] = old
    return out


def run_label(run: Run) -> str:
    """The run's folder, and the file when it is not the folder's one report."""
    p = run.path
    name = rf.logical(p).name
    return p.parent.name if name in ("bench.json", ROWS_FILE) else f"{p.parent.name}/{name}"


def run_link(run: Run, gpu_dir: str) -> str:
    return f"[{run_label(run)}]({gpu_dir}/{run.path.parent.name}/{run.path.name})"


def is_ablation(r) -> bool:
    """A row of kernels/ablations/ (a twin with one cost removed, correct only on the problem it declares)."""
    v = r.fields.get("variant") or {}
    return r.family == "ablations" or bool(v.get("uniform_metadata"))


def best_rows(runs: list) -> dict:
    """{(dtype, shape): (row, run)}: the fastest passed row of our kernels (kind variant; the auto row is the same
    kernel again) over every run, with the run it came from (its own peers give its ratios)."""
    best: dict = {}
    for run in runs:
        for r in run.rows:
            if r.peer is not None or r.fields.get("kind") != "variant" or r.status() != "ok" or r.tflops() is None:
                continue
            if is_ablation(r):  # correct only on its own uniform problem: a measurement, never "our best kernel"
                continue
            k = (r.dtype, r.shape)
            if k not in best or r.tflops() > best[k][0].tflops():
                best[k] = (r, run)
    return best


def newest_auto(runs: list) -> dict:
    """{(dtype, shape): (variant auto ran, its row, run)} from the newest run with an auto row at the shape."""
    out: dict = {}
    for run in runs:  # newest first
        for r in run.rows:
            if r.fields.get("kind") == "auto" and (r.dtype, r.shape) not in out:
                picked = r.notes.get("picked") or (r.fields.get("variant") or {}).get("name") or "?"
                out[(r.dtype, r.shape)] = (picked, r, run)
    return out


def shape_sort_key(shape: str):
    m = SHAPE_RE.match(shape)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def best_tables(runs: list, gpu_dir: str) -> list:
    out = []
    best, autos = best_rows(runs), newest_auto(runs)
    for dt in sorted({k[0] for k in best} | {k[0] for k in autos}):
        shapes = sorted({k[1] for k in list(best) + list(autos) if k[0] == dt}, key=shape_sort_key)
        out += [f"#### {dt}: the fastest measured kernel per shape", "",
                "| M x N x K | best kernel | TFLOP/s | x cuBLAS | x cuSPARSELt | run (commit) | `auto` ran | "
                "auto TFLOP/s |", "|---|---|---:|---:|---:|---|---|---:|"]
        for shape in shapes:
            line = [shape_label(shape)]
            if (dt, shape) in best:
                r, run = best[(dt, shape)]
                line += [f"`{r.kernel}`", num(r.tflops()), ratio(r.value("speedup_vs_cublas")),
                         ratio(r.value("speedup_vs_cusparselt")), f"{run_link(run, gpu_dir)} ({cell(run.commit)})"]
            else:
                line += ["none measured", "–", "–", "–", ""]
            if (dt, shape) in autos:
                picked, r, run = autos[(dt, shape)]
                line += [f"`{picked}`", num(r.tflops()) if r.status() == "ok" else r.status()]
            else:
                line += ["", ""]
            out.append("| " + " | ".join(cell(c) if i != 5 else c for i, c in enumerate(line)) + " |")
        out.append("")
    return out


# The paper's claims (issue 17's seed paper), as text: the measurements beside them are computed from the rows.
PAPER_BYTES_SAVED = {1: "37.5% (8-bit)", 2: "43.75% (16-bit)"}
# The metadata's size against the kept values (4 bits per group of 4, 2 kept): 12.5% at 16 bits, 25% at 8 bits.
PAPER_META_SHARE = {1: "25% of the values (8-bit)", 2: "12.5% of the values (16-bit)"}
# Element bytes of each type (kernels/common/dtype.h's bytes_of): the dense weight's size.
DTYPE_BYTES = {"fp16": 2, "bf16": 2, "int8": 1, "e4m3": 1, "e5m2": 1, "tf32": 4}
# The instruction-loop ceilings of the run's context, sparse against dense: (sparse key, dense key, forms).
CEILING_PAIRS = [("mma_sp", "mma_sync", "mma.sp / mma.sync"),
                 ("wgmma_sp_ss", "wgmma_ss", "wgmma.sp / wgmma, A and B from shared memory,")]


def claims_table(runs: list, gpu_dir: str) -> list:
    """'The paper's claims against our measurements', every measured figure from the rows and contexts of `runs`
    (newest first), each with the run it came from."""
    lines = ["| claim (paper) | type | our measurement | from |", "|---|---|---|---|"]

    def add(claim, dt, text, run):
        lines.append(f"| {claim} | {dt} | {text} | {run_link(run, gpu_dir) if run else ''} |")

    dtypes = sorted({r.dtype for run in runs for r in run.rows if r.dtype in DTYPE_BYTES})
    for dt in dtypes:
        # 2x math: the instruction loops (ceilings measured in the run's context, harness/ceilings.h): the
        # warp-level forms, and the warpgroup forms where the run measured them (sm_90).
        for sp_key, dense_key, forms in CEILING_PAIRS:
            for run in runs:
                sp = context_number(run.context, f"ceiling_{sp_key}_{dt}_tflops")
                dense = context_number(run.context, f"ceiling_{dense_key}_{dt}_tflops")
                if sp and dense:
                    add("2x math: sparse / dense tensor-core instruction loops", dt,
                        f"{sp / dense:.2f}x ({sp:.0f} / {dense:.0f} TFLOP/s, {forms} loops)", run)
                    break
        # Bytes: a sparse row's compulsory weight bytes (values + metadata, the row's counters) against the dense
        # weight's M x K elements of the type.
        for run in runs:
            r = next((r for r in run.rows if r.dtype == dt and r.peer is None and r.sparse and r.status() == "ok"
                      and r.value("meta_bytes") and r.value("value_bytes")), None)
            if r is None:
                continue
            M, _, K = shape_sort_key(r.shape)
            v, m, full = r.value("value_bytes"), r.value("meta_bytes"), M * K * DTYPE_BYTES[dt]
            add("weight bytes saved: " + PAPER_BYTES_SAVED.get(DTYPE_BYTES[dt], "–"), dt,
                f"{100 * (1 - (v + m) / full):.2f}% ({v + m:.0f} of {full:.0f} B at {shape_label(r.shape)})", run)
            add("metadata: " + PAPER_META_SHARE.get(DTYPE_BYTES[dt], "–"), dt,
                f"{100 * m / v:.2f}% of the values, {100 * m / (v + m):.2f}% of the compressed weight", run)
            break
        # GEMM speedups over cuBLAS at the largest and the smallest N measured (the best row's own run's cuBLAS).
        best = {k: v for k, v in best_rows(runs).items() if k[0] == dt and v[0].value("speedup_vs_cublas")}
        if best:
            by_n = sorted(best, key=lambda k: (shape_sort_key(k[1])[1], shape_sort_key(k[1])))
            for label, key in (("GEMM speedup over dense, large N", by_n[-1]),
                               ("GEMM speedup over dense, small N", by_n[0])):
                r, run = best[key]
                add(label, dt, f"{r.value('speedup_vs_cublas'):.2f}x cuBLAS at {shape_label(r.shape)} "
                               f"(`{r.kernel}`, {r.tflops():.0f} TFLOP/s)", run)
        # Performance per watt: the best-per-watt row of ours against cuBLAS's, same shape and run.
        for run in runs:
            pairs = []
            for r in run.rows:
                if r.dtype != dt or r.peer is not None or r.status() != "ok" or not r.value("tflops_per_watt"):
                    continue
                if is_ablation(r):
                    continue
                c = next((d for d in run.rows if d.peer == "cublas" and d.dtype == dt and d.shape == r.shape
                          and d.value("tflops_per_watt")), None)
                if c is not None:
                    pairs.append((r.value("tflops_per_watt") / c.value("tflops_per_watt"), r, c))
            if pairs:
                ratio_w, r, c = max(pairs, key=lambda x: (shape_sort_key(x[1].shape), x[0]))
                add("performance per watt: +30-36% end to end", dt,
                    f"{100 * (ratio_w - 1):+.0f}% TFLOP/s per W against cuBLAS at {shape_label(r.shape)} "
                    f"(`{r.kernel}`: {r.value('tflops_per_watt'):.2f} against {c.value('tflops_per_watt'):.2f})", run)
                break
    if len(lines) == 2:
        lines.append("| – | – | no committed run measures these yet | |")
    return lines


PLOT_GLOB = "*.png"
# scripts/overhead.py's table and plot, one each per GPU folder.
OVERHEAD_TABLE, OVERHEAD_PLOT = "overhead.md", "overhead.png"


def overhead_section(results: Path, gpu_dir: str, title: str) -> list:
    """A link to the GPU's metadata-overhead table (scripts/overhead.py) and its plot, where they exist."""
    if not (results / gpu_dir / OVERHEAD_TABLE).is_file():
        return []
    out = [f"### What the metadata costs ({title})", "",
           f"Bytes, time (constant-metadata twins against their real variants, same run), SASS instructions per "
           f"k-tile and ncu's shared-memory wavefronts: [{gpu_dir}/{OVERHEAD_TABLE}]({gpu_dir}/{OVERHEAD_TABLE}) "
           "(scripts/overhead.py, `make overhead`).", ""]
    if (results / gpu_dir / OVERHEAD_PLOT).is_file():
        out += [f"![metadata overhead]({gpu_dir}/{OVERHEAD_PLOT})", ""]
    return out


def front_page(results: Path) -> list:
    out = []
    runs, stale = report_runs(results), stale_runs(results)
    for gpu_dir, gpu_runs in runs.items():
        title = next((r.context.get("gpu") for r in gpu_runs if r.context.get("gpu")), gpu_dir)
        out += [f"## {title}: at a glance", "",
                f"Over every harness report committed under `{gpu_dir}/` (each row labelled with its run and commit: "
                "a row measured before a later change to its kernel is still shown as measured). Ratios are against "
                "the peers of the row's own run.", ""]
        out += [f"### The paper's claims against our measurements ({title})", ""] + claims_table(gpu_runs, gpu_dir)
        out.append("")
        out += best_tables(gpu_runs, gpu_dir)
        out += overhead_section(results, gpu_dir, title)
        plots = sorted(p for run in gpu_runs for p in run.path.parent.glob(PLOT_GLOB))
        plots = sorted(set(plots))
        if plots:
            out += [f"### Plots ({title})", ""]
            for p in plots:
                rel = f"{gpu_dir}/{p.parent.name}/{p.name}"
                out += [f"**{p.parent.name}: {p.stem.replace('_', ' ')}**", "", f"![{p.stem}]({rel})", ""]
        if stale.get(gpu_dir):
            out += [f"### Stale runs on {title}", "",
                    "In Google Benchmark's format, made before the harness's report (no variant fields, older "
                    "checks): not used above.", ""]
            out += [f"- [{r.name}]({gpu_dir}/{r.name}/{r.path.name}): commit {cell(r.commit)}" for r in stale[gpu_dir]]
            out.append("")
    return out


TOP_BEGIN = "<!-- results:begin (generated by scripts/make_results_readme.py) -->"
TOP_END = "<!-- results:end -->"


def top_readme_section(results: Path) -> str:
    """The summary tables of the newest run per GPU, for the marked section of the top-level README."""
    out = [TOP_BEGIN]
    runs = find_runs(results)
    if not runs:
        out += ["", "No runs are committed yet.", ""]
    for gpu_dir, gpu_runs in runs.items():
        newest = gpu_runs[0]
        if newest.error or not newest.rows:
            continue
        title = newest.context.get("gpu") or gpu_dir
        out += ["", f"**{title}**, run [{newest.name}](results/{gpu_dir}/{newest.name}/) (commit "
                    f"{cell(newest.commit)}); every row and the run's context in "
                    f"[results/README.md](results/README.md).", ""]
        out += dtype_tables(newest.rows, "####", every_row=False, context=newest.context)
    out.append(TOP_END)
    return "\n".join(out)


def with_top_section(readme_text: str, section: str) -> str:
    """README text with its marked results section replaced (unchanged when it has no markers)."""
    b, e = readme_text.find(TOP_BEGIN), readme_text.find(TOP_END)
    if b < 0 or e < b:
        return readme_text
    return readme_text[:b] + section + readme_text[e + len(TOP_END):]


HEADLINE_SHAPE = "8192x8192x8192"
MEASURED_PREFIX = "// Measured: "


# The shape a family's kernel headers quote: the square headline, or for a family that refuses it (the decode
# family takes N <= 128) the decode shape of the default sweep.
FAMILY_HEADLINE = {"skinny": "28672x16x8192"}
# A step whose purpose is another shape than its family's headline: the decode shape (wgmma_sp's narrow tiles),
# the band (the tall tiles at N = 200, the in-launch sum where session 10 profiled the second launch).
STEP_HEADLINE = {("wgmma_sp", "s11_narrow"): "28672x16x8192", ("wgmma_sp", "s13_tall"): "8192x200x29568",
                 ("wgmma_sp", "s14_inlaunch"): "10240x48x8192", ("wgmma_sp", "s17_clustersum"): "8192x64x8192"}


def measured_line(runs: dict, family: str, step: str) -> str:
    """The one measured line of a kernel file's header: the best variant of this step at the family's headline shape
    in the newest run that has it (the first GPU, alphabetically, that does). Read from the rows' fields. A variant
    with the per-row x per-column scales is another epilogue than the step's own (a run of only those, timing the
    scales' cost, says nothing about the step's headline), so those rows are left out."""
    headline = STEP_HEADLINE.get((family, step), FAMILY_HEADLINE.get(family, HEADLINE_SHAPE))
    for gpu_dir, gpu_runs in runs.items():
        for run in gpu_runs:
            rows = [r for r in run.rows if r.peer is None and r.is_step(family, step) and not r.has_scales
                    and r.shape == headline and r.status() == "ok" and r.tflops() is not None]
            if not rows:
                continue
            best = max(rows, key=lambda r: r.tflops())
            gpu = run.context.get("gpu") or gpu_dir
            text = f"{gpu}, {headline} {best.tile_label()}: {best.tflops():.1f} TFLOP/s"
            # The ceiling measured in the same run (absent from runs made before the harness measured them).
            ceiling = ceiling_tflops(run.context, best.dtype, best.sparse)
            if ceiling:
                text += f" = {100 * best.tflops() / ceiling:.0f}% of the {CEILING_NAMES[best.sparse]} ({ceiling:.0f})"
            vs = best.value("speedup_vs_cublas")
            if vs is not None:
                text += f", {vs:.2f}x cuBLAS"
            return text + f" (run {gpu_dir}/{run.name})."
    return "not yet measured (no committed run has this step at " + headline + ")."


def kernel_headers(results: Path) -> dict:
    """{kernel file: its text with the measured line regenerated} for every kernels/<family>/sNN_*.cuh, from every
    report in the harness's format (report_runs: a session's several reports too, not only bench.json)."""
    runs = report_runs(results)
    out = {}
    for path in sorted((results.resolve().parent / "kernels").glob("*/s[0-9][0-9]_*.cuh")):
        family, step = path.parent.name, path.stem
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if line.startswith(MEASURED_PREFIX):
                lines[i] = MEASURED_PREFIX + measured_line(runs, family, step)
                break
        out[path] = "\n".join(lines)
    return out


# ---- The compact table of make bench (<= 120 columns) -----------------------------------------------------------

def short_kernel(kernel: str, dtype: str) -> str:
    """A kernel name without its dtype component (the table's own column) and with its step's technique and the
    parameter words abbreviated: 'wgmma_sp.s06.128x256x64.w8x1.s5.g16.cm2.p1'. The JSON keeps the full name."""
    parts = [re.sub(r"^(s\d\d)_[a-z]+$", r"\1", p) for p in kernel.split(".") if p != dtype]
    text = ".".join(parts)
    for word, short in (("group", "g"), ("cluster_m", "cm"), ("persistent", "p"), ("split_k", "sk"),
                        ("cublas.dense", "cuBLAS"), ("cusparselt", "cuSPARSELt")):
        text = text.replace(word, short)
    return text


COMPACT_VARIANT_WIDTH = 48


def compact_table(rows: list) -> list:
    """Lines of the compact table: per dtype and shape, every measured row from fastest to slowest: TFLOP/s, x
    cuBLAS, x cuSPARSELt, % of the instruction ceiling, % of the copy rate, TFLOP/s per watt. Rows that did not
    pass are counted under their shape, not listed (their reasons are in bench.log and the JSON)."""
    head = (f"{'type':<5}{'M x N x K':<18}{'variant':<{COMPACT_VARIANT_WIDTH + 1}}{'TFLOP/s':>8}{'xcuBLAS':>8}"
            f"{'xcuSLt':>8}{'%ceil':>7}{'%copy':>7}{'TF/W':>7}")
    out = [head, "-" * len(head)]
    keys = []
    for r in sorted(rows, key=lambda r: r.order):
        if (r.dtype, r.shape) not in keys:
            keys.append((r.dtype, r.shape))
    for dt, shape in keys:
        group = [r for r in rows if r.dtype == dt and r.shape == shape]
        ok = sorted((r for r in group if r.status() == "ok" and r.tflops() is not None), key=lambda r: -r.tflops())
        for i, r in enumerate(ok):
            name = short_kernel(r.kernel, dt)
            picked = getattr(r, "notes", {}).get("picked")
            if picked:
                name = "auto:" + short_kernel(picked, dt)
            if len(name) > COMPACT_VARIANT_WIDTH:
                name = name[:COMPACT_VARIANT_WIDTH - 1] + "~"
            label = (f"{dt:<5}{shape:<18}") if i == 0 else " " * 23
            out.append(f"{label}{name:<{COMPACT_VARIANT_WIDTH + 1}}{r.tflops():>8.1f}"
                       f"{num(r.value('speedup_vs_cublas'), '{:.2f}'):>8}"
                       f"{num(r.value('speedup_vs_cusparselt'), '{:.2f}'):>8}"
                       f"{num(r.value('pct_of_ceiling'), '{:.0f}'):>7}{num(r.value('pct_of_copy'), '{:.0f}'):>7}"
                       f"{num(r.value('tflops_per_watt'), '{:.2f}'):>7}")
        others = {}
        for r in group:
            if r.status() != "ok":
                others[r.status()] = others.get(r.status(), 0) + 1
        if others or not ok:
            label = f"{dt:<5}{shape:<18}" if not ok else " " * 23
            out.append(label + "(" + ", ".join(f"{n} {st}" for st, n in sorted(others.items())) + " rows)")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=REPO / "results", help="results folder (default: results/)")
    ap.add_argument("--check", action="store_true", help="exit 1 if README.md is not up to date")
    ap.add_argument("--table", type=Path, metavar="FILE.json", help="print the tables of one run to stdout")
    ap.add_argument("--compact", type=Path, metavar="RUN",
                    help="print the compact table (<= 120 columns) of a report JSON or a sweep folder to stdout")
    args = ap.parse_args(argv)

    if args.compact:
        path = args.compact / ROWS_FILE if args.compact.is_dir() else args.compact
        run = Run(path)
        if run.error or not run.rows:
            print(f"make_results_readme: no rows in {args.compact}: {run.error or 'empty'}", file=sys.stderr)
            return 1
        print("\n".join(compact_table(run.rows)))
        return 0

    if args.table:
        run = Run(args.table)
        if run.error:
            print(f"make_results_readme: cannot read {args.table}: {run.error}", file=sys.stderr)
            return 1
        if not run.rows:
            print(f"make_results_readme: {args.table} has no benchmark rows", file=sys.stderr)
            return 1
        lines = context_lines(run) + [""] + dtype_tables(run.rows, "###", collapse=False, context=run.context)
        print("\n".join(lines).rstrip("\n"))
        return 0

    # Two generated texts: results/README.md whole, and the marked section of the top-level README.md.
    targets = {args.results / "README.md": make_readme(args.results)}
    top = args.results.resolve().parent / "README.md"
    if top.is_file():
        targets[top] = with_top_section(top.read_text(encoding="utf-8"), top_readme_section(args.results))
    # The "// Measured:" line in each kernel file's header (docs/design.md: kept current by the sweep).
    targets.update(kernel_headers(args.results))
    stale = [p for p, text in targets.items()
             if not (p.is_file() and p.read_text(encoding="utf-8") == text)]
    if args.check:
        for p in stale:
            print(f"{p} is not up to date: run {REGEN_COMMAND}", file=sys.stderr)
        if not stale:
            print("results READMEs and kernel headers are up to date")
        return 1 if stale else 0
    for p in stale:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(targets[p], encoding="utf-8")
        print(f"wrote {p}")
    if not stale:
        print("results READMEs and kernel headers unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
