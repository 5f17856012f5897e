#!/usr/bin/env python3
"""Independent PyTorch models of crammed BERT and T5 v1.1 that load ntng checkpoints, and the golden
fixtures of the whole-model test (Tests/NoTrainNoGainTests/GoldenModelTests.swift).

Crammed BERT follows the original cramming code as NTNG runs it (`bert/cramming/architectures/`,
`arch/bert-c5.yaml`), written here from its description, not from ntng's Swift:

    x = E[ids] + s * P[:S]          (P: sinusoids, s a learned scalar)
    x = LayerNorm(x)
    per block:  x = x + Wo(attention(Wq, Wk, Wv applied to LayerNorm1(x)))
                x = x + W2(GELU(gate) * h)  where [h | gate] = W1(LayerNorm2(x))
    x = LayerNorm_final(x);  rows at labelled positions -> Linear(d, d) -> logits = rows @ E^T
    loss = mean cross-entropy over the labelled positions

T5 v1.1 is Hugging Face's T5 with Hugging Face's tensor names, except that every block has its own
relative-position bias table (NTNG's change): RMSNorm before each sub-layer, unscaled attention
scores plus the bias (buckets by Hugging Face's `_relative_position_bucket`), causal decoder
self-attention, cross-attention without bias, wo(gelu_tanh(wi_0 x) * wi_1 x), an untied lm_head.

Usable on their own to read ntng checkpoints from PyTorch:

    model = CrammedBERT.from_safetensors("runs/demo/checkpoint/model.safetensors", heads=4)
    logits, loss = model(input_ids, labels)
    t5 = T5.from_safetensors("runs/demo-t5/checkpoint/model.safetensors", heads=4)
    logits, loss = t5(input_ids, labels)          # decoder inputs: labels shifted right behind 0

Fixtures (float64 throughout; results stored as float32): for each of golden/crammed-bert and
golden/t5, reads initial.safetensors and batch.json (written by `NTNG_WRITE_GOLDEN=1 swift test
--filter GoldenModelTests`) and writes expected.safetensors: the logits, the loss, `grad.<name>` for
every stored tensor and `after3.<name>`: the tensors after 3 optimiser steps at the batch file's
constant learning rate — PyTorch's AdamW for BERT (betas 0.9/0.98, eps 1e-12, weight decay on
weights, none on norm parameters and biases), nanoT5's AdamWScale for T5 (`t5/t5/utils/copied.py`:
betas 0.9/0.999, eps 1e-6, the step scaled by max(1e-3, RMS) of each stored tensor).

    /tmp/torchvenv/bin/python scripts/golden_models.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "Tests", "NoTrainNoGainTests", "Fixtures", "golden")


class CheckpointModel(torch.nn.Module):
    """A model whose parameters are a ntng checkpoint's tensors, under the checkpoint's names."""

    def __init__(self, tensors, block_prefix, dtype):
        super().__init__()
        # '.' → '/' in the keys, as module attribute names cannot hold dots.
        self.names = sorted(tensors)
        self.params = torch.nn.ParameterDict(
            {n.replace(".", "/"): torch.nn.Parameter(t.to(dtype).clone()) for n, t in tensors.items()})
        depth = block_prefix.count(".")
        self.layers = len({n.split(".")[depth] for n in self.names if n.startswith(block_prefix)})

    @classmethod
    def from_safetensors(cls, path, heads, **kwargs):
        return cls(load_file(path), heads, **kwargs)

    def p(self, name):
        return self.params[name.replace(".", "/")]


class CrammedBERT(CheckpointModel):
    def __init__(self, tensors, heads, eps=1e-12, dtype=torch.float64):
        super().__init__(tensors, "bert.encoder.layer.", dtype)
        self.heads, self.eps = heads, eps

    def layer_norm(self, x, prefix):
        return F.layer_norm(x, x.shape[-1:], self.p(prefix + ".weight"), self.p(prefix + ".bias"), self.eps)

    def sinusoids(self, length, dim):
        table = torch.zeros(length, dim, dtype=torch.float64)
        for pos in range(length):
            for i in range(0, dim, 2):
                angle = pos * math.exp(-math.log(10000.0) * i / dim)
                table[pos, i] = math.sin(angle)
                if i + 1 < dim:
                    table[pos, i + 1] = math.cos(angle)
        return table.to(self.p("bert.embeddings.word_embeddings.weight").dtype)

    def block(self, x, i):
        pre = f"bert.encoder.layer.{i}."
        b, s, d = x.shape
        h = self.layer_norm(x, pre + "norm1")

        def split(t):
            return t.view(b, s, self.heads, d // self.heads).transpose(1, 2)

        q = split(h @ self.p(pre + "attention.self.query.weight").T)
        k = split(h @ self.p(pre + "attention.self.key.weight").T)
        v = split(h @ self.p(pre + "attention.self.value.weight").T)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d // self.heads)
        attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, d)
        x = x + attended @ self.p(pre + "attention.output.dense.weight").T
        up = self.layer_norm(x, pre + "norm2") @ self.p(pre + "intermediate.dense.weight").T
        value, gate = up.chunk(2, dim=-1)
        return x + (F.gelu(gate) * value) @ self.p(pre + "output.dense.weight").T

    def forward(self, input_ids, labels):
        embedding = self.p("bert.embeddings.word_embeddings.weight")
        s = input_ids.shape[1]
        x = embedding[input_ids] + self.p("bert.embeddings.position_embeddings.scale") * self.sinusoids(
            s, embedding.shape[1])
        x = self.layer_norm(x, "bert.embeddings.LayerNorm")
        for i in range(self.layers):
            x = self.block(x, i)
        x = self.layer_norm(x, "bert.encoder.final_norm")
        rows = x.reshape(-1, x.shape[-1])[labels.reshape(-1) != -100]
        logits = (rows @ self.p("cls.predictions.transform.dense.weight").T) @ embedding.T
        loss = F.cross_entropy(logits, labels.reshape(-1)[labels.reshape(-1) != -100])
        return logits, loss

    def decays(self, name):
        """Weight decay on weights; none on norm weights and biases (ntng's intended rule)."""
        return not (name.endswith(".bias") or "norm" in name.lower().split(".")[-2])


class T5(CheckpointModel):
    def __init__(self, tensors, heads, buckets=32, max_distance=128, eps=1e-6, dtype=torch.float64):
        super().__init__(tensors, "encoder.block.", dtype)
        self.heads, self.buckets, self.max_distance, self.eps = heads, buckets, max_distance, eps

    def rms_norm(self, x, name):
        return self.p(name) * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def bias(self, table, queries, keys, bidirectional):
        from transformers.models.t5.modeling_t5 import T5Attention
        relative = torch.arange(keys)[None, :] - torch.arange(queries)[:, None]
        buckets = T5Attention._relative_position_bucket(
            relative, bidirectional=bidirectional, num_buckets=self.buckets, max_distance=self.max_distance)
        return table[buckets].permute(2, 0, 1)  # [H, Sq, Sk]

    def attention(self, x, memory, prefix, bias=None, causal=False):
        b, sq, _ = x.shape
        sk = memory.shape[1]

        def heads(t, s):
            return t.view(b, s, self.heads, -1).transpose(1, 2)

        q = heads(x @ self.p(prefix + ".q.weight").T, sq)
        k = heads(memory @ self.p(prefix + ".k.weight").T, sk)
        v = heads(memory @ self.p(prefix + ".v.weight").T, sk)
        scores = q @ k.transpose(-1, -2)  # T5: no 1/sqrt(d) (the initialisation carries it)
        if bias is not None:
            scores = scores + bias
        if causal:
            scores = scores.masked_fill(torch.ones(sq, sk, dtype=torch.bool).triu(1), float("-inf"))
        out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, sq, -1)
        return out @ self.p(prefix + ".o.weight").T

    def feed_forward(self, x, prefix):
        h = self.rms_norm(x, prefix + ".layer_norm.weight")
        gate = F.gelu(h @ self.p(prefix + ".DenseReluDense.wi_0.weight").T, approximate="tanh")
        return x + (gate * (h @ self.p(prefix + ".DenseReluDense.wi_1.weight").T)) @ self.p(
            prefix + ".DenseReluDense.wo.weight").T

    def forward(self, input_ids, labels):
        shared = self.p("shared.weight")
        x = shared[input_ids]
        s = x.shape[1]
        for i in range(self.layers):
            pre = f"encoder.block.{i}.layer."
            h = self.rms_norm(x, pre + "0.layer_norm.weight")
            table = self.p(pre + "0.SelfAttention.relative_attention_bias.weight")
            x = x + self.attention(h, h, pre + "0.SelfAttention", bias=self.bias(table, s, s, True))
            x = self.feed_forward(x, pre + "1")
        encoded = self.rms_norm(x, "encoder.final_layer_norm.weight")
        decoder_inputs = torch.cat([torch.zeros_like(labels[:, :1]), labels[:, :-1]], dim=1)
        y = shared[decoder_inputs]
        t = y.shape[1]
        for i in range(self.layers):
            pre = f"decoder.block.{i}.layer."
            h = self.rms_norm(y, pre + "0.layer_norm.weight")
            table = self.p(pre + "0.SelfAttention.relative_attention_bias.weight")
            y = y + self.attention(h, h, pre + "0.SelfAttention", bias=self.bias(table, t, t, False), causal=True)
            h = self.rms_norm(y, pre + "1.layer_norm.weight")
            y = y + self.attention(h, encoded, pre + "1.EncDecAttention")
            y = self.feed_forward(y, pre + "2")
        y = self.rms_norm(y, "decoder.final_layer_norm.weight")
        logits = (y @ self.p("lm_head.weight").T).reshape(-1, shared.shape[0])
        return logits, F.cross_entropy(logits, labels.reshape(-1))


class AdamWScale(torch.optim.Optimizer):
    """nanoT5's AdamWScale (`t5/t5/utils/copied.py`), as the original code runs it (also the optimiser
    of `bench_train_t5_torch.py`)."""

    def __init__(self, params, lr=2e-2, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"], state["exp_avg"], state["exp_avg_sq"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                state["step"] += 1
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.mul_(beta1).add_(p.grad, alpha=1.0 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(p.grad, p.grad, value=1.0 - beta2)
                denom = exp_avg_sq.sqrt().add_(group["eps"])
                step_size = group["lr"] * math.sqrt(1.0 - beta2 ** state["step"]) / (1.0 - beta1 ** state["step"])
                step_size = step_size * max(1e-3, (p.norm(2) / p.numel() ** 0.5).item())
                p.addcdiv_(exp_avg, denom, value=-step_size)
                if group["weight_decay"] > 0.0:
                    p.add_(p, alpha=-group["lr"] * group["weight_decay"])


def golden(name):
    folder = os.path.join(GOLDEN, name)
    batch = json.load(open(os.path.join(folder, "batch.json")))
    initial = load_file(os.path.join(folder, "initial.safetensors"))
    b = batch["batch_size"]
    ids = torch.tensor(batch["input_ids"]).view(b, batch["sequence_length"])
    labels = torch.tensor(batch["labels"]).view(b, batch["target_length"])
    if name == "t5":
        model = T5(initial, heads=batch["heads"], buckets=batch["relative_buckets"],
                   max_distance=batch["max_distance"])
        optimizer = AdamWScale([model.p(n) for n in model.names], lr=batch["learning_rate"],
                               weight_decay=batch["weight_decay"])
    else:
        model = CrammedBERT(initial, heads=batch["heads"])
        decay = [model.p(n) for n in model.names if model.decays(n)]
        no_decay = [model.p(n) for n in model.names if not model.decays(n)]
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": batch["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
            lr=batch["learning_rate"], betas=(0.9, 0.98), eps=1e-12)

    out = {}
    logits, loss = model(ids, labels)
    loss.backward()
    out["logits"], out["loss"] = logits.detach(), loss.detach().reshape(1)
    for n in model.names:
        out["grad." + n] = model.p(n).grad.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        model(ids, labels)[1].backward()
        optimizer.step()
    for n in model.names:
        out["after3." + n] = model.p(n).detach().clone()
    save_file({k: v.to(torch.float32).contiguous() for k, v in out.items()},
              os.path.join(folder, "expected.safetensors"))
    print(f"{name}: loss {loss.item():.6f}; wrote {len(out)} tensors to {os.path.normpath(folder)}")


def main():
    for name in ["crammed-bert", "t5"]:
        golden(name)


if __name__ == "__main__":
    main()
