"""Bounded soak of one shared `chroma run` (issue 12): two writers ingesting and removing the
same sources, two readers searching, all in their own processes for SOAK_SECONDS on loopback.
At the end the server, every machine's lexical index and `factcheck sources` agree on the same
chunks, and every source on the server holds exactly one of its texts."""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from fakes.chroma_server import chroma_server  # noqa: F401 (fixture)
from fakes.machine import Machine

from factcheck.cli import main
from factcheck.retrieval.chunking import chunk_id, split_chunks
from factcheck.retrieval.embedder import local_embedder
from factcheck.retrieval.store import SourceStore
from factcheck.settings import get_settings

SOAK_SECONDS = 20  # writers and readers; with start-up and the checks about 45 s on 2 cores
SOURCES, VERSIONS = 10, 3


def _text(source: int, version: int) -> str:
    """A unique text per (source, version); every third source is long (several chunks)."""
    entries = 30 if source % 3 == 0 else 2
    return " ".join(f"Station {source} log revision {version} entry {j}: the water level read "
                    f"{source * 100 + version * 10 + j} centimetres at {j % 24}:00."
                    for j in range(entries))


POOL = {f"station-{s}": [_text(s, v) for v in range(VERSIONS)] for s in range(SOURCES)}
QUERIES = ["water level station 3", "revision 2 entry 1", "centimetres at 5:00", "station log"]


def _chunk_ids(source: str, text: str) -> set[str]:
    return {chunk_id(source, chunk) for chunk in split_chunks(text)}


@pytest.mark.soak
@pytest.mark.timeout(240)
def test_two_writers_and_two_readers_end_agreeing_with_no_source_holding_two_texts(
    tmp_path, chroma_server, capsys, monkeypatch  # noqa: F811
):
    collection = f"soak-{uuid.uuid4().hex[:10]}"
    started = time.monotonic()
    machines = [Machine(tmp_path / f"m{i}", chroma_server, collection, wait=False)
                for i in range(4)]
    try:
        for machine in machines:
            machine.call("ping")
        writers, readers = machines[:2], machines[2:]
        for seed, writer in enumerate(writers):
            writer.send("soak_write", SOAK_SECONDS, seed, POOL)
        for seed, reader in enumerate(readers):
            reader.send("soak_read", SOAK_SECONDS, seed, QUERIES)
        with ThreadPoolExecutor(4) as pool:
            done = list(pool.map(lambda m: m.receive(), machines))
        indexes = [machine.call("synced_chunk_ids") for machine in machines]
    finally:
        for machine in machines:
            machine.close()
    assert all(d.get("ingests", 0) > 5 and d.get("removes", 0) > 0 for d in done[:2]), done
    assert all(d.get("searches", 0) > 20 and d.get("duplicate hits") == 0 for d in done[2:]), done

    with SourceStore.open(tmp_path / "check", collection, local_embedder(), chroma_server.host,
                          chroma_server.port) as store:
        got = store._chroma.get(include=["metadatas"])
        catalogue = store.catalogue()
        local = sorted(store._index.all_ids())
    server = sorted(got["ids"])
    assert len(server) == len(set(server))
    assert all(ids == server for ids in indexes) and local == server
    per_source: dict[str, set[str]] = defaultdict(set)
    for cid, meta in zip(got["ids"], got["metadatas"]):
        per_source[meta["source_id"]].add(cid)
    for source, ids in per_source.items():  # exactly one text of the source, whole
        assert sum(ids == _chunk_ids(source, text) for text in POOL[source]) == 1, source
    assert catalogue.stopped() == []

    for name, value in (("CHROMA_HOST", chroma_server.host), ("CHROMA_PORT", chroma_server.port),
                        ("COLLECTION", collection), ("DATA_DIR", tmp_path / "cli")):
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()
    assert main(["sources", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {s["source_id"]: s["chunks"] for s in listed["sources"]} == {
        source: len(ids) for source, ids in per_source.items()}
    assert listed["chunks"] == len(server) and listed["stopped_ingests"] == []
    assert time.monotonic() - started < 90  # bounded: about 45 s here
    print(f"soak: {done}; {len(server)} chunks of {len(per_source)} sources at the end; "
          f"{time.monotonic() - started:.0f} s")
