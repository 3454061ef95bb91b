"""Offline check-worthiness: which sentences of an article state something worth checking.

`score` is a logistic regression on all-MiniLM-L6-v2 sentence embeddings plus a few cheap
surface features, trained on CLEF CheckThat! 2019 debate transcripts (training/train_offline.py;
factcheck/weights/MODEL_CARD.md has its data, numbers and limits). Which sentences are claims
at all is not its business: `factcheck.claim_rules` decides that, with plain rules.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import numpy as np

from factcheck import weights
from factcheck.numbers import quantities

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "checkworthiness.npz"
FEATURE_NAMES = [
    "has_number", "has_digit", "log_words", "first_person", "opinion_word", "question",
    "capitalised_words", "percent_or_money",
]
_FIRST_PERSON = re.compile(r"\b(I|I'm|I've|me|my|we|we're|our|us)\b")
_OPINION = re.compile(
    r"\b(think|believe|feel|hope|want|love|wish|should|must|ought|great|terrible|wonderful|"
    r"beautiful|horrible|disgrace|amazing|incredible|frankly|honestly|opinion)\b",
    re.IGNORECASE,
)


def score(sentences: list[str], embeddings: np.ndarray | None = None) -> np.ndarray:
    """Check-worthiness in [0, 1] of each sentence (embeddings: their MiniLM vectors, if known)."""
    if not sentences:
        return np.zeros(0, dtype=np.float32)
    if embeddings is None:
        embeddings = weights.embedder().embed(list(sentences))
    return sigmoid_scores(_model(), features(sentences, embeddings))


def features(sentences: list[str], embeddings: np.ndarray) -> np.ndarray:
    """The model's input rows: the embedding followed by the cheap features of FEATURE_NAMES."""
    cheap = np.array([_cheap_features(s) for s in sentences], dtype=np.float32)
    return np.hstack([np.asarray(embeddings, dtype=np.float32), cheap])


def _cheap_features(sentence: str) -> list[float]:
    words = sentence.split()
    capitalised = sum(1 for w in words[1:] if w[:1].isupper() and w.lower() not in {"i", "i'm"})
    return [
        float(bool(quantities(sentence))),
        float(any(c.isdigit() for c in sentence)),
        float(np.log1p(len(words))),
        float(bool(_FIRST_PERSON.search(sentence))),
        float(bool(_OPINION.search(sentence))),
        float("?" in sentence),
        float(np.log1p(capitalised)),
        float(bool(re.search(r"%|\bper ?cent\b|[$£€]\s?\d|\b(dollars?|billion|million)\b",
                             sentence, re.IGNORECASE))),
    ]


def sigmoid_scores(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """P(check-worthy) of feature rows under a saved model (training scores its folds with it)."""
    logits = ((x - model["mean"]) / model["scale"]) @ model["coef"] + model["intercept"]
    return (1.0 / (1.0 + np.exp(-logits.ravel()))).astype(np.float32)


@lru_cache(maxsize=1)
def _model() -> dict[str, np.ndarray]:
    model = weights.load_arrays(WEIGHTS_FILE)
    logger.debug("loaded %s (%d features)", WEIGHTS_FILE, model["coef"].shape[0])
    return model
