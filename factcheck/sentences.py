"""Sentence segmentation with character spans, shared by claim extraction and stance."""

from __future__ import annotations

import re

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "col", "lt", "sgt", "capt", "gov",
    "sen", "rep", "u.s", "u.k", "e.g", "i.e", "etc", "vs", "fig", "no", "inc", "ltd", "co", "corp",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx",
    "al", "et al", "ca", "cf", "resp", "vol", "pp",
}
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*\s+|\n\s*\n|\n(?=[A-Z\"“‘'•\-*])")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences of `text`, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        after_abbreviation = _ends_with_abbreviation(text[start : match.start() + 1])
        if (after_abbreviation and not _opens_quote(text, end)) or _next_is_lower(text, end):
            continue
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    return [trimmed for s, e in spans if (trimmed := _trim(text, s, e))]


def sentences(text: str) -> list[str]:
    """The sentences of `text` as strings."""
    return [text[s:e] for s, e in split_sentences(text)]


def _ends_with_abbreviation(chunk: str) -> bool:
    match = re.search(r"(\b[\w.]+)\.$", chunk.rstrip())
    if not match:
        return False
    word = match.group(1).lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _opens_quote(text: str, index: int) -> bool:
    # "…killed U.S. “The purposes…": a quotation opening after "U.S." starts a sentence.
    return text[index : index + 1] == "“" and text[index + 1 : index + 2].isupper()


def _next_is_lower(text: str, index: int) -> bool:
    # "p < 0.05. and" or a decimal split by a space: a lower-case start is a continuation.
    return index < len(text) and text[index].islower()


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None
