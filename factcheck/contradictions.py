"""Claims of one article that contradict each other, found without the collection.

News reports often carry several figures for one event (the seed article gives five death
tolls for one strike). Two claims conflict when they give different numbers for the same kind
of thing: the same event ("killed", "injured", ...) or, lacking one, the same counted noun.
"""

from __future__ import annotations

from itertools import combinations

from factcheck.models import Claim, Contradiction
from factcheck.numbers import Quantity, describe, quantities

# Figures within this relative distance are the same figure rounded ("about 100" vs 98).
TOLERANCE = 0.2


def find(claims: list[Claim]) -> list[Contradiction]:
    """Every pair of claims that gives conflicting figures, with the figures in the reason."""
    return [
        Contradiction(first=claims[i].id, second=claims[j].id,
                      reason=_reason(claims[i].text, claims[j].text, a, b))
        for i, j, a, b in _conflicts([c.text for c in claims])
    ]


def conflicting(texts: list[str]) -> set[int]:
    """Indices of the texts whose figures conflict with another text's."""
    return {k for i, j, _, _ in _conflicts(texts) for k in (i, j)}


def _conflicts(texts: list[str]) -> list[tuple[int, int, Quantity, Quantity]]:
    counted = [quantities(text) for text in texts]
    found = []
    for i, j in combinations(range(len(texts)), 2):
        pair = _first_conflict(counted[i], counted[j])
        if pair:
            found.append((i, j, *pair))
    return found


def _first_conflict(
    first: list[Quantity], second: list[Quantity]
) -> tuple[Quantity, Quantity] | None:
    conflicting = [
        (a, b) for a in first for b in second if _same_measure(a, b) and _differ(a.value, b.value)
    ]
    # "five Russians" vs "15 Russians" says more than "five Russians" vs "23 people".
    return max(conflicting, key=lambda pair: pair[0].unit == pair[1].unit, default=None)


def _same_measure(a: Quantity, b: Quantity) -> bool:
    if a.event and b.event:
        return a.event == b.event
    return a.unit is not None and a.unit == b.unit


def _differ(x: float, y: float) -> bool:
    return abs(x - y) > TOLERANCE * max(abs(x), abs(y))


_MEASURES = {"killed": "death toll", "injured": "number of injured", "arrested": "number of arrests"}


def _reason(first: str, second: str, a: Quantity, b: Quantity) -> str:
    measure = _MEASURES.get(a.event or "", f"number of {a.event or a.unit}")
    return f"{measure} differs: “{describe(a, first)}” vs “{describe(b, second)}”"
