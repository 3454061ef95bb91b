"""Turn the judged evidence of one claim into a verdict, without guessing.

The rule: the strongest supporting and the strongest refuting judgement are compared with two
thresholds that training/train_offline.py tunes by cross-validation on end-to-end SciFact
verdicts and saves in factcheck/weights/verdict.json. A verdict that rests on a judgement
below CREDIBLE is said to be a lean ("related evidence found, direction unclear") and its
confidence is capped there, so that a weak call never reads as a confident one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from factcheck import weights
from factcheck.models import Evidence, Label, Stance, Verdict

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "verdict.json"
# A judgement at or above this confidence is shown as clear; below it the direction is only a
# lean. Held at the offline stance model's level where half its calls are right (MODEL_CARD.md).
CREDIBLE = 0.5


@dataclass(frozen=True)
class VerdictRule:
    """The two thresholds a claim's strongest support / refutation must reach to decide it."""

    support: float = CREDIBLE
    refute: float = CREDIBLE
    # Confidence given to a lean: the share of leaning verdicts that were right in training.
    lean_cap: float = CREDIBLE / 2


@lru_cache(maxsize=1)
def trained_rule() -> VerdictRule:
    """The thresholds saved by the training script (the defaults if the file is missing)."""
    try:
        saved = weights.load_json(WEIGHTS_FILE)
    except FileNotFoundError:
        logger.warning("%s missing: using verdict thresholds %s", WEIGHTS_FILE, CREDIBLE)
        return VerdictRule()
    return VerdictRule(support=float(saved["support"]), refute=float(saved["refute"]),
                       lean_cap=float(saved["lean_cap"]))


def decide(evidence: list[Evidence], rule: VerdictRule | None = None) -> Verdict:
    """SUPPORTED, CONTRADICTED, MIXED or NOT_ENOUGH_EVIDENCE from one claim's evidence."""
    rule = rule or trained_rule()
    support = _strongest(evidence, Stance.SUPPORTS)
    refute = _strongest(evidence, Stance.REFUTES)
    label = label_for(support, refute, rule)
    if label is Label.MIXED:
        return Verdict(
            label=label, confidence=round(min(support, refute), 3),
            summary="Trusted sources disagree: some support this claim and some contradict it.",
        )
    if label is Label.SUPPORTED:
        return _directed(label, support, refute, rule, "supporting")
    if label is Label.CONTRADICTED:
        return _directed(label, refute, support, rule, "contradicting")
    return _not_enough(evidence, max(support, refute))


def label_for(support: float, refute: float, rule: VerdictRule) -> Label:
    """The label from the strongest support and refutation (also used by training)."""
    supported, refuted = support >= rule.support, refute >= rule.refute
    if supported and refuted:
        if min(support, refute) >= CREDIBLE:  # both sides clear: say the sources disagree
            return Label.MIXED
        # Otherwise the side further past its threshold decides.
        supported = support - rule.support >= refute - rule.refute
        refuted = not supported
    if supported:
        return Label.SUPPORTED
    return Label.CONTRADICTED if refuted else Label.NOT_ENOUGH_EVIDENCE


def _directed(label: Label, strength: float, against: float, rule: VerdictRule,
              lean: str) -> Verdict:
    confidence = strength * (1 - against / 2)
    if strength >= CREDIBLE:
        done = "Supported" if label is Label.SUPPORTED else "Contradicted"
        return Verdict(label=label, confidence=round(confidence, 3),
                       summary=f"{done} by the collection.")
    # A lean: keep the label the thresholds chose, but say how weak it is and cap it.
    return Verdict(
        label=label, confidence=round(min(confidence, rule.lean_cap), 3),
        summary=f"Related evidence found, direction unclear: it leans towards {lean} the claim; "
        "read the quotes.",
    )


def _strongest(evidence: list[Evidence], stance: Stance) -> float:
    return max((e.confidence for e in evidence if e.stance == stance), default=0.0)


def _not_enough(evidence: list[Evidence], leaning: float) -> Verdict:
    if leaning > 0:
        summary = "Related evidence found, but its direction is unclear; read the quotes."
    else:
        summary = "The collection holds no evidence on this claim."
    # Confidence here is how sure we are that the collection does not settle the claim.
    return Verdict(
        label=Label.NOT_ENOUGH_EVIDENCE, confidence=round(1 - leaning, 3), summary=summary
    )
