#!/usr/bin/env python3
"""PyTorch counterpart of `ntng bench train`: the same crammed-BERT training step (pre-LN, fused
QKV without biases, GELU-GLU FFN, scaled sinusoidal positions, sparse MLM head with a tied decoder,
AdamW, gradient clipping 0.5, no dropout), timed the same way, printing JSON.
Not needed by the tests.
    /tmp/torchvenv/bin/python scripts/bench_train_torch.py [--steps 10] [--compile]
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_crammed_bert import CrammedBERT
from torch_train_timing import argument_parser, time_training_steps

p = argument_parser(batch=32)
p.add_argument("--intermediate", type=int, default=1024)
p.add_argument("--seq", type=int, default=128)
p.add_argument("--sparse-last-block", action="store_true",
               help="run the last block's output projection and FFN on masked rows only, as ntng does")
args = p.parse_args()
torch.manual_seed(0)


class PretrainingBERT(CrammedBERT):
    """The MLM step: a sparse head over the masked positions with a tied decoder."""

    def __init__(self, *shape):
        super().__init__(*shape)
        self.head = nn.Linear(shape[1], shape[1], bias=False)
        nn.init.normal_(self.head.weight, std=0.02)

    def forward(self, ids, labels):
        labels = labels.view(-1)
        sel = labels != -100
        x = self.encode(ids, sel if args.sparse_last_block else None)
        x = x.reshape(-1, x.shape[-1])
        if not args.sparse_last_block:
            x = x[sel]
        logits = F.linear(self.head(x), self.emb.weight)
        return F.cross_entropy(logits, labels[sel])


model = PretrainingBERT(args.layers, args.hidden, args.heads, args.intermediate, args.vocab, args.seq)
decay = [p for n, p in model.named_parameters() if "norm" not in n]
no_decay = [p for n, p in model.named_parameters() if "norm" in n]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                        lr=1e-3, betas=(0.9, 0.98), eps=1e-12)
step_model = torch.compile(model) if args.compile else model


def batch():
    ids = torch.randint(8, args.vocab, (args.batch, args.seq))
    labels = ids.clone()
    masked = torch.rand(ids.shape) < 0.15
    labels[~masked] = -100
    r = torch.rand(ids.shape)
    inputs = ids.clone()
    inputs[masked & (r < 0.8)] = 4
    rnd = masked & (r >= 0.8) & (r < 0.9)
    inputs[rnd] = torch.randint(0, args.vocab, (int(rnd.sum()),))
    return inputs, labels


t, phases, final_loss = time_training_steps(model, opt, step_model, batch, 0.5, args.warmup, args.steps)
print(json.dumps({"benchmark": "train (PyTorch)", "torch": torch.__version__, "threads": torch.get_num_threads(),
                  "compiled": args.compile, "sparse_last_block": args.sparse_last_block, "tokens_per_second": round(args.batch * args.seq / t),
                  "step_milliseconds": round(t * 1000, 2),
                  "phases_milliseconds": phases,
                  "final_loss": final_loss}, indent=2))
