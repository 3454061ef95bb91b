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

_SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SUFFIX_SCALES = {"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "b": 1e9, "tn": 1e12}
_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
}
_CURRENCY = {"$": "$", "£": "£", "€": "€", "¥": "¥"}
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
# Words that end a noun phrase after a number: function words and auxiliaries.
_STOP = {
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "and", "or",
    "but", "than", "as", "that", "this", "which", "who", "were", "was", "are", "is", "be",
    "been", "being", "have", "has", "had", "will", "would", "could", "can", "may", "might",
    "including", "among", "after", "before", "since", "per", "each", "more", "less", "fewer",
    "so", "it", "they", "he", "she", "we", "you", "i", "their", "its", "his", "her", "our",
    "them", "there", "here", "when", "where", "while", "if", "not", "no", "all", "out", "up",
}
_AUX = {"were", "was", "are", "is", "be", "been", "have", "has", "had", "got", "get", "being"}
# Event words mapped to one name, so that "killed", "died" and "death toll" compare equal.
_EVENTS = {
    "killed": "killed", "dead": "killed", "died": "killed", "deaths": "killed",
    "death": "killed", "toll": "killed", "killing": "killed", "kills": "killed",
    "fatalities": "killed", "casualties": "killed", "slain": "killed", "perished": "killed",
    "wounded": "injured", "injured": "injured", "injuries": "injured", "hurt": "injured",
    "arrested": "arrested", "detained": "arrested", "arrests": "arrested",
}
_NOT_ONE = {"the", "this", "that", "any", "every", "each", "no", "which", "another", "no-one"}
_TOKEN = re.compile(
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[A-Za-z]+(?:['’][A-Za-z]+)*(?:-[A-Za-z]+)*|\S"
)


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


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()


def quantities(text: str) -> list[Quantity]:
    """Every quantity in `text`, in reading order."""
    tokens = [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    found: list[Quantity] = []
    i = 0
    while i < len(tokens):
        parsed = _parse_number(text, tokens, i)
        if parsed is None:
            i += 1
            continue
        value, stop, unit = parsed
        if _is_date_or_year(text, tokens, i, stop, value, unit):
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


# --- parsing -------------------------------------------------------------------------------


def _parse_number(
    text: str, tokens: list[_Token], i: int
) -> tuple[float, int, str | None] | None:
    """(value, index past the number, unit implied by the notation) or None."""
    token = tokens[i]
    if token.text[0].isdecimal():
        return _parse_digits(text, tokens, i)
    return _parse_words(tokens, i)


def _parse_digits(
    text: str, tokens: list[_Token], i: int
) -> tuple[float, int, str | None] | None:
    token = tokens[i]
    before = text[max(0, token.start - 2) : token.start]
    after = text[token.end : token.end + 2]
    # Codes and times: "COVID-19", "F16", "10:30", "7/2/2018", "7th", "1990s", "5G".
    if before[-1:].isalnum() or re.match(r"[A-Za-z]-$|\d[:/.]$", before):
        return None
    if re.match(r"[:/]\d", after):
        return None
    suffix = re.match(r"[A-Za-z]+", text[token.end :])
    value = float(token.text.replace(",", ""))
    if suffix and suffix.group().lower() not in _SUFFIX_SCALES:
        return None
    unit = None
    if token.start > 0 and text[token.start - 1] in _CURRENCY:
        unit = _CURRENCY[text[token.start - 1]]
    if suffix:
        # "5bn" is one token in our regex only when split; the suffix letters follow directly.
        value *= _SUFFIX_SCALES[suffix.group().lower()]
        return value, _skip_to(tokens, i + 1, token.end + len(suffix.group())), unit
    stop = i + 1
    while stop < len(tokens) and tokens[stop].lower in _SCALES:
        value *= _SCALES[tokens[stop].lower]
        stop += 1
    if stop < len(tokens) and tokens[stop].text == "%":
        return value, stop + 1, "%"
    if stop + 1 < len(tokens) and tokens[stop].lower == "per" and tokens[stop + 1].lower == "cent":
        return value, stop + 2, "%"
    if stop < len(tokens) and tokens[stop].lower == "percent":
        return value, stop + 1, "%"
    return value, stop, unit


def _skip_to(tokens: list[_Token], i: int, offset: int) -> int:
    while i < len(tokens) and tokens[i].start < offset:
        i += 1
    return i


def _parse_words(tokens: list[_Token], i: int) -> tuple[float, int, str | None] | None:
    """Number words: 'five', 'two hundred', 'a hundred', 'twenty-three', "baker's dozen"."""
    words = tokens[i].lower.replace("’", "'")
    if words == "baker's" and i + 1 < len(tokens) and tokens[i + 1].lower == "dozen":
        return 13.0, i + 2, None
    if words == "a" and i + 1 < len(tokens) and tokens[i + 1].lower in {"dozen", *_SCALES}:
        i, words = i + 1, tokens[i + 1].lower  # "a hundred" = "one hundred"
        total, current, stop = 0.0, 1.0, i
    elif _is_number_word(words):
        if words == "one" and _one_is_pronoun(tokens, i):
            return None
        total, current, stop = 0.0, 0.0, i
    else:
        return None
    while stop < len(tokens):
        word = tokens[stop].lower
        if word == "and" and stop + 1 < len(tokens) and _is_number_word(tokens[stop + 1].lower):
            stop += 1
            continue
        if not _is_number_word(word) and word != "dozen":
            break
        total, current = _accumulate(word, total, current)
        stop += 1
    if stop < len(tokens) and tokens[stop].lower == "dozens":
        return None  # "two dozens"? vague: treat as no number
    return total + current, stop, None


def _is_number_word(word: str) -> bool:
    return all(part in _SMALL or part in _SCALES for part in word.split("-"))


def _accumulate(word: str, total: float, current: float) -> tuple[float, float]:
    for part in word.split("-"):
        if part == "dozen":
            current = max(current, 1.0) * 12
        elif part == "hundred":
            current = max(current, 1.0) * 100
        elif part in _SCALES:
            total, current = total + max(current, 1.0) * _SCALES[part], 0.0
        else:
            current += _SMALL[part]
    return total, current


def _one_is_pronoun(tokens: list[_Token], i: int) -> bool:
    # "one of the deceased", "the one who", "no one": not a count.
    prev = tokens[i - 1].lower if i > 0 else ""
    nxt = tokens[i + 1].lower if i + 1 < len(tokens) else ""
    return prev in _NOT_ONE or nxt in {"of", "another", "who", "that", "which", "'s", "day"}


def _is_date_or_year(
    text: str, tokens: list[_Token], i: int, stop: int, value: float, unit: str | None
) -> bool:
    if unit is not None or not tokens[i].text[0].isdecimal():
        return False
    prev = tokens[i - 1].lower.rstrip(".") if i > 0 else ""
    if i > 1 and tokens[i - 1].text == ".":
        prev = tokens[i - 2].lower  # "Feb. 7"
    nxt = tokens[stop].lower if stop < len(tokens) else ""
    if prev in _MONTHS or (nxt in _MONTHS and value <= 31 and value == int(value)):
        return True
    if nxt in {"a.m", "p.m", "am", "pm", "o'clock", "o’clock"}:
        return True
    is_year_shape = re.fullmatch(r"\d{4}", tokens[i].text) and 1900 <= value <= 2100
    return bool(is_year_shape) and not _counts_something(tokens, stop)


def _counts_something(tokens: list[_Token], i: int) -> bool:
    # "2000 people" is a count; "in 2015 the war" is a year.
    if i >= len(tokens):
        return False
    word = tokens[i].lower
    return word in {"people", "men", "women", "children", "troops", "personnel", "police"} or (
        word.endswith("s") and word.isalpha() and word not in _STOP and tokens[i].text.islower()
    )


# --- what a number counts ------------------------------------------------------------------


def _describe(
    text: str, tokens: list[_Token], i: int, stop: int, value: float, unit: str | None
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


def _qualifier_before(tokens: list[_Token], i: int) -> tuple[str | None, str | None, int]:
    for size in (3, 2, 1):
        if i - size < 0:
            continue
        words = tuple(t.lower for t in tokens[i - size : i])
        if words in _BEFORE:
            return _BEFORE[words], " ".join(words), i - size
    return None, None, i


def _qualifier_after(tokens: list[_Token], i: int) -> tuple[str | None, str | None, int]:
    for size in (2, 1):
        words = tuple(t.lower for t in tokens[i : i + size])
        if words in _AFTER:
            return _AFTER[words], " ".join(words), i + size
    return None, None, i


def _range(
    text: str, tokens: list[_Token], i: int, first: int, value: float
) -> tuple[float, float, int]:
    """'10-15', '10 to 15' or 'between 10 and 15': the range's bounds and where it ends."""
    between = first > 0 and tokens[first - 1].lower == "between"
    joiner = tokens[i].text.lower() if i < len(tokens) else ""
    attached = joiner in {"-", "–"} and tokens[i].start == tokens[i - 1].end
    from_to = joiner == "to" and not (first > 0 and tokens[first - 1].lower == "from")
    if (between and joiner == "and") or attached or from_to:
        parsed = _parse_number(text, tokens, i + 1) if i + 1 < len(tokens) else None
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


def _noun_and_event(tokens: list[_Token], i: int) -> tuple[str | None, str | None, int]:
    """The noun a number counts (last word of the phrase after it) and that noun's verb."""
    phrase: list[str] = []
    j = i
    while j < len(tokens) and len(phrase) < 3:
        word = tokens[j].lower
        if (not word.isalpha() and "-" not in word) or word in _STOP or word in _EVENTS:
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


def _verb_after(tokens: list[_Token], j: int, has_noun: bool) -> str | None:
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


def _event_before(tokens: list[_Token], i: int) -> str | None:
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
