"""The history database's SQLite file: its schema, the migration of older files, and what
counts as a damaged file (never rebuilt: it holds users' data)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from factcheck.errors import StoreError

SCHEMA_VERSION = 2  # 2: article_sha256 of whitespace-normalised text
_SCHEMA = """
CREATE TABLE IF NOT EXISTS checks (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    chat_id INTEGER NOT NULL,
    chat_type TEXT NOT NULL,
    user_id INTEGER,
    message_id INTEGER,
    article_sha256 TEXT NOT NULL,
    article_text TEXT NOT NULL,
    article_source TEXT NOT NULL,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    prompts TEXT NOT NULL,
    timings TEXT NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checks_by_chat ON checks (chat_id, created_at);
CREATE INDEX IF NOT EXISTS checks_by_article ON checks (chat_id, article_sha256);
CREATE TABLE IF NOT EXISTS claims (
    check_id TEXT NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
    claim_id INTEGER NOT NULL,
    text TEXT NOT NULL,
    label TEXT NOT NULL,
    confidence REAL NOT NULL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (check_id, claim_id)
);
CREATE TABLE IF NOT EXISTS feedback (
    check_id TEXT NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
    claim_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    correct INTEGER,
    right_label TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (check_id, claim_id, user_id)
);
CREATE TABLE IF NOT EXISTS pending_updates (
    update_id INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    replays INTEGER NOT NULL DEFAULT 0,
    status_message_id INTEGER
);
CREATE TABLE IF NOT EXISTS chat_settings (
    chat_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (chat_id, key)
);
"""


def connect(path: Path) -> sqlite3.Connection:
    """The history file at `path`, created or brought up to SCHEMA_VERSION: one autocommit
    connection (WAL, foreign keys on) that any thread may use under its owner's lock."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(_SCHEMA)
        _migrate(db)
    except (OSError, sqlite3.Error) as exc:
        if is_damage(exc):
            raise damaged_database(path, exc) from exc
        raise StoreError(
            f"cannot open the history database {path}: {exc}. Check HISTORY_DB and its folder."
        ) from exc
    return db


def _migrate(db: sqlite3.Connection) -> None:
    """Bring an older history file up to SCHEMA_VERSION."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if 0 < version < 2:  # version 1 hashed the raw text; rehash so that old checks are found
        rows = db.execute("SELECT id, article_text FROM checks").fetchall()
        with db:  # one transaction, not one per row
            db.execute("BEGIN")
            db.executemany("UPDATE checks SET article_sha256 = ? WHERE id = ?",
                           [(article_hash(text), check_id) for check_id, text in rows])
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def is_damage(exc: BaseException) -> bool:
    """Whether an SQLite error means a damaged file (truncated, overwritten), not a busy or
    missing one (those are OperationalError)."""
    return type(exc) is sqlite3.DatabaseError


def damaged_database(path: Path, exc: BaseException) -> StoreError:
    """The error for a damaged file of users' data: never rebuilt, so the user is told how."""
    return StoreError(
        f"the history database {path} is damaged ({exc}) and was left as it is: its checks, "
        "feedback and chat settings are users' data, so it is never rebuilt silently. Restore "
        f"it from a backup, or save what can be read with `sqlite3 {path} .recover | sqlite3 "
        "recovered.sqlite` and point HISTORY_DB at that; moving it aside starts an empty history."
    )


def article_hash(text: str) -> str:
    """SHA-256 of an article's text with whitespace normalised, to find repeated articles."""
    # A forwarded post or a copy-paste often differs from the original only in spacing.
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()
