"""Who a sentence says a statement comes from: 'Maria Zakharova, the ministry', 'police',
'unnamed source', or None when the sentence names no one.

    >>> speaker("The ministry’s spokeswoman, Maria Zakharova, said five Russians died.")
    'Maria Zakharova, the ministry'

Rules, not a parser: the agent of "according to X" or "… revealed by X", else the subject of
the first speech verb ("X said", "X told reporters"), else a trailing "…, X said". A person is
the last two words of a run of capitalised words ("Baltic Separate Cossack District Maxim Buga"
-> "Maxim Buga", with the rest of the run as the affiliation); a pronoun or "a source" is an
unnamed source: the sentence does not say who.
"""

from __future__ import annotations

import re

from factcheck.decontext import ORG_HEADS

UNNAMED = "unnamed source"
_SPEECH = (
    "said|says|say|told|tells|added|adds|stated|states|claimed|claims|insisted|insists|charged|"
    "reported|reports|announced|announces|confirmed|confirms|estimated|estimates|wrote|writes|"
    "noted|notes|alleged|maintained|maintains|revealed|reveals|tweeted|declared|admitted"
)
_AGENT = re.compile(
    rf"\baccording to (?P<a>[^,.;:“”\"()]+)|\b(?:is|was|were|are|been|being) (?:{_SPEECH}|given|"
    rf"put|released|published) by (?P<b>[^,.;:“”\"()]+)", re.IGNORECASE)
_VERB = re.compile(rf"\b(?:{_SPEECH})\b")
_TRAILING = re.compile(rf",\s*(?P<who>[^,“”\"]{{2,60}}?)\s+(?:{_SPEECH})\s*[,.]?\s*$|"
                       rf"\b(?:said|says)\s+(?P<after>[A-Z][^,.;“”\"]{{2,60}})[.]?\s*$")
_PASSIVE = re.compile(r"\b(?:is|was|were|are|been|being|be)\s+$", re.IGNORECASE)
_UNNAMED = re.compile(
    r"^(?:it|he|she|they|we|i|you|this|that|one|someone|somebody|a source|sources|one source|"
    r"an official|a spokesman|a spokeswoman|a spokesperson)$", re.IGNORECASE)
_SKIP_SEGMENT = re.compile(r"^(?:who|which|whose|where|when|however|meanwhile|also)\b",
                           re.IGNORECASE)
_CAPITALISED = re.compile(r"(?:[A-Z][\w’'-]*\.?)(?:\s+(?:[A-Z][\w’'-]*\.?))*")
_MOST_WORDS = 14  # a subject longer than this is not the speaker's name but a clause


def speaker(sentence: str) -> str | None:
    """Who gives the statement, as the sentence says it; None when it names no one."""
    text = _quotes_out(re.sub(r"\s*\([^()]*\)", "", sentence)).strip()
    found, trailing = _AGENT.search(text), _TRAILING.search(text)
    if found:
        phrase = found.group("a") or found.group("b")
    elif trailing and trailing.group("after"):  # "…, said John Smith."
        phrase = trailing.group("after")
    else:
        phrase = _subject(text) or (trailing.group("who") if trailing else None)
    return _display(phrase) if phrase else None


def _quotes_out(text: str) -> str:
    # A verb inside a quotation is the quoted person's, not the reporter's attribution.
    return re.sub(r"“[^”]*”|\"[^\"]*\"", "“…”", text)


def _subject(text: str) -> str | None:
    for verb in _VERB.finditer(text):
        before = text[: verb.start()]
        if _PASSIVE.search(before) or not before.strip():
            continue
        segments = [s.strip() for s in before.split(",")]
        apposition = before.rstrip().endswith(",")  # "The spokeswoman, Maria Zakharova, said"
        while segments and (not segments[-1] or _SKIP_SEGMENT.match(segments[-1])):
            segments.pop()
        if not segments or len(segments[-1].split()) > _MOST_WORDS:
            return None
        subject = segments[-1]
        if apposition and len(segments) > 1 and len(segments[-2].split()) <= 6:
            return f"{subject}, {segments[-2]}"
        return subject
    return None


def _display(phrase: str) -> str:
    """'The ministry’s spokeswoman' -> 'the ministry'; a run ending in a person's name -> the
    name, then the rest of the run (the affiliation)."""
    parts = [p.strip() for p in phrase.split(",", 1)]
    main, role = parts[0], (parts[1] if len(parts) > 1 else None)
    if _UNNAMED.match(main):
        return UNNAMED
    name, affiliation = _person(main)
    if name is None:
        return _lower_first(main)
    role_org = _affiliation_of(role) if role else None
    extra = role_org or affiliation
    return f"{name}, {extra}" if extra else name


def _person(phrase: str) -> tuple[str | None, str | None]:
    """The person a phrase names and the capitalised words before the name (an affiliation)."""
    runs = [m.group() for m in _CAPITALISED.finditer(phrase)]
    if not runs:
        return None, None
    words = runs[-1].split()
    if words[-1].lower() in ORG_HEADS or len(words) < 2 or not phrase.endswith(runs[-1]):
        return None, None
    size = 3 if len(words) >= 3 and re.fullmatch(r"[A-Z]\.", words[-2]) else 2
    rest = " ".join(words[:-size])
    return " ".join(words[-size:]), (rest or None)


def _affiliation_of(role: str) -> str | None:
    # "the ministry’s spokeswoman" -> "the ministry"; "a spokesman for the army" -> "the army".
    owner = re.match(r"^(.+?)[’']s\s+\w+$", role)
    if owner:
        return _lower_first(owner.group(1))
    of = re.search(r"\b(?:of|for|at)\s+(.+)$", role)
    return _lower_first(of.group(1)) if of else _lower_first(role)


def _lower_first(phrase: str) -> str:
    # "The ministry" opens the sentence: the capital is the sentence's, not the name's.
    first, _, rest = phrase.partition(" ")
    if first in {"The", "A", "An", "Its", "Their", "His", "Her"} or (first.istitle() and (
            first.lower() in {"police", "officials", "reports", "sources", "witnesses"})):
        return f"{first.lower()} {rest}".strip()
    return phrase
