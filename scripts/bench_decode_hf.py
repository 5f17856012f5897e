#!/usr/bin/env python3
"""Greedy-decoding speed of ntng against Hugging Face `generate` on the same T5 with the same weights.

Runs `ntng bench decode --save DIR` (a tiny T5 whose blocks share block 0's relative-bias table, a batch
of random sources, every sequence generating max_length − 1 tokens), loads DIR/model.safetensors into
`transformers`' T5ForConditionalGeneration, times `generate(num_beams=1, do_sample=False,
use_cache=True)` on the same sources, checks that both produced the same tokens, and prints JSON with
both tokens/s and their ratio. Not needed by the tests.

    python3 -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install torch==2.13.0+cpu transformers==4.46.3 safetensors
    /tmp/torchvenv/bin/python scripts/bench_decode_hf.py [--ntng .build/release/ntng] [--batch 16]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import torch
from safetensors import safe_open
from transformers import T5Config, T5ForConditionalGeneration


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ntng", default=".build/release/ntng")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--source-length", type=int, default=256)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [args.ntng, "bench", "decode", "--batch-size", str(args.batch), "--source-length",
             str(args.source_length), "--max-length", str(args.max_length), "--repeats", str(args.repeats),
             "--save", folder], check=True, capture_output=True, text=True).stdout
        ntng = json.loads(out)
        with safe_open(os.path.join(folder, "model.safetensors"), "pt") as f:
            shape = json.loads(f.metadata()["ntng_model_config"])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        with open(os.path.join(folder, "decode.json")) as f:
            decode = json.load(f)

    config = T5Config(
        vocab_size=shape["vocabulary_size"], d_model=shape["hidden"], d_kv=shape["head_dim"],
        d_ff=shape["feed_forward"], num_layers=shape["layers"], num_decoder_layers=shape["layers"],
        num_heads=shape["heads"], relative_attention_num_buckets=shape["relative_buckets"],
        relative_attention_max_distance=shape["max_distance"], dropout_rate=0.0,
        layer_norm_epsilon=shape["norm_epsilon"], feed_forward_proj="gated-gelu", tie_word_embeddings=False,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    model = T5ForConditionalGeneration(config).eval()
    state = {}
    for name, tensor in tensors.items():
        if "relative_attention_bias" in name and ".block.0." not in name:
            first = name.split(".block.")[0] + ".block.0." + name.split(".", 3)[3]
            assert torch.equal(tensor, tensors[first]), f"{name} differs from block 0's table"
            continue
        state[name] = tensor
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and set(missing) <= {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}, (
        missing, unexpected)

    sources = torch.tensor(decode["sources"], dtype=torch.long)
    mask = torch.ones_like(sources)
    times = []
    with torch.inference_mode():
        for r in range(args.repeats + 1):
            start = time.perf_counter()
            generated = model.generate(
                input_ids=sources, attention_mask=mask, max_length=args.max_length, num_beams=1, do_sample=False,
                use_cache=True, eos_token_id=None, min_length=0)
            if r > 0:
                times.append(time.perf_counter() - start)
    hf_tokens = generated[:, 1:].tolist()
    same = sum(a == b for a, b in zip(hf_tokens, decode["tokens"]))
    tokens = sum(len(t) for t in hf_tokens)
    hf_rate = tokens / statistics.median(times)
    print(json.dumps({
        "benchmark": "decode vs Hugging Face generate", "batch": args.batch, "source_length": args.source_length,
        "max_length": args.max_length, "threads": args.threads, "torch": torch.__version__,
        "ntng_tokens_per_second": ntng["tokens_per_second"], "hf_tokens_per_second": hf_rate,
        "speedup": ntng["tokens_per_second"] / hf_rate, "sequences_identical": f"{same}/{len(hf_tokens)}",
        "ntng": ntng,
    }, indent=1))


if __name__ == "__main__":
    main()
