"""Stance: the two models (evidence: is this sentence a rationale? direction: refutes or
supports?), their training rows and the feature sets cross-validation chooses among.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from disk_cache import DiskCache
from logreg import balanced_weights, binary, fit_logreg

from factcheck.evaluation import read_jsonl

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
    for row in read_jsonl(data / "scifact" / "sentence_pairs_train.jsonl",
                          ("id", "claim", "passage", "label")):
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
            for r in read_jsonl(data / "scifact" / "pairs_train.jsonl",
                                ("claim", "passage", "label"))]


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
def column_sets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
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


def fit_stance(x: np.ndarray, y: np.ndarray, evidence: dict | None, direction_alpha: float,
               evidence_alpha: float = 0.1, balance: float = 0.5,
               feature_set: str = "embeddings+rules") -> dict:
    """The two stance models: evidence (rationale or not) and direction (refutes or supports),
    each on its feature_set columns."""
    evidence_columns, direction_columns = column_sets()[feature_set]
    if evidence is None:
        is_rationale = (y < 2).astype(int)
        evidence = binary(fit_logreg(x[:, evidence_columns], is_rationale, 2, evidence_alpha,
                                      balanced_weights(is_rationale, balance)))
    rationale = y < 2
    refutes = (y[rationale] == 1).astype(int)
    direction = binary(fit_logreg(x[rationale][:, direction_columns], refutes, 2,
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


def fit_folds(blocks: list[np.ndarray], passages: list[ClaimPassage], fold: np.ndarray, k: int,
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
