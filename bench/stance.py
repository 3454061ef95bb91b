"""The offline judge with and without its cross-encoder, on a pairs file, and its speed.

    .venv/bin/python bench/stance.py --pairs ../shared/data/scifact/pairs_train.jsonl
    .venv/bin/python bench/stance.py --pairs tests/data/news_seed/pairs.jsonl

Prints, for the rule model alone and for the rule model with the cross-encoder's direction:
macro-F1 of SUPPORTS / REFUTES / NOT_ENOUGH_INFO per passage, and how many passages that one
side supports were called REFUTES and the reverse (wrong-direction calls). Then the
cross-encoder's pairs per second on 2 threads. Pairs files: {"claim", "passage" or "evidence",
"label"} per line, labels SUPPORTS/REFUTES/NOT_ENOUGH_INFO (or supports/refutes/neither).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from factcheck.metrics import macro_f1
from factcheck.models import Passage
from factcheck.offline_stance import judge_offline

LABELS = ["SUPPORTS", "REFUTES", "NOT_ENOUGH_INFO"]
_ALIASES = {"supports": "SUPPORTS", "refutes": "REFUTES", "neither": "NOT_ENOUGH_INFO"}


def read(path: Path, limit: int | None) -> list[tuple[str, str, int]]:
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    found = [(r["claim"], r.get("passage") or r["evidence"],
              LABELS.index(_ALIASES.get(r["label"], r["label"]))) for r in rows]
    return found[:limit]


def measure(rows: list[tuple[str, str, int]], use_judge: bool) -> dict:
    started = time.perf_counter()
    pred = np.array([LABELS.index(judge_offline(c, [Passage(id="p", text=t)],
                                                use_judge=use_judge)[0].stance.value)
                     for c, t, _ in rows])
    gold = np.array([g for _, _, g in rows])
    return {"macro_f1": round(macro_f1(gold, pred), 4),
            "accuracy": round(float(np.mean(gold == pred)), 4),
            "supports_called_refutes": int(np.sum((gold == 0) & (pred == 1))),
            "refutes_called_supports": int(np.sum((gold == 1) & (pred == 0))),
            "seconds": round(time.perf_counter() - started, 1)}


def pairs_per_second(rows: list[tuple[str, str, int]]) -> float:
    from factcheck.judge import CrossEncoderJudge

    judge = CrossEncoderJudge(threads=2)
    pairs = [(c, t[:400]) for c, t, _ in rows][:512]
    judge.probabilities(pairs[:8])  # warm up
    started = time.perf_counter()
    judge.probabilities(pairs)
    return len(pairs) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    rows = read(args.pairs, args.limit)
    print(f"{len(rows)} pairs from {args.pairs}")
    for name, use in (("rules only", False), ("with cross-encoder", True)):
        print(f"{name:>20}: {measure(rows, use)}")
    print(f"cross-encoder: {pairs_per_second(rows):.0f} pairs/s (2 threads, passages cut to "
          "400 characters, batches sorted by length)")


if __name__ == "__main__":
    main()
