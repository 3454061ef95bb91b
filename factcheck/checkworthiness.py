"""Offline check-worthiness: which sentences of an article state something worth checking.

`score` is a logistic regression on all-MiniLM-L6-v2 sentence embeddings plus a few cheap
surface features, trained on CLEF CheckThat! 2019 debate transcripts (training/train_offline.py;
factcheck/weights/MODEL_CARD.md has its data, numbers and limits). `is_checkable` is a handful of
plain rules that drop sentences nobody could check, whatever their score.
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
_GREETING = re.compile(
    r"^\W*(good (morning|afternoon|evening|night)|thank you|thanks|hello|hi|hey|welcome|"
    r"ladies and gentlemen|goodbye|bye|congratulations)\b",
    re.IGNORECASE,
)
_OPINION_START = re.compile(
    r"^\W*((so|well|and|but|now|look|frankly|honestly|yes|no),?\s+)?"  # "So, I think ..."
    r"(i (think|believe|feel|hope|guess|suppose)|in my (view|opinion)|"
    r"(we|you|they|he|she|i|everyone|somebody) (should|must|ought to|need to))\b",
    re.IGNORECASE,
)
MIN_WORDS = 5  # shorter fragments ("Absolutely.", "That's right, Bill.") state nothing checkable


def score(sentences: list[str], embeddings: np.ndarray | None = None) -> np.ndarray:
    """Check-worthiness in [0, 1] of each sentence (embeddings: their MiniLM vectors, if known)."""
    if not sentences:
        return np.zeros(0, dtype=np.float32)
    if embeddings is None:
        embeddings = weights.embedder().embed(list(sentences))
    return _sigmoid_scores(_model(), features(sentences, embeddings))


def features(sentences: list[str], embeddings: np.ndarray) -> np.ndarray:
    """The model's input rows: the embedding followed by the cheap features of FEATURE_NAMES."""
    cheap = np.array([_cheap_features(s) for s in sentences], dtype=np.float32)
    return np.hstack([np.asarray(embeddings, dtype=np.float32), cheap])


def is_checkable(sentence: str) -> bool:
    """False for questions, greetings, pure opinions and fragments; True otherwise."""
    text = sentence.strip()
    if not text or text.endswith("?") or _GREETING.match(text):
        return False
    if len(text.split()) < MIN_WORDS:
        return False
    if _OPINION_START.match(text) and not quantities(text):
        return False  # "I think we should..." is an opinion unless it carries a figure
    return not _is_heading(text)


def _is_heading(text: str) -> bool:
    # Title Case Lines Without A Full Stop are headings; "USA airstrike destroys tank" is kept.
    words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", text) if len(w) > 3]
    if text[-1] in ".!\"”'’" or not words:
        return False
    return sum(w[0].isupper() for w in words) / len(words) >= 0.8


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


def _sigmoid_scores(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    logits = ((x - model["mean"]) / model["scale"]) @ model["coef"] + model["intercept"]
    return (1.0 / (1.0 + np.exp(-logits.ravel()))).astype(np.float32)


@lru_cache(maxsize=1)
def _model() -> dict[str, np.ndarray]:
    model = weights.load_arrays(WEIGHTS_FILE)
    logger.debug("loaded %s (%d features)", WEIGHTS_FILE, model["coef"].shape[0])
    return model
