"""Finding a sentence an LLM says it copied (a claim's source, a judgement's quote) in the text it
read: exactly after normalising, else the closest sentence when it is close enough.

Normalising folds what models change when they copy: case, runs of whitespace, curly quotes,
dashes, non-breaking and zero-width spaces, compatibility forms (NFKC).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache

from factcheck.sentences import split_sentences

_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-",
    "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None,
    "\ufeff": None,
})
# A copy this close to a sentence of the text (difflib ratio, normalised) is that sentence.
CLOSE_ENOUGH = 0.8


@lru_cache(maxsize=4096)  # an article is searched once per claim, a passage once per quote
def normalised(text: str) -> tuple[str, tuple[int, ...]]:
    """`text` folded, and for each character of the result the offset it came from in `text`."""
    folded: list[str] = []
    origins: list[int] = []
    for offset, char in enumerate(text):
        for piece in unicodedata.normalize("NFKC", char).translate(_FOLD).casefold():
            if piece.isspace():
                if not folded or folded[-1] == " ":
                    continue  # runs of whitespace are one space; none at the start
                piece = " "
            folded.append(piece)
            origins.append(offset)
    while folded and folded[-1] == " ":
        folded.pop()
        origins.pop()
    return "".join(folded), tuple(origins)


def find(copy: str, text: str) -> tuple[int, int] | None:
    """Span of `text` that `copy` reproduces after normalising both, or None."""
    needle, _ = normalised(copy)
    if not needle:
        return None
    haystack, origins = normalised(text)
    at = haystack.find(needle)
    if at < 0:
        return None
    return origins[at], origins[at + len(needle) - 1] + 1


Span = tuple[int, int]


def locate(copy: str, text: str, sentences: list[Span] | None = None
           ) -> tuple[Span | None, Span | None]:
    """Where `text` holds `copy`: found after normalising, else its sentence CLOSE_ENOUGH to
    `copy`, else None; and the span to show for `copy`: that one, else the sentence most like it.

    sentences: `text`'s sentence spans, from a caller that looks for many copies in one text.
    """
    if (span := find(copy, text)) is not None:
        return span, span
    closest, score = most_similar(copy, text, split_sentences(text) if sentences is None
                                  else sentences)
    return (closest if score >= CLOSE_ENOUGH else None), closest


def whole_sentences(span: tuple[int, int], text: str) -> tuple[int, int]:
    """`span` widened to the sentences of `text` it touches (a quote copied without its full
    stop is shown as its sentence)."""
    touched = [(a, b) for a, b in split_sentences(text) if a < span[1] and b > span[0]]
    return (touched[0][0], touched[-1][1]) if touched else span


def most_similar(
    target: str, text: str, spans: list[tuple[int, int]]
) -> tuple[tuple[int, int] | None, float]:
    """The span of `text` most similar to `target` (difflib ratio, normalised) and its score."""
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(normalised(target)[0])  # seq2 is the one SequenceMatcher caches
    best: tuple[int, int] | None = None
    best_score = -1.0
    for span in spans:
        matcher.set_seq1(normalised(text[span[0] : span[1]])[0])
        # The cheap upper bounds skip most sentences without the full comparison.
        if matcher.real_quick_ratio() <= best_score or matcher.quick_ratio() <= best_score:
            continue
        score = matcher.ratio()
        if score > best_score:
            best, best_score = span, score
    return best, best_score


def word_form(text: str) -> str:
    """Lower-case words and digits, single-spaced: a wording compared or grouped as words."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())
