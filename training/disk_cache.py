"""Rows computed once per input and kept on disk, so that training re-runs compute nothing twice.

The embedding cache holds a MiniLM vector per sentence, the judge cache the cross-encoder's
(supports, refutes, neither) per (claim, sentence) pair.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

logger = logging.getLogger("train_offline")
Item = TypeVar("Item")


class DiskCache(Generic[Item]):
    """`compute(items) -> (n, width)` rows, keyed by a hash of each item, saved in npz parts."""

    def __init__(self, folder: Path, compute: Callable[[list[Item]], np.ndarray], width: int,
                 what: str, chunk: int = 1000) -> None:
        self.folder, self.compute, self.width, self.what, self.chunk = (
            folder, compute, width, what, chunk)
        folder.mkdir(parents=True, exist_ok=True)
        self._rows: dict[str, np.ndarray] = {}
        for part in sorted(folder.glob("part-*.npz")):
            data = np.load(part)
            self._rows.update(zip(data["keys"].tolist(), data["rows"]))

    def rows(self, items: list[Item]) -> np.ndarray:
        """(n, width) rows of items, computing (and saving) only the ones not cached yet."""
        keys = [_key(item) for item in items]
        missing = list({k: item for k, item in zip(keys, items) if k not in self._rows}.items())
        for start in range(0, len(missing), self.chunk):
            batch = missing[start : start + self.chunk]
            t0 = time.time()
            self._save([k for k, _ in batch], self.compute([item for _, item in batch]))
            logger.info("%s %d/%d new items (%.0fs)", self.what, start + len(batch),
                        len(missing), time.time() - t0)
        if not keys:
            return np.zeros((0, self.width), np.float32)
        return np.stack([self._rows[k] for k in keys])

    def _save(self, keys: list[str], rows: np.ndarray) -> None:
        index = len(list(self.folder.glob("part-*.npz")))
        np.savez(self.folder / f"part-{index:05d}.npz", keys=np.array(keys), rows=rows)
        self._rows.update(zip(keys, rows))


def _key(item: object) -> str:
    text = "\x00".join(item) if isinstance(item, tuple) else str(item)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def embedding_cache(folder: Path) -> DiskCache[str]:
    """MiniLM vectors of sentences (the embedder is loaded on first use)."""
    model = []

    def embed(texts: list[str]) -> np.ndarray:
        if not model:
            from factcheck.weights import embedder

            model.append(embedder())
        return model[0].embed(texts)

    return DiskCache(folder, embed, 384, "embedded")


def judge_cache(folder: Path, weights_file: str | None = None) -> DiskCache[tuple[str, str]]:
    """The cross-encoder's readings of (claim, sentence) pairs (loaded on first use): the
    shipped judge's, or those of the judge in weights_file (a path)."""
    model = []

    def read(pairs: list[tuple[str, str]]) -> np.ndarray:
        if not model:
            from factcheck.judge import CrossEncoderJudge, cross_encoder

            model.append(CrossEncoderJudge(weights_file=weights_file) if weights_file
                         else cross_encoder())
        return model[0].probabilities(pairs)

    return DiskCache(folder, read, 3, "judged", chunk=2000)


class FoldJudges:
    """Readings of (claim, sentence) pairs, each by the fold judge that never saw its claim
    (train_judge_scifact.py --folds wrote the judges and each claim's fold)."""

    def __init__(self, folder: Path) -> None:
        self.fold_of: dict[str, int] = json.loads((folder / "fold_of.json").read_text())
        self.judges = {f: judge_cache(folder / f"cache-{f}", str(folder / f"judge-{f}.npz"))
                       for f in sorted(set(self.fold_of.values()))}

    def rows(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        out = np.zeros((len(pairs), 3), dtype=np.float32)
        folds = np.array([self.fold_of[claim] for claim, _ in pairs], dtype=int)
        for f, judges in self.judges.items():
            mine = np.flatnonzero(folds == f)
            if len(mine):
                out[mine] = judges.rows([pairs[i] for i in mine])
        return out
