"""Machines sharing one `chroma run` server (issue 12): each a store on its own data dir.

Machine A runs in another process (tests/fakes/machine.py); machine B is the store of this test
process, kept open the way the bot keeps it. Only the server is shared.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from fakes.chroma_server import chroma_server  # noqa: F401 (fixture)
from fakes.machine import Machine

from factcheck.retrieval.chroma import EMBEDDER, MARKER_TOKEN
from factcheck.retrieval.documents import Document
from factcheck.retrieval.embedder import local_embedder
from factcheck.retrieval.store import SourceStore

EVEREST = Document("everest", "Mount Everest is 8,849 metres high, on the border of Nepal and "
                   "China.", title="Everest")
INSULIN = Document("insulin", "Insulin is a hormone made by the pancreas.", title="Insulin")
# A word no other text has: only BM25 can match it exactly.
QUOKKA = Document("quokka", "The quokka is a small marsupial of Rottnest Island.", title="Quokka")


@pytest.fixture
def collection() -> str:
    return f"shared-{uuid.uuid4().hex[:10]}"  # the server lives for the whole session


@pytest.fixture
def machine_a(tmp_path: Path, chroma_server, collection):  # noqa: F811
    with Machine(tmp_path / "a", chroma_server, collection) as machine:
        yield machine


@pytest.fixture
def open_b(tmp_path: Path, chroma_server, collection):  # noqa: F811
    """Opens machine B's store (this process, data dir b) on the shared collection."""
    opened: list[SourceStore] = []

    def _open(folder: str = "b", **options) -> SourceStore:
        store = SourceStore.open(tmp_path / folder, collection, local_embedder(),
                                 chroma_server.host, chroma_server.port, **options)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


def _metadata(store: SourceStore) -> dict:
    return store._chroma.metadata()


def test_every_change_moves_the_shared_marker_and_keeps_the_other_keys(machine_a, open_b):
    b = open_b()
    assert b.changed_at() is None and MARKER_TOKEN not in _metadata(b)
    machine_a.ingest([EVEREST])
    first = _metadata(b)
    assert first[EMBEDDER] == local_embedder().name  # modify() kept the embedder's name
    machine_a.ingest([EVEREST])  # nothing new: no change to announce
    assert _metadata(b)[MARKER_TOKEN] == first[MARKER_TOKEN]
    machine_a.remove("everest")
    removed = _metadata(b)
    assert removed[MARKER_TOKEN] != first[MARKER_TOKEN] and removed[EMBEDDER] == first[EMBEDDER]
    machine_a.ingest([Document("everest", "Everest was first climbed in 1953.")])
    assert _metadata(b)[MARKER_TOKEN] not in (first[MARKER_TOKEN], removed[MARKER_TOKEN])


def test_an_open_store_sees_when_another_machine_changed_the_collection(machine_a, open_b):
    machine_a.ingest([EVEREST])
    b = open_b()
    before = b.changed_at()
    assert before is not None
    machine_a.ingest([INSULIN])
    after_ingest = b.changed_at()
    assert after_ingest > before  # read from the server, not from B's own index
    machine_a.remove("insulin")
    assert b.changed_at() > after_ingest


def _server_ids(store: SourceStore) -> list[str]:
    return sorted(store._chroma.get(include=[])["ids"])


def _documents(n: int) -> list[Document]:
    return [Document(f"note-{i}", f"Field note {i}: the glacier retreated {i * 7} metres in "
                     f"survey year {1990 + i}.", title=f"Note {i}") for i in range(n)]


def test_an_open_store_follows_another_machines_ingest_in_bm25_and_hybrid(machine_a, open_b):
    machine_a.ingest(_documents(10))
    b = open_b(sync_interval=0)
    machine_a.ingest(_documents(20)[10:] + [QUOKKA])  # while B is open, as the bot is
    assert b.search("quokka Rottnest", k=3, mode="lexical")[0].source_id == "quokka"
    assert sorted(b._index.all_ids()) == machine_a.chunk_ids() == _server_ids(b)
    for query in ("quokka marsupial", "glacier retreated 63 metres", "survey year 2005"):
        for mode in ("hybrid", "lexical"):
            assert [h.source_id for h in b.search(query, 5, mode)] == machine_a.search(
                query, 5, mode)
    assert len(b.sources()) == 21


def test_an_edit_that_keeps_the_chunk_count_is_seen_open_and_after_a_restart(machine_a, open_b):
    machine_a.ingest([EVEREST, INSULIN])
    b = open_b(sync_interval=0)
    machine_a.remove("insulin")
    machine_a.ingest([QUOKKA])  # two chunks before, two after
    assert {s.source_id for s in b.sources()} == {"everest", "quokka"}
    assert b.search("pancreas hormone", k=3, mode="lexical") == []
    b.close()
    machine_a.remove("quokka")
    machine_a.ingest([INSULIN])  # the same count again, while B is not running
    restarted = open_b()
    assert {s.source_id for s in restarted.sources()} == {"everest", "insulin"}
    assert restarted.search("quokka", k=3, mode="lexical") == []
    assert restarted.search("pancreas hormone", k=3, mode="lexical")[0].source_id == "insulin"


def test_a_search_looks_at_the_marker_at_most_every_sync_interval(machine_a, open_b):
    machine_a.ingest([EVEREST])
    slow, quick = open_b("b1", sync_interval=3600), open_b("b2", sync_interval=0.5)
    slow.search("Everest"), quick.search("Everest")
    machine_a.ingest([QUOKKA])
    assert slow.search("quokka", k=1, mode="lexical") == []  # looked less than an hour ago
    deadline = time.monotonic() + 5
    while not quick.search("quokka", k=1, mode="lexical") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert quick.search("quokka", k=1, mode="lexical")[0].source_id == "quokka"
    assert slow.changed_at() is not None  # changed_at() always looks, and resyncs
    assert slow.search("quokka", k=1, mode="lexical")[0].source_id == "quokka"


def _texts_of(store: SourceStore, source_id: str) -> list[str]:
    return store._chroma.get(where={"source_id": source_id}, include=["documents"])["documents"]


def test_replacing_a_source_asks_the_server_so_it_never_holds_two_texts(machine_a, open_b):
    machine_a.ingest([Document("tower", "The Eiffel Tower is 330 metres tall.")])
    b = open_b(sync_interval=3600)  # B's copy of the collection is not refreshed below
    machine_a.ingest([Document("tower", "The Eiffel Tower is 330 metres tall, antennas included.")])
    b.ingest([Document("tower", "The Eiffel Tower was finished in 1889.")])
    assert _texts_of(b, "tower") == ["The Eiffel Tower was finished in 1889."]
    assert machine_a.search("antennas", mode="lexical") == []



def test_sources_and_stats_are_read_from_the_server_not_the_local_index(machine_a, open_b):
    machine_a.ingest([EVEREST])
    b = open_b()
    b._follow = lambda force=False: None  # B's lexical index no longer follows the server
    machine_a.ingest([INSULIN, QUOKKA])
    assert b._index.count() == 1
    assert {s.source_id for s in b.sources()} == {"everest", "insulin", "quokka"}
    assert b.stats().sources == 3 and b.stats().chunks == 3


def test_an_ingest_killed_part_way_is_seen_as_stopped_until_it_is_run_again(
    tmp_path, chroma_server, collection, open_b  # noqa: F811
):
    notes, label = _documents(6), "factcheck ingest /srv/notes"
    with Machine(tmp_path / "a", chroma_server, collection) as machine_a:
        machine_a.ingest_and_hang(notes, label, batch_chunks=2)
        machine_a.kill()  # kill -9 after its first batch of two documents
    b = open_b()
    catalogue = b.catalogue()
    [stopped] = catalogue.stopped()
    assert (stopped.label, stopped.done, stopped.total) == (label, 2, 6)
    assert stopped.state() == "stopped"
    assert len(catalogue.sources) == 2
    assert b.ingest(notes, label=label).chunks_added == 4  # run again: the rest
    catalogue = b.catalogue()
    assert catalogue.stopped() == [] and catalogue.stats.chunks == 6
    assert [(r.label, r.state()) for r in catalogue.ingests] == [(label, "finished")]


class _WritesMeanwhile:
    """B's embedder: while B embeds (after it dated its write), machine A writes its text."""

    def __init__(self, embedder, write) -> None:
        self.name, self._embedder, self._write = embedder.name, embedder, write

    def embed(self, texts):
        if self._write:
            self._write()
            self._write = None
        return self._embedder.embed(texts)


def test_of_two_writers_replacing_one_source_at_once_the_later_text_stays(machine_a, open_b):
    machine_a.ingest([Document("tower", "The Eiffel Tower is 330 metres tall.")])
    b = open_b()
    later = Document("tower", "The Eiffel Tower was repainted in 2024.")
    b._embedder = _WritesMeanwhile(b._embedder, lambda: machine_a.ingest([later]))
    b.ingest([Document("tower", "The Eiffel Tower was finished in 1889.")])  # lands after A's
    assert _texts_of(b, "tower") == [later.text]
    assert b.search("finished 1889", mode="lexical") == []
