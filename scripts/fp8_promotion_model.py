#!/usr/bin/env python3
# A CPU model of the fp8 wgmma's 14-bit accumulation with promotion every P k-tiles: the precision argument of
# kernels/wgmma_sp/s12_lazypromote.cuh, and the table in results/NOTES.md ("Session 10: wgmma_sp.s12 (prediction)").
#   python3 scripts/fp8_promotion_model.py 4096 16384     (K values; about 5 s; numpy; seed fixed: same output)
# It models docs/sparse-tensor-cores.md §9's reading of the instruction, not a measurement of it.
# The model: the fp8 wgmma's 14-bit accumulation (docs §9's reading): per instruction, the incoming accumulator and the
# instruction's products are aligned to the largest exponent and truncated (toward zero) to 14 significant bits,
# then summed exactly. Promotion every P k-tiles (2 sparse k64 instructions of 32 nonzero products per k-tile) into
# an exact-ish f32 sum. Inputs: N(0,1) rounded to e4m3. Outputs: bf16 RN. Error measured against the harness's
# element bound u_bf16 |ref| + 6 K u32 S and the Frobenius bound 2 u_bf16 + K u32.
import numpy as np, sys
rng = np.random.default_rng(1)
def to_e4m3(x):
    x = np.clip(x, -448, 448)
    m, e = np.frexp(x)            # x = m 2^e, 0.5 <= |m| < 1
    e = np.maximum(e, -5)         # subnormals: 2^-9 spacing
    q = np.ldexp(np.round(np.ldexp(m, 4)), -4)   # 3 mantissa bits + implicit: 4 significant bits
    return np.ldexp(q, e).astype(np.float64)
def trunc14(terms):
    # terms: (..., n) ; align to the largest exponent per row, keep 14 significant bits (truncate toward zero)
    mx = np.max(np.abs(terms), axis=-1, keepdims=True)
    _, e = np.frexp(np.where(mx > 0, mx, 1.0))
    ulp = np.ldexp(1.0, e - 14)   # mx in [2^(e-1), 2^e): 14 bits -> ulp 2^(e-14)
    return np.sum(np.trunc(terms / ulp) * ulp, axis=-1)
def bf16(x):
    x32 = x.astype(np.float32)
    b = x32.view(np.uint32).astype(np.uint64)
    b = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16
    return b.astype(np.uint32).view(np.float32).astype(np.float64)
def run(K, P, outs=1024):
    n = K // 2          # nonzero products per output
    a = to_e4m3(rng.standard_normal((outs, n)))
    b = to_e4m3(rng.standard_normal((outs, n)))
    prod = a * b        # exact (4 x 4 bits)
    ref = prod.sum(axis=1)
    S = np.abs(prod).sum(axis=1)
    per_instr = 32
    instrs = prod.reshape(outs, n // per_instr, per_instr)
    per_prom = 2 * P if P else n // per_instr
    acc32 = np.zeros(outs, dtype=np.float32)
    for g in range(0, n // per_instr, per_prom):
        part = np.zeros(outs)
        for i in range(g, min(g + per_prom, n // per_instr)):
            terms = np.concatenate([part[:, None], instrs[:, i, :]], axis=1)
            part = trunc14(terms)
        acc32 = (acc32 + part.astype(np.float32)).astype(np.float32)
    d = bf16(acc32.astype(np.float64))
    u = 2.0 ** -8
    elem_bound = u * np.abs(ref) + 6 * K * 2.0 ** -24 * S
    ratio = np.abs(d - ref) / elem_bound
    rel_acc = np.sqrt(np.sum((acc32 - ref) ** 2) / np.sum(ref ** 2))
    rel = np.sqrt(np.sum((d - ref) ** 2) / np.sum(ref ** 2))
    return ratio.max(), rel_acc, rel, 2 * u + K * 2.0 ** -24
for K in [int(k) for k in sys.argv[1:]]:
    for P in [1, 2, 4, 8, 0]:
        r = run(K, P)
        print(f"K={K:6d} P={'all' if P == 0 else P:>3}: max elem err/bound {r[0]:.3f}  "
              f"accumulator rel err {r[1]:.2e}  D rel err {r[2]:.2e} (bound {r[3]:.2e})")
