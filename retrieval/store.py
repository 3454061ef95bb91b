"""The store of trusted sources: chunks with their vectors in Chroma, and a BM25 index beside it.

Chroma (embedded under ``data_dir/chroma``, or a ``chroma run`` server) holds each chunk's text,
metadata and vector and is the source of truth; every ingest or removal that changes it moves
the collection's change marker (retrieval.chroma). The lexical index is a local SQLite file
under ``data_dir/lexical``, derived from the collection; when its chunk count differs from
Chroma's it is resynced from Chroma when the store opens.

The lexical index follows the collection by chunk ids (retrieval.follower): it looks when the
store opens, before a search at most every `sync_interval` seconds (so a long-lived process
such as the bot follows another machine's ingest within that time), and before every
`changed_at()`. Ingests write through retrieval.writer. The catalogue (`sources()`, `stats()`) is read from Chroma itself, with the
collection's ingest log (retrieval.ingests), so every machine lists the same sources and sees
an ingest that stopped part-way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sized
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import numpy as np

from factcheck.retrieval.chroma import INGESTS, ChangeMarker, Collection, open_collection
from factcheck.retrieval.documents import (
    Catalogue,
    Document,
    Hit,
    IngestStats,
    SourceInfo,
    StoreStats,
)
from factcheck.retrieval.follower import SYNC_INTERVAL, IndexFollower, open_index
from factcheck.retrieval.ingests import IngestLog, IngestRun
from factcheck.retrieval.lexical import LexicalIndex
from factcheck.retrieval.search import CANDIDATES, DENSE_WEIGHT, Mode, rank
from factcheck.retrieval.writer import Chunk, ChunkWriter, Embedder, Written, chunks_of

logger = logging.getLogger(__name__)

__all__ = ["Embedder", "Mode", "SourceStore"]

_BATCH_CHUNKS = 256  # chunks embedded and written together during ingest


class SourceStore:
    """Trusted sources, chunked and searchable by meaning (Chroma) and by words (BM25)."""

    def __init__(self, collection: Collection, embedder: Embedder, index: LexicalIndex,
                 sync_interval: float = SYNC_INTERVAL) -> None:
        self._chroma = collection
        self._embedder = embedder
        self._index = index
        self.dense_weight = DENSE_WEIGHT
        self._follower = IndexFollower(collection, index, sync_interval)
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
        index = open_index(data_dir / "lexical" / f"{place}.sqlite")
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
        done, outcome, pending = 0, Written(), []
        for document in documents:
            done += 1
            pending.extend(chunks_of(document))
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

    def _write_batch(self, run: IngestRun, chunks: list[Chunk], done: int) -> Written:
        # The log names the batch's sources first: if this process dies while writing them,
        # they may hold their old and new text until ingested again.
        if chunks:
            run.writing(c.document.id for c in chunks)
        written = ChunkWriter(self._chroma, self._embedder, self._index).write(chunks)
        if chunks:
            run.wrote(done)
        return written

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
            [rank(d, lex, mode, self.dense_weight)[:k] for d, lex in zip(dense, lexical)], dense
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
        sources = self.sources()
        return Catalogue(sources, _stats(sources), self._ingests().records(), self._chroma.where)

    def sources(self) -> list[SourceInfo]:
        """Every source in the collection with its chunk count, most recently ingested first."""
        per_source: dict[str, list[Any]] = {}  # source id -> [title, url, chunks, ingested_at]
        pages = self._chroma.pages(include=["metadatas"])
        for meta in (meta or {} for page in pages for meta in page["metadatas"]):
            row = per_source.setdefault(str(meta.get("source_id", "")), [None, None, 0, ""])
            row[0], row[1] = row[0] or meta.get("title"), row[1] or meta.get("url")
            row[2] += 1
            row[3] = max(row[3], str(meta.get("ingested_at", "")))
        by_id = [SourceInfo(sid, *per_source[sid]) for sid in sorted(per_source)]
        return sorted(by_id, key=lambda info: info.ingested_at, reverse=True)  # stable

    def stats(self) -> StoreStats:
        """Number of sources and chunks in the collection, and when the last ingest happened."""
        return _stats(self.sources())

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

    def _follow(self, force: bool = False) -> ChangeMarker | None:
        """Bring the lexical index in step with the collection (retrieval.follower)."""
        return self._follower.follow(force)


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


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _stats(sources: list[SourceInfo]) -> StoreStats:
    return StoreStats(sources=len(sources), chunks=sum(s.chunks for s in sources),
                      last_ingest=max((s.ingested_at for s in sources), default=None))
