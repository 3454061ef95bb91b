"""The judge's cross-encoder, run by onnxruntime from the shipped weights (factcheck/judge.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from factcheck.judge import cross_encoder
from factcheck.models import Passage, Stance
from factcheck.offline_stance import judge_available, judge_offline

ZAKHAROVA = ("Foreign Ministry spokeswoman Maria Zakharova told reporters that the five Russians "
             "killed in the clash were not Russian military personnel.")


def judge(claim: str, text: str):
    (evidence,) = judge_offline(claim, [Passage(id="p1", text=text)])
    return evidence


def test_judge_weights_ship():
    assert judge_available()


def test_probabilities_are_a_distribution_per_pair_in_order():
    pairs = [("The sky is blue.", "The sky is blue."), ("Cats bark.", "Cats never bark."),
             ("Paris is in France.", "The sky is blue.")]
    probs = cross_encoder().probabilities(pairs)
    assert probs.shape == (3, 3)
    assert np.allclose(probs.sum(1), 1.0, atol=1e-5)
    alone = cross_encoder().probabilities(pairs[1:2])
    assert np.allclose(alone[0], probs[1], atol=1e-4)  # batching and padding change nothing
    assert cross_encoder().probabilities([]).shape == (0, 3)


def test_negation_of_a_narrower_phrase_supports():
    # Issue 9's reproductions: "not military" vs "not Russian military" is no contradiction.
    claim = ("Maria Zakharova said the five Russians killed in the clash were not military "
             "personnel.")
    assert judge(claim, ZAKHAROVA).stance is Stance.SUPPORTS
    evidence = judge("Those killed in the clash were not members of the Russian armed forces.",
                     ZAKHAROVA)
    assert evidence.stance is not Stance.REFUTES


def test_different_share_still_refutes():
    evidence = judge("One in two surgical randomized controlled trials are discontinued early.",
                     "CONCLUSIONS One in five surgical randomised controlled trials are "
                     "discontinued early, one in three completed trials remain unpublished.")
    assert evidence.stance is Stance.REFUTES


def test_cross_encoder_reads_most_news_pairs_right():
    # Our own 30 labelled pairs about the seed event (tests/data/news_seed/README.md); 23 right
    # when written. A regression guard, not a measure: the pipeline around it does worse there
    # (bench/stance.py --pairs tests/data/news_seed/pairs.jsonl).
    path = Path(__file__).resolve().parents[1] / "data" / "news_seed" / "pairs.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    probs = cross_encoder().probabilities([(r["claim"], r["evidence"]) for r in rows])
    gold = [("supports", "refutes", "neither").index(r["label"]) for r in rows]
    assert np.mean(probs.argmax(1) == np.array(gold)) >= 0.7
