"""Stance cross-validation: fold models scored as the product judges a passage, thresholds
tuned on the other folds, the chosen setting fitted on everything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from disk_cache import DiskCache
from logreg import grouped_folds
from stance_fit import (
    LABELS,
    ClaimPassage,
    column_sets,
    fit_folds,
    fit_stance,
    load_sentence_groups,
    load_split_passages,
    runtime_block,
    stance_features,
)

from factcheck.metrics import macro_f1

logger = logging.getLogger("train_offline")

STANCE_EVIDENCE_ALPHAS, STANCE_DIRECTION_ALPHAS = (0.01, 0.03, 0.1, 0.3), (0.01, 0.03, 0.1)


@dataclass
class _Scored:
    """A passage scored out of fold: what decide() needs, and the number rule's answer."""

    probs: np.ndarray
    cos: np.ndarray
    rule: int | None


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


def claim_folds(passages: list[ClaimPassage], k: int, seed: int) -> dict[str, int]:
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
    fold_of = claim_folds(train + split, k, seed)
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
    grid = [_parse_setting(setting)] if setting else _settings(feature_sets or list(column_sets()))
    for features, overrides, evidence_alpha, direction_alpha in grid:
        fitted = fit_folds(d.train_blocks, d.train, d.train_fold, k, direction_alpha,
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
