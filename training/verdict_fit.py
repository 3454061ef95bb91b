"""Verdicts end to end: each SciFact training claim through claim extraction, hybrid search and
the stance fold model that never saw it; the verdict model fitted on what that gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from disk_cache import DiskCache, FoldJudges
from logreg import balanced_weights, fit_logreg
from stance_cv import StanceFolds
from stance_fit import LABELS

from factcheck.evaluation import read_jsonl
from factcheck.metrics import macro_f1

if TYPE_CHECKING:
    from factcheck.verdict import VerdictInputs

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
    from factcheck.pipeline import related
    from factcheck.settings import Settings

    settings = Settings(_env_file=None, data_dir=cache.folder, engine="offline",
                        embeddings="local")
    rows = read_jsonl(data / "scifact" / "claims_train.jsonl", ("claim", "label"))
    # The pipeline's verdict of a one-claim article is that of its first extracted claim.
    texts = [next((c.text for c in extract_claims_offline(Article(text=r["claim"]),
                                                          settings.max_claims)), None)
             for r in rows]
    with corpus_store(data / "scifact" / "corpus.jsonl", settings) as store:
        hits = store.search_many([t or "" for t in texts], k=settings.top_k)
    kept = [[h for h in found if related(h, settings.min_similarity)] if text else []
            for text, found in zip(texts, hits)]
    return rows, list(zip(texts, kept))


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
        if text and isinstance(judges, FoldJudges):  # read as its source claim is
            judges.fold_of.setdefault(text, fold)
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
