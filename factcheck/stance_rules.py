"""The offline judge's rules: what negation, numbers and words of change say about a claim and a
sentence.

Each (claim, sentence) pair is read for negation, null results, numbers (factcheck.numbers),
increase/decrease words, risk/protection and hedges, opposite wording and word overlap: the
RULE_NAMES features the stance model (factcheck.offline_stance) weighs. Two rules overrule the
model: a close sentence giving a different number for the same thing, or a near paraphrase
negating what the claim states, refutes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from factcheck.models import Stance
from factcheck.numbers import Quantity, comparable, quantities
from factcheck.textmatch import word_form

NUMBER_RULE_MIN_COS = 0.6  # below this the sentence may be about something else entirely
STATED_CONFIDENCE = 0.9  # as sure as the number rule at its most: the words are the source's
NEGATION_RULE_MIN_COS = 0.75  # only near paraphrases: "X reduces Y" / "X did not reduce Y"
_NEGATORS = {"not", "no", "never", "cannot", "fail", "fails", "failed", "lack", "lacks", "lacked"}
_CLAUSE_BREAK = re.compile(r"[,;:.!?()\[\]\"“”]")
_SCOPE_END = {"and", "but", "or", "which", "that", "who", "whom", "because", "while", "although",
              "though", "whereas", "since", "when", "where", "if", "unless", "than"}
_NEGATION_FILLER = {"be", "been", "is", "are", "was", "were", "to", "a", "an", "the", "any",
                    "significantly", "statistically", "further", "actually", "really"}
_NEGATION = re.compile(
    r"\b(not|no|never|none|neither|nor|without|cannot|fail(s|ed|ure)?|lacks?|lacking|lacked|"
    r"absen(t|ce)|unable|\w+n't)\b", re.IGNORECASE)
_NULL_RESULT = re.compile(
    r"\b(no|not|nor) (statistically )?(significant(ly)?|differ\w*|difference|association|"
    r"associated|effect|change|correlat\w*|impact|benefit|evidence)\b", re.IGNORECASE)
_UP = re.compile(
    r"\b(increas\w*|higher|greater|more|ris(e|es|ing)|rose|raise[sd]?|elevat\w*|enhanc\w*|"
    r"promot\w*|improv\w*|boost\w*|gain\w*|upregulat\w*|up-regulat\w*|induc\w*|activat\w*|"
    r"accelerat\w*|exacerbat\w*|stimulat\w*|augment\w*|exceed\w*|overexpress\w*|amplif\w*|"
    r"extend\w*|longer|larger|worsen\w*)\b", re.IGNORECASE)
_DOWN = re.compile(
    r"\b(decreas\w*|lower\w*|less|fewer|reduc\w*|declin\w*|fell|fall(s|ing)?|drop\w*|"
    r"diminish\w*|inhibit\w*|suppress\w*|downregulat\w*|down-regulat\w*|attenuat\w*|"
    r"impair\w*|prevent\w*|block\w*|abolish\w*|decline|loss|lost|shorter|smaller|deplet\w*|"
    r"repress\w*|slow\w*|weaken\w*|knockdown|deficien\w*|delet\w*)\b", re.IGNORECASE)
_RISK = re.compile(r"\b(risk\w*|harm\w*|toxic\w*|damag\w*|danger\w*|worse\w*|adverse)\b",
                   re.IGNORECASE)
_PROTECT = re.compile(r"\b(protect\w*|benefi\w*|safe\w*|beneficial|prevent\w*)\b", re.IGNORECASE)
_HEDGE = re.compile(r"\b(may|might|could|suggest\w*|possibl\w*|potential\w*|likely|appear\w*|"
                    r"hypothes\w*|propos\w*)\b", re.IGNORECASE)
# Opposite pairs: a claim using one side and a sentence the other (only) usually refutes it.
_ANTONYMS = [(_UP, _DOWN)] + [
    (re.compile(rf"\b({a})", re.IGNORECASE), re.compile(rf"\b({b})", re.IGNORECASE))
    for a, b in [
        ("positiv", "negativ|invers"),
        ("benefi|protect|improv|better|safe|effective|success",
         "harm|detriment|damag|toxic|worse|risk|adverse|unsafe|ineffective|fail"),
        ("accura|reliab|precis", "inaccura|unreliab|impreci"),
        ("overestim|over-estim", "underestim|under-estim"),
        ("hyper", "hypo"),
        ("essential|requir|necessar|critical|crucial|indispens",
         "dispens|unnecessar|not requir|redundan"),
        ("sensitiv|suscept", "resist|toleran|insensitiv"),
        ("common|frequen|prevalen", "rare|infrequen|uncommon"),
        ("agonist", "antagonist"),
        ("correlat|associat|link", "unrelat|independ|uncorrelat|no associat|not associat"),
    ]
]
_WORD = re.compile(r"[a-z][a-z0-9-]+")
_STOPWORDS = set(
    "the and for with that this from into over than then them they their there these those "
    "have has had been being were was are is its it's which who whom what when where while "
    "also such only very more most less can could may might will would should does did not "
    "about after before between both each other some any all".split())
RULE_NAMES = [
    "cos", "cos_gap_to_best", "is_best", "overlap", "claim_negated", "sentence_negated",
    "negation_mismatch", "null_result", "numbers_agree", "numbers_differ", "claim_has_number",
    "direction_match", "direction_mismatch", "risk_protect_mismatch", "hedge",
    "negation_mismatch_x_cos", "direction_mismatch_x_cos", "null_result_x_cos", "overlap_x_cos",
    "polarity_flip", "polarity_flip_x_cos", "antonym_flip", "antonym_match",
    "target_mismatch", "target_match", "target_mismatch_only", "target_match_only",
]


@dataclass(frozen=True)
class Judgement:
    """The stance of one passage, before it is wrapped in an Evidence."""

    stance: Stance
    confidence: float
    sentence: int  # index of the deciding sentence
    rationale: str


@dataclass(frozen=True)
class Facts:
    """What the rules read in one text, computed once per text."""

    negated: bool
    null_result: bool
    direction: int
    risk: bool
    protect: bool
    words: frozenset[str]
    quantities: tuple[Quantity, ...]
    sides: tuple[tuple[bool, bool], ...]  # per _ANTONYMS pair: (uses the first, the second)
    targets: tuple[tuple[int, frozenset[str]], ...]  # each change word: (+1/-1, words near it)


@lru_cache(maxsize=8192)  # one passage sentence is compared with every claim of an article
def facts(text: str) -> Facts:
    """The rules' reading of `text`: negation, direction of change, words, numbers, sides."""
    up, down = len(_UP.findall(text)), len(_DOWN.findall(text))
    words = frozenset(w[:5] for w in _WORD.findall(text.lower()) if w not in _STOPWORDS)
    return Facts(
        negated=bool(_NEGATION.search(text)), null_result=bool(_NULL_RESULT.search(text)),
        direction=int(np.sign(up - down)), risk=bool(_RISK.search(text)),
        protect=bool(_PROTECT.search(text)), words=words, quantities=tuple(quantities(text)),
        sides=tuple((bool(a.search(text)), bool(b.search(text))) for a, b in _ANTONYMS),
        targets=_targets(text),
    )


def _targets(text: str) -> tuple[tuple[int, frozenset[str]], ...]:
    """Each increase/decrease word with the content words around it: what changes, which way."""
    tokens = _WORD.findall(text.lower())
    found = []
    for i, token in enumerate(tokens):
        sign = 1 if _UP.fullmatch(token) else -1 if _DOWN.fullmatch(token) else 0
        if sign:
            near = tokens[max(0, i - 3) : i] + tokens[i + 1 : i + 6]
            found.append((sign, frozenset(
                w[:5] for w in near if len(w) > 2 and w not in _STOPWORDS
                and not _UP.fullmatch(w) and not _DOWN.fullmatch(w))))
    return tuple(found)


def _opposites(c: Facts, s: Facts) -> list[float]:
    """Antonym flips and matches, and changes of the same thing in opposite / same directions."""
    flips = sum((a and not b and sb and not sa) or (b and not a and sa and not sb)
                for (a, b), (sa, sb) in zip(c.sides, s.sides))
    matches = sum((a and sa and not b and not sb) or (b and sb and not a and not sa)
                  for (a, b), (sa, sb) in zip(c.sides, s.sides))
    pairs = [d1 * d2 for d1, w1 in c.targets for d2, w2 in s.targets if w1 & w2]
    opposite, same = any(p < 0 for p in pairs), any(p > 0 for p in pairs)
    return [float(flips), float(matches), float(opposite), float(same),
            float(opposite and not same), float(same and not opposite)]


def rule_features(claim: str, c: Facts, sentence: str, cos: float, best: float) -> list[float]:
    """The RULE_NAMES features of a sentence against the claim (`c`: its facts), given the
    sentence's cosine to the claim and the passage's best."""
    s = facts(sentence)
    overlap = len(c.words & s.words) / max(len(c.words), 1)
    agree, differ = _number_match(c.quantities, s.quantities)
    negation_mismatch = float(c.negated != s.negated)
    direction_mismatch = float(c.direction * s.direction < 0)
    null_result = float(s.null_result and not c.null_result)
    # "reduces" vs "did not reduce" flips; "does not increase" vs "decreased" does not.
    flip = float(negation_mismatch != direction_mismatch)
    return [
        cos, cos - best, float(cos >= best), overlap, float(c.negated), float(s.negated),
        negation_mismatch, null_result, float(agree), float(differ), float(bool(c.quantities)),
        float(c.direction * s.direction > 0), direction_mismatch,
        float((c.risk and s.protect and not c.protect) or (c.protect and s.risk and not c.risk)),
        float(bool(_HEDGE.search(sentence))),
        negation_mismatch * cos, direction_mismatch * cos, null_result * cos, overlap * cos,
        flip, flip * cos, *_opposites(c, s),
    ]


def _number_match(
    claim: tuple[Quantity, ...], sentence: tuple[Quantity, ...]
) -> tuple[bool, bool]:
    """(some claim number is given by the sentence, some is contradicted by it)."""
    agree = any(a.overlaps(b) and (comparable(a, b) or a.value == b.value)
                for a in claim for b in sentence)
    return agree, bool(_number_conflicts(claim, sentence)) and not agree


def _number_conflicts(
    claim: tuple[Quantity, ...], sentence: tuple[Quantity, ...]
) -> list[tuple[Quantity, Quantity]]:
    # A claim number conflicts when the sentence counts the same thing and none of its numbers fit.
    pairs = []
    for a in claim:
        same = [b for b in sentence if comparable(a, b)]
        if same and not any(a.overlaps(b) for b in same):
            pairs.append((a, same[0]))
    return pairs


def rule_override(claim: str, sentences: list[str], cos: np.ndarray) -> Judgement | None:
    """The rules that overrule the model: the claim stated word for word, a different number,
    or a negated close paraphrase."""
    return (stated_rule(claim, sentences)
            or number_rule(claim, sentences, cos) or negation_rule(claim, sentences, cos))


def stated_rule(claim: str, sentences: list[str]) -> Judgement | None:
    """SUPPORTS when a sentence is the claim word for word, or opens with it and goes on with
    "and ..." ("Wagner is registered in Hong Kong and has no public offices" states "Wagner is
    registered in Hong Kong"): the cross-encoder read the unaddressed second half as a
    refutation (0.52). Only at the sentence's start, so that "reports that X are false" and
    "officials denied that X" never count."""
    said = word_form(claim)
    if len(said.split()) < 4:  # "Prices rose" opens too many sentences to be a statement
        return None
    for index, sentence in enumerate(sentences):
        words = word_form(sentence)
        if words == said or words.startswith(f"{said} and "):
            return Judgement(Stance.SUPPORTS, STATED_CONFIDENCE, index,
                             "the source states the claim word for word")
    return None


def negation_rule(claim: str, sentences: list[str], cos: np.ndarray) -> Judgement | None:
    """REFUTES when the closest sentence is a paraphrase that negates what the claim states.

    Only for close paraphrases (cos >= NEGATION_RULE_MIN_COS) where the negation falls on a word
    of the other text ("reduces" vs "did not reduce"): on SciFact a looser version was wrong as
    often as right, because abstracts negate side findings.
    """
    index = int(np.argmax(cos))
    if cos[index] < NEGATION_RULE_MIN_COS:
        return None
    flipped = _flipped_words(claim, sentences[index])
    if not flipped:
        return None
    reason = f"negation mismatch: '{flipped[0]}' is negated on one side only"
    return Judgement(Stance.REFUTES, float(min(0.8, cos[index])), index, reason)


def _flipped_words(claim: str, sentence: str) -> list[str]:
    """Words one side negates and the other states: the head of a negated phrase that the other
    text has plainly, where no negation of the other text covers any word of that phrase
    ("not Russian military personnel" vs "not military personnel" negate the same thing)."""
    claim_scopes, sentence_scopes = negation_scopes(claim), negation_scopes(sentence)
    return sorted(_one_sided(sentence_scopes, claim_scopes, plain_words(claim))
                  | _one_sided(claim_scopes, sentence_scopes, plain_words(sentence)))


def _one_sided(scopes: list[dict[str, str]], other_scopes: list[dict[str, str]],
               other_plain: set[str]) -> set[str]:
    covered = {key for scope in other_scopes for key in scope}
    return {next(iter(scope.values())) for scope in scopes
            if not scope.keys() & covered and next(iter(scope)) in other_plain}


def negation_scopes(text: str) -> list[dict[str, str]]:
    """Per negation, prefix -> word of the content words of the phrase it negates: from the
    negator to the next punctuation mark, clause word or negator (the first is the head)."""
    scopes = []
    for clause in _CLAUSE_BREAK.split(text.lower()):
        tokens = re.findall(r"[a-z][a-z'’-]*", clause)
        for i, token in enumerate(tokens):
            if not _is_negator(token):
                continue
            scope: dict[str, str] = {}
            for word in tokens[i + 1 :]:
                if word in _SCOPE_END or _is_negator(word):
                    break
                if len(word) > 3 and word not in _STOPWORDS and word not in _NEGATION_FILLER:
                    scope.setdefault(word[:5], word)
            if scope:
                scopes.append(scope)
    return scopes


def _is_negator(token: str) -> bool:
    return token in _NEGATORS or token.endswith(("n't", "n’t"))


def plain_words(text: str) -> set[str]:
    """The first five letters of each content word of more than three letters."""
    return {w[:5] for w in _WORD.findall(text.lower()) if len(w) > 3 and w not in _STOPWORDS}


def number_rule(claim: str, sentences: list[str], cos: np.ndarray) -> Judgement | None:
    """REFUTES when one of the two closest sentences gives another number for the same thing."""
    claim_numbers = tuple(quantities(claim))
    if not claim_numbers:
        return None
    for index in np.argsort(-cos)[:2]:
        if cos[index] < NUMBER_RULE_MIN_COS:
            break
        found = tuple(quantities(sentences[index]))
        agree, _ = _number_match(claim_numbers, found)
        conflicts = _number_conflicts(claim_numbers, found)
        if conflicts and not agree:
            a, b = conflicts[0]
            reason = f"numbers differ: {_show(claim, a)} vs {_show(sentences[index], b)}"
            confidence = float(min(0.9, cos[index]))
            return Judgement(Stance.REFUTES, confidence, int(index), reason)
    return None


def _show(text: str, q: Quantity) -> str:
    return " ".join(text[q.start : q.end].split())


# How each rule feature reads in a rationale when it pushed the decision.
RULE_WORDING = {
    "negation_mismatch": "negation mismatch", "negation_mismatch_x_cos": "negation mismatch",
    "null_result": "the passage reports no significant effect",
    "null_result_x_cos": "the passage reports no significant effect",
    "direction_mismatch": "opposite direction (increase vs decrease)",
    "direction_mismatch_x_cos": "opposite direction (increase vs decrease)",
    "direction_match": "same direction of change", "numbers_agree": "numbers agree",
    "risk_protect_mismatch": "risk vs protection", "hedge": "hedged wording",
    "polarity_flip": "negation mismatch", "polarity_flip_x_cos": "negation mismatch",
    "antonym_flip": "opposite wording (e.g. higher vs lower)",
    "target_mismatch": "the same thing changes the other way",
    "target_mismatch_only": "the same thing changes the other way",
    "antonym_match": "same wording of the change", "target_match": "same direction of change",
    "target_match_only": "same direction of change",
}
