"""Self-contained claims: what a sentence leans on, taken from the sentences before it.

A sentence of an article often leans on an earlier one: "It said…", "She said…", "The company
estimated…", "…in the attack". A claim read alone (in a search, in a Telegram message, a week
later) must carry what it refers to. Rules, each one that a reader would agree with:

- "He/She …" is the one person the sentence before names ("She said" -> "Mayor Ines Dorr said");
- "It said/added/plans …" is the one organisation the sentence before names;
- "The company / the council / the warehouse …" at the start is the last earlier mention of the
  same noun that says more ("Norvale Logistics", "Riverton city council", "the grain warehouse
  at the port of Allard");
- "the attack / the clash / the incident …" is the article's event, named where the article first
  gives it with a name or place ("USA airstrike in Syria");
- an unnamed speaker ("It said …" with no organisation before) becomes "A source said …".

What no rule resolves ("They are thought to be…", "that battalion-sized unit") stays as written,
marked not self-contained, with the sentence before it as its context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from factcheck.claim_rules import starts_with_verb, subject_of
from factcheck.numbers import singular

_PRONOUN = re.compile(r"^(It|He|She|They)\s+(\w+)")
# "It" followed by these is no pronoun but the subject slot ("It took seven hours to…").
_EXPLETIVE_NEXT = {
    "is", "was", "took", "takes", "seems", "seemed", "appears", "appeared", "remains",
    "remained", "looks", "looked", "would", "could", "will", "may", "might", "must", "has",
    "had", "'s", "’s", "isn't", "wasn't", "cannot", "can",
}
_SPEECH = {
    "said", "says", "added", "adds", "noted", "reported", "warned", "stated", "claimed",
    "denied", "announced", "insisted", "argued", "told", "confirmed", "charged", "wrote",
}
ORG_HEADS = {
    "ministry", "service", "authority", "agency", "council", "committee", "government",
    "company", "department", "office", "army", "military", "police", "court", "commission",
    "bank", "union", "coalition", "institute", "logistics", "group", "corporation", "board",
    "party", "firm", "university", "hospital", "federation", "association", "organisation",
    "organization", "newspaper", "network", "station", "channel",
}
_ROLE_HEADS = {"official", "officials", "spokesman", "spokeswoman", "spokesperson", "source"}
_NOT_ANAPHORS = {
    "fact", "reason", "problem", "idea", "result", "rest", "same", "first", "last", "way",
    "number", "majority", "truth", "question", "answer", "world", "future", "past", "end",
    "claim",
}
EVENT_NOUNS = {
    "attack", "attacks", "airstrike", "airstrikes", "strike", "strikes", "clash", "clashes",
    "fire", "blaze", "explosion", "blast", "raid", "crash", "flood", "storm", "earthquake",
    "shooting", "bombing", "incident", "engagement", "fighting", "toll",
}
_TITLES = {"mayor", "president", "minister", "senator", "governor", "dr", "general", "chairman",
           "secretary", "judge", "professor", "prof", "mr", "mrs", "ms"}
_NOT_NAMES = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
    "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "the", "a", "an", "it", "he", "she", "they", "we", "i",
}
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "its", "their", "his", "her"}
_FUNCTION = _DETERMINERS | {
    "of", "in", "on", "at", "for", "from", "by", "with", "to", "and", "or", "but", "as", "said",
    "was", "were", "is", "are", "has", "have", "had", "will", "would", "that", "which", "who",
    "over", "after", "before", "since", "than", "not", "no", "it", "he", "she", "they",
}
_TOKEN = re.compile(r"[A-Za-z](?:\.[A-Za-z])+\.?|[\w’'-]+|[^\w\s]")
_EVENT_ANAPHOR = re.compile(
    r"\b(the|this|that|last week['’]s|yesterday['’]s)\s+((?:[a-z-]+\s+)?)(" +
    "|".join(sorted(EVENT_NOUNS)) + r")\b(?!\s+(?:in|at|on|near|of)\s+(?:the\s+)?[A-Z0-9])",
    re.IGNORECASE)
# "members of that battalion-sized unit": a demonstrative after a preposition points back.
_DEMONSTRATIVE = re.compile(
    r"\b(of|in|by|from|at|on|with|for|among|about|to)\s+(that|those|these|this)\s+(?!(newspaper|"
    r"paper|week|year|month|morning|afternoon|evening|time|story|article|report)\b)[a-z-]+")
_PLACES = ("base", "city", "town", "port", "site", "area", "village", "region", "province",
           "hall", "plant", "facility", "camp", "outpost", "building", "warehouse")
_PLACE_OBJECT = re.compile(
    r"\b(the)\s+((?:[a-z-]+\s+)?)(" + "|".join(_PLACES) +
    r")\b(?!['’]s)(?!\s+(?:of|in|at|near)\s+(?:the\s+)?[A-Z])")
_LEANING_START = re.compile(r"^(As a result|Because of this|In response|This|That)\b")


@dataclass(frozen=True)
class Wording:
    """A claim's wording, whether it reads alone, and the sentence it leans on if not."""

    text: str
    self_contained: bool
    context: str | None = None


class Resolver:
    """Reads an article's sentences in order and words each one to read alone."""

    def __init__(self) -> None:
        self.read: list[str] = []  # the sentences so far, as resolved
        self._event: tuple[str, str] | None = None

    def add(self, sentence: str) -> None:
        """A sentence read but not claimed (a caption, a question): an antecedent all the same."""
        self.read.append(sentence)

    def resolve(self, wording: str) -> Wording:
        """`wording` made to read alone where a rule can; marked with its context where not."""
        if not self.read:  # the article's first sentence leans on nothing
            return Wording(wording, True)
        context = self.read[-1]
        text, leaning = self._leading_pronoun(wording)
        text, leaning_np = self._subject_noun(text)
        text, leaning_place = self._place_objects(text)
        text = self._event_references(text)
        unresolved = leaning or leaning_np or leaning_place or bool(_LEANING_START.match(text)) or bool(
            _DEMONSTRATIVE.search(_without_events(text)))
        return Wording(text, not unresolved, context if unresolved else None)

    def event(self) -> tuple[str, str] | None:
        """The article's event as it first names it with a name or a place, if it does:
        (its noun, its phrase), e.g. ('fire', 'fire at Port Allard')."""
        if self._event is None:
            self._event = next((e for s in self.read if (e := _event_phrase(s))), None)
        return self._event

    def _leading_pronoun(self, text: str) -> tuple[str, bool]:
        match = _PRONOUN.match(text)
        if not match or (match.group(1) == "It" and match.group(2).lower() in _EXPLETIVE_NEXT):
            return self._expletive_object(text), False
        pronoun, verb = match.group(1), match.group(2).lower()
        previous = self.read[-1] if self.read else ""
        found = None
        if pronoun in ("He", "She"):
            found = _single(people(previous))
        elif pronoun == "It":
            found = _first(organisations(previous))
        if found:
            return found[:1].upper() + found[1:] + text[len(pronoun):], False
        if verb in _SPEECH:  # the content is checkable; who said it is not known here
            return "A source" + text[len(pronoun):], True
        return text, True

    def _expletive_object(self, text: str) -> str:
        # "It took 120 firefighters seven hours to bring it under control": "it" is the event.
        event = self.event()
        if event and re.match(r"^It took\b", text) and re.search(r"\bit\b", text[3:]):
            return text[:3] + re.sub(r"\bit\b", f"the {event[1]}", text[3:], count=1)
        return text

    def _subject_noun(self, text: str) -> tuple[str, bool]:
        found = _subject_phrase(text)
        if found is None:
            return text, False
        end, modifiers, head = found
        has_name = any(w[:1].isupper() for w in modifiers)
        if has_name and head.lower() not in _ROLE_HEADS:
            return text, False
        antecedent = self._antecedent(head, modifiers)
        if antecedent is None:
            return text, True
        return antecedent[:1].upper() + antecedent[1:] + text[end:], False

    def _antecedent(self, head: str, modifiers: list[str]) -> str | None:
        """The last earlier mention of `head` that says more, with the same modifiers."""
        for sentence in reversed(self.read):
            for phrase in reversed(mentions(sentence, head)):
                words = phrase.lower().split()
                if (_says_more(phrase, len(modifiers) + 1) and _same_number(words, head)
                        and all(m.lower() in words for m in modifiers)):
                    return phrase
        return None

    def _event_references(self, text: str) -> str:
        event = self.event()
        if not event or _event_phrase(text) == event:
            return text
        noun, phrase = event

        for match in _EVENT_ANAPHOR.finditer(text):
            if match.group(3).lower() != "toll" and _compound(text[match.end():]):
                continue  # "the fire service" is no fire
            if match.group(3).lower() == noun and not match.group(2):
                named = f"{match.group(1)} {phrase}"  # "the fire" -> "the fire at Port Allard"
            else:
                named = f"{match.group(0)} ({phrase})"
            return text[: match.start()] + named + text[match.end():]
        return text

    def _place_objects(self, text: str) -> tuple[str, bool]:
        """'…was at the base': a place named before, or a leaning reference when none is."""
        for match in _PLACE_OBJECT.finditer(text):
            if match.start() == 0:
                continue
            modifiers = match.group(2).split()
            antecedent = self._antecedent(match.group(3), modifiers)
            if antecedent is None:
                return text, True
            return text[: match.start()] + antecedent + text[match.end():], False
        return text, False


def _subject_phrase(text: str) -> tuple[int, list[str], str] | None:
    """'The company estimated…' -> (end of 'The company', [], 'company'): a short definite
    subject (at most two words after 'The') that is not followed by what specifies it."""
    subject = subject_of(text)
    if not subject or not subject.startswith("The "):
        return None
    words = []
    for word in re.finditer(r"[\w-]+", subject[4:]):
        if not _modifier(word.group()):
            return None  # "The fact that…", "The U.S. strike in Syria…": not a bare noun
        words.append(word)
        if subject[4 + word.end():].startswith(("’s", "'s")):
            break
    if not words or len(words) > 2:
        return None
    end, head = 4 + words[-1].end(), words[-1].group()
    if head.lower() in _NOT_ANAPHORS | EVENT_NOUNS:
        return None
    return end, [w.group() for w in words[:-1]], head


def people(sentence: str) -> list[str]:
    """Names of people in a sentence: runs of two or more capitalised words, a title before."""
    tokens = _TOKEN.findall(sentence)
    found, run = [], []
    for n, token in enumerate(tokens + ["."]):
        capital = token[:1].isupper() and token.isalpha() and token.lower() not in _NOT_NAMES
        if capital and token.lower() not in ORG_HEADS and n:
            run.append(token)
            continue
        names = [w for w in run if w.lower() not in _TITLES]
        if len(names) >= 2 and not any(w.lower() in ORG_HEADS for w in run):
            found.append(" ".join(run))
        run = [token] if capital and token.lower() in _TITLES else []
    return list(dict.fromkeys(found))


def organisations(sentence: str) -> list[str]:
    """Organisations a sentence names, in order, as written: 'the regional fire service'."""
    found = [pair for head in ORG_HEADS for pair in _mentions_at(sentence, head)]
    return [phrase for _, phrase in sorted(found) if _says_more(phrase, 1)]


def mentions(sentence: str, head: str) -> list[str]:
    """Noun phrases of `sentence` whose noun is `head` (singular or plural), in order, each with
    its modifiers and a place after it ('the grain warehouse at the port of Allard'), or the
    name it stands beside ('Norvale Logistics, a company…' -> 'Norvale Logistics')."""
    return [phrase for _, phrase in _mentions_at(sentence, head)]


def _mentions_at(sentence: str, head: str) -> list[tuple[int, str]]:
    tokens = _TOKEN.findall(sentence)
    wanted = singular(head.lower())
    phrases = []
    for n, token in enumerate(tokens):
        if singular(token.lower()) != wanted or not token.isalpha():
            continue
        named = _apposed_name(tokens, n)
        phrases.append((n, named or _phrase(tokens, n)))
    return phrases


def _phrase(tokens: list[str], n: int) -> str:
    start = n
    while start > 0 and n - start < 3 and _modifier(tokens[start - 1]):
        start -= 1
    end = n + 1
    while tokens[n][:1].isupper() and end < len(tokens) and tokens[end][:1].isupper() and (
            tokens[end].isalpha()):
        end += 1  # "Port Allard"
    place = _place_after(tokens, end)
    words = tokens[start:place or end]
    article = "the " if start > 0 and tokens[start - 1].lower() in {"the", "a", "an"} else ""
    if not article and not words[0][:1].isupper():
        article = "the "
    return article + " ".join(words)


def _modifier(token: str) -> bool:
    return (token.isalpha() and token.lower() not in _FUNCTION and not token.endswith("ed")) or (
        "-" in token and token[:1].isalpha())


def _place_after(tokens: list[str], i: int) -> int | None:
    """End of 'at the port of Allard' after a noun: prepositions and words up to a name."""
    if i >= len(tokens) or tokens[i].lower() not in {"at", "in", "of", "near", "on"}:
        return None
    for j in range(i + 1, min(len(tokens), i + 6)):
        if tokens[j][:1].isupper() and tokens[j].isalpha():
            while j + 1 < len(tokens) and tokens[j + 1][:1].isupper() and tokens[j + 1].isalpha():
                j += 1
            return j + 1
        if not (tokens[j].isalpha() and (tokens[j].lower() in {"the", "of", "port", "city"}
                                         or tokens[j].islower())):
            return None
    return None


def _apposed_name(tokens: list[str], n: int) -> str | None:
    # "Norvale Logistics, a company that…": the noun stands for the name before the comma.
    if n < 3 or tokens[n - 1].lower() not in {"a", "an"} or tokens[n - 2] != ",":
        return None
    end, start = n - 2, n - 2
    while start > 0 and tokens[start - 1][:1].isupper() and tokens[start - 1].isalpha():
        start -= 1
    return " ".join(tokens[start:end]) if start < end else None


def _says_more(phrase: str, words: int) -> bool:
    content = [w for w in phrase.split() if w.lower() not in _DETERMINERS]
    return any(w[:1].isupper() for w in content) or len(content) > words


def _event_phrase(sentence: str) -> tuple[str, str] | None:
    tokens = _TOKEN.findall(sentence)
    for n, token in enumerate(tokens):
        if token.lower() not in EVENT_NOUNS - {"toll", "fighting", "incident", "engagement"}:
            continue
        start = n
        while start > 0 and n - start < 2 and tokens[start - 1][:1].isupper() and (
                tokens[start - 1].lower() not in _NOT_NAMES):
            start -= 1
        place = _place_in(tokens, n + 1)
        named = start < n
        if named or place:
            noun = " ".join(tokens[start:n] + [token.lower()])
            return token.lower(), noun + (f" {place}" if place else "")
    return None


def _place_in(tokens: list[str], i: int) -> str | None:
    """The first 'in Syria' / 'at Port Allard' / 'on February 7' after position i."""
    for j in range(i, len(tokens) - 1):
        if tokens[j] in {",", ";", "."}:
            return None
        if tokens[j].lower() in {"in", "at", "near", "on"} and tokens[j + 1][:1].isupper():
            end = j + 1
            while end < len(tokens) and (tokens[end][:1].isupper() or tokens[end].isdigit()):
                end += 1
            return " ".join(tokens[j:end])
    return None


def _same_number(words: list[str], head: str) -> bool:
    """'the officials' is no antecedent of 'the official' (a name standing for it is)."""
    wanted = head.lower()
    nouns = [w for w in words if singular(w) == singular(wanted)]
    return not nouns or any((w == singular(w)) == (wanted == singular(wanted)) for w in nouns)


def _compound(after: str) -> bool:
    """True when the word after an event noun makes it a modifier: 'fire service'."""
    word = re.match(r"\s+([a-z]+)\b", after)
    if not word:
        return False
    follower = word.group(1)
    return follower not in _FUNCTION and not starts_with_verb(follower) and not (
        follower.endswith("ly"))


def _without_events(text: str) -> str:
    return _EVENT_ANAPHOR.sub("", text)


def _single(found: list[str]) -> str | None:
    return found[0] if len(found) == 1 else None


def _first(found: list[str]) -> str | None:
    return found[0] if found else None
