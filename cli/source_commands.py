"""`factcheck ingest` and `factcheck sources`: the collection from the terminal (the work itself is
factcheck.sources')."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from factcheck.cli.render import embedding_bar, err, plain, safe, stdout, table
from factcheck.collection import read_sources
from factcheck.errors import BadInputError
from factcheck.settings import Settings
from factcheck.sources import (
    catalogue_json,
    catalogue_of,
    ingest_documents,
    remove_source,
    stopped_ingest,
)

if TYPE_CHECKING:
    from factcheck.retrieval.documents import Catalogue, Replaced


def add_source_commands(commands: argparse._SubParsersAction) -> None:
    """Add `ingest PATH|URL…` and `sources [list|remove SOURCE_ID]` to the CLI."""
    ingest = commands.add_parser("ingest", help="add files, folders, corpus .jsonl or URLs to the "
                                 "collection")
    ingest.add_argument("paths", nargs="+", metavar="PATH|URL",
                        help="a .txt .md .html .pdf file, a folder of them, a corpus .jsonl "
                             "(one document a line) or an http(s) URL")
    ingest.set_defaults(run=_run_ingest)

    sources = commands.add_parser("sources", help="list the collection's sources, or remove one")
    sources.add_argument("action", nargs="?", choices=["list", "remove"], default="list",
                         help="list (the default) or remove")
    sources.add_argument("source_id", nargs="?", metavar="SOURCE_ID",
                         help="with remove: the source's id (as listed) or its file's path")
    sources.add_argument("--format", choices=["text", "json"], default="text",
                         help="json: every source with its chunk count, and stopped ingests")
    sources.set_defaults(run=_run_sources)


def _run_ingest(args: argparse.Namespace, settings: Settings) -> int:
    documents = read_sources(args.paths, settings)  # a bad path fails before anything is written
    stats, location = ingest_documents(documents, args.paths, settings, embedding_bar)
    err.print(
        f"Ingested {stats.documents} document(s): {stats.chunks_added} new chunk(s), "
        f"{stats.chunks_skipped} already present, into collection {plain(location)}.",
        highlight=False,
    )
    _print_replaced(stats.replaced)
    return 0


def _print_replaced(replaced: tuple[Replaced, ...], listed: int = 10) -> None:
    """Sources this ingest replaced that were read from elsewhere: the user should know."""
    for item in replaced[:listed]:
        err.print(f"Replaced: {safe(item.describe())}.", highlight=False)
    if len(replaced) > listed:
        err.print(f"… and {len(replaced) - listed} more source(s) replaced.")


def _run_sources(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "remove":
        if not args.source_id:
            raise BadInputError("say which source to remove: factcheck sources remove SOURCE_ID")
        removed = remove_source(args.source_id, settings)
        err.print(f"Removed {removed} chunk(s) of {args.source_id}.")
        return 0
    catalogue, location = catalogue_of(settings)
    if args.format == "json":
        print(json.dumps(catalogue_json(catalogue, location), ensure_ascii=False))
    else:
        _print_catalogue(catalogue, location)
    return 0


def _print_catalogue(catalogue: Catalogue, location: str) -> None:
    """The sources as a table, with totals and any ingest that stopped part-way."""
    console = stdout()
    partial = {source for record in catalogue.stopped() for source in record.pending}
    listing = table("source", "title", "chunks", "ingested")
    listing.columns[0].overflow = "fold"  # whole, for `sources remove ID`: wrapped, never cut
    for info in catalogue.sources:
        flag = " (partly written?)" if info.source_id in partial else ""
        listing.add_row(safe(info.source_id + flag), safe(info.title or ""), str(info.chunks),
                        safe(info.ingested_at or ""))
    console.print(listing)
    stats = catalogue.stats
    console.print(f"{stats.sources} source(s), {stats.chunks} chunk(s); "
                  f"last ingest {stats.last_ingest or 'never'}.")
    console.print(f"Collection {safe(location)}.", highlight=False, soft_wrap=True)
    for record in catalogue.stopped():
        console.print(f"[bold yellow]warning:[/] {safe(stopped_ingest(record))}", highlight=False,
                      soft_wrap=True)
