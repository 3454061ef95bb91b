"""The history of checks, per-chat settings and readers' feedback (SQLite by default).

Front ends talk to the `History` protocol only, so that a server database can replace
`SQLiteHistory` without touching them. Every check keeps its whole Report (JSON) plus one
row per claim (verdict, evidence ids) that digests and data-set exports can query directly.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from factcheck.errors import StoreError
from factcheck.history_schema import article_hash, connect, damaged_database, is_damage
from factcheck.models import Evidence, Label, Report, as_utc
from factcheck.settings import Settings

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class StoredCheck:
    """One stored check: where it was asked and the Report it produced."""

    id: str
    created_at: str
    chat_id: int
    chat_type: str
    user_id: int | None
    message_id: int | None
    report: Report


@dataclass(frozen=True)
class Feedback:
    """A reader's judgement of one claim's verdict: right or wrong, and which label is right."""

    check_id: str
    claim_id: int
    user_id: int
    correct: bool | None = None
    right_label: Label | None = None
    created_at: str = ""


@dataclass(frozen=True)
class PendingUpdate:
    """A Telegram update received and not yet fully handled (the bot's journal)."""

    update_id: int
    received_at: str
    payload: str  # the update's Bot API JSON
    replays: int = 0  # how often a start ran it again after the bot died handling it
    status_message_id: int | None = None  # the bot's status message of its check, once sent


class History(Protocol):
    """What the front ends need from a history store."""

    def add_check(
        self, report: Report, chat_id: int, chat_type: str, user_id: int | None = None,
        message_id: int | None = None, created_at: datetime | None = None,
    ) -> str: ...

    def get_check(self, check_id: str) -> StoredCheck | None: ...

    def find_article(self, chat_id: int, text: str) -> StoredCheck | None: ...

    def check_ids(self) -> list[str]: ...

    def checks(
        self, chat_id: int | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[StoredCheck]: ...

    def add_feedback(self, feedback: Feedback) -> None: ...

    def feedback(self, check_id: str | None = None) -> list[Feedback]: ...

    def get_chat_setting(self, chat_id: int, key: str, default: Any = None) -> Any: ...

    def set_chat_setting(self, chat_id: int, key: str, value: Any) -> None: ...

    def chats_with_setting(self, key: str) -> dict[int, Any]: ...

    def add_pending_update(self, update_id: int, payload: str) -> None: ...

    def set_pending_status(self, update_id: int, message_id: int) -> None: ...

    def pending_update(self, update_id: int) -> PendingUpdate | None: ...

    def pending_updates(self) -> list[PendingUpdate]: ...

    def mark_replayed(self, update_id: int) -> None: ...

    def finish_pending_update(self, update_id: int) -> None: ...

    def close(self) -> None: ...


def history_path(settings: Settings) -> Path:
    """The SQLite file the settings point at: HISTORY_DB, else DATA_DIR/history.sqlite."""
    return settings.history_db or Path(settings.data_dir) / "history.sqlite"


def open_history(settings: Settings) -> SQLiteHistory:
    """The history store of these settings, created if missing."""
    return SQLiteHistory(history_path(settings))


class SQLiteHistory:
    """History in one SQLite file (WAL), safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = connect(self.path)  # autocommit: transactions are _transaction()'s
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._damage_named():
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock, self._damage_named():
            cursor = self._db.execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()

    @contextmanager
    def _damage_named(self) -> Iterator[None]:
        # Damage found after opening (a page past a truncation) is reported like damage found
        # on opening, not as a bare sqlite3 error.
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise damaged_database(self.path, exc) from exc
            raise

    # --- checks ------------------------------------------------------------------------------

    def add_check(
        self, report: Report, chat_id: int, chat_type: str, user_id: int | None = None,
        message_id: int | None = None, created_at: datetime | None = None,
    ) -> str:
        """Store a check with its claims; returns its id (short, unguessable, URL-safe).

        `created_at` (default: the report's) is when the chat asked: a repeat answered from an
        earlier report is stored at its own time, for summaries.
        """
        check_id = secrets.token_urlsafe(8)
        p = report.provenance
        asked = as_utc(created_at or report.created_at)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO checks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (check_id, asked.isoformat(), chat_id, chat_type, user_id, message_id,
                 article_hash(report.article.text), report.article.text, report.article.source,
                 p.engine, p.model, json.dumps(p.prompts), json.dumps(report.timings),
                 report.model_dump_json()),
            )
            db.executemany(
                "INSERT INTO claims VALUES (?,?,?,?,?,?)",
                [(check_id, c.claim.id, c.claim.text, c.verdict.label.value, c.verdict.confidence,
                  json.dumps([_evidence_row(e) for e in c.evidence])) for c in report.claims],
            )
        logger.info("stored check %s of chat %s (%d claims)", check_id, chat_id, len(report.claims))
        return check_id

    def get_check(self, check_id: str) -> StoredCheck | None:
        """The stored check with this id, or None."""
        rows = self._query(f"SELECT {_CHECK_COLUMNS} FROM checks WHERE id = ?", (check_id,))
        return _stored(rows[0]) if rows else None

    def find_article(self, chat_id: int, text: str) -> StoredCheck | None:
        """The newest check of this article text (whitespace aside) in this chat, or None."""
        rows = self._query(
            f"SELECT {_CHECK_COLUMNS} FROM checks WHERE chat_id = ? AND article_sha256 = ? "
            "ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (chat_id, article_hash(text)),
        )
        return _stored(rows[0]) if rows else None

    def check_ids(self) -> list[str]:
        """Ids of every stored check with at least one claim, oldest first."""
        rows = self._query(
            "SELECT id FROM checks WHERE EXISTS "
            "(SELECT 1 FROM claims WHERE claims.check_id = checks.id) ORDER BY created_at, rowid"
        )
        return [r["id"] for r in rows]

    def checks(
        self, chat_id: int | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[StoredCheck]:
        """Stored checks, newest first, of one chat and/or since a moment."""
        where: list[str] = ["1=1"]
        params: list[Any] = []
        if chat_id is not None:
            where.append("chat_id = ?")
            params.append(chat_id)
        if since is not None:
            where.append("created_at >= ?")
            params.append(as_utc(since).isoformat())
        sql = (f"SELECT {_CHECK_COLUMNS} FROM checks WHERE {' AND '.join(where)} "
               "ORDER BY created_at DESC, rowid DESC LIMIT ?")
        return [_stored(row) for row in self._query(sql, (*params, limit))]

    # --- feedback ----------------------------------------------------------------------------

    def add_feedback(self, feedback: Feedback) -> None:
        """Record (or update) one user's judgement of one claim; an unknown check is refused."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        label = feedback.right_label.value if feedback.right_label else None
        correct = None if feedback.correct is None else int(feedback.correct)
        try:
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO feedback VALUES (?,?,?,?,?,?) "
                    "ON CONFLICT (check_id, claim_id, user_id) DO UPDATE SET "
                    "correct = COALESCE(excluded.correct, correct), "
                    "right_label = COALESCE(excluded.right_label, right_label), "
                    "created_at = excluded.created_at",
                    (feedback.check_id, feedback.claim_id, feedback.user_id, correct, label, now),
                )
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"no stored check {feedback.check_id!r} to give feedback on") from exc

    def feedback(self, check_id: str | None = None) -> list[Feedback]:
        """All feedback, or one check's, oldest first."""
        sql = "SELECT * FROM feedback" + (" WHERE check_id = ?" if check_id else "")
        rows = self._query(sql + " ORDER BY created_at", (check_id,) if check_id else ())
        return [
            Feedback(
                check_id=r["check_id"], claim_id=r["claim_id"], user_id=r["user_id"],
                correct=None if r["correct"] is None else bool(r["correct"]),
                right_label=Label(r["right_label"]) if r["right_label"] else None,
                created_at=r["created_at"],
            )
            for r in rows
        ]

    # --- chat settings -----------------------------------------------------------------------

    def get_chat_setting(self, chat_id: int, key: str, default: Any = None) -> Any:
        """A chat's setting (JSON value), or `default` when it was never set."""
        rows = self._query(
            "SELECT value FROM chat_settings WHERE chat_id = ? AND key = ?", (chat_id, key)
        )
        return json.loads(rows[0]["value"]) if rows else default

    def set_chat_setting(self, chat_id: int, key: str, value: Any) -> None:
        """Set a chat's setting to a JSON-serialisable value."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO chat_settings VALUES (?,?,?) "
                "ON CONFLICT (chat_id, key) DO UPDATE SET value = excluded.value",
                (chat_id, key, json.dumps(value)),
            )

    def chats_with_setting(self, key: str) -> dict[int, Any]:
        """Chat id -> value of every chat where this setting is set (and not None)."""
        rows = self._query(
            "SELECT chat_id, value FROM chat_settings WHERE key = ? AND value != 'null' "
            "ORDER BY chat_id", (key,)
        )
        return {r["chat_id"]: json.loads(r["value"]) for r in rows}


    # --- the update journal ------------------------------------------------------------------

    def add_pending_update(self, update_id: int, payload: str) -> None:
        """Journal an update before Telegram is told it arrived; a known one keeps its row."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO pending_updates (update_id, received_at, payload) "
                       "VALUES (?,?,?)", (update_id, now, payload))

    def set_pending_status(self, update_id: int, message_id: int) -> None:
        """Note the status message of a pending update's check (a restart edits it)."""
        with self._transaction() as db:
            db.execute("UPDATE pending_updates SET status_message_id = ? WHERE update_id = ?",
                       (message_id, update_id))

    def pending_update(self, update_id: int) -> PendingUpdate | None:
        """The journal's row of this update, or None when it was handled (or never seen)."""
        rows = self._query("SELECT * FROM pending_updates WHERE update_id = ?", (update_id,))
        return PendingUpdate(**dict(rows[0])) if rows else None

    def pending_updates(self) -> list[PendingUpdate]:
        """Updates received and not handled (the bot died meanwhile), oldest first."""
        rows = self._query("SELECT * FROM pending_updates ORDER BY update_id")
        return [PendingUpdate(**dict(r)) for r in rows]

    def mark_replayed(self, update_id: int) -> None:
        """Count one more run of a pending update after a restart."""
        with self._transaction() as db:
            db.execute("UPDATE pending_updates SET replays = replays + 1 WHERE update_id = ?",
                       (update_id,))

    def finish_pending_update(self, update_id: int) -> None:
        """The update was handled: drop it from the journal."""
        with self._transaction() as db:
            db.execute("DELETE FROM pending_updates WHERE update_id = ?", (update_id,))


_CHECK_COLUMNS = "id, created_at, chat_id, chat_type, user_id, message_id, report"


def _stored(row: sqlite3.Row) -> StoredCheck:
    try:
        report = Report.model_validate_json(row["report"])
    except ValidationError as exc:
        raise StoreError(f"stored check {row['id']} cannot be read: {exc}") from exc
    return StoredCheck(
        id=row["id"], created_at=row["created_at"], chat_id=row["chat_id"],
        chat_type=row["chat_type"], user_id=row["user_id"], message_id=row["message_id"],
        report=report,
    )


def _evidence_row(evidence: Evidence) -> dict[str, Any]:
    return {"passage_id": evidence.passage.id, "source_id": evidence.passage.source_id,
            "stance": evidence.stance.value, "confidence": evidence.confidence}

