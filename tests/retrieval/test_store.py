"""SourceStore against a real Chroma (embedded and `chroma run`) with the real local embedder."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import numpy as np
import pytest
from fakes.chroma_server import chroma_server, free_port  # noqa: F401 (fixture)

from factcheck.retrieval.chunking import CHUNK_SIZE, chunk_id, split_chunks
from factcheck.retrieval.documents import Document, EmbedderMismatchError, StoreUnavailableError
from factcheck.retrieval.store import SourceStore

DOCS = [
    Document(
        "everest",
        "Mount Everest is the highest mountain on Earth, 8,849 metres above sea "
        "level, on the border of Nepal and China.",
        title="Everest",
        url="https://e.org/1",
        date="2020-12-08",
    ),
    Document(
        "insulin",
        "Insulin is a hormone made by the pancreas that lets cells take up "
        "glucose from the blood.",
        title="Insulin",
    ),
    Document(
        "tower",
        "The Eiffel Tower in Paris is 330 metres tall and was finished in 1889.",
        title="Eiffel Tower",
    ),
]


def _embedder():
    try:
        from factcheck.retrieval.embedder import local_embedder
    except ImportError:  # the cached factory is not there yet
        from factcheck.retrieval.embedder import MiniLMEmbedder

        return MiniLMEmbedder()
    return local_embedder()


class CountingEmbedder:
    """The real embedder, recording every text it is asked to embed."""

    def __init__(self, inner, name: str | None = None) -> None:
        self.inner = inner
        self.name = name or inner.name
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts)


@pytest.fixture(scope="module")
def minilm():
    return _embedder()


@pytest.fixture
def embedder(minilm) -> CountingEmbedder:
    return CountingEmbedder(minilm)


@pytest.fixture(params=["embedded", "server"])
def open_store(request, tmp_path: Path, embedder):
    """Opens stores on the embedded Chroma or on the `chroma run` server, closes them after."""
    opened: list[SourceStore] = []
    server = request.getfixturevalue("chroma_server") if request.param == "server" else None
    name = f"t-{uuid.uuid4().hex[:12]}"  # the server lives for the whole session

    def _open(emb=None, data_dir: Path = tmp_path / "data") -> SourceStore:
        host, port = (server.host, server.port) if server else (None, 8000)
        store = SourceStore.open(data_dir, name, emb or embedder, host, port)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


def test_ingest_then_search_finds_the_right_chunk(open_store):
    store = open_store()
    stats = store.ingest(DOCS)
    assert (stats.documents, stats.chunks_added, stats.chunks_skipped) == (3, 3, 0)
    hits = store.search("How high is the tallest mountain in the world?", k=2)
    assert hits[0].source_id == "everest"
    assert hits[0].title == "Everest" and hits[0].url == "https://e.org/1"
    assert hits[0].date == "2020-12-08"
    assert "8,849 metres" in hits[0].text
    assert hits[0].chunk_id == chunk_id("everest", DOCS[0].text)


def test_reingest_adds_nothing_and_embeds_nothing(open_store, embedder):
    store = open_store()
    store.ingest(DOCS)
    embedder.texts.clear()
    stats = store.ingest(DOCS)
    assert (stats.chunks_added, stats.chunks_skipped) == (0, 3)
    assert embedder.texts == []  # known chunks are skipped before the embedder is paid
    assert store.stats().chunks == 3


def test_new_text_of_a_source_replaces_its_old_chunks(open_store):
    store = open_store()
    store.ingest(DOCS)
    stats = store.ingest([Document("tower", "The Eiffel Tower is 330 metres tall.")])
    assert stats.chunks_added == 1
    assert [s.chunks for s in store.sources() if s.source_id == "tower"] == [1]
    assert store.search("finished in 1889", k=3, mode="lexical") == []


def test_remove_deletes_every_chunk_of_a_source(open_store):
    store = open_store()
    store.ingest(DOCS)
    assert store.remove("everest") == 1
    assert store.remove("everest") == 0
    assert {s.source_id for s in store.sources()} == {"insulin", "tower"}
    for mode in ("hybrid", "dense", "lexical"):
        hits = store.search("Mount Everest height", k=5, mode=mode)
        assert "everest" not in {h.source_id for h in hits}


def test_changed_at_moves_on_ingest_and_removal_but_not_on_a_reingest(open_store):
    store = open_store()
    assert store.changed_at() is None
    store.ingest(DOCS)
    ingested = store.changed_at()
    store.ingest(DOCS)
    store.remove("nothing-of-that-name")
    assert store.changed_at() == ingested
    store.remove("everest")
    assert store.changed_at() > ingested


def test_sources_and_stats_describe_the_store(open_store):
    store = open_store()
    long_text = " ".join(f"Sentence number {i} talks about glaciers and ice." for i in range(80))
    store.ingest(DOCS + [Document("glaciers", long_text, title="Ice")])
    sources = {s.source_id: s for s in store.sources()}
    assert sources["glaciers"].chunks == len(split_chunks(long_text)) > 1
    assert sources["everest"].url == "https://e.org/1"
    stats = store.stats()
    assert (stats.sources, stats.chunks) == (4, 3 + sources["glaciers"].chunks)
    assert stats.last_ingest == sources["everest"].ingested_at


def test_a_document_larger_than_one_chroma_write_is_stored_whole(open_store, monkeypatch):
    import factcheck.retrieval.writer

    monkeypatch.setattr(factcheck.retrieval.writer, "_MAX_WRITE", 2)  # instead of thousands of chunks
    text = " ".join(f"Paragraph {i} describes tide gauge number {i}." for i in range(120))
    store = open_store()
    stats = store.ingest([Document("tides", text)])
    assert stats.chunks_added == len(split_chunks(text)) > 4
    assert store.stats().chunks == stats.chunks_added


def test_progress_reports_documents_done(open_store):
    calls: list[tuple[int, int]] = []
    open_store().ingest(DOCS, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (3, 3)


def test_a_collection_refuses_a_second_embedder(open_store, minilm):
    open_store().ingest(DOCS)
    with pytest.raises(EmbedderMismatchError, match="all-MiniLM-L6-v2"):
        open_store(CountingEmbedder(minilm, name="another-model"))


def test_reopened_store_keeps_chunks_and_lexical_index(open_store, tmp_path):
    open_store().ingest(DOCS)
    store = open_store()
    assert store.stats().chunks == 3
    assert store.search("pancreas", k=1, mode="lexical")[0].source_id == "insulin"


def test_lost_lexical_index_is_rebuilt_from_chroma(open_store, tmp_path):
    first = open_store()
    first.ingest(DOCS)
    first.close()
    # A machine sharing the server has no lexical copy; neither has a data dir that lost it.
    for path in (tmp_path / "data" / "lexical").iterdir():
        path.unlink()
    store = open_store()
    assert store.stats().chunks == 3
    assert store.search("pancreas glucose", k=1, mode="lexical")[0].source_id == "insulin"


def test_empty_store_and_empty_documents(open_store):
    store = open_store()
    assert store.search("anything") == []
    assert store.search_many([]) == []
    stats = store.ingest([Document("blank", "   ")])
    assert (stats.documents, stats.chunks_added) == (1, 0)


def test_unreachable_server_is_a_clear_error(tmp_path, embedder):
    with pytest.raises(StoreUnavailableError, match="chroma run"):
        SourceStore.open(tmp_path, "sources", embedder, "127.0.0.1", free_port())


def test_invalid_collection_name_is_refused(tmp_path, embedder):
    with pytest.raises(ValueError, match="invalid collection name"):
        SourceStore.open(tmp_path, "a b", embedder)


def test_short_text_is_one_chunk_and_long_text_overlaps():
    assert split_chunks("A short abstract. It has two sentences.") == [
        "A short abstract. It has two sentences."
    ]
    text = " ".join(f"This is sentence {i} of a long report on rainfall." for i in range(60))
    chunks = split_chunks(text)
    assert len(chunks) > 2 and all(len(c) <= CHUNK_SIZE for c in chunks)
    assert chunks[0].split(". ")[-1] in chunks[1]  # neighbours share a sentence


def test_chunk_id_ignores_case_and_spacing_but_not_the_source():
    assert chunk_id("a", "Some  Text\n") == chunk_id("a", "some text")
    assert chunk_id("a", "some text") != chunk_id("b", "some text")


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:  # a stray write over its start
        path.write_bytes(b"\xde\xad" * 512 + data[1024:])


@pytest.mark.parametrize("how", ["truncated", "overwritten"])
def test_a_damaged_lexical_index_is_rebuilt_from_chroma_with_one_warning(
    open_store, tmp_path, caplog, how
):
    first = open_store()
    first.ingest(DOCS)
    first.close()
    [index_file] = (tmp_path / "data" / "lexical").glob("*.sqlite")
    _damage(index_file, how)
    with caplog.at_level(logging.WARNING):
        store = open_store()
        assert store.search("pancreas glucose", k=1, mode="lexical")[0].source_id == "insulin"
    assert store.stats().chunks == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and str(index_file) in warnings[0] and "rebuilding" in warnings[0]


def test_a_damaged_postings_file_is_rebuilt_with_one_warning(open_store, tmp_path, caplog):
    first = open_store()
    first.ingest(DOCS)
    first.search("pancreas", mode="lexical")  # saves the postings
    first.close()
    [postings] = (tmp_path / "data" / "lexical").glob("*.postings.npz")
    _damage(postings, "truncated")
    with caplog.at_level(logging.WARNING):
        store = open_store()
        assert store.search("pancreas glucose", k=1, mode="lexical")[0].source_id == "insulin"
        assert store.search("Eiffel", k=1, mode="lexical")[0].source_id == "tower"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and str(postings) in warnings[0]
