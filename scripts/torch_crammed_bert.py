"""The crammed BERT of ntng in PyTorch, for the comparison scripts (bench_train_torch.py,
bench_finetune_torch.py): pre-LN blocks, fused QKV without biases, GELU-GLU FFN, scaled sinusoidal
positions; dropout where ntng puts it when a forward pass asks for it (embeddings, attention
probabilities, after the attention projection and after the FFN)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, h, inter, dropout=0.0):
        super().__init__()
        self.h, self.p = h, dropout
        self.norm1 = nn.LayerNorm(d, eps=1e-12)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.out = nn.Linear(d, d, bias=False)
        self.norm2 = nn.LayerNorm(d, eps=1e-12)
        self.ffn_in = nn.Linear(d, inter, bias=False)
        self.ffn_out = nn.Linear(inter // 2, d, bias=False)

    def forward(self, x, rows=None):
        """`rows`: run the projection, residual and FFN on these positions only (a sparse head)."""
        B, S, d = x.shape
        p = self.p if self.training else 0.0
        q, k, v = self.qkv(self.norm1(x)).view(B, S, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, dropout_p=p).transpose(1, 2).reshape(B, S, d)
        if rows is not None:
            x, a = x.reshape(-1, d)[rows], a.reshape(-1, d)[rows]
        x = x + F.dropout(self.out(a), p)
        h, gate = self.ffn_in(self.norm2(x)).chunk(2, dim=-1)
        return x + F.dropout(self.ffn_out(F.gelu(gate) * h), p)


class CrammedBERT(nn.Module):
    def __init__(self, L, d, h, inter, V, S, dropout=0.0):
        super().__init__()
        self.p = dropout
        self.emb = nn.Embedding(V, d, padding_idx=0)
        pos = torch.arange(S).unsqueeze(1)
        div = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
        pe = torch.zeros(S, d)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe)
        self.scale = nn.Parameter(torch.tensor(1 / math.sqrt(d)))
        self.emb_norm = nn.LayerNorm(d, eps=1e-12)
        self.blocks = nn.ModuleList([Block(d, h, inter, dropout) for _ in range(L)])
        self.final_norm = nn.LayerNorm(d, eps=1e-12)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)

    def encode(self, ids, last_rows=None):
        """Final hidden states [B, S, d], or [N, d] at `last_rows` (the last block runs on those only)."""
        p = self.p if self.training else 0.0
        x = F.dropout(self.emb_norm(self.emb(ids) + self.scale * self.pe[: ids.shape[1]]), p)
        for i, b in enumerate(self.blocks):
            x = b(x, last_rows if i == len(self.blocks) - 1 else None)
        return self.final_norm(x)
