"""The check engines behind one interface, and the one place that picks one.

An engine reads an article's claims, judges a claim over passages, says what made its results
(model, prompt versions) and prices its calls. The pipeline, the evaluations, the run records
and the summaries ask `engine_for(settings)` for one and never test which it is.

A new engine (another stance model, say) is a module of this package with a class that has
Engine's members, one row in ENGINES, and its name in settings.EngineName, so that the settings
refuse an unknown one at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from factcheck.claims import Extracted
from factcheck.cost import Counts
from factcheck.engines.llm import LlmEngine
from factcheck.engines.offline import OfflineEngine
from factcheck.models import Article, Claim, Evidence, LLMUsage, Passage, Provenance
from factcheck.settings import EngineName, Settings


class Engine(Protocol):
    """What a check engine does, whatever reads the text."""

    name: str  # ENGINE's value, and what reports and run records call the engine
    concurrency: int  # claims (or evaluation examples) it judges at the same time

    @property
    def model(self) -> str:
        """The model that makes the results (a result of another model is not this one's)."""

    @property
    def prompts(self) -> dict[str, str]:
        """Prompt name -> 'version:sha256 prefix' of the prompt files it asks with (if any)."""

    def extract_claims(self, article: Article) -> Extracted:
        """The article's checkable claims, at most MAX_CLAIMS, in article order."""

    def score_checkworthiness(self, sentences: Sequence[str]) -> list[float]:
        """Each sentence's check-worthiness as the engine's own claim choice scores it, without
        the offline rules (what `eval checkworthiness` measures)."""

    def judge(self, claim: Claim, passages: list[Passage]) -> list[Evidence]:
        """One judgement per passage, in order, as a check reports it."""

    def stance(self, claim: Claim, passages: list[Passage]) -> list[Evidence]:
        """One judgement per passage by the stance model alone, before any check a report's
        judgement goes through (what `eval stance` measures)."""

    def write_lede(self, facts: str) -> str | None:
        """A summary's prose lede over its facts, or None from an engine that writes none."""

    def usage(self, counts: Counts) -> LLMUsage | None:
        """Counted calls and tokens priced for its model; None from an engine that calls none."""

    def warm_up(self) -> None:
        """Load its models and modules now (seconds), so that a server's first check is as fast
        as the next."""


# Engine name (the resolved ENGINE setting) -> the engine's class.
ENGINES: dict[EngineName, Callable[[Settings], Engine]] = {
    "offline": OfflineEngine,
    "llm": LlmEngine,
}


def engine_for(settings: Settings) -> Engine:
    """The engine the settings ask for (ENGINE; 'auto': the LLM when one is configured)."""
    return ENGINES[settings.resolved_engine()](settings)


def provenance_of(engine: Engine, embedder: str) -> Provenance:
    """What a report says made it: the engine, its model and prompts, and the embedder."""
    return Provenance(engine=engine.name, model=engine.model, embedder=embedder,
                      prompts=engine.prompts)
