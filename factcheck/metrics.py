"""Ranking and classification measures used by `factcheck eval`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """nDCG@k with binary relevance; duplicate ids after the first are ignored."""
    gains = [1.0 if doc in relevant else 0.0 for doc in _dedupe(ranked)[:k]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of the relevant ids found in the first k."""
    return len(set(_dedupe(ranked)[:k]) & relevant) / len(relevant) if relevant else 0.0


def mrr_at_k(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Reciprocal rank of the first relevant id within the first k, else 0."""
    for i, doc in enumerate(_dedupe(ranked)[:k]):
        if doc in relevant:
            return 1 / (i + 1)
    return 0.0


def average_precision(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Average precision of ranking by score (descending); 0 when nothing is positive."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    hits, total = 0, 0.0
    for rank, i in enumerate(order, start=1):
        if labels[i]:
            hits += 1
            total += hits / rank
    return total / hits if hits else 0.0


def precision_at_k(scores: Sequence[float], labels: Sequence[int], k: int) -> float:
    """Share of positives among the k best-scored items."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])[:k]
    return sum(labels[i] for i in order) / k


def precision_recall_f1(right: int, made: int, gold: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts: right answers, answers made, gold answers."""
    precision, recall = right / made if made else 0.0, right / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def macro_f1(gold: np.ndarray, pred: np.ndarray, n_classes: int = 3) -> float:
    """Mean over the classes 0..n_classes-1 of F1 (a class neither predicted nor present
    counts 0), of integer class arrays."""
    scores = []
    for c in range(n_classes):
        tp = np.sum((pred == c) & (gold == c))
        denominator = np.sum(pred == c) + np.sum(gold == c)
        scores.append(2.0 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))


def classification_report(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict:
    """Accuracy, macro-F1, per-label precision/recall/F1 and the confusion table (gold -> pred)."""
    confusion = {g: {p: 0 for p in labels} for g in labels}
    for g, p in zip(gold, pred):
        confusion[g][p] += 1
    per_label = {}
    for label in labels:
        tp = confusion[label][label]
        predicted = sum(confusion[g][label] for g in labels)
        actual = sum(confusion[label].values())
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": precision, "recall": recall, "f1": f1}
    n = len(gold)
    return {
        "n": n,
        "accuracy": sum(g == p for g, p in zip(gold, pred)) / n if n else 0.0,
        "macro_f1": sum(v["f1"] for v in per_label.values()) / len(labels),
        "per_label": per_label,
        "confusion": confusion,
    }


def _dedupe(ranked: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ranked))  # first occurrence of each, in order
