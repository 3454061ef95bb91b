"""The pipeline on a collection shared by machines (issue 12): no verdict reused once another
machine's ingest made it stale. Machine A is another process (tests/fakes/machine.py); B is
this process, with its own data dir, history and claim memory, its store kept open."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from fakes.chroma_server import chroma_server  # noqa: F401 (fixture)
from fakes.machine import Machine

from factcheck.desk import MemoryRecall, already_checked
from factcheck.history import open_history
from factcheck.memory import open_memory
from factcheck.models import Article, Label
from factcheck.pipeline import check, open_store
from factcheck.retrieval import Document
from factcheck.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CLAIM = "LDL cholesterol has a causal role in the development of cardiovascular disease."


def _corpus_document(source_id: str) -> Document:
    for line in (EXAMPLES / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["id"] == source_id:
            return Document(row["id"], row["text"], row.get("title"), row.get("url"))
    raise KeyError(source_id)


@pytest.fixture
def shared(tmp_path: Path, chroma_server):  # noqa: F811
    """(machine A, settings of machine B) on one fresh collection of the test server."""
    collection = f"desk-{uuid.uuid4().hex[:10]}"
    settings = Settings(_env_file=None, data_dir=tmp_path / "b", collection=collection,
                        chroma_host=chroma_server.host, chroma_port=chroma_server.port)
    with Machine(tmp_path / "a", chroma_server, collection) as machine:
        machine.ingest([_corpus_document("33370")])  # about glioma: nothing on the claim
        yield machine, settings


def test_a_verdict_made_stale_by_another_machines_ingest_is_not_reused(shared):
    machine_a, settings = shared
    store, memory = open_store(settings), open_memory(settings, open_store(settings).embedder)
    first = check(CLAIM, settings, store=store, recall=MemoryRecall(memory, chat_id=1))
    assert first.claims[0].verdict.label == Label.NOT_ENOUGH_EVIDENCE
    memory.remember("first", first, chat_id=1)

    machine_a.ingest([_corpus_document("2095573")])  # the source that answers it

    again = check(CLAIM, settings, store=store, recall=MemoryRecall(memory, chat_id=1))
    assert again.claims[0].prior is not None and not again.claims[0].prior.reused
    assert again.claims[0].verdict.label == Label.SUPPORTED


def test_an_article_checked_here_is_checked_again_after_another_machines_ingest(shared):
    machine_a, settings = shared
    store, history = open_store(settings), open_history(settings)
    history.add_check(check(CLAIM, settings, store=store), chat_id=1, chat_type="private")
    article = Article(text=CLAIM)
    assert already_checked(history, 1, article, settings, store) is not None
    machine_a.ingest([_corpus_document("2095573")])
    assert already_checked(history, 1, article, settings, store) is None


def _cli(capsys, monkeypatch, settings: Settings, *argv: str) -> tuple[int, str, str]:
    """`factcheck ARGV` as machine B runs it (its environment), in this process."""
    from factcheck.cli import main
    from factcheck.settings import get_settings

    for name, value in (("DATA_DIR", settings.data_dir), ("COLLECTION", settings.collection),
                        ("CHROMA_HOST", settings.chroma_host),
                        ("CHROMA_PORT", settings.chroma_port)):
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_factcheck_sources_lists_the_shared_collection_and_an_ingest_killed_part_way(
    shared, tmp_path, chroma_server, capsys, monkeypatch  # noqa: F811
):
    _machine_a, settings = shared  # A ingested one source
    notes = [Document(f"note-{i}", f"Field note {i}: the glacier retreated {i * 7} metres.")
             for i in range(5)]
    with Machine(tmp_path / "c", chroma_server, settings.collection) as machine_c:
        machine_c.ingest_and_hang(notes, "factcheck ingest /srv/notes", batch_chunks=2)
        machine_c.kill()
    code, out, _err = _cli(capsys, monkeypatch, settings, "sources")
    assert code == 0
    assert "3 source(s), 4 chunk(s)" in out and "33370" in out and "note-1" in out
    [warning] = [line for line in out.splitlines() if line.startswith("warning:")]
    assert "stopped part-way: 'factcheck ingest /srv/notes'" in warning
    assert "wrote 2 of 5 document(s)" in warning and "Run it again" in warning
