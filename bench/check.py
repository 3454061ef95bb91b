"""How long `factcheck check` takes on the seed article, offline: warm pipeline and cold command.

    .venv/bin/python bench/check.py                                          # issue 2
    .venv/bin/python bench/check.py --collection tests/data/news_seed/sources.jsonl  # issue 9

Ingests the collection (default examples/corpus.jsonl) into a temporary data dir first (not
timed), then prints the pipeline's time once warm (median of 5 runs, models loaded) and the whole
command's wall time from a cold start (a new process: imports, model load, store open, check),
median of 3. Targets: on examples/corpus.jsonl warm < 1 s, cold < 5 s (issue 2); on the news
collection, where the cross-encoder reads many more related sentences, warm <= 3 s and cold <= 8 s
(issue 9).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "examples" / "seed_article.txt"
FACTCHECK = [sys.executable, "-m", "factcheck"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", type=Path, default=ROOT / "examples" / "corpus.jsonl")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "DATA_DIR": data_dir, "ENGINE": "offline"}
        subprocess.run([*FACTCHECK, "ingest", str(args.collection)],
                       env=env, check=True, capture_output=True)
        os.environ.update(env)
        print(f"warm pipeline: median {warm_seconds():.3f} s over 5 runs "
              "(targets: < 1 s on the corpus, <= 3 s on news)")
        cold = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([*FACTCHECK, "check", str(ARTICLE), "--format", "json"],
                           env=env, check=True, capture_output=True)
            cold.append(time.perf_counter() - started)
        print(f"cold command:  median {statistics.median(cold):.3f} s over 3 runs "
              "(targets: < 5 s on the corpus, <= 8 s on news)")


def warm_seconds() -> float:
    from factcheck.pipeline import check, open_store
    from factcheck.settings import Settings

    settings = Settings()
    store = open_store(settings)
    report = check(str(ARTICLE), settings, store)  # loads the models
    print(f"seed article: {len(report.claims)} claims, "
          f"{len(report.internal_contradictions)} internal contradictions")
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        check(str(ARTICLE), settings, store)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


if __name__ == "__main__":
    main()
