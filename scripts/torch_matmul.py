#!/usr/bin/env python3
"""What cuBLAS reaches through PyTorch on this GPU, for comparison with the harness's cuBLAS row (issue: the dense
peer must be as strong as what a user gets). Times y = x @ w.T (w: M x K, x: N x K, the harness's layout) in bf16
or fp16 with CUDA events, two ways: back-to-back launches (warm L2, as PyTorch users and docs/anchors.md measure
with graph replay), and with L2 flushed before each launch (a 2 x L2 read, as the harness times its rows).

    python3 scripts/torch_matmul.py 8192x8192x8192 [--dtype bf16] [--reps 50]

Prints one line per mode: median us and dense-equivalent TFLOP/s. Needs PyTorch with CUDA.
"""
import argparse
import statistics

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shape")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    ap.add_argument("--reps", type=int, default=50)
    a = ap.parse_args()
    M, N, K = map(int, a.shape.split("x"))
    dt = torch.bfloat16 if a.dtype == "bf16" else torch.float16
    g = torch.Generator(device="cuda").manual_seed(0)
    w = torch.randn(M, K, device="cuda", dtype=dt, generator=g)
    x = torch.randn(N, K, device="cuda", dtype=dt, generator=g)
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    flush = torch.empty(2 * l2 // 4, device="cuda", dtype=torch.float32)
    for _ in range(5):
        y = x @ w.T
    torch.cuda.synchronize()
    for mode in ("warm", "l2-flushed"):
        times = []
        for _ in range(a.reps):
            if mode == "l2-flushed":
                flush.sum()
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            y = x @ w.T
            e.record()
            e.synchronize()
            times.append(s.elapsed_time(e) * 1e3)
        us = statistics.median(times)
        print(f"torch {torch.__version__} {a.dtype} {a.shape} {mode}: {us:.1f} us, {2 * M * N * K / us / 1e6:.1f} TFLOP/s")
    del y


if __name__ == "__main__":
    main()
