"""Evaluation corpora are embedded once, kept under DATA_DIR/eval by content hash, and reused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import factcheck.retrieval.embedder
from factcheck import eval_corpus, evaluation
from factcheck.cli import main
from factcheck.errors import StoreError
from factcheck.retrieval import SourceStore
from factcheck.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
CORPUS, CLAIMS = DATA / "corpus.jsonl", DATA / "claims.jsonl"


class CountingEmbedder:
    """The real local embedder, remembering every text it was asked to embed."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.texts = inner, inner.name, []

    def embed(self, texts: list[str]):
        self.texts.extend(texts)
        return self.inner.embed(texts)


@pytest.fixture
def embedder(monkeypatch) -> CountingEmbedder:
    counting = CountingEmbedder(factcheck.retrieval.embedder.local_embedder())
    monkeypatch.setattr(factcheck.retrieval.embedder, "local_embedder", lambda: counting)
    return counting


def claims() -> list[str]:
    return [json.loads(line)["claim"] for line in CLAIMS.read_text().splitlines() if line.strip()]


def eval_folders(tmp_path: Path) -> list[Path]:
    return sorted(p for p in (tmp_path / "data" / "eval").iterdir() if p.is_dir())


def test_second_eval_embeds_the_claims_only(embedder, tmp_path):
    first = evaluation.eval_retrieval(CORPUS, CLAIMS, Settings())
    assert len(embedder.texts) > len(claims())  # the corpus was embedded
    embedder.texts.clear()
    second = evaluation.eval_retrieval(CORPUS, CLAIMS, Settings())
    assert sorted(embedder.texts) == sorted(claims())
    assert second["ndcg@10"] == first["ndcg@10"]
    assert len(eval_folders(tmp_path)) == 1


def test_a_changed_corpus_gets_its_own_collection(embedder, tmp_path):
    evaluation.eval_retrieval(CORPUS, CLAIMS, Settings())
    changed = tmp_path / "corpus.jsonl"
    changed.write_text(CORPUS.read_text() + "\n")  # same documents, other bytes
    embedder.texts.clear()
    evaluation.eval_retrieval(changed, CLAIMS, Settings())
    assert len(eval_folders(tmp_path)) == 2
    assert len(embedder.texts) > len(claims())


def test_a_collection_without_its_marker_is_completed_and_marked(embedder, tmp_path):
    evaluation.eval_retrieval(CORPUS, CLAIMS, Settings())
    (folder,) = eval_folders(tmp_path)
    (folder / eval_corpus.COMPLETE).unlink()  # as if the ingest had been interrupted
    result = evaluation.eval_retrieval(CORPUS, CLAIMS, Settings())
    assert (folder / eval_corpus.COMPLETE).is_file()
    assert result["n"] == 10 and result["ndcg@10"] > 0.7


def damaged(tmp_path: Path, embedder: CountingEmbedder, part: str) -> Path:
    """The corpus's evaluation folder with `part` overwritten, as another process left it."""
    folder = tmp_path / "data" / "eval" / eval_corpus.corpus_key(CORPUS, embedder.name)
    (folder / part).parent.mkdir(parents=True)
    (folder / part).write_text("not a database")
    return folder


def test_an_unopenable_collection_is_rebuilt(embedder, tmp_path):
    folder = damaged(tmp_path, embedder, "chroma")  # a file where Chroma's folder goes
    result = evaluation.eval_retrieval(CORPUS, CLAIMS, Settings())
    assert len(embedder.texts) > len(claims())
    assert result["n"] == 10 and result["ndcg@10"] > 0.7
    assert (folder / eval_corpus.COMPLETE).is_file()


def test_a_damaged_database_is_removed_with_a_clear_error(embedder, tmp_path):
    folder = damaged(tmp_path, embedder, "chroma/chroma.sqlite3")
    with pytest.raises(StoreError, match="run the evaluation again"):
        evaluation.eval_retrieval(CORPUS, CLAIMS, Settings())
    assert not (folder / "chroma" / "chroma.sqlite3").exists()


def test_eval_cache_off_keeps_nothing(embedder, tmp_path):
    evaluation.eval_retrieval(CORPUS, CLAIMS, Settings(eval_cache=False))
    assert not (tmp_path / "data" / "eval").exists()


def test_eval_never_touches_the_users_collection_and_json_stays_the_contract(capsys, embedder):
    for _ in range(2):
        assert main(["eval", "retrieval", "--corpus", str(CORPUS), "--claims", str(CLAIMS),
                     "--json"]) == 0
        out = capsys.readouterr().out
        assert set(json.loads(out)) == {"n", "ndcg@10", "recall@5", "recall@10", "mrr@10",
                                        "seconds"}
    assert main(["sources"]) == 0
    assert "0 source(s)" in capsys.readouterr().out


def test_progress_reports_ingest_and_every_example(embedder):
    calls: list[tuple[str, int, int]] = []
    evaluation.eval_verdicts(CORPUS, CLAIMS, Settings(), progress=lambda *c: calls.append(c))
    assert ("ingest", 20, 20) in calls
    examples = [done for stage, done, total in calls if stage == "examples"]
    assert examples == list(range(11))
    calls.clear()
    evaluation.eval_checkworthiness(DATA / "sentences.jsonl", Settings(engine="offline"),
                                    progress=lambda *c: calls.append(c))
    assert calls[-1] == ("examples", 80, 80)


def eval_process() -> subprocess.Popen:
    """`factcheck eval retrieval` on the test corpus in a process of its own."""
    command = [sys.executable, "-m", "factcheck", "eval", "retrieval", "--corpus",
               str(CORPUS), "--claims", str(CLAIMS), "--json"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_process_waits_for_the_one_using_the_collection(tmp_path):
    folder = tmp_path / "data" / "eval" / eval_corpus.corpus_key(CORPUS, "all-MiniLM-L6-v2")
    with eval_corpus._locked(folder):  # as another process's evaluation would hold it
        waiting = eval_process()
        lines = iter(waiting.stderr.readline, "")  # ends only if the process exits
        assert any("another evaluation is using" in line for line in lines)
        assert waiting.poll() is None and not (folder / eval_corpus.COMPLETE).exists()
    out, err = waiting.communicate()
    assert waiting.returncode == 0, err
    assert json.loads(out)["ndcg@10"] > 0.7


def test_two_processes_on_one_corpus_build_one_complete_collection(tmp_path):
    first, second = eval_process(), eval_process()
    results = [process.communicate() for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], results
    scores = [json.loads(out) for out, _ in results]
    assert scores[0]["ndcg@10"] == scores[1]["ndcg@10"] > 0.7
    (folder,) = eval_folders(tmp_path)
    assert json.loads((folder / eval_corpus.COMPLETE).read_text())["sources"] == 20
    with SourceStore.open(folder, "eval", factcheck.retrieval.embedder.local_embedder()) as store:
        assert eval_corpus._is_complete(folder, store)  # the marker counts what is stored
