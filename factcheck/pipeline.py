"""The fact-check pipeline: article -> claims -> search -> stance -> verdicts -> Report.

Every front end (CLI, Telegram bot) calls `check()`; it knows nothing of them.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from factcheck import contradictions, cost, verdict
from factcheck.claims import Extracted
from factcheck.engines import Engine, engine_for, provenance_of
from factcheck.errors import CollectionUnavailableError, StoreError
from factcheck.history import History, StoredCheck
from factcheck.intake import read_article
from factcheck.memory import ClaimMemory, made_by, still_current
from factcheck.models import (
    Article,
    Claim,
    ClaimCheck,
    Evidence,
    Passage,
    PriorCheck,
    Provenance,
    Report,
)
from factcheck.settings import Settings, get_settings
from factcheck.textmatch import word_form
from retrieval import Hit, RetrievalError, SourceStore, StoreUnavailableError

logger = logging.getLogger(__name__)
P, R = ParamSpec("P"), TypeVar("R")

# Called as progress(stage, done, total) so that a front end can show where a check is.
Progress = Callable[[str, int, int], None]


def reaching_store(function: Callable[P, R]) -> Callable[P, R]:
    """`function` with the store's errors as ours: a server that is down or went away is a
    CollectionUnavailableError (one line: where, and to start `chroma run`), others StoreError."""

    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except StoreUnavailableError as exc:
            raise CollectionUnavailableError(str(exc)) from exc
        except RetrievalError as exc:
            raise StoreError(str(exc)) from exc

    return call


@reaching_store
def open_store(settings: Settings) -> SourceStore:
    """The trusted-source collection the settings point at (embedded or Chroma server)."""
    return SourceStore.open(
        settings.data_dir,
        settings.collection,
        embedder_for(settings),
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
        sync_interval=settings.sync_interval,
    )


def embedder_for(settings: Settings):
    """The embedder the settings ask for: local MiniLM, or OpenAI's embeddings API."""
    if settings.embeddings == "openai":
        from factcheck.llm import OpenAIEmbedder

        return OpenAIEmbedder(settings)
    from retrieval.embedder import local_embedder

    return local_embedder()


@reaching_store
def check(
    source: str | Article,
    settings: Settings | None = None,
    store: SourceStore | None = None,
    progress: Progress | None = None,
    memory: ClaimMemory | None = None,
    chat_id: int | None = None,
    fresh: bool = False,
) -> Report:
    """Check an article (text, file path, URL, '-' or an Article) and return its Report.

    With a claim memory, claims checked before are marked (`prior`), and those whose earlier
    check is newer than the collection's last change reuse its verdict and evidence, unless
    `fresh` asks for everything to be checked again.
    """
    settings = settings or get_settings()
    engine = engine_for(settings)
    report_progress = progress or (lambda stage, done, total: None)
    # Results stand for the sources as they were when the check began: a source added while
    # it runs must make it stale (memory.still_current), so the report is dated now.
    started = datetime.now(UTC)
    clock = time.perf_counter()
    with cost.tallying() as tally:  # this check's LLM calls, whatever runs beside it
        article, extracted, timings = _read(source, settings, engine, report_progress, clock)
        claims = extracted.claims
        store = store or open_store(settings)
        provenance = provenance_of(engine, store.embedder_name)
        timings["search"] = timings["judging"] = 0.0
        check_claims = functools.partial(_check_claims, store=store, settings=settings,
                                         engine=engine, progress=report_progress,
                                         timings=timings)
        checks = check_claims(claims) if memory is None else _check_remembered(
            claims, check_claims, memory, chat_id, fresh, provenance, store)
    timings["evidence"] = _lap(clock) - timings["intake"] - timings["claims"]
    pairs = contradictions.find(claims, article.text)
    grouped = contradictions.groups(claims, article.text) if pairs else []
    timings["total"] = _lap(clock)
    return Report(article=article, claims=checks, internal_contradictions=pairs,
                  internal_contradiction_groups=grouped, provenance=provenance, created_at=started,
                  timings={k: round(v, 4) for k, v in timings.items()},
                  claims_left_out=extracted.left_out,
                  usage=engine.usage(tally.snapshot()))


def _read(source: str | Article, settings: Settings, engine: Engine, progress: Progress,
          clock: float) -> tuple[Article, Extracted, dict[str, float]]:
    """The article, its claims, and the seconds each took."""
    progress("reading", 0, 1)
    article = source if isinstance(source, Article) else read_article(source, settings)
    timings = {"intake": _lap(clock)}
    progress("claims", 0, 1)
    extracted = engine.extract_claims(article)
    timings["claims"] = _lap(clock) - timings["intake"]
    return article, extracted, timings


def _check_remembered(
    claims: list[Claim], check_claims: Callable[[list[Claim]], list[ClaimCheck]],
    memory: ClaimMemory, chat_id: int | None, fresh: bool, provenance: Provenance,
    store: SourceStore,
) -> list[ClaimCheck]:
    """Check the claims the memory cannot answer; mark every claim it has met before."""
    try:
        priors = memory.recall([c.text for c in claims], chat_id)
    except StoreError as exc:  # the memory is an aid: the check goes on without it
        logger.error("claim memory unavailable, checking without it: %s", exc)
        return check_claims(claims)
    reused = {} if fresh else _reusable(claims, priors, memory, store, provenance)
    checked = iter(check_claims([c for i, c in enumerate(claims) if i not in reused]))
    return [
        _with_prior(reused[i].model_copy(update={"claim": c}) if i in reused else next(checked),
                    priors[i], i in reused)
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
    found = {}
    for i, prior in enumerate(priors):
        if prior is None or not still_current(prior.checked_at, changed_at):
            continue
        earlier = memory.earlier(prior)
        if earlier is not None and earlier[1] == maker:
            found[i] = earlier[0]
    for i in _stated_word_for_word(claims, priors, found, store):
        del found[i]
    if found:
        logger.info("reused %d earlier claim checks (sources unchanged since)", len(found))
    return found


def _stated_word_for_word(
    claims: list[Claim], priors: list[PriorCheck | None], found: dict[int, ClaimCheck],
    store: SourceStore,
) -> list[int]:
    """The reusable claims, worded otherwise than when checked, that a source states word for
    word: the earlier result was judged on the other wording and may be weaker than this one's
    ('leans supported 0.50' where the source's own sentence gives 'supported 0.73')."""
    reworded = [i for i in found if word_form(claims[i].text) != word_form(priors[i].text)]
    if not reworded:
        return []
    hits = store.search_many([claims[i].text for i in reworded], k=3, mode="lexical")
    stated = [i for i, claim_hits in zip(reworded, hits)
              if any(f" {word_form(claims[i].text)} " in f" {word_form(h.text)} " for h in claim_hits)]
    if stated:
        logger.info("checking %d remembered claims again: a source states them word for word",
                    len(stated))
    return stated


def _with_prior(check: ClaimCheck, prior: PriorCheck | None, reused: bool) -> ClaimCheck:
    if prior is None:
        return check
    return check.model_copy(update={"prior": prior.model_copy(update={"reused": reused})})


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


def _check_claims(
    claims: list[Claim], store: SourceStore, settings: Settings, engine: Engine,
    progress: Progress, timings: dict[str, float],
) -> list[ClaimCheck]:
    if not claims:
        return []
    progress("searching", 0, len(claims))
    searching = time.perf_counter()
    hits = store.search_many([c.text for c in claims], k=settings.top_k)
    timings["search"] += _lap(searching)
    passages = [
        [_passage(h) for h in claim_hits if _related(h, settings.min_similarity)]
        for claim_hits in hits
    ]
    judging = time.perf_counter()
    judged = _judge_all(claims, passages, engine, progress)
    timings["judging"] += _lap(judging)
    return [
        ClaimCheck(claim=c, verdict=verdict.decide(ev), evidence=_ordered(ev))
        for c, ev in zip(claims, judged)
    ]


def _judge_all(
    claims: list[Claim], passages: list[list[Passage]], engine: Engine, progress: Progress,
) -> list[list[Evidence]]:
    done = 0

    def judge_one(pair: tuple[Claim, list[Passage]]) -> list[Evidence]:
        nonlocal done
        evidence = engine.judge(pair[0], pair[1]) if pair[1] else []
        done += 1
        progress("checking", done, len(claims))
        return evidence

    with ThreadPoolExecutor(max_workers=engine.concurrency) as pool:
        tasks = [pool.submit(cost.in_this_check(judge_one), pair)
                 for pair in zip(claims, passages)]
        return [task.result() for task in tasks]


def _ordered(evidence: list[Evidence]) -> list[Evidence]:
    # Decisive evidence first, strongest first; unrelated passages last.
    return sorted(evidence, key=lambda e: (e.stance.value == "NOT_ENOUGH_INFO", -e.confidence))


def _related(hit: Hit, min_similarity: float) -> bool:
    # Search always returns its k best, even from a collection that knows nothing of the
    # topic; judging those would cost time and invite false verdicts.
    return hit.similarity is None or hit.similarity >= min_similarity


def _passage(hit: Hit) -> Passage:
    return Passage(
        id=hit.chunk_id, text=hit.text, title=hit.title, url=hit.url, date=hit.date,
        source_id=hit.source_id, score=round(float(hit.score), 4),
        similarity=None if hit.similarity is None else round(float(hit.similarity), 4),
    )


def _lap(start: float) -> float:
    return time.perf_counter() - start
