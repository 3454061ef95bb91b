"""How long check-worthiness scoring takes for one article's sentences, and what the encoder adds.

    .venv/bin/python bench/checkworthiness.py [--article examples/seed_article.txt]
                                              [--sentences 40] [--repeats 5]

Splits the article into sentences (the first --sentences of them, repeated if it has fewer),
embeds them once (the pipeline has the embeddings already, for retrieval), then prints the
first-call load time and the best of --repeats for: the whole score, the logistic part alone and
the fine-tuned encoder alone. The machine is shared: the load average is printed too.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from factcheck import checkworthiness
from factcheck.weights import embedder

ROOT = Path(__file__).resolve().parent.parent


def best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--article", type=Path, default=ROOT / "examples" / "seed_article.txt")
    parser.add_argument("--sentences", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    found = [s for s in re.split(r"(?<=[.!?])\s+", args.article.read_text()) if s.strip()]
    sentences = (found * (args.sentences // len(found) + 1))[: args.sentences]
    vectors = embedder().embed(sentences)
    started = time.perf_counter()
    checkworthiness.score(sentences[:1], vectors[:1])
    print(f"first call (loads the models): {time.perf_counter() - started:.2f} s")
    model = checkworthiness._model()
    rows = checkworthiness.features(sentences, vectors)
    for name, run in [("score (both)", lambda: checkworthiness.score(sentences, vectors)),
                      ("logistic part", lambda: checkworthiness.logistic_logits(model, rows)),
                      ("encoder part", lambda: checkworthiness.encoder_logits(sentences))]:
        print(f"{name}: {best_of(args.repeats, run) * 1000:.0f} ms for {len(sentences)} sentences")
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
