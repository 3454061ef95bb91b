"""The fact-check pipeline: article -> claims -> search -> stance -> verdicts -> Report.

Every check ends here, from the desk (factcheck.desk) or straight from the CLI; the pipeline
knows nothing of the fronts, the history or the claim memory (the desk hands it a Recall hook).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import ParamSpec, Protocol, TypeAlias, TypeVar

from factcheck import contradictions, cost, verdict
from factcheck.claims import Extracted
from factcheck.engines import Engine, engine_for, provenance_of
from factcheck.errors import CollectionUnavailableError, StoreError
from factcheck.intake import read_article
from factcheck.models import Article, Claim, ClaimCheck, Evidence, Passage, Provenance, Report
from factcheck.retrieval import Hit, RetrievalError, SourceStore, StoreUnavailableError
from factcheck.settings import Settings, get_settings

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
# The source collection, as open_store returns it: the fronts' name for it (bot/ and cli/
# import factcheck, never retrieval).
Store: TypeAlias = SourceStore

# Called as progress(stage, done, total) so that a front end can show where a check is.
Progress = Callable[[str, int, int], None]
# Checks claims against the sources: search, stance, verdict.
CheckClaims = Callable[[list[Claim]], list[ClaimCheck]]


class Recall(Protocol):
    """A check's hook into earlier checks (the desk's claim memory, factcheck.desk): returns a
    ClaimCheck for each claim, in order, calling `check_claims` for those it cannot answer.
    `provenance` is what this check is made by, `store` the sources it searches."""

    def __call__(self, claims: list[Claim], check_claims: CheckClaims, store: SourceStore,
                 provenance: Provenance) -> list[ClaimCheck]: ...


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
def open_store(settings: Settings) -> Store:
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
        from factcheck.llm_openai import OpenAIEmbedder

        return OpenAIEmbedder(settings)
    from factcheck.retrieval.embedder import local_embedder

    return local_embedder()


@reaching_store
def check(
    source: str | Article,
    settings: Settings | None = None,
    store: SourceStore | None = None,
    progress: Progress | None = None,
    recall: Recall | None = None,
) -> Report:
    """Check an article (text, file path, URL, '-' or an Article) and return its Report.

    With a `recall` hook (the desk's claim memory), earlier checks answer what they can: see
    factcheck.desk, which runs a desk's checks through here.
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
        checks = (check_claims(claims) if recall is None
                  else recall(claims, check_claims, store, provenance))
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
        [_passage(h) for h in claim_hits if related(h, settings.min_similarity)]
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


def related(hit: Hit, min_similarity: float) -> bool:
    """Whether a search hit is close enough to be judged (training applies the same test)."""
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
