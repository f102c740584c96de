"""A Llama-style decoder: RMSNorm, rotary positions from position_ids, grouped-query attention,
SwiGLU, tied embeddings. forward() takes and returns exactly the tensors of the Hugging Face /
Optimum decoder-with-past ONNX layout, so the export is a plain torch.onnx.export of this module.
"""
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int = 4096
    hidden_size: int = 512
    intermediate_size: int = 1408
    num_hidden_layers: int = 8
    num_attention_heads: int = 8
    num_key_value_heads: int = 2
    max_position_embeddings: int = 1024
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    # Residual dropout, active in training only (the corpus is small next to the model; export runs in eval mode).
    dropout: float = 0.0

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def to_dict(self) -> dict:
        return asdict(self)


def full_inputs(batch: int, seq: int, device=None):
    """attention_mask and position_ids of `batch` unpadded sequences of `seq` tokens starting at position 0."""
    return (torch.ones(batch, seq, dtype=torch.long, device=device),
            torch.arange(seq, device=device)[None, :].expand(batch, seq))


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_heads, self.n_kv, self.hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        self.q_proj = nn.Linear(cfg.hidden_size, self.n_heads * self.hd, bias=False)
        self.k_proj = nn.Linear(cfg.hidden_size, self.n_kv * self.hd, bias=False)
        self.v_proj = nn.Linear(cfg.hidden_size, self.n_kv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.n_heads * self.hd, cfg.hidden_size, bias=False)

    def forward(self, x, cos, sin, mask, past_k=None, past_v=None):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.n_heads, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.n_kv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.n_kv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        present = (k, v)
        # Grouped-query attention without copying K/V: the query heads that share a KV head are
        # folded into the row dimension, [b, kv, rep*s, hd] @ [b, kv, hd, L] (export-friendly, no
        # repeat_interleave, whose dynamic-shape export is wrong in torch 1.13).
        rep = self.n_heads // self.n_kv
        qg = q.reshape(b, self.n_kv, rep * s, self.hd)
        att = torch.matmul(qg, k.transpose(-1, -2)) * (self.hd ** -0.5)
        att = att.reshape(b, self.n_kv, rep, s, -1) + mask[:, :, None, :, :]
        probs = torch.softmax(att, dim=-1).reshape(b, self.n_kv, rep * s, -1)
        out = torch.matmul(probs, v).reshape(b, self.n_heads, s, self.hd)
        return self.o_proj(out.transpose(1, 2).reshape(b, s, -1)), present


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x, cos, sin, mask, past_k=None, past_v=None):
        h, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, past_k, past_v)
        x = x + self.dropout(h)
        y = self.post_attention_layernorm(x)
        return x + self.dropout(self.down_proj(F.silu(self.gate_proj(y)) * self.up_proj(y))), present


class LlamaLM(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, cfg.head_dim, 2).float() / cfg.head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                nn.init.normal_(p, std=0.02 / (2 * cfg.num_hidden_layers) ** 0.5)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def rope(self, position_ids):
        freqs = position_ids.float()[:, :, None] * self.inv_freq[None, None, :]
        emb = torch.cat([freqs, freqs], dim=-1)[:, None, :, :]
        return emb.cos(), emb.sin()

    def forward(self, input_ids, attention_mask, position_ids, past=None):
        """input_ids, position_ids: [batch, seq]; attention_mask: [batch, past+seq] (1 = attend);
        past: list of (key, value), each [batch, kv_heads, past, head_dim], or None.
        Returns logits [batch, seq, vocab] and the presents [batch, kv_heads, past+seq, head_dim]."""
        seq = input_ids.shape[1]
        total = attention_mask.shape[1]
        past_len = total - seq
        x = self.embed_tokens(input_ids)
        cos, sin = self.rope(position_ids)
        key_pos = torch.arange(total, device=input_ids.device)
        query_pos = torch.arange(seq, device=input_ids.device) + past_len
        allowed = (key_pos[None, :] <= query_pos[:, None])[None, None, :, :] & attention_mask[:, None, None, :].bool()
        mask = torch.zeros(allowed.shape, dtype=x.dtype, device=x.device).masked_fill(~allowed, -1e9)
        presents = []
        for i, layer in enumerate(self.layers):
            pk, pv = past[i] if past is not None else (None, None)
            x, present = layer(x, cos, sin, mask, pk, pv)
            presents.append(present)
        logits = F.linear(self.norm(x), self.embed_tokens.weight)
        return logits, presents

    def loss(self, tokens):
        """Next-token cross-entropy over a [batch, seq+1] block of token ids."""
        inp, tgt = tokens[:, :-1], tokens[:, 1:]
        logits, _ = self.forward(inp, *full_inputs(*inp.shape, tokens.device))
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
