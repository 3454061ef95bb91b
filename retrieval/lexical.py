"""BM25 over the chunks: a tokenizer with a Porter stemmer, and a numpy inverted index.

The tokens of every chunk are kept in a small SQLite file beside the vector store (term ids as
packed arrays), so a new process builds the in-memory index from it in a fraction of a second
instead of re-reading and re-tokenizing every chunk from Chroma.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import Stemmer

logger = logging.getLogger(__name__)

K1 = 1.2
B = 0.75
_TOKEN = re.compile(r"[^\W_]+(?:[.,]\d+)*")
_STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves also may might must shall via et al
    """.split()
)
# "no" and "not" carry meaning for fact-checking but BM25 cannot use negation; they stay stopwords.


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed word and number tokens of `text`, without stopwords."""
    cache = _TOKEN_CACHE
    if len(cache) > 500_000:  # bound the memory a stream of odd tokens can take
        cache.clear()
    out = []
    for word in _TOKEN.findall(text.lower()):
        token = cache.get(word)
        if token is None:
            token = cache[word] = _token(word)
        if token:
            out.append(token)
    return out


_TOKEN_CACHE: dict[str, str] = {}  # word -> token ("" for a stopword); most words recur


def _token(word: str) -> str:
    if word in _STOPWORDS:
        return ""
    if word[0].isdigit():
        return word.replace(",", "")  # "1,000" and "1000" are one number
    return stem(word)


# PyStemmer's "porter" is the original Porter (1980) algorithm, the one the index was built with.
_PORTER = Stemmer.Stemmer("porter")


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """Porter stem of a lower-case word (words of two letters or fewer are kept)."""
    if len(word) <= 2 or not word.isalpha():
        return word
    return _PORTER.stemWord(word)


# --- The index ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkRecord:
    """What the local index keeps about one chunk (its text stays in Chroma)."""

    chunk_id: str
    source_id: str
    title: str | None
    url: str | None
    date: str | None
    ingested_at: str
    text: str  # tokenized on the way in; not stored


class _Postings:
    """An immutable CSR inverted index: term id -> (chunk positions, BM25 term weights)."""

    def __init__(
        self, chunk_ids: list[str], docs: np.ndarray, weights: np.ndarray, offsets: np.ndarray
    ) -> None:
        self.chunk_ids = chunk_ids
        self.position = {cid: i for i, cid in enumerate(chunk_ids)}
        self.docs, self.weights, self.offsets = docs, weights, offsets
        self.generation = -1

    @classmethod
    def build(
        cls, chunk_ids: list[str], terms: np.ndarray, tfs: np.ndarray, per_chunk: np.ndarray,
        vocabulary: int,
    ) -> _Postings:
        """From every chunk's distinct term ids and counts, chunk after chunk (`per_chunk` each)."""
        n = len(chunk_ids)
        docs = np.repeat(np.arange(n, dtype=np.int32), per_chunk)
        lengths = np.bincount(docs, weights=tfs, minlength=n).astype(np.float32)
        order = np.argsort(terms, kind="stable")  # faster than quicksort on int32 here
        norm = K1 * (1 - B + B * lengths / max(float(lengths.mean()) if n else 1.0, 1e-9))
        tf = tfs[order].astype(np.float32)
        # The tf part of BM25 is fixed per posting, so it is computed once here, not per query.
        weights = (tf * (K1 + 1) / (tf + norm[docs[order]])).astype(np.float32)
        counts = np.bincount(terms, minlength=vocabulary + 1)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(chunk_ids, docs[order], weights, offsets)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays to save (ids joined by NUL: no pickle needed to load them)."""
        ids = np.frombuffer("\0".join(self.chunk_ids).encode("utf-8"), dtype=np.uint8)
        return {"docs": self.docs, "weights": self.weights, "offsets": self.offsets,
                "ids": ids, "count": np.array(len(self.chunk_ids)),
                "generation": np.array(self.generation)}  # fmt: skip

    @classmethod
    def from_arrays(cls, saved: dict[str, np.ndarray]) -> _Postings:
        """The inverse of `to_arrays`."""
        count = int(saved["count"])
        ids = saved["ids"].tobytes().decode("utf-8").split("\0") if count else []
        postings = cls(ids, saved["docs"], saved["weights"], saved["offsets"])
        postings.generation = int(saved["generation"])
        return postings

    def scores(self, term_ids: Counter[int]) -> np.ndarray:
        """BM25 score of every chunk for the query terms (id -> count in the query)."""
        n = len(self.chunk_ids)
        out = np.zeros(n, dtype=np.float32)
        for term, count in term_ids.items():
            if term + 1 >= len(self.offsets):
                continue
            start, end = self.offsets[term], self.offsets[term + 1]
            df = end - start
            if df == 0:
                continue
            idf = np.log1p((n - df + 0.5) / (df + 0.5))
            out[self.docs[start:end]] += np.float32(idf * count) * self.weights[start:end]
        return out


_SCHEMA = """
CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, term TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    row INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, source_id TEXT NOT NULL,
    title TEXT, url TEXT, date TEXT, ingested_at TEXT NOT NULL,
    terms BLOB NOT NULL, tfs BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


class LexicalIndex:
    """Chunk catalogue and BM25 index in one SQLite file; the numpy index is built on first search."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._postings: _Postings | None = None

    def close(self) -> None:
        """Close the SQLite file."""
        self._db.close()

    def check(self) -> None:
        """Raise sqlite3.DatabaseError if the file is damaged (truncated, overwritten)."""
        problems = [row[0] for row in self._db.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            found = " ".join(" ".join(problems).split())  # one line for the warning
            raise sqlite3.DatabaseError(found if len(found) < 160 else found[:157] + "...")

    @staticmethod
    def discard(path: Path) -> None:
        """Delete an index's files: the SQLite file, its journal and the saved postings."""
        for name in (path.name, f"{path.name}-wal", f"{path.name}-shm",
                     path.with_suffix(".postings.npz").name):
            (path.parent / name).unlink(missing_ok=True)

    def count(self) -> int:
        """Number of chunks indexed."""
        return self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def known(self, chunk_ids: list[str]) -> set[str]:
        """Those of `chunk_ids` already indexed."""
        found: set[str] = set()
        for start in range(0, len(chunk_ids), 900):  # SQLite caps bound parameters
            part = chunk_ids[start : start + 900]
            marks = ",".join("?" * len(part))
            sql = f"SELECT id FROM chunks WHERE id IN ({marks})"
            found.update(r[0] for r in self._db.execute(sql, part))
        return found

    def all_ids(self) -> set[str]:
        """Every indexed chunk id."""
        return {r[0] for r in self._db.execute("SELECT id FROM chunks")}

    def add(self, records: list[ChunkRecord]) -> None:
        """Tokenize and index chunks (ids already present are replaced)."""
        if not records:
            return
        with self._lock:
            tokens = [Counter(tokenize(r.text)) for r in records]
            ids = self._term_ids({t for c in tokens for t in c})
            rows = [
                (r.chunk_id, r.source_id, r.title, r.url, r.date, r.ingested_at,
                 np.array([ids[t] for t in counts], dtype=np.int32).tobytes(),
                 np.array(list(counts.values()), dtype=np.uint16).tobytes())
                for r, counts in zip(records, tokens)
            ]  # fmt: skip
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO chunks (id, source_id, title, url, date, ingested_at,"
                    " terms, tfs) VALUES (?,?,?,?,?,?,?,?)",
                    rows,
                )
                self._bump()

    def _bump(self) -> None:
        # Every change gets a new generation, so that each process (and the postings file)
        # can tell that its in-memory index is out of date, and a time, so that callers can
        # tell whether a result is older than the collection (removals leave no ingested_at).
        self._db.execute(
            "INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) DO UPDATE"
            " SET value = CAST(value AS INTEGER) + 1"
        )
        now = datetime.now(UTC).isoformat()
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('changed_at', ?)", (now,))

    def generation(self) -> int:
        """Counter of changes to the index."""
        return int(self.get_meta("generation") or 0)

    def _term_ids(self, terms: set[str]) -> dict[str, int]:
        with self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO terms (term) VALUES (?)", [(t,) for t in terms]
            )
        return self._lookup(list(terms))

    def _lookup(self, terms: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for start in range(0, len(terms), 900):
            part = terms[start : start + 900]
            sql = f"SELECT term, id FROM terms WHERE term IN ({','.join('?' * len(part))})"
            out.update(self._db.execute(sql, part).fetchall())
        return out

    def remove(self, chunk_ids: list[str]) -> None:
        """Drop chunks from the index."""
        if not chunk_ids:
            return
        with self._lock, self._db:
            self._db.executemany("DELETE FROM chunks WHERE id = ?", [(c,) for c in chunk_ids])
            self._bump()

    def source_chunks(self, source_id: str) -> list[str]:
        """Ids of the chunks of one source."""
        sql = "SELECT id FROM chunks WHERE source_id = ?"
        return [r[0] for r in self._db.execute(sql, (source_id,))]

    def last_ingest(self) -> str | None:
        """Time of the newest ingested chunk, ISO 8601."""
        return self._db.execute("SELECT max(ingested_at) FROM chunks").fetchone()[0]

    def changed_at(self) -> str | None:
        """Time of the last change (chunks added or removed), ISO 8601; None if never changed."""
        # Indexes written before this was recorded fall back to their newest chunk's time.
        return self.get_meta("changed_at") or self.last_ingest()

    def get_meta(self, key: str) -> str | None:
        """A value stored beside the index (e.g. the embedder's name)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a value beside the index."""
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _index(self) -> _Postings:
        with self._lock:
            generation = self.generation()
            if self._postings is None or self._postings.generation != generation:
                self._postings = self._load(generation) or self._build(generation)
            return self._postings

    def _load(self, generation: int) -> _Postings | None:
        cache = self.path.with_suffix(".postings.npz")
        if not cache.exists():
            return None
        try:
            with np.load(cache) as saved:
                if int(saved["generation"]) != generation:
                    return None
                return _Postings.from_arrays(dict(saved))
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            # Derived from the SQLite file: building it again loses nothing.
            logger.warning("the BM25 postings file %s is damaged (%s): rebuilding it", cache,
                           exc or type(exc).__name__)
            return None

    def _save(self, postings: _Postings) -> None:
        cache = self.path.with_suffix(".postings.npz")
        partial = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        try:
            arrays: dict[str, Any] = postings.to_arrays()  # savez's stubs type **kwds as its flags
            np.savez(partial, **arrays)
            os.replace(partial, cache)  # readers never see a half-written file
        except OSError as exc:
            logger.warning("could not save the BM25 index to %s: %s", cache, exc)

    def _build(self, generation: int) -> _Postings:
        rows = self._db.execute("SELECT id, terms, tfs FROM chunks ORDER BY row").fetchall()
        # One join and one frombuffer instead of one per chunk: 100,000 chunks load in ~1 s.
        terms = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.int32)
        tfs = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.uint16)
        per_chunk = np.fromiter((len(r[1]) // 4 for r in rows), dtype=np.int64, count=len(rows))
        vocabulary = self._db.execute("SELECT coalesce(max(id), 0) FROM terms").fetchone()[0]
        logger.debug("building BM25 index over %d chunks", len(rows))
        postings = _Postings.build([r[0] for r in rows], terms, tfs, per_chunk, vocabulary)
        postings.generation = generation
        self._save(postings)
        return postings

    def warm(self) -> None:
        """Build the in-memory index now rather than on the first search."""
        self._index()

    def query_terms(self, query: str) -> Counter[int]:
        """The query's known term ids with their counts."""
        counts = Counter(tokenize(query))
        ids = self._lookup(list(counts))
        return Counter({ids[t]: c for t, c in counts.items() if t in ids})

    def scores(self, query: str) -> Bm25Scores:
        """BM25 scores of every indexed chunk for a query."""
        index = self._index()
        return Bm25Scores(index, index.scores(self.query_terms(query)))

    def top(self, query: str, k: int) -> list[tuple[str, float]]:
        """The k best chunks by BM25 with their scores (only chunks that match a term)."""
        return self.scores(query).top(k)


class Bm25Scores:
    """One query's scores over one snapshot of the index."""

    def __init__(self, postings: _Postings, scores: np.ndarray) -> None:
        self._postings, self.array = postings, scores

    def top(self, k: int) -> list[tuple[str, float]]:
        """The k highest positive scores, best first, as (chunk id, score)."""
        scores, ids = self.array, self._postings.chunk_ids
        if k <= 0 or len(scores) == 0:
            return []
        k = min(k, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(ids[i], float(scores[i])) for i in best if scores[i] > 0]

    def of(self, chunk_id: str) -> float:
        """Score of one chunk (0 when it is not indexed)."""
        position = self._postings.position.get(chunk_id)
        return 0.0 if position is None else float(self.array[position])
