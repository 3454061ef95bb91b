"""Turn the judged evidence of one claim into a verdict, without guessing."""

from __future__ import annotations

from factcheck.models import Evidence, Label, Stance, Verdict

# Evidence below this confidence is shown but does not decide a verdict: an unsure direction
# is reported as "direction unclear" rather than turned into a confident wrong verdict.
CREDIBLE = 0.5


def decide(evidence: list[Evidence]) -> Verdict:
    """SUPPORTED, CONTRADICTED, MIXED or NOT_ENOUGH_EVIDENCE from one claim's evidence."""
    support = _strongest(evidence, Stance.SUPPORTS)
    refute = _strongest(evidence, Stance.REFUTES)
    if support >= CREDIBLE and refute >= CREDIBLE:
        return Verdict(
            label=Label.MIXED,
            confidence=round(min(support, refute), 3),
            summary="Trusted sources disagree: some support this claim and some contradict it.",
        )
    if support >= CREDIBLE:
        return Verdict(
            label=Label.SUPPORTED,
            confidence=round(support * (1 - refute / 2), 3),
            summary="Supported by the collection.",
        )
    if refute >= CREDIBLE:
        return Verdict(
            label=Label.CONTRADICTED,
            confidence=round(refute * (1 - support / 2), 3),
            summary="Contradicted by the collection.",
        )
    return _not_enough(evidence, max(support, refute))


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
