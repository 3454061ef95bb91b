"""Machines sharing one `chroma run` server (issue 12): each a store on its own data dir.

Machine A runs in another process (tests/fakes/machine.py); machine B is the store of this test
process, kept open the way the bot keeps it. Only the server is shared.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fakes.chroma_server import chroma_server  # noqa: F401 (fixture)
from fakes.machine import Machine

from retrieval.chroma import EMBEDDER, MARKER_TOKEN
from retrieval.documents import Document
from retrieval.embedder import local_embedder
from retrieval.store import SourceStore

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

    def _open(**options) -> SourceStore:
        store = SourceStore.open(tmp_path / "b", collection, local_embedder(),
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
