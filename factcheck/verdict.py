"""Turn the judged evidence of one claim into a verdict, without guessing.

The rule is learnt: a three-class logistic regression on the claim's strongest supporting and
strongest refuting judgement gives P(supported), P(contradicted) and P(not enough evidence).
training/train_offline.py fits it on SciFact training claims run through the whole pipeline
(each judged by a stance model that never saw it) and saves it in factcheck/weights/verdict.json.
A verdict that rests on a judgement below CREDIBLE is a lean: it says "related evidence found,
direction unclear" and its confidence is capped, so a weak call never reads as a confident one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from factcheck import weights
from factcheck.models import Evidence, Label, Stance, Verdict

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "verdict.json"
# A judgement at or above this confidence is shown as clear; below it the direction is only a
# lean. The offline stance confidence is P(evidence) x P(direction), so 0.5 is "more likely
# right than not" by the model's own account.
CREDIBLE = 0.5
LABELS = (Label.SUPPORTED, Label.CONTRADICTED, Label.NOT_ENOUGH_EVIDENCE)  # the model's classes


@dataclass(frozen=True)
class VerdictModel:
    """Logistic regression of the label on (strongest support, strongest refutation)."""

    mean: tuple[float, float] = (0.0, 0.0)
    scale: tuple[float, float] = (1.0, 1.0)
    # One row per input, one column per label in LABELS order. The default: each side's score
    # counts for its label against a fixed CREDIBLE for "not enough evidence".
    coef: tuple[tuple[float, ...], ...] = ((10.0, 0.0, 0.0), (0.0, 10.0, 0.0))
    intercept: tuple[float, ...] = (0.0, 0.0, 10.0 * CREDIBLE)
    # Confidence given to a lean: the share of leaning verdicts that were right in training.
    lean_cap: float = field(default=CREDIBLE / 2)

    def probabilities(self, support: float, refute: float) -> np.ndarray:
        """P(label) for each of LABELS."""
        x = (np.array([support, refute]) - np.array(self.mean)) / np.array(self.scale)
        logits = x @ np.array(self.coef) + np.array(self.intercept)
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()


@lru_cache(maxsize=1)
def trained_model() -> VerdictModel:
    """The model saved by the training script (the default one if the file is missing)."""
    try:
        saved = weights.load_json(WEIGHTS_FILE)
    except FileNotFoundError:
        logger.warning("%s missing: using the default verdict rule", WEIGHTS_FILE)
        return VerdictModel()
    return VerdictModel(
        mean=tuple(saved["mean"]), scale=tuple(saved["scale"]),
        coef=tuple(tuple(row) for row in saved["coef"]), intercept=tuple(saved["intercept"]),
        lean_cap=float(saved["lean_cap"]),
    )


def decide(evidence: list[Evidence], model: VerdictModel | None = None) -> Verdict:
    """SUPPORTED, CONTRADICTED, MIXED or NOT_ENOUGH_EVIDENCE from one claim's evidence."""
    model = model or trained_model()
    support = _strongest(evidence, Stance.SUPPORTS)
    refute = _strongest(evidence, Stance.REFUTES)
    label = label_for(support, refute, model)
    if label is Label.MIXED:
        return Verdict(
            label=label, confidence=round(min(support, refute), 3),
            summary="Trusted sources disagree: some support this claim and some contradict it.",
        )
    probability = float(model.probabilities(support, refute)[LABELS.index(label)])
    if label is Label.NOT_ENOUGH_EVIDENCE:
        return _not_enough(evidence, max(support, refute), probability)
    strength = support if label is Label.SUPPORTED else refute
    return _directed(label, strength, probability, model.lean_cap)


def label_for(support: float, refute: float, model: VerdictModel) -> Label:
    """The label from the strongest support and refutation (also used by training)."""
    if min(support, refute) >= CREDIBLE:  # both sides clear: say that the sources disagree
        return Label.MIXED
    return LABELS[int(np.argmax(model.probabilities(support, refute)))]


def _directed(label: Label, strength: float, probability: float, lean_cap: float) -> Verdict:
    if strength >= CREDIBLE:
        done = "Supported" if label is Label.SUPPORTED else "Contradicted"
        return Verdict(label=label, confidence=round(probability, 3),
                       summary=f"{done} by the collection.")
    # A lean: keep the label the model chose, but say how weak it is and cap its confidence.
    lean = "supporting" if label is Label.SUPPORTED else "contradicting"
    return Verdict(
        label=label, confidence=round(min(probability, lean_cap), 3), lean=True,
        summary=f"Related evidence found, direction unclear: it leans towards {lean} the claim; "
        "read the quotes.",
    )


def _strongest(evidence: list[Evidence], stance: Stance) -> float:
    return max((e.confidence for e in evidence if e.stance == stance), default=0.0)


def _not_enough(evidence: list[Evidence], leaning: float, probability: float) -> Verdict:
    # Confidence here is how sure we are that the collection does not settle the claim.
    if not evidence:  # nothing related was found: that much is certain
        return Verdict(label=Label.NOT_ENOUGH_EVIDENCE, confidence=1.0,
                       summary="The collection holds no evidence on this claim.")
    if leaning > 0:
        summary = "Related evidence found, but its direction is unclear; read the quotes."
    else:
        summary = "Related passages found, but none reads as supporting or contradicting it."
    return Verdict(label=Label.NOT_ENOUGH_EVIDENCE, confidence=round(probability, 3),
                   summary=summary)
