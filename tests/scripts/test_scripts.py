#!/usr/bin/env python3
"""CPU tests of the results scripts (issue 17): the overhead table, its ncu records, the shape sets and named
filters, a sweep folder read by the front page and the plots, results stored gzipped (results_files.py), and
auto's distance from the fastest variant (auto_check.py).

    python3 tests/scripts/test_scripts.py [-v]

Every test builds its inputs in a temporary folder (a synthetic sweep: rows.jsonl, session-1.json) and checks
figures the inputs determine; nothing under results/ is read or written. The plot test is skipped without
matplotlib. Python 3.9+, standard library only (unittest).
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import make_results_readme as mr  # noqa: E402
import auto_check  # noqa: E402
import overhead  # noqa: E402
import overhead_ncu  # noqa: E402
import results_files as rf  # noqa: E402
import shape_sets  # noqa: E402

GPU_DIR = "test-gpu"
CONTEXT = {"gpu": "Test GPU", "compute_capability": "9.0", "commit": "abc1234", "sm_count": "132"}


def variant(family, step, technique, dtype, params, **extra):
    v = {"family": family, "step": step, "technique": technique, "operation": "gemm", "sparse": family != "dense",
         "types": {"a": dtype, "b": dtype, "d": dtype, "acc": "f32"}, "has_scales": False, "params": params}
    v.update(extra)
    p = params
    v["name"] = (f"{family}.s{step:02d}_{technique}.{dtype}.{p['bm']}x{p['bn']}x{p['bk']}.w{p['wm']}x{p['wn']}"
                 f".s{p['stages']}" + "".join(f".{k}{x}" for k, x in list(p.items())[6:]))
    return v


TILE = {"bm": 128, "bn": 128, "bk": 64, "wm": 2, "wn": 2, "stages": 4, "group": 16}
REAL = variant("mma_sp", 5, "raster", "bf16", TILE)
TWIN = variant("ablations", 5, "mmaconstmeta", "bf16", TILE, uniform_metadata=True)
SKINNY = variant("skinny", 2, "onelaunch", "bf16", {"bm": 128, "bn": 8, "bk": 128, "wm": 4, "wn": 1, "stages": 2,
                                                     "split_k": 0})


def skinny(step, technique, dtype, bn, bk, split, family="skinny", **extra):
    """A skinny variant (or its twin: family ablations) as the registry describes it: <T, BN, KC, SPLIT>."""
    layout = "lane_blocks8" if dtype in ("int8", "e4m3", "e5m2") else "lane_blocks16"
    return variant(family, step, technique, dtype, {"bm": 128 if bn < 128 else 64, "bn": bn, "bk": bk, "wm": 4,
                                                    "wn": 1, "stages": 2, "split_k": split},
                   meta_layout=layout, **extra)


SKINNY_TWIN = skinny(1, "skinnyconstmeta", "bf16", 16, 128, 0, family="ablations", uniform_metadata=True)


def row(kernel, M, N, K, median_us, v=None, kind="variant", meta_share=0.05, status="passed", **counters):
    c = {"median_us": median_us, "tflops": 2.0 * M * N * K / (median_us * 1e-6) / 1e12, "meta_share": meta_share,
         "meta_bytes": M * K // 16, "value_bytes": M * K, "speedup_vs_cublas": 1.5}
    c.update(counters)
    return {"kernel": kernel, "kind": kind, "operation": "gemm", "dtype": "bf16", "M": M, "N": N, "K": K,
            "status": status, "reason": "" if status == "passed" else "a reason", "variant": v, "notes": {},
            "counters": c}


def sweep_rows():
    """Peers, auto, the real mma_sp variant and its twin, and a skinny variant, at two N of one weight."""
    out = []
    for N, real_us, twin_us in ((16, 40.0, 36.0), (2048, 1000.0, 900.0)):
        out += [row("cublas.dense.bf16", 4096, N, 4096, real_us * 1.5, kind="peer", meta_share=0),
                row("cusparselt.bf16", 4096, N, 4096, real_us * 1.1, kind="peer"),
                row("auto.bf16", 4096, N, 4096, real_us, REAL, kind="auto"),
                row(REAL["name"], 4096, N, 4096, real_us, REAL),
                row(TWIN["name"], 4096, N, 4096, twin_us, TWIN)]
    out.append(row(SKINNY["name"], 4096, 16, 4096, 30.0, SKINNY, meta_share=0.1))
    out[-1]["notes"] = {}
    out[2]["notes"] = {"picked": REAL["name"]}
    return out


def make_sweep(results: Path) -> Path:
    run = results / GPU_DIR / "sweep-models_abc1234"
    run.mkdir(parents=True)
    (run / mr.ROWS_FILE).write_text("\n".join(json.dumps(r) for r in sweep_rows()) + "\n{\"kernel\": \"cut", "utf-8")
    (run / "session-1.json").write_text(json.dumps({"format": "sparse24-report-1", "context": CONTEXT, "rows": []}))
    (run / "command.txt").write_text("sparse24_bench --shapes ...\n")
    (run / "environment.txt").write_text("date_utc: 2026-12-03T01:00:00Z\n")
    return run


def quiet(fn, *args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = fn(*args)
    return rc, out.getvalue(), err.getvalue()


class SweepCase(unittest.TestCase):
    """A synthetic sweep (make_sweep) under a temporary results/ folder, made anew for each test."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.results = Path(self.tmp.name) / "results"
        self.run = make_sweep(self.results)

    def tearDown(self):
        self.tmp.cleanup()


class OverheadTable(SweepCase):
    def test_time_share_is_one_minus_twin_over_real(self):
        run = mr.Run(self.run / mr.ROWS_FILE, GPU_DIR)
        pairs, notes = overhead.pairs_of([run])
        self.assertEqual(notes, [])
        shares = {p.real.shape: p.time_share() for p in pairs}
        self.assertAlmostEqual(shares["4096x16x4096"], 1 - 36.0 / 40.0)
        self.assertAlmostEqual(shares["4096x2048x4096"], 1 - 900.0 / 1000.0)
        self.assertTrue(all(p.real.kernel == REAL["name"] for p in pairs))  # never the auto row

    def test_a_failed_twin_gives_no_time(self):
        rows = [r for r in sweep_rows() if r["N"] == 16]
        rows[4]["status"] = "failed"
        (self.run / mr.ROWS_FILE).write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        pairs, _ = overhead.pairs_of([mr.Run(self.run / mr.ROWS_FILE, GPU_DIR)])
        self.assertEqual([p.time_share() for p in pairs], [None])

    def test_table_reports_missing_inputs_and_no_invented_figures(self):
        rc, out, _ = quiet(overhead.main, ["--results", str(self.results), "--stdout",
                                           "--sass", str(self.write_sass())])
        self.assertEqual(rc, 0)
        self.assertIn("10.0%", out)  # 1 - 900/1000 and 1 - 36/40
        self.assertIn("## Missing", out)
        self.assertIn("ncu wavefronts: no results/test-gpu/overhead-ncu*/ folder", out)
        self.assertIn("family skinny: no constant-metadata twin measured", out)
        self.assertNotIn("nan", out.lower())
        # SASS: the real kernel's counts and what it issues beyond its twin (231 - 196 loop instructions).
        self.assertIn("+35 (+2 LDS, +2 LDGSTS, +23 int)", out)

    def test_ncu_records_give_the_wavefront_share(self):
        ncu_dir = self.results / GPU_DIR / "overhead-ncu_2026-12-03_abc1234"
        ncu_dir.mkdir()
        for name, total in ((REAL["name"], 1000.0), (TWIN["name"], 800.0)):
            rec = {"format": overhead_ncu.FORMAT, "variant": name, "shape": "4096x2048x4096", "status": "ok",
                   "metrics": {overhead.WAVEFRONTS_TOTAL: total, overhead.WAVEFRONTS_OP.format("ld"): 10.0}}
            (ncu_dir / f"{name}@4096x2048x4096.json").write_text(json.dumps(rec))
        rc, out, _ = quiet(overhead.main, ["--results", str(self.results), "--stdout"])
        self.assertEqual(rc, 0)
        line = next(l for l in out.splitlines() if "4096 x 2048 x 4096" in l and REAL["name"] in l)
        self.assertIn("| 20.0% |", line)
        self.assertIn("ncu wavefronts of `" + REAL["name"] + "` and its twin at 4096x16x4096: neither record", out)

    def test_ncu_records_give_the_dram_share(self):
        ncu_dir = self.results / GPU_DIR / "overhead-ncu_2026-12-03_abc1234"
        ncu_dir.mkdir()
        for name, wavefronts, dram in ((REAL["name"], 1000.0, 9e6), (TWIN["name"], 1000.0, 8e6)):
            rec = {"format": overhead_ncu.FORMAT, "variant": name, "shape": "4096x16x4096", "status": "ok",
                   "metrics": {overhead.WAVEFRONTS_TOTAL: wavefronts, overhead.DRAM_READ: dram}}
            (ncu_dir / f"{name}@4096x16x4096.json").write_text(json.dumps(rec))
        rc, out, _ = quiet(overhead.main, ["--results", str(self.results), "--stdout"])
        self.assertEqual(rc, 0)
        line = next(l for l in out.splitlines() if "4096 x 16 x 4096" in l and REAL["name"] in l)
        self.assertIn("| 0.0% | 11.1% |", line)  # no shared-memory difference, a ninth of the DRAM bytes

    def write_sass(self) -> Path:
        name = "void sparse24::gemm_entry<sparse24::{}<(sparse24::DType)1, 128, 128, 64, 2, 2, 4, 16> >(sparse24::GemmArgs)"
        real = {"tensor": 64, "lds": 2, "ldsm": 24, "ldgsts": 14, "shfl": 0, "int_alu": 115, "sync": 1,
                "loop_instructions": 231}
        twin = dict(real, lds=0, ldgsts=12, int_alu=92, loop_instructions=196)
        path = Path(self.tmp.name) / "sass.json"
        path.write_text(json.dumps({"sm_90a " + name.format("mma_sp::s05_raster"): real,
                                    "sm_90a " + name.format("ablations::s05_mmaconstmeta"): twin,
                                    "sm_80 " + name.format("mma_sp::s05_raster"): real}))
        return path


class KernelNames(unittest.TestCase):
    ENUM = overhead.dtype_enum()

    def test_dtype_enum_is_read_from_the_header(self):
        self.assertEqual(self.ENUM["fp16"], 0)
        self.assertEqual(self.ENUM["bf16"], 1)
        self.assertLess(self.ENUM["int8"], self.ENUM["int32"])

    def test_a_variant_finds_its_kernel_and_no_other(self):
        names = ["void sparse24::gemm_entry<sparse24::mma_sp::s05_raster<(sparse24::DType)1, 128, 128, 64, 2, 2, 4, 16> >(x)",
                 "void sparse24::gemm_entry<sparse24::mma_sp::s05_raster<(sparse24::DType)1, 128, 256, 64, 2, 4, 3, 16> >(x)",
                 "void sparse24::gemm_entry<sparse24::mma_sp::s05_raster<(sparse24::DType)0, 128, 128, 64, 2, 2, 4, 16> >(x)"]
        self.assertEqual(overhead.kernel_of(REAL, names, self.ENUM), names[0])
        self.assertIsNone(overhead.kernel_of(TWIN, names, self.ENUM))

    def test_parameters_the_name_leaves_out_or_adds(self):
        p = {"bm": 128, "bn": 256, "bk": 64, "wm": 8, "wn": 1, "stages": 5, "group": 16, "cluster_m": 2}
        persistent = variant("wgmma_sp", 6, "tmastore", "bf16", dict(p, persistent=1))
        plain = variant("wgmma_sp", 6, "tmastore", "bf16", dict(p, group=8))
        names = ["gemm_entry_params<sparse24::wgmma_sp::s06_tmastore<(sparse24::DType)1, 128, 256, 64, 8, 1, 5, 16, 2, true> >",
                 "gemm_entry_params<sparse24::wgmma_sp::s06_tmastore<(sparse24::DType)1, 128, 256, 64, 8, 1, 5, 8, 2, false> >",
                 "gemm_entry_params<sparse24::wgmma_sp::s06_tmastore<(sparse24::DType)1, 128, 256, 64, 8, 1, 5, 16, 2, "
                 "sparse24::wgmma::ScaledTo<(sparse24::DType)1> > >"]
        self.assertEqual(overhead.kernel_of(persistent, names, self.ENUM), names[0])
        self.assertEqual(overhead.kernel_of(plain, names, self.ENUM), names[1])
        self.assertEqual(overhead.kernel_of(dict(persistent, has_scales=True), names, self.ENUM), names[2])


    def test_skinny_names_match_on_the_parameters_their_template_takes(self):
        # skinny::s01_splitk<T, BN, KC, SPLIT>: bm, wm, wn and stages are derived, so a prefix rule cannot tell
        # split 0 from split 4 (wm = 4); the table of template parameters does.
        names = [f"void sparse24::gemm_entry<sparse24::{s}<(sparse24::DType){d}, {bn}, {kc}, {sp}> >(sparse24::GemmArgs)"
                 for s in ("skinny::s01_splitk", "skinny::s02_onelaunch", "ablations::s01_skinnyconstmeta")
                 for d, bn, kc, sp in ((1, 16, 128, 0), (1, 16, 128, 4), (1, 8, 128, 0), (3, 16, 256, 0))]
        real = skinny(1, "splitk", "bf16", 16, 128, 0)
        self.assertEqual(overhead.kernel_of(real, names, self.ENUM), names[0])
        self.assertEqual(overhead.kernel_of(skinny(1, "splitk", "bf16", 16, 128, 4), names, self.ENUM), names[1])
        self.assertEqual(overhead.kernel_of(skinny(2, "onelaunch", "bf16", 8, 128, 0), names, self.ENUM), names[6])
        self.assertEqual(overhead.kernel_of(SKINNY_TWIN, names, self.ENUM), names[8])
        self.assertEqual(overhead.kernel_of(skinny(1, "skinnyconstmeta", "int8", 16, 256, 0, family="ablations"),
                                            names, self.ENUM), names[11])
        self.assertIsNone(overhead.kernel_of(skinny(1, "splitk", "bf16", 32, 128, 0), names, self.ENUM))

    def test_the_template_parameter_table_follows_the_headers(self):
        # Each struct's integer template parameters, mapped through its params() ({"key", NAME}) or, for a struct
        # without params() of its own, its base's: the keys of overhead.TEMPLATE_PARAMS, in order.
        import re
        base_keys = None
        for struct, keys in overhead.TEMPLATE_PARAMS.items():
            family, step = struct.split("::")
            text = (REPO / "kernels" / family / f"{step}.cuh").read_text()
            m = re.search(r"template <([^>]*)>\s*struct " + step + r"\b", text)
            self.assertIsNotNone(m, f"no template line for {struct}")
            ints = [a.split()[-1] for a in m.group(1).split(",") if a.split()[0] == "int"]
            named = dict(re.findall(r'\{"(\w+)", (\w+)\}', text))  # params(): {"bn", BN}, ...
            if named:
                base_keys = [k for k, v in named.items() if v in ints]
                self.assertEqual(ints, [named[k] for k in base_keys], struct)
            self.assertEqual(tuple(base_keys), keys, struct)


class NcuRecords(unittest.TestCase):
    CSV = "\n".join([
        '==PROF== Disconnected from process 1',
        '"ID","Process ID","Kernel Name","Device Name","gpu__time_duration.sum",'
        '"l1tex__data_pipe_lsu_wavefronts_mem_shared.sum","sm__cycles_elapsed.avg.per_second"',
        '"","","","","nsecond","","cycle/second"',
        '"0","7","gemm_entry<main>","NVIDIA H200","1,000","5000","1500000000"',
        '"1","7","splitk::reduce","NVIDIA H200","10","n/a","1900000000"'])

    def test_sums_add_over_kernels_and_missing_values_stay_missing(self):
        device, kernels = overhead_ncu.parse(self.CSV)
        self.assertEqual(device, "NVIDIA H200")
        self.assertEqual(len(kernels), 2)
        self.assertNotIn("l1tex__data_pipe_lsu_wavefronts_mem_shared.sum", kernels[1]["metrics"])
        m = overhead_ncu.combine(kernels)
        self.assertEqual(m["gpu__time_duration.sum"], 1010.0)
        self.assertEqual(m["l1tex__data_pipe_lsu_wavefronts_mem_shared.sum"], 5000.0)
        self.assertEqual(m["sm__cycles_elapsed.avg.per_second"], 1.5e9)  # the longest kernel's

    def test_an_empty_profile_is_a_failed_record(self):
        with tempfile.TemporaryDirectory() as d:
            csv_path, out = Path(d) / "x.csv", Path(d) / "x.json"
            csv_path.write_text(self.CSV.split("\n")[1] + "\n")
            rc, _, _ = quiet(overhead_ncu.main, [str(csv_path), "--variant", "v", "--shape", "1x1x1",
                                                 "--out", str(out)])
            self.assertEqual(rc, 1)
            self.assertEqual(json.loads(out.read_text())["status"], "failed")


class NcuDriver(unittest.TestCase):
    """scripts/overhead_ncu.sh with a stub benchmark (its --list-json) and a stub ncu on PATH: one record per
    (variant, shape), the pairs from the registry, the time budget honoured."""

    def run_driver(self, budget: str) -> tuple:
        import os
        import subprocess
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        d = Path(tmp.name)
        (d / "build").mkdir()
        (d / "bin").mkdir()
        registry = json.dumps([REAL, TWIN, SKINNY])
        bench = d / "build" / "sparse24_bench"
        bench.write_text(f"#!/bin/sh\ncat <<'EOF'\n{registry}\nEOF\n")
        ncu = d / "bin" / "ncu"
        # --import prints a one-kernel CSV; a profiling run writes its report file.
        ncu.write_text("#!/bin/sh\ncase \"$*\" in *--import*) printf '%s\\n' "
                       "'\"ID\",\"Kernel Name\",\"l1tex__data_pipe_lsu_wavefronts_mem_shared.sum\"' "
                       "'\"\",\"\",\"\"' '\"0\",\"k\",\"42\"';; *) while [ $# -gt 0 ]; do "
                       "[ \"$1\" = -o ] && touch \"$2.ncu-rep\"; shift; done;; esac\n")
        for f in (bench, ncu):
            f.chmod(0o755)
        env = dict(os.environ, PATH=f"{d / 'bin'}:{os.environ['PATH']}", DTYPES="bf16", FILTER="overhead",
                   SHAPES="4096x16x4096,4096x2048x4096", BUDGET=budget)
        out = d / "out"
        proc = subprocess.run([str(REPO / "scripts" / "overhead_ncu.sh"), str(d / "build"), str(out)], env=env,
                              capture_output=True, text=True)
        records = {p.name: json.loads(p.read_text()) for p in out.glob("*.json")}
        return proc, records

    def test_one_record_per_variant_and_shape(self):
        proc, records = self.run_driver("600")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(len(records), 4)  # the real variant and its twin at two shapes; skinny has no twin
        rec = records[f"{TWIN['name']}@4096x16x4096.json"]
        self.assertEqual(rec["status"], "ok")
        self.assertEqual(rec["metrics"][overhead.WAVEFRONTS_TOTAL], 42.0)

    def test_a_spent_budget_records_skipped_runs(self):
        proc, records = self.run_driver("0")
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual(len(records), 4)
        self.assertTrue(all(r["status"] == "skipped" for r in records.values()))


class ShapeSetsAndFilters(unittest.TestCase):
    def test_models_is_the_four_model_sets_each_shape_once(self):
        models = shape_sets.shapes("models")
        parts = [s for n in ("llama3-8b", "llama3-70b", "mixtral-8x7b", "qwen2.5-72b") for s in shape_sets.shapes(n)]
        self.assertEqual(len(models), len(set(models)))
        self.assertEqual(set(models), set(parts))

    def registry(self):
        dense = dict(variant("dense", 5, "raster", "bf16", TILE), sparse=False)
        return [REAL, TWIN, SKINNY, dense, variant("mma_sp", 5, "raster", "fp16", TILE),
                variant("ablations", 5, "mmaconstmeta", "fp16", TILE, uniform_metadata=True)]

    def test_overhead_filter_keeps_each_twin_and_its_real_variant(self):
        names, warnings = shape_sets.named_filter(["overhead"], self.registry(), ["bf16"])
        self.assertEqual(sorted(names), sorted([REAL["name"], TWIN["name"]]))
        self.assertEqual(warnings, [])

    def test_the_skinny_twin_pairs_with_its_step_not_the_next_one(self):
        # s02_onelaunch has s01's parameters; the twin (step 1) is s01 with another metadata source.
        s01, s02 = skinny(1, "splitk", "bf16", 16, 128, 0), skinny(2, "onelaunch", "bf16", 16, 128, 0)
        i01 = skinny(1, "splitk", "int8", 16, 256, 0)
        i_twin = skinny(1, "skinnyconstmeta", "int8", 16, 256, 0, family="ablations", uniform_metadata=True)
        registry = [s02, s01, SKINNY_TWIN, skinny(1, "splitk", "bf16", 16, 128, 4), i01, i_twin]
        self.assertEqual(overhead.registry_pairs(registry, ["bf16", "int8"]),
                         [(s01["name"], SKINNY_TWIN["name"]), (i01["name"], i_twin["name"])])
        names, _ = shape_sets.named_filter(["overhead"], registry, ["bf16"])
        self.assertEqual(sorted(names), sorted([s01["name"], SKINNY_TWIN["name"]]))
        # Without s01 the rule falls back to the highest step; a twin of another metadata layout has no real one.
        self.assertEqual(overhead.registry_pairs([s02, SKINNY_TWIN], ["bf16"]), [(s02["name"], SKINNY_TWIN["name"])])
        other_layout = dict(SKINNY_TWIN, meta_layout="lane_blocks8")
        self.assertEqual(overhead.registry_pairs([s01, other_layout], ["bf16"]), [])

    def test_an_ablation_of_another_cost_is_neither_a_twin_nor_a_real_variant_nor_pickable(self):
        # ablations.s06_fp8fastaccum: reads the real metadata (uniform_metadata false), the fp8 promotion removed.
        fp8 = {"bm": 128, "bn": 256, "bk": 128, "wm": 8, "wn": 1, "stages": 5, "group": 16}
        fast = variant("ablations", 6, "fp8fastaccum", "e4m3", fp8, uniform_metadata=False,
                       meta_layout="lane_blocks8")
        fast["types"]["d"] = "bf16"
        real = dict(variant("wgmma_sp", 6, "tmastore", "e4m3", fp8, uniform_metadata=False,
                            meta_layout="lane_blocks8"), types=fast["types"])
        self.assertFalse(overhead.is_twin_variant(fast))
        self.assertTrue(overhead.is_twin_variant(TWIN))
        self.assertTrue(overhead.is_twin_variant({"family": "ablations"}))  # fields from before uniform_metadata
        self.assertEqual(overhead.registry_pairs([real, fast], ["e4m3"]), [])
        # a constant-metadata twin of the same parameters pairs with the real variant, never with the ablation
        twin = dict(fast, uniform_metadata=True, name="twin")
        self.assertEqual(overhead.registry_pairs([fast, twin, real], ["e4m3"]), [(real["name"], "twin")])
        import make_dispatch_table  # the table's rule (kernels/dispatch.cpp's pickable_type)
        self.assertTrue(make_dispatch_table.pickable(real, "e4m3"))
        self.assertFalse(make_dispatch_table.pickable(fast, "e4m3"))

    def test_the_table_takes_the_median_ratio_to_cublas_not_the_lowest_time(self):
        import make_dispatch_table
        # Run 1's clocks were high (cuBLAS 100 us): X's 60 us is the lowest time of all. In run 2 (cuBLAS 110 us) Y
        # beat X by more than X beat Y in run 1: Y's median ratio to cuBLAS is the lower one.
        per_kernel = {"X": [(60.0, "r1", "run 1"), (70.0, "r2", "run 2")],
                      "Y": [(62.0, "r1", "run 1"), (64.0, "r2", "run 2")]}
        kernel, us, src, med, n = make_dispatch_table.fastest_by_median_ratio(per_kernel, {"r1": 100.0, "r2": 110.0})
        self.assertEqual((kernel, n), ("Y", 2))
        self.assertAlmostEqual(med, (0.62 + 64.0 / 110.0) / 2)
        # A run without a cuBLAS row does not count; no cuBLAS row at all leaves the choice to the caller.
        self.assertEqual(make_dispatch_table.fastest_by_median_ratio(per_kernel, {"r1": 100.0})[0], "X")
        self.assertIsNone(make_dispatch_table.fastest_by_median_ratio(per_kernel, {}))

    def test_a_rows_near_ties_are_the_variants_within_ten_percent_nearest_first(self):
        import make_dispatch_table
        cublas = {"r1": 100.0}
        per_kernel = {"A": [(50.0, "r1", "")], "B": [(54.0, "r1", "")], "C": [(52.0, "r1", "")],
                      "D": [(55.1, "r1", "")], "E": [(55.0, "r1", "")], "F": [(53.0, "r2", "")]}
        # B, C, E are within 10% of A's 0.50 (E at exactly 1.10x); D is not; F has no run with a cuBLAS row.
        self.assertEqual(make_dispatch_table.near_ties(per_kernel, cublas, "A"), ["C", "B", "E"])
        self.assertEqual(make_dispatch_table.MAX_TIES, 3)
        per_kernel["G"] = [(51.0, "r1", "")]  # a fourth tie: the farthest is dropped
        self.assertEqual(make_dispatch_table.near_ties(per_kernel, cublas, "A"), ["G", "C", "B"])
        self.assertEqual(make_dispatch_table.near_ties(per_kernel, cublas, "F"), [])

    def test_leaders_at_the_same_n_that_a_rows_runs_never_timed_join_its_ties(self):
        import make_dispatch_table as mdt
        tall = {"bm": 192, "bn": 200, "bk": 64, "wm": 12, "wn": 1, "stages": 5, "group": 8}
        fields = dict(meta_layout="lane_blocks16", uniform_metadata=False, shape_rule={
            "m_multiple": 32, "n_multiple": 1, "k_multiple": 64, "n_min": 1, "n_max": 0},
            arch={"min_sm": 90, "max_sm": 90})
        s13 = {t: variant("wgmma_sp", 13, "tall", t, dict(tall, split_k=0), **fields) for t in ("fp16", "bf16")}
        s13k3 = variant("wgmma_sp", 13, "tall", "fp16", dict(tall, split_k=3), **fields)  # fp16 only
        s08 = {t: variant("wgmma_sp", 8, "splitk", t, TILE, **fields) for t in ("fp16", "bf16")}
        s11 = variant("wgmma_sp", 11, "narrow", "bf16", TILE, **fields)
        odd = variant("wgmma_sp", 3, "inflight", "bf16", TILE, **dict(fields, shape_rule=dict(
            fields["shape_rule"], k_multiple=4096)))  # leads elsewhere, but its rule refuses K = 29568
        reg = {v["name"]: v for v in [*s13.values(), s13k3, *s08.values(), s11, odd]}
        self.assertEqual(mdt.twin_in(reg, s13["fp16"]["name"], "bf16"), s13["bf16"]["name"])
        self.assertIsNone(mdt.twin_in(reg, s13k3["name"], "bf16"))
        bf16, fp16 = ("gpu", "bf16", 8192, 200, 29568), ("gpu", "fp16", 8192, 200, 29568)
        near, far = ("gpu", "bf16", 6144, 200, 29568), ("gpu", "bf16", 4096, 200, 4096)
        leaders = {bf16: [s08["bf16"]["name"]],
                   fp16: [s13k3["name"], s13["fp16"]["name"]],  # fp16's fastest has no bf16 twin; its tie has
                   far: [odd["name"], s08["bf16"]["name"]], near: [s11["name"]],
                   ("gpu", "bf16", 8192, 64, 29568): [s11["name"]],   # another N: never
                   ("other-gpu", "bf16", 8192, 200, 29568): [s11["name"]]}
        timed = {s08["bf16"]["name"]: []}
        got = mdt.untimed_leaders(reg, bf16, leaders, timed, 90)
        self.assertEqual(got, [(s13["bf16"]["name"], "fp16 at this shape"), (s11["name"], "bf16 6144x200x29568")])
        # Timed here already: the reports judged it (a near tie, or slower); the next nearest comes in.
        timed[s13["bf16"]["name"]] = []
        self.assertEqual([n for n, _ in mdt.untimed_leaders(reg, bf16, leaders, timed, 90)], [s11["name"]])
        self.assertEqual(mdt.MAX_UNTIMED, 2)
        # A type without a sibling reads only its own.
        self.assertEqual(mdt.untimed_leaders(reg, ("gpu", "int8", 8192, 200, 29568), leaders, {}, 90), [])

    def test_table_kernels_are_each_rows_variant_and_ties_at_the_shapes_asked(self):
        table = ('{"gpu-a", 90, DType::bf16, 4096, 64, 4096, "B C gone", "A"},  // 1 us\n'
                 '{"gpu-a", 90, DType::bf16, 4096, 128, 4096, "", "D"},  // 1 us\n'
                 '{"gpu-b", 90, DType::bf16, 4096, 64, 4096, "E", "F"},  // another GPU\n'
                 '{"gpu-a", 90, DType::fp16, 4096, 64, 4096, "G", "H"},  // another type\n')
        registry = [{"name": n} for n in "ABCDEFGH"]
        names, missing = shape_sets.table_kernels(registry, "gpu-a", ["bf16"], ["4096x64x4096", "4096x32x4096"],
                                                  table)
        self.assertEqual(names, ["A", "B", "C"])  # "gone": not in this registry
        self.assertEqual(missing, [("bf16", 4096, 32, 4096)])

    def test_superseded_rows_are_read_per_run_folder_and_variant(self):
        import make_dispatch_table
        with tempfile.TemporaryDirectory() as d:
            f = Path(d) / "superseded.txt"
            f.write_text("# a comment\n\ngpu-x/run_1 ^fam\\.s21_ why it changed\n")
            (folder, rx), = make_dispatch_table.load_superseded(f)
            self.assertEqual(folder, (make_dispatch_table.ROOT / "results" / "gpu-x" / "run_1").resolve())
            self.assertTrue(rx.search("fam.s21_widebox.fp16"))
            self.assertFalse(rx.search("fam.s16_pdl.fp16"))
            self.assertEqual(make_dispatch_table.load_superseded(Path(d) / "absent.txt"), [])

    def test_the_overhead_set_holds_the_skinny_twins_decode_shapes(self):
        shapes = shape_sets.shapes("overhead")
        for dtype, bk in (("bf16", 128), ("int8", 256)):
            twin = skinny(1, "skinnyconstmeta", dtype, 16, bk, 0, family="ablations",
                          shape_rule={"m_multiple": 32, "n_multiple": 1, "k_multiple": bk, "n_min": 1, "n_max": 16},
                          arch={"min_sm": 90, "max_sm": 90})
            accepted = [s for s in shapes if shape_sets.accepts(twin, s, 90)]
            self.assertEqual(accepted, [(28672, 16, 8192), (8192, 16, 28672), (4096, 16, 14336)], dtype)

    def test_best_filter_selects_by_fields_and_reports_unmatched_selectors(self):
        names, warnings = shape_sets.named_filter(["best"], self.registry(), ["bf16"])
        self.assertIn(REAL["name"], names)
        self.assertIn(SKINNY["name"], names)
        self.assertNotIn(TWIN["name"], names)
        self.assertTrue(any("wgmma_sp" in w for w in warnings))  # this registry has no wgmma_sp variant

    def test_unknown_filter_is_refused(self):
        rc, _, err = quiet(shape_sets.main, ["--filter", "fastest", "bf16"])
        self.assertEqual(rc, 1)
        self.assertIn("unknown filter fastest", err)


class TheBuiltRegistry(unittest.TestCase):
    """With SPARSE24_BENCH (the CTest entry sets it): the named filters and the twins against this build's
    registry, so that a renamed or removed variant shows here, not as an empty sweep on the GPU."""

    def registry(self):
        import os
        import subprocess
        bench = os.environ.get("SPARSE24_BENCH")
        if not bench:
            self.skipTest("SPARSE24_BENCH (a sparse24_bench to read --list-json from) is not set")
        return json.loads(subprocess.run([bench, "--list-json"], capture_output=True, text=True, check=True).stdout)

    def test_every_best_selector_matches_a_16_bit_variant(self):
        _, warnings = shape_sets.named_filter(["best"], self.registry(), ["fp16", "bf16"])
        self.assertEqual(warnings, [])

    def test_every_twin_has_its_real_variant(self):
        registry = self.registry()
        twins = [v for v in registry if overhead.is_twin_variant(v)]  # not s06_fp8fastaccum: no metadata twin
        self.assertTrue(all(v["family"] == "ablations" for v in twins))
        dtypes = sorted({v["types"]["a"] for v in twins})
        pairs = overhead.registry_pairs(registry, dtypes)
        self.assertEqual(sorted(t for _, t in pairs), sorted(v["name"] for v in twins))
        family = {v["name"]: v["family"] for v in registry}
        self.assertTrue(all(family[real] != "ablations" for real, _ in pairs))

    def test_every_twin_runs_on_a_shape_of_the_overhead_set(self):
        shapes = shape_sets.shapes("overhead")
        for v in self.registry():
            if v["family"] == "ablations":
                sm = v["arch"]["min_sm"]
                self.assertTrue(any(shape_sets.accepts(v, s, sm) for s in shapes), v["name"])


class SweepFolderOnTheFrontPage(SweepCase):
    def test_readme_reads_the_sweep_and_links_the_overhead_table(self):
        (self.results / GPU_DIR / "overhead.md").write_text("# table\n")
        rc, _, _ = quiet(mr.main, ["--results", str(self.results)])
        self.assertEqual(rc, 0)
        text = (self.results / "README.md").read_text()
        self.assertIn("sweep-models_abc1234", text)
        self.assertIn(f"({GPU_DIR}/overhead.md)", text)
        best = next(l for l in text.splitlines() if l.startswith("| 4096 x 2048 x 4096 |"))
        self.assertIn(REAL["name"], best)  # the twin is faster but is an ablation: never "best"
        self.assertNotIn(TWIN["name"], best)

    def test_compact_table_of_the_sweep_folder(self):
        rc, out, _ = quiet(mr.main, ["--compact", str(self.run)])
        self.assertEqual(rc, 0)
        self.assertIn("auto:", out)

    def test_plots_of_the_sweep_folder(self):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            self.skipTest("matplotlib is not installed")
        import plots
        rc, out, _ = quiet(plots.main, [str(self.run)])
        self.assertEqual(rc, 0)
        written = sorted(p.name for p in self.run.glob("*.png"))
        self.assertIn("rows_tflops_vs_n_bf16.png", written)
        rc, _, _ = quiet(overhead.main, ["--results", str(self.results)])
        self.assertEqual(rc, 0)
        self.assertTrue((self.results / GPU_DIR / "overhead.png").is_file())
        self.assertIn("![metadata overhead](overhead.png)", (self.results / GPU_DIR / "overhead.md").read_text())


class ResultsStoredGzipped(SweepCase):
    """scripts/results_files.py: text over 20 KiB is stored as NAME.gz, and every reader finds it by NAME."""

    def test_the_rule(self):
        big = rf.MAX_PLAIN_BYTES + 1
        self.assertTrue(rf.stored_gzipped(Path("a/bench.json"), big))
        self.assertFalse(rf.stored_gzipped(Path("a/bench.json"), rf.MAX_PLAIN_BYTES))
        self.assertFalse(rf.stored_gzipped(Path("a/command.txt"), big))   # read on the page
        self.assertFalse(rf.stored_gzipped(Path("a/NOTES.md"), big))
        self.assertFalse(rf.stored_gzipped(Path("a/plot.png"), big))      # not text

    def test_compress_check_and_read_back(self):
        rows = self.run / "rows.jsonl"
        with rows.open("a") as f:  # grow the sweep's rows past the limit with a padding row
            f.write(json.dumps({"pad": "x" * (rf.MAX_PLAIN_BYTES + 1)}) + "\n")
        text = rows.read_text()
        small = self.run / "command.txt"
        small.write_text("y" * (rf.MAX_PLAIN_BYTES + 1))
        rc, out, _ = quiet(rf.main, ["--check", str(self.results)])
        self.assertEqual(rc, 1)
        self.assertIn("rows.jsonl", out)
        self.assertNotIn("command.txt", out)
        self.assertEqual(quiet(rf.main, [str(self.results)])[0], 0)
        gz = self.run / "rows.jsonl.gz"
        self.assertFalse(rows.exists())
        self.assertTrue(gz.is_file())
        self.assertTrue(small.is_file())
        self.assertEqual(quiet(rf.main, ["--check", str(self.results)])[0], 0)
        self.assertEqual(rf.read_text(rows), text)          # by its logical name
        self.assertEqual(rf.read_text(gz), text)            # by its stored name
        self.assertEqual(rf.stored(rows), gz)
        self.assertEqual(rf.logical(gz), rows)
        self.assertEqual(rf.gzip_bytes(text.encode()), gz.read_bytes())  # the same text, the same bytes
        self.assertEqual([p.name for p in rf.glob(self.run, "*.jsonl")], ["rows.jsonl.gz"])

    def test_a_plain_file_beside_its_gz_is_flagged_and_wins(self):
        (self.run / "rows.jsonl.gz").write_bytes(rf.gzip_bytes(b"old\n"))
        self.assertEqual([p.name for p in rf.glob(self.run, "rows.jsonl")], ["rows.jsonl"])
        rc, out, _ = quiet(rf.main, ["--check", str(self.results)])
        self.assertEqual(rc, 1)
        self.assertIn("both rows.jsonl and rows.jsonl.gz", out)
        text = (self.run / "rows.jsonl").read_text()
        quiet(rf.main, [str(self.results)])
        self.assertEqual(rf.read_text(self.run / "rows.jsonl"), text)

    def test_the_front_page_reads_a_gzipped_sweep_the_same(self):
        quiet(mr.main, ["--results", str(self.results)])
        before = (self.results / "README.md").read_text()
        for p in list(self.run.glob("*.json*")):
            (p.with_name(p.name + ".gz")).write_bytes(rf.gzip_bytes(p.read_bytes()))
            p.unlink()
        quiet(mr.main, ["--results", str(self.results)])
        after = (self.results / "README.md").read_text()
        # The same page, but that the links (and the Files row) name the stored files.
        self.assertEqual(after.replace(".gz", ""), before)
        self.assertIn("rows.jsonl.gz)", after)


class AutoAgainstTheFastestVariant(unittest.TestCase):
    """scripts/auto_check.py: auto's time over the fastest variant pick() could have run, in the same report."""

    def test_ratios_bounds_and_what_is_left_out(self):
        a = variant("wgmma_sp", 3, "inflight", "bf16", TILE, meta_layout="lane_blocks16", uniform_metadata=False)
        b = variant("wgmma_sp", 4, "multicast", "bf16", TILE, meta_layout="lane_blocks16", uniform_metadata=False)
        twin = dict(TWIN, meta_layout="lane_blocks16")  # faster, but an ablation: never a candidate
        scaled = dict(b, name=b["name"] + ".scaled", has_scales=True)  # faster, but not the type's default
        rows = [row("auto.bf16", 4096, 64, 4096, 40.0, a, kind="auto"), row(a["name"], 4096, 64, 4096, 40.0, a),
                row(b["name"], 4096, 64, 4096, 38.0, b), row(twin["name"], 4096, 64, 4096, 30.0, twin),
                row(scaled["name"], 4096, 64, 4096, 20.0, scaled),
                row("auto.bf16", 4096, 128, 4096, 50.0, b, kind="auto"), row(b["name"], 4096, 128, 4096, 50.0, b),
                row(a["name"], 4096, 128, 4096, 45.0, a, status="failed"),   # not passed: not a candidate
                row("auto.bf16", 4096, 256, 4096, 60.0, b, kind="auto")]     # nothing beside it
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "run" / "band.json.gz"  # stored gzipped, as a committed report
            path.parent.mkdir()
            path.write_bytes(rf.gzip_bytes(json.dumps({"format": "sparse24-report-1", "context": CONTEXT,
                                                       "rows": rows}).encode()))
            rc, out, _ = quiet(auto_check.main, ["--cells", str(path.parent)])
        self.assertEqual(rc, 0)
        self.assertIn("run/band.json: 2 cells; within 3%: 1, within 10%: 2; worst bf16 4096x64x4096 1.053; "
                      "1 with no variant timed beside auto", out)
        self.assertIn(f"bf16 4096x128x4096: auto 50.00 us ({b['name']}), fastest 50.00 us ({b['name']}): 1.000", out)
        self.assertIn("all: 2 cells; within 3%: 1, within 10%: 2", out)


if __name__ == "__main__":
    unittest.main()
