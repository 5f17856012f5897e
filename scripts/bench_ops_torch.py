#!/usr/bin/env python3
"""PyTorch counterpart of `ntng bench ops` (same shapes), printing JSON. For comparisons on the
same machine; not needed by the tests.
    /tmp/torchvenv/bin/python scripts/bench_ops_torch.py
"""
import json
import statistics
import time

import torch
import torch.nn.functional as F


def median_time(fn, repeats=10):
    fn()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


torch.manual_seed(0)
report = {"benchmark": "ops (PyTorch)", "torch": torch.__version__, "threads": torch.get_num_threads(), "gemm": [],
          "elementwise": []}
with torch.no_grad():
    for m, k, n in [(4096, 256, 768), (4096, 256, 1024), (4096, 1024, 256)]:
        x, w = torch.rand(m, k) * 2 - 1, torch.rand(n, k) * 2 - 1
        t = median_time(lambda: F.linear(x, w))
        report["gemm"].append({"m": m, "k": k, "n": n, "gflops": round(2 * m * n * k / t / 1e9, 1)})
    n = 16 << 20
    a, b = torch.rand(n) * 6 - 3, torch.rand(n) * 6 - 3
    for name, fn in [("add (c = a + b)", lambda: a + b), ("scale (b = 2a)", lambda: a * 2),
                     ("gelu (erf)", lambda: F.gelu(a)), ("gelu (tanh)", lambda: F.gelu(a, approximate="tanh"))]:
        report["elementwise"].append({"name": name, "melem_per_second": round(n / median_time(fn) / 1e6, 1)})

B, H, S, D = 32, 4, 128, 64
qkv = (torch.rand(B, S, 3 * H * D) * 2 - 1).requires_grad_(True)
up = torch.rand(B, S, H * D) * 2 - 1


def attn():
    q, k, v = qkv.view(B, S, 3, H, D).permute(2, 0, 3, 1, 4)
    return F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, S, H * D)


with torch.no_grad():
    fwd = median_time(attn)


def fwd_bwd():
    (attn() * up).sum().backward()


both = median_time(fwd_bwd)
report["attention"] = {"batch": B, "heads": H, "sequence": S, "head_dim": D,
                       "forward_milliseconds": round(fwd * 1e3, 2), "forward_backward_milliseconds": round(both * 1e3, 2)}
print(json.dumps(report, indent=2))
