#!/usr/bin/env python3
"""The shapes of a named set in scripts/shape_sets.json, as sparse24_bench's --shapes list.

    python3 scripts/shape_sets.py SET           MxNxK,MxNxK,...  (exit 1 naming the known sets if SET is unknown)
    python3 scripts/shape_sets.py --list        every set with its shape count
    python3 scripts/shape_sets.py --layers SET  one line per layer: name M K
    sparse24_bench --list-json | python3 scripts/shape_sets.py --quick-kernels DTYPES
                                                a --kernels regex for make bench (quick_kernels below)
    sparse24_bench --list-json | python3 scripts/shape_sets.py --filter NAME[,NAME...] DTYPES
                                                a --kernels regex of the named filters (shape_sets.json's
                                                "filters"; make sweep FILTER=best); exit 1 naming the known
                                                filters if one is unknown
    python3 scripts/shape_sets.py --filters     the named filters, one a line
    sparse24_bench --list-json | python3 scripts/shape_sets.py --table-kernels GPU DTYPES SHAPES
                                                a --kernels regex of what `auto` may run at those shapes on GPU
                                                (a results folder name, e.g. nvidia-h200): each dispatch-table
                                                row's variant and ties (table_kernels below); to time `auto`
                                                beside its candidates (scripts/auto_check.py)
    sparse24_bench --list-json | python3 scripts/shape_sets.py --pairs FILTER DTYPES SHAPES [SM]
                                                'variant shape' per line: the named filters' variants at each
                                                shape their rules accept (on compute capability SM, when given),
                                                shape by shape (scripts/overhead_ncu.sh profiles these)
    sparse24_bench --list-json | python3 scripts/shape_sets.py --estimate SET FILTER DTYPES SM [MIN_TIME ENERGY_TIME]
                                                the rows a sweep would time (FILTER: a named filter, a regex or
                                                ''; SM: the GPU's compute capability, e.g. 90) and the harness's
                                                own estimate of its duration (estimate below)

Python 3.9+, standard library only.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SETS_FILE = Path(__file__).resolve().parent / "shape_sets.json"


def load() -> dict:
    return json.loads(SETS_FILE.read_text())


def layers(model: dict) -> list[tuple[str, int, int]]:
    """(layer, M, K) of a model's linear layers, from its config fields (shape_sets.json's _comment)."""
    h, i = model["hidden_size"], model["intermediate_size"]
    q, kv = model["num_attention_heads"], model["num_key_value_heads"]
    d = model.get("head_dim") or h // q
    return [("qkv", (q + 2 * kv) * d, h), ("o", h, q * d), ("gate_up", i, h), ("down", h, i)]


def shapes(name: str, data: dict | None = None) -> list[tuple[int, int, int]]:
    data = data or load()
    s = data["sets"][name]
    if "cubes" in s:
        return [(c, c, c) for c in s["cubes"]]
    if "shapes" in s:
        return [tuple(int(x) for x in sh.split("x")) for sh in s["shapes"]]
    if "union" in s:  # several sets, each shape once, in the order first met
        return list(dict.fromkeys(sh for part in s["union"] for sh in shapes(part, data)))
    return [(m, n, k) for _, m, k in layers(s) for n in data["model_n"]]


def named_filter(names: list, registry: list, dtypes: list, data: dict | None = None) -> tuple:
    """(variant names, warnings) of the named filters (shape_sets.json's "filters") for the A types `dtypes`.
    A selector keeps the GEMM variants of its family and step whose parameters include its own; "twins" keeps every
    constant-metadata twin and its real variant (scripts/overhead.py's rule). Raises KeyError on an unknown name."""
    filters = (data or load())["filters"]
    picked, warnings = [], []
    for name in names:
        f = filters[name]
        kept = {dt: 0 for dt in dtypes}
        for sel in f.get("select", []):
            hits = [v for v in registry if v.get("operation", "gemm") == "gemm" and v["types"]["a"] in dtypes
                    and v["family"] == sel["family"] and v["step"] == sel["step"]
                    and not v.get("uniform_metadata") and not v.get("has_scales")
                    and all(v["params"].get(k) == x for k, x in sel.get("params", {}).items())]
            if not hits:  # a selector the registry no longer matches: the filter has drifted
                warnings.append(f"filter {name}: no variant of {sel['family']} step {sel['step']} with "
                                f"{sel.get('params', {})} in {','.join(dtypes)}")
            for v in hits:
                kept[v["types"]["a"]] += 1
            picked += [v["name"] for v in hits]
        if f.get("select"):
            warnings += [f"filter {name} keeps no {dt} variant" for dt, n in kept.items() if n == 0]
        if f.get("twins"):
            import overhead  # the twins' rule (scripts/overhead.py), loaded only when asked for
            pairs = overhead.registry_pairs(registry, dtypes)
            if not pairs:
                warnings.append(f"filter {name}: no twin of type {','.join(dtypes)} in the registry")
            picked += [n for pair in pairs for n in pair]
    return list(dict.fromkeys(picked)), warnings


TWIN_FAMILY = {"mma_sp": "dense", "wgmma_sp": "wgmma_dense"}  # a sparse family -> its dense counterpart
DISPATCH_TABLE = SETS_FILE.parent.parent / "kernels" / "dispatch_table.inc"


def quick_kernels(registry: list[dict], dtypes: list[str], table_text: str) -> list[str]:
    """make bench's variants, by rule: every variant the dispatch table (kernels/dispatch_table.inc, the fastest
    measured variant per shape) names for the dtypes, which are what `auto` can pick, each family's fastest (for a
    type the table lacks: each sparse family's latest step); plus,
    for each of those of a sparse family with a dense counterpart, its dense twin: the dense variant of the same
    step and technique sharing the most parameters with it (tile first). Only names the registry holds."""
    by_name = {v["name"]: v for v in registry}
    picked = sorted({n for n in re.findall(r'"([^"]+)"\}', table_text)
                     if n in by_name and by_name[n]["types"]["a"] in dtypes})
    # A type the table does not cover yet (no sweep has measured it): each sparse GEMM family's latest step, all
    # its variants of the type; ablations (a constant metadata pattern) are studies, not candidates.
    for dt in dtypes:
        if any(by_name[n]["types"]["a"] == dt for n in picked):
            continue
        mine = [v for v in registry if v["types"]["a"] == dt and v["operation"] == "gemm" and v["sparse"]
                and not v.get("uniform_metadata") and v["family"] != "ablations"]
        for fam in sorted({v["family"] for v in mine}):
            last = max(v["step"] for v in mine if v["family"] == fam)
            picked += sorted(v["name"] for v in mine if v["family"] == fam and v["step"] == last)
    out = list(picked)
    for n in picked:
        v = by_name[n]
        twin_family = TWIN_FAMILY.get(v["family"])
        candidates = [d for d in registry if d["family"] == twin_family and d["step"] == v["step"]
                      and d["technique"] == v["technique"] and d["types"]["a"] == v["types"]["a"]]
        if not candidates:
            continue
        def shared(d):
            p, q = v["params"], d["params"]
            tile = all(p.get(k) == q.get(k) for k in ("bm", "bn", "bk"))
            return (tile, sum(p.get(k) == x for k, x in q.items()))
        best = max(candidates, key=shared)
        if best["name"] not in out:
            out.append(best["name"])
    return out


# The harness's budget (harness/bench.cpp, row_budget_seconds and group_budget_seconds): per timed row 3 x min_time
# + energy_time + 0.15 s, per (dtype, shape) 1 s. Against the committed H200 logs (results/nvidia-h200/issue16-*/
# *.log, "estimated" against "done in") a GEMM run took 0.64x (decode shapes) to 1.26x (large shapes) of it.
ROW_WALL_PER_TIMED_SECOND, ROW_FIXED_SECONDS, GROUP_SECONDS = 3.0, 0.15, 1.0


def accepts(v: dict, shape: tuple, sm: int) -> bool:
    """Whether the variant's shape rule and architecture take M x N x K on compute capability sm (registry.h)."""
    M, N, K = shape
    r, a = v.get("shape_rule", {}), v.get("arch", {})
    if sm < a.get("min_sm", 0) or (a.get("max_sm") and sm > a["max_sm"]):
        return False
    return (M % r.get("m_multiple", 1) == 0 and N % r.get("n_multiple", 1) == 0 and K % r.get("k_multiple", 1) == 0
            and N >= r.get("n_min", 1) and (not r.get("n_max") or N <= r["n_max"]))


def estimate(registry: list, set_name: str, kernels: list | None, dtypes: list, sm: int, min_time: float,
             energy_time: float) -> tuple:
    """(timed rows, groups, seconds by the harness's budget) of a sweep: per (dtype, shape) with a variant to
    time, the accepted variants (all GEMM variants, or those named in `kernels`) plus cuBLAS, cuSPARSELt and auto."""
    rows = groups = 0
    for dt in dtypes:
        mine = [v for v in registry if v.get("operation", "gemm") == "gemm" and v["types"]["a"] == dt
                and (kernels is None or v["name"] in kernels)]
        for shape in shapes(set_name):
            n = sum(accepts(v, shape, sm) for v in mine)
            if n:
                rows += n + 3
                groups += 1
    seconds = rows * (ROW_WALL_PER_TIMED_SECOND * min_time + energy_time + ROW_FIXED_SECONDS) + groups * GROUP_SECONDS
    return rows, groups, seconds


TABLE_ROW = re.compile(r'^\{"([^"]+)", \d+, DType::(\w+), (\d+), (\d+), (\d+), "([^"]*)", "([^"]+)"\}', re.M)


def table_kernels(registry: list[dict], gpu: str, dtypes: list[str], shapes: list[str], table_text: str) -> tuple:
    """(names, shapes without a row): what `auto` may run at each shape on that GPU, from the dispatch table: each
    row's variant and its ties (near ties and untimed leaders, timed in prepare_auto()), for the dtypes, at exactly
    those shapes. Only names the registry holds. A shape without a row is measured over candidates() in prepare,
    which this does not list."""
    known = {v["name"] for v in registry}
    want = {(dt, *(int(x) for x in sh.split("x"))) for dt in dtypes for sh in shapes}
    names, found = set(), set()
    for g, dt, M, N, K, ties, variant in TABLE_ROW.findall(table_text):
        key = (dt, int(M), int(N), int(K))
        if g == gpu and key in want:
            found.add(key)
            names |= {n for n in ties.split() + [variant] if n in known}
    return sorted(names), sorted(want - found)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--quick-kernels":
        names = quick_kernels(json.load(sys.stdin), argv[1].split(","), DISPATCH_TABLE.read_text())
        if not names:
            print("shape_sets.py: the dispatch table names no registered variant of " + argv[1], file=sys.stderr)
            return 1
        print("^(" + "|".join(re.escape(n) for n in names) + ")$")
        return 0
    if len(argv) == 4 and argv[0] == "--table-kernels":
        names, missing = table_kernels(json.load(sys.stdin), argv[1], argv[2].split(","), argv[3].split(","),
                                       DISPATCH_TABLE.read_text())
        for dt, M, N, K in missing:
            print(f"shape_sets.py: no {argv[1]} row for {dt} {M}x{N}x{K} (auto measures its candidates there)",
                  file=sys.stderr)
        if not names:
            return 1
        print("^(" + "|".join(re.escape(n) for n in names) + ")$")
        return 0
    data = load()
    if len(argv) == 3 and argv[0] == "--filter":
        wanted = argv[1].split(",")
        unknown = [n for n in wanted if n not in data["filters"] or n.startswith("_")]
        if unknown:
            known = ", ".join(n for n in sorted(data["filters"]) if not n.startswith("_"))
            print(f"shape_sets.py: unknown filter {', '.join(unknown)}; known: {known}", file=sys.stderr)
            return 1
        names, warnings = named_filter(wanted, json.load(sys.stdin), argv[2].split(","), data)
        for w in warnings:
            print(f"shape_sets.py: {w}", file=sys.stderr)
        if not names:
            print(f"shape_sets.py: filter {argv[1]} keeps no registered variant of {argv[2]}", file=sys.stderr)
            return 1
        print("^(" + "|".join(re.escape(n) for n in names) + ")$")
        return 0
    if argv[:1] == ["--estimate"] and len(argv) in (5, 7):
        registry = json.load(sys.stdin)
        set_name, flt, dts, sm = argv[1], argv[2], argv[3].split(","), int(argv[4])
        min_time, energy_time = (float(argv[5]), float(argv[6])) if len(argv) == 7 else (0.1, 0.1)
        if flt and all(w in data["filters"] for w in flt.split(",")):
            kernels, _ = named_filter(flt.split(","), registry, dts, data)
        elif flt:
            kernels = [v["name"] for v in registry if re.search(flt, v["name"])]
        else:
            kernels = None
        rows, groups, seconds = estimate(registry, set_name, kernels, dts, sm, min_time, energy_time)
        print(f"{set_name} {flt or '(all)'} {','.join(dts)} on sm_{sm}: {rows} rows in {groups} (dtype, shape) "
              f"groups; the harness's estimate {seconds / 60:.1f} min at --min-time {min_time} --energy-time "
              f"{energy_time} (committed GEMM runs took 0.64x-1.26x of its estimate)")
        return 0
    if argv[:1] == ["--pairs"] and len(argv) in (4, 5):
        registry = json.load(sys.stdin)
        dts = argv[2].split(",")
        names, warnings = named_filter(argv[1].split(","), registry, dts, data)
        for w in warnings:
            print(f"shape_sets.py: {w}", file=sys.stderr)
        by_name = {v["name"]: v for v in registry}
        sm = int(argv[4]) if len(argv) == 5 else None
        lines = [f"{n} {sh}" for sh in argv[3].split(",") for n in names
                 if accepts(by_name[n], tuple(int(x) for x in sh.split("x")),
                            sm if sm is not None else by_name[n].get("arch", {}).get("min_sm", 0))]
        print("\n".join(lines))
        return 0 if lines else 1
    if argv[:1] == ["--filters"]:
        for n in sorted(data["filters"]):
            if not n.startswith("_"):
                print(f"{n}: {data['filters'][n].get('_comment', '')}")
        return 0
    names = sorted(data["sets"])
    if argv[:1] == ["--list"]:
        for n in names:
            print(f"{n}: {len(shapes(n, data))} shapes")
        return 0
    if len(argv) == 2 and argv[0] == "--layers" and argv[1] in data["sets"] and "cubes" not in data["sets"][argv[1]]:
        for layer, m, k in layers(data["sets"][argv[1]]):
            print(layer, m, k)
        return 0
    if len(argv) != 1 or argv[0] not in data["sets"]:
        print(f"shape_sets.py: unknown set {' '.join(argv)!r}; known: {', '.join(names)}", file=sys.stderr)
        return 1
    print(",".join(f"{m}x{n}x{k}" for m, n, k in shapes(argv[0], data)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
