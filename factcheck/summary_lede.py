"""The LLM's lede over a Summary: two or three sentences of prose, kept only when every number
it writes is the Summary's (its counts and window, or one inside a claim it quotes word for
word), so that the model never adds a figure of its own."""

from __future__ import annotations

import logging
import re

from factcheck.engines import engine_for
from factcheck.errors import FactcheckError
from factcheck.settings import Settings
from factcheck.summary import (
    LISTED,
    ContradictedClaim,
    OpenClaim,
    RepeatedClaim,
    Summary,
    facts,
)
from factcheck.textmatch import word_form

# The summary's logger: a dropped lede is a line of the summary's log.
logger = logging.getLogger("factcheck.summary")

_WORD_NUMBERS = {  # "one" too: as a pronoun it may cost a lede, never let a wrong count by
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "dozen": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100,
}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|\b(?:" + "|".join(_WORD_NUMBERS) + r")\b", re.IGNORECASE)


def lede(summary: Summary, settings: Settings) -> str | None:
    """Two or three sentences by the engine (the LLM's), or None: template only."""
    if summary.empty:
        return None
    try:
        text = engine_for(settings).write_lede(facts(summary))
    except FactcheckError as exc:
        logger.warning("summary lede dropped, the LLM failed: %s", exc)
        return None
    if text is None:  # an engine that writes no prose (offline)
        return None
    if invented := numbers_in(text) - allowed_numbers(summary, text):
        logger.warning("summary lede dropped: it has numbers the store does not (%s): %r",
                       ", ".join(sorted(invented)), text)
        return None
    return text


def allowed_numbers(summary: Summary, lede: str) -> set[str]:
    """The numbers a lede may write: the counts and the window, and those of claims it quotes."""
    listed: list[RepeatedClaim | ContradictedClaim | OpenClaim] = [
        *summary.repeated[:LISTED], *summary.contradicted[:LISTED], *summary.open_claims[:LISTED]]
    counts = [summary.articles, summary.claims, *summary.verdicts.values(),
              *summary.leans.values(),
              *(item.count for item in listed), len(summary.repeated),
              len(summary.contradicted), len(summary.open_claims)]
    allowed = {str(n) for n in counts} | numbers_in(summary.window)
    # A claim's own figures ("built in 1975") only inside the claim's words, not as a count.
    written = word_form(lede)
    for item in listed:
        if word_form(item.text) in written:
            allowed |= numbers_in(item.text)
    return allowed


def numbers_in(text: str) -> set[str]:
    """Every number written in `text` (digits and number words), normalised: '1,240' -> '1240'."""
    return {_number_key(match.group().lower()) for match in _NUMBER.finditer(text)}


def _number_key(token: str) -> str:
    if token in _WORD_NUMBERS:
        return str(_WORD_NUMBERS[token])
    token = token.replace(",", "")  # thousands separators
    return token.rstrip("0").rstrip(".") if "." in token else token
