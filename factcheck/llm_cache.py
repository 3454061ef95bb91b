"""LLM answers kept on disk by (model, prompt fingerprint, rendered messages).

Re-running an unchanged prompt on unchanged input costs nothing, and LLM_REPLAY_ONLY turns a miss
into an error so that tests and CI never reach a real model. Only answers that validated are put
here (factcheck.llm_ask decides), and the file is capped at LLM_CACHE_MAX_MB: past it the oldest
answers go. One SQLite file (WAL) holds the answers; each call opens its own connection, so
threads and processes can share it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from factcheck.errors import LLMError, StoreError
from factcheck.settings import Settings

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    answer TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT (datetime('now')),
    size INTEGER NOT NULL DEFAULT 0
)
"""
# Bytes a row holds besides its answer and prompt (key, model, date, row overhead), roughly.
_ROW_OVERHEAD = 160
# The newest rows that fit in max_bytes stay; older ones go.
_EVICT = """
DELETE FROM answers WHERE rowid IN (
    SELECT rowid FROM (SELECT rowid, SUM(size) OVER (ORDER BY rowid DESC) AS newer FROM answers)
    WHERE newer > ?
)
"""


class CacheMissError(LLMError):
    """Replay-only mode found no cached answer for a request."""


class LLMCache:
    """Answers by request key in one SQLite file of at most `max_bytes` of answers."""

    def __init__(self, path: Path, max_bytes: int = 200_000_000) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
                _add_size_column(db)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the LLM cache {self.path}: {exc}. Check LLM_CACHE_DB and its folder."
            ) from exc

    def get(self, model: str, prompt: str, messages: Sequence[tuple[str, str]]) -> str | None:
        """The cached answer to this request, or None."""
        with self._connect() as db:
            row = db.execute("SELECT answer FROM answers WHERE key = ?",
                             (request_key(model, prompt, messages),)).fetchone()
        return row[0] if row else None

    def put(self, model: str, prompt: str, messages: Sequence[tuple[str, str]], answer: str) -> None:
        """Keep the answer to this request (a later identical request replaces it), then drop
        the oldest answers past the size cap."""
        size = len(answer.encode("utf-8")) + len(prompt) + _ROW_OVERHEAD
        if size > self.max_bytes:
            logger.info("not caching an LLM answer of %d bytes: over LLM_CACHE_MAX_MB", size)
            return
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO answers (key, model, prompt, answer, size) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (request_key(model, prompt, messages), model, prompt, answer, size))
            evicted = db.execute(_EVICT, (self.max_bytes,)).rowcount
        if evicted:
            logger.info("LLM cache %s: dropped the %d oldest answers (LLM_CACHE_MAX_MB)",
                        self.path, evicted)

    def drop(self, model: str, prompt: str, messages: Sequence[tuple[str, str]]) -> None:
        """Forget the answer to this request (one that no longer validates)."""
        with self._connect() as db:
            db.execute("DELETE FROM answers WHERE key = ?", (request_key(model, prompt, messages),))

    def stored_bytes(self) -> int:
        """The answers' bytes as the size cap counts them."""
        with self._connect() as db:
            return int(db.execute("SELECT COALESCE(SUM(size), 0) FROM answers").fetchone()[0])

    def __len__(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:  # commits, or rolls back on an error
                yield db
        finally:
            db.close()


def _add_size_column(db: sqlite3.Connection) -> None:
    # Files written before the size cap have no size column: add it and fill it in.
    columns = {row[1] for row in db.execute("PRAGMA table_info(answers)")}
    if "size" not in columns:
        db.execute("ALTER TABLE answers ADD COLUMN size INTEGER NOT NULL DEFAULT 0")
        db.execute("UPDATE answers SET size = LENGTH(CAST(answer AS BLOB)) + LENGTH(prompt) + ?",
                   (_ROW_OVERHEAD,))


def request_key(model: str, prompt: str, messages: Sequence[tuple[str, str]]) -> str:
    """sha256 of the model, the prompt fingerprint and every message, role and text."""
    payload = json.dumps([model, prompt, [list(m) for m in messages]], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def cache_path(settings: Settings) -> Path:
    """LLM_CACHE_DB, else DATA_DIR/llm_cache.sqlite."""
    return settings.llm_cache_db or settings.data_dir / "llm_cache.sqlite"


_opening = threading.Lock()


def cache_for(settings: Settings) -> LLMCache | None:
    """The cache these settings use, or None when caching is off (replay-only forces it on)."""
    if not (settings.llm_cache or settings.llm_replay_only):
        return None
    with _opening:  # claims asked at once open it once: two connections switching a new file
        # to WAL at the same moment fail with "database is locked", whatever the busy timeout
        return _open(cache_path(settings).resolve(), int(settings.llm_cache_max_mb * 1_000_000))


@lru_cache(maxsize=8)
def _open(path: Path, max_bytes: int) -> LLMCache:
    # Creating the table once per file per process; get/put open their own connections.
    return LLMCache(path, max_bytes)


def miss(model: str, prompt: str, messages: Sequence[tuple[str, str]]) -> CacheMissError:
    """The error replay-only mode raises, naming the prompt and the start of the input."""
    last = " ".join(messages[-1][1].split())[:80] if messages else ""
    return CacheMissError(
        f"no cached LLM answer for prompt {prompt} with model {model!r} (input {last!r}); "
        "run once without --replay-only (LLM_REPLAY_ONLY) to record it"
    )


def unusable(model: str, prompt: str, problem: str) -> CacheMissError:
    """The error replay-only mode raises when a cached answer does not validate (any more)."""
    return CacheMissError(
        f"the cached LLM answer for prompt {prompt} with model {model!r} is not usable "
        f"({problem}); run once without --replay-only (LLM_REPLAY_ONLY) to record a new one"
    )
