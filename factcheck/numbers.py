"""Quantities in a sentence: digits and number words, their bounds, and what they count.

    >>> [(q.value, q.unit, q.event) for q in quantities("Five Russians were killed.")]
    [(5.0, 'russian', 'killed')]

Used by the offline stance rules (does the passage give the claim's number?) and by the
article-contradiction detector (do two sentences give different tolls for the same event?).
The rules are deliberately small: a number's `unit` is the noun right after it, its `event` the
verb of that noun ("were killed") or a death word just before it ("the death toll hits 13").
Years, dates, times, ordinals, decades and codes such as "COVID-19" are not quantities; vague
amounts ("a handful", "dozens", "several") are ignored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from factcheck.number_reading import STOP, Token, is_date_or_year, parse_number, tokenize

# Qualifier -> (kind); kinds set the bounds in _bounds().
_BEFORE = {
    ("as", "many", "as"): "upto", ("as", "much", "as"): "upto", ("up", "to"): "upto",
    ("at", "most"): "upto", ("no", "more", "than"): "upto", ("fewer", "than"): "upto",
    ("less", "than"): "upto", ("under",): "upto", ("just", "under"): "upto",
    ("at", "least"): "atleast", ("more", "than"): "atleast", ("over",): "atleast",
    ("upwards", "of"): "atleast", ("no", "fewer", "than"): "atleast", ("just", "over"): "atleast",
    ("no", "less", "than"): "atleast", ("well", "over"): "atleast",
    ("nearly",): "nearly", ("almost",): "nearly", ("close", "to"): "nearly",
    ("about",): "about", ("around",): "about", ("approximately",): "about",
    ("roughly",): "about", ("some",): "about", ("an", "estimated"): "about",
    ("estimated",): "about", ("approx",): "about",
}
_AFTER = {("or", "so"): "about", ("or", "more"): "atleast", ("plus",): "atleast"}
APPROX_TOLERANCE = 0.2  # "about 100" is read as 80..120
_AUX = {"were", "was", "are", "is", "be", "been", "have", "has", "had", "got", "get", "being"}
# Event words mapped to one name, so that "killed", "died" and "death toll" compare equal.
_EVENTS = {
    "killed": "killed", "dead": "killed", "died": "killed", "deaths": "killed",
    "death": "killed", "toll": "killed", "killing": "killed", "kills": "killed",
    "fatalities": "killed", "casualties": "killed", "slain": "killed", "perished": "killed",
    "wounded": "injured", "injured": "injured", "injuries": "injured", "hurt": "injured",
    "arrested": "arrested", "detained": "arrested", "arrests": "arrested",
}


@dataclass(frozen=True)
class Quantity:
    """One quantity found in a text."""

    value: float  # the number as written ("about 100" -> 100)
    low: float  # smallest value the wording allows
    high: float  # largest value the wording allows (math.inf for "at least")
    approximate: bool  # a qualifier ("about", "as many as", "or so"...) or a range
    qualifier: str | None  # the qualifier's words, e.g. "as many as"
    unit: str | None  # what it counts: a singular lower-case noun, "%", "$", "ratio"
    event: str | None  # what happened to them: "killed", "injured", "arrested" or a verb
    start: int  # character span of the whole expression, qualifier included
    end: int

    def overlaps(self, other: Quantity) -> bool:
        """True when both can be the same amount (their bounds intersect)."""
        return self.low <= other.high and other.low <= self.high


def quantities(text: str) -> list[Quantity]:
    """Every quantity in `text`, in reading order."""
    tokens = tokenize(text)
    found: list[Quantity] = []
    i = 0
    while i < len(tokens):
        parsed = parse_number(text, tokens, i)
        if parsed is None:
            i += 1
            continue
        value, stop, unit = parsed
        if is_date_or_year(text, tokens, i, stop, value, unit):
            i = stop
            continue
        quantity, i = _describe(text, tokens, i, stop, value, unit)
        found.append(quantity)
    return _merge_ratios(text, found)


def comparable(a: Quantity, b: Quantity) -> bool:
    """True when two quantities count the same kind of thing (same unit, or same event)."""
    if a.unit and b.unit:
        return a.unit == b.unit
    return a.event is not None and a.event == b.event


def conflicts(first: str, second: str) -> list[tuple[Quantity, Quantity]]:
    """Pairs of comparable quantities of two texts that cannot both be true."""
    pairs = []
    for a in quantities(first):
        for b in quantities(second):
            if comparable(a, b) and not a.overlaps(b):
                pairs.append((a, b))
    return pairs


def describe(q: Quantity, text: str) -> str:
    """Short human wording of a quantity, e.g. 'as many as 200' (the span's text)."""
    return " ".join(text[q.start : q.end].split())


# --- what a number counts ------------------------------------------------------------------


def _describe(
    text: str, tokens: list[Token], i: int, stop: int, value: float, unit: str | None
) -> tuple[Quantity, int]:
    """The Quantity starting at token i, and the index of the first token after it."""
    kind, qualifier, start_index = _qualifier_before(tokens, i)
    if start_index == i and i > 0 and tokens[i - 1].lower == "between":
        start_index, qualifier = i - 1, "between"
    after_kind, after_words, stop_after = _qualifier_after(tokens, stop)
    if after_kind and not kind:
        kind, qualifier = after_kind, after_words
    low, high, stop_after = _range(text, tokens, stop_after, i, value)
    if kind:
        low, high = _bounds(kind, value)
    noun, event, _ = _noun_and_event(tokens, stop_after)
    unit = unit or noun
    event = event or _event_before(tokens, start_index)
    end = tokens[stop_after - 1].end if stop_after > stop else tokens[stop - 1].end
    quantity = Quantity(
        value=value, low=low, high=high, approximate=bool(kind) or low != high,
        qualifier=qualifier, unit=unit, event=event,
        start=tokens[start_index].start, end=end,
    )
    return quantity, max(stop_after, stop)


def _qualifier_before(tokens: list[Token], i: int) -> tuple[str | None, str | None, int]:
    for size in (3, 2, 1):
        if i - size < 0:
            continue
        words = tuple(t.lower for t in tokens[i - size : i])
        if words in _BEFORE:
            return _BEFORE[words], " ".join(words), i - size
    return None, None, i


def _qualifier_after(tokens: list[Token], i: int) -> tuple[str | None, str | None, int]:
    for size in (2, 1):
        words = tuple(t.lower for t in tokens[i : i + size])
        if words in _AFTER:
            return _AFTER[words], " ".join(words), i + size
    return None, None, i


def _range(
    text: str, tokens: list[Token], i: int, first: int, value: float
) -> tuple[float, float, int]:
    """'10-15', '10 to 15' or 'between 10 and 15': the range's bounds and where it ends."""
    between = first > 0 and tokens[first - 1].lower == "between"
    joiner = tokens[i].text.lower() if i < len(tokens) else ""
    attached = joiner in {"-", "–"} and tokens[i].start == tokens[i - 1].end
    from_to = joiner == "to" and not (first > 0 and tokens[first - 1].lower == "from")
    if (between and joiner == "and") or attached or from_to:
        parsed = parse_number(text, tokens, i + 1) if i + 1 < len(tokens) else None
        if parsed and parsed[0] > value:
            return value, parsed[0], parsed[1]
    return value, value, i


def _bounds(kind: str, value: float) -> tuple[float, float]:
    if kind == "upto":
        return 0.0, value
    if kind == "atleast":
        return value, math.inf
    if kind == "nearly":
        return value * (1 - APPROX_TOLERANCE), value
    return value * (1 - APPROX_TOLERANCE), value * (1 + APPROX_TOLERANCE)


def _noun_and_event(tokens: list[Token], i: int) -> tuple[str | None, str | None, int]:
    """The noun a number counts (last word of the phrase after it) and that noun's verb."""
    phrase: list[str] = []
    j = i
    while j < len(tokens) and len(phrase) < 3:
        word = tokens[j].lower
        if (not word.isalpha() and "-" not in word) or word in STOP or word in _EVENTS:
            break
        if phrase and (word.endswith("ed") or word.endswith("ing")):
            break
        phrase.append(word)
        j += 1
    noun = singular(phrase[-1]) if phrase else None
    event = _verb_after(tokens, j, has_noun=bool(phrase))
    if noun in _EVENTS:  # "100 dead": the noun is the event
        event, noun = event or _EVENTS[noun], None
    return noun, event, j


def _verb_after(tokens: list[Token], j: int, has_noun: bool) -> str | None:
    """'(Russians) killed', '(people) were killed', '(members) of that unit were killed'."""
    if j < len(tokens) and tokens[j].lower in _EVENTS:
        return _EVENTS[tokens[j].lower]
    if not has_noun:
        return None  # "13 is revealed": a verb after a bare number is not what it counts
    if j < len(tokens) and tokens[j].lower.endswith("ed") and tokens[j].lower.isalpha():
        return tokens[j].lower
    window = [t.lower for t in tokens[j : j + 8]]
    cut = next((n for n, w in enumerate(window) if w in {".", ",", ";", ":"}), len(window))
    for n in range(cut - 1):
        if window[n] in _AUX:
            verb = window[n + 2] if window[n + 1] in _AUX and n + 2 < cut else window[n + 1]
            if verb in _EVENTS:
                return _EVENTS[verb]
            return verb if verb.endswith("ed") and verb.isalpha() else None
    return None


def _event_before(tokens: list[Token], i: int) -> str | None:
    """A death/injury word shortly before the number: 'killing five', 'the toll hits 13'."""
    for token in reversed(tokens[max(0, i - 6) : i]):
        if token.lower in _EVENTS:
            return _EVENTS[token.lower]
        if token.text in {".", ";"}:
            break
    return None


_IRREGULAR = {"women": "woman", "men": "man", "children": "child", "people": "people"}


def singular(word: str) -> str:
    """A lower-case noun's singular: 'casualties' -> 'casualty', 'women' -> 'woman'."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _merge_ratios(text: str, found: list[Quantity]) -> list[Quantity]:
    """'1 in 5 million' -> one ratio quantity (value 2e-07)."""
    merged: list[Quantity] = []
    for q in found:
        prev = merged[-1] if merged else None
        if (prev and prev.unit is None and re.fullmatch(r"\s+in\s+", text[prev.end : q.start])
                and q.value and prev.value == prev.low == prev.high):
            ratio = prev.value / q.value
            merged[-1] = Quantity(
                value=ratio, low=ratio * q.value / max(q.high, q.value),
                high=ratio * q.value / max(q.low, 1e-12), approximate=q.approximate,
                qualifier=q.qualifier, unit="ratio", event=q.event or prev.event,
                start=prev.start, end=q.end,
            )
            continue
        merged.append(q)
    return merged
