"""The LLM engine: claims, stance and summary ledes from an OpenAI-compatible chat model.

Its modules (factcheck.llm and what it asks through) load langchain and openai, so they are
imported when the engine is first used, never by the offline engine.
"""

from __future__ import annotations

from collections.abc import Sequence

from factcheck import cost
from factcheck.claims import Extracted
from factcheck.cost import Counts
from factcheck.models import Article, Claim, Evidence, LLMUsage, Passage
from factcheck.settings import Settings


class LlmEngine:
    """Each step one question to LLM_MODEL (factcheck.llm); its claims go through the offline
    rules and its sides are held against the offline judge (factcheck.crosscheck)."""

    name = "llm"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # The model waits on the network, so claims go concurrently under a limit.
        self.concurrency = max(1, settings.llm_concurrency)

    @property
    def model(self) -> str:
        """LLM_MODEL."""
        return self.settings.llm_model

    @property
    def prompts(self) -> dict[str, str]:
        """The claims and stance prompts' versions and hashes."""
        from factcheck.llm import prompt_fingerprints

        return prompt_fingerprints(self.settings)

    def extract_claims(self, article: Article) -> Extracted:
        """The LLM's claims, through the offline rules; it is asked for at most MAX_CLAIMS and
        chooses them itself, so it reports none left out."""
        from factcheck.llm import extract_claims_llm

        return Extracted(extract_claims_llm(article, self.settings))

    def score_checkworthiness(self, sentences: Sequence[str]) -> list[float]:
        """Each sentence's best claim's check-worthiness from the claims prompt, else 0."""
        from factcheck.llm import checkworthiness_llm

        return checkworthiness_llm(list(sentences), self.settings)

    def judge(self, claim: Claim, passages: list[Passage]) -> list[Evidence]:
        """The LLM's judgements, each side it took held against the offline judge's reading of
        the sentence it quotes."""
        from factcheck.crosscheck import review

        return review(claim, self.stance(claim, passages))

    def stance(self, claim: Claim, passages: list[Passage]) -> list[Evidence]:
        """The LLM's judgements of all the passages, from one call."""
        from factcheck.llm import judge_llm

        return judge_llm(claim, passages, self.settings)

    def write_lede(self, facts: str) -> str | None:
        """Two or three sentences of prose over the facts (the caller checks its numbers)."""
        from factcheck.llm import write_summary_lede

        return write_summary_lede(facts, self.settings)

    def usage(self, counts: Counts) -> LLMUsage | None:
        """The calls and tokens with their estimated cost."""
        return cost.priced(self.settings, *counts)

    def warm_up(self) -> None:
        """Import the LLM client stack and load the offline judge its sides are held against."""
        import factcheck.llm  # noqa: F401  (langchain and openai: about a second)
        from factcheck.offline_stance import load_models

        load_models()
