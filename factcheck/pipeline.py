"""The fact-check pipeline: article -> claims -> search -> stance -> verdicts -> Report.

Every front end (CLI, Telegram bot) calls `check()`; it knows nothing of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from factcheck import contradictions, verdict
from factcheck.claims import extract_claims
from factcheck.intake import read_article
from factcheck.models import (
    Article,
    Claim,
    ClaimCheck,
    Evidence,
    Passage,
    Provenance,
    Report,
)
from factcheck.settings import Settings, get_settings
from retrieval import Hit, SourceStore

logger = logging.getLogger(__name__)

# Called as progress(stage, done, total) so that a front end can show where a check is.
Progress = Callable[[str, int, int], None]
OFFLINE_MODEL = "offline-v1 (MiniLM features + rules)"


def open_store(settings: Settings) -> SourceStore:
    """The trusted-source collection the settings point at (embedded or Chroma server)."""
    return SourceStore.open(
        settings.data_dir,
        settings.collection,
        embedder_for(settings),
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
    )


def embedder_for(settings: Settings):
    """The embedder the settings ask for: local MiniLM, or OpenAI's embeddings API."""
    if settings.embeddings == "openai":
        from factcheck.llm import OpenAIEmbedder

        return OpenAIEmbedder(settings)
    from retrieval.embedder import local_embedder

    return local_embedder()


def check(
    source: str | Article,
    settings: Settings | None = None,
    store: SourceStore | None = None,
    progress: Progress | None = None,
) -> Report:
    """Check an article (text, file path, URL, '-' or an Article) and return its Report."""
    settings = settings or get_settings()
    engine = settings.resolved_engine()
    report_progress = progress or (lambda stage, done, total: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    report_progress("reading", 0, 1)
    article = source if isinstance(source, Article) else read_article(source, settings)
    timings["intake"] = _lap(clock)

    report_progress("claims", 0, 1)
    claims = extract_claims(article, settings, engine)
    timings["claims"] = _lap(clock) - timings["intake"]

    store = store or open_store(settings)
    checks = _check_claims(claims, store, settings, engine, report_progress)
    timings["evidence"] = _lap(clock) - timings["intake"] - timings["claims"]

    found = contradictions.find(claims)
    timings["total"] = _lap(clock)
    return Report(
        article=article,
        claims=checks,
        internal_contradictions=found,
        provenance=_provenance(settings, engine, store),
        timings={k: round(v, 4) for k, v in timings.items()},
    )


def _check_claims(
    claims: list[Claim], store: SourceStore, settings: Settings, engine: str, progress: Progress
) -> list[ClaimCheck]:
    if not claims:
        return []
    progress("searching", 0, len(claims))
    hits = store.search_many([c.text for c in claims], k=settings.top_k)
    passages = [
        [_passage(h) for h in claim_hits if _related(h, settings.min_similarity)]
        for claim_hits in hits
    ]
    judged = _judge_all(claims, passages, settings, engine, progress)
    return [
        ClaimCheck(claim=c, verdict=verdict.decide(ev), evidence=_ordered(ev))
        for c, ev in zip(claims, judged)
    ]


def _judge_all(
    claims: list[Claim], passages: list[list[Passage]], settings: Settings, engine: str,
    progress: Progress,
) -> list[list[Evidence]]:
    judge = _judge_function(engine, settings)
    done = 0

    def judge_one(pair: tuple[Claim, list[Passage]]) -> list[Evidence]:
        nonlocal done
        evidence = judge(pair[0], pair[1]) if pair[1] else []
        done += 1
        progress("checking", done, len(claims))
        return evidence

    # The LLM engine waits on the network, so claims go concurrently under a limit;
    # the offline engine is CPU-bound numpy and gains nothing from threads.
    workers = settings.llm_concurrency if engine == "llm" else 1
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(judge_one, zip(claims, passages)))


def _judge_function(engine: str, settings: Settings) -> Callable[[Claim, list[Passage]], list[Evidence]]:
    if engine == "llm":
        from factcheck.llm import judge_llm

        return lambda claim, passages: judge_llm(claim, passages, settings)
    from factcheck.offline_stance import judge_offline

    return lambda claim, passages: judge_offline(claim.text, passages)


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
    )


def _provenance(settings: Settings, engine: str, store: SourceStore) -> Provenance:
    if engine == "llm":
        from factcheck.llm import prompt_fingerprints

        return Provenance(
            engine="llm", model=settings.llm_model, embedder=store.embedder_name,
            prompts=prompt_fingerprints(settings),
        )
    return Provenance(engine="offline", model=OFFLINE_MODEL, embedder=store.embedder_name)


def _lap(start: float) -> float:
    return time.perf_counter() - start
