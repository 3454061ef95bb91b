"""Check-worthiness: the sentence model, cross-validated on whole transcripts (debate blocks).

Trained on CheckThat! 2019 and ClaimBuster; ranked by CheckThat!'s MAP and ClaimBuster's AP.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from disk_cache import DiskCache
from logreg import balanced_weights, binary, fit_logreg, grouped_folds

from factcheck.evaluation import read_jsonl
from factcheck.metrics import average_precision

logger = logging.getLogger("train_offline")

# The settings cross-validation chooses among (L2 strength; how far classes are rebalanced).
CHECKWORTHINESS_ALPHAS, CHECKWORTHINESS_BALANCE = (0.1, 0.3, 1.0), (0.25, 0.5)


def mean_average_precision(scores: np.ndarray, labels: np.ndarray, groups: list[str]) -> float:
    """CheckThat! MAP: rank within each group, average precision per group, mean over groups."""
    group_array = np.array(groups)
    values = [average_precision(scores[group_array == g], labels[group_array == g])
              for g in sorted(set(groups))]
    return float(np.mean(values))


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
    checkthat = read_jsonl(data / "checkthat2019" / "sentences_train.jsonl",
                           ("group", "text", "label"))
    claimbuster = read_jsonl(data / "claimbuster" / "sentences_train.jsonl",
                             ("id", "text", "label"))
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


def out_of_fold_scores(x: np.ndarray, d: WorthinessData, train_on: np.ndarray, alpha: float,
                        power: float, k: int, seed: int) -> np.ndarray:
    """Each group scored by a model fitted on the other folds' rows where train_on holds."""
    from factcheck.checkworthiness import sigmoid_scores

    scores, weights = np.zeros(len(d.y)), d.weights(power)
    for test in grouped_folds(d.groups, k, seed):
        train = np.setdiff1d(np.flatnonzero(train_on), test)
        model = binary(fit_logreg(x[train], d.y[train], 2, alpha, weights[train]))
        scores[test] = sigmoid_scores(model, x[test])
    return scores


def worthiness_measures(scores: np.ndarray, d: WorthinessData) -> dict[str, float]:
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
            results[key] = worthiness_measures(
                out_of_fold_scores(x, d, everything, alpha, power, k, seed), d)
            logger.info("check-worthiness %s: %s", key, results[key])
    best = max(results, key=lambda key: sum(results[key].values()))
    alpha, power = (float(part.split("=")[1]) for part in best.split(","))

    def measured(columns: slice, train_on: np.ndarray) -> dict[str, float]:
        return worthiness_measures(
            out_of_fold_scores(x[:, columns], d, train_on, alpha, power, k, seed), d)

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
    model = binary(fit_logreg(x, d.y, 2, alpha, d.weights(power)))
    return model, metrics
