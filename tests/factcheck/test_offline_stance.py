"""Offline stance: trained pair model + rules, on the real MiniLM embedder and shipped weights."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from factcheck import offline_stance, stance_rules, verdict
from factcheck.models import Passage, Stance
from factcheck.offline_stance import decide, judge_offline
from factcheck.weights import embedder

UNEMPLOYMENT = "The unemployment rate fell to 4.1% in March."
TOLL = "Five Russians were killed in the clash."


def judge(claim: str, text: str):
    (evidence,) = judge_offline(claim, [Passage(id="p1", text=text)])
    return evidence


def test_same_statement_supports_and_quotes_its_sentence():
    text = ("Officials released new labour figures on Friday.  The unemployment rate fell to "
            "4.1% in March, the agency said. Wages grew slowly.")
    evidence = judge(UNEMPLOYMENT, text)
    assert evidence.stance is Stance.SUPPORTS
    assert evidence.quote == "The unemployment rate fell to 4.1% in March, the agency said."
    assert evidence.quote in text
    assert "cos" in evidence.rationale


def test_different_number_refutes_and_names_both_numbers():
    evidence = judge(TOLL, "The fighting lasted for hours. Officials said thirteen Russians "
                           "were killed in the clash.")
    assert evidence.stance is Stance.REFUTES
    assert evidence.quote == "Officials said thirteen Russians were killed in the clash."
    assert evidence.rationale == "numbers differ: Five vs thirteen"


def test_approximate_number_that_fits_is_not_a_conflict():
    evidence = judge(TOLL, "Officials said about five Russians were killed in the clash.")
    assert evidence.stance is not Stance.REFUTES


def test_negation_refutes():
    evidence = judge("The drug reduces blood pressure in adults.",
                     "In a large trial, the drug did not reduce blood pressure in adults.")
    assert evidence.stance is Stance.REFUTES
    assert "negation" in evidence.rationale


def test_unrelated_passage_is_not_enough_info():
    evidence = judge(UNEMPLOYMENT, "Paris is the capital of France. The Eiffel Tower was "
                                   "finished in 1889 for the World's Fair.")
    assert evidence.stance is Stance.NOT_ENOUGH_INFO


def test_one_evidence_per_passage_from_one_embed_call():
    calls: list[list[str]] = []

    class Counting:
        name = "counting-minilm"

        def embed(self, texts: list[str]) -> np.ndarray:
            calls.append(list(texts))
            return embedder().embed(texts)

    passages = [Passage(id=str(n), text=f"Passage {n} says the rate fell to 4.{n}% in March.")
                for n in range(3)]
    found = judge_offline(UNEMPLOYMENT, passages, embedder=Counting())
    assert [e.passage.id for e in found] == ["0", "1", "2"]
    assert len(calls) == 1 and len(calls[0]) == 4  # the claim and the three sentences
    judge_offline(UNEMPLOYMENT, passages, embedder=Counting())
    assert len(calls) == 1  # sentences and claim seen before are not embedded again


def test_unclear_direction_is_not_enough_info_with_low_confidence():
    probs = np.array([[0.46, 0.44, 0.10], [0.05, 0.05, 0.90]])
    found = decide(probs, np.array([0.8, 0.1]), min_evidence=0.5, min_direction=0.6)
    assert found.stance is Stance.NOT_ENOUGH_INFO
    assert found.rationale.startswith("related evidence found, direction unclear")
    assert found.confidence < 0.5 and found.sentence == 0


def test_weights_ship_as_package_data():
    for name in (offline_stance.WEIGHTS_FILE, verdict.WEIGHTS_FILE):
        assert resources.files("factcheck.weights").joinpath(name).is_file()
    model = offline_stance._model()
    evidence, direction = model["evidence_columns"], model["direction_columns"]
    assert model["evidence_coef"].shape == (len(evidence), 1)
    assert model["direction_coef"].shape == (len(direction), 1)
    assert set(offline_stance.columns(offline_stance.JUDGE_NAMES)) <= set(evidence)
    assert 0.0 < float(model["min_evidence"]) < 1.0


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_passage_is_not_enough_info(text):
    evidence = judge(UNEMPLOYMENT, text)
    assert evidence.stance is Stance.NOT_ENOUGH_INFO


def test_weak_direction_is_reported_as_a_lean():
    probs = np.array([[0.47, 0.43, 0.10]])
    found = decide(probs, np.array([0.8]), min_evidence=0.5, min_direction=0.5)
    assert found.stance is Stance.SUPPORTS
    assert found.rationale.startswith("related evidence found, direction unclear, leans supports")
    assert found.confidence < offline_stance.LEANING


@pytest.mark.parametrize(
    ("claim", "sentence", "fired"),
    [
        ("Chenodeoxycholic acid treatment decreases brown adipose tissue activity.",
         "Treatment with CDCA for 2 days resulted in increased BAT activity.",
         {"antonym_flip", "target_mismatch", "target_mismatch_only"}),
        ("HbA1c consistently overestimates glycemic control in black individuals.",
         "HbA1c may systematically underestimate past glycemia in black patients.",
         {"antonym_flip"}),
        ("Statins lower the risk of hip fracture.",
         "Statin use was associated with a lower risk of hip fracture.",
         {"antonym_match", "target_match", "target_match_only"}),
    ],
)
def test_opposite_and_matching_wording_features(claim, sentence, fired):
    row = dict(zip(stance_rules.RULE_NAMES, stance_rules.rule_features(
        claim, stance_rules.facts(claim), sentence, 0.8, 0.8)))
    opposites = {"antonym_flip", "antonym_match", "target_mismatch", "target_match",
                 "target_mismatch_only", "target_match_only"}
    assert {name for name in opposites if row[name] > 0} == fired


@pytest.mark.parametrize(
    ("claim", "sentence", "refutes"),
    [
        # issue 9's reproductions: both sides negate the same phrase, one of them more narrowly
        ("Maria Zakharova said the five Russians killed in the clash were not military "
         "personnel.", "She said the five Russians killed were not Russian military personnel.",
         False),
        ("Those killed in the clash were not members of the Russian armed forces.",
         "She said the five Russians killed were not Russian military personnel.", False),
        ("The drug reduces blood pressure in adults.",
         "In a large trial, the drug did not reduce blood pressure in adults.", True),
        ("Russia's military said it was not involved in the attack.",
         "The Russian military was involved in the attack, officials said.", True),
    ],
)
def test_negation_rule_reads_the_negated_phrase(claim, sentence, refutes):
    found = stance_rules.negation_rule(claim, [sentence], np.array([0.9]))
    assert (found is not None and found.stance is Stance.REFUTES) == refutes


def test_a_reading_of_a_sentence_silent_on_what_the_claim_negates_is_dropped():
    claim = "The five Russians killed in the clash were not military personnel."
    sentences = ["Five Russian citizens may have been killed in the clash.",
                 "She said the five Russians killed were not Russian military personnel.",
                 "The dead included military personnel, officials said."]
    reading = np.full((3, 3), 1 / 3, dtype=np.float32)
    kept = offline_stance.guarded(claim, sentences, reading)
    assert np.isnan(kept[0]).all()  # names nothing the claim negates: cannot refute that part
    assert np.isfinite(kept[1:]).all()  # negates alike / speaks of it: read as it is
    assert offline_stance.guarded("Five Russians were killed.", sentences, reading) is reading


def test_a_sentence_that_opens_with_the_claim_and_goes_on_supports_it():
    evidence = judge("Wagner is registered in Hong Kong",
                     "Wagner is registered in Hong Kong and has no public offices in Russian "
                     "Federation and no contact details.")
    assert evidence.stance is Stance.SUPPORTS
    assert evidence.rationale == "the source states the claim word for word"


@pytest.mark.parametrize(
    "sentence",
    [
        "Reports that Wagner is registered in Hong Kong are false.",  # said, then denied
        "Officials denied that Wagner is registered in Hong Kong.",
        "Wagner is registered in Hong Kong, officials denied.",  # goes on, but not with "and"
        "Wagner is not registered in Hong Kong and has no offices.",
    ],
)
def test_the_claim_inside_a_sentence_that_may_deny_it_is_not_a_statement(sentence):
    assert stance_rules.stated_rule("Wagner is registered in Hong Kong", [sentence]) is None


def test_a_confident_contrary_reading_drops_a_stated_claim():
    rule = stance_rules.stated_rule("Wagner is registered in Hong Kong",
                                    ["Wagner is registered in Hong Kong and Macau."])
    assert rule is not None and rule.stance is Stance.SUPPORTS
    refuting = np.array([[0.05, 0.9, 0.05]], dtype=np.float32)
    supporting = np.array([[0.9, 0.05, 0.05]], dtype=np.float32)
    assert offline_stance.judge_disagrees(rule, refuting)
    assert not offline_stance.judge_disagrees(rule, supporting)


def test_a_claim_of_under_four_words_is_never_read_as_stated():
    assert not stance_rules.stated_rule("Prices rose", ["Prices rose and wages fell."])
