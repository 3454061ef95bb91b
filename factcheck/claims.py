"""Claim extraction: the LLM when configured, else rules on the article's sentences plus a
trained scorer.

Offline, the article is read as Markdown (headings, tables and code are structure, not claims),
each sentence or list item that is a claim (`claim_rules`) is cut into its statements
(`atomic`), each statement is worded to read alone (`decontext`), and the best-scored ones are
kept, up to the cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from factcheck import atomic, checkworthiness, claim_rules, contradictions
from factcheck.blocks import Unit, plain, units
from factcheck.decontext import Resolver
from factcheck.models import Article, Claim
from factcheck.settings import Settings


@dataclass(frozen=True)
class Candidate:
    """One statement of the article, before scoring and the cap."""

    start: int
    end: int
    text: str
    self_contained: bool
    context: str | None


@dataclass(frozen=True)
class Extracted:
    """The claims to check and how many more checkable statements the cap left out."""

    claims: list[Claim]
    left_out: int = 0


def extract_claims(article: Article, settings: Settings, engine: str) -> Extracted:
    """The article's checkable claims, in article order, at most `settings.max_claims`.

    The LLM is asked for at most that many and chooses them itself, so it reports none left out.
    """
    if engine == "llm":
        from factcheck import llm

        return Extracted(llm.extract_claims_llm(article, settings))
    found = candidates(article.text)
    claims = _best_scored(found, article.text, settings.max_claims)
    return Extracted(claims, left_out=len(found) - len(claims))


def extract_claims_offline(article: Article, max_claims: int) -> list[Claim]:
    """Each statement of a claim sentence is a claim; the best-scored ones are kept, up to
    `max_claims`.

    The score only ranks: no threshold drops a checkable sentence of a short article.
    """
    return _best_scored(candidates(article.text), article.text, max_claims)


def _best_scored(found: list[Candidate], text: str, max_claims: int) -> list[Claim]:
    if not found:
        return []
    scores = checkworthiness.score([c.text for c in found])
    # A figure that disagrees with another figure of the same article is always worth a check
    # (read as written: a rewording may put words between a toll and its number).
    conflicted = contradictions.conflicting([text[c.start : c.end] for c in found])
    ranked = sorted(range(len(found)), key=lambda i: (i not in conflicted, -scores[i]))
    kept = sorted(ranked[:max_claims])
    return [
        Claim(id=n, text=found[i].text, start=found[i].start, end=found[i].end,
              checkworthiness=round(float(scores[i]), 3),
              self_contained=found[i].self_contained, context=found[i].context)
        for n, i in enumerate(kept, start=1)
    ]


def candidates(text: str) -> list[Candidate]:
    """Every statement of the article that is a claim, worded to read alone, in order."""
    resolver = Resolver()
    found: list[Candidate] = []
    for unit in units(text):
        if not unit.checked:
            continue
        raw = text[unit.start : unit.end]
        wording = _unit_wording(unit, raw)
        if not _is_claim(unit, raw, wording):
            resolver.add(wording)
            continue
        parts = [(0, len(raw), wording)] if unit.kind == "item" else atomic.split(raw)
        resolved = []
        for start, end, part in parts:
            words = resolver.resolve(plain(part) if unit.kind != "item" else part)
            resolved.append(words.text)
            found.append(Candidate(unit.start + start, unit.start + end, words.text,
                                   words.self_contained, words.context))
        resolver.add(" ".join(resolved))
    return found


def _unit_wording(unit: Unit, raw: str) -> str:
    wording = plain(raw)
    return f"{unit.lead_in} {wording}" if unit.lead_in else wording


def _is_claim(unit: Unit, raw: str, wording: str) -> bool:
    if unit.kind == "item" and len(plain(raw).split()) < claim_rules.MIN_WORDS:
        return False  # "- more staff" states nothing checkable, whatever its lead-in
    return claim_rules.is_checkable(wording)
