"""LLM answers kept on disk by (model, prompt fingerprint, rendered messages).

Re-running an unchanged prompt on unchanged input costs nothing, and LLM_REPLAY_ONLY turns a miss
into an error so that tests and CI never reach a real model. One SQLite file (WAL) holds the
answers; each call opens its own connection, so threads and processes can share it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
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
    created TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


class CacheMissError(LLMError):
    """Replay-only mode found no cached answer for a request."""


class LLMCache:
    """Answers by request key in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
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
        """Keep the answer to this request (a later identical request replaces it)."""
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO answers (key, model, prompt, answer) "
                       "VALUES (?, ?, ?, ?)",
                       (request_key(model, prompt, messages), model, prompt, answer))

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


def request_key(model: str, prompt: str, messages: Sequence[tuple[str, str]]) -> str:
    """sha256 of the model, the prompt fingerprint and every message, role and text."""
    payload = json.dumps([model, prompt, [list(m) for m in messages]], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def cache_path(settings: Settings) -> Path:
    """LLM_CACHE_DB, else DATA_DIR/llm_cache.sqlite."""
    return settings.llm_cache_db or settings.data_dir / "llm_cache.sqlite"


def cache_for(settings: Settings) -> LLMCache | None:
    """The cache these settings use, or None when caching is off (replay-only forces it on)."""
    if not (settings.llm_cache or settings.llm_replay_only):
        return None
    return _open(cache_path(settings).resolve())


@lru_cache(maxsize=8)
def _open(path: Path) -> LLMCache:
    # Creating the table once per file per process; get/put open their own connections.
    return LLMCache(path)


def miss(model: str, prompt: str, messages: Sequence[tuple[str, str]]) -> CacheMissError:
    """The error replay-only mode raises, naming the prompt and the start of the input."""
    last = " ".join(messages[-1][1].split())[:80] if messages else ""
    return CacheMissError(
        f"no cached LLM answer for prompt {prompt} with model {model!r} (input {last!r}); "
        "run once without --replay-only (LLM_REPLAY_ONLY) to record it"
    )
