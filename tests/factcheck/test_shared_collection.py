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

from factcheck.history import open_history
from factcheck.memory import open_memory
from factcheck.models import Article, Label
from factcheck.pipeline import already_checked, check, open_store
from factcheck.settings import Settings
from retrieval import Document

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
    first = check(CLAIM, settings, store=store, memory=memory, chat_id=1)
    assert first.claims[0].verdict.label == Label.NOT_ENOUGH_EVIDENCE
    memory.remember("first", first, chat_id=1)

    machine_a.ingest([_corpus_document("2095573")])  # the source that answers it

    again = check(CLAIM, settings, store=store, memory=memory, chat_id=1)
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
