"""Atomic claims: a sentence that joins two checkable statements becomes two, each with its span.

    >>> [w for _, _, w in split("Wagner is registered in Hong Kong and has no offices in Russia.")]
    ['Wagner is registered in Hong Kong', 'Wagner has no offices in Russia.']

A conjunction ("and", "but", "while", ";") splits only where both sides are statements: the
left has a verb, and the right either has its own subject and verb ("…, and the port authority
suspended night shifts") or shares the left's subject ("…and has no offices"). A right side
that reports the same speaker's words keeps the speaker ("The fire service said two workers
were hurt and no one was killed" -> "The fire service said no one was killed"); one that
speaks of the left's claim names it ("…said it was not involved, and the claim was accepted by
the US" -> "The claim of Russia's military that it was not involved … was accepted by the US").
"""

from __future__ import annotations

import re

from factcheck.claim_rules import has_sure_verb, starts_with_verb, subject_of

_JOIN = re.compile(r",?\s+(?:and|but|while|whereas)\s+|;\s+")
_SPEECH = re.compile(
    r"\b(said|says|added|told \w+|reported|stated|claimed|insisted|warned|announced|noted|"
    r"charged|argued|maintained)\b(\s+that)?\s+")
_CLAIM_SUBJECT = re.compile(
    r"(the (claim|statement|denial|assertion|report|account|allegation)|this|that)\s+",
    re.IGNORECASE)
_WORD = re.compile(r"[\w’'.-]+")
MIN_PART_WORDS = 3
_NOT_SUBJECT = {"not", "also", "then", "so", "yet", "still", "even", "only", "never", "now",
                "to", "in", "on", "at", "for", "with", "by", "from", "as", "if", "when"}


def split(sentence: str) -> list[tuple[int, int, str]]:
    """(start, end, wording) of each statement of `sentence`; offsets index the sentence."""
    for join in _JOIN.finditer(sentence):
        if _inside_quotes(sentence, join.start()):
            continue
        left, right = sentence[: join.start()], sentence[join.end() :]
        wording = _right_wording(left, right)
        if wording is None:
            continue
        rest = split(right)
        first = [(0, len(left.rstrip(" ,")), left.rstrip(" ,"))]
        if len(rest) == 1:
            return first + [(join.end(), len(sentence), wording)]
        # The right side splits again: its first part gets the wording built for it here.
        head = rest[0]
        parts = [(join.end() + head[0], join.end() + head[1],
                  _right_wording(left, right[: head[1]]) or head[2])]
        return first + parts + [(join.end() + s, join.end() + e, w) for s, e, w in rest[1:]]
    return [(0, len(sentence), sentence)]


def _right_wording(left: str, right: str) -> str | None:
    """The right side as a statement of its own, or None when it is not one."""
    if len(_WORD.findall(left)) < 4 or len(_WORD.findall(right)) < MIN_PART_WORDS:
        return None
    if not has_sure_verb(left):
        return None
    subject = subject_of(left)
    if _continues_subject(left, right):
        return f"{subject} {right}" if subject else None
    head = " ".join(right.split()[:5])
    first = right.split()[0].lower()
    if first in _NOT_SUBJECT or first.endswith("ly") or not has_sure_verb(head):
        return None  # "…but not yet signed" goes on the left's statement
    speech = _speech(left)
    if speech and (about := _CLAIM_SUBJECT.match(right)):
        speaker, said, _ = speech
        return f"The claim of {speaker} that {said} {right[about.end():]}"
    if speech:
        return f"{speech[0]} {speech[2]} {_lower_first(right)}"
    return _upper_first(right)


def _continues_subject(left: str, right: str) -> bool:
    """'…and has no offices', '…and said…': a verb that needs the left's subject. A word in
    -ed only after a left verb in -ed ('approved X and rejected Y'): else it may describe."""
    first = right.split()[0].lower()
    if not starts_with_verb(first):
        return False
    if first.endswith("ed") and not has_sure_verb(first):
        subject = subject_of(left) or ""
        verb = left[len(subject):].split()[:1]
        return bool(verb) and verb[0].lower().endswith("ed")
    return True


def _speech(left: str) -> tuple[str, str, str] | None:
    """(speaker, what they said, the speech verb) when the left side reports speech."""
    match = _SPEECH.search(left)
    if not match or not match.start():
        return None
    speaker = left[: match.start()].strip(" ,")
    if len(speaker.split()) > 8:
        return None
    return speaker, left[match.end() :].strip(" ,"), match.group(1)


def _inside_quotes(text: str, index: int) -> bool:
    before = text[:index]
    return before.count("“") > before.count("”") or before.count('"') % 2 == 1


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    # "No one was killed" after "said": lower-case, unless the word is a name ("US", "Wagner").
    first = text.split()[0] if text.split() else ""
    return text if first[1:2].isupper() or first in {"I"} else text[:1].lower() + text[1:]
