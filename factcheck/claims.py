"""Claim extraction by rules on the article's sentences plus a trained scorer, and the same rules
applied to the claims another extractor (the LLM) proposes.

Offline, the article is read as Markdown (headings, tables and code are structure, not claims;
a title line restates the article's claims in headline grammar and is no claim of its own),
each sentence or list item that is a claim (`claim_rules`) is cut into its statements
(`atomic`), each statement is worded to read alone (`decontext`), and the best-scored ones are
kept, up to the cap. The LLM's claims go through the same rules (`reviewed`): one on a sentence
the offline path would not claim is dropped, and the rest are split, worded and marked as
offline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from factcheck import atomic, checkworthiness, claim_rules, contradictions
from factcheck.blocks import Unit, plain, units
from factcheck.decontext import Resolver
from factcheck.models import Article, Claim
from factcheck.sentences import title_line
from factcheck.textmatch import normalised

logger = logging.getLogger(__name__)


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


def extract_claims_offline(article: Article, max_claims: int) -> list[Claim]:
    """Each statement of a claim sentence is a claim; the best-scored ones are kept, up to
    `max_claims`.

    The score only ranks: no threshold drops a checkable sentence of a short article.
    """
    return best_scored(candidates(article.text, article.title), article.text, max_claims)


def best_scored(found: list[Candidate], text: str, max_claims: int) -> list[Claim]:
    """The best-scored `max_claims` of `found` as claims, in article order; a figure that another
    figure of the article contradicts is kept first."""
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


def candidates(text: str, title: str | None = None) -> list[Candidate]:
    """Every statement of the article that is a claim, worded to read alone, in order, each
    once (an article that repeats a sentence has one claim of it; two that read alike but lean
    on different context are two); `title` is the one its source gave (Article.title), if any."""
    found, seen = [], set()
    for candidate in (c for reading in _read(text, title)[0] for c in reading.found):
        said = (" ".join(candidate.text.casefold().split()), candidate.context)
        if said not in seen:
            seen.add(said)
            found.append(candidate)
    return found


@dataclass(frozen=True)
class _Reading:
    """One checked unit as the offline path reads it."""

    unit: Unit
    read_before: int  # how many of the resolver's sentences came before it: what it may lean on
    found: list[Candidate]  # its statements; none when it is no claim
    why_not: str | None  # claim_rules' reason when it is no claim


def _read(text: str, title: str | None) -> tuple[list[_Reading], Resolver]:
    """The article read in order, and the resolver that read it. Its title line is no claim,
    unless nothing after it is one: then it is what the text states ("Vaccines cause autism",
    then "Is it true?")."""
    line = title_line(text, title)
    resolver = Resolver()
    readings = list(_readings(text, resolver, units(text, line)))
    if line and not any(r.found for r in readings):
        resolver = Resolver()
        readings = list(_readings(text, resolver, units(text)))
    return readings, resolver


def _readings(text: str, resolver: Resolver, read: list[Unit]) -> Iterator[_Reading]:
    """The checked units of `read` in order, each worded by `resolver` as it reads them."""
    for unit in read:
        if not unit.checked and unit.kind != "title":
            continue
        before = len(resolver.read)
        raw = text[unit.start : unit.end]
        wording = _unit_wording(unit, raw)
        if (why_not := _why_not_a_claim(unit, raw, wording)) is not None:
            resolver.add(wording)
            yield _Reading(unit, before, [], why_not)
            continue
        parts = [(0, len(raw), wording)] if unit.kind == "item" else atomic.split(raw)
        found = []
        for start, end, part in parts:
            words = resolver.resolve(plain(part) if unit.kind != "item" else part)
            found.append(Candidate(unit.start + start, unit.start + end, words.text,
                                   words.self_contained, words.context))
        resolver.add(" ".join(c.text for c in found))
        yield _Reading(unit, before, found, None)


def reviewed(text: str, proposed: Sequence[tuple[int, int, str]], title: str | None = None
             ) -> list[list[Candidate]]:
    """The offline rules applied to claims another extractor (the LLM) proposes, each given as
    (start, end, wording) with its span in `text`: for each, its statements, none when the
    offline path would not claim its sentence (a caption, a question, a quoted opinion, the
    title, structure). A statement is worded as the offline resolver leaves it and marked
    self-contained or not, with its context, as offline; a claim that joins two statements is
    split as offline (`atomic`), one the LLM wrote atomically stays one."""
    readings, offline = _read(text, title)
    kept: list[list[Candidate]] = []
    for start, end, wording in proposed:
        touched = [r for r in readings if r.unit.start < end and r.unit.end > start]
        if not (claimed := [r for r in touched if r.found]):
            why = ", ".join(dict.fromkeys(r.why_not or "" for r in touched)) or "structure"
            logger.info("dropped a claim whose sentence is not a claim (%s): %r", why,
                        text[start:end][:80])
            kept.append([])
            continue
        reading = claimed[0]
        if _copied(reading.unit, text, wording):  # the sentence as it stands: offline's claims
            kept.append(reading.found)
            continue
        resolver = Resolver()
        for sentence in offline.read[: reading.read_before]:
            resolver.add(sentence)
        kept.append([Candidate(s, e, words.text, words.self_contained, words.context)
                     for s, e, part in _statements(reading, start, end, wording)
                     for words in [resolver.resolve(part)]])
    return kept


def _copied(unit: Unit, text: str, wording: str) -> bool:
    """True when `wording` is the unit as it stands (a list item copied bare is read with its
    lead-in, as offline: "The budget includes 38 new electric buses")."""
    return normalised(wording)[0] == normalised(plain(text[unit.start : unit.end]))[0]


def _statements(reading: _Reading, start: int, end: int, wording: str
                ) -> list[tuple[int, int, str]]:
    """The statements of a wording of the LLM's own, split as offline. Each keeps the span of
    the part of the sentence it states when the sentence splits offline into as many parts,
    else the claim's own span: the sentence it comes from."""
    parts = [(0, 0, wording)] if reading.unit.kind == "item" else atomic.split(wording)
    if len(parts) == 1:
        return [(start, end, wording)]
    offline = reading.found if len(reading.found) == len(parts) else None
    return [(offline[n].start, offline[n].end, part) if offline else (start, end, part)
            for n, (_, _, part) in enumerate(parts)]


def _unit_wording(unit: Unit, raw: str) -> str:
    wording = plain(raw)
    return f"{unit.lead_in} {wording}" if unit.lead_in else wording


def _why_not_a_claim(unit: Unit, raw: str, wording: str) -> str | None:
    if unit.kind == "title":
        return "title"  # an antecedent all the same: "the strike" is the headline's
    if unit.kind == "item" and len(plain(raw).split()) < claim_rules.MIN_WORDS:
        return "fragment"  # "- more staff" states nothing checkable, whatever its lead-in
    return claim_rules.reason(wording)
