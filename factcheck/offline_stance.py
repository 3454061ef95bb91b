"""Offline stance: does a passage support or refute a claim? MiniLM pair features + rules.

Every sentence of a passage is scored against the claim by two small logistic regressions:
*evidence* (does this sentence bear on the claim?) on the claim and sentence embeddings (|u-v|,
u*v) plus the rule features (factcheck.stance_rules), and *direction* (refutes rather than
supports?) on the polarity rules alone, both also reading the cross-encoder (factcheck.judge)
where it read the sentence. The sentence with the most evidence is quoted; a weak direction is
said to be "direction unclear" and gets a low confidence. The number and negation rules overrule
the model unless the cross-encoder confidently reads the other way. Trained on SciFact by
training/train_offline.py; numbers in factcheck/weights/MODEL_CARD.md.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import numpy as np

from factcheck import weights
from factcheck.models import Evidence, Passage, Stance
from factcheck.sentences import split_sentences
from factcheck.stance_rules import (
    RULE_NAMES,
    RULE_WORDING,
    Judgement,
    facts,
    negation_scopes,
    plain_words,
    rule_features,
    rule_override,
)

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


def load_models() -> None:
    """Load the stance model and the cross-encoder now instead of at the first judgement."""
    from factcheck.judge import cross_encoder

    _model()
    if judge_available():
        cross_encoder()


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
    scopes = negation_scopes(claim)
    if not scopes:
        return reading
    reading = reading.copy()
    for i, sentence in enumerate(sentences):
        words = plain_words(sentence)
        if not negation_scopes(sentence) and not any(scope.keys() & words for scope in scopes):
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
    """A rule is dropped where the cross-encoder confidently reads the other direction."""
    if reading is None or not np.isfinite(reading[rule.sentence, 0]):
        return False
    refutes = float(_refutes(reading[rule.sentence : rule.sentence + 1])[0])
    if rule.stance is Stance.SUPPORTS:
        return refutes >= CONFIDENT
    return refutes <= 1.0 - CONFIDENT


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
    claim_facts = facts(claim)
    rules = np.array(
        [rule_features(claim, claim_facts, s, c, cos.max()) for s, c in zip(sentences, cos)],
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
        if name in RULE_WORDING and values[index] != 0:
            return f"{RULE_WORDING[name]} (cos {cos:.2f})"
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
