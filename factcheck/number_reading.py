"""Reading one number at a token of a sentence: digits (with scale words, suffixes such as "5bn",
currency and percent) and number words ("two hundred", "a dozen", "twenty-three").

factcheck.numbers turns what this reads into quantities. Codes ("COVID-19"), times, dates and
years are not numbers; "one" as a pronoun ("one of them", "no one") is not a count.
"""

from __future__ import annotations

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
# Words that end a noun phrase after a number: function words and auxiliaries.
STOP = {
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "and", "or",
    "but", "than", "as", "that", "this", "which", "who", "were", "was", "are", "is", "be",
    "been", "being", "have", "has", "had", "will", "would", "could", "can", "may", "might",
    "including", "among", "after", "before", "since", "per", "each", "more", "less", "fewer",
    "so", "it", "they", "he", "she", "we", "you", "i", "their", "its", "his", "her", "our",
    "them", "there", "here", "when", "where", "while", "if", "not", "no", "all", "out", "up",
}
_NOT_ONE = {"the", "this", "that", "any", "every", "each", "no", "which", "another", "no-one"}
_TOKEN = re.compile(
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[A-Za-z]+(?:['’][A-Za-z]+)*(?:-[A-Za-z]+)*|\S"
)


@dataclass(frozen=True)
class Token:
    """A word, number or sign of the text, with its character span."""

    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()


def tokenize(text: str) -> list[Token]:
    """The text's tokens, in order."""
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def parse_number(
    text: str, tokens: list[Token], i: int
) -> tuple[float, int, str | None] | None:
    """(value, index past the number, unit implied by the notation) or None."""
    token = tokens[i]
    if token.text[0].isdecimal():
        return _parse_digits(text, tokens, i)
    return _parse_words(tokens, i)


def _parse_digits(
    text: str, tokens: list[Token], i: int
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


def _skip_to(tokens: list[Token], i: int, offset: int) -> int:
    while i < len(tokens) and tokens[i].start < offset:
        i += 1
    return i


def _parse_words(tokens: list[Token], i: int) -> tuple[float, int, str | None] | None:
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


def _one_is_pronoun(tokens: list[Token], i: int) -> bool:
    # "one of the deceased", "the one who", "no one": not a count.
    prev = tokens[i - 1].lower if i > 0 else ""
    nxt = tokens[i + 1].lower if i + 1 < len(tokens) else ""
    return prev in _NOT_ONE or nxt in {"of", "another", "who", "that", "which", "'s", "day"}


def is_date_or_year(
    text: str, tokens: list[Token], i: int, stop: int, value: float, unit: str | None
) -> bool:
    """Whether the number read at tokens[i:stop] is a date, a time or a year, not a count."""
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


def _counts_something(tokens: list[Token], i: int) -> bool:
    # "2000 people" is a count; "in 2015 the war" is a year.
    if i >= len(tokens):
        return False
    word = tokens[i].lower
    return word in {"people", "men", "women", "children", "troops", "personnel", "police"} or (
        word.endswith("s") and word.isalpha() and word not in STOP and tokens[i].text.islower()
    )
