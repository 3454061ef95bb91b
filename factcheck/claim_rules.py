"""Plain rules for what is not a claim: sentences nobody could check, whatever their score.

Questions, greetings, fragments, headings, captions (no verb: "Pro-regime forces in the ruined
city of Deir Ezzor."), quoted opinions without a checkable core, speculation ("If those numbers
hold, it could be…"), and opinions in the first person. They need no model: each rule names
the shape it drops, and `reason` says which one did.
"""

from __future__ import annotations

import re

from factcheck.numbers import quantities

MIN_WORDS = 5  # shorter fragments ("Absolutely.", "That's right, Bill.") state nothing checkable
MAX_CAPTION_WORDS = 20  # a longer sentence without a verb we can see is more likely our miss
QUOTED_OPINION_SHARE = 0.4  # a sentence this much inside quotation marks is the quote's

_GREETING = re.compile(
    r"^\W*(good (morning|afternoon|evening|night)|thank you|thanks|hello|hi|hey|welcome|"
    r"ladies and gentlemen|goodbye|bye|congratulations)\b",
    re.IGNORECASE,
)
_OPINION_START = re.compile(
    r"^\W*((so|well|and|but|now|look|frankly|honestly|yes|no),?\s+)?"  # "So, I think ..."
    r"(i (think|believe|feel|hope|guess|suppose)|in my (view|opinion)|"
    r"(we|you|they|he|she|i|everyone|somebody) (should|must|ought to|need to))\b",
    re.IGNORECASE,
)
_CAPTION_START = re.compile(
    r"^\W*(photo|picture|pictured|image|video|figure|fig\.|chart|graphic|map|table|source|"
    r"credit|file photo)\b\s*\d*\s*[:.|–—-]", re.IGNORECASE)
_CONDITIONAL = re.compile(r"^\W*((of course|but|and|so|now),?\s+)?(even )?(if|unless|should)\b",
                          re.IGNORECASE)
# A sentence that opens with a quotation and then says who said it: the quotation is its statement.
_QUOTE_THEN_SPEAKER = re.compile(
    r"^\W*[“\"]([^”\"]+)[”\"],?\s+([\w.’'-]+\s+){0,4}?(said|says|added|adds|told|insisted|"
    r"asked|warned|claimed|stated)\b")
_MONTH = (r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?")
# "Water authority report, 2 August": a short line that ends in its date.
_DATELINE = re.compile(r"^[^.!?]{0,60},\s*(\d{1,2}\s+" + _MONTH + r"|" + _MONTH +
                       r"\s+\d{1,2})(,?\s+\d{4})?\W*$", re.IGNORECASE)
_MODAL = re.compile(r"\b(could|might|may|would)\b", re.IGNORECASE)
_QUOTED = re.compile(r"[“\"]([^”\"]*)[”\"]")
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
_TOKEN = re.compile(r"[A-Za-z][\w'’-]*|\d[\d,.]*")

# Finite verbs a caption lacks: auxiliaries and modals, and common irregular past forms.
_AUX = {
    "is", "are", "was", "were", "am", "has", "have", "had", "do", "does", "did", "will",
    "would", "can", "could", "may", "might", "must", "shall", "should", "isn't", "aren't",
    "wasn't", "weren't", "hasn't", "haven't", "hadn't", "don't", "doesn't", "didn't", "won't",
    "can't", "couldn't", "wouldn't", "shouldn't",
}
_IRREGULAR = {
    "said", "told", "took", "made", "gave", "found", "thought", "saw", "came", "became",
    "began", "fell", "rose", "won", "lost", "held", "kept", "left", "met", "paid", "sent",
    "spent", "stood", "struck", "fought", "led", "built", "brought", "bought", "caught", "felt",
    "heard", "knew", "ran", "grew", "drew", "wrote", "spoke", "broke", "chose", "drove", "sold",
    "meant", "got", "went", "sat", "shot", "flew", "threw", "swept", "fled", "sought", "hit",
    "cut", "put", "set", "hurt", "quit", "split", "spread", "shut", "let", "cost", "beat",
}
# Verbs in their base form ("Reservoirs fall", "Mitochondria play"); their -s forms are verbs too
# ("RTEL1 interacts with", "recruitment varies with"), whatever follows.
_BASE = {
    "say", "fall", "rise", "show", "remain", "want", "need", "hold", "face", "plan", "expect",
    "warn", "claim", "deny", "agree", "call", "seek", "vote", "win", "lose", "drop", "climb",
    "soar", "plunge", "reach", "grow", "double", "reject", "approve", "urge", "fear", "hope",
    "believe", "think", "know", "make", "take", "give", "get", "go", "come", "keep", "pay",
    "cost", "top", "hit", "kill", "die", "return", "stay", "begin", "continue", "include",
    "accuse", "blame", "report", "suggest", "estimate", "confirm", "increase", "reduce",
    "decrease", "promote", "produce", "provide", "lead", "regulate", "enforce", "affect",
    "participate", "play", "cause", "prevent", "inhibit", "induce", "improve", "require",
    "contain", "occur", "interact", "vary", "result", "depend", "contribute", "correlate",
    "suppress", "enhance", "activate", "bind", "mediate", "control", "protect", "drive",
    "trigger", "share", "lack", "receive", "represent", "support", "oppose", "employ", "serve",
    "spend", "earn", "own", "live", "work", "exist", "happen", "apply", "belong", "consist",
    "differ", "respond", "rely", "emerge", "arise", "derive", "stem", "fail", "succeed",
    "allow", "enable", "block", "limit", "raise", "lower", "cut", "extend", "open", "close",
    "destroy", "damage", "threaten", "replace", "exceed", "account", "suffer", "benefit",
}
_NOT_BEFORE_VERB = {
    "the", "a", "an", "this", "that", "these", "those", "its", "their", "his", "her", "our",
    "my", "your", "of", "in", "on", "at", "for", "from", "with", "by", "to", "and", "or",
    "over", "under", "about", "into", "near", "per", "some", "many", "most", "all", "no",
}
# Words after which a base or -s form is a verb: "They now want", "Spending almost doubles".
_PRONOUNS = {"i", "we", "you", "they", "it", "he", "she", "who"}
_ADVERBS = {
    "now", "also", "still", "often", "nearly", "almost", "just", "already", "usually", "never",
    "rarely", "only", "even", "then",
}
_PREPOSITIONS = {
    "in", "on", "at", "of", "for", "from", "with", "by", "near", "over", "under", "into",
    "during", "after", "before", "across", "around", "between", "and", "or",
}


def is_checkable(sentence: str) -> bool:
    """False for sentences no one could check (see `reason`); True otherwise."""
    return reason(sentence) is None


def reason(sentence: str) -> str | None:
    """Why `sentence` is not a claim ("question", "caption", ...), or None when it may be."""
    text = " ".join(sentence.split())
    if not text:
        return "empty"
    if text.rstrip("”\"'’ ").endswith("?"):
        return "question"
    if _GREETING.match(text):
        return "greeting"
    if _CAPTION_START.match(text) or _DATELINE.match(text):
        return "caption"
    if text.endswith(":"):
        return "fragment"  # a lead-in: what follows it carries the statement
    if len(text.split()) < MIN_WORDS:
        return "fragment"
    return _shape_reason(text)


def _shape_reason(text: str) -> str | None:
    has_figure = bool(quantities(text))
    if _OPINION_START.match(text.lstrip("“\"'‘ ")) and not has_figure:
        return "opinion"  # "I think we should..." is an opinion unless it carries a figure
    if _is_heading(text):
        return "heading"
    if (condition := _CONDITIONAL.match(text)) and not has_figure and _speculates(
            text[condition.end():]):
        return "speculation"
    if _is_quoted_opinion(text):
        return "quoted opinion"
    if len(text.split()) <= MAX_CAPTION_WORDS and not has_figure and not has_finite_verb(text):
        return "caption"
    return None


def _is_heading(text: str) -> bool:
    # Title Case Lines Without A Full Stop are headings; "USA airstrike destroys tank" is kept.
    words = [w for w in _WORD.findall(text) if len(w) > 3]
    if text[-1] in ".!\"”'’" or not words:
        return False
    return sum(w[0].isupper() for w in words) / len(words) >= 0.8


def _speculates(condition: str) -> bool:
    """An 'if' sentence with no main clause, or one that only says what could happen."""
    main = condition.split(",", 1)[1] if "," in condition else ""
    return not main.strip() or bool(_MODAL.search(main))


def _is_quoted_opinion(text: str) -> bool:
    """Mostly a quotation, and the quotation names nothing and counts nothing."""
    quoted = _quoted_parts(text)
    if not quoted:
        return False
    words = sum(len(part.split()) for part in quoted)
    if words < QUOTED_OPINION_SHARE * len(text.split()) and not _QUOTE_THEN_SPEAKER.match(text):
        return False
    return not any(has_checkable_core(part) for part in quoted)


def _quoted_parts(text: str) -> list[str]:
    parts = _QUOTED.findall(text)
    opened, closed = text.count("“"), text.count("”")
    if opened > closed:  # a quotation that goes on into the next sentence
        parts.append(text[text.rindex("“") + 1 :])
    elif closed > opened:  # one that began in the sentence before
        parts.append(text[: text.index("”")])
    return [p for p in parts if p.strip()]


def has_checkable_core(text: str) -> bool:
    """A figure, or a name (a capitalised word that does not start the text and is not 'I')."""
    if quantities(text) or any(c.isdigit() for c in text):
        return True
    words = _WORD.findall(text)
    return any(w[0].isupper() and w not in {"I", "I'm", "I’m"} for w in words[1:])


def has_finite_verb(text: str) -> bool:
    """True when some word can be the sentence's verb; a caption has none."""
    return _first_verb(text) is not None


def has_sure_verb(text: str) -> bool:
    """True when a word is surely a verb: an auxiliary, a past form after a noun ('was',
    'said', 'estimated'); not a word in -s, which may be a plural ('proteins')."""
    return _first_verb(text, sure=True) is not None


def _first_verb(text: str, sure: bool = False) -> tuple[int, int] | None:
    """(word index, character offset) of the first word that can be the sentence's verb."""
    tokens = list(_TOKEN.finditer(text))
    # "14 May" is a date: the month is no modal.
    words = [t.group().lower().replace("’", "'") if t.group() != "May" or not n else "may-month"
             for n, t in enumerate(tokens)]
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        if (word in _AUX or _is_verb_contraction(word)
                or (word in _IRREGULAR and before not in {"the", "a", "an"})
                or (i and _looks_finite(words, i, sure))):
            return i, tokens[i].start()
    return None


def starts_with_verb(text: str) -> bool:
    """True when the first word is a verb that needs a subject before it: 'has', 'said'."""
    words = text.split()
    first = words[0].lower().strip(",") if words else ""
    return first in _AUX or first in _IRREGULAR or (first.endswith("ed") and len(first) > 4)


def subject_of(text: str, most: int = 8) -> str | None:
    """The words before the sentence's first verb ('The company' of 'The company estimated…'),
    or None when no verb comes within `most` words."""
    found = _first_verb(text)
    if found is None or found[0] == 0 or found[0] > most:
        return None
    return text[: found[1]].rstrip(" ,") or None


def _stem(word: str) -> str:
    """'interacts' -> 'interact', 'varies' -> 'vary', 'reaches' -> 'reach'."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def _is_verb_contraction(word: str) -> bool:
    # "they're", "I've", "it'll", "I'd", "I'm"; "'s" only after a pronoun ("Russia's" owns).
    if word.endswith(("'re", "'ve", "'ll", "'d", "'m", "n't")):
        return True
    return word.endswith("'s") and word[:-2] in {"he", "she", "it", "that", "there", "what",
                                                "who", "here", "where", "let"}


def _looks_finite(words: list[str], i: int, sure: bool = False) -> bool:
    word, before = words[i], words[i - 1]
    after = words[i + 1] if i + 1 < len(words) else ""
    if before in _NOT_BEFORE_VERB:
        return False
    if word in _PREPOSITIONS or word in _NOT_BEFORE_VERB:
        return False
    if before in _PRONOUNS or (i > 1 and words[i - 2] in _PRONOUNS and before in _ADVERBS):
        return True  # "They now want", "we still rank"
    if word.endswith("ed") and len(word) > 4 and "-" not in word:
        return True  # "strike killed", "officials warned"; "the ruined city" fails above
    if sure:
        return False
    adverb = before in _ADVERBS or before.endswith("ly")
    if word in _BASE or _stem(word) in _BASE:
        return True  # "Reservoirs fall", "RTEL1 interacts with", "Spending almost doubles"
    plural_or_verb = word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3
    # "Pro-regime forces in the city" is a caption; "…in prostate stroma results in…" a claim.
    return plural_or_verb and (adverb or (bool(after) and (after not in _PREPOSITIONS or i >= 3)))
