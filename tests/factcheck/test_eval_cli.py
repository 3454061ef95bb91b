"""`factcheck eval ...` on small labelled samples: the contract's keys and sane values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factcheck.cli import main

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"


def eval_json(capsys, *argv: str) -> dict:
    assert main(["eval", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_eval_retrieval(capsys):
    result = eval_json(capsys, "retrieval", "--corpus", str(DATA / "corpus.jsonl"),
                       "--claims", str(DATA / "claims.jsonl"))
    assert set(result) == {"n", "ndcg@10", "recall@5", "recall@10", "mrr@10", "seconds"}
    assert result["n"] == 10
    assert result["ndcg@10"] > 0.7  # 20 abstracts: each claim's cited abstract ranks near the top


def test_eval_retrieval_lexical_half_is_measured_the_same_way(capsys):
    files = ["--corpus", str(DATA / "corpus.jsonl"), "--claims", str(DATA / "claims.jsonl")]
    lexical = eval_json(capsys, "retrieval", *files, "--mode", "lexical")
    assert lexical["n"] == 10 and 0 < lexical["ndcg@10"] <= 1


def test_eval_retrieval_never_touches_the_users_collection(capsys, tmp_path):
    eval_json(capsys, "retrieval", "--corpus", str(DATA / "corpus.jsonl"),
              "--claims", str(DATA / "claims.jsonl"))
    assert main(["sources"]) == 0
    assert "0 source(s)" in capsys.readouterr().out


def test_eval_stance(capsys):
    result = eval_json(capsys, "stance", "--pairs", str(DATA / "pairs.jsonl"))
    assert set(result) == {"n", "accuracy", "macro_f1", "per_label", "confusion"}
    assert result["n"] == 10
    assert set(result["per_label"]) == {"SUPPORTS", "REFUTES", "NOT_ENOUGH_INFO"}
    assert sum(sum(row.values()) for row in result["confusion"].values()) == 10


def test_eval_checkworthiness(capsys):
    result = eval_json(capsys, "checkworthiness", "--sentences", str(DATA / "sentences.jsonl"))
    assert set(result) == {"n", "map", "p@10"}
    assert result["n"] == 80
    assert result["map"] > 5 / 40  # better than a random ranking of 5 positives in 40


def test_eval_verdicts(capsys):
    result = eval_json(capsys, "verdicts", "--corpus", str(DATA / "corpus.jsonl"),
                       "--claims", str(DATA / "claims.jsonl"))
    assert set(result) == {"n", "accuracy", "macro_f1", "per_label"}
    assert result["n"] == 10


def test_eval_readable_table(capsys):
    assert main(["eval", "checkworthiness", "--sentences", str(DATA / "sentences.jsonl")]) == 0
    assert "map" in capsys.readouterr().out


@pytest.mark.parametrize("line", ["{broken", '{"id": "1", "claim": "x"}'])
def test_eval_malformed_line_is_bad_input(capsys, tmp_path, line):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(line + "\n")
    assert main(["eval", "stance", "--pairs", str(pairs), "--json"]) == 2
    assert "line 1" in capsys.readouterr().err
