"""The claim memory: every checked claim with its verdict, found again when it comes back in
the same or other words ("checked 3 times since 12 May; last verdict CONTRADICTED").

Rows live in a table of the history's SQLite file (vectors as float32 blobs, the source store's
embedder); their vectors are also held in one numpy matrix searched by brute force. A claim
costs 1.5 kB of RAM (384 float32): 100k claims, a busy desk's year, take 150 MB, and recalling
an article's 10 claims over them takes tens of milliseconds besides embedding them
(bench/memory.py). Far beyond that an approximate index (a Chroma collection) would be next.
Rows added by another process are picked up at the next call.

Two wordings are the same claim when their cosine reaches MEMORY_SIMILARITY and their details
agree: the same figures ("five killed" and "200 killed" are close for MiniLM but not the same
claim), the same dates, no name swapped for another ("in Syria" / "in Iraq") and the same
polarity (negated or not). Swapped roles ("the U.S. strike killed Russians" / "the Russian
strike killed Americans") and antonyms still pass: see bench/memory.py for what it gets wrong.
Each row joins the group of the closest earlier claim it matches when its details agree with
every wording of that group, so that all wordings of one claim share a group id (`groups()`,
for summaries' most-repeated claims) and a group never chains two different claims.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import numpy as np

from factcheck.errors import StoreError
from factcheck.history import History, history_path, open_history
from factcheck.history_schema import damaged_database, is_damage
from factcheck.models import ClaimCheck, PriorCheck, Provenance, Report, as_utc
from factcheck.numbers import APPROX_TOLERANCE, Quantity, quantities
from factcheck.retrieval.embedder import Embedder
from factcheck.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_SIMILARITY: float = Settings.model_fields["memory_similarity"].default
_SCHEMA = """
CREATE TABLE IF NOT EXISTS memory (
    row INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL,
    check_id TEXT NOT NULL,
    claim_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL,
    checked_at TEXT NOT NULL,
    made_by TEXT NOT NULL,
    embedder TEXT NOT NULL,
    text TEXT NOT NULL,
    label TEXT NOT NULL,
    confidence REAL NOT NULL,
    claim_check TEXT NOT NULL,
    vector BLOB NOT NULL,
    UNIQUE (check_id, claim_id)
);
CREATE INDEX IF NOT EXISTS memory_by_group ON memory (group_id, checked_at);
"""
_NEGATION = re.compile(r"\b(not|no|never|none|nor|neither|without|\w+n't|den(y|ies|ied))\b",
                       re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_NAME = re.compile(r"\b(?:[A-Z]\.){2,}|\b[A-Z][\w’']*")
_NOT_NAMES = {"the", "a", "an", "in", "of", "on", "it", "they", "he", "she", "we", "this"}
# The usual other names of the countries of the news, so that "the U.S. strike" and "the
# American strike" are one claim. Keys are _name_key()s.
_ALIASES = {"ameri": "us", "usa": "us", "unite": "us", "briti": "uk", "brita": "uk",
            "kreml": "russi"}
_CANDIDATES = 20  # closest rows whose details are compared before giving up on a claim
_BACKFILL_BATCH = 256  # stored checks read and embedded at a time when filling the memory


def open_memory(settings: Settings, embedder: Embedder) -> ClaimMemory:
    """The claim memory of these settings, in the history database file, holding every check
    stored there (an upgraded desk keeps its past: see ClaimMemory.backfill)."""
    memory = ClaimMemory(history_path(settings), embedder, settings.memory_similarity)
    history = open_history(settings)
    try:
        memory.backfill(history)
    finally:
        history.close()
    return memory


def made_by(provenance: Provenance) -> str:
    """'engine:model', then each prompt's version: what must match for a result to be reused."""
    # An edited prompt can judge differently, so its results are not the old prompt's.
    prompts = " ".join(f"{name}={print_}" for name, print_ in sorted(provenance.prompts.items()))
    return f"{provenance.engine}:{provenance.model}" + (f" {prompts}" if prompts else "")


def details_agree(first: str, second: str) -> bool:
    """True when two wordings share their figures, dates, names and polarity (negated or not)."""
    if bool(_NEGATION.search(first)) != bool(_NEGATION.search(second)):
        return False
    a, b = _details(first), _details(second)
    return (_covered(a.quantities, b.quantities) and _covered(b.quantities, a.quantities)
            and a.other_numbers == b.other_numbers and not _names_swapped(a.names, b.names))


@dataclass(frozen=True)
class _Details:
    quantities: tuple[Quantity, ...]
    other_numbers: frozenset[str]  # digits that are not quantities: years, days of a date
    names: frozenset[str]


@lru_cache(maxsize=4096)
def _details(text: str) -> _Details:
    found = tuple(quantities(text))
    other = frozenset(
        m.group() for m in _DIGITS.finditer(text)
        if not any(q.start <= m.start() < q.end for q in found)
    )
    words = _NAME.findall(text)[1:]  # the first word is capitalised anyway
    names = frozenset(_ALIASES.get(key, key) for key in (_name_key(w) for w in words) if key)
    return _Details(found, other, names)


def _covered(these: tuple[Quantity, ...], those: tuple[Quantity, ...]) -> bool:
    return all(any(_same_value(x, y) for y in those) for x in these)


def _same_value(x: Quantity, y: Quantity) -> bool:
    # "as many as 200" and "200" are the same figure; "about 100" allows 80..120.
    if x.approximate or y.approximate:
        return abs(x.value - y.value) <= APPROX_TOLERANCE * max(abs(x.value), abs(y.value))
    return x.value == y.value


def _name_key(word: str) -> str:
    word = word.replace(".", "").lower().removesuffix("’s").removesuffix("'s")
    return "" if word in _NOT_NAMES else word[:5]  # "Russia", "Russian", "Russians" -> "russi"


def _names_swapped(first: frozenset[str], second: frozenset[str]) -> bool:
    # A name added on one side is detail ("Zakharova said ..."); a name on each side that the
    # other lacks is a swap: "the strike in Syria" / "the strike in Iraq".
    return any(not _any_like(n, second) for n in first) and any(
        not _any_like(n, first) for n in second)


def _any_like(name: str, names: frozenset[str]) -> bool:
    # Prefixes ("Feb" / "February") and one-letter spelling variants ("Zour" / "Zor") match.
    return any(
        name.startswith(other) or other.startswith(name) or _one_edit(name, other)
        for other in names
    )


def _one_edit(a: str, b: str) -> bool:
    if min(len(a), len(b)) < 3 or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


class ClaimMemory:
    """Checked claims with their verdicts, searchable by meaning, per chat and desk-wide."""

    def __init__(self, path: Path, embedder: Embedder,
                 similarity: float = DEFAULT_SIMILARITY) -> None:
        self.path = Path(path)
        self.embedder = embedder
        self.similarity = similarity
        self._lock = threading.Lock()
        self._rows = np.zeros(0, dtype=np.int64)  # memory row id of each matrix row
        self._vectors = np.zeros((0, 0), dtype=np.float32)  # grown by doubling
        self._size = 0
        self._last_row = 0
        self._recent: dict[str, np.ndarray] = {}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot open the claim memory in {self.path}: {exc}. "
                             "Check HISTORY_DB and its folder.") from exc
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            self._refresh(db)

    @property
    def size(self) -> int:
        """Number of claims held in memory (of this embedder). Not __len__: an empty memory is
        still a memory, and `if memory:` must not read it as None."""
        return self._size

    def remember(self, check_id: str, report: Report, chat_id: int) -> None:
        """Keep every claim of a stored check, each in the group of the claim it repeats."""
        if report.claims:
            self._remember([(check_id, report, chat_id)],
                           self._embed([c.claim.text for c in report.claims]))
            logger.info("remembered %d claims of check %s", len(report.claims), check_id)

    def backfill(self, history: History, batch: int = _BACKFILL_BATCH) -> int:
        """Remember the stored checks the memory lacks (made before it existed), oldest first,
        their distinct claims embedded in batches; returns how many checks were added."""
        with self._connect() as db:
            known = {row[0] for row in db.execute("SELECT DISTINCT check_id FROM memory")}
        missing = [i for i in history.check_ids() if i not in known]
        for start in range(0, len(missing), batch):
            stored = [s for i in missing[start : start + batch] if (s := history.get_check(i))]
            texts = [c.claim.text for s in stored for c in s.report.claims]
            unique = list(dict.fromkeys(texts))  # a forwarded rumour repeats word for word
            found = dict(zip(unique, np.asarray(self.embedder.embed(unique), np.float32))
                         ) if unique else {}
            vectors = np.stack([found[t] for t in texts]) if texts else None
            self._remember([(s.id, s.report, s.chat_id) for s in stored], vectors)
        if missing:
            logger.info("claim memory: added %d checks stored before it existed", len(missing))
        return len(missing)

    def recall(self, claims: list[str], chat_id: int | None) -> list[PriorCheck | None]:
        """For each claim, the memory of its earlier checks, or None when it is new.

        The search is desk-wide; `chat_id` (None: no chat) only counts the asking chat's checks.
        """
        if not claims:
            return []
        vectors = self._embed(claims)
        with self._lock, self._connect() as db:
            self._refresh(db)
            cosines = self._cosines(vectors)  # one matrix product for all the claims
            return [self._prior(db, cosines[:, i], text, chat_id)
                    for i, text in enumerate(claims)]

    def earlier(self, prior: PriorCheck) -> tuple[ClaimCheck, str] | None:
        """The stored ClaimCheck a PriorCheck names, and what made it (`made_by`)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT claim_check, made_by FROM memory WHERE check_id = ? AND claim_id = ?",
                (prior.check_id, prior.claim_id),
            ).fetchone()
        return (ClaimCheck.model_validate_json(row[0]), row[1]) if row else None

    def groups(self, check_ids: list[str]) -> dict[tuple[str, int], str]:
        """(check id, claim id) -> id of its claim's group, shared by every wording of it."""
        found: dict[tuple[str, int], str] = {}
        with self._connect() as db:
            for start in range(0, len(check_ids), 900):  # SQLite caps bound parameters
                part = check_ids[start : start + 900]
                sql = ("SELECT check_id, claim_id, group_id FROM memory "
                       f"WHERE check_id IN ({','.join('?' * len(part))})")
                found.update({(c, n): str(g) for c, n, g in db.execute(sql, part)})
        return found

    # --- internals ------------------------------------------------------------------------------

    def _remember(self, checks: list[tuple[str, Report, int]], vectors: np.ndarray | None) -> None:
        """Insert the claims of (check id, report, chat id)s, `vectors` one per claim in order."""
        rows = iter([] if vectors is None else vectors)
        with self._lock:
            # _insert loads the transaction's own rows; a rollback must unload them, or their
            # row ids, reused by SQLite, would be skipped later.
            loaded = self._size, self._last_row
            try:
                with self._connect() as db:
                    for check_id, report, chat_id in checks:
                        maker = made_by(report.provenance)
                        for check in report.claims:
                            self._insert(db, check_id, report, chat_id, maker, check, next(rows))
                    self._refresh(db)
            except BaseException:
                self._size, self._last_row = loaded
                raise

    def _insert(self, db: sqlite3.Connection, check_id: str, report: Report, chat_id: int,
                maker: str, check: ClaimCheck, vector: np.ndarray) -> None:
        self._refresh(db)  # a repeat inside the same batch joins its first wording
        match = self._best(db, self._cosines(vector[None])[:, 0], check.claim.text)
        group = _group_of(db, match[0]) if match else None
        if group is not None and not _fits(db, group, check.claim.text):
            group = None  # "in Syria" joined "the strike"; "in Iraq" must not join them both
        kept = check.model_copy(update={"prior": None}).model_dump_json()
        cursor = db.execute(
            "INSERT OR IGNORE INTO memory VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?,?)",
            (group or 0, check_id, check.claim.id, chat_id, report.created_at.isoformat(),
             maker, self.embedder.name, check.claim.text, check.verdict.label.value,
             check.verdict.confidence, kept, vector.astype(np.float32).tobytes()),
        )
        if cursor.rowcount and group is None:  # a new meaning: its row names it
            db.execute("UPDATE memory SET group_id = row WHERE row = ?", (cursor.lastrowid,))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A connection per call: nothing to close at shutdown, and safe from any thread. The
        # inner `db` commits (or rolls back on an error), then closing() closes it.
        try:
            with closing(sqlite3.connect(self.path, timeout=30)) as db, db:
                yield db
        except sqlite3.Error as exc:
            if is_damage(exc):
                raise damaged_database(self.path, exc) from exc
            raise StoreError(f"the claim memory in {self.path} failed: {exc}. Check HISTORY_DB, "
                             "its folder and the free disk space.") from exc

    def _embed(self, texts: list[str]) -> np.ndarray:
        # remember() follows recall() of the same claims: their vectors are kept for it.
        known = {t: v for t in set(texts) if (v := self._recent.get(t)) is not None}
        missing = sorted(set(texts) - known.keys())
        if missing:
            known.update(zip(missing, np.asarray(self.embedder.embed(missing), np.float32)))
            if len(self._recent) > 1024:
                self._recent = {}
            self._recent.update((t, known[t]) for t in missing)
        return np.stack([known[t] for t in texts])

    def _refresh(self, db: sqlite3.Connection) -> None:
        """Load rows added since the last look, by this process or another one."""
        rows = db.execute(
            "SELECT row, vector FROM memory WHERE row > ? AND embedder = ? ORDER BY row",
            (self._last_row, self.embedder.name),
        ).fetchall()
        if not rows:
            return
        vectors = np.stack([np.frombuffer(blob, dtype=np.float32) for _, blob in rows])
        self._grow(self._size + len(rows), vectors.shape[1])
        end = self._size + len(rows)
        self._vectors[self._size : end] = vectors
        self._rows[self._size : end] = [row for row, _ in rows]
        self._size, self._last_row = end, rows[-1][0]

    def _grow(self, needed: int, dims: int) -> None:
        if needed <= len(self._rows):
            return
        capacity = max(needed, 2 * len(self._rows), 1024)
        vectors = np.zeros((capacity, dims), dtype=np.float32)
        if self._size:
            vectors[: self._size] = self._vectors[: self._size]
        rows = np.zeros(capacity, dtype=np.int64)
        rows[: self._size] = self._rows[: self._size]
        self._vectors, self._rows = vectors, rows

    def _cosines(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of every remembered claim (rows) with every given vector (columns)."""
        if self._size == 0:
            return np.zeros((0, len(vectors)), dtype=np.float32)
        return self._vectors[: self._size] @ vectors.T

    def _best(self, db: sqlite3.Connection, cosines: np.ndarray, text: str
              ) -> tuple[int, float] | None:
        """(memory row, cosine) of the closest earlier claim with the same details, or None."""
        close = np.flatnonzero(cosines >= self.similarity)
        for i in close[np.argsort(-cosines[close])][:_CANDIDATES]:
            row = int(self._rows[i])
            earlier = db.execute("SELECT text FROM memory WHERE row = ?", (row,)).fetchone()[0]
            if details_agree(text, earlier):
                return row, float(cosines[i])
        return None

    def _prior(self, db: sqlite3.Connection, cosines: np.ndarray, text: str,
               chat_id: int | None) -> PriorCheck | None:
        """The earlier checks of this claim: every row close to it whose details agree."""
        # Rows are matched one by one, not through their group: a group may chain wordings
        # (A~B, A~D but not B~D), and B's verdict must not be handed to D.
        close = [int(r) for r in self._rows[np.flatnonzero(cosines >= self.similarity)]]
        rows = []
        for start in range(0, len(close), 900):  # SQLite caps bound parameters
            part = close[start : start + 900]
            rows += db.execute(
                "SELECT check_id, claim_id, text, label, confidence, checked_at, chat_id, row, "
                "json_extract(claim_check, '$.verdict.lean') "
                f"FROM memory WHERE row IN ({','.join('?' * len(part))})", part).fetchall()
        same = sorted((r for r in rows if details_agree(text, r[2])),
                      key=lambda r: (r[5], r[7]), reverse=True)
        if not same:
            return None
        check_id, claim_id, said, label, confidence, checked_at, _, _, lean = same[0]
        return PriorCheck(
            check_id=check_id, claim_id=claim_id, text=said, label=label, confidence=confidence,
            lean=bool(lean),
            checked_at=as_utc(checked_at), first_checked_at=as_utc(min(r[5] for r in same)),
            times=len(same), times_in_chat=sum(r[6] == chat_id for r in same),
            here_check_id=next((r[0] for r in same if r[6] == chat_id), None),
        )


def _fits(db: sqlite3.Connection, group: int, text: str) -> bool:
    """Whether a wording agrees in details with every wording of a group."""
    said = db.execute("SELECT DISTINCT text FROM memory WHERE group_id = ?", (group,))
    return all(details_agree(text, earlier) for (earlier,) in said)


def _group_of(db: sqlite3.Connection, row: int) -> int:
    return db.execute("SELECT group_id FROM memory WHERE row = ?", (row,)).fetchone()[0]


def still_current(checked_at: datetime, changed_at: datetime | None) -> bool:
    """True when a result of `checked_at` is newer than the collection's last change."""
    return changed_at is None or as_utc(checked_at) > changed_at
