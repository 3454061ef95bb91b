"""A record of every ingest, kept in Chroma beside the collection, so that every machine sharing
it sees an ingest that stopped part-way (killed, or its machine gone).

One row per ingest in the companion collection `<name>.ingests`: what was ingested (a label:
the paths or URLs as given), by which host and process, when it started and was last heard of,
how many documents it had written, and the sources of the batch it was writing. The writer
updates its row before and after every batch and marks it finished at the end, so a row left
unfinished is an ingest still running, or one that stopped: its process is gone (same host), or
nothing was heard of it for `STALE` seconds (another host). A stopped row stays listed until an
ingest of the same label finishes.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from factcheck.retrieval.chroma import Collection

STALE = timedelta(minutes=5)  # no word from an ingest on another host for this long: stopped
KEEP_FINISHED = 20  # finished ingests kept in the record, newest first
_PENDING_LISTED = 20  # sources of the batch being written, kept per row
_VECTOR = [[1.0]]  # Chroma wants a vector per row; these rows are never searched

State = Literal["running", "stopped", "finished"]


@dataclass(frozen=True)
class IngestRecord:
    """One ingest as the companion collection holds it."""

    id: str
    label: str
    host: str
    pid: int
    started: datetime
    updated: datetime  # last heard of
    done: int  # documents written
    total: int  # documents given (0: not known in advance)
    pending: tuple[str, ...]  # sources of the batch it was writing (empty between batches)
    finished: datetime | None = None

    def state(self, now: datetime | None = None) -> State:
        """Finished, still running, or stopped part-way."""
        if self.finished is not None:
            return "finished"
        if self.host == socket.gethostname() and not _alive(self.pid):
            return "stopped"
        return "stopped" if (now or datetime.now(UTC)) - self.updated > STALE else "running"


class IngestLog:
    """The ingest rows of one collection."""

    def __init__(self, rows: Collection) -> None:
        self._rows = rows  # the companion Chroma collection

    def start(self, label: str, total: int) -> IngestRun:
        """Record a new ingest; update it through the returned run."""
        now = datetime.now(UTC)
        record = IngestRecord(secrets.token_hex(8), label, socket.gethostname(), os.getpid(),
                              now, now, 0, total, ())
        run = IngestRun(self, record)
        self.write(record)
        return run

    def write(self, record: IngestRecord) -> None:
        """Store one row (replacing its earlier state)."""
        self._rows.upsert(ids=[record.id], embeddings=_VECTOR, metadatas=[_metadata(record)])

    def records(self) -> list[IngestRecord]:
        """Every recorded ingest, newest first."""
        got = self._rows.get(include=["metadatas"])
        rows = [_record(rid, meta or {}) for rid, meta in zip(got["ids"], got["metadatas"])]
        return sorted(rows, key=lambda r: r.started, reverse=True)

    def finished(self, record: IngestRecord) -> None:
        """Mark an ingest finished; forget the stopped ingests of the same label, which it
        completed, and the oldest finished ones."""
        self.write(record)
        others = [r for r in self.records() if r.id != record.id]
        done = [r for r in others if r.finished is not None]
        drop = [r.id for r in others if r.finished is None and r.label == record.label
                and r.state() == "stopped"]
        drop += [r.id for r in done[KEEP_FINISHED - 1 :]]
        if drop:
            self._rows.delete(ids=drop)


class IngestRun:
    """The row of the ingest this process is running."""

    def __init__(self, log: IngestLog, record: IngestRecord) -> None:
        self._log, self.record = log, record

    def writing(self, sources: Iterable[str]) -> None:
        """A batch of these sources is about to be written."""
        pending = tuple(dict.fromkeys(sources))
        self._update(pending=pending)

    def wrote(self, done: int) -> None:
        """The batch is written; `done` documents in all so far."""
        self._update(done=done, pending=())

    def finish(self, done: int) -> None:
        """The ingest ended normally."""
        now = datetime.now(UTC)
        self.record = replace(self.record, done=done, pending=(), updated=now, finished=now)
        self._log.finished(self.record)

    def _update(self, **changes: Any) -> None:
        self.record = replace(self.record, updated=datetime.now(UTC), **changes)
        self._log.write(self.record)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _metadata(record: IngestRecord) -> dict[str, Any]:
    pending = list(record.pending[:_PENDING_LISTED])
    if len(record.pending) > _PENDING_LISTED:
        pending.append(f"… {len(record.pending) - _PENDING_LISTED} more")
    meta = {"label": record.label, "host": record.host, "pid": record.pid,
            "started": record.started.isoformat(), "updated": record.updated.isoformat(),
            "done": record.done, "total": record.total, "pending": "\n".join(pending)}
    if record.finished is not None:
        meta["finished"] = record.finished.isoformat()
    return meta


def _record(rid: str, meta: dict[str, Any]) -> IngestRecord:
    finished = meta.get("finished")
    started = _time(meta.get("started"))
    return IngestRecord(
        id=rid, label=str(meta.get("label", "")), host=str(meta.get("host", "")),
        pid=int(meta.get("pid", 0)), started=started,
        updated=_time(meta.get("updated")) if meta.get("updated") else started,
        done=int(meta.get("done", 0)), total=int(meta.get("total", 0)),
        pending=tuple(p for p in str(meta.get("pending", "")).split("\n") if p),
        finished=_time(finished) if finished else None,
    )


def _time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
