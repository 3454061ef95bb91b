"""Turn the judged evidence of one claim into a verdict, without guessing.

The rule is learnt: a three-class logistic regression on the claim's strongest supporting and
strongest refuting judgement, and on how close its closest related passage is, gives
P(supported), P(contradicted) and P(not enough evidence). Closeness carries across domains where
the judge's confidence does not: a passage that restates the claim is close whatever its topic.
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
class VerdictInputs:
    """What the verdict model reads of one claim's judged evidence."""

    support: float  # the strongest SUPPORTS confidence
    refute: float  # the strongest REFUTES confidence
    # The highest cosine similarity of a related passage to the claim; None where search gave
    # none (lexical mode): the model then reads it as the training average.
    closest: float | None = 0.0

    @classmethod
    def of(cls, evidence: list[Evidence]) -> VerdictInputs:
        similarities = [e.passage.similarity for e in evidence if e.passage.similarity is not None]
        closest = max(similarities) if similarities else (None if evidence else 0.0)
        return cls(_strongest(evidence, Stance.SUPPORTS), _strongest(evidence, Stance.REFUTES),
                   closest)


@dataclass(frozen=True)
class VerdictModel:
    """Logistic regression of the label on VerdictInputs (support, refute, closest)."""

    mean: tuple[float, ...] = (0.0, 0.0)
    scale: tuple[float, ...] = (1.0, 1.0)
    # One row per input, one column per label in LABELS order. The default: each side's score
    # counts for its label against a fixed CREDIBLE for "not enough evidence"; a model with two
    # rows (older weights, tests) reads support and refute only.
    coef: tuple[tuple[float, ...], ...] = ((10.0, 0.0, 0.0), (0.0, 10.0, 0.0))
    intercept: tuple[float, ...] = (0.0, 0.0, 10.0 * CREDIBLE)
    # Confidence given to a lean: the share of leaning verdicts that were right in training.
    lean_cap: float = field(default=CREDIBLE / 2)

    def probabilities(self, inputs: VerdictInputs) -> np.ndarray:
        """P(label) for each of LABELS."""
        mean = np.array(self.mean)
        closest = inputs.closest
        if closest is None:  # no cosine (lexical search): the training average moves nothing
            closest = float(mean[2]) if len(mean) > 2 else 0.0
        row = np.array([inputs.support, inputs.refute, closest])[: len(mean)]
        logits = (row - mean) / np.array(self.scale) @ np.array(self.coef) + np.array(self.intercept)
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
    """SUPPORTED, CONTRADICTED, MIXED or NOT_ENOUGH_EVIDENCE from one claim's evidence; no firm
    verdict where the LLM's reading of a passage is disputed (Evidence.disagreement)."""
    model = model or trained_model()
    verdict = _decide(evidence, model)
    disputed = sum(1 for e in evidence if e.disagreement is not None)
    return _disputed(verdict, disputed, model.lean_cap) if disputed else verdict


def _disputed(verdict: Verdict, disputed: int, lean_cap: float) -> Verdict:
    """A verdict beside disputed evidence: at most a lean, and the summary says why."""
    which = f"the language model's reading of {disputed} passage{'s' * (disputed > 1)}"
    if verdict.label is Label.MIXED:
        return verdict.model_copy(update={"summary": f"{verdict.summary} And {which} is "
                                                     "disputed (see below)."})
    if verdict.label is Label.NOT_ENOUGH_EVIDENCE:
        rest = "the rest does not settle it"
    else:
        lean = "supporting" if verdict.label is Label.SUPPORTED else "contradicting"
        rest = f"the rest leans towards {lean} the claim"
    return verdict.model_copy(update={
        "lean": verdict.label is not Label.NOT_ENOUGH_EVIDENCE,
        "confidence": round(min(verdict.confidence, lean_cap), 3),
        "summary": f"No firm verdict: {which} is disputed (see below), and {rest}.",
    })


def _decide(evidence: list[Evidence], model: VerdictModel) -> Verdict:
    inputs = VerdictInputs.of(evidence)
    support, refute = inputs.support, inputs.refute
    label = label_for(inputs, model)
    if label is Label.MIXED:
        return Verdict(
            label=label, confidence=round(min(support, refute), 3),
            summary="Trusted sources disagree: some support this claim and some contradict it.",
        )
    probability = float(model.probabilities(inputs)[LABELS.index(label)])
    if label is Label.NOT_ENOUGH_EVIDENCE:
        return _not_enough(evidence, max(support, refute), probability)
    strength = support if label is Label.SUPPORTED else refute
    return _directed(label, strength, probability, model.lean_cap)


def label_for(inputs: VerdictInputs, model: VerdictModel) -> Label:
    """The label from one claim's inputs (also used by training)."""
    if min(inputs.support, inputs.refute) >= CREDIBLE:  # both sides clear: the sources disagree
        return Label.MIXED
    return LABELS[int(np.argmax(model.probabilities(inputs)))]


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
