"""The trusted-source collection: ingest documents (read by factcheck.collection), describe and
remove sources (what the CLI's `ingest` and `sources` commands and the bot's /sources and /add
print is theirs)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factcheck.errors import BadInputError
from factcheck.pipeline import open_store, reaching_store
from factcheck.retrieval import Document, IngestStats, SourceStore
from factcheck.retrieval.documents import Catalogue
from factcheck.retrieval.ingests import IngestRecord
from factcheck.retrieval.loaders import file_id
from factcheck.settings import Settings

IngestProgress = Callable[[int, int], None]  # (done, total), as SourceStore.ingest calls it


@reaching_store
def ingest_documents(
    documents: list[Document], paths: list[str], settings: Settings,
    progress_bar: Callable[[], AbstractContextManager[IngestProgress | None]] = nullcontext,
) -> tuple[IngestStats, str]:
    """Ingest what collection.read_sources read from `paths`; returns what it did and where the
    collection is. `progress_bar()` is opened once the collection is reached (a collection
    that cannot be reached is one error line, no bar) and gives the `progress(done, total)`
    that follows the embedding."""
    store = open_store(settings)
    with progress_bar() as progress:
        return ingest_into(store, documents, ingest_label(paths), progress), store.location


@reaching_store
def ingest_into(store: SourceStore, documents: list[Document], label: str,
                progress: IngestProgress | None = None) -> IngestStats:
    """Chunk, embed and store `documents`, recorded in the ingest log under `label`."""
    return store.ingest(documents, progress, label=label)


def ingest_label(paths: list[str]) -> str:
    """The command that ingests `paths` from any folder (files as absolute paths): the ingest
    log's label, which a stopped ingest tells the user to run again."""
    given = [p if p.startswith(("http://", "https://")) else str(Path(p).resolve()) for p in paths]
    return shlex.join(["factcheck", "ingest", *given])


@reaching_store
def is_empty(store: SourceStore) -> bool:
    """Whether the collection holds nothing (a front warns: no claim can then be judged)."""
    return store.count() == 0


@reaching_store
def catalogue_in(store: SourceStore) -> Catalogue:
    """What an open collection holds: sources, totals, ingests that stopped."""
    return store.catalogue()


@reaching_store
def catalogue_of(settings: Settings) -> tuple[Catalogue, str]:
    """What the collection holds (sources, totals, ingests that stopped) and where it is."""
    store = open_store(settings)
    return store.catalogue(), store.location


def catalogue_json(catalogue: Catalogue, location: str) -> dict[str, Any]:
    """The catalogue as `factcheck sources --format json` prints it."""
    stopped = [{"label": r.label, "host": r.host, "pid": r.pid, "started": r.started.isoformat(),
                "last_heard": r.updated.isoformat(), "documents_written": r.done,
                "documents": r.total, "writing": list(r.pending)} for r in catalogue.stopped()]
    return {"collection": location, "sources": [asdict(s) for s in catalogue.sources],
            "source_count": catalogue.stats.sources, "chunks": catalogue.stats.chunks,
            "last_ingest": catalogue.stats.last_ingest, "stopped_ingests": stopped}


def stopped_ingest(record: IngestRecord) -> str:
    """One line on an ingest that stopped part-way, and what to do about it."""
    of = f" of {record.total}" if record.total else ""
    line = (f"an ingest stopped part-way: {record.label!r}, started {_minute(record.started)} "
            f"on {record.host} (process {record.pid}), wrote {record.done}{of} document(s); "
            f"last heard of {_minute(record.updated)}.")
    if record.pending:
        line += (f" It was writing {', '.join(record.pending)}: they may hold their old and new "
                 "text.")
    return line + " Run it again to finish it."


def _minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@reaching_store
def remove_source(source_id: str, settings: Settings) -> int:
    """Remove every chunk of one source (an id, or a file's path); an unknown id is bad input."""
    store = open_store(settings)
    removed = store.remove(source_id)
    if not removed and Path(source_id).is_file():
        removed = store.remove(file_id(Path(source_id)))
    if not removed:
        raise BadInputError(f"no source with id {source_id!r}: see `factcheck sources`")
    return removed
