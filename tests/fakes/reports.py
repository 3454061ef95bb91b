"""Reports built by hand, for tests of what reads stored checks (history, memory, summaries)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from factcheck.models import (
    Article,
    Claim,
    ClaimCheck,
    Evidence,
    Label,
    Passage,
    Provenance,
    Report,
    Stance,
    Verdict,
)


def claim_check(
    number: int, text: str, label: Label, evidence: Sequence[Evidence] = (),
    confidence: float = 0.8, summary: str = "Because.", checkworthiness: float = 0.8,
) -> ClaimCheck:
    """One checked claim with its verdict and evidence."""
    return ClaimCheck(
        claim=Claim(id=number, text=text, start=0, end=len(text), checkworthiness=checkworthiness),
        verdict=Verdict(label=label, confidence=confidence, summary=summary),
        evidence=list(evidence),
    )


def evidence(stance: Stance, title: str, quote: str, confidence: float = 0.8) -> Evidence:
    """A judged passage of source `title` (also its id, and its URL's last part)."""
    passage = Passage(id=title, text=quote, title=title, url=f"https://example.org/{title}")
    return Evidence(passage=passage, stance=stance, confidence=confidence, quote=quote,
                    rationale="Because.")


def report(
    *checks: ClaimCheck, when: datetime | None = None, engine: str = "offline",
    model: str = "test",
) -> Report:
    """A report of these claims, its article their texts; made now unless `when` is given."""
    return Report(
        article=Article(text=" ".join(c.claim.text for c in checks) or "Nothing."),
        claims=list(checks), created_at=when or datetime.now(UTC),
        provenance=Provenance(engine=engine, model=model, embedder="test"),
    )
