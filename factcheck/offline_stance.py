"""Offline stance: does a passage support or refute a claim? MiniLM pair features + rules.

Every sentence of a passage is scored against the claim by two small logistic regressions:
*evidence* (does this sentence bear on the claim?) on the claim and sentence embeddings (|u-v|,
u*v) plus rule features, and *direction* (refutes rather than supports?) on the rule features
alone: negation, numbers (factcheck.numbers), increase/decrease words, hedges, word overlap.
The sentence with the most evidence is quoted; a weak direction is said to be "direction
unclear" and gets a low confidence. Two rules overrule the model: a close sentence giving a
different number for the same thing, or a near paraphrase negating what the claim states,
refutes it. Trained on SciFact by training/train_offline.py; numbers in
factcheck/weights/MODEL_CARD.md.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from factcheck import weights
from factcheck.models import Evidence, Passage, Stance
from factcheck.numbers import Quantity, comparable, quantities
from factcheck.sentences import split_sentences

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "stance.npz"
JUDGE_FILE = "judge.npz"  # the cross-encoder (factcheck.judge); optional
JUDGED_PER_PASSAGE = 3  # sentences of each passage the cross-encoder reads
CONFIDENT = 0.8  # a cross-encoder direction this sure is not overruled by a rule
CLASSES = [Stance.SUPPORTS, Stance.REFUTES, Stance.NOT_ENOUGH_INFO]
UNCLEAR = "related evidence found, direction unclear"
# Below this share of support vs refutation the call is reported as a lean. Cross-validation
# keeps such calls (turning them into NOT_ENOUGH_INFO cost 0.03 macro-F1 at 0.55), so they
# stay SUPPORTS/REFUTES with a confidence of at most LEANING x P(evidence).
LEANING = 0.55
NUMBER_RULE_MIN_COS = 0.6  # below this the sentence may be about something else entirely
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
# The direction model reads the polarity features only, not how close or similar the sentence
# is (cos, overlap) nor whether one side alone is negated: grouped CV, balanced accuracy 0.65
# against 0.64 with every rule feature.
DIRECTION_NAMES = RULE_NAMES[RULE_NAMES.index("negation_mismatch") :]
# The cross-encoder's reading as two logits: the sentence bears on the claim; it refutes
# rather than supports. NaN where it did not read the sentence.
JUDGE_NAMES = ["judge_evidence", "judge_refutes"]
EMBEDDING_COLUMNS = 2 * 384  # |u-v| and u*v come first in a feature row
FEATURE_NAMES = [f"embedding_{i}" for i in range(EMBEDDING_COLUMNS)] + RULE_NAMES + JUDGE_NAMES


def columns(names: list[str]) -> np.ndarray:
    """Indices of named features in a pair_features row."""
    return np.array([FEATURE_NAMES.index(n) for n in names], dtype=np.int64)


@dataclass(frozen=True)
class Judgement:
    """The stance of one passage, before it is wrapped in an Evidence."""

    stance: Stance
    confidence: float
    sentence: int  # index of the deciding sentence
    rationale: str


def judge_offline(claim: str, passages: list[Passage], embedder: Any = None,
                  use_judge: bool | None = None) -> list[Evidence]:
    """One Evidence per passage: stance, confidence, the deciding sentence and why.

    use_judge: read the direction with the cross-encoder (default: when its weights ship).
    """
    embedder = embedder or weights.embedder()
    per_passage = [[p.text[s:e] for s, e in split_sentences(p.text)] or [p.text]
                   for p in passages]
    # One embed() call for the claim and every sentence of every passage.
    vectors = _embed_cached(embedder, [claim] + [s for texts in per_passage for s in texts])
    blocks, start = [], 1
    for texts in per_passage:
        blocks.append(vectors[start : start + len(texts)])
        start += len(texts)
    use_judge = judge_available() if use_judge is None else use_judge
    readings = (judge_readings(claim, vectors[0], per_passage, blocks) if use_judge
                else [None] * len(passages))
    found = []
    for passage, texts, block, reading in zip(passages, per_passage, blocks, readings):
        verdict = judge_sentences(claim, vectors[0], texts, block, reading=reading)
        found.append(Evidence(
            passage=passage, stance=verdict.stance, confidence=verdict.confidence,
            quote=texts[verdict.sentence], rationale=verdict.rationale,
        ))
    return found


def judge_available() -> bool:
    """Whether the cross-encoder's weights ship with this install."""
    return weights.exists(JUDGE_FILE)


def judge_readings(claim: str, claim_vec: np.ndarray, per_passage: list[list[str]],
                   blocks: list[np.ndarray], read: Any = None) -> list[np.ndarray]:
    """Per passage, the cross-encoder's (supports, refutes, neither) of its sentences closest to
    the claim by the bi-encoder (NaN rows for the others), from one batched call for all.

    read: pairs -> probabilities (default: the cross-encoder; training passes a cache).
    """
    if read is None:
        from factcheck.judge import cross_encoder

        read = cross_encoder().probabilities
    picks = [np.argsort(-(block @ claim_vec), kind="stable")[:JUDGED_PER_PASSAGE]
             for block in blocks]
    pairs = [(claim, texts[i]) for texts, chosen in zip(per_passage, picks) for i in chosen]
    probs = read(pairs)
    found, start = [], 0
    for texts, chosen in zip(per_passage, picks):
        read = np.full((len(texts), 3), np.nan, dtype=np.float32)
        read[chosen] = probs[start : start + len(chosen)]
        start += len(chosen)
        found.append(read)
    return found


def judge_sentences(
    claim: str, claim_vec: np.ndarray, sentences: list[str], sentence_vecs: np.ndarray,
    model: dict[str, np.ndarray] | None = None, reading: np.ndarray | None = None,
) -> Judgement:
    """The stance of one passage, given as its sentences and their embeddings.

    reading: the cross-encoder's (supports, refutes, neither) per sentence (NaN rows where it
    did not read the sentence). A model trained on the judge's features then weighs them with
    the rules; a rule does not overrule the judge where it is confident.
    """
    model = model if model is not None else _model()
    reading = guarded(claim, sentences, reading)
    cos = sentence_vecs @ claim_vec
    rule = rule_override(claim, sentences, cos) if overrides(model) else None
    if rule is not None and not judge_disagrees(rule, reading):
        return rule
    x = pair_features(claim, claim_vec, sentences, sentence_vecs, reading)
    probs = sentence_probs(model, x)
    found = decide(probs, cos, float(model["min_evidence"]), float(model["min_direction"]))
    if found.stance is Stance.NOT_ENOUGH_INFO or found.rationale.startswith(UNCLEAR):
        return found
    reason = _reason(model, x[found.sentence], found.stance, float(cos[found.sentence]))
    return Judgement(found.stance, found.confidence, found.sentence, reason)


def guarded(claim: str, sentences: list[str], reading: np.ndarray | None) -> np.ndarray | None:
    """The cross-encoder's reading without the sentences that never speak of what the claim
    negates (NaN rows, as if unread).

    The cross-encoder reads "the five killed were not soldiers" against "five were killed" as a
    refutation (trained on toggled negations, where the negated words are on both sides); a
    sentence that names nothing the claim negates can neither support nor refute that part.
    """
    if reading is None:
        return None
    scopes = _negation_scopes(claim)
    if not scopes:
        return reading
    reading = reading.copy()
    for i, sentence in enumerate(sentences):
        words = _plain_words(sentence)
        if not _negation_scopes(sentence) and not any(scope.keys() & words for scope in scopes):
            reading[i] = np.nan
    return reading


def sentence_probs(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Class probabilities per sentence; with a model that reads the judge, only the sentences
    the judge read can be evidence (as in training, where the others were never candidates)."""
    probs = predict(model, x)
    if uses_judge(model):
        unread = np.isnan(x[:, FEATURE_NAMES.index(JUDGE_NAMES[0])])
        if not unread.all():  # no reading at all (judge off): the rules and embeddings decide
            probs[unread] = (0.0, 0.0, 1.0)
    return probs


def overrides(model: dict[str, np.ndarray]) -> bool:
    """Whether the number and negation rules overrule this model (else they are features only:
    cross-validation chose, saved as `rule_overrides`)."""
    return bool(model.get("rule_overrides", True))


def uses_judge(model: dict[str, np.ndarray]) -> bool:
    """Whether the model was trained on the cross-encoder's features."""
    read = np.concatenate([_columns(model, "evidence"), _columns(model, "direction")])
    return bool(np.isin(columns(JUDGE_NAMES), read).any())


def _refutes(probs: np.ndarray) -> np.ndarray:
    return probs[:, 1] / np.maximum(probs[:, 0] + probs[:, 1], 1e-9)


def judge_disagrees(rule: Judgement, reading: np.ndarray | None) -> bool:
    """A rule's REFUTES is dropped where the cross-encoder confidently reads support."""
    if reading is None or not np.isfinite(reading[rule.sentence, 0]):
        return False
    return bool(_refutes(reading[rule.sentence : rule.sentence + 1])[0] <= 1.0 - CONFIDENT)


def decide(probs: np.ndarray, cos: np.ndarray, min_evidence: float,
           min_direction: float) -> Judgement:
    """Turn per-sentence class probabilities into one passage-level Judgement.

    The sentence with the most evidence (1 - P(NOT_ENOUGH_INFO)) is quoted; the direction is
    read from it and the runner-up together, weighted by their evidence.
    """
    evidence = 1.0 - probs[:, 2]
    top = np.argsort(-evidence, kind="stable")[:2]
    best = int(top[0])
    support, refute = probs[top, 0].sum(), probs[top, 1].sum()
    direction = max(support, refute) / max(support + refute, 1e-9)
    if evidence[best] < min_evidence:
        reason = f"no sentence bears on the claim (best cos {cos.max():.2f})"
        return Judgement(Stance.NOT_ENOUGH_INFO, float(probs[best, 2]), best, reason)
    if direction < min_direction:
        reason = f"{UNCLEAR} (cos {cos[best]:.2f})"
        return Judgement(Stance.NOT_ENOUGH_INFO, float(1.0 - direction), best, reason)
    stance = Stance.SUPPORTS if support >= refute else Stance.REFUTES
    reason = f"cos {cos[best]:.2f}"
    if direction < LEANING:  # keep the better-scoring call, but say that it is a lean
        reason = f"{UNCLEAR}, leans {stance.value.lower()} (cos {cos[best]:.2f})"
    # Confidence: P(the sentence is evidence) x P(the direction), the model's chance of being right.
    return Judgement(stance, float(evidence[best] * direction), best, reason)


def pair_features(
    claim: str, claim_vec: np.ndarray, sentences: list[str], sentence_vecs: np.ndarray,
    reading: np.ndarray | None = None,
) -> np.ndarray:
    """Rows of model input for each sentence, columns as FEATURE_NAMES: |u-v|, u*v, the
    RULE_NAMES features, then the judge's reading (NaN where there is none; pass it guarded())."""
    u, v = np.asarray(claim_vec, np.float32)[None, :], np.asarray(sentence_vecs, np.float32)
    cos = v @ u[0]
    claim_facts = _facts(claim)
    rules = np.array(
        [_rule_features(claim, claim_facts, s, c, cos.max()) for s, c in zip(sentences, cos)],
        dtype=np.float32,
    ).reshape(len(sentences), len(RULE_NAMES))
    return np.hstack([np.abs(u - v), u * v, rules, judge_features(reading, len(sentences))])


def judge_features(reading: np.ndarray | None, n: int) -> np.ndarray:
    """The JUDGE_NAMES logits of the cross-encoder's (supports, refutes, neither) rows."""
    if reading is None:
        return np.full((n, len(JUDGE_NAMES)), np.nan, dtype=np.float32)
    p = np.clip(reading.astype(np.float32), 1e-4, 1.0)
    return np.stack([np.log((1.0 - np.minimum(p[:, 2], 1 - 1e-4)) / p[:, 2]),
                     np.log(p[:, 1] / p[:, 0])], axis=1)


def predict(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Class probabilities (columns in CLASSES order) of the feature rows x.

    Two logistic regressions, each on its own columns (saved with the model): `evidence` (is
    this sentence a rationale at all?) and `direction` (does it refute rather than support?),
    which reads polarity features only; embeddings over-fit the direction on SciFact's few
    hundred rationales. A missing judge reading counts as the training average.
    """
    evidence = _sigmoid(model, "evidence", x[:, _columns(model, "evidence")])
    refutes = _sigmoid(model, "direction", x[:, _columns(model, "direction")])
    return np.stack([evidence * (1 - refutes), evidence * refutes, 1 - evidence], axis=1)


def _columns(model: dict[str, np.ndarray], part: str) -> np.ndarray:
    if f"{part}_columns" in model:
        return model[f"{part}_columns"]
    # Models saved before the judge's features: every column but those / the polarity rules.
    if part == "evidence":
        return np.arange(EMBEDDING_COLUMNS + len(RULE_NAMES))
    return columns(DIRECTION_NAMES)


def _sigmoid(model: dict[str, np.ndarray], part: str, x: np.ndarray) -> np.ndarray:
    mean = model[f"{part}_mean"]
    x = np.where(np.isnan(x), mean, x)
    logits = ((x - mean) / model[f"{part}_scale"]) @ model[f"{part}_coef"].ravel()
    return 1.0 / (1.0 + np.exp(-(logits + model[f"{part}_intercept"].ravel()[0])))


@dataclass(frozen=True)
class _Facts:
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
def _facts(text: str) -> _Facts:
    up, down = len(_UP.findall(text)), len(_DOWN.findall(text))
    words = frozenset(w[:5] for w in _WORD.findall(text.lower()) if w not in _STOPWORDS)
    return _Facts(
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


def _opposites(c: _Facts, s: _Facts) -> list[float]:
    """Antonym flips and matches, and changes of the same thing in opposite / same directions."""
    flips = sum((a and not b and sb and not sa) or (b and not a and sa and not sb)
                for (a, b), (sa, sb) in zip(c.sides, s.sides))
    matches = sum((a and sa and not b and not sb) or (b and sb and not a and not sa)
                  for (a, b), (sa, sb) in zip(c.sides, s.sides))
    pairs = [d1 * d2 for d1, w1 in c.targets for d2, w2 in s.targets if w1 & w2]
    opposite, same = any(p < 0 for p in pairs), any(p > 0 for p in pairs)
    return [float(flips), float(matches), float(opposite), float(same),
            float(opposite and not same), float(same and not opposite)]


def _rule_features(claim: str, c: _Facts, sentence: str, cos: float, best: float) -> list[float]:
    s = _facts(sentence)
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
    """The rules that overrule the model: a different number, or a negated close paraphrase."""
    return number_rule(claim, sentences, cos) or negation_rule(claim, sentences, cos)


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
    claim_scopes, sentence_scopes = _negation_scopes(claim), _negation_scopes(sentence)
    return sorted(_one_sided(sentence_scopes, claim_scopes, _plain_words(claim))
                  | _one_sided(claim_scopes, sentence_scopes, _plain_words(sentence)))


def _one_sided(scopes: list[dict[str, str]], other_scopes: list[dict[str, str]],
               other_plain: set[str]) -> set[str]:
    covered = {key for scope in other_scopes for key in scope}
    return {next(iter(scope.values())) for scope in scopes
            if not scope.keys() & covered and next(iter(scope)) in other_plain}


def _negation_scopes(text: str) -> list[dict[str, str]]:
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


def _plain_words(text: str) -> set[str]:
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
_RULE_WORDING = {
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
MIN_RULE_PUSH = 0.25  # logit units a rule must add to be named as the reason


def _reason(model: dict[str, np.ndarray], row: np.ndarray, stance: Stance, cos: float) -> str:
    """Name the rule feature that pushed the direction model most towards the chosen side."""
    picked = _columns(model, "direction")
    names = [FEATURE_NAMES[i] for i in picked]
    values = row[picked]
    scaled = (np.where(np.isnan(values), model["direction_mean"], values)
              - model["direction_mean"]) / model["direction_scale"]
    sign = 1.0 if stance is Stance.REFUTES else -1.0  # the direction model predicts REFUTES
    push = sign * scaled * model["direction_coef"].ravel()
    for index in np.argsort(-push):
        if push[index] < MIN_RULE_PUSH:
            break
        name = names[index]
        if name.startswith("polarity_flip") and not row[FEATURE_NAMES.index("negation_mismatch")]:
            name = "direction_mismatch"  # the flip came from the direction words
        if name in _RULE_WORDING and values[index] != 0:
            return f"{_RULE_WORDING[name]} (cos {cos:.2f})"
    if stance is Stance.SUPPORTS and cos >= 0.8:
        return f"close paraphrase (cos {cos:.2f})"
    verb = "supports" if stance is Stance.SUPPORTS else "contradicts"
    return f"related sentence, read as {verb} the claim by the model (cos {cos:.2f})"


@lru_cache(maxsize=1)
def _model() -> dict[str, np.ndarray]:
    return weights.load_arrays(WEIGHTS_FILE)


_CACHE: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_CACHE_SIZE = 20_000  # sentences (30 MB): passages recur across the claims of one article


def _embed_cached(embedder: Any, texts: list[str]) -> np.ndarray:
    """Embed texts in one call, reusing vectors of sentences seen recently."""
    name = getattr(embedder, "name", type(embedder).__name__)
    missing = list(dict.fromkeys(t for t in texts if (name, t) not in _CACHE))
    fresh = dict(zip(missing, embedder.embed(missing))) if missing else {}
    rows = [fresh[t] if t in fresh else _CACHE[(name, t)] for t in texts]
    for text in texts:
        if text in fresh:
            _CACHE[(name, text)] = fresh[text]
        else:
            _CACHE.move_to_end((name, text))
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return np.stack(rows).astype(np.float32)
