"""Train the offline engine's small models and write their weights and metrics.

    python training/train_offline.py --data ../shared/data --out factcheck/weights
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled
sys.path.insert(0, str(Path(__file__).resolve().parent))
from disk_cache import DiskCache, embedding_cache, judge_cache

if TYPE_CHECKING:
    from factcheck.verdict import VerdictInputs

logger = logging.getLogger("train_offline")

# The settings cross-validation chooses among (L2 strength; how far classes are rebalanced).
CHECKWORTHINESS_ALPHAS, CHECKWORTHINESS_BALANCE = (0.1, 0.3, 1.0), (0.25, 0.5)
STANCE_EVIDENCE_ALPHAS, STANCE_DIRECTION_ALPHAS = (0.01, 0.03, 0.1, 0.3), (0.01, 0.03, 0.1)


# --- logistic regression -------------------------------------------------------------------


def fit_logreg(
    x: np.ndarray, y: np.ndarray, n_classes: int, alpha: float,
    sample_weight: np.ndarray | None = None, iterations: int = 150,
    signs: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Multinomial L2 logistic regression on standardised x, by accelerated gradient descent.

    signs (two classes only): per column +1 / -1 where the column may only push towards class 1
    / class 0, 0 where it is free; enforced by projecting after every step.
    """
    mean, scale = np.nanmean(x, 0), np.nanstd(x, 0) + 1e-6
    x = np.where(np.isnan(x), mean, x)  # a missing value counts as the average, as at run time
    n = len(x)
    xa = np.hstack([(x - mean) / scale, np.ones((n, 1))]).astype(np.float32)
    xt = np.ascontiguousarray(xa.T)
    w = np.ones(n) if sample_weight is None else sample_weight / sample_weight.mean()
    w = w.astype(np.float32)
    target = np.eye(n_classes, dtype=np.float32)[y]
    step = 1.0 / (0.5 * _top_eigenvalue(xa, w) / n + alpha)
    penalty = np.ones((xa.shape[1], 1), np.float32)
    penalty[-1] = 0.0  # the intercept is not shrunk
    theta = np.zeros((xa.shape[1], n_classes), np.float32)
    ahead, t = theta.copy(), 1.0
    for _ in range(iterations):  # FISTA: Nesterov momentum with a fixed 1/L step
        grad = xt @ ((_softmax(xa @ ahead) - target) * w[:, None]) / n + alpha * penalty * ahead
        new = _signed(ahead - step * grad, signs)
        t_next = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
        ahead, theta, t = new + (t - 1.0) / t_next * (new - theta), new, t_next
    return {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32),
            "coef": theta[:-1].astype(np.float32), "intercept": theta[-1].astype(np.float32)}


def _signed(theta: np.ndarray, signs: np.ndarray | None) -> np.ndarray:
    """theta with each signed column's class-1-minus-class-0 weight of the allowed sign (a
    wrong-signed pair is set to its mean: the nearest point where the column has no weight)."""
    if signs is None:
        return theta
    wrong = np.append(signs, 0) * (theta[:, 1] - theta[:, 0]) < 0
    theta[wrong] = theta[wrong].mean(axis=1, keepdims=True)
    return theta


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    expd = np.exp(logits)
    return expd / expd.sum(axis=1, keepdims=True)


def _top_eigenvalue(xa: np.ndarray, w: np.ndarray, steps: int = 50) -> float:
    vec = np.random.default_rng(0).normal(size=xa.shape[1])
    for _ in range(steps):
        vec = xa.T @ (w * (xa @ vec))
        value = np.linalg.norm(vec)
        vec /= value
    return float(value)


def balanced_weights(y: np.ndarray, power: float = 1.0) -> np.ndarray:
    """Per-row weights that give each class the same total weight (power < 1: partly)."""
    counts = np.bincount(y)
    return (len(y) / (len(counts) * counts[y])) ** power


def grouped_folds(groups: list[str], k: int, seed: int) -> list[np.ndarray]:
    """k test-index arrays; every group falls wholly in one fold."""
    unique = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(unique))
    fold_of = {unique[g]: n % k for n, g in enumerate(order)}
    labels = np.array([fold_of[g] for g in groups])
    return [np.flatnonzero(labels == f) for f in range(k)]


def macro_f1(gold: np.ndarray, pred: np.ndarray, n_classes: int = 3) -> float:
    """Mean over classes of F1 (a class never predicted nor present counts 0)."""
    scores = []
    for c in range(n_classes):
        tp = np.sum((pred == c) & (gold == c))
        denominator = np.sum(pred == c) + np.sum(gold == c)
        scores.append(2.0 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSON-lines file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# --- check-worthiness ----------------------------------------------------------------------


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Average precision of one ranked list (0 when it holds no positive)."""
    order = np.argsort(-scores, kind="stable")
    hits = labels[order] > 0
    if not hits.any():
        return 0.0
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())


def mean_average_precision(scores: np.ndarray, labels: np.ndarray, groups: list[str]) -> float:
    """CheckThat! MAP: rank within each group, average precision per group, mean over groups."""
    group_array = np.array(groups)
    values = [average_precision(scores[group_array == g], labels[group_array == g])
              for g in sorted(set(groups))]
    return float(np.mean(values))


def _binary(model: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # A two-class softmax is a sigmoid of the logit difference.
    return {**model, "coef": model["coef"][:, 1:] - model["coef"][:, :1],
            "intercept": model["intercept"][1:] - model["intercept"][:1]}


CLAIMBUSTER_BLOCK = 1000  # ClaimBuster's ids run through its debates in order


@dataclass
class WorthinessData:
    """The check-worthiness training sentences of both sets, with what CV groups them by."""

    texts: list[str]
    y: np.ndarray
    groups: list[str]  # a CheckThat! transcript, or a block of a ClaimBuster debate's ids
    dataset: np.ndarray  # "checkthat2019" or "claimbuster" per row

    def weights(self, power: float) -> np.ndarray:
        """Classes balanced within each set (power < 1: partly), each set the same total."""
        w = np.zeros(len(self.y))
        for name in np.unique(self.dataset):
            rows = self.dataset == name
            w[rows] = balanced_weights(self.y[rows], power) / rows.sum()
        return w


def load_worthiness(data: Path) -> WorthinessData:
    """CheckThat! 2019 and ClaimBuster sentences. ClaimBuster has no debate field: its ids run
    through the debates in order, so blocks of ids keep a debate's sentences together, and a
    sentence also in a CheckThat! transcript joins that transcript's group (no leak across folds)."""
    checkthat = read_jsonl(data / "checkthat2019" / "sentences_train.jsonl")
    claimbuster = read_jsonl(data / "claimbuster" / "sentences_train.jsonl")
    transcript_of = {" ".join(r["text"].lower().split()): r["group"] for r in checkthat}
    groups = [r["group"] for r in checkthat] + [
        transcript_of.get(" ".join(r["text"].lower().split()),
                          f"claimbuster:{int(r['id']) // CLAIMBUSTER_BLOCK}")
        for r in claimbuster]
    rows = checkthat + claimbuster
    return WorthinessData(
        texts=[r["text"] for r in rows], y=np.array([int(r["label"]) for r in rows]),
        groups=groups,
        dataset=np.array(["checkthat2019"] * len(checkthat) + ["claimbuster"] * len(claimbuster)))


def _out_of_fold_scores(x: np.ndarray, d: WorthinessData, train_on: np.ndarray, alpha: float,
                        power: float, k: int, seed: int) -> np.ndarray:
    """Each group scored by a model fitted on the other folds' rows where train_on holds."""
    from factcheck.checkworthiness import sigmoid_scores

    scores, weights = np.zeros(len(d.y)), d.weights(power)
    for test in grouped_folds(d.groups, k, seed):
        train = np.setdiff1d(np.flatnonzero(train_on), test)
        model = _binary(fit_logreg(x[train], d.y[train], 2, alpha, weights[train]))
        scores[test] = sigmoid_scores(model, x[test])
    return scores


def _worthiness_measures(scores: np.ndarray, d: WorthinessData) -> dict[str, float]:
    """CheckThat! MAP over its transcripts and ClaimBuster AP over all its sentences."""
    ct, cb = d.dataset == "checkthat2019", d.dataset == "claimbuster"
    return {"checkthat2019_map": mean_average_precision(
                scores[ct], d.y[ct], [g for g, keep in zip(d.groups, ct) if keep]),
            "claimbuster_ap": average_precision(scores[cb], d.y[cb])}


def train_checkworthiness(data: Path, cache: DiskCache[str], seed: int,
                          k: int = 5) -> tuple[dict, dict]:
    """Cross-validate with whole transcripts (debate blocks) held out, then fit on all.

    The setting chosen is the one with the best sum of the two sets' measures; the metrics also
    say how a model trained on one set alone ranks the other (how far it carries).
    """
    from factcheck import checkworthiness

    d = load_worthiness(data)
    x = checkworthiness.features(d.texts, cache.rows(d.texts))
    everything = np.ones(len(d.y), dtype=bool)
    results = {}
    for alpha in CHECKWORTHINESS_ALPHAS:
        for power in CHECKWORTHINESS_BALANCE:
            key = f"alpha={alpha},balance={power}"
            results[key] = _worthiness_measures(
                _out_of_fold_scores(x, d, everything, alpha, power, k, seed), d)
            logger.info("check-worthiness %s: %s", key, results[key])
    best = max(results, key=lambda key: sum(results[key].values()))
    alpha, power = (float(part.split("=")[1]) for part in best.split(","))

    def measured(columns: slice, train_on: np.ndarray) -> dict[str, float]:
        return _worthiness_measures(
            _out_of_fold_scores(x[:, columns], d, train_on, alpha, power, k, seed), d)

    width = x.shape[1] - len(checkworthiness.FEATURE_NAMES)
    metrics = {
        "cv": f"{k} folds of whole groups: the 19 CheckThat! 2019 training transcripts and "
              f"ClaimBuster in blocks of {CLAIMBUSTER_BLOCK} consecutive sentence ids",
        "by_setting": results, "chosen": best, **results[best],
        "embedding_only": measured(slice(0, width), everything),
        "cheap_features_only": measured(slice(width, None), everything),
        "trained_on_checkthat2019_only": measured(slice(None), d.dataset == "checkthat2019"),
        "trained_on_claimbuster_only": measured(slice(None), d.dataset == "claimbuster"),
        "sentences": {name: int((d.dataset == name).sum()) for name in np.unique(d.dataset)},
        "positives": {name: int(d.y[d.dataset == name].sum()) for name in np.unique(d.dataset)},
    }
    model = _binary(fit_logreg(x, d.y, 2, alpha, d.weights(power)))
    return model, metrics


# --- stance --------------------------------------------------------------------------------

LABELS = ["SUPPORTS", "REFUTES", "NOT_ENOUGH_INFO"]  # the column order of factcheck.offline_stance


@dataclass
class ClaimPassage:
    """One claim with the sentences of one abstract (and their labels, when known)."""

    claim: str
    sentences: list[str]
    labels: list[int]
    label: int  # the abstract's stance


def load_sentence_groups(data: Path) -> list[ClaimPassage]:
    """sentence_pairs_train grouped back into (claim, abstract) passages, sentences in order."""
    grouped: dict[str, list[dict]] = {}
    for row in read_jsonl(data / "scifact" / "sentence_pairs_train.jsonl"):
        grouped.setdefault(row["id"].rsplit("-", 1)[0], []).append(row)
    passages = []
    for rows in grouped.values():
        rows.sort(key=lambda r: int(r["id"].rsplit("-", 1)[1]))
        labels = [LABELS.index(r["label"]) for r in rows]
        label = min(labels)  # any rationale sentence sets the abstract's stance
        passages.append(ClaimPassage(rows[0]["claim"], [r["passage"] for r in rows], labels, label))
    return passages


def load_split_passages(data: Path) -> list[ClaimPassage]:
    """pairs_train as the product sees it: the passage cut by factcheck.sentences."""
    from factcheck.sentences import sentences

    return [ClaimPassage(r["claim"], sentences(r["passage"]) or [r["passage"]], [],
                    LABELS.index(r["label"]))
            for r in read_jsonl(data / "scifact" / "pairs_train.jsonl")]


def stance_features(passages: list[ClaimPassage], cache: DiskCache[str],
                    judges: DiskCache[tuple[str, str]]) -> list[np.ndarray]:
    """Per passage, the pair-feature rows of its sentences, each read by the cross-encoder."""
    from factcheck.offline_stance import guarded, pair_features

    claims = cache.rows([p.claim for p in passages])
    vectors = cache.rows([s for p in passages for s in p.sentences])
    readings = judges.rows([(p.claim, s) for p in passages for s in p.sentences])
    rows, offset = [], 0
    for passage, claim_vec in zip(passages, claims):
        end = offset + len(passage.sentences)
        reading = guarded(passage.claim, passage.sentences, readings[offset:end])
        rows.append(pair_features(passage.claim, claim_vec, passage.sentences,
                                  vectors[offset:end], reading))
        offset = end
    return rows


# Which columns each of the two stance models reads; cross-validation chooses the set.
def _feature_sets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from factcheck.offline_stance import (
        DIRECTION_NAMES,
        EMBEDDING_COLUMNS,
        FEATURE_NAMES,
        JUDGE_NAMES,
        columns,
    )
    from factcheck.stance_rules import RULE_NAMES

    embeddings = np.arange(EMBEDDING_COLUMNS)
    rules, judge = columns(RULE_NAMES), columns(JUDGE_NAMES)
    polarity = columns(DIRECTION_NAMES)
    assert len(FEATURE_NAMES) == EMBEDDING_COLUMNS + len(RULE_NAMES) + len(JUDGE_NAMES)
    return {
        "embeddings+rules": (np.concatenate([embeddings, rules]), polarity),
        "embeddings+rules+judge": (np.concatenate([embeddings, rules, judge]),
                                   np.concatenate([polarity, judge])),
        "rules+judge": (np.concatenate([rules, judge]), np.concatenate([polarity, judge])),
    }


def runtime_block(block: np.ndarray) -> np.ndarray:
    """A passage's feature rows as the product has them: the judge reads only the sentences
    closest to the claim (offline_stance.judge_readings), the others' readings are NaN."""
    from factcheck.offline_stance import (
        EMBEDDING_COLUMNS,
        FEATURE_NAMES,
        JUDGE_NAMES,
        JUDGED_PER_PASSAGE,
    )

    cos = block[:, EMBEDDING_COLUMNS]  # the first rule feature is the cosine
    unread = np.argsort(-cos, kind="stable")[JUDGED_PER_PASSAGE:]
    block = block.copy()
    block[np.ix_(unread, [FEATURE_NAMES.index(n) for n in JUDGE_NAMES])] = np.nan
    return block


@dataclass
class _Scored:
    """A passage scored out of fold: what decide() needs, and the number rule's answer."""

    probs: np.ndarray
    cos: np.ndarray
    rule: int | None


def fit_stance(x: np.ndarray, y: np.ndarray, evidence: dict | None, direction_alpha: float,
               evidence_alpha: float = 0.1, balance: float = 0.5,
               feature_set: str = "embeddings+rules") -> dict:
    """The two stance models: evidence (rationale or not) and direction (refutes or supports),
    each on its feature_set columns."""
    evidence_columns, direction_columns = _feature_sets()[feature_set]
    if evidence is None:
        is_rationale = (y < 2).astype(int)
        evidence = _binary(fit_logreg(x[:, evidence_columns], is_rationale, 2, evidence_alpha,
                                      balanced_weights(is_rationale, balance)))
    rationale = y < 2
    refutes = (y[rationale] == 1).astype(int)
    direction = _binary(fit_logreg(x[rationale][:, direction_columns], refutes, 2,
                                   direction_alpha, balanced_weights(refutes), iterations=300,
                                   signs=direction_signs(direction_columns)))
    model = {f"evidence_{key}": value for key, value in evidence.items()}
    model.update({f"direction_{key}": value for key, value in direction.items()})
    model.update(evidence_columns=evidence_columns, direction_columns=direction_columns)
    return model


# The direction model may read these only one way (towards REFUTES: +1, SUPPORTS: -1): on SciFact
# "numbers agree" and "same direction of change" had learnt to push towards REFUTES, which no
# other domain bears out. The pairs whose meaning depends on each other (a negation with an
# opposite verb) stay free; their combination, polarity_flip, is signed.
DIRECTION_SIGNS = {
    "null_result": 1, "numbers_differ": 1, "risk_protect_mismatch": 1, "null_result_x_cos": 1,
    "polarity_flip": 1, "polarity_flip_x_cos": 1, "antonym_flip": 1, "target_mismatch": 1,
    "target_mismatch_only": 1, "judge_refutes": 1,
    "numbers_agree": -1, "direction_match": -1, "antonym_match": -1, "target_match": -1,
    "target_match_only": -1,
}


def direction_signs(direction_columns: np.ndarray) -> np.ndarray:
    """DIRECTION_SIGNS for the direction model's columns (0: free)."""
    from factcheck.offline_stance import FEATURE_NAMES

    return np.array([DIRECTION_SIGNS.get(FEATURE_NAMES[i], 0) for i in direction_columns],
                    dtype=np.float32)


def _evidence_part(model: dict) -> dict:
    return {key.removeprefix("evidence_"): value for key, value in model.items()
            if key.startswith("evidence_") and key != "evidence_columns"}


def _fit_folds(blocks: list[np.ndarray], passages: list[ClaimPassage], fold: np.ndarray, k: int,
               direction_alpha: float, evidence_alpha: float, feature_set: str,
               evidence_models: list[dict] | None = None) -> list[dict]:
    """One stance model per fold, trained on the labelled sentences of the other folds' claims.

    Evidence models already fitted for these folds can be passed in to vary only the direction.
    """
    x = np.vstack(blocks)
    y = np.array([label for p in passages for label in p.labels])
    row_fold = np.repeat(fold, [len(p.sentences) for p in passages])
    return [fit_stance(x[row_fold != f], y[row_fold != f],
                       _evidence_part(evidence_models[f]) if evidence_models else None,
                       direction_alpha, evidence_alpha, feature_set=feature_set)
            for f in range(k)]


def _score_out_of_fold(passages: list[ClaimPassage], blocks: list[np.ndarray], fold: np.ndarray,
                       models: list[dict], judges: DiskCache[tuple[str, str]],
                       overrides: bool = True) -> list[_Scored]:
    """Each passage as judge_sentences sees it: the judge's readings of its closest sentences,
    a rule's answer unless the judge confidently reads the other way, else the fold's model."""
    from factcheck.offline_stance import EMBEDDING_COLUMNS, judge_disagrees, sentence_probs
    from factcheck.stance_rules import rule_override

    scored = []
    for passage, block, f in zip(passages, blocks, fold):
        block = runtime_block(block)
        cos = block[:, EMBEDDING_COLUMNS]
        rule = rule_override(passage.claim, passage.sentences, cos) if overrides else None
        reading = judges.rows([(passage.claim, s) for s in passage.sentences])
        reading[np.isnan(block[:, -1])] = np.nan
        if rule is not None and judge_disagrees(rule, reading):
            rule = None
        scored.append(_Scored(sentence_probs(models[f], block), cos,
                              None if rule is None else LABELS.index(rule.stance.value)))
    return scored


def _decide_all(scored: list[_Scored], min_evidence: float, min_direction: float) -> np.ndarray:
    from factcheck.offline_stance import decide

    return np.array([s.rule if s.rule is not None else
                     LABELS.index(decide(s.probs, s.cos, min_evidence, min_direction).stance.value)
                     for s in scored])


def _best_thresholds(scored: list[_Scored], gold: np.ndarray) -> tuple[float, float, float]:
    """(min_evidence, min_direction, macro-F1) maximising macro-F1 over a small grid."""
    best = (0.5, 0.5, -1.0)
    for min_evidence in np.arange(0.1, 0.91, 0.05):
        for min_direction in np.arange(0.5, 0.81, 0.05):
            f1 = macro_f1(gold, _decide_all(scored, min_evidence, min_direction))
            if f1 > best[2]:
                best = (round(float(min_evidence), 2), round(float(min_direction), 2), f1)
    return best


def _fold_thresholds(scored: list[_Scored], gold: np.ndarray, fold: np.ndarray,
                     k: int) -> list[tuple[float, float]]:
    """Per fold, the (min_evidence, min_direction) tuned on the other folds only."""
    found = []
    for f in range(k):
        others = np.flatnonzero(fold != f)
        found.append(_best_thresholds([scored[i] for i in others], gold[others])[:2])
    return found


def _cross_fitted(scored: list[_Scored], gold: np.ndarray, fold: np.ndarray, k: int) -> np.ndarray:
    """Abstract predictions whose thresholds were tuned on the other folds only."""
    pred = np.zeros(len(gold), dtype=int)
    for f, (e, d) in enumerate(_fold_thresholds(scored, gold, fold, k)):
        mine = np.flatnonzero(fold == f)
        pred[mine] = _decide_all([scored[i] for i in mine], e, d)
    return pred


def _claim_folds(passages: list[ClaimPassage], k: int, seed: int) -> dict[str, int]:
    claims = [p.claim for p in passages]
    folds = grouped_folds(claims, k, seed)
    return {claims[i]: f for f, idx in enumerate(folds) for i in idx}


@dataclass
class _StanceData:
    """The stance training rows and the runtime-split passages, with features and folds."""

    train: list[ClaimPassage]
    split: list[ClaimPassage]
    train_blocks: list[np.ndarray]
    split_blocks: list[np.ndarray]
    train_fold: np.ndarray
    split_fold: np.ndarray

    @property
    def gold(self) -> np.ndarray:
        return np.array([p.label for p in self.split])

    @property
    def gold_sentences(self) -> np.ndarray:
        return np.array([label for p in self.train for label in p.labels])


def _load_stance_data(data: Path, cache: DiskCache[str], judges: DiskCache[tuple[str, str]], seed: int,
                      k: int) -> _StanceData:
    train, split = load_sentence_groups(data), load_split_passages(data)
    fold_of = _claim_folds(train + split, k, seed)
    return _StanceData(train, split, stance_features(train, cache, judges),
                       stance_features(split, cache, judges),
                       np.array([fold_of[p.claim] for p in train]),
                       np.array([fold_of[p.claim] for p in split]))


def _evaluate_stance(d: _StanceData, fitted: list[dict], k: int, judges: DiskCache[tuple[str, str]],
                     overrides: bool) -> tuple[dict, list[_Scored]]:
    """Cross-validated numbers of one setting's fold models, and its scored passages."""
    scored = _score_out_of_fold(d.split, d.split_blocks, d.split_fold, fitted, judges, overrides)
    in_train = _score_out_of_fold(d.train, d.train_blocks, d.train_fold, fitted, judges,
                                  overrides)
    train_gold = np.array([p.label for p in d.train])
    return {
        "abstract_macro_f1": macro_f1(d.gold, _cross_fitted(scored, d.gold, d.split_fold, k)),
        "sentence_macro_f1": macro_f1(
            d.gold_sentences, np.concatenate([s.probs.argmax(1) for s in in_train])),
        "gold_sentences_abstract_macro_f1": macro_f1(
            train_gold, _cross_fitted(in_train, train_gold, d.train_fold, k)),
        "direction_balanced_accuracy": _direction_accuracy(in_train, d.gold_sentences),
    }, scored


@dataclass
class StanceFolds:
    """The chosen setting's fold models (each with its fold's thresholds) and each claim's fold."""

    models: list[dict]
    fold_of: dict[str, int]


def _settings(feature_sets: list[str]) -> list[tuple[str, bool, float, float]]:
    """(feature set, rule overrides, evidence alpha, direction alpha) to cross-validate."""
    return [(features, overrides, e, d) for features in feature_sets
            for overrides in (True, False) for e in STANCE_EVIDENCE_ALPHAS
            for d in STANCE_DIRECTION_ALPHAS]


def train_stance(data: Path, cache: DiskCache[str], judges: DiskCache[tuple[str, str]], seed: int,
                 k: int = 5, feature_sets: list[str] | None = None, setting: str | None = None,
                 ) -> tuple[dict, dict, StanceFolds]:
    """Grouped-by-claim CV of the stance model and its thresholds, then a fit on everything.

    `setting` (a key of metrics.json's stance by_setting) cross-validates that one alone: the
    same weights as the full grid gives when it chose it, in minutes instead of half an hour.
    """
    d = _load_stance_data(data, cache, judges, seed, k)
    results: dict[str, dict] = {}
    scored_by_key: dict[str, list[_Scored]] = {}
    fitted_by_key: dict[str, list[dict]] = {}
    evidence_fits: dict[tuple, list[dict]] = {}
    grid = [_parse_setting(setting)] if setting else _settings(feature_sets or list(_feature_sets()))
    for features, overrides, evidence_alpha, direction_alpha in grid:
        fitted = _fit_folds(d.train_blocks, d.train, d.train_fold, k, direction_alpha,
                            evidence_alpha, features, evidence_fits.get((features, evidence_alpha)))
        evidence_fits[(features, evidence_alpha)] = fitted
        key = (f"features={features},rule_overrides={overrides},"
               f"evidence_alpha={evidence_alpha},direction_alpha={direction_alpha}")
        results[key], scored_by_key[key] = _evaluate_stance(d, fitted, k, judges, overrides)
        fitted_by_key[key] = [{**m, "rule_overrides": np.bool_(overrides)} for m in fitted]
        logger.info("stance %s: %s", key, results[key])
    chosen = max(results, key=lambda key: results[key]["abstract_macro_f1"])
    features, overrides, evidence_alpha, direction_alpha = _parse_setting(chosen)
    model = fit_stance(np.vstack(d.train_blocks), d.gold_sentences, None, direction_alpha,
                       evidence_alpha, feature_set=features)
    min_evidence, min_direction, _ = _best_thresholds(scored_by_key[chosen], d.gold)
    model.update(min_evidence=np.float32(min_evidence), min_direction=np.float32(min_direction),
                 rule_overrides=np.bool_(overrides))
    metrics = _stance_report(results, chosen, scored_by_key[chosen], d.gold, d.split_fold, k)
    metrics.update(min_evidence=min_evidence, min_direction=min_direction)
    thresholds = _fold_thresholds(scored_by_key[chosen], d.gold, d.split_fold, k)
    folds = StanceFolds(
        [{**m, "min_evidence": np.float32(e), "min_direction": np.float32(r)}
         for m, (e, r) in zip(fitted_by_key[chosen], thresholds)],
        {p.claim: int(f) for p, f in zip(d.train + d.split, np.concatenate(
            [d.train_fold, d.split_fold]))})
    return model, metrics, folds


def _parse_setting(key: str) -> tuple[str, bool, float, float]:
    values = dict(part.split("=") for part in key.split(","))
    return (values["features"], values["rule_overrides"] == "True",
            float(values["evidence_alpha"]), float(values["direction_alpha"]))


def _direction_accuracy(scored: list[_Scored], gold_sentences: np.ndarray) -> float:
    """Balanced accuracy of SUPPORTS vs REFUTES on the rationale sentences alone."""
    probs = np.vstack([s.probs for s in scored])
    says_refutes = probs[:, 1] > probs[:, 0]
    return float(np.mean([np.mean(says_refutes[gold_sentences == 1]),
                          np.mean(~says_refutes[gold_sentences == 0])]))


def _stance_report(results: dict, chosen: str, scored: list[_Scored], gold: np.ndarray,
                   fold: np.ndarray, k: int) -> dict:
    pred = _cross_fitted(scored, gold, fold, k)
    confusion = np.zeros((3, 3), dtype=int)
    np.add.at(confusion, (gold, pred), 1)
    majority = np.full(len(gold), np.bincount(gold).argmax())
    return {
        "cv": f"{k}-fold cross-validation grouped by claim; thresholds tuned on the other folds",
        "by_setting": results, "chosen": chosen, **results[chosen],
        "abstract_majority_macro_f1": macro_f1(gold, majority),
        "abstract_confusion_rows_gold_cols_pred": {
            "labels": LABELS, "matrix": confusion.tolist()},
        "rules_fired": int(sum(s.rule is not None for s in scored)),
    }


# --- verdicts end to end ------------------------------------------------------------------

VERDICT_ALPHAS, VERDICT_BALANCE = (0.01, 0.1), (0.5, 1.0)  # settings the CV chooses among
CLEAR_CUTS = (0.3, 0.4, 0.5, 0.6, 0.7)  # "clear, not a lean" cut-offs the trade-off is shown at


@dataclass
class ClaimCalls:
    """One training claim run through the pipeline, its passages judged by its fold's model."""

    gold: int
    fold: int
    inputs: VerdictInputs  # what factcheck.verdict reads of its judged related passages


def retrieved_claims(data: Path, cache: DiskCache[str]) -> tuple[list[dict], list[tuple]]:
    """SciFact training claims and, per claim, (claim text, related hits) as the pipeline has them.

    The corpus is embedded once into an evaluation collection under the cache folder.
    """
    from factcheck.claims import extract_claims_offline
    from factcheck.eval_corpus import corpus_store
    from factcheck.models import Article
    from factcheck.settings import Settings

    settings = Settings(_env_file=None, data_dir=cache.folder, engine="offline",
                        embeddings="local")
    rows = read_jsonl(data / "scifact" / "claims_train.jsonl")
    # The pipeline's verdict of a one-claim article is that of its first extracted claim.
    texts = [next((c.text for c in extract_claims_offline(Article(text=r["claim"]),
                                                          settings.max_claims)), None)
             for r in rows]
    with corpus_store(data / "scifact" / "corpus.jsonl", settings) as store:
        hits = store.search_many([t or "" for t in texts], k=settings.top_k)
    related = [[h for h in found if h.similarity is None or h.similarity >= settings.min_similarity]
               if text else [] for text, found in zip(texts, hits)]
    return rows, list(zip(texts, related))


def claim_calls(data: Path, cache: DiskCache[str], judges: DiskCache[tuple[str, str]],
                folds: StanceFolds) -> list[ClaimCalls]:
    """Each claim's strongest support and refutation, judged by a model that never saw it."""
    from factcheck.offline_stance import judge_readings, judge_sentences
    from factcheck.sentences import sentences
    from factcheck.verdict import VerdictInputs

    rows, claims = retrieved_claims(data, cache)
    split = [[sentences(h.text) or [h.text] for h in hits] for _, hits in claims]
    cache.rows([t for t, _ in claims if t] + [s for per in split for p in per for s in p])
    found = []
    for row, (text, hits), per in zip(rows, claims, split):
        fold = folds.fold_of[row["claim"]]
        best = {"SUPPORTS": 0.0, "REFUTES": 0.0, "NOT_ENOUGH_INFO": 0.0}
        for passage in per:
            vectors = cache.rows([text] + passage)
            reading = judge_readings(text, vectors[0], [passage], [vectors[1:]], judges.rows)[0]
            judged = judge_sentences(text, vectors[0], passage, vectors[1:], folds.models[fold],
                                     reading)
            best[judged.stance.value] = max(best[judged.stance.value], judged.confidence)
        closest = max((h.similarity for h in hits if h.similarity is not None), default=0.0)
        found.append(ClaimCalls(LABELS.index(row["label"]), fold,
                                VerdictInputs(best["SUPPORTS"], best["REFUTES"], closest)))
    return found


def _verdict_labels(calls: list[ClaimCalls], model) -> np.ndarray:
    """Label indices (LABELS order) that factcheck.verdict gives these claims; MIXED counts NEI."""
    from factcheck.verdict import LABELS as VERDICT_LABELS
    from factcheck.verdict import label_for

    return np.array([VERDICT_LABELS.index(label) if label in VERDICT_LABELS else 2
                     for label in (label_for(c.inputs, model) for c in calls)])


def fit_verdict(calls: list[ClaimCalls], alpha: float, balance: float, lean_cap: float = 0.25):
    """The verdict model: 3-class logistic regression on (support, refute, closest)."""
    from factcheck.verdict import VerdictModel

    x = np.array([[c.inputs.support, c.inputs.refute, c.inputs.closest] for c in calls],
                 dtype=np.float32)
    y = np.array([c.gold for c in calls])  # SciFact's label order is the verdict's
    fitted = fit_logreg(x, y, 3, alpha, balanced_weights(y, balance), iterations=300)
    return VerdictModel(
        mean=tuple(map(float, fitted["mean"])), scale=tuple(map(float, fitted["scale"])),
        coef=tuple(tuple(map(float, row)) for row in fitted["coef"]),
        intercept=tuple(map(float, fitted["intercept"])), lean_cap=lean_cap)


def _cross_fitted_verdicts(calls: list[ClaimCalls], alpha: float, balance: float,
                           k: int) -> np.ndarray:
    fold, pred = np.array([c.fold for c in calls]), np.zeros(len(calls), dtype=int)
    for f in range(k):
        model = fit_verdict([c for c in calls if c.fold != f], alpha, balance)
        pred[fold == f] = _verdict_labels([c for c in calls if c.fold == f], model)
    return pred


def train_verdict(data: Path, cache: DiskCache[str], judges: DiskCache[tuple[str, str]], folds: StanceFolds,
                  k: int = 5) -> tuple[dict, dict]:
    """Fit the verdict model end to end; its numbers are cross-fitted by claim fold."""
    from factcheck.verdict import CREDIBLE, VerdictModel

    calls = claim_calls(data, cache, judges, folds)
    gold = np.array([c.gold for c in calls])
    preds = {(a, b): _cross_fitted_verdicts(calls, a, b, k)
             for a in VERDICT_ALPHAS for b in VERDICT_BALANCE}
    alpha, balance = max(preds, key=lambda key: macro_f1(gold, preds[key]))
    pred = preds[(alpha, balance)]
    strength = np.array([max(c.inputs.support, c.inputs.refute) for c in calls])
    lean = (pred < 2) & (strength < CREDIBLE)
    # A lean's confidence: how often leans were right, never as high as a clear verdict's cut.
    lean_cap = min(round(float(np.mean(pred[lean] == gold[lean])), 2), CREDIBLE) if lean.any() \
        else CREDIBLE / 2
    model = fit_verdict(calls, alpha, balance, lean_cap)
    metrics = _verdict_report(calls, gold, pred, strength, lean)
    metrics.update(chosen=f"alpha={alpha},balance={balance}", by_setting={
        f"alpha={a},balance={b}": macro_f1(gold, p) for (a, b), p in preds.items()},
        macro_f1_fixed_0_5_rule=macro_f1(gold, _verdict_labels(calls, VerdictModel())))
    return {key: getattr(model, key) for key in
            ("mean", "scale", "coef", "intercept", "lean_cap")}, metrics


def _verdict_report(calls: list[ClaimCalls], gold: np.ndarray, pred: np.ndarray,
                    strength: np.ndarray, lean: np.ndarray) -> dict:
    confusion = np.zeros((3, 3), dtype=int)
    np.add.at(confusion, (gold, pred), 1)
    return {
        "cv": "each claim judged by the stance fold model that never saw it; verdict model "
              "fitted on the other folds' claims (5 folds grouped by claim)",
        "macro_f1": macro_f1(gold, pred), "accuracy": float(np.mean(gold == pred)),
        "confusion_rows_gold_cols_pred": {"labels": LABELS, "matrix": confusion.tolist()},
        "lean_share": float(lean.mean()), "lean_precision": float(np.mean(pred[lean] == gold[lean])),
        "clear_cut_tradeoff": [_tradeoff(gold, pred, strength, cut) for cut in CLEAR_CUTS],
    }


def _tradeoff(gold: np.ndarray, pred: np.ndarray, strength: np.ndarray, cut: float) -> dict:
    """At one "clear" cut-off: confident wrong verdicts, and macro-F1 if leans were withheld."""
    clear = (pred < 2) & (strength >= cut)
    withheld = np.where((pred < 2) & ~clear, 2, pred)
    return {"cut": cut, "clear_share": float(clear.mean()),
            "confident_wrong_share": float(np.mean(clear & (pred != gold))),
            "clear_precision": float(np.mean(pred[clear] == gold[clear])) if clear.any() else None,
            "macro_f1_leans_withheld": macro_f1(gold, withheld)}


# --- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Train both models, print the cross-validated numbers, write weights and metrics.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("factcheck/weights"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/factcheck-embcache"),
                        help="embeddings of the training texts, kept between runs")
    parser.add_argument("--judge-cache", type=Path, default=Path("/tmp/factcheck-judgecache"),
                        help="the cross-encoder's readings of the training pairs, kept between runs")
    parser.add_argument("--features", nargs="*", default=None,
                        help="stance feature sets to cross-validate (default: all)")
    parser.add_argument("--stance-setting", default=None,
                        help="cross-validate this one stance setting (a key of metrics.json's "
                             "stance by_setting) instead of the grid")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--only", choices=["checkworthiness", "stance"], default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    np.random.seed(args.seed)
    cache, metrics_path = embedding_cache(args.cache), args.out / "metrics.json"
    judges = judge_cache(args.judge_cache)
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    started = time.time()
    if args.only in (None, "checkworthiness"):
        model, metrics["checkworthiness"] = train_checkworthiness(args.data, cache, args.seed)
        np.savez(args.out / "checkworthiness.npz", **model)
    if args.only in (None, "stance"):
        model, metrics["stance"], folds = train_stance(args.data, cache, judges, args.seed,
                                                       feature_sets=args.features,
                                                       setting=args.stance_setting)
        np.savez(args.out / "stance.npz", **model)
        rule, metrics["verdict"] = train_verdict(args.data, cache, judges, folds)
        (args.out / "verdict.json").write_text(json.dumps(rule, indent=2) + "\n")
    metrics["embedder"], metrics["seed"] = "all-MiniLM-L6-v2", args.seed
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    print(json.dumps(_headline(metrics), indent=2))
    logger.info("done in %.0fs", time.time() - started)
    return 0


def _headline(metrics: dict) -> dict:
    check, stance = metrics.get("checkworthiness", {}), metrics.get("stance", {})
    return {
        "checkworthiness_cv_checkthat2019_map": check.get("checkthat2019_map"),
        "checkworthiness_cv_claimbuster_ap": check.get("claimbuster_ap"),
        "stance_cv_abstract_macro_f1": stance.get("abstract_macro_f1"),
        "stance_cv_sentence_macro_f1": stance.get("sentence_macro_f1"),
        "stance_abstract_majority_macro_f1": stance.get("abstract_majority_macro_f1"),
        "verdict_cv_macro_f1": metrics.get("verdict", {}).get("macro_f1"),
    }


if __name__ == "__main__":
    sys.exit(main())
