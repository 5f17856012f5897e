#!/usr/bin/env python3
"""Markdown table of the GEMM shapes in one or more `ntng bench train` JSON reports (the median per
shape over the reports): M×K×N, which operand is read transposed, calls per step, milliseconds per
step, GFLOP/s and the share of the machine's large GEMM (each report's share is the median over its
steps of the shape's rate against the large GEMM scaled to that step's moment, so it need not equal
GFLOP/s over the large GEMM's median). Not needed by the tests.
    ntng bench train [--model t5-tiny] > a.json; …; python3 scripts/gemm_table.py a.json b.json …
"""
import json
import statistics
import sys

if len(sys.argv) < 2:
    sys.exit("usage: gemm_table.py report.json [report.json …]")
reports = []
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            reports.append(json.load(f))
    except (OSError, ValueError) as e:
        sys.exit(f"gemm_table: cannot read {path}: {e}")
    if "gemm_shapes" not in reports[-1]:
        sys.exit(f"gemm_table: {path} is not an `ntng bench train` report with gemm_shapes")
rows = {}
for r in reports:
    for s in r["gemm_shapes"]:
        key = (s["m"], s["k"], s["n"], s["batch"], s["trans_a"], s["trans_b"], s["calls_per_step"])
        rows.setdefault(key, []).append(s)
med = lambda xs: statistics.median(xs)
peak = med([r["machine_peak"]["gflops"] for r in reports])
print(f"{len(reports)} report(s); large GEMM {peak:.1f} GFLOP/s (median); tokens/s "
      + " / ".join(str(round(r["tokens_per_second"])) for r in reports)
      + "; share of peak " + " / ".join(str(r["share_of_peak"]) for r in reports) + "\n")
print("| M×K×N | op | calls/step | ms/step | GFLOP/s | share of large GEMM |")
print("|---|---|---|---|---|---|")
table = sorted(rows.items(), key=lambda kv: -med([s["milliseconds_per_step"] for s in kv[1]]))
for (m, k, n, b, ta, tb, calls), ss in table:
    op = ("Aᵀ" if ta else "A") + "·" + ("Bᵀ" if tb else "B") + (f" ×{b}" if b > 1 else "")
    print(f"| {m}×{k}×{n} | {op} | {calls:g} | {med([s['milliseconds_per_step'] for s in ss]):.2f} "
          f"| {med([s['gflops'] for s in ss]):.1f} | {med([s['share_of_large_gemm'] for s in ss]):.3f} |")
