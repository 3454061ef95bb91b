import pytest

from factcheck.models import Evidence, Label, Passage, Stance
from factcheck.verdict import CREDIBLE, VerdictInputs, VerdictModel, decide, trained_model


def threshold_model(support: float, refute: float) -> VerdictModel:
    """A model where each side wins over 'not enough evidence' past its own threshold."""
    return VerdictModel(coef=((10.0, 0.0, 0.0), (0.0, 10.0, 0.0)),
                        intercept=(-10.0 * support, -10.0 * refute, 0.0), lean_cap=0.3)


STRICT = threshold_model(0.5, 0.5)
LOW = threshold_model(0.2, 0.1)


def evidence(stance: Stance, confidence: float, similarity: float | None = None) -> Evidence:
    passage = Passage(id="p", text="Some text.", similarity=similarity)
    return Evidence(passage=passage, stance=stance, confidence=confidence, quote="Some text.",
                    rationale="test")


def judged(*items: tuple[Stance, float]) -> list[Evidence]:
    return [evidence(s, c) for s, c in items]


@pytest.mark.parametrize(
    ("items", "rule", "label"),
    [
        ([], STRICT, Label.NOT_ENOUGH_EVIDENCE),
        ([(Stance.NOT_ENOUGH_INFO, 0.9)], LOW, Label.NOT_ENOUGH_EVIDENCE),
        ([(Stance.SUPPORTS, 0.8), (Stance.NOT_ENOUGH_INFO, 0.9)], STRICT, Label.SUPPORTED),
        ([(Stance.REFUTES, 0.7)], STRICT, Label.CONTRADICTED),
        ([(Stance.SUPPORTS, 0.8), (Stance.REFUTES, 0.7)], STRICT, Label.MIXED),
        ([(Stance.SUPPORTS, 0.9), (Stance.REFUTES, 0.2)], STRICT, Label.SUPPORTED),
        # below its side's threshold a judgement does not decide
        ([(Stance.SUPPORTS, 0.3)], STRICT, Label.NOT_ENOUGH_EVIDENCE),
        ([(Stance.SUPPORTS, 0.3)], LOW, Label.SUPPORTED),
        ([(Stance.REFUTES, 0.05)], LOW, Label.NOT_ENOUGH_EVIDENCE),
        # both sides past their thresholds but not both clear: the larger margin decides
        ([(Stance.SUPPORTS, 0.6), (Stance.REFUTES, 0.15)], LOW, Label.SUPPORTED),
        ([(Stance.SUPPORTS, 0.25), (Stance.REFUTES, 0.3)], LOW, Label.CONTRADICTED),
    ],
)
def test_decide(items, rule, label):
    assert decide(judged(*items), rule).label == label


def test_a_lean_says_direction_unclear_and_its_confidence_is_capped():
    lean = decide(judged((Stance.REFUTES, 0.45)), LOW)
    clear = decide(judged((Stance.REFUTES, 0.9)), LOW)
    assert lean.label == clear.label == Label.CONTRADICTED
    assert "direction unclear" in lean.summary and "contradicting" in lean.summary
    assert lean.confidence == LOW.lean_cap
    assert lean.lean and not clear.lean
    assert "unclear" not in clear.summary and clear.confidence > CREDIBLE


def test_unclear_direction_is_said_plainly():
    nothing = decide([], STRICT)
    unclear = decide(judged((Stance.REFUTES, 0.3)), STRICT)
    assert "no evidence" in nothing.summary
    assert "unclear" in unclear.summary
    assert unclear.confidence < nothing.confidence


def test_contradiction_weakened_by_support():
    clean = decide(judged((Stance.REFUTES, 0.9)), STRICT)
    contested = decide(judged((Stance.REFUTES, 0.9), (Stance.SUPPORTS, 0.4)), STRICT)
    assert clean.label == contested.label == Label.CONTRADICTED
    assert contested.confidence < clean.confidence


def test_the_shipped_model_is_the_trained_one():
    model = trained_model()
    assert 0 < model.lean_cap <= CREDIBLE
    assert decide(judged((Stance.SUPPORTS, 0.9))).label == Label.SUPPORTED
    assert decide(judged((Stance.REFUTES, 0.9))).label == Label.CONTRADICTED
    assert decide([]).label == Label.NOT_ENOUGH_EVIDENCE


def test_confidence_is_the_models_probability_of_the_label():
    verdict = decide(judged((Stance.SUPPORTS, 0.9)), STRICT)
    assert verdict.confidence == round(float(STRICT.probabilities(VerdictInputs(0.9, 0.0))[0]), 3)


def test_not_enough_evidence_says_whether_anything_related_was_found():
    nothing = decide([], STRICT)
    unrelated = decide(judged((Stance.NOT_ENOUGH_INFO, 0.9)), STRICT)
    assert nothing.confidence == 1.0 and "holds no evidence" in nothing.summary
    assert "none reads as supporting or contradicting" in unrelated.summary
    assert unrelated.confidence == round(float(STRICT.probabilities(VerdictInputs(0.0, 0.0))[2]), 3)


# A model where closeness alone moves a claim from "not enough evidence" to the side it leans.
CLOSENESS = VerdictModel(mean=(0.0, 0.0, 0.5), scale=(1.0, 1.0, 0.1),
                         coef=((4.0, 0.0, 0.0), (0.0, 4.0, 0.0), (0.5, 0.5, -1.0)),
                         intercept=(0.0, 0.0, 1.0), lean_cap=0.3)


def test_a_close_passage_weighs_for_a_side_and_a_distant_one_against():
    close = decide([evidence(Stance.SUPPORTS, 0.4, similarity=0.8)], CLOSENESS)
    distant = decide([evidence(Stance.SUPPORTS, 0.4, similarity=0.3)], CLOSENESS)
    assert close.label == Label.SUPPORTED and close.lean
    assert distant.label == Label.NOT_ENOUGH_EVIDENCE


def test_closeness_is_the_best_related_passage_and_neutral_where_search_gives_none():
    inputs = VerdictInputs.of([evidence(Stance.REFUTES, 0.3, 0.42),
                               evidence(Stance.NOT_ENOUGH_INFO, 0.9, 0.61)])
    assert inputs == VerdictInputs(support=0.0, refute=0.3, closest=0.61)
    assert VerdictInputs.of([]).closest == 0.0
    lexical = VerdictInputs.of([evidence(Stance.SUPPORTS, 0.4)])  # lexical search: no cosine
    assert lexical.closest is None
    at_mean = VerdictInputs(0.4, 0.0, CLOSENESS.mean[2])
    assert (CLOSENESS.probabilities(lexical) == CLOSENESS.probabilities(at_mean)).all()
