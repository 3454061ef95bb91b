"""The judge's cross-encoder in torch, for training only: MiniLM (BERT, 6 layers) over
"[CLS] claim [SEP] evidence [SEP]", mean-pooled, then a 3-way linear head.

The layers mirror factcheck/judge.py's onnxruntime graph name for name (the safetensors keys of
the packaged all-MiniLM-L6-v2), so the trained weights load there unchanged. The word and
position embeddings and the lower layers stay frozen at the packaged weights: only what is
trained is shipped, and the rest is read from the package at load time.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

HIDDEN, HEADS, LAYERS, EPSILON = 384, 12, 6, 1e-12


class Layer(nn.Module):
    """One BERT encoder layer (post-norm), named as in the safetensors file."""

    def __init__(self) -> None:
        super().__init__()
        self.query, self.key, self.value = (nn.Linear(HIDDEN, HIDDEN) for _ in range(3))
        self.out = nn.Linear(HIDDEN, HIDDEN)
        self.ln1 = nn.LayerNorm(HIDDEN, eps=EPSILON)
        self.up, self.down = nn.Linear(HIDDEN, 4 * HIDDEN), nn.Linear(4 * HIDDEN, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN, eps=EPSILON)
        self.drop = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, HEADS, HIDDEN // HEADS).transpose(1, 2)

        ctx = nn.functional.scaled_dot_product_attention(
            heads(self.query(x)), heads(self.key(x)), heads(self.value(x)), attn_mask=bias)
        ctx = ctx.transpose(1, 2).reshape(b, n, HIDDEN)
        h = self.ln1(x + self.drop(self.out(ctx)))
        return self.ln2(h + self.drop(self.down(nn.functional.gelu(self.up(h)))))


class CrossEncoder(nn.Module):
    """MiniLM pair encoder with a mean-pooled 3-way head (SUPPORTS, REFUTES, NOT_ENOUGH_INFO)."""

    def __init__(self) -> None:
        super().__init__()
        self.word = nn.Embedding(30522, HIDDEN)
        self.position = nn.Embedding(512, HIDDEN)
        self.token_type = nn.Embedding(2, HIDDEN)
        self.ln0 = nn.LayerNorm(HIDDEN, eps=EPSILON)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(HIDDEN, 3)

    def forward(self, ids: torch.Tensor, types: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.classify(self.encode(self.embed(ids, types), mask, 0, LAYERS), mask)

    def embed(self, ids: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """Token, position and token-type embeddings, normalised: the first layer's input."""
        positions = torch.arange(ids.shape[1], device=ids.device)
        return self.ln0(self.word(ids) + self.position(positions)[None] + self.token_type(types))

    def encode(self, x: torch.Tensor, mask: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """Layers start..stop-1 over x (a frozen lower part can run once and be kept)."""
        bias = ((1.0 - mask[:, None, None, :].to(x.dtype)) * -1e4)
        for layer in self.layers[start:stop]:
            x = layer(x, bias)
        return x

    def classify(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The head over the mean of the unmasked tokens' last states."""
        weights = mask[:, :, None].to(x.dtype)
        pooled = (x * weights).sum(1) / weights.sum(1)
        return self.head(self.drop(pooled))


def _names(i: int) -> dict[str, str]:
    """Our parameter name -> safetensors key, for layer i."""
    p = f"encoder.layer.{i}."
    pairs = {"query": "attention.self.query", "key": "attention.self.key",
             "value": "attention.self.value", "out": "attention.output.dense",
             "ln1": "attention.output.LayerNorm", "up": "intermediate.dense",
             "down": "output.dense", "ln2": "output.LayerNorm"}
    return {f"layers.{i}.{ours}.{part}": p + theirs + "." + part
            for ours, theirs in pairs.items() for part in ("weight", "bias")}


def key_map() -> dict[str, str]:
    """Every encoder parameter of CrossEncoder -> its safetensors key (the head has none)."""
    found = {"word.weight": "embeddings.word_embeddings.weight",
             "position.weight": "embeddings.position_embeddings.weight",
             "token_type.weight": "embeddings.token_type_embeddings.weight",
             "ln0.weight": "embeddings.LayerNorm.weight", "ln0.bias": "embeddings.LayerNorm.bias"}
    for i in range(LAYERS):
        found.update(_names(i))
    return found


def from_base(base: dict[str, np.ndarray], trained_from: int, seed: int) -> CrossEncoder:
    """A CrossEncoder holding the packaged weights, with layers below `trained_from` frozen."""
    torch.manual_seed(seed)
    model = CrossEncoder()
    state = {ours: torch.from_numpy(base[theirs].copy()) for ours, theirs in key_map().items()}
    nn.init.normal_(model.head.weight, std=0.02)
    nn.init.zeros_(model.head.bias)
    state.update({"head.weight": model.head.weight.data, "head.bias": model.head.bias.data})
    model.load_state_dict(state)
    for name, param in model.named_parameters():
        param.requires_grad = is_trained(name, trained_from)
    return model


def is_trained(name: str, trained_from: int) -> bool:
    """Trained (and shipped): the token-type table, layers from `trained_from` on, the head."""
    if name.startswith("layers."):
        return int(name.split(".")[1]) >= trained_from
    return name.startswith(("token_type", "head"))


def shipped(model: CrossEncoder, trained_from: int) -> dict[str, np.ndarray]:
    """The trained weights under their safetensors keys (the head as `head.weight/bias`)."""
    keys = key_map()
    return {keys.get(name, name): param.detach().float().numpy()
            for name, param in model.named_parameters() if is_trained(name, trained_from)}


def lr_lambda(total: int, warmup: int):
    """Linear warm-up, then cosine decay to 10%."""
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        done = (step - warmup) / max(1, total - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, done)))
    return factor
