"""Managing the trusted-source collection from the command line: ingest, list, remove."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from factcheck.errors import BadInputError
from factcheck.intake import fetch_url
from factcheck.pipeline import open_store
from factcheck.settings import Settings
from retrieval import Document, IngestStats
from retrieval.loaders import CorpusLineError, extract_text, load_path


def ingest_sources(paths: list[str], settings: Settings, console: Console) -> IngestStats:
    """Read every path or URL first (so a bad one fails before anything is written), then ingest."""
    documents = [doc for path in paths for doc in _documents(path, settings)]
    if not documents:
        raise BadInputError("nothing to ingest: no supported file (.txt .md .html .pdf .jsonl) found")
    store = open_store(settings)
    with Progress(
        TextColumn("embedding chunks"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task("ingest", total=None)
        return store.ingest(documents, progress=lambda done, total: bar.update(task, completed=done, total=total))


def list_sources(settings: Settings, console: Console) -> None:
    """Print the collection's sources as a table, with totals."""
    store = open_store(settings)
    table = Table("source", "title", "chunks", "ingested")
    for info in store.sources():
        table.add_row(info.source_id, info.title or "", str(info.chunks), str(info.ingested_at or ""))
    console.print(table)
    stats = store.stats()
    console.print(f"{stats.sources} source(s), {stats.chunks} chunk(s); last ingest {stats.last_ingest or 'never'}.")


def remove_source(source_id: str, settings: Settings) -> int:
    """Remove every chunk of one source; an unknown id is bad input."""
    removed = open_store(settings).remove(source_id)
    if not removed:
        raise BadInputError(f"no source with id {source_id!r}: see `factcheck sources`")
    return removed


def _documents(path: str, settings: Settings) -> list[Document]:
    if path.startswith(("http://", "https://")):
        data, content_type, final_url = fetch_url(path, settings)
        title, text = extract_text(data, content_type)
        return [Document(id=final_url, text=text, title=title, url=final_url, date=None)]
    if not Path(path).exists():
        raise BadInputError(f"{path}: no such file or folder")
    try:
        return list(load_path(Path(path)))
    except (CorpusLineError, ValueError) as exc:
        raise BadInputError(f"{path}: {exc}. Nothing was ingested; fix the file and run again.") from exc
