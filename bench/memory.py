"""The claim memory: how well it tells a repeated claim from a near miss, and how fast it recalls.

    .venv/bin/python bench/memory.py            # matcher quality, then recall() at 10k and 100k
    .venv/bin/python bench/memory.py --quality  # matcher quality only

Quality: tests/data/paraphrases.jsonl holds hand-written pairs (the seed article's casualty
claims rephrased; near misses with another figure, place or negation; other claims of the same
story; unrelated ones). A pair is matched when its cosine (local MiniLM) reaches the threshold
and `details_agree` holds. Prints precision and recall per threshold, and the pairs the current
MEMORY_SIMILARITY gets wrong. The threshold was chosen on this same set: the numbers are
optimistic for other wordings.

Speed: a temporary memory is filled with N synthetic rows (real claim vectors plus noise, so that
some rows are close), then recall() of one article's 10 claims and of one claim is timed
(median of 10) with their vectors already computed (recall() keeps them for remember()); the
embedding of 10 claims, which a first recall() adds, is timed apart.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from factcheck.memory import ClaimMemory, details_agree
from factcheck.retrieval.embedder import local_embedder
from factcheck.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "tests" / "data" / "paraphrases.jsonl"
THRESHOLDS = [0.70, 0.75, 0.78, 0.80, 0.82, 0.85, 0.87, 0.90]


def quality(embedder, chosen: float) -> None:
    """Precision and recall of the matcher on the labelled pairs, per threshold."""
    pairs = [json.loads(line) for line in PAIRS.read_text().splitlines() if line.strip()]
    first = embedder.embed([p["a"] for p in pairs])
    second = embedder.embed([p["b"] for p in pairs])
    cosines = np.sum(first * second, axis=1)
    agree = np.array([details_agree(p["a"], p["b"]) for p in pairs])
    same = np.array([p["same"] for p in pairs])
    print(f"{len(pairs)} pairs, {same.sum()} the same claim; "
          f"details rules alone reject {(~agree & ~same).sum()} of {(~same).sum()} others")
    print("threshold  precision  recall  (cosine only: precision recall)")
    for threshold in sorted({*THRESHOLDS, chosen}):
        matched = (cosines >= threshold) & agree
        plain = cosines >= threshold
        mark = "  <- MEMORY_SIMILARITY" if threshold == chosen else ""
        print(f"  {threshold:.2f}     {_precision(matched, same):.2f}      "
              f"{matched[same].mean():.2f}    ({_precision(plain, same):.2f} "
              f"{plain[same].mean():.2f}){mark}")
    wrong = ((cosines >= chosen) & agree) != same
    for p, cosine in zip(np.array(pairs)[wrong], cosines[wrong]):
        print(f"  wrong at {chosen:.2f}: {p['kind']} cos {cosine:.3f}: {p['a']!r} / {p['b']!r}")


def _precision(matched: np.ndarray, same: np.ndarray) -> float:
    return float(same[matched].mean()) if matched.any() else 1.0


def speed(embedder, rows: int, claims: list[str]) -> None:
    """Time recall() over a memory of `rows` synthetic claims."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.sqlite"
        memory = ClaimMemory(path, embedder)
        _fill(memory, embedder, claims, rows)
        started = time.perf_counter()
        memory = ClaimMemory(path, embedder)
        opened = time.perf_counter() - started
        article = _median(lambda: memory.recall(claims[:10], chat_id=1))
        one = _median(lambda: memory.recall(claims[:1], chat_id=1))
        embed = _median(lambda: embedder.embed(claims[:10]))
        megabytes = memory._vectors[: memory.size].nbytes / 1e6
        print(f"{rows:>7} claims: open {opened:.2f} s, {megabytes:.0f} MB of vectors; recall "
              f"of 10 claims {article * 1e3:.1f} ms, of 1 claim {one * 1e3:.1f} ms "
              f"(+ embedding 10 claims: {embed * 1e3:.1f} ms)")


def _fill(memory: ClaimMemory, embedder, claims: list[str], rows: int) -> None:
    # Direct inserts: remember() would embed every row, which is not what is measured here.
    base = embedder.embed(claims)
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(claims), rows)
    noise = rng.normal(0, 0.03, (rows, base.shape[1])).astype(np.float32)
    vectors = base[picks] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with memory._connect() as db:
        db.executemany(
            "INSERT INTO memory VALUES "
            "(NULL,?,?,1,?,?,'offline:bench',?,?,'SUPPORTED',0.9,'{}',?)",
            [(i + 1, f"check{i}", i % 50, "2024-05-12T10:00:00+00:00", embedder.name,
              claims[p], v.tobytes()) for i, (p, v) in enumerate(zip(picks, vectors))],
        )


def _median(run, times: int = 10) -> float:
    run()  # warm
    laps = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        laps.append(time.perf_counter() - started)
    return statistics.median(laps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", action="store_true", help="matcher quality only")
    args = parser.parse_args()
    embedder = local_embedder()
    quality(embedder, Settings(_env_file=None).memory_similarity)
    if args.quality:
        return
    pairs = [json.loads(line) for line in PAIRS.read_text().splitlines() if line.strip()]
    claims = sorted({p["a"] for p in pairs} | {p["b"] for p in pairs})
    for rows in (10_000, 100_000):
        speed(embedder, rows, claims)


if __name__ == "__main__":
    main()
