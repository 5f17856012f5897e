#!/usr/bin/env python3
"""Writes Tests/EngineTests/Fixtures/engine_fixtures.json: forward values and gradients of small
composite computations, computed by PyTorch in float64, for the engine's fixture tests.

Usage (not needed by the tests; the JSON is committed):
    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install "torch==2.13.0+cpu"
    /tmp/torchvenv/bin/python scripts/make_engine_fixtures.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "EngineTests", "Fixtures", "engine_fixtures.json")


def param(*shape, scale=0.5, offset=0.0):
    # float32-representable values, then float64 for the computation
    return (torch.randn(*shape, dtype=torch.float32) * scale + offset).double().requires_grad_(True)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def attention(q, k, v, heads, scale, causal=False, bias=None):
    B, Sq, HD = q.shape
    Sk = k.shape[1]
    D = HD // heads
    q = q.view(B, Sq, heads, D).transpose(1, 2)
    k = k.view(B, Sk, heads, D).transpose(1, 2)
    v = v.view(B, Sk, heads, D).transpose(1, 2)
    s = q @ k.transpose(-1, -2) * scale
    if bias is not None:
        s = s + bias
    if causal:
        s = s.masked_fill(torch.ones(Sq, Sk, dtype=torch.bool).triu(1), float("-inf"))
    p = s.softmax(-1)
    return (p @ v).transpose(1, 2).reshape(B, Sq, HD)


def case(name, inputs, fn):
    out = fn(**inputs)
    w = torch.randn(out.shape, dtype=torch.float32).double()
    (out * w).sum().backward()
    return {
        "name": name,
        "inputs": {k: {"shape": list(v.shape), "values": flat(v)} for k, v in inputs.items()},
        "upstream": {"shape": list(w.shape), "values": flat(w)},
        "output": {"shape": list(out.shape), "values": flat(out)},
        "gradients": {k: {"shape": list(v.shape), "values": flat(v.grad)} for k, v in inputs.items()},
    }


def bert_block(x, ln1_w, ln1_b, qkv, out, ln2_w, ln2_b, ffn_in, ffn_out):
    """crammed BERT pre-LN block: x + Attn(LN1 x); + FFN(LN2 x) with a GELU-GLU (x, gate)."""
    d = x.shape[-1]
    h = F.layer_norm(x, (d,), ln1_w, ln1_b, eps=1e-12)
    q, k, v = F.linear(h, qkv).chunk(3, dim=-1)
    x = x + F.linear(attention(q, k, v, heads=2, scale=1 / math.sqrt(d // 2)), out)
    h = F.layer_norm(x, (d,), ln2_w, ln2_b, eps=1e-12)
    a, gate = F.linear(h, ffn_in).chunk(2, dim=-1)
    return x + F.linear(F.gelu(gate) * a, ffn_out)


def t5_decoder_self_attention_block(x, norm_w, qkv, out, bias, ffn_norm_w, wi, wo):
    """T5 v1.1 pre-norm block: RMSNorm, causal self-attention with relative bias (scale 1),
    then RMSNorm and a gated-GELU (tanh) FFN with wi = [wi_0; wi_1]."""
    def rms(t, w):
        return t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + 1e-6) * w
    q, k, v = F.linear(rms(x, norm_w), qkv).chunk(3, dim=-1)
    x = x + F.linear(attention(q, k, v, heads=2, scale=1.0, causal=True, bias=bias), out)
    g, lin = F.linear(rms(x, ffn_norm_w), wi).chunk(2, dim=-1)
    return x + F.linear(F.gelu(g, approximate="tanh") * lin, wo)


LABELS = [3, -100, 0, 11, -100, 7]


def sparse_mlm_head(hidden, transform, embedding):
    """Sparse MLM head: rows at masked positions → Linear (no bias) → tied decoder → CE (ignore -100)."""
    labels = torch.tensor(LABELS)
    logits = F.linear(F.linear(hidden, transform), embedding)
    return F.cross_entropy(logits, labels, ignore_index=-100).reshape(1)


d = 8
cases = [
    case("bert_block", dict(x=param(2, 5, d, scale=1.0), ln1_w=param(d, offset=1), ln1_b=param(d, scale=0.1),
                            qkv=param(3 * d, d), out=param(d, d), ln2_w=param(d, offset=1), ln2_b=param(d, scale=0.1),
                            ffn_in=param(4 * d, d), ffn_out=param(d, 2 * d)), bert_block),
    case("t5_block", dict(x=param(2, 5, d, scale=1.0), norm_w=param(d, offset=1), qkv=param(3 * d, d), out=param(d, d),
                          bias=param(2, 5, 5), ffn_norm_w=param(d, offset=1), wi=param(4 * d, d), wo=param(d, 2 * d)),
         t5_decoder_self_attention_block),
    case("sparse_mlm_head", dict(hidden=param(6, d, scale=1.0), transform=param(d, d), embedding=param(13, d)),
         sparse_mlm_head),
]
with open(OUT, "w") as f:
    json.dump({"generator": f"torch {torch.__version__}, float64", "labels": LABELS, "cases": cases}, f)
print("wrote", os.path.normpath(OUT))
