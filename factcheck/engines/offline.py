"""The offline engine: rules and small trained models on this machine, no network, no cost."""

from __future__ import annotations

from collections.abc import Sequence

from factcheck import checkworthiness, claims, offline_stance
from factcheck.claims import Extracted
from factcheck.cost import Counts
from factcheck.models import Article, Claim, Evidence, LLMUsage, Passage
from factcheck.offline_stance import judge_offline
from factcheck.settings import Settings

OFFLINE_MODEL = "offline-v1 (MiniLM features + rules)"


def offline_model() -> str:
    """The offline models' name with their weights' fingerprint: new weights, new results."""
    from factcheck.weights import fingerprint

    return f"{OFFLINE_MODEL} weights:{fingerprint()}"


class OfflineEngine:
    """Claims by rules and a check-worthiness model; stance by MiniLM features, rules and the
    cross-encoder (factcheck.offline_stance)."""

    name = "offline"
    concurrency = 1  # CPU-bound numpy: threads gain nothing

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def model(self) -> str:
        """The offline models' name and weights' fingerprint."""
        return offline_model()

    @property
    def prompts(self) -> dict[str, str]:
        """None: the offline engine asks no prompt."""
        return {}

    def extract_claims(self, article: Article) -> Extracted:
        """The best-scored statements, up to MAX_CLAIMS, and how many more the cap left out."""
        found = claims.candidates(article.text, article.title)
        kept = claims.best_scored(found, article.text, self.settings.max_claims)
        return Extracted(kept, left_out=len(found) - len(kept))

    def score_checkworthiness(self, sentences: Sequence[str]) -> list[float]:
        """The check-worthiness model's score of each sentence."""
        return checkworthiness.score(list(sentences)).tolist()

    def judge(self, claim: Claim, passages: list[Passage]) -> list[Evidence]:
        """The offline judge's reading of each passage."""
        return judge_offline(claim.text, passages)

    def stance(self, claim: Claim, passages: list[Passage]) -> list[Evidence]:
        """The same as `judge`: nothing checks the offline judge's reading."""
        return self.judge(claim, passages)

    def write_lede(self, facts: str) -> str | None:
        """None: summaries from the offline engine are the template alone."""
        return None

    def usage(self, counts: Counts) -> LLMUsage | None:
        """None: the offline engine makes no paid calls."""
        return None

    def warm_up(self) -> None:
        """Load the check-worthiness and stance models (about 2 s on 2 cores)."""
        checkworthiness.load_models()
        offline_stance.load_models()
