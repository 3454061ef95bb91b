"""The lexical index as a copy of the collection: opened (rebuilt when damaged) and kept in step.

The index follows the collection by chunk ids: when the collection's change marker moved (or
the counts differ), the follower reads the collection's id set (paged) and adds or drops the
difference. Everything in the index derives from Chroma, so rebuilding it loses nothing.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from factcheck.retrieval.chroma import PAGE, ChangeMarker, Collection
from factcheck.retrieval.lexical import ChunkRecord, LexicalIndex

# Split from the store: its log lines keep the name they had (users and tests read it).
logger = logging.getLogger("factcheck.retrieval.store")

SYNC_INTERVAL = 2.0  # seconds a store may search before looking at the collection's marker again
_SYNCED = "synced_marker"  # lexical index meta: the marker its chunk ids last matched


class IndexFollower:
    """Keeps one lexical index in step with one collection."""

    def __init__(self, chroma: Collection, index: LexicalIndex,
                 sync_interval: float = SYNC_INTERVAL) -> None:
        self._chroma, self._index = chroma, index
        self.sync_interval = sync_interval
        self._next_look = 0.0  # time.monotonic() from which a search looks at the marker
        self._lock = threading.Lock()

    def follow(self, force: bool = False) -> ChangeMarker | None:
        """Resync the lexical index if the collection changed since it last matched; returns
        the marker read (None when the last look is less than `sync_interval` ago)."""
        if not force and time.monotonic() < self._next_look:
            return None
        with self._lock:
            # The marker is read before the ids: a change made while they are read moves it
            # again, and the next look resyncs again.
            marker = self._chroma.marker()
            self._next_look = time.monotonic() + self.sync_interval
            synced = self._index.get_meta(_SYNCED) == marker.token
            if not synced or self._chroma.count() != self._index.count():
                self._resync()
                self._index.set_meta(_SYNCED, marker.token)
            return marker

    def _resync(self) -> None:
        remote = {cid for page in self._chroma.pages(include=[]) for cid in page["ids"]}
        local = self._index.all_ids()
        if remote != local:
            logger.info("lexical index behind the collection: %d chunks to add, %d to drop",
                        len(remote - local), len(local - remote))
        self._index.remove(sorted(local - remote))
        missing = sorted(remote - local)
        for start in range(0, len(missing), PAGE):
            got = self._chroma.get(
                ids=missing[start : start + PAGE], include=["documents", "metadatas"]
            )
            self._index.add(
                [
                    _record(cid, text, meta or {})
                    for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])
                ]
            )


def open_index(path: Path) -> LexicalIndex:
    """The lexical index at `path`; a damaged one is deleted, and the follower rebuilds it."""
    try:
        index = LexicalIndex(path)
    except sqlite3.DatabaseError as exc:
        return _rebuilt(path, exc)
    try:
        index.check()
    except sqlite3.DatabaseError as exc:
        index.close()
        return _rebuilt(path, exc)
    return index


def _rebuilt(path: Path, exc: sqlite3.DatabaseError) -> LexicalIndex:
    # Everything in it derives from the Chroma collection, so nothing is lost.
    logger.warning("the lexical index %s is damaged (%s): rebuilding it from the Chroma "
                   "collection", path, exc)
    LexicalIndex.discard(path)
    return LexicalIndex(path)


def _record(cid: str, text: str, meta: dict[str, Any]) -> ChunkRecord:
    title = meta.get("title")
    return ChunkRecord(
        cid,
        str(meta.get("source_id", "")),
        title,
        meta.get("url"),
        meta.get("date"),
        str(meta.get("ingested_at", "")),
        f"{title}\n{text or ''}" if title else text or "",
    )
