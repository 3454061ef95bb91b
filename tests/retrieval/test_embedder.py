"""The local MiniLM embedder: shapes, order, truncation, and agreement with a numpy reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from safetensors.numpy import load_file

from factcheck.retrieval.embedder import (
    MAX_TOKENS,
    MiniLMEmbedder,
    length_batches,
    local_embedder,
    package_model_dir,
)

SENTENCES = [
    "Vitamin D supplements reduce the risk of bone fractures in older adults.",
    "The cat sat on the mat.",
    "Aspirin",
    (
        "Antibiotics are ineffective against viral infections such as the common cold, "
        "yet they are still widely prescribed for them."
    ),
]
# About 400 tokens: longer than MAX_TOKENS, so it exercises truncation.
LONG = " ".join(
    f"In trial {i} the treated group showed lower blood pressure than the placebo group."
    for i in range(25)
)


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return local_embedder()


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.5e-7 (Abramowitz and Stegun 7.1.26); numpy has none, math.erf is slow."""
    t = 1.0 / (1.0 + 0.3275911 * np.abs(x))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                          + t * 1.061405429))))
    return np.sign(x) * (1.0 - poly * np.exp(-x * x))


def _layer_norm(x: np.ndarray, w: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * w[prefix + ".weight"] + w[prefix + ".bias"]


def _dense(x: np.ndarray, w: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    return x @ w[prefix + ".weight"].T + w[prefix + ".bias"]


def _reference_layer(x: np.ndarray, w: dict[str, np.ndarray], i: int) -> np.ndarray:
    """One BERT layer for a single unpadded sequence x (tokens, 384), written for clarity."""
    p = f"encoder.layer.{i}."
    q, k, v = (
        _dense(x, w, p + f"attention.self.{n}").reshape(len(x), 12, 32).transpose(1, 0, 2)
        for n in ("query", "key", "value")
    )
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(32)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    context = (probs @ v).transpose(1, 0, 2).reshape(len(x), 384)
    x = _layer_norm(x + _dense(context, w, p + "attention.output.dense"), w,
                    p + "attention.output.LayerNorm")
    hidden = _dense(x, w, p + "intermediate.dense")
    hidden = 0.5 * hidden * (1.0 + _erf(hidden / math.sqrt(2.0)))  # exact GELU, as in BERT
    return _layer_norm(x + _dense(hidden, w, p + "output.dense"), w, p + "output.LayerNorm")


def _reference_embed(embedder: MiniLMEmbedder, text: str, w: dict[str, np.ndarray]) -> np.ndarray:
    """all-MiniLM-L6-v2 in plain numpy, one text at a time (no padding, no masks)."""
    ids = embedder._tokenizer.encode(text).ids
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][: len(ids)]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = _layer_norm(x, w, "embeddings.LayerNorm")
    for i in range(6):
        x = _reference_layer(x, w, i)
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def test_embed_returns_unit_float32_rows_in_input_order(embedder: MiniLMEmbedder) -> None:
    texts = [LONG, *SENTENCES]  # mixed lengths, so sorting by length reorders the batch
    vectors = embedder.embed(texts)
    assert vectors.shape == (len(texts), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Each row equals the text embedded alone, so rows are not shuffled and padding is masked.
    alone = np.vstack([embedder.embed([text]) for text in texts])
    np.testing.assert_allclose((vectors * alone).sum(1), 1.0, atol=1e-5)


def test_batch_size_does_not_change_vectors(
    embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [LONG, *SENTENCES]
    monkeypatch.setattr(embedder, "max_batch_tokens", 100_000)  # all in one padded batch
    together = embedder.embed(texts)
    monkeypatch.setattr(embedder, "max_batch_tokens", 1)  # one text per batch
    alone = embedder.embed(texts)
    np.testing.assert_allclose((together * alone).sum(1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    ("lengths", "max_tokens", "expected"),
    [
        ([5, 3, 4], 100, [[1, 2, 0]]),  # shortest first, one batch when it fits
        ([10, 10, 10], 20, [[0, 1], [2]]),  # 3 x 10 padded tokens would exceed 20
        ([2, 50, 3], 10, [[0, 2], [1]]),  # a text longer than the budget gets its own batch
    ],
)
def test_batches_respect_token_budget(
    lengths: list[int], max_tokens: int, expected: list[list[int]]
) -> None:
    assert [batch.tolist() for batch in length_batches(lengths, max_tokens)] == expected


def test_matches_numpy_reference(embedder: MiniLMEmbedder) -> None:
    weights = load_file(str(package_model_dir() / "model.safetensors"))
    texts = [SENTENCES[0], SENTENCES[2], LONG]  # a sentence, a single word, > MAX_TOKENS
    expected = np.vstack([_reference_embed(embedder, text, weights) for text in texts])
    cosines = (embedder.embed(texts) * expected).sum(1)
    assert cosines.min() > 0.999, cosines


def test_truncates_at_max_tokens(embedder: MiniLMEmbedder) -> None:
    assert len(LONG.split()) > MAX_TOKENS  # every word is at least one token
    a, b = embedder.embed([LONG, LONG + " Text past the cap does not change the vector."])
    assert float(a @ b) > 0.99999


def test_paraphrase_is_closer_than_unrelated_text(embedder: MiniLMEmbedder) -> None:
    claim, paraphrase, unrelated = embedder.embed([
        "Smoking causes lung cancer.",
        "Lung cancer is caused by tobacco smoking.",
        "The football match ended in a draw after extra time.",
    ])
    assert claim @ paraphrase > claim @ unrelated + 0.3


def test_empty_input_gives_empty_matrix(embedder: MiniLMEmbedder) -> None:
    vectors = embedder.embed([])
    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


def test_local_embedder_is_loaded_once() -> None:
    assert local_embedder() is local_embedder()
    assert local_embedder().name == "all-MiniLM-L6-v2"
    assert local_embedder().dimensions == 384
