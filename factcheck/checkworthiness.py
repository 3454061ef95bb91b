"""Offline check-worthiness: which sentences of an article state something worth checking.

`score` blends two models' logits: a logistic regression on all-MiniLM-L6-v2 sentence
embeddings plus a few cheap surface features (training/train_offline.py), and MiniLM with its top
layers fine-tuned as a sentence classifier (training/train_worthiness_encoder.py; run by
onnxruntime like the judge). Both are trained on CLEF CheckThat! 2019 debate transcripts and
ClaimBuster; factcheck/weights/MODEL_CARD.md has their data, numbers and limits. Which sentences
are claims at all is not its business: `factcheck.claim_rules` decides that, with plain rules.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import cache, lru_cache

import numpy as np

from factcheck import weights
from factcheck.numbers import quantities

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "checkworthiness.npz"
ENCODER_FILE = "checkworthiness_encoder.npz"
ENCODER_TOKENS = 64  # sentences were cut here in training
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
    blend = _blend()
    logits = (1.0 - blend) * logistic_logits(_model(), features(sentences, embeddings))
    return _sigmoid(logits + blend * encoder_logits(sentences))


def load_models() -> None:
    """Load the logistic model and the sentence classifier now instead of at the first score."""
    _model()
    _blend()
    _encoder()


def encoder_logits(sentences: list[str]) -> np.ndarray:
    """The fine-tuned MiniLM sentence classifier's logit of each sentence."""
    p = np.maximum(_encoder().probabilities(list(sentences)).astype(np.float64), 1e-37)
    return np.log(p[:, 1]) - np.log(p[:, 0])  # its two classes are (0, logit): softmax = sigmoid


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
    return _sigmoid(logistic_logits(model, x))


def logistic_logits(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The logistic regression's logit of each feature row."""
    return (((x - model["mean"]) / model["scale"]) @ model["coef"] + model["intercept"]).ravel()


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


@lru_cache(maxsize=1)
def _model() -> dict[str, np.ndarray]:
    model = weights.load_arrays(WEIGHTS_FILE)
    logger.debug("loaded %s (%d features)", WEIGHTS_FILE, model["coef"].shape[0])
    return model


@cache
def _blend() -> float:
    """The encoder's share of the logit, chosen by cross-validation (saved with its weights)."""
    return float(weights.load_array(ENCODER_FILE, "head.blend")[0])


_encoder_lock = threading.Lock()


@cache
def _shared_encoder():  # -> factcheck.judge.CrossEncoderJudge
    from factcheck.judge import CrossEncoderJudge

    return CrossEncoderJudge(weights_file=ENCODER_FILE, max_tokens=ENCODER_TOKENS)


def _encoder():
    """The process-wide sentence classifier, loaded once on first use."""
    with _encoder_lock:
        return _shared_encoder()
