"""The store of trusted sources: chunks with their vectors in Chroma, and a BM25 index beside it.

Chroma (embedded under ``data_dir/chroma``, or a ``chroma run`` server) holds each chunk's text,
metadata and vector and is the source of truth; every ingest or removal that changes it moves
the collection's change marker (retrieval.chroma). The lexical index is a local SQLite file
under ``data_dir/lexical``, derived from the collection; when its chunk count differs from
Chroma's it is resynced from Chroma when the store opens.

The lexical index follows the collection by chunk ids: when the marker moved (or the counts
differ), the store reads the collection's id set (paged) and adds or drops the difference. It
looks when it opens, before a search at most every `sync_interval` seconds (so a long-lived
process such as the bot follows another machine's ingest within that time), and before every
`changed_at()`. The catalogue (`sources()`, `stats()`) is read from Chroma itself, with the
collection's ingest log (retrieval.ingests), so every machine lists the same sources and sees
an ingest that stopped part-way.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, Self

import numpy as np

from retrieval.chroma import INGESTS, ChangeMarker, Collection, open_collection
from retrieval.chunking import chunk_id, split_chunks
from retrieval.documents import (
    Catalogue,
    Document,
    Hit,
    IngestStats,
    Replaced,
    SourceInfo,
    StoreStats,
)
from retrieval.ingests import IngestLog, IngestRun
from retrieval.lexical import ChunkRecord, LexicalIndex
from retrieval.search import CANDIDATES, DENSE_WEIGHT, fuse

logger = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "lexical"]
_BATCH_CHUNKS = 256  # chunks embedded and written together during ingest
_PAGE = 2000  # rows per Chroma read while resyncing
SYNC_INTERVAL = 2.0  # seconds a store may search before looking at the collection's marker again
_SYNCED = "synced_marker"  # lexical index meta: the marker its chunk ids last matched
_MAX_WRITE = 4000  # records per Chroma add; below its max_batch_size (5461 in chromadb 1.5)


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class _Chunk:
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


@dataclass(frozen=True)
class _Written:
    """What writing batches of chunks did."""

    added: int = 0
    skipped: int = 0
    replaced: list[Replaced] = field(default_factory=list)

    def __add__(self, other: _Written) -> _Written:
        return _Written(self.added + other.added, self.skipped + other.skipped,
                        self.replaced + other.replaced)


def _chunks_of(document: Document) -> list[_Chunk]:
    return [
        _Chunk(chunk_id(document.id, text), document, i, text)
        for i, text in enumerate(split_chunks(document.text))
    ]


class SourceStore:
    """Trusted sources, chunked and searchable by meaning (Chroma) and by words (BM25)."""

    def __init__(self, collection: Collection, embedder: Embedder, index: LexicalIndex,
                 sync_interval: float = SYNC_INTERVAL) -> None:
        self._chroma = collection
        self._embedder = embedder
        self._index = index
        self.dense_weight = DENSE_WEIGHT
        self.sync_interval = sync_interval
        self._next_look = 0.0  # time.monotonic() from which a search looks at the marker
        self._follow_lock = threading.Lock()
        self._ingest_log: IngestLog | None = None
        self.batch_chunks = _BATCH_CHUNKS

    @classmethod
    def open(
        cls,
        data_dir: Path,
        collection: str,
        embedder: Embedder,
        chroma_host: str | None = None,
        chroma_port: int = 8000,
        sync_interval: float = SYNC_INTERVAL,
    ) -> SourceStore:
        """Open (creating if needed) a collection, embedded under data_dir or on a server."""
        data_dir = Path(data_dir)
        chroma = open_collection(data_dir, collection, embedder.name, chroma_host, chroma_port)
        place = f"{collection}@{chroma_host}_{chroma_port}" if chroma_host else collection
        index = _open_index(data_dir / "lexical" / f"{place}.sqlite")
        store = cls(chroma, embedder, index, sync_interval)
        store._follow(force=True)
        return store

    def close(self) -> None:
        """Release the lexical index file."""
        self._index.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def location(self) -> str:
        """Which collection this is and where: "'sources' in /path/chroma" or "'sources' on
        the Chroma server at host:port"."""
        where = self._chroma.where
        joiner = "on" if where.startswith("the Chroma server") else "in"
        return f"{self._chroma.name!r} {joiner} {where}"

    def count(self) -> int:
        """Number of chunks in the collection (read from Chroma)."""
        return self._chroma.count()

    @property
    def embedder_name(self) -> str:
        """Name of the embedder the collection's vectors come from."""
        return self._embedder.name

    @property
    def embedder(self) -> Embedder:
        """The embedder of this collection, for callers that need vectors in the same space."""
        return self._embedder

    # --- ingest ---------------------------------------------------------------------------

    def ingest(
        self, documents: Iterable[Document], progress: Callable[[int, int], None] | None = None,
        label: str = "",
    ) -> IngestStats:
        """Chunk, embed and store documents; chunks already stored are skipped before embedding.

        `progress(done, total)` is called after each batch; total is 0 when `documents` has
        no length. The ingest is recorded in the collection's ingest log under `label` (what
        was ingested, e.g. the paths given), so that every machine can tell one that stopped.
        """
        total = len(documents) if isinstance(documents, Sized) else 0
        run = self._ingests().start(label or "documents", total)
        done, outcome, pending = 0, _Written(), []
        for document in documents:
            done += 1
            pending.extend(_chunks_of(document))
            if len(pending) >= self.batch_chunks:
                outcome, pending = outcome + self._write_batch(run, pending, done), []
                if progress:
                    progress(done, total)
        outcome += self._write_batch(run, pending, done)
        run.finish(done)
        if progress:
            progress(done, total)
        logger.info("ingested %d documents: %d chunks added, %d already stored", done,
                    outcome.added, outcome.skipped)
        return IngestStats(documents=done, chunks_added=outcome.added,
                           chunks_skipped=outcome.skipped, replaced=tuple(outcome.replaced))

    def _write_batch(self, run: IngestRun, chunks: list[_Chunk], done: int) -> _Written:
        # The log names the batch's sources first: if this process dies while writing them,
        # they may hold their old and new text until ingested again.
        if chunks:
            run.writing(c.document.id for c in chunks)
        written = self._write(chunks)
        if chunks:
            run.wrote(done)
        return written

    def _write(self, chunks: list[_Chunk]) -> _Written:
        unique = list({c.id: c for c in chunks}.values())
        if not unique:
            return _Written(skipped=len(chunks))
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
        return _Written(len(new), len(chunks) - len(new), replaced)

    def _add(self, chunks: list[_Chunk], now: str, written: float) -> None:
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

    def _drop_stale(self, chunks: list[_Chunk], new: set[str], written: float
                    ) -> tuple[int, list[Replaced], set[str]]:
        """Delete the other chunks these documents' sources have in Chroma (not in the local
        index, which may be behind another machine's edit); returns how many, the sources
        replaced that were read from elsewhere, and the sources whose text is ours (the latest).

        A document ingested again with new text replaces its source's old chunks, so that a
        corrected article does not leave its old wording searchable. Of two machines writing
        one source at once the later writer's text stays (by `written`): the later deletes
        the earlier's chunks, and the earlier, when it finds a newer text, deletes its own new
        chunks. Chunks stored under a document's former id go too, if they were written before
        origins were recorded (a file ingested under its old relative id).
        """
        keep = {c.id for c in chunks}
        documents = {c.document.id: c.document for c in chunks}
        former = {old: doc for doc in documents.values() for old in doc.former_ids
                  if old not in documents}
        got = self._chroma.get(where={"source_id": {"$in": sorted(documents | former)}},
                               include=["metadatas"])
        rows = [(cid, meta or {}) for cid, meta in zip(got["ids"], got["metadatas"])]
        latest: dict[str, float] = {}
        for _, meta in rows:
            source = str(meta.get("source_id"))
            latest[source] = max(latest.get(source, 0.0), _written(meta))
        stale, replaced = [], {}
        for cid, meta in rows:
            source, origin = str(meta.get("source_id")), meta.get("origin")
            if source in documents:
                if latest[source] > written:  # a newer text came after ours: ours goes
                    if cid in new and _written(meta) == written:
                        stale.append(cid)
                    continue
                if cid in keep or _written(meta) >= written:
                    continue
                new_origin = documents[source].origin
                if origin and new_origin and origin != new_origin:
                    replaced[source] = Replaced(source, source, origin, new_origin)
            elif origin:  # a former id that is some other source's id now: not ours
                continue
            else:
                doc = former[source]
                replaced[source] = Replaced(doc.id, source, None, doc.origin)
            stale.append(cid)
        if stale:
            self._chroma.delete(stale)
            self._index.remove(stale)
            logger.info("replaced %d outdated chunks", len(stale))
        winners = {s for s in documents if latest.get(s, 0.0) <= written}
        return len(stale), list(replaced.values()), winners

    def _restore(self, chunks: list[_Chunk], now: str, written: float) -> int:
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

    # --- search ---------------------------------------------------------------------------

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        """The k chunks closest to the query, best first."""
        return self.search_many([query], k, mode)[0]

    def search_many(
        self, queries: list[str], k: int = 5, mode: Mode = "hybrid"
    ) -> list[list[Hit]]:
        """Search several queries at once (their embeddings are computed in one batch)."""
        if not queries:
            return []
        self._follow()
        if k <= 0 or self._index.count() == 0:
            return [[] for _ in queries]
        pool = max(CANDIDATES, 2 * k)
        vectors = self._embedder.embed(list(queries)) if mode != "lexical" else None
        dense = self._dense(vectors, pool) if vectors is not None else [{} for _ in queries]
        if mode == "dense":
            lexical: list[dict[str, float]] = [{} for _ in queries]
        else:
            lexical = [self._lexical(q, pool, d) for q, d in zip(queries, dense)]
        if vectors is not None and mode == "hybrid":
            self._score_lexical_only(vectors, dense, lexical)
        return self._hits(
            [_rank(d, lex, mode, self.dense_weight)[:k] for d, lex in zip(dense, lexical)], dense
        )

    def _dense(self, vectors: np.ndarray, pool: int) -> list[dict[str, float]]:
        result = self._chroma.query(
            query_embeddings=vectors, n_results=pool, include=["distances"]
        )
        return [
            {cid: 1.0 - dist for cid, dist in zip(ids, dists)}  # cosine distance -> similarity
            for ids, dists in zip(result["ids"], result["distances"])
        ]

    def _lexical(self, query: str, pool: int, dense: dict[str, float]) -> dict[str, float]:
        # The BM25 top list, plus the (lower) BM25 score of the dense candidates outside it.
        bm25 = self._index.scores(query)
        found = dict(bm25.top(pool))
        for cid in dense:
            if cid not in found:
                found[cid] = bm25.of(cid)
        return found

    def _score_lexical_only(
        self, vectors: np.ndarray, dense: list[dict[str, float]], lexical: list[dict[str, float]]
    ) -> None:
        # BM25 candidates outside the dense top list still need a dense score to be fused.
        wanted = {cid for d, lex in zip(dense, lexical) for cid in lex if cid not in d}
        if not wanted:
            return
        got = self._chroma.get(ids=sorted(wanted), include=["embeddings"])
        stored = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
        for vector, d, lex in zip(vectors, dense, lexical):
            for cid in lex:
                if cid not in d and cid in stored:
                    d[cid] = float(stored[cid] @ vector)

    def _hits(self, ranked: list[list[tuple[str, float]]], dense: list[dict[str, float]]
              ) -> list[list[Hit]]:
        wanted = sorted({cid for r in ranked for cid, _ in r})
        if not wanted:
            return [[] for _ in ranked]
        got = self._chroma.get(ids=wanted, include=["documents", "metadatas"])
        rows = {
            cid: (text, meta or {})
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])
        }
        return [
            [_hit(cid, score, *rows[cid], similarity=d.get(cid)) for cid, score in r if cid in rows]
            for r, d in zip(ranked, dense)
        ]

    # --- catalogue --------------------------------------------------------------------------

    def catalogue(self) -> Catalogue:
        """What the collection holds, read from Chroma (the shared collection, not this
        machine's lexical index): its sources, their sizes, and the ingest log."""
        per_source: dict[str, list[Any]] = {}  # source id -> [title, url, chunks, ingested_at]
        for meta in self._all_metadata():
            row = per_source.setdefault(str(meta.get("source_id", "")), [None, None, 0, ""])
            row[0], row[1] = row[0] or meta.get("title"), row[1] or meta.get("url")
            row[2] += 1
            row[3] = max(row[3], str(meta.get("ingested_at", "")))
        by_id = [SourceInfo(sid, *per_source[sid]) for sid in sorted(per_source)]
        sources = sorted(by_id, key=lambda info: info.ingested_at, reverse=True)  # stable
        stats = StoreStats(sources=len(sources), chunks=sum(s.chunks for s in sources),
                           last_ingest=max((s.ingested_at for s in sources), default=None))
        return Catalogue(sources, stats, self._ingests().records(), self._chroma.where)

    def sources(self) -> list[SourceInfo]:
        """Every source in the collection with its chunk count, most recently ingested first."""
        return self.catalogue().sources

    def stats(self) -> StoreStats:
        """Number of sources and chunks in the collection, and when the last ingest happened."""
        return self.catalogue().stats

    def _all_metadata(self) -> Iterator[dict[str, Any]]:
        seen = 0
        while True:
            page = self._chroma.get(include=["metadatas"], limit=_PAGE, offset=seen)
            yield from (meta or {} for meta in page["metadatas"])
            seen += len(page["ids"])
            if len(page["ids"]) < _PAGE:
                return

    def _ingests(self) -> IngestLog:
        if self._ingest_log is None:
            self._ingest_log = IngestLog(self._chroma.companion(INGESTS))
        return self._ingest_log

    def remove(self, source_id: str) -> int:
        """Delete every chunk of a source; returns how many were deleted."""
        local = self._index.source_chunks(source_id)
        remote = self._chroma.get(where={"source_id": source_id}, include=[])["ids"]
        ids = sorted(set(local) | set(remote))
        if remote:
            self._chroma.delete(remote)
            self._chroma.mark_changed()
        self._index.remove(ids)
        logger.info("removed source %s (%d chunks)", source_id, len(ids))
        return len(ids)

    def changed_at(self) -> datetime | None:
        """When sources were last added or removed (UTC), by any machine; None if never.

        The later of the collection's change marker (read now from Chroma, as its writer dated
        it) and this machine's last change to its lexical index: a result made before this
        machine's index caught up with a change is as stale as one made before the change.
        """
        marker = self._follow(force=True)
        local = self._index.changed_at()
        times = [marker.at if marker else None, _utc(datetime.fromisoformat(local)) if local else None]
        return max((t for t in times if t is not None), default=None)

    # --- keeping the lexical index in step with Chroma ---------------------------------------

    def _follow(self, force: bool = False) -> ChangeMarker | None:
        """Resync the lexical index if the collection changed since it last matched; returns
        the marker read (None when the last look is less than `sync_interval` ago)."""
        if not force and time.monotonic() < self._next_look:
            return None
        with self._follow_lock:
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
        remote = self._remote_ids()
        local = self._index.all_ids()
        if remote != local:
            logger.info("lexical index behind the collection: %d chunks to add, %d to drop",
                        len(remote - local), len(local - remote))
        self._index.remove(sorted(local - remote))
        missing = sorted(remote - local)
        for start in range(0, len(missing), _PAGE):
            got = self._chroma.get(
                ids=missing[start : start + _PAGE], include=["documents", "metadatas"]
            )
            self._index.add(
                [
                    _record(cid, text, meta or {})
                    for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])
                ]
            )

    def _remote_ids(self) -> set[str]:
        ids: set[str] = set()
        while True:
            page = self._chroma.get(include=[], limit=_PAGE, offset=len(ids))["ids"]
            ids.update(page)
            if len(page) < _PAGE:
                return ids


def _open_index(path: Path) -> LexicalIndex:
    """The lexical index at `path`; a damaged one is deleted, and _follow rebuilds it."""
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


def _rank(
    dense: dict[str, float], lexical: dict[str, float], mode: Mode, dense_weight: float
) -> list[tuple[str, float]]:
    """Order candidates: fused (hybrid), by cosine (dense), or by BM25 relative to the best."""
    if mode == "hybrid":
        return fuse(dense, lexical, dense_weight)
    if mode == "dense":
        return sorted(dense.items(), key=lambda item: (-item[1], item[0]))
    matched = sorted(((c, s) for c, s in lexical.items() if s > 0), key=lambda i: (-i[1], i[0]))
    return [(cid, score / matched[0][1]) for cid, score in matched]


def _hit(cid: str, score: float, text: str, meta: dict[str, Any],
         similarity: float | None = None) -> Hit:
    return Hit(
        chunk_id=cid,
        text=text,
        score=score,
        similarity=similarity,
        source_id=str(meta.get("source_id", "")),
        title=meta.get("title"),
        url=meta.get("url"),
        date=meta.get("date"),
    )


def _written(meta: dict[str, Any]) -> float:
    return float(meta.get("written", 0.0))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
