"""A Chroma server that is down, or goes away while a store is open, is one clear error
(issue 12, item 7); the store works again once the server is back."""

from __future__ import annotations

import pytest

from factcheck.retrieval.documents import Document, StoreUnavailableError
from factcheck.retrieval.embedder import local_embedder
from factcheck.retrieval.store import SourceStore

NOTE = Document("note", "The ferry to Inishmore leaves at nine.", title="Ferry")


def _line(server) -> str:
    return f"cannot reach the Chroma server at {server.host}:{server.port}; is `chroma run` up?"


def test_a_server_that_goes_away_is_one_clear_error_until_it_is_back(tmp_path,
                                                                     stoppable_chroma):
    server = stoppable_chroma.server
    store = SourceStore.open(tmp_path, "notes", local_embedder(), server.host, server.port,
                             sync_interval=0)
    store.ingest([NOTE])
    stoppable_chroma.stop()
    calls = {"search": lambda: store.search("ferry"), "sources": store.sources,
             "ingest": lambda: store.ingest([Document("other", "Another note.")]),
             "remove": lambda: store.remove("note"), "changed_at": store.changed_at}
    for name, call in calls.items():
        with pytest.raises(StoreUnavailableError) as caught:
            call()
        assert str(caught.value) == _line(server), name
    with pytest.raises(StoreUnavailableError, match="is `chroma run` up"):
        SourceStore.open(tmp_path / "b", "notes", local_embedder(), server.host, server.port)
    stoppable_chroma.start()
    assert store.search("ferry", k=1)[0].source_id == "note"
    store.close()
