"""An article's sentences as claim extraction reads them, Markdown structure included.

Headings, table rows, code and thematic breaks are structure, not statements, and so is the
title line a plain-text article opens with (`sentences.title_line`); a list item is
read as one statement, and one that follows a lead-in ("The budget includes:") is read with it.
Blockquote markers and inline emphasis do not belong to a claim's wording. The spans still index
the article's text, so that every claim maps to where it stands.

    >>> [u.kind for u in units("# Title\\n\\nOne thing happened.\\n\\n- an item of the list")]
    ['heading', 'sentence', 'item']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from factcheck.sentences import split_sentences

_HEADING = re.compile(r"#{1,6}\s")
_TABLE_ROW = re.compile(r"\|.*\|\s*$")
_RULE = re.compile(r"([-*_]\s*){3,}$")
_FENCE = re.compile(r"(```|~~~)")
_ITEM = re.compile(r"([-*+•]|\d{1,3}[.)])\s+")
_QUOTE = re.compile(r"(>\s?)+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")


@dataclass(frozen=True)
class Unit:
    """One piece of the article: a sentence, a list item, or structure that is not checked."""

    kind: str  # "sentence", "item", "title", "heading", "table", "code", "rule"
    start: int
    end: int
    paragraph: int  # units of one paragraph (or list) share it
    lead_in: str | None = None  # an item's introducing sentence, without its colon

    @property
    def checked(self) -> bool:
        return self.kind in ("sentence", "item")


def units(text: str, title: tuple[int, int] | None = None) -> list[Unit]:
    """The article's units in order; sentences are cut within each paragraph. `title`, the span
    of the article's title line (`sentences.title_line`), is a unit of its own."""
    found = [Unit("title", *title, paragraph=0)] if title else []
    in_code = False
    for paragraph, (start, end) in enumerate(_blocks(text, title[1] if title else 0),
                                             start=len(found)):
        for line_start, line_end in _lines(text, start, end):
            line = text[line_start:line_end]
            if _FENCE.match(line):
                in_code = not in_code
                found.append(Unit("code", line_start, line_end, paragraph))
                continue
            kind = "code" if in_code else _structure_kind(line)
            if kind:
                found.append(Unit(kind, line_start, line_end, paragraph))
        if in_code or all(_structure_kind(text[s:e]) for s, e in _lines(text, start, end)):
            continue
        found.extend(_prose(text, start, end, paragraph, found))
    return sorted(found, key=lambda u: u.start)


def plain(text: str) -> str:
    """A unit's wording without Markdown: link texts kept, emphasis and quote markers dropped."""
    text = _QUOTE.sub("", text) if _QUOTE.match(text) else text
    text = _LINK.sub(r"\1", text)
    return " ".join(_EMPHASIS.sub(r"\2", text).split())


def _blocks(text: str, after: int = 0) -> list[tuple[int, int]]:
    """Paragraph spans: text between blank lines, from `after` on."""
    spans, start = [], 0
    for match in re.finditer(r"\n[ \t]*\n", text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    spans = [(max(s, after), e) for s, e in spans if e > after]
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, position = [], start
    for line in text[start:end].split("\n"):
        stripped = line.strip()
        if stripped:
            offset = position + line.index(stripped)
            spans.append((offset, offset + len(stripped)))
        position += len(line) + 1
    return spans


def _structure_kind(line: str) -> str | None:
    if _HEADING.match(line):
        return "heading"
    if _TABLE_ROW.match(line) and line.startswith("|"):
        return "table"
    if _RULE.match(line):
        return "rule"
    return None


def _prose(text: str, start: int, end: int, paragraph: int, before: list[Unit]) -> list[Unit]:
    """The sentences and list items of one paragraph, skipping its structure lines."""
    found: list[Unit] = []
    lines = [(s, e) for s, e in _lines(text, start, end) if not _structure_kind(text[s:e])]
    run: list[tuple[int, int]] = []  # consecutive lines of running text
    for s, e in lines:
        item = _ITEM.match(text, s, e)
        if item:
            found.extend(_sentences(text, run, paragraph))
            run = []
            lead = _lead_in(text, found or [u for u in before if u.checked])
            found.append(Unit("item", item.end(), e, paragraph, lead))
        else:
            run.append((s, e))
    return found + _sentences(text, run, paragraph)


def _sentences(text: str, run: list[tuple[int, int]], paragraph: int) -> list[Unit]:
    if not run:
        return []
    start, end = run[0][0], run[-1][1]
    quote = _QUOTE.match(text, start, end)
    start = quote.end() if quote else start
    return [Unit("sentence", start + s, start + e, paragraph)
            for s, e in split_sentences(text[start:end])]


def _lead_in(text: str, before: list[Unit]) -> str | None:
    """The sentence before a list, when it ends in a colon: 'The budget includes'."""
    if not before:
        return None
    last = before[-1]
    if last.kind == "item":
        return last.lead_in
    wording = plain(text[last.start : last.end])
    return wording[:-1].rstrip() if wording.endswith(":") else None
