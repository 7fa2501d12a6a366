#!/usr/bin/env python3
"""The metadata's overhead measured three ways (issue 17): one table and one plot per GPU.

    python3 scripts/overhead.py [--gpu GPU_DIR ...] [--runs REPORT ...] [--sass FILE.json] [--ncu DIR ...]
                                [--results DIR] [--stdout]

bytes         the metadata's share of the compulsory traffic of the real variant's row (meta_share: metadata
              bytes over values + metadata + B + D, harness/runner.cpp), and of the compressed weight alone;
time          a constant-metadata twin (kernels/ablations/: the same instructions, a constant metadata register, no
              metadata loaded) against its real variant, same report, same dtype and shape: the share of the real
              kernel's time that getting the metadata to the instruction costs, 1 - t_twin / t_real;
instructions  from the SASS (scripts/meta_sass.py --json, committed under results/sass-meta/): per iteration of
              the k-loop (one k-tile; the skinny family's: one k chunk) the real kernel's shared and global loads,
              shuffles, integer ops and loop instructions, and what it issues beyond its twin (static counts);
wavefronts    from Nsight Compute (scripts/overhead_ncu.sh: one JSON per (variant, shape)): shared-memory
              wavefronts by operation, the real kernel's against its twin's; share = 1 - twin / real; and the
              same share of the DRAM bytes read (the skinny family's metadata goes from DRAM to registers and never
              through shared memory: its wavefront share is expected near 0, its DRAM share near the bytes').
A twin's real variant is the row of the same report with the same dtype, operand types, scales, metadata layout
and parameters, sparse and not an ablation, of the twin's step where there is one, else of the highest step (the
fp8 twin's real kernel is wgmma_sp s10; the skinny twin, step 1, is skinny s01's, not s02's, which has the same
parameters). Families with no twin are listed with their bytes and SASS counts. Every figure comes from a committed
file; an input that is missing is reported as missing, never estimated.

Defaults: every GPU folder under results/ with ablation rows; its reports (make_results_readme's reader); the
newest results/sass-meta/*.json; the newest results/<gpu>/overhead-ncu*/ folder. Writes results/<gpu>/overhead.md
and results/<gpu>/overhead.png (needs matplotlib; without it the table alone, and a line saying so).
Python 3.9+; matplotlib only for the plot.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_results_readme as mr  # noqa: E402  (one reader of the report format)
import results_files as rf  # noqa: E402  (results stored gzipped over 20 KiB: read through it)

REPO = mr.REPO
DTYPE_HEADER = REPO / "kernels" / "common" / "dtype.h"
# The ncu metrics read here: scripts/profile.sh --wavefronts collects them (its metric list is the source).
WAVEFRONT_OPS = ("ld", "st", "gmma", "misc")
WAVEFRONTS_TOTAL = "l1tex__data_pipe_lsu_wavefronts_mem_shared.sum"
WAVEFRONTS_OP = "l1tex__data_pipe_lsu_wavefronts_mem_shared_op_{}.sum"
# DRAM bytes read (in the same records): where the metadata never reaches shared memory (the skinny family streams
# it into registers), this is where it shows.
DRAM_READ = "dram__bytes_read.sum"
SASS_COLS = ("tensor", "lds", "ldgsts", "ldg", "shfl", "int_alu", "sync", "loop_instructions")
# Steps whose template takes some of their parameters only (the rest derived), by the struct's qualified name in
# the kernel's name: the parameters that its integer template arguments are, in order. skinny's s01_splitk<T, BN,
# KC, SPLIT> derives bm, wm, wn and stages; s02 and the skinny twin derive from s01 with the same arguments
# (tests/scripts/test_scripts.py reads the headers' template lines and params() to check this table).
TEMPLATE_PARAMS = {
    "skinny::s01_splitk": ("bn", "bk", "split_k"),
    "skinny::s02_onelaunch": ("bn", "bk", "split_k"),
    "ablations::s01_skinnyconstmeta": ("bn", "bk", "split_k"),
}


# ---- Inputs --------------------------------------------------------------------------------------------------

def dtype_enum(header: Path = DTYPE_HEADER) -> dict:
    """{dtype name: its DType enumerator's value} from kernels/common/dtype.h (the SASS names hold the number)."""
    text = re.sub(r"//[^\n]*", "", header.read_text(encoding="utf-8"))  # comments may hold braces
    body = re.search(r"enum class DType\s*:\s*\w+\s*\{(.*?)\}", text, re.S).group(1)
    names = [w.strip() for w in body.split(",") if w.strip()]
    assert all(re.fullmatch(r"[a-z]\w*", n) for n in names), f"unexpected DType enumerators: {names}"
    return {n: i for i, n in enumerate(names)}


def template_args(text: str) -> list:
    """Top-level template arguments of the first <...> in text."""
    start = text.index("<") + 1
    depth, cur, out = 0, "", []
    for ch in text[start:]:
        if ch == "<":
            depth += 1
        elif ch == ">":
            if depth == 0:
                break
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return out


def kernel_of(variant: dict, names: list, enum: dict):
    """The name (of `names`: demangled kernel names without their architecture) that is this variant's kernel, or
    None: family::step_technique<(DType)a, ints...> where the integer (and bool) template arguments and the
    variant's parameter values, in order, agree as far as both go (a step may take a parameter the name leaves out,
    persistent = 1, or the reverse), a scaled variant's name holds ScaledTo and no other's does. An exact-length
    match wins over a prefix match; two equally good matches are ambiguous: None. A step of TEMPLATE_PARAMS matches
    on exactly the parameters its template takes."""
    struct = f"{variant['family']}::s{int(variant['step']):02d}_{variant['technique']}"
    step = struct + "<"
    dt = enum.get(variant["types"]["a"])
    params = variant.get("params") or {}
    taken = TEMPLATE_PARAMS.get(struct)
    values = [params.get(k) for k in taken] if taken else list(params.values())
    found = []
    for name in names:
        i = name.find("::" + step)
        if i < 0 or ("ScaledTo" in name) != bool(variant.get("has_scales")):
            continue
        args = template_args(name[i + 2:])
        if not args or args[0] != f"(sparse24::DType){dt}":
            continue
        ints = []
        for a in args[1:]:
            if re.fullmatch(r"-?\d+", a):
                ints.append(int(a))
            elif a in ("true", "false"):
                ints.append(int(a == "true"))
            else:
                break
        if taken:
            if ints == values:
                found.append((True, name))
            continue
        n = min(len(ints), len(values))
        if n >= 6 and ints[:n] == values[:n]:  # at least the tile, warps and stages
            found.append((len(ints) == len(values), name))
    exact = [n for e, n in found if e]
    pool = exact or [n for _, n in found]
    return pool[0] if len(pool) == 1 else None


def load_sass(path: Path) -> dict:
    """{arch: {demangled kernel name: counts}} from meta_sass.py --json ({"<arch> <name>": counts})."""
    out: dict = {}
    for key, counts in json.loads(rf.read_text(path)).items():
        arch, _, name = key.partition(" ")
        out.setdefault(arch, {})[name] = counts
    return out


def arch_for(sass: dict, compute_capability) -> str | None:
    """The architecture whose code the run's GPU ran: sm_XYa, else sm_XY, else the newest below it."""
    try:
        major, minor = str(compute_capability).split(".")
        cc = int(major) * 10 + int(minor)
    except (ValueError, AttributeError):
        return None
    for a in (f"sm_{cc}a", f"sm_{cc}"):
        if a in sass:
            return a
    below = [a for a in sass if re.fullmatch(r"sm_\d+", a) and int(a[3:]) < cc]
    return max(below, key=lambda a: int(a[3:])) if below else None


def load_ncu(folders: list) -> dict:
    """{(variant, shape): record} from scripts/overhead_ncu.sh's JSON files (status ok only)."""
    out: dict = {}
    for folder in folders:
        for p in rf.glob(folder, "*.json"):
            try:
                rec = json.loads(rf.read_text(p))
            except ValueError:
                continue
            if isinstance(rec, dict) and rec.get("format") == "sparse24-ncu-1" and rec.get("status") == "ok":
                out[(rec["variant"], rec["shape"])] = rec
    return out


# ---- Pairs ---------------------------------------------------------------------------------------------------

def is_ablation(r) -> bool:
    return r.fields is not None and mr.is_ablation(r)


def is_twin(r) -> bool:
    """A row of a constant-metadata twin: an ablation that is uniform_metadata (a row from before that field: any
    ablation). ablations.s06_fp8fastaccum is an ablation of another cost (the fp8 promotion) and no twin."""
    v = variant(r)
    return is_ablation(r) and (bool(v["uniform_metadata"]) if "uniform_metadata" in v else True)


def variant(r) -> dict:
    return (r.fields or {}).get("variant") or {}


def is_ablation_variant(v: dict) -> bool:
    """A registry entry (or a row's variant fields) of kernels/ablations/."""
    return v.get("family") == "ablations" or bool(v.get("uniform_metadata"))


def is_twin_variant(v: dict) -> bool:
    """A registry entry (or a row's variant fields) of a constant-metadata twin: uniform_metadata where the fields
    say, else (fields from before it) any ablation. Not ablations.s06_fp8fastaccum (the fp8 promotion's cost)."""
    return bool(v["uniform_metadata"]) if "uniform_metadata" in v else is_ablation_variant(v)


def same_where_known(a, b) -> bool:
    """Equal, or one of them not given (a report row from before the field existed)."""
    return a is None or b is None or a == b


def pick_real(twin_v: dict, candidates: list, fields=lambda c: c):
    """Of `candidates` (variant field dicts, or objects whose fields() are), the twin's real variant: sparse, not
    an ablation, the same operand types, scales, metadata layout (where both say) and parameters; of the twin's
    step if one is, else the highest."""
    cands = [c for c in candidates if fields(c).get("sparse") and not is_ablation_variant(fields(c))
             and fields(c).get("types") == twin_v.get("types")
             and bool(fields(c).get("has_scales")) == bool(twin_v.get("has_scales"))
             and same_where_known(fields(c).get("meta_layout"), twin_v.get("meta_layout"))
             and fields(c).get("params") == twin_v.get("params")]
    same = [c for c in cands if fields(c).get("step") == twin_v.get("step")]
    pool = same or sorted(cands, key=lambda c: -int(fields(c).get("step", 0)))[:1]
    return pool[0] if pool else None


def real_of(twin, rows: list):
    """The twin's real variant among the rows of its report (the rule in the docstring), or None."""
    cands = [r for r in rows if r.peer is None and r.fields.get("kind") == "variant" and not is_ablation(r)
             and r.dtype == twin.dtype and r.shape == twin.shape]
    return pick_real(variant(twin), cands, variant)


def registry_pairs(registry: list, dtypes: list) -> list:
    """[(real name, twin name)] of every twin in the registry (sparse24_bench --list-json) of the given A types."""
    out = []
    for t in registry:
        if t.get("operation", "gemm") != "gemm" or not is_twin_variant(t) or t["types"]["a"] not in dtypes:
            continue
        real = pick_real(t, [v for v in registry if v.get("operation", "gemm") == "gemm"])
        if real is not None:
            out.append((real["name"], t["name"]))
    return out


class Pair:
    def __init__(self, run, real, twin):
        self.run, self.real, self.twin = run, real, twin

    def time_share(self):
        """1 - t_twin / t_real from the medians, None unless both rows passed and were timed."""
        if self.real.status() != "ok" or self.twin.status() != "ok":
            return None
        tr, tt = self.real.value("median_us"), self.twin.value("median_us")
        return 1 - tt / tr if tr and tt else None


def pairs_of(runs: list) -> tuple:
    """(pairs, notes): every twin row with its real row, from each report on its own."""
    pairs, notes = [], []
    for run in runs:
        for t in run.rows:
            if t.fields is None or not is_twin(t) or t.peer is not None:
                continue
            real = real_of(t, run.rows)
            if real is None:
                notes.append(f"{t.kernel} at {t.shape} ({mr.run_label(run)}): no real variant in the same report: "
                             "time missing")
                continue
            pairs.append(Pair(run, real, t))
    return pairs, notes


def untwinned_best(runs: list, pairs: list) -> list:
    """Per sparse family without a twin in `pairs`, its fastest passed row per (dtype, shape): (row, run)."""
    twinned = {p.real.family for p in pairs}
    best: dict = {}
    for run in runs:
        for r in run.rows:
            if (r.fields is None or r.peer is not None or r.fields.get("kind") != "variant" or is_ablation(r)
                    or not variant(r).get("sparse") or r.family in twinned or r.status() != "ok"
                    or r.tflops() is None):
                continue
            k = (r.family, r.dtype, r.shape)
            if k not in best or r.tflops() > best[k][0].tflops():
                best[k] = (r, run)
    return [best[k] for k in sorted(best, key=lambda k: (k[0], k[1], mr.shape_sort_key(k[2])))]


# ---- The table -----------------------------------------------------------------------------------------------

def pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def us(v) -> str:
    return "–" if v is None else f"{v:.1f}"


def report_link(run) -> str:
    """A link from results/<gpu>/overhead.md to the report."""
    return f"[{mr.run_label(run)}]({run.path.parent.name}/{run.path.name})"


def weight_share(r):
    m, v = r.value("meta_bytes"), r.value("value_bytes")
    return m / (m + v) if m and v else None


def wavefront_cells(rec_real, rec_twin) -> tuple:
    """(real total, twin total, share, real's by operation) of the shared-memory wavefronts; '–' where missing."""
    def get(rec, key):
        v = (rec or {}).get("metrics", {}).get(key)
        return v if isinstance(v, (int, float)) else None
    real, twin = get(rec_real, WAVEFRONTS_TOTAL), get(rec_twin, WAVEFRONTS_TOTAL)
    share = 1 - twin / real if real and twin is not None else None
    ops = ", ".join(f"{op} {get(rec_real, WAVEFRONTS_OP.format(op)):.3g}" for op in WAVEFRONT_OPS
                    if get(rec_real, WAVEFRONTS_OP.format(op)) is not None)
    fmt = lambda v: "–" if v is None else f"{v:.3g}"  # noqa: E731
    return fmt(real), fmt(twin), share, ops or "–"


def dram_share(rec_real, rec_twin):
    """1 - twin / real of the DRAM bytes read, None where either record lacks them."""
    real, twin = ((rec or {}).get("metrics", {}).get(DRAM_READ) for rec in (rec_real, rec_twin))
    ok = all(isinstance(v, (int, float)) for v in (real, twin))
    return 1 - twin / real if ok and real else None


def sass_row(sass: dict, arch, real_v: dict, twin_v: dict, enum: dict):
    """(real counts, twin counts, real kernel name) from the SASS table, None where the kernel is not there."""
    if arch is None:
        return None, None, None
    names = list(sass.get(arch, {}))
    rk = kernel_of(real_v, names, enum)
    tk = kernel_of(twin_v, names, enum) if twin_v else None
    return (sass[arch].get(rk) if rk else None), (sass[arch].get(tk) if tk else None), rk


def gpu_report(gpu_dir: str, runs: list, sass: dict, sass_path, ncu: dict, ncu_dirs: list, enum: dict) -> tuple:
    """(markdown lines, plot records) for one GPU."""
    title = next((r.context.get("gpu") for r in runs if r.context.get("gpu")), gpu_dir)
    pairs, notes = pairs_of(runs)
    missing = list(notes)
    lines = [f"# Metadata overhead: {title}", "",
             "<!-- Generated by scripts/overhead.py; do not edit by hand. -->",
             "Generated by `python3 scripts/overhead.py` (also run by `make plots`) from the committed reports "
             f"under `results/{gpu_dir}/`, the SASS counts "
             + (f"`{rf.logical(sass_path.relative_to(REPO) if sass_path.is_relative_to(REPO) else sass_path)}`"
                if sass_path
                else "(none)")
             + " and the ncu records " + (", ".join(f"`{Path(d).name}/`" for d in ncu_dirs) if ncu_dirs else
                                          "(none)") + ". What each column means: the docstring of scripts/overhead.py.",
             "",
             "**bytes** is the metadata's share of the row's compulsory traffic (A values + metadata + B + D); "
             "**time** is 1 - t(twin) / t(real), the twin being the same kernel with a constant metadata register "
             "and no metadata loads (kernels/ablations/), same report, same shape; **wavefronts** is "
             "1 - twin / real of the shared-memory wavefronts ncu counts (all operations), **DRAM read** the same of "
             "the DRAM bytes read. A dash is a measurement "
             "that is not committed (listed under *Missing* below), never an estimate.", ""]
    plot = []
    if pairs:
        lines += ["## Per variant and shape", "",
                  "| variant (real) | twin | dtype | M x N x K | bytes | time: real us | twin us | **time** | "
                  "wavefronts: real | twin | **wavefronts** | **DRAM read** | real's wavefronts by op | report |",
                  "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
        for p in sorted(pairs, key=lambda p: (p.real.family, p.real.dtype, p.real.kernel,
                                              mr.shape_sort_key(p.real.shape))):
            t = p.time_share()
            if t is None:
                missing.append(f"time of `{p.real.kernel}` at {p.real.shape} ({mr.run_label(p.run)}): "
                               f"real {p.real.status()}, twin {p.twin.status()}")
            rr, rt = ncu.get((p.real.kernel, p.real.shape)), ncu.get((p.twin.kernel, p.twin.shape))
            if ncu_dirs and (rr is None or rt is None):
                missing.append(f"ncu wavefronts of `{p.real.kernel}` and its twin at {p.real.shape}: "
                               + ("neither" if rr is None and rt is None else "the real kernel's" if rr is None
                                  else "the twin's") + " record")
            w_real, w_twin, w_share, ops = wavefront_cells(rr, rt)
            b = p.real.value("meta_share")
            lines.append("| " + " | ".join([
                f"`{p.real.kernel}`", f"`{p.twin.kernel.split('.')[1]}`", p.real.dtype, mr.shape_label(p.real.shape),
                pct(b), us(p.real.value("median_us")), us(p.twin.value("median_us")), pct(t), w_real, w_twin,
                pct(w_share), pct(dram_share(rr, rt)), ops, report_link(p.run)]) + " |")
            plot.append({"label": f"{p.real.family} {p.real.dtype}\n{p.real.shape}", "family": p.real.family,
                         "bytes": b, "time": t, "wavefronts": w_share})
        lines.append("")
    else:
        missing.append(f"no report under results/{gpu_dir}/ holds a twin (ablations) row: time missing everywhere")

    # Instructions per k-tile, per real kernel (static: the same at every shape).
    arch = arch_for(sass, next((r.context.get("compute_capability") for r in runs
                                if r.context.get("compute_capability")), None)) if sass else None
    if sass and arch is None:
        missing.append("the SASS counts hold no code for this GPU's architecture")
    seen, sass_lines = set(), []
    for p in pairs:
        key = p.real.kernel
        if key in seen:
            continue
        seen.add(key)
        real_c, twin_c, _ = sass_row(sass, arch, variant(p.real), variant(p.twin), enum)
        if real_c is None:
            if arch is not None:
                missing.append(f"SASS counts of `{key}` ({arch})")
            continue
        extra = "–"
        per_tensor = "–"
        if twin_c is not None:
            d = real_c["loop_instructions"] - twin_c["loop_instructions"]
            extra = (f"{d:+d} ({real_c['lds'] - twin_c['lds']:+d} LDS, "
                     f"{real_c.get('ldgsts', 0) - twin_c.get('ldgsts', 0):+d} LDGSTS, "
                     + (f"{real_c.get('ldg', 0) - twin_c.get('ldg', 0):+d} LDG, "
                        f"{real_c.get('shfl', 0) - twin_c.get('shfl', 0):+d} SHFL, "
                        if "ldg" in real_c and "ldg" in twin_c else "")
                     + f"{real_c['int_alu'] - twin_c['int_alu']:+d} int)")
            per_tensor = f"{d / real_c['tensor']:+.2f}" if real_c["tensor"] else "–"
        else:
            missing.append(f"SASS counts of the twin of `{key}` ({arch})")
        sass_lines.append("| " + " | ".join([f"`{key}`"] + [str(int(real_c.get(c, 0))) for c in SASS_COLS]
                                             + [extra, per_tensor]) + " |")
    for row, run in untwinned_best(runs, pairs):
        if row.kernel in seen:
            continue
        seen.add(row.kernel)
        real_c, _, _ = sass_row(sass, arch, variant(row), {}, enum)
        if real_c is None:
            continue
        sass_lines.append("| " + " | ".join([f"`{row.kernel}` (no twin)"] + [str(int(real_c.get(c, 0))) for c in SASS_COLS]
                                            + ["–", "–"]) + " |")
    if sass_lines:
        lines += [f"## Instructions per k-loop iteration (SASS, {arch}, static counts)", "",
                  "One iteration is one k-tile (skinny: one k chunk). `lds`: shared loads other than ldmatrix (in "
                  "the mma_sp and wgmma kernels, the metadata's); `ldg`: global loads to registers (the skinny "
                  "family's values, B pieces and metadata words; a count of SASS without the column: 0); `shfl`: "
                  "shuffles (the skinny family's metadata re-split, with the divergent-warp path); `int`: integer "
                  "ALU (addresses, loop control, the metadata's bit moves); "
                  "**beyond the twin**: the loop instructions the real kernel issues that its twin does not, i.e. "
                  "what getting the metadata to the instruction costs in issue slots.", "",
                  "| kernel | tensor | lds | ldgsts | ldg | shfl | int | sync | loop | **beyond the twin** | "
                  "per tensor instr |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"] + sass_lines + [""]

    # Families without a twin: their bytes (the other two measures need a twin).
    untwinned = untwinned_best(runs, pairs)
    if untwinned:
        fams = sorted({r.family for r, _ in untwinned})
        lines += ["## Families without a twin yet: bytes only", "",
                  "The fastest passed row of each family per shape (" + ", ".join(fams) + "): its metadata's "
                  "share of the traffic and of the compressed weight. Time and wavefronts need a twin.", "",
                  f"<details><summary>{len(untwinned)} rows</summary>", "",
                  "| family | kernel | dtype | M x N x K | bytes | share of the weight | report |",
                  "|---|---|---|---|---:|---:|---|"]
        for r, run in untwinned:
            lines.append(f"| {r.family} | `{r.kernel}` | {r.dtype} | {mr.shape_label(r.shape)} | "
                         f"{pct(r.value('meta_share'))} | {pct(weight_share(r))} | "
                         f"{report_link(run)} |")
        for fam in fams:
            missing.append(f"family {fam}: no constant-metadata twin measured (time and wavefronts missing)")
        lines += ["", "</details>", ""]
    if not sass:
        missing.append("SASS counts: no results/sass-meta/*.json (scripts/meta_sass.py --json)")
    if not ncu_dirs:
        missing.append(f"ncu wavefronts: no results/{gpu_dir}/overhead-ncu*/ folder (scripts/overhead_ncu.sh)")
    if missing:
        lines += ["## Missing", ""] + [f"- {m}" for m in dict.fromkeys(missing)] + [""]
    return lines, plot, title


def write_plot(records: list, title: str, out: Path) -> bool:
    if not records:
        return False
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("overhead.py: matplotlib is missing (pip install matplotlib): no plot", file=sys.stderr)
        return False
    series = (("bytes", "bytes (share of traffic)", "tab:gray"), ("time", "time (twin vs real)", "tab:red"),
              ("wavefronts", "shared-memory wavefronts", "tab:blue"))
    n = len(records)
    fig, ax = plt.subplots(figsize=(max(7, 0.75 * n + 2), 4.8))
    width = 0.27
    for i, (key, label, color) in enumerate(series):
        xs = [x + (i - 1) * width for x in range(n)]
        vals = [records[x][key] for x in range(n)]
        ax.bar([x for x, v in zip(xs, vals) if v is not None], [100 * v for v in vals if v is not None],
               width=width, label=label, color=color)
        for x, v in zip(xs, vals):
            if v is None:
                ax.text(x, 0.2, "n/a", rotation=90, ha="center", va="bottom", fontsize=6, color=color)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(n))
    ax.set_xticklabels([r["label"] for r in records], rotation=70, fontsize=7)
    ax.set_ylabel("metadata's share (%)")
    ax.set_title(f"{title}: what the metadata costs, three ways (n/a: not measured)", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return True


def newest(paths: list):
    return max(paths, key=lambda p: (rf.logical(p).name, str(p))) if paths else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=REPO / "results")
    ap.add_argument("--gpu", action="append", default=[], help="GPU folder name under results/ (repeatable)")
    ap.add_argument("--runs", nargs="*", type=Path, help="report files or run folders (default: the GPU's)")
    ap.add_argument("--sass", type=Path, help="meta_sass.py --json output (default: newest results/sass-meta/*.json)")
    ap.add_argument("--ncu", action="append", type=Path, default=[], help="overhead_ncu.sh output folder")
    ap.add_argument("--stdout", action="store_true", help="print the table instead of writing files")
    ap.add_argument("--pairs", metavar="DTYPES",
                    help="read sparse24_bench --list-json on stdin, print 'real twin' per line for these A types "
                         "(comma-separated; scripts/overhead_ncu.sh) and exit")
    args = ap.parse_args(argv)
    if args.pairs:
        pairs = registry_pairs(json.load(sys.stdin), args.pairs.split(","))
        for real, twin in pairs:
            print(real, twin)
        if not pairs:
            print(f"overhead.py: the registry has no twin of type {args.pairs}", file=sys.stderr)
        return 0 if pairs else 1

    enum = dtype_enum()
    sass_path = rf.stored(args.sass) if args.sass else newest(rf.glob(args.results / "sass-meta", "*.json"))
    sass = load_sass(sass_path) if sass_path and sass_path.is_file() else {}
    if args.sass and not sass:
        print(f"overhead.py: {args.sass} is missing or empty", file=sys.stderr)
        return 1

    all_runs = mr.report_runs(args.results)
    if args.runs:
        reports = []
        for t in args.runs:
            if t.is_dir():
                reports += [t / mr.ROWS_FILE] if rf.stored(t / mr.ROWS_FILE).is_file() else [
                    p for p in rf.glob(t, "*.json") if not p.name.startswith("session-")]
            else:
                reports.append(t)
        gpu = args.gpu[0] if args.gpu else reports[0].resolve().parent.parent.name if reports else "unknown"
        loaded = [mr.Run(p, gpu) for p in reports]
        targets = {gpu: [r for r in loaded if r.error is None and r.rows and all(x.fields is not None
                                                                                for x in r.rows)]}
    else:
        targets = {g: runs for g, runs in all_runs.items() if (not args.gpu or g in args.gpu)
                   and any(is_twin(r) for run in runs for r in run.rows)}
        for g in args.gpu:
            targets.setdefault(g, all_runs.get(g, []))
    if not targets:
        print("overhead.py: no GPU folder under results/ has a report with twin (ablations) rows; nothing written",
              file=sys.stderr)
        return 1
    for gpu_dir, runs in targets.items():
        ncu_dirs = args.ncu or ([newest(sorted(p for p in (args.results / gpu_dir).glob("overhead-ncu*")
                                               if p.is_dir()))] if (args.results / gpu_dir).is_dir() else [])
        ncu_dirs = [d for d in ncu_dirs if d]
        lines, plot, title = gpu_report(gpu_dir, runs, sass, sass_path, load_ncu(ncu_dirs), ncu_dirs, enum)
        out_dir = args.results / gpu_dir
        if args.stdout:
            print("\n".join(lines))
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        png = out_dir / "overhead.png"
        if write_plot(plot, title, png):
            lines += ["## Plot", "", "![metadata overhead](overhead.png)", ""]
            print(f"wrote {png}")
        (out_dir / "overhead.md").write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
        print(f"wrote {out_dir / 'overhead.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
