#!/usr/bin/env python3
"""Checks ntng's TensorBoard event files with the `tensorboard` package itself (not required by the tests).

For each run folder: reads <run>/tb with TensorBoard's EventAccumulator and compares every scalar with
the run's metrics.jsonl (values as float32, steps, wall times, the rst/ axis in RST milliseconds, the
config text); then starts a real `tensorboard` server on the runs' parent folder and asks its HTTP API
for each run's curves, as a browser would.

    python3 -m venv /tmp/tbvenv && /tmp/tbvenv/bin/pip install tensorboard
    /tmp/tbvenv/bin/python scripts/check_tensorboard.py runs/demo [runs/demo-stacking ...]
"""
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def expected_scalars(line):
    """The tags ntng writes for a log line (TensorBoardLog.scalars), with their values."""
    event = line["event"]
    if event == "train":
        s = {
            "train/loss": line["loss"], "train/lr": line["lr"], "train/grad_norm": line["grad_norm"],
            "train/tokens_per_second": line["tokens_per_second"], "train/tokens": line["tokens"],
            "train/active_blocks": line["active_blocks"], "budget/rst_seconds": line["rst_seconds"],
            "budget/progress": line["progress"],
        }
        for kind, entry in line["ledger"].items():
            s[f"ledger/{kind}_rst_seconds"] = entry["charged_rst_seconds"]
        for plugin, fields in line["plugins"].items():
            for k, v in fields.items():
                if isinstance(v, (int, float)):
                    s[f"{plugin}/{k}"] = float(v)
        return s
    if event == "validation":
        return {"validation/loss": line["loss"], "validation/accuracy": line["accuracy"]}
    if event == "nonfinite":
        return {"nonfinite/consecutive_dropped_steps": line["consecutive"]}
    if event in ("start", "checkpoint", "end"):
        return {}
    return {f"{event}/{k}": float(v) for k, v in line.items()
            if k not in ("event", "step", "rst_seconds", "time") and isinstance(v, (int, float))}


def check_run(run):
    lines = [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl")) if l.strip()]
    acc = EventAccumulator(os.path.join(run, "tb"), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    tags = acc.Tags()
    got = {tag: {e.step: (e.value, e.wall_time) for e in acc.Scalars(tag)} for tag in tags["scalars"]}
    checked = 0
    for line in lines:
        for tag, value in expected_scalars(line).items():
            for name, step in ((tag, line["step"]), ("rst/" + tag, round(line["rst_seconds"] * 1000))):
                v, wall = got[name][step]
                assert v == f32(value), f"{run}: {name} at {step}: {v} != {value}"
                assert abs(wall - line["time"]) < 1e-6, f"{run}: {name} at {step}: wall {wall} != {line['time']}"
                checked += 1
    points = sum(len(v) for v in got.values())
    assert points == checked, f"{run}: {points} points in TensorBoard, {checked} expected from metrics.jsonl"
    assert "config" in tags["tensors"], f"{run}: no config text ({tags['tensors']})"
    text = acc.Tensors("config")[0].tensor_proto.string_val[0].decode()
    assert '"model"' in text, f"{run}: the config text has no model"
    print(f"{run}: {len(tags['scalars'])} tags, {points} points, all equal to metrics.jsonl; config text "
          f"{len(text)} characters")
    return {tag: len(v) for tag, v in got.items()}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_server(runs, counts):
    """A real TensorBoard server (its Rust data server, as `tensorboard` runs by default) on the runs."""
    logdir = os.path.commonpath([os.path.abspath(r) for r in runs])
    if len(runs) == 1:
        logdir = os.path.dirname(logdir)
    port = free_port()
    exe = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    server = subprocess.Popen([exe, "--logdir", logdir, "--port", str(port), "--host",
                               "127.0.0.1", "--load_fast=true"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                known = json.load(urllib.request.urlopen(base + "/data/runs"))
                names = {os.path.relpath(os.path.join(os.path.abspath(r), "tb"), logdir) for r in runs}
                if names <= set(known):
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit(f"tensorboard did not list the runs: {server.stderr.read1().decode()[-2000:]}")
        for run in runs:
            name = os.path.relpath(os.path.join(os.path.abspath(run), "tb"), logdir)
            for tag in ("train/loss", "validation/loss", "rst/validation/loss"):
                url = f"{base}/data/plugin/scalars/scalars?run={urllib.parse.quote(name)}&tag={urllib.parse.quote(tag)}"
                data = json.load(urllib.request.urlopen(url))
                assert len(data) == counts[run][tag], f"{name} {tag}: server {len(data)}, file {counts[run][tag]}"
            url = f"{base}/data/plugin/text/text?run={urllib.parse.quote(name)}&tag=config"
            text = json.load(urllib.request.urlopen(url))
            assert text and "model" in text[0]["text"], f"{name}: no config text from the server"
            print(f"tensorboard server: run {name}: train/loss, validation/loss, rst/validation/loss and the "
                  "config text served")
    finally:
        server.terminate()
        server.wait()


def main():
    runs = [r.rstrip("/") for r in sys.argv[1:]] or ["runs/demo"]
    counts = {run: check_run(run) for run in runs}
    check_server(runs, counts)
    print("ok")


if __name__ == "__main__":
    main()
