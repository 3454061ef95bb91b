"""Run records of `factcheck eval`: saved beside stdout's unchanged contract, one per run."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from factcheck import checkworthiness, runs, weights
from factcheck.cli import main
from factcheck.history import Feedback, open_history
from factcheck.models import (
    Article,
    Claim,
    ClaimCheck,
    Evidence,
    Label,
    Passage,
    Provenance,
    Report,
    Stance,
    Verdict,
)
from factcheck.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
PAIRS = DATA / "pairs.jsonl"


def stance_row_answer(server, stance: str, times: int) -> None:
    for _ in range(times):
        server.answer({"judgements": [{"passage": 1, "stance": stance, "confidence": 0.8}]})


def saved_runs(tmp_path: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((tmp_path / "runs").glob("*.json"))]


def test_offline_stance_run_record_has_metrics_predictions_and_provenance(capsys, tmp_path):
    assert main(["eval", "stance", "--pairs", str(PAIRS), "--json"]) == 0
    out, err = capsys.readouterr()
    printed = json.loads(out)  # stdout is still exactly the contract's JSON
    assert set(printed) == {"n", "accuracy", "macro_f1", "per_label", "confusion"}
    (record,) = saved_runs(tmp_path)
    (saved,) = re.findall(r"run saved: (\S+)", err)
    assert json.loads(Path(saved).read_text()) == record
    assert record["metrics"] == printed
    assert record["kind"] == "stance" and record["engine"] == "offline"
    assert record["datasets"]["pairs"]["sha256"] == hashlib.sha256(PAIRS.read_bytes()).hexdigest()
    assert record["git_commit"] is None or len(record["git_commit"]) == 40
    assert record["usage"] is None and record["prompts"] == {}
    rows = [json.loads(line) for line in PAIRS.read_text().splitlines() if line.strip()]
    assert {p["id"] for p in record["predictions"]} == {str(r["id"]) for r in rows}
    gold = {str(r["id"]): r["label"] for r in rows}
    assert all(p["gold"] == gold[p["id"]] for p in record["predictions"])
    correct = sum(p["gold"] == p["predicted"] for p in record["predictions"])
    assert correct / len(rows) == pytest.approx(printed["accuracy"], abs=1e-3)
    assert 0 <= record["latency_p50"] <= record["latency_p95"]
    assert record["model"].endswith(f" weights:{weights.fingerprint()}")


def test_the_weights_fingerprint_changes_with_any_weight_file_not_with_metrics(tmp_path):
    copies = {name: tmp_path / name for name in ("same", "verdict", "stance", "metrics")}
    for folder in copies.values():
        shutil.copytree(weights.FOLDER, folder)
    (copies["verdict"] / "verdict.json").write_text(
        (weights.FOLDER / "verdict.json").read_text() + " ")
    (copies["stance"] / "stance.npz").write_bytes(b"other weights")
    (copies["metrics"] / "metrics.json").write_text("{}")
    (copies["metrics"] / "MODEL_CARD.md").write_text("A new card.")
    shipped = weights.fingerprint()
    assert weights.fingerprint(copies["same"]) == weights.fingerprint(copies["metrics"]) == shipped
    assert len({shipped, weights.fingerprint(copies["verdict"]),
                weights.fingerprint(copies["stance"])}) == 3


def test_llm_stance_run_records_tokens_cost_prompts_and_model(capsys, tmp_path, openai_server,
                                                              monkeypatch):
    server, settings = openai_server
    monkeypatch.setenv("OPENAI_BASE_URL", settings.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setenv("LLM_CONCURRENCY", "1")
    stance_row_answer(server, "SUPPORTS", 10)
    assert main(["eval", "stance", "--pairs", str(PAIRS), "--engine", "llm",
                 "--model", "gpt-4o-mini", "--json"]) == 0
    capsys.readouterr()
    (record,) = saved_runs(tmp_path)
    assert record["engine"] == "llm" and record["model"] == "gpt-4o-mini"
    assert {r["model"] for r in server.chat_requests} == {"gpt-4o-mini"}
    assert set(record["prompts"]) == {"claims", "stance"}
    usage = record["usage"]
    assert usage["calls"] == 10 and usage["tokens_in"] > usage["tokens_out"] > 0
    expected = (usage["tokens_in"] * 0.15 + usage["tokens_out"] * 0.60) / 1e6
    assert usage["cost_usd"] == pytest.approx(expected, rel=1e-3)
    assert {p["predicted"] for p in record["predictions"]} == {"SUPPORTS"}


def test_retrieval_run_records_each_claims_ranking(capsys, tmp_path):
    claims = DATA / "claims.jsonl"
    assert main(["eval", "retrieval", "--corpus", str(DATA / "corpus.jsonl"),
                 "--claims", str(claims), "--json"]) == 0
    capsys.readouterr()
    (record,) = saved_runs(tmp_path)
    assert record["options"] == {"mode": "hybrid"}
    assert len(record["predictions"]) == record["metrics"]["n"] == 10
    first = record["predictions"][0]
    assert isinstance(first["gold"], list) and 0 < len(first["predicted"]) <= 10


@pytest.mark.parametrize(("values", "p50", "p95"), [
    ([], None, None),
    ([0.5], 0.5, 0.5),
    ([float(n) for n in range(1, 101)], 50.0, 95.0),
])
def test_percentile_is_nearest_rank(values, p50, p95):
    assert runs.percentile(values, 50) == p50
    assert runs.percentile(values, 95) == p95


def test_dataset_hash_of_a_folder_changes_with_a_file(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text("one")
    before = runs.dataset_sha256(folder)
    (folder / "a.txt").write_text("two")
    assert runs.dataset_sha256(folder) != before


def test_load_run_of_a_foreign_file_is_bad_input(tmp_path):
    other = tmp_path / "x.json"
    other.write_text("{}")
    with pytest.raises(runs.BadInputError, match="not a run record"):
        runs.load_run(other)


def test_compare_shows_deltas_and_the_examples_a_prompt_edit_changed(capsys, tmp_path,
                                                                    openai_server, monkeypatch):
    server, settings = openai_server
    monkeypatch.setenv("OPENAI_BASE_URL", settings.openai_base_url)
    monkeypatch.setenv("LLM_CONCURRENCY", "1")  # answers are scripted in row order
    rows = [json.loads(line) for line in PAIRS.read_text().splitlines() if line.strip()]
    argv = ["eval", "stance", "--pairs", str(PAIRS), "--engine", "llm", "--json"]
    stance_row_answer(server, "SUPPORTS", len(rows))
    assert main(argv) == 0
    stance_row_answer(server, "REFUTES", 1)  # the "edited prompt" now answers REFUTES first
    stance_row_answer(server, "SUPPORTS", len(rows) - 1)
    variant = tmp_path / "variant"  # the edited prompt
    variant.mkdir()
    shipped = (ROOT / "prompts" / "stance.yaml").read_text(encoding="utf-8")
    (variant / "stance.yaml").write_text(shipped.replace("careful", "very careful"))
    assert main([*argv, "--prompts", str(variant)]) == 0
    capsys.readouterr()
    assert "very careful" in server.chat_requests[-1]["messages"][0]["content"]
    first, second = sorted((tmp_path / "runs").glob("*.json"))
    assert main(["eval", "compare", str(first), str(second), "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["changed"] == [{"id": str(rows[0]["id"]), "gold": rows[0]["label"],
                                "before": "SUPPORTS", "after": "REFUTES"}]
    accuracy = diff["metrics"]["accuracy"]
    assert accuracy["delta"] == pytest.approx(accuracy["after"] - accuracy["before"], abs=1e-4)
    assert diff["warnings"] == []
    assert main(["eval", "compare", str(first), str(second)]) == 0
    table = capsys.readouterr().out
    assert "1 prediction(s) changed" in table and "macro_f1" in table


def test_compare_of_a_missing_run_is_bad_input(capsys, tmp_path):
    assert main(["eval", "compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 2
    assert "a.json" in capsys.readouterr().err


def make_report(text: str) -> Report:
    passage = Passage(id="chunk-1", text="Water boils at 100 C.", source_id="physics")
    evidence = Evidence(passage=passage, stance=Stance.SUPPORTS, confidence=0.9,
                        quote="Water boils at 100 C.", rationale="Same figure.")
    unrelated = Evidence(passage=Passage(id="chunk-2", text="Ice is cold.", source_id="ice"),
                         stance=Stance.NOT_ENOUGH_INFO, confidence=0.5, quote="", rationale="")
    check = ClaimCheck(
        claim=Claim(id=1, text=text, start=0, end=len(text), checkworthiness=0.8),
        verdict=Verdict(label=Label.SUPPORTED, confidence=0.9, summary="Supported."),
        evidence=[evidence, unrelated],
    )
    return Report(article=Article(text=text, source="text"), claims=[check],
                  provenance=Provenance(engine="offline", model="m", embedder="e"))


def test_feedback_export_in_claims_and_pairs_formats(capsys, tmp_path):
    history = open_history(get_settings())
    right = history.add_check(make_report("Water boils at 100 C."), chat_id=1, chat_type="private")
    wrong = history.add_check(make_report("Water boils at 50 C."), chat_id=1, chat_type="private")
    unsure = history.add_check(make_report("Water boils."), chat_id=1, chat_type="private")
    mixed = history.add_check(make_report("Water boils at 90 C."), chat_id=1, chat_type="private")
    history.add_feedback(Feedback(right, 1, 7, correct=True))
    history.add_feedback(Feedback(wrong, 1, 7, correct=False, right_label=Label.CONTRADICTED))
    history.add_feedback(Feedback(unsure, 1, 7, correct=False))  # no right verdict given
    history.add_feedback(Feedback(mixed, 1, 7, correct=False, right_label=Label.MIXED))
    history.close()

    claims, pairs = tmp_path / "claims.jsonl", tmp_path / "pairs.jsonl"
    assert main(["feedback", "export", "--out", str(claims)]) == 0
    assert main(["feedback", "export", "--out", str(pairs), "--format", "pairs"]) == 0
    assert "Wrote 2 pairs row(s)" in capsys.readouterr().err
    by_id = {r["id"]: r for r in map(json.loads, claims.read_text().splitlines())}
    assert by_id == {
        f"{right}-1": {"id": f"{right}-1", "claim": "Water boils at 100 C.", "label": "SUPPORTS",
                       "gold_ids": ["physics"]},
        f"{wrong}-1": {"id": f"{wrong}-1", "claim": "Water boils at 50 C.", "label": "REFUTES",
                       "gold_ids": []},
    }
    pair_rows = [json.loads(line) for line in pairs.read_text().splitlines()]
    assert sorted((r["id"], r["label"]) for r in pair_rows) == sorted(
        [(f"{right}-1-chunk-1", "SUPPORTS"), (f"{wrong}-1-chunk-1", "REFUTES")])
    assert all(r["passage"] == "Water boils at 100 C." for r in pair_rows)
    # The export is an eval file as it is.
    assert main(["eval", "stance", "--pairs", str(pairs), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 2


def test_feedback_export_without_a_history_is_bad_input(capsys, tmp_path):
    assert main(["feedback", "export", "--out", str(tmp_path / "x.jsonl")]) == 2
    assert "no history" in capsys.readouterr().err


def test_checkworthiness_run_records_each_sentences_score(capsys, tmp_path):
    sentences = DATA / "sentences.jsonl"
    assert main(["eval", "checkworthiness", "--sentences", str(sentences), "--json"]) == 0
    capsys.readouterr()
    (record,) = saved_runs(tmp_path)
    rows = {str(r["id"]): r for r in map(json.loads, sentences.read_text().splitlines())}
    assert len(record["predictions"]) == record["metrics"]["n"] == len(rows)
    for prediction in record["predictions"]:
        assert prediction["gold"] == int(rows[prediction["id"]]["label"])
        assert 0.0 <= prediction["predicted"] <= 1.0
    # Each score belongs to its own sentence: score one group directly and match them up.
    group = next(iter(rows.values()))["group"]
    members = [r for r in rows.values() if r["group"] == group]
    direct = checkworthiness.score([r["text"] for r in members])
    recorded = {p["id"]: p["predicted"] for p in record["predictions"]}
    assert [recorded[str(r["id"])] for r in members] == pytest.approx(
        [float(x) for x in direct], abs=1e-3)
