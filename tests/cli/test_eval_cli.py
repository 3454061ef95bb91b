"""`factcheck eval ...` on small labelled samples: the contract's keys and sane values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factcheck import evaluation
from factcheck.cli import main
from factcheck.llm import LLM_WINDOW

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


@pytest.mark.parametrize(("kind", "flag", "line", "said"), [
    ("stance", "--pairs", '{"id": 1, "claim": "x", "passage": "y", "label": "MAYBE"}',
     "line 2: label 'MAYBE' is not one of \"SUPPORTS\", \"REFUTES\", \"NOT_ENOUGH_INFO\""),
    ("checkworthiness", "--sentences", '{"id": 1, "group": "g", "text": "x", "label": "perhaps"}',
     "line 1: label 'perhaps' is not one of 0, 1"),
])
def test_a_label_outside_its_set_is_refused_before_any_work(capsys, tmp_path, kind, flag, line,
                                                            said):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": 0, "claim": "a", "passage": "b", "group": "g", "text": "t", '
                    '"label": "SUPPORTS"}\n' * (kind == "stance") + line + "\n")
    assert main(["eval", kind, flag, str(rows), "--json"]) == 2
    assert said in capsys.readouterr().err


def test_an_eval_file_is_read_as_utf8_with_or_without_a_byte_order_mark(capsys, tmp_path):
    pairs = (DATA / "pairs.jsonl").read_bytes()
    marked = tmp_path / "marked.jsonl"
    marked.write_bytes(b"\xef\xbb\xbf" + pairs)
    assert eval_json(capsys, "stance", "--pairs", str(marked))["n"] == 10
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"id": 1, "claim": "Caf\u00e9", "passage": "x", "label": "SUPPORTS"}\n'
                      .encode("latin-1"))
    assert main(["eval", "stance", "--pairs", str(latin)]) == 2
    assert "line 1: not UTF-8 text (byte 0xe9); save the file as UTF-8" in capsys.readouterr().err
    assert main(["eval", "stance", "--pairs", str(tmp_path)]) == 2
    assert "is a folder: give the JSONL file" in capsys.readouterr().err


def test_eval_checkworthiness_with_the_llm_scores_each_sentence_by_its_claims(
    capsys, openai_server, monkeypatch
):
    server, settings = openai_server
    monkeypatch.setenv("OPENAI_BASE_URL", settings.openai_base_url)
    monkeypatch.setenv("LLM_CONCURRENCY", "1")  # windows reach the server in order
    rows = [json.loads(line) for line in (DATA / "sentences.jsonl").read_text().splitlines()]
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["group"], []).append(row)
    windows = [members[i : i + LLM_WINDOW]
               for members in groups.values() for i in range(0, len(members), LLM_WINDOW)]
    for window in windows:  # the scripted LLM finds a claim in each check-worthy sentence
        found = [{"claim": r["text"], "source_sentence": r["text"], "checkworthiness": 0.9}
                 for r in window if r["label"]]
        found.append({"claim": window[0]["text"], "source_sentence": window[0]["text"],
                      "checkworthiness": 0.2})
        server.answer({"claims": found})
    result = eval_json(capsys, "checkworthiness", "--sentences", str(DATA / "sentences.jsonl"),
                       "--engine", "llm")
    assert result["n"] == 80 and result["map"] == 1.0
    assert len(server.chat_requests) == len(windows)
    first = server.chat_requests[0]["messages"]
    assert "\n".join(r["text"] for r in windows[0]) in first[-1]["content"]
    assert f"at most {LLM_WINDOW} claims" in first[0]["content"]


def test_eval_scifact_on_the_sample(capsys):
    result = eval_json(capsys, "scifact", "--corpus", str(DATA / "corpus.jsonl"),
                       "--claims", str(DATA / "claims.jsonl"))
    assert result["n"] == 10 and result["gold_abstracts"] >= 1
    assert 0 <= result["label_only_f1"] <= 1
    assert result["label_rationale_f1"] is None  # no rationale sentences given


def test_scifact_scores_count_abstracts_labels_and_rationales():
    rows = [{"id": "1", "claim": "c1", "label": "SUPPORTS", "gold_ids": ["10", "11"]},
            {"id": "2", "claim": "c2", "label": "REFUTES", "gold_ids": ["20"]},
            {"id": "3", "claim": "c3", "label": "NOT_ENOUGH_INFO", "gold_ids": ["30"]}]
    predicted = [
        {"10": {"label": "SUPPORTS", "quotes": ["x", "y", "z", "Gold one."]},  # past the cap
         "11": {"label": "SUPPORTS", "quotes": ["Gold  two."]},
         "12": {"label": "SUPPORTS", "quotes": ["q"]}},  # not cited: wrong
        {"20": {"label": "SUPPORTS", "quotes": ["Gold three."]}},  # wrong label
        {"30": {"label": "REFUTES", "quotes": ["q"]}},  # a NOT_ENOUGH_INFO claim: wrong
    ]
    rationales = {("1", "10"): {"gold one."}, ("1", "11"): {"gold two."},
                  ("2", "20"): {"gold three."}}
    result = evaluation.scifact_scores(rows, predicted, rationales)
    assert result["gold_abstracts"] == 3 and result["predicted_abstracts"] == 5
    assert result["label_only_precision"] == 0.4 and result["label_only_recall"] == 0.6667
    assert result["label_only_f1"] == 0.5
    assert result["label_rationale_precision"] == 0.2  # only abstract 11 quotes its rationale
    assert result["label_rationale_recall"] == 0.3333


def test_read_rationales_takes_claim_and_document_from_the_row_id(tmp_path):
    path = tmp_path / "sentences.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"id": "7-123-0", "claim": "c", "passage": "Not this one.", "label": "NOT_ENOUGH_INFO"},
        {"id": "7-123-1", "claim": "c", "passage": "This  one.", "label": "SUPPORTS"}]) + "\n")
    assert evaluation.read_rationales(path) == {("7", "123"): {"this one."}}


def test_an_empty_corpus_is_refused_before_it_measures_nothing(capsys, tmp_path):
    empty = tmp_path / "corpus.jsonl"
    empty.write_text("\n")
    assert main(["eval", "retrieval", "--corpus", str(empty),
                 "--claims", str(DATA / "claims.jsonl")]) == 2
    assert "no documents to search" in capsys.readouterr().err
