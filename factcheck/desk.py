"""The desk: a newsroom's checks, each one looked up, recalled, checked, stored and remembered.

Every front that keeps a history (the Telegram bot; the CLI with `--history`) calls
`Desk.check`, which runs one check through these steps:

1. repeat lookup: the same article, checked before in the same chat by the same engine, model
   and prompts, with the sources unchanged since, is answered with that earlier report;
2. recall: otherwise `pipeline.check` runs with `MemoryRecall` as its hook, so that claims
   checked before (in any chat, in other words too) are marked, and reuse their earlier
   results while the sources are unchanged;
3. store: the check goes into the history, a repeat too (summaries and counts include it);
4. remember: its claims go into the claim memory, an aid whose failure is logged and loses
   nothing else.

The pipeline knows nothing of the desk: it takes the recall hook and returns a Report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from factcheck import pipeline
from factcheck.display import user_date
from factcheck.engines import engine_for, provenance_of
from factcheck.errors import FactcheckError, StoreError
from factcheck.history import History, StoredCheck, open_history
from factcheck.memory import ClaimMemory, made_by, open_memory, still_current
from factcheck.models import Article, Claim, ClaimCheck, PriorCheck, Provenance, Report
from factcheck.pipeline import CheckClaims, Progress, reaching_store
from factcheck.retrieval import SourceStore
from factcheck.settings import Settings
from factcheck.textmatch import word_form

logger = logging.getLogger(__name__)

# The chat id under which the terminal's checks (`factcheck check --history`) are kept: never
# a Telegram chat's (users' ids are positive, groups' and channels' negative).
TERMINAL_CHAT_ID = 0


@dataclass(frozen=True)
class Asker:
    """Who asked for a check and where: the chat its history and memory are counted under."""

    chat_id: int
    chat_type: str  # "private", "group", "supergroup", "channel" or "terminal"
    user_id: int | None = None
    message_id: int | None = None


TERMINAL = Asker(TERMINAL_CHAT_ID, "terminal")


@dataclass(frozen=True)
class DeskCheck:
    """A desk check's outcome: the report, its stored id, and the earlier check it repeats."""

    report: Report
    check_id: str
    repeat_of: StoredCheck | None = None  # the chat's earlier check of this same article

    @property
    def repeat(self) -> bool:
        """Whether the report is an earlier check's, the sources unchanged since."""
        return self.repeat_of is not None

    def notice(self, timezone: str) -> str | None:
        """What heads a repeat's report for its reader (dates in `timezone`); None for a new
        check."""
        if self.repeat_of is None:
            return None
        when = user_date(self.repeat_of.report.created_at, timezone)
        return f"Already checked here on {when}; sources unchanged since."


@dataclass(frozen=True)
class Desk:
    """The history and claim memory of a desk; without a memory, nothing is recalled.

    Safe to call from worker threads: SQLiteHistory shares one connection under a lock, and
    ClaimMemory opens a connection per call.
    """

    settings: Settings
    history: History
    memory: ClaimMemory | None = None

    def check(self, article: Article, asker: Asker, store: SourceStore, fresh: bool = False,
              progress: Progress | None = None) -> DeskCheck:
        """Check an article for `asker`, store it and remember its claims. `fresh` checks every
        claim again: no repeat, no result reused (remembered claims are still marked)."""
        earlier = None if fresh else already_checked(self.history, asker.chat_id, article,
                                                     self.settings, store)
        if earlier is not None:  # no new check, no LLM call
            # The repeat keeps the report's created_at (its results stand for the sources
            # then); the stored row is dated now, when the chat asked.
            report = earlier.report.model_copy(
                update={"repeat_of": earlier.report.repeat_of or earlier.id})
            asked: datetime | None = datetime.now(UTC)
        else:
            recall = None if self.memory is None else MemoryRecall(self.memory, asker.chat_id,
                                                                   fresh)
            report = pipeline.check(article, self.settings, store=store, progress=progress,
                                    recall=recall)
            asked = None
        check_id = self.history.add_check(report, asker.chat_id, asker.chat_type,
                                          asker.user_id, asker.message_id, asked)
        self._remember(check_id, report, asker.chat_id)
        return DeskCheck(report, check_id, earlier)

    def _remember(self, check_id: str, report: Report, chat_id: int) -> None:
        if self.memory is None:
            return
        try:
            self.memory.remember(check_id, report, chat_id)
        except FactcheckError as exc:  # the report matters more than the memory of it
            logger.error("could not remember check %s: %s", check_id, exc)


def check_in_terminal(article: Article, settings: Settings, store: SourceStore,
                      fresh: bool = False) -> DeskCheck:
    """A terminal's desk check (`factcheck check --history`): the settings' history file and
    claim memory, the check kept under TERMINAL."""
    history = open_history(settings)
    try:
        desk = Desk(settings, history, open_memory(settings, store.embedder))
        return desk.check(article, TERMINAL, store, fresh=fresh)
    finally:
        history.close()


@reaching_store
def already_checked(
    history: History, chat_id: int, article: Article, settings: Settings, store: SourceStore
) -> StoredCheck | None:
    """The chat's earlier check of this same article, if it can stand: same engine, model and
    prompts, and newer than the collection's last change. None means: check it."""
    stored = history.find_article(chat_id, article.text)
    if stored is None:
        return None
    now = provenance_of(engine_for(settings), store.embedder_name)
    if made_by(stored.report.provenance) != made_by(now):
        return None
    return stored if still_current(stored.report.created_at, store.changed_at()) else None


@dataclass(frozen=True)
class MemoryRecall:
    """The pipeline's recall hook (pipeline.Recall) on a claim memory: every claim met before
    is marked (`prior`); those whose earlier check, by the same engine, model and prompts, is
    newer than the sources reuse its verdict and evidence, unless `fresh`."""

    memory: ClaimMemory
    chat_id: int | None  # whose checks count as "here"; None: no chat's
    fresh: bool = False

    def __call__(self, claims: list[Claim], check_claims: CheckClaims, store: SourceStore,
                 provenance: Provenance) -> list[ClaimCheck]:
        try:
            priors = self.memory.recall([c.text for c in claims], self.chat_id)
        except StoreError as exc:  # the memory is an aid: the check goes on without it
            logger.error("claim memory unavailable, checking without it: %s", exc)
            return check_claims(claims)
        reused = {} if self.fresh else _reusable(claims, priors, self.memory, store, provenance)
        checked = iter(check_claims([c for i, c in enumerate(claims) if i not in reused]))
        return [
            _with_prior(reused[i].model_copy(update={"claim": c}) if i in reused
                        else next(checked), priors[i], i in reused)
            for i, c in enumerate(claims)
        ]


def _reusable(
    claims: list[Claim], priors: list[PriorCheck | None], memory: ClaimMemory,
    store: SourceStore, provenance: Provenance,
) -> dict[int, ClaimCheck]:
    """Claims whose earlier check, by the same engine, model and prompts, is newer than the
    sources, unless a source states the claim's new wording word for word."""
    changed_at = store.changed_at()
    maker = made_by(provenance)
    found: dict[int, ClaimCheck] = {}
    said: dict[int, str] = {}  # the wording each found result was judged on
    for i, prior in enumerate(priors):
        if prior is None or not still_current(prior.checked_at, changed_at):
            continue
        earlier = memory.earlier(prior)
        if earlier is not None and earlier[1] == maker:
            found[i], said[i] = earlier[0], prior.text
    for i in _stated_word_for_word(claims, said, store):
        del found[i]
    if found:
        logger.info("reused %d earlier claim checks (sources unchanged since)", len(found))
    return found


def _stated_word_for_word(claims: list[Claim], said: dict[int, str], store: SourceStore
                          ) -> list[int]:
    """The reusable claims, worded otherwise than when checked, that a source states word for
    word: the earlier result was judged on the other wording and may be weaker than this one's
    ('leans supported 0.50' where the source's own sentence gives 'supported 0.73')."""
    reworded = [i for i, text in said.items() if word_form(claims[i].text) != word_form(text)]
    if not reworded:
        return []
    hits = store.search_many([claims[i].text for i in reworded], k=3, mode="lexical")
    stated = [i for i, claim_hits in zip(reworded, hits)
              if any(f" {word_form(claims[i].text)} " in f" {word_form(h.text)} "
                     for h in claim_hits)]
    if stated:
        logger.info("checking %d remembered claims again: a source states them word for word",
                    len(stated))
    return stated


def _with_prior(check: ClaimCheck, prior: PriorCheck | None, reused: bool) -> ClaimCheck:
    if prior is None:
        return check
    return check.model_copy(update={"prior": prior.model_copy(update={"reused": reused})})
