"""Training and held-out pairs for the judge's cross-encoder, from ../shared/data/nli.

Only files whose licence allows a redistributed model are read (TRAIN_FILES); the others are
held out whole and only measured (HELD_OUT_FILES). Every pair's split is decided by a hash of its
claim's normalised text, so one claim (FEVER dev claims recur in fever_symmetric) never falls on
both sides, and the hard cases made from a pair follow it.

Hard cases are built from the data itself, with wording rules that are not fitted to any set:
- refutes: the claim with one of its numbers changed, its negation toggled, or a word swapped
  for its everyday opposite (higher/lower, won/lost ...);
- supports: an evidence sentence as its own claim, the same with a modifier dropped ("not
  Russian military personnel" -> "not military personnel"), or with both sides negated alike;
- neither: a claim against another claim's evidence about the same subject (FEVER pages).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

LABELS = ("supports", "refutes", "neither")  # the head's column order (SUPPORTS, REFUTES, NEI)
# file -> (licence as stated in nli/README.md, rows kept at most, {label: share kept})
TRAIN_FILES = {
    "fever_rte_dev_covidfact": ("CC BY-SA 3.0 (FEVER)", None, {}),
    "fever_symmetric": ("CC BY-SA 3.0", None, {}),
    "snli_dev_test_esnli": ("CC BY-SA 4.0", 12000, {}),
    "mnli_taxinli": ("C-UDA 1.0", None, {}),
    "breaking_nli": ("CC BY-SA 4.0", None, {"refutes": 0.2}),
    "med_monotonicity": ("CC BY-SA 4.0", 3000, {}),
    "check_covid": ("MIT", None, {}),
    "citation_integrity": ("MIT (repository)", None, {}),
}
# Licence not stated, or another task or language: measured, never trained on.
HELD_OUT_FILES = ("healthver", "covidfact", "sufficient_facts", "fnc1_competition_test",
                  "perspectrum")
HELD_OUT_SHARE = 0.08  # of the claims of each training file
MAX_EVIDENCE_WORDS = 80  # longer evidence is cut to its first words (fnc1 bodies)


@dataclass(frozen=True)
class Pair:
    """One (claim, evidence, label) row; `origin` names its file or the rule that made it."""

    claim: str
    evidence: str
    label: int  # index into LABELS
    origin: str
    held_out: bool


def _held_out(claim: str) -> bool:
    digest = hashlib.sha1(" ".join(claim.lower().split()).encode()).digest()
    return digest[0] / 256 < HELD_OUT_SHARE


def _label(raw: str) -> int | None:
    return {"supports": 0, "refutes": 1, "neither": 2, "unrelated": 2}.get(raw)


def read_file(folder: Path, name: str) -> list[dict]:
    with gzip.open(folder / f"{name}.jsonl.gz", "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _cut(text: str) -> str:
    words = text.split()
    return " ".join(words[:MAX_EVIDENCE_WORDS])


def file_pairs(folder: Path, name: str, rng: random.Random, cap: int | None = None,
               keep: dict[str, float] | None = None, all_held_out: bool = False) -> list[Pair]:
    """The labelled pairs of one nli file (downsampled as asked)."""
    rows = [r for r in read_file(folder, name) if r.get("lang", "en") == "en"]
    rng.shuffle(rows)
    found = []
    for row in rows:
        label = _label(row["label"])
        if label is None or rng.random() > (keep or {}).get(row["label"], 1.0):
            continue
        found.append(Pair(row["claim"].strip(), _cut(row["evidence"]), label, name,
                          all_held_out or _held_out(row["claim"])))
    return found[:cap] if cap else found


# --- hard cases ----------------------------------------------------------------------------

_NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                 "eleven", "twelve", "thirteen", "fourteen", "fifteen", "twenty", "fifty",
                 "hundred"]
_DIGITS = re.compile(r"(?<![\w.,-])\d+(?:\.\d+)?(?![\w])")
_WORD_NUMBER = re.compile(r"\b(" + "|".join(_NUMBER_WORDS[1:]) + r")\b", re.IGNORECASE)
_AUX = re.compile(r"\b(is|are|was|were|has|have|had|can|will|does|did|could|would|should|must)"
                  r"\b(?! not\b)")
_NEGATED = re.compile(r"\b(is|are|was|were|has|have|had|can|will|does|did|could|would|should|"
                      r"must) not\b")
_OPPOSITES = [
    ("increase", "decrease"), ("increased", "decreased"), ("increases", "decreases"),
    ("higher", "lower"), ("more", "less"), ("rise", "fall"), ("rose", "fell"), ("won", "lost"),
    ("before", "after"), ("above", "below"), ("allowed", "banned"), ("true", "false"),
    ("alive", "dead"), ("male", "female"), ("first", "last"), ("larger", "smaller"),
    ("largest", "smallest"), ("best", "worst"), ("older", "younger"), ("oldest", "youngest"),
    ("north", "south"), ("east", "west"), ("opened", "closed"), ("success", "failure"),
    ("supported", "opposed"), ("accepted", "rejected"), ("confirmed", "denied"),
    ("positive", "negative"), ("legal", "illegal"), ("public", "private"), ("early", "late"),
    ("majority", "minority"), ("maximum", "minimum"), ("inside", "outside"),
    ("entered", "left"), ("started", "ended"), ("always", "never"), ("all", "none"),
    ("many", "few"), ("strong", "weak"), ("rich", "poor"), ("win", "lose"), ("gained", "lost"),
]
_OPPOSITE = {a: b for a, b in _OPPOSITES} | {b: a for a, b in _OPPOSITES}
_OPPOSITE_WORD = re.compile(r"\b(" + "|".join(sorted(_OPPOSITE, key=len, reverse=True)) + r")\b")
# A word that narrows the noun after it: a demonym or an adjective ("Russian military").
_MODIFIER = re.compile(r"\b([A-Z][a-z]+(?:an|ian|ese|ish|ic)|[a-z]{3,}(?:al|ous|ive|ic|ary|ern))"
                       r" (?=[a-z]{3,})")


def change_number(text: str, rng: random.Random) -> str | None:
    """The text with one number replaced by a different one, or None if it has none."""
    digits = list(_DIGITS.finditer(text))
    if digits:
        m = rng.choice(digits)
        value = float(m.group())
        new = rng.choice([value + rng.randint(1, 9), value * rng.choice([2, 3, 10]),
                          max(0.0, value - rng.randint(1, 5))])
        if new == value:
            return None
        shown = f"{new:g}" if "." in m.group() else str(int(new))
        return text[: m.start()] + shown + text[m.end():]
    words = list(_WORD_NUMBER.finditer(text))
    if not words:
        return None
    m = rng.choice(words)
    others = [w for w in _NUMBER_WORDS[1:] if w != m.group().lower()]
    return text[: m.start()] + rng.choice(others) + text[m.end():]


def toggle_negation(text: str) -> str | None:
    """'was X' <-> 'was not X' on the first auxiliary; None when there is none."""
    negated = _NEGATED.search(text)
    if negated:
        return text[: negated.start()] + negated.group(1) + text[negated.end():]
    plain = _AUX.search(text)
    if not plain:
        return None
    return text[: plain.end()] + " not" + text[plain.end():]


def swap_opposite(text: str, rng: random.Random) -> str | None:
    found = list(_OPPOSITE_WORD.finditer(text))
    if not found:
        return None
    m = rng.choice(found)
    return text[: m.start()] + _OPPOSITE[m.group()] + text[m.end():]


def drop_modifier(text: str, rng: random.Random) -> str | None:
    found = [m for m in _MODIFIER.finditer(text) if m.start() > 0]
    if not found:
        return None
    m = rng.choice(found)
    return text[: m.start()] + text[m.end():]


def hard_cases(pairs: list[Pair], rng: random.Random, per_rule: int) -> list[Pair]:
    """Refutes / supports pairs made from supported claims and short evidence sentences."""
    supported = [p for p in pairs if p.label == 0]
    sentences = [p for p in pairs if 6 <= len(p.evidence.split()) <= 40]
    rng.shuffle(supported)
    rng.shuffle(sentences)
    made: list[Pair] = []

    def add(source: list[Pair], rule: str, label: int, make) -> None:
        count = 0
        for p in source:
            if count >= per_rule:
                return
            built = make(p)
            if built and built[0] and built[0] != built[1]:
                made.append(Pair(built[0], built[1], label, rule, p.held_out))
                count += 1

    add(supported, "claim_number_changed", 1, lambda p: (change_number(p.claim, rng), p.evidence))
    add(supported, "claim_negation_toggled", 1, lambda p: (toggle_negation(p.claim), p.evidence))
    add(supported, "claim_opposite_word", 1, lambda p: (swap_opposite(p.claim, rng), p.evidence))
    add(sentences, "self", 0, lambda p: (p.evidence, p.evidence + " "))
    add(sentences, "self_number_changed", 1, lambda p: (change_number(p.evidence, rng),
                                                        p.evidence))
    add(sentences, "self_negation_toggled", 1, lambda p: (toggle_negation(p.evidence),
                                                          p.evidence))
    add(sentences, "self_modifier_dropped", 0, lambda p: (drop_modifier(p.evidence, rng),
                                                          p.evidence))
    add(sentences, "both_negated_modifier_dropped", 0, lambda p: _both_negated(p.evidence, rng))
    return [Pair(p.claim, p.evidence.strip(), p.label, p.origin, p.held_out) for p in made]


def _both_negated(text: str, rng: random.Random) -> tuple[str, str] | None:
    negated = toggle_negation(text)
    if not negated or " not " not in negated:
        return None
    return drop_modifier(negated, rng) or negated, negated


def related_neutral(pairs: list[Pair], rng: random.Random, limit: int) -> list[Pair]:
    """FEVER claims against evidence of another claim on the same subject (its first two words)
    that repeats none of the claim's other content words: on topic, neutral."""
    by_page: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        if p.origin.startswith("fever"):
            by_page[" ".join(p.claim.split()[:2]).lower()].append(p)
    made = []
    for group in by_page.values():
        claims = {p.claim for p in group}
        if len(claims) < 2:
            continue
        for p in group:
            other = rng.choice([q for q in group if q.claim != p.claim])
            if other.evidence != p.evidence and not _shares_content(p.claim, other.evidence):
                made.append(Pair(p.claim, other.evidence, 2, "fever_same_page", p.held_out))
    rng.shuffle(made)
    return made[:limit]


_CONTENT = re.compile(r"[A-Za-z][a-z]{3,}|\d+")


def _shares_content(claim: str, evidence: str) -> bool:
    """Whether the evidence repeats a content word of the claim beyond its first two (the page)."""
    words = _CONTENT.findall(claim)
    title = {w.lower() for w in claim.split()[:2]}
    found = {w.lower() for w in _CONTENT.findall(evidence)}
    return any(w.lower() in found and w.lower() not in title for w in words)


def build(folder: Path, seed: int, per_rule: int = 1500) -> tuple[list[Pair], list[Pair]]:
    """(training pairs, held-out pairs): licensed files, their hard cases, and the other files."""
    rng = random.Random(seed)
    pairs = [p for name, (_, cap, keep) in TRAIN_FILES.items()
             for p in file_pairs(folder, name, rng, cap, keep)]
    pairs += hard_cases(pairs, rng, per_rule) + related_neutral(pairs, rng, 4000)
    held = [p for name in HELD_OUT_FILES if (folder / f"{name}.jsonl.gz").exists()
            for p in file_pairs(folder, name, rng, cap=3000, all_held_out=True)]
    train = [p for p in pairs if not p.held_out]
    rng.shuffle(train)
    return train, [p for p in pairs if p.held_out] + held
