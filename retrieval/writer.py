"""Writing documents' chunks: to Chroma (text, metadata, vector) and to the lexical index.

A document ingested again with new text replaces its source's old chunks, so that a corrected
article does not leave its old wording searchable. Of two machines writing one source at once
the later writer's text stays (by each chunk's `written` time): the later deletes the earlier's
chunks, and the earlier, when it finds a newer text, deletes its own new chunks; chunks of ours
that another writer deleted meanwhile are written again. Chunks stored under a document's former
id go too, if they were written before origins were recorded (a file ingested under its old
relative id).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np

from factcheck.retrieval.chroma import Collection
from factcheck.retrieval.chunking import chunk_id, split_chunks
from factcheck.retrieval.documents import Document, Replaced
from factcheck.retrieval.lexical import ChunkRecord, LexicalIndex

# Split from the store: its log lines keep the name they had (users and tests read it).
logger = logging.getLogger("factcheck.retrieval.store")

_MAX_WRITE = 4000  # records per Chroma add; below its max_batch_size (5461 in chromadb 1.5)


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Chunk:
    """One piece of a document, as it is stored."""

    id: str
    document: Document
    index: int
    text: str

    def embed_text(self) -> str:
        # The title tells the embedder what a chunk from the middle of a long text is about.
        title = self.document.title
        return f"{title}\n{self.text}" if title else self.text

    def metadata(self, ingested_at: str, written: float) -> dict[str, Any]:
        doc = self.document
        meta = {
            "source_id": doc.id,
            "chunk_index": self.index,
            "ingested_at": ingested_at,
            "written": written,  # seconds since the epoch: which of two writers came last
            "title": doc.title,
            "url": doc.url,
            "date": doc.date,
            "origin": doc.origin,
        }
        return {key: value for key, value in meta.items() if value is not None}  # Chroma: no None

    def record(self, ingested_at: str) -> ChunkRecord:
        doc = self.document
        # BM25 reads the title too: on SciFact it lifts nDCG@10 (bench/retrieval_quality.py).
        return ChunkRecord(
            self.id, doc.id, doc.title, doc.url, doc.date, ingested_at, self.embed_text()
        )


def chunks_of(document: Document) -> list[Chunk]:
    """The document's chunks, in order."""
    return [
        Chunk(chunk_id(document.id, text), document, i, text)
        for i, text in enumerate(split_chunks(document.text))
    ]


@dataclass(frozen=True)
class Written:
    """What writing batches of chunks did."""

    added: int = 0
    skipped: int = 0
    replaced: list[Replaced] = field(default_factory=list)

    def __add__(self, other: Written) -> Written:
        return Written(self.added + other.added, self.skipped + other.skipped,
                       self.replaced + other.replaced)


class ChunkWriter:
    """Writes batches of chunks into a collection and the lexical index that follows it."""

    def __init__(self, chroma: Collection, embedder: Embedder, index: LexicalIndex) -> None:
        self._chroma, self._embedder, self._index = chroma, embedder, index

    def write(self, chunks: list[Chunk]) -> Written:
        """Store the chunks not stored yet, replacing their sources' other chunks."""
        unique = list({c.id: c for c in chunks}.values())
        if not unique:
            return Written(skipped=len(chunks))
        stored = set(self._chroma.get(ids=[c.id for c in unique], include=[])["ids"])
        new = [c for c in unique if c.id not in stored]
        moment = datetime.now(UTC)
        now, written = moment.isoformat(timespec="seconds"), moment.timestamp()
        self._add(new, now, written)
        # Chunks in Chroma but not in the lexical index (an interrupted ingest) are indexed too.
        indexed = self._index.known([c.id for c in unique])
        unindexed = [c.record(now) for c in unique if c.id not in indexed]
        self._index.add(unindexed)
        dropped, replaced, winners = self._drop_stale(unique, {c.id for c in new}, written)
        restored = self._restore([c for c in unique if c.document.id in winners], now, written)
        if new or dropped or unindexed or restored:
            # After the writes: a machine that sees the new marker finds the chunks there. An
            # interrupted ingest's chunks (unindexed here) were never announced: now they are.
            self._chroma.mark_changed()
        return Written(len(new), len(chunks) - len(new), replaced)

    def _add(self, chunks: list[Chunk], now: str, written: float) -> None:
        if not chunks:
            return
        vectors = self._embedder.embed([c.embed_text() for c in chunks])
        for start in range(0, len(chunks), _MAX_WRITE):  # one huge document can exceed it
            part = chunks[start : start + _MAX_WRITE]
            self._chroma.add(
                ids=[c.id for c in part],
                embeddings=vectors[start : start + _MAX_WRITE],
                documents=[c.text for c in part],
                metadatas=[c.metadata(now, written) for c in part],
            )

    def _drop_stale(self, chunks: list[Chunk], new: set[str], written: float
                    ) -> tuple[int, list[Replaced], set[str]]:
        """Delete the other chunks these documents' sources have in Chroma (not in the local
        index, which may be behind another machine's edit); returns how many, the sources
        replaced that were read from elsewhere, and the sources whose text is ours (the latest).
        """
        documents = {c.document.id: c.document for c in chunks}
        former = {old: doc for doc in documents.values() for old in doc.former_ids
                  if old not in documents}
        got = self._chroma.get(where={"source_id": {"$in": sorted(documents | former)}},
                               include=["metadatas"])
        rows = [(cid, meta or {}) for cid, meta in zip(got["ids"], got["metadatas"])]
        judge = _Replacing(documents, former, {c.id for c in chunks}, new, written,
                           _latest(meta for _, meta in rows))
        stale, replaced = [], {}
        for cid, meta in rows:
            goes, replacement = judge.row(cid, meta)
            if replacement:
                replaced[replacement.previous_id] = replacement
            if goes:
                stale.append(cid)
        if stale:
            self._chroma.delete(stale)
            self._index.remove(stale)
            logger.info("replaced %d outdated chunks", len(stale))
        return len(stale), list(replaced.values()), judge.winners()

    def _restore(self, chunks: list[Chunk], now: str, written: float) -> int:
        """Write again those of our chunks another writer deleted meanwhile (it took them for
        older than its own text: chunks this ingest found already stored keep their time)."""
        if not chunks:
            return 0
        present = set(self._chroma.get(ids=[c.id for c in chunks], include=[])["ids"])
        missing = [c for c in chunks if c.id not in present]
        if missing:
            logger.info("%d chunks deleted by another writer meanwhile: writing them again",
                        len(missing))
            self._add(missing, now, written)
            self._index.add([c.record(now) for c in missing])
        return len(missing)


@dataclass(frozen=True)
class _Replacing:
    """Which stored chunks of the sources being written go: a batch's view of its sources."""

    documents: dict[str, Document]  # source id -> the document being written
    former: dict[str, Document]  # a former id -> the document now stored under another
    keep: set[str]  # the batch's chunk ids
    new: set[str]  # those of them added by this batch
    written: float  # this batch's time
    latest: dict[str, float]  # source id -> the latest time any of its chunks was written

    def row(self, cid: str, meta: dict[str, Any]) -> tuple[bool, Replaced | None]:
        """Whether a stored chunk goes, and the replacement to tell the user about, if any."""
        source, origin = str(meta.get("source_id")), meta.get("origin")
        if source not in self.documents:
            if origin:  # a former id that is some other source's id now: not ours
                return False, None
            doc = self.former[source]
            return True, Replaced(doc.id, source, None, doc.origin)
        if self.latest[source] > self.written:  # a newer text came after ours: ours goes
            return cid in self.new and _written(meta) == self.written, None
        if cid in self.keep or _written(meta) >= self.written:
            return False, None
        new_origin = self.documents[source].origin
        if origin and new_origin and origin != new_origin:
            return True, Replaced(source, source, origin, new_origin)
        return True, None

    def winners(self) -> set[str]:
        """The sources whose text is this batch's: nothing newer was written."""
        return {s for s in self.documents if self.latest.get(s, 0.0) <= self.written}


def _latest(metadatas: Iterable[dict[str, Any]]) -> dict[str, float]:
    latest: dict[str, float] = {}
    for meta in metadatas:
        source = str(meta.get("source_id"))
        latest[source] = max(latest.get(source, 0.0), _written(meta))
    return latest


def _written(meta: dict[str, Any]) -> float:
    return float(meta.get("written", 0.0))
