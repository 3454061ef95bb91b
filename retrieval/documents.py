"""The plain data that goes into the store and comes out of it."""

from __future__ import annotations

from dataclasses import dataclass

from factcheck.retrieval.ingests import IngestRecord


@dataclass(frozen=True)
class Document:
    """One trusted source to ingest: an article, a report, an abstract."""

    id: str  # stable id of the source (a file: URI, URL, DOI...); chunk ids derive from it
    text: str
    title: str | None = None
    url: str | None = None
    date: str | None = None  # publication date as the source gave it
    # Where the text was read from (a file: URI, the corpus file, the URL given), so that an
    # ingest can say when it replaces a source read from somewhere else.
    origin: str | None = None
    # Ids this source may be stored under from before (a file's old relative-path ids): chunks
    # of those written without an origin are replaced by this document's.
    former_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """One chunk found by a search, best first."""

    chunk_id: str
    text: str
    score: float  # hybrid: fused, in [0, 1]; dense: cosine; lexical: BM25 / best BM25
    source_id: str
    title: str | None = None
    url: str | None = None
    date: str | None = None
    # Cosine of the chunk's vector and the query's (None in lexical mode): an absolute measure
    # of relatedness, where `score` only ranks the candidates of one query against each other.
    similarity: float | None = None


@dataclass(frozen=True)
class Replaced:
    """A source an ingest replaced that was read from elsewhere, or stored under a former id."""

    source_id: str
    previous_id: str  # the same id, or a former one
    previous_origin: str | None  # where the replaced text came from (None: not recorded)
    origin: str | None  # where the new text comes from

    def describe(self) -> str:
        """One sentence for the user."""
        if self.previous_id != self.source_id:
            return (f"{self.previous_id} (its id from before sources were known by their full "
                    f"path) is now {self.source_id}")
        return (f"{self.source_id} came from {self.previous_origin}; its text is now the one "
                f"from {self.origin or 'this ingest'}")


@dataclass(frozen=True)
class IngestStats:
    """What one ingest did."""

    documents: int
    chunks_added: int
    chunks_skipped: int  # already in the store (same source, same text)
    replaced: tuple[Replaced, ...] = ()  # sources read from elsewhere that it replaced


@dataclass(frozen=True)
class SourceInfo:
    """One ingested source, as `sources()` lists it."""

    source_id: str
    title: str | None
    url: str | None
    chunks: int
    ingested_at: str  # ISO 8601, UTC, of its latest ingest


@dataclass(frozen=True)
class StoreStats:
    """Size of the store."""

    sources: int
    chunks: int
    last_ingest: str | None


@dataclass(frozen=True)
class Catalogue:
    """What a collection holds, as read from Chroma, and where it is."""

    sources: list[SourceInfo]
    stats: StoreStats
    ingests: list[IngestRecord]  # newest first
    where: str  # "the Chroma server at host:port", or the embedded store's folder

    def stopped(self) -> list[IngestRecord]:
        """Ingests that stopped part-way and were not run again to the end."""
        return [r for r in self.ingests if r.state() == "stopped"]


class RetrievalError(Exception):
    """Base of the errors the retrieval package raises; callers map them to their own types."""


class StoreUnavailableError(RetrievalError):
    """The Chroma store cannot be opened or reached."""


class EmbedderMismatchError(RetrievalError):
    """The collection was built with another embedder; vectors of two models cannot be mixed."""
