"""`factcheck eval claims`: the labelled claim set and the measures printed on it."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest

from factcheck import claim_eval
from factcheck.cli import main
from factcheck.models import Claim
from factcheck.settings import Settings

CLAIM_SET = Path(__file__).resolve().parents[2] / "tests" / "data" / "claim_set"
LABELS = CLAIM_SET / "labels.jsonl"


def eval_claims_json(capsys, labels: Path) -> dict:
    assert main(["eval", "claims", "--labels", str(labels), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def rows() -> list[dict]:
    return [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]


def test_claim_set_has_four_articles_every_sentence_labelled_in_order():
    articles = claim_eval.load_claim_set(LABELS, Settings())
    assert {a.source for a, _ in articles} == {
        "seed_article.txt", "harbour_fire.txt", "transit_budget.md", "drought_report.pdf"}
    for article, gold in articles:
        assert gold and all(g.start < g.end for g in gold)
        assert all(a.end <= b.start for a, b in pairwise(gold))  # in order, no overlap
        assert len(article.text[gold[-1].end:].strip()) == 0  # nothing after the last one


def test_each_leaning_sentence_names_what_it_leans_on_and_not_in_its_own_words():
    for row in rows():
        if row["claim"] and not row["self_contained"]:
            assert row["refers_to"], row
            assert not any(ref.lower() in row["sentence"].lower() for ref in row["refers_to"]), row


def test_eval_claims_prints_precision_recall_and_self_contained_share(capsys):
    result = eval_claims_json(capsys, LABELS)
    assert {"precision", "recall", "f1", "self_contained", "atomic", "gold_claims"} <= set(result)
    assert result["articles"] == 4 and result["sentences"] == len(rows())
    assert result["gold_claims"] == sum(r["claim"] for r in rows())
    for key in ("precision", "recall", "self_contained", "leaning_marked", "atomic"):
        assert 0.0 <= result[key] <= 1.0
    # Measured on the labels as written (tests/data/README.md), before the rules were tuned:
    # the old sentence-per-claim extraction gave precision 0.77, self-contained 0.20, atomic 0.
    assert result["precision"] >= 0.9 and result["recall"] >= 0.9
    assert result["self_contained"] >= 0.6
    assert result["atomic"] >= 0.6


def test_eval_claims_readable_table(capsys):
    assert main(["eval", "claims", "--labels", str(LABELS)]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "recall" in out and "self_contained" in out


def test_measures_on_a_small_set_whose_answer_is_known(capsys, tmp_path):
    (tmp_path / "a.txt").write_text(
        "The Harlow dam holds 40 million cubic metres of water.\n\n"
        "Why does that matter?\n\n"
        "It was built in 1961 by the Harlow water board.\n", encoding="utf-8")
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps(r) for r in [
        {"article": "a.txt", "sentence": "The Harlow dam holds 40 million cubic metres of water.",
         "claim": True, "self_contained": True},
        {"article": "a.txt", "sentence": "Why does that matter?", "claim": False},
        {"article": "a.txt", "sentence": "It was built in 1961 by the Harlow water board.",
         "claim": True, "self_contained": False, "refers_to": ["dam"]},
    ]) + "\n", encoding="utf-8")
    result = eval_claims_json(capsys, labels)
    assert result["precision"] == 1.0  # the question is left out
    assert result["recall"] == 1.0
    assert result["gold_claims"] == 2


def test_a_sentence_missing_from_its_article_is_bad_input(capsys, tmp_path):
    (tmp_path / "a.txt").write_text("One sentence here that says a thing.\n", encoding="utf-8")
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"article": "a.txt", "sentence": "Another one.",
                                  "claim": True}) + "\n", encoding="utf-8")
    assert main(["eval", "claims", "--labels", str(labels), "--json"]) == 2
    assert "sentence 1 not found" in capsys.readouterr().err


@pytest.mark.parametrize(("wording", "alone"), [
    ("The Harlow dam was built in 1961.", True), ("It was built in 1961.", False)])
def test_a_leaning_sentence_reads_alone_once_its_wording_names_the_referent(wording, alone):
    gold = claim_eval.GoldSentence(key="a#1", text="It was built in 1961.", claim=True,
                                   self_contained=False, refers_to=["dam"], parts=1,
                                   start=0, end=21)
    claim = Claim(id=1, text=wording, start=0, end=21, checkworthiness=0.5)
    assert claim_eval.reads_alone(claim, gold) is alone
