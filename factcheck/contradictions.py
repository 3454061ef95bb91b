"""Claims of one article that contradict each other, found without the collection.

News reports often carry several figures for one event (the seed article gives five death
tolls for one strike). A measure is what a figure counts: the event its noun phrase undergoes
("killed", "injured", ...) or, lacking one, the counted noun itself ("homes", "troops"). Within
a measure, two figures conflict when their bounds cannot meet ("as many as 200" allows 100;
"about 100" allows 98) and they count the same thing: the same noun, or both the whole ("23
people", "the toll hits 13"). A part ("15 Russians") is not compared with the whole ("23
people in all") unless it exceeds it, nor with another part ("200 members of the unit").

The reader gets one line per measure with every figure the article gives for it and who gives
each (`groups`); `find` keeps the pairs of claims for programs that read them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import combinations

from factcheck.attribution import speaker
from factcheck.models import Claim, Contradiction, ContradictionGroup, Figure
from factcheck.numbers import Quantity, describe, quantities, singular
from factcheck.sentences import split_sentences

# Exact figures within this relative distance are the same figure rounded (98 vs 100).
TOLERANCE = 0.2
# Nouns that count everyone: a figure for them, or a bare toll, is the whole.
_WHOLE = {"people", "person", "individual", "victim", "body"}
_MEASURES = {"killed": "death toll", "injured": "number of injured", "arrested": "number of arrests"}


@dataclass(frozen=True)
class _Count:
    """One quantity of one claim, with the measure it belongs to."""

    claim: int  # index into the claims
    quantity: Quantity
    measure: tuple[str, str]  # ("event", "killed") or ("noun", "home")
    noun: str | None  # what it counts, as written ("Russians"), None for a bare toll
    text: str  # the text the quantity's span indexes

    @property
    def whole(self) -> bool:
        return self.quantity.unit is None or self.quantity.unit in _WHOLE


def find(claims: list[Claim], article: str | None = None) -> list[Contradiction]:
    """Every pair of claims that gives conflicting figures, with the figures in the reason.

    With the article's text, figures are read from each claim's span in it (the words as
    written, not the claim's rewording), falling back to the claim's text."""
    counts = _counts(claims, article)
    return [
        Contradiction(first=claims[i].id, second=claims[j].id, measure=_measure_name(a),
                      reason=f"{_measure_name(a)} differs: “{describe(a.quantity, a.text)}” vs "
                             f"“{describe(b.quantity, b.text)}”")
        for i, j, a, b in _conflicts(counts, len(claims))
    ]


def groups(claims: list[Claim], article: str | None = None) -> list[ContradictionGroup]:
    """One group per measure that holds a conflict: every figure the article gives for it,
    merged when two claims give the same one, in increasing order, with who gives each."""
    counts = _counts(claims, article)
    conflicted = {a.measure for _, _, a, _ in _conflicts(counts, len(claims))}
    found = []
    for measure in dict.fromkeys(c.measure for c in counts if c.measure in conflicted):
        members = [c for c in counts if c.measure == measure]
        found.append(ContradictionGroup(
            measure=_measure_name(members[0]),
            figures=_figures(members, claims, article)))
    return found


def conflicting(texts: list[str]) -> set[int]:
    """Indices of the texts whose figures conflict with another text's."""
    counts = [c for i, text in enumerate(texts) for c in _counts_of(i, text)]
    return {k for i, j, _, _ in _conflicts(counts, len(texts)) for k in (i, j)}


# --- reading the figures ---------------------------------------------------------------------


def _counts(claims: list[Claim], article: str | None) -> list[_Count]:
    found = []
    for i, claim in enumerate(claims):
        span = article[claim.start : claim.end] if article else ""
        found += _counts_of(i, span) or _counts_of(i, claim.text)
    return found


def _counts_of(index: int, text: str) -> list[_Count]:
    found = []
    for q in quantities(text):
        measure = _measure_key(q)
        if measure:
            found.append(_Count(index, q, measure, _noun_as_written(q, text), text))
    return found


def _measure_key(q: Quantity) -> tuple[str, str] | None:
    if q.event:
        return ("event", q.event)
    # Without an event only a counted noun makes a measure: "$5 million" or "40%" alone
    # says too little of what is counted to be compared with another sentence's.
    if q.unit and q.unit.isalpha() and q.unit not in {"ratio", "people", "person"}:
        return ("noun", q.unit)
    return None


def _noun_as_written(q: Quantity, text: str) -> str | None:
    if not q.unit or not q.unit.isalpha() or q.unit == "ratio":
        return None
    for word in re.finditer(r"[A-Za-z][\w’'-]*", text[q.end : q.end + 80]):
        if singular(word.group().lower()) == q.unit:
            return word.group()
    return None


def _measure_name(count: _Count) -> str:
    kind, name = count.measure
    if kind == "event":
        return _MEASURES.get(name, f"number {name}")
    return f"number of {count.noun or name}"


# --- comparing them ------------------------------------------------------------------------


def _conflicts(counts: list[_Count], size: int) -> list[tuple[int, int, _Count, _Count]]:
    """(claim index, claim index, its count, the other's count) per conflicting pair of claims,
    the clearest conflict of the pair (the same counted noun) as the example."""
    by_claim: list[list[_Count]] = [[] for _ in range(size)]
    for count in counts:
        by_claim[count.claim].append(count)
    found = []
    for i, j in combinations(range(size), 2):
        pairs = [(a, b) for a in by_claim[i] for b in by_claim[j] if _conflict(a, b)]
        if pairs:
            a, b = max(pairs, key=lambda pair: pair[0].quantity.unit == pair[1].quantity.unit)
            found.append((i, j, a, b))
    return found


def _conflict(a: _Count, b: _Count) -> bool:
    if a.measure != b.measure:
        return False
    x, y = a.quantity, b.quantity
    if x.unit == y.unit or (a.whole and b.whole):
        return not x.overlaps(y) and _differ(x, y)
    if a.whole != b.whole:  # a part exceeding the whole
        part, whole = (x, y) if b.whole else (y, x)
        return part.low > whole.high * (1 + TOLERANCE)
    return False  # two different parts


def _differ(x: Quantity, y: Quantity) -> bool:
    if x.approximate or y.approximate:
        return True  # their bounds already allow for rounding
    return abs(x.value - y.value) > TOLERANCE * max(abs(x.value), abs(y.value))


# --- the reader's line ---------------------------------------------------------------------


def _figures(members: list[_Count], claims: list[Claim], article: str | None) -> list[Figure]:
    by_claim: dict[int, list[_Count]] = {}
    for count in members:
        by_claim.setdefault(count.claim, []).append(count)
    merged: dict[str, tuple[float, Figure]] = {}
    for index, counts in by_claim.items():
        claim = claims[index]
        wording, first = _wording(counts)
        who = _speaker_of(claim, article)
        if wording not in merged:
            high = None if math.isinf(first.high) else first.high
            merged[wording] = (first.value, Figure(figure=wording, low=first.low, high=high,
                                                   claims=[], sources=[]))
        figure = merged[wording][1]
        figure.claims.append(claim.id)
        if who and who not in figure.sources:
            figure.sources.append(who)
    return [figure for _, figure in sorted(merged.values(), key=lambda pair: pair[0])]


def _wording(counts: list[_Count]) -> tuple[str, Quantity]:
    """A claim's figures for one measure: '15 Russians of 23 people' (part of whole), or joined
    with 'and'; and the quantity it sorts by (the part's)."""
    counts = sorted(counts, key=lambda c: c.whole)  # parts first
    if len(counts) == 1:
        return _amount(counts[0]) + _counted(counts[0], with_complement=True), counts[0].quantity
    parts = [_amount(c) + _counted(c) for c in counts]
    joiner = " of " if len(counts) == 2 and not counts[0].whole and counts[1].whole else " and "
    return joiner.join(parts), counts[0].quantity


def _counted(count: _Count, with_complement: bool = False) -> str:
    """' Russians', or with its complement ' members of that battalion-sized unit'."""
    if not count.noun:
        return ""
    if with_complement:
        tail = count.text[count.quantity.end :]
        found = re.match(rf"\s+(?:[\w’'-]+\s+){{0,2}}?{re.escape(count.noun)}"
                         r"(?:\s+of\s+(?:the|that|this|a|an|his|her|its|their)?\s*[\w’'-]+"
                         r"(?:\s+[\w’'-]+)?(?=[\s,.;]|$))?", tail)
        if found:
            return " " + " ".join(found.group().split())
    return f" {count.noun}"


def _amount(count: _Count) -> str:
    """The figure in numerals: '5', 'about 100', 'up to 200', 'at least 3', '10–15'."""
    q = count.quantity
    if q.unit == "ratio":
        return describe(q, count.text)
    n = _number(q.value)
    if q.unit in {"$", "£", "€", "¥"}:
        n = q.unit + n
    elif q.unit == "%":
        n += "%"
    if math.isinf(q.high):
        return f"at least {n}"
    if q.low == 0 and q.high == q.value and q.approximate:
        return f"up to {n}"
    if q.low < q.value == q.high:
        return f"nearly {n}"
    if q.low < q.value:
        return f"about {n}"
    if q.high > q.value:
        return f"{n}–{_number(q.high)}"
    return n


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _speaker_of(claim: Claim, article: str | None) -> str | None:
    """Who the claim's clause, else its sentence, says gives the figure ("X said A, and B")."""
    if not article or not article[claim.start : claim.end].strip():
        return speaker(claim.text)
    clause = article[claim.start : claim.end]
    sentence = next((article[s:max(e, claim.end)] for s, e in split_sentences(article)
                     if s <= claim.start < e), clause)
    return speaker(clause) or speaker(sentence)
