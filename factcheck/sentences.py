"""Sentence segmentation with character spans, shared by claim extraction and stance; and the
article's title line, which is no sentence (intake takes it as the title, claims leave it out)."""

from __future__ import annotations

import re

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "col", "lt", "sgt", "capt", "gov",
    "sen", "rep", "u.s", "u.k", "e.g", "i.e", "etc", "vs", "fig", "no", "inc", "ltd", "co", "corp",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx",
    "al", "et al", "ca", "cf", "resp", "vol", "pp",
}
# Headlines run to about fifteen words; a longer line without a full stop is more likely a
# sentence that lost its stop, or the first line of a hard-wrapped paragraph.
TITLE_MOST_WORDS = 15
_SENTENCE_END = (".", "!", "?", "…", ":", ";", ",")  # a colon ends a lead-in, a comma a wrapped line
_CLOSERS = "\"'”’)]"
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
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


def title_line(text: str, title: str | None = None) -> tuple[int, int] | None:
    """The (start, end) of the article's title line, or None.

    A title is the text's first line when it is short (at most TITLE_MOST_WORDS words), opens
    with a word or a quotation mark (no Markdown marker: a heading is read as one), does not end
    as a sentence does, has more text after it, and stands alone: a blank line follows it, or it
    is the `title` its source gave (a PDF's or a page's, whose blank lines may be lost).
    """
    start = len(text) - len(text.lstrip())
    end = text.find("\n", start)
    if end < 0 or not text[end:].strip():
        return None  # one line is the whole text: what it says is the article, not its title
    line = text[start:end].rstrip()
    words = line.split()
    if (not words or len(words) > TITLE_MOST_WORDS or not (line[0].isalnum() or line[0] in "\"“‘'")
            or line.rstrip(_CLOSERS).endswith(_SENTENCE_END)):
        return None
    given = title is not None and " ".join(title.split()).casefold() == " ".join(words).casefold()
    return (start, start + len(line)) if given or _BLANK_LINE.match(text, end) else None


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
