"""Managing the trusted-source collection from the command line: ingest, list, remove."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from factcheck.errors import BadInputError
from factcheck.intake import fetch_url
from factcheck.pipeline import open_store, reaching_store
from factcheck.render import terminal_safe
from factcheck.settings import Settings
from retrieval import Document, IngestStats, SourceStore
from retrieval.documents import Catalogue
from retrieval.ingests import IngestRecord
from retrieval.loaders import CorpusLineError, extract_text, file_id, load_path


@reaching_store
def ingest_sources(paths: list[str], settings: Settings, console: Console
                   ) -> tuple[IngestStats, str]:
    """Read every path or URL first (so a bad one fails before anything is written), then
    ingest; returns what it did and where the collection is."""
    documents = [doc for path in paths for doc in _documents(path, settings)]
    if not documents:
        raise BadInputError("nothing to ingest: no supported file (.txt .md .html .pdf .jsonl) found")
    store = open_store(settings)
    return _ingest(store, documents, paths, console), store.location


def _ingest(store: SourceStore, documents: list[Document], paths: list[str], console: Console
            ) -> IngestStats:
    with Progress(
        TextColumn("embedding chunks"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task("ingest", total=None)
        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return store.ingest(documents, progress, label=ingest_label(paths))


def ingest_label(paths: list[str]) -> str:
    """The command that ingests `paths` from any folder (files as absolute paths): the ingest
    log's label, which a stopped ingest tells the user to run again."""
    given = [p if p.startswith(("http://", "https://")) else str(Path(p).resolve()) for p in paths]
    return shlex.join(["factcheck", "ingest", *given])


@reaching_store
def list_sources(settings: Settings, console: Console, as_json: bool = False) -> None:
    """Print the collection's sources as a table (or JSON), with totals and any ingest that
    stopped part-way."""
    store = open_store(settings)
    catalogue = store.catalogue()
    if as_json:
        print(json.dumps(_catalogue_json(catalogue, store.location), ensure_ascii=False))
        return
    partial = {source for record in catalogue.stopped() for source in record.pending}
    table = Table("source", "title", "chunks", "ingested")
    for info in catalogue.sources:
        flag = " (partly written?)" if info.source_id in partial else ""
        table.add_row(_safe(info.source_id + flag), _safe(info.title or ""), str(info.chunks),
                      _safe(info.ingested_at or ""))
    console.print(table)
    stats = catalogue.stats
    console.print(f"{stats.sources} source(s), {stats.chunks} chunk(s); last ingest {stats.last_ingest or 'never'}.")
    console.print(f"Collection {_safe(store.location)}.", highlight=False, soft_wrap=True)
    for record in catalogue.stopped():
        console.print(f"[bold yellow]warning:[/] {_safe(stopped_ingest(record))}", highlight=False,
                      soft_wrap=True)


def _catalogue_json(catalogue: Catalogue, location: str) -> dict[str, Any]:
    stopped = [{"label": r.label, "host": r.host, "pid": r.pid, "started": r.started.isoformat(),
                "last_heard": r.updated.isoformat(), "documents_written": r.done,
                "documents": r.total, "writing": list(r.pending)} for r in catalogue.stopped()]
    return {"collection": location, "sources": [asdict(s) for s in catalogue.sources],
            "source_count": catalogue.stats.sources, "chunks": catalogue.stats.chunks,
            "last_ingest": catalogue.stats.last_ingest, "stopped_ingests": stopped}


def _safe(text: str) -> str:
    # Source ids, titles and labels are other people's text: no markup, no terminal commands.
    return escape(terminal_safe(text))


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


def _documents(path: str, settings: Settings) -> list[Document]:
    if path.startswith(("http://", "https://")):
        data, content_type, final_url = fetch_url(path, settings)
        title, text = extract_text(data, content_type)
        return [Document(id=final_url, text=text, title=title, url=final_url, date=None,
                         origin=path)]
    if not Path(path).exists():
        raise BadInputError(f"{path}: no such file or folder")
    try:
        return list(load_path(Path(path)))
    except (CorpusLineError, ValueError) as exc:
        raise BadInputError(f"{path}: {exc}. Nothing was ingested; fix the file and run again.") from exc
