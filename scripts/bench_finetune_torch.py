#!/usr/bin/env python3
"""PyTorch counterpart of `ntng bench finetune`: the same GLUE fine-tuning step — crammed BERT (dropout
0.1), first-token pooling, a 1024-wide tanh layer with dropout 0.1, 2 classes, cross-entropy, AdamW at
the GLUE recipe's settings (lr 4e-5, betas 0.9/0.98, eps 1e-6, no weight decay), no clipping — on random
full-length sequences, timed the same way (median step after a warm-up), printing JSON.
Not needed by the tests.
    /tmp/torchvenv/bin/python scripts/bench_finetune_torch.py [--steps 10] [--compile]
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_crammed_bert import CrammedBERT
from torch_train_timing import argument_parser, time_training_steps

p = argument_parser(batch=16)
p.add_argument("--intermediate", type=int, default=1024)
p.add_argument("--seq", type=int, default=128)
args = p.parse_args()
torch.manual_seed(0)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = CrammedBERT(args.layers, args.hidden, args.heads, args.intermediate, args.vocab, args.seq,
                                   dropout=0.1)
        self.dense = nn.Linear(args.hidden, 1024)
        self.output = nn.Linear(1024, 2)
        for m in (self.dense, self.output):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)

    def forward(self, ids, labels):
        # The last block runs on the first tokens only, the rows the head reads (as ntng does).
        first = torch.arange(ids.shape[0]) * ids.shape[1]
        pooled = F.dropout(torch.tanh(self.dense(self.encoder.encode(ids, first))), 0.1, self.training)
        return F.cross_entropy(self.output(pooled), labels)


model = Classifier()
model.train()
opt = torch.optim.AdamW(model.parameters(), lr=4e-5, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.0)
step_model = torch.compile(model) if args.compile else model


def batch():
    return torch.randint(8, args.vocab, (args.batch, args.seq)), torch.randint(0, 2, (args.batch,))


t, phases, final_loss = time_training_steps(model, opt, step_model, batch, 1e9, args.warmup, args.steps)
print(json.dumps({"benchmark": "finetune (PyTorch)", "torch": torch.__version__, "threads": torch.get_num_threads(),
                  "compiled": args.compile, "tokens_per_second": round(args.batch * args.seq / t),
                  "examples_per_second": round(args.batch / t, 1), "step_milliseconds": round(t * 1000, 2),
                  "phases_milliseconds": phases, "final_loss": final_loss}, indent=2))
