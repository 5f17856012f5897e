#!/usr/bin/env python3
"""Interleaved rounds of `ntng bench <train|finetune>` against the same step in PyTorch, eager and
torch.compile, on this machine; prints each round's tokens/s and the medians, and the ratio of
ntng's median to the better of PyTorch's two medians (issue targets: BERT ≥ 1.3×, T5 ≥ 1.2×,
fine-tuning ≥ 1.2×). Not needed by the tests.
    /tmp/torchvenv/bin/python scripts/compare_torch.py bert|t5|finetune [--rounds 5] [--steps 10]
        [--ntng .build/release/ntng] [--no-compile]
The PyTorch side runs with this interpreter (torch 2.13.0+cpu: pip install torch==2.13.0+cpu).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = {
    "bert": (["bench", "train"], "bench_train_torch.py"),
    "t5": (["bench", "train", "--model", "t5-tiny"], "bench_train_t5_torch.py"),
    "finetune": (["bench", "finetune"], "bench_finetune_torch.py"),
}

p = argparse.ArgumentParser()
p.add_argument("model", choices=sorted(MODELS))
p.add_argument("--rounds", type=int, default=5)
p.add_argument("--steps", type=int, default=10)
p.add_argument("--ntng", default=os.path.join(HERE, "..", ".build", "release", "ntng"))
p.add_argument("--no-compile", action="store_true", help="skip torch.compile (eager only)")
args = p.parse_args()
if not os.access(args.ntng, os.X_OK):
    sys.exit(f"compare_torch: no ntng binary at {args.ntng} (swift build -c release --product ntng)")


def run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        sys.exit(f"compare_torch: `{' '.join(cmd)}` failed (exit {done.returncode}): {last}")
    try:
        return json.loads(done.stdout)
    except ValueError:
        sys.exit(f"compare_torch: `{' '.join(cmd)}` did not print a JSON report")


ntng_cmd, script = MODELS[args.model]
sides = {
    "ntng": [args.ntng, *ntng_cmd, "--steps", str(args.steps)],
    "torch_eager": [sys.executable, os.path.join(HERE, script), "--steps", str(args.steps)],
}
if not args.no_compile:
    sides["torch_compile"] = sides["torch_eager"] + ["--compile"]
rates = {name: [] for name in sides}
machine = None
for r in range(args.rounds):
    line = []
    for name, cmd in sides.items():
        report = run(cmd)
        machine = machine or report.get("machine")
        rates[name].append(report["tokens_per_second"])
        line.append(f"{name} {report['tokens_per_second']:.0f}")
    print(f"round {r + 1}/{args.rounds}: " + ", ".join(line), file=sys.stderr, flush=True)
medians = {name: statistics.median(v) for name, v in rates.items()}
best_torch = max(v for k, v in medians.items() if k != "ntng")
print(json.dumps({
    "model": args.model, "rounds": args.rounds, "steps": args.steps,
    "date": time.strftime("%Y-%m-%d"), "cpu": platform.processor() or platform.machine(),
    "ntng_machine": machine, "tokens_per_second": rates, "medians": medians,
    "ntng_over_best_torch": round(medians["ntng"] / best_torch, 3),
}, indent=1))
