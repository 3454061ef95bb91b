import pytest

from factcheck.models import Evidence, Label, Passage, Stance
from factcheck.verdict import decide


def evidence(stance: Stance, confidence: float) -> Evidence:
    passage = Passage(id="p", text="Some text.")
    return Evidence(passage=passage, stance=stance, confidence=confidence, quote="Some text.",
                    rationale="test")


@pytest.mark.parametrize(
    ("items", "label"),
    [
        ([], Label.NOT_ENOUGH_EVIDENCE),
        ([(Stance.NOT_ENOUGH_INFO, 0.9)], Label.NOT_ENOUGH_EVIDENCE),
        ([(Stance.SUPPORTS, 0.8), (Stance.NOT_ENOUGH_INFO, 0.9)], Label.SUPPORTED),
        ([(Stance.REFUTES, 0.7)], Label.CONTRADICTED),
        ([(Stance.SUPPORTS, 0.8), (Stance.REFUTES, 0.7)], Label.MIXED),
        # weak evidence alone never becomes a verdict: the direction is unclear
        ([(Stance.SUPPORTS, 0.3)], Label.NOT_ENOUGH_EVIDENCE),
        ([(Stance.SUPPORTS, 0.9), (Stance.REFUTES, 0.2)], Label.SUPPORTED),
    ],
)
def test_decide(items, label):
    assert decide([evidence(s, c) for s, c in items]).label == label


def test_unclear_direction_is_said_plainly():
    nothing = decide([])
    unclear = decide([evidence(Stance.REFUTES, 0.3)])
    assert "no evidence" in nothing.summary
    assert "unclear" in unclear.summary
    assert unclear.confidence < nothing.confidence


def test_contradiction_weakened_by_support():
    clean = decide([evidence(Stance.REFUTES, 0.9)])
    contested = decide([evidence(Stance.REFUTES, 0.9), evidence(Stance.SUPPORTS, 0.4)])
    assert clean.label == contested.label == Label.CONTRADICTED
    assert contested.confidence < clean.confidence
