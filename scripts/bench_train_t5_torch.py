#!/usr/bin/env python3
"""PyTorch counterpart of `ntng bench train --model t5-tiny`: the same T5 v1.1 training step
(pre-norm RMSNorm, unscaled attention with a relative-position bias table per block, causal decoder
self-attention, cross-attention, gated-GELU FFN, untied head, no dropout), span-corrupted random
tokens (inputs 128 / targets 29 by default), gradient clipping 1.0 and nanoT5's AdamWScale, timed
the same way, printing JSON. `--hf` runs Hugging Face's T5ForConditionalGeneration instead (one
shared bias table, as HF has it; needs `pip install transformers`). Not needed by the tests.
    /tmp/torchvenv/bin/python scripts/bench_train_t5_torch.py [--steps 10] [--compile] [--hf]
"""
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from golden_models import AdamWScale
from torch_train_timing import argument_parser, time_training_steps

p = argument_parser(batch=32)
p.add_argument("--head-dim", type=int, default=64)
p.add_argument("--ff", type=int, default=672)
p.add_argument("--inputs", type=int, default=128)
p.add_argument("--buckets", type=int, default=32)
p.add_argument("--max-distance", type=int, default=128)
p.add_argument("--hf", action="store_true", help="Hugging Face T5ForConditionalGeneration")
args = p.parse_args()
torch.manual_seed(0)


def lengths(raw):
    noise = round(raw * 0.15)
    spans = max(round(noise / 3), 1)
    return raw - noise + spans + 1, noise + spans + 1


raw = args.inputs
while lengths(raw + 1)[0] <= args.inputs:
    raw += 1
S_IN, S_OUT = lengths(raw)


def bucket(rel, bidirectional, n, max_distance):
    out = torch.zeros_like(rel)
    if bidirectional:
        n //= 2
        out += (rel > 0).long() * n
        rel = rel.abs()
    else:
        rel = -torch.clamp(rel, max=0)
    exact = n // 2
    large = exact + (torch.log(rel.float() / exact) / math.log(max_distance / exact) * (n - exact)).long()
    large = torch.clamp(large, max=n - 1)
    return out + torch.where(rel < exact, rel, large)


def buckets(q, k, bidirectional):
    rel = torch.arange(k)[None, :] - torch.arange(q)[:, None]
    return bucket(rel, bidirectional, args.buckets, args.max_distance)


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.weight


class Attention(nn.Module):
    def __init__(self, d, h, dk, cross=False, causal=False):
        super().__init__()
        self.h, self.dk, self.cross, self.causal = h, dk, cross, causal
        self.norm = RMSNorm(d)
        self.q = nn.Linear(d, h * dk, bias=False)
        self.kv = nn.Linear(d, 2 * h * dk, bias=False)
        self.o = nn.Linear(h * dk, d, bias=False)
        if not cross:
            self.bias = nn.Embedding(args.buckets, h)

    def forward(self, x, memory=None):
        B, S, _ = x.shape
        y = self.norm(x)
        src = memory if self.cross else y
        q = self.q(y).view(B, S, self.h, self.dk).transpose(1, 2)
        k, v = self.kv(src).view(B, src.shape[1], 2, self.h, self.dk).permute(2, 0, 3, 1, 4)
        mask = None
        if not self.cross:
            mask = self.bias(buckets(S, S, not self.causal)).permute(2, 0, 1)[None]
            if self.causal:
                mask = mask.masked_fill(torch.ones(S, S, dtype=torch.bool).triu(1), float("-inf"))
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=1.0)
        return x + self.o(a.transpose(1, 2).reshape(B, S, -1))


class FeedForward(nn.Module):
    def __init__(self, d, ff):
        super().__init__()
        self.norm = RMSNorm(d)
        self.wi = nn.Linear(d, 2 * ff, bias=False)
        self.wo = nn.Linear(ff, d, bias=False)

    def forward(self, x):
        g, h = self.wi(self.norm(x)).chunk(2, dim=-1)
        return x + self.wo(F.gelu(g, approximate="tanh") * h)


class T5(nn.Module):
    def __init__(self, L, d, h, dk, ff, V):
        super().__init__()
        self.shared = nn.Embedding(V, d)
        self.enc = nn.ModuleList([nn.ModuleList([Attention(d, h, dk), FeedForward(d, ff)]) for _ in range(L)])
        self.enc_norm = RMSNorm(d)
        self.dec = nn.ModuleList([nn.ModuleList([Attention(d, h, dk, causal=True), Attention(d, h, dk, cross=True),
                                                 FeedForward(d, ff)]) for _ in range(L)])
        self.dec_norm = RMSNorm(d)
        self.lm_head = nn.Linear(d, V, bias=False)
        for n, m in self.named_modules():
            if isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, std=1.0 if n in ("shared",) else d ** -0.5)
        nn.init.normal_(self.lm_head.weight, std=1.0)

    def forward(self, inputs, decoder_inputs, labels):
        x = self.shared(inputs)
        for att, ffn in self.enc:
            x = ffn(att(x))
        memory = self.enc_norm(x)
        y = self.shared(decoder_inputs)
        for self_att, cross, ffn in self.dec:
            y = ffn(cross(self_att(y), memory))
        logits = self.lm_head(self.dec_norm(y))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1))


if args.hf:
    from transformers import T5Config, T5ForConditionalGeneration

    hf = T5ForConditionalGeneration(T5Config(vocab_size=args.vocab, d_model=args.hidden, d_kv=args.head_dim, d_ff=args.ff,
                                             num_layers=args.layers, num_heads=args.heads, dropout_rate=0.0,
                                             feed_forward_proj="gated-gelu", tie_word_embeddings=False,
                                             relative_attention_num_buckets=args.buckets,
                                             relative_attention_max_distance=args.max_distance))

    class HF(nn.Module):
        def __init__(self):
            super().__init__()
            self.m = hf

        def forward(self, inputs, decoder_inputs, labels):
            return self.m(input_ids=inputs, decoder_input_ids=decoder_inputs, labels=labels).loss

    model = HF()
else:
    model = T5(args.layers, args.hidden, args.heads, args.head_dim, args.ff, args.vocab)
opt = AdamWScale(model.parameters())
step_model = torch.compile(model) if args.compile else model


def batch():
    """Span-corrupted random tokens of the benchmark's shapes (one noise span layout per row)."""
    n_sent = lengths(raw)[1] - round(raw * 0.15) - 1
    ids = torch.randint(3, args.vocab - 100, (args.batch, raw))
    inputs, targets = [], []
    for row in ids:
        noise = torch.zeros(raw, dtype=torch.bool)
        starts = torch.randperm(raw // 4)[:n_sent].sort().values * 4
        count = round(raw * 0.15)
        per = [count // n_sent + (1 if i < count % n_sent else 0) for i in range(n_sent)]
        for s, k in zip(starts.tolist(), per):
            noise[s:s + k] = True
        inp, tgt, sid = [], [], args.vocab - 1
        for i, t in enumerate(row.tolist()):
            if noise[i]:
                if i == 0 or not noise[i - 1]:
                    inp.append(sid); tgt.append(sid); sid -= 1
                tgt.append(t)
            else:
                inp.append(t)
        inputs.append((inp + [1])[:S_IN] + [0] * max(0, S_IN - len(inp) - 1))
        targets.append((tgt + [1])[:S_OUT] + [0] * max(0, S_OUT - len(tgt) - 1))
    inputs, labels = torch.tensor(inputs), torch.tensor(targets)
    decoder = torch.cat([torch.zeros(args.batch, 1, dtype=torch.long), labels[:, :-1]], dim=1)
    return inputs, decoder, labels


t, phases, final_loss = time_training_steps(model, opt, step_model, batch, 1.0, args.warmup, args.steps)
print(json.dumps({"benchmark": "train T5 (PyTorch" + (", HF transformers)" if args.hf else ")"), "torch": torch.__version__,
                  "threads": torch.get_num_threads(), "compiled": args.compile, "inputs": S_IN, "targets": S_OUT,
                  "tokens_per_second": round(args.batch * S_IN / t), "step_milliseconds": round(t * 1000, 2),
                  "phases_milliseconds": phases,
                  "parameters": sum(p.numel() for p in model.parameters()),
                  "final_loss": final_loss}, indent=2))
