"""The ingest log (retrieval/ingests.py): an unfinished ingest is running or stopped."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from factcheck.retrieval.documents import Document
from factcheck.retrieval.embedder import local_embedder
from factcheck.retrieval.ingests import STALE
from factcheck.retrieval.store import SourceStore


def test_an_unfinished_ingest_of_another_host_is_stopped_once_nothing_was_heard_for_a_while(
    tmp_path,
):
    with SourceStore.open(tmp_path, "notes", local_embedder()) as store:
        log = store._ingests()
        run = log.start("factcheck ingest /srv/a", total=3)
        run.writing(["a", "b"])
        assert run.record.state() == "running" and run.record.host == socket.gethostname()
        elsewhere = replace(run.record, host=f"not-{socket.gethostname()}", pid=1)
        log.write(elsewhere)
        [listed] = log.records()
        assert listed.pending == ("a", "b") and listed.state() == "running"
        later = datetime.now(UTC) + STALE + timedelta(seconds=1)
        assert listed.state(now=later) == "stopped"


def test_finished_ingests_are_kept_up_to_a_bound(tmp_path, monkeypatch):
    monkeypatch.setattr("factcheck.retrieval.ingests.KEEP_FINISHED", 2)
    with SourceStore.open(tmp_path, "notes", local_embedder()) as store:
        for i in range(4):
            store.ingest([Document(f"d{i}", f"Note number {i}.")], label=f"ingest {i}")
        assert [r.label for r in store.catalogue().ingests] == ["ingest 3", "ingest 2"]
