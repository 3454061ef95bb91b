"""How fast the local MiniLM embedder loads and embeds sentences and abstracts.

    .venv/bin/python bench/embedder.py [--sentences 512] [--abstracts 64] [--repeats 3]
                                       [--batch-tokens 256,1024,4096] [--threads 1]

Texts come from ../shared/data/scifact/corpus.jsonl when present (sentences split from the
abstracts; whole abstracts, about 200-250 tokens), else generated ones of similar lengths. Prints
the load time in a fresh process (imports + model build + first embedding), then the best of
--repeats runs for each kind of text and each padded-token budget per batch. The machine is shared, so the load average is printed too:
numbers taken under load are low.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "data" / "scifact" / "corpus.jsonl"
sys.path.insert(0, str(ROOT))

COLD_START = """
import time
started = time.perf_counter()
from factcheck.retrieval.embedder import local_embedder
local_embedder().embed(["A first sentence to embed."])
print(time.perf_counter() - started)
"""


def load_texts(sentences: int, abstracts: int) -> tuple[list[str], list[str]]:
    """Sentence-like texts and abstract-like texts, from SciFact if present."""
    if not CORPUS.exists():
        return _generated(sentences, 12), _generated(abstracts, 180)
    with CORPUS.open() as lines:
        docs = [json.loads(line) for line, _ in zip(lines, range(2000))]
    split = [s for d in docs for s in re.split(r"(?<=\.)\s+", d["text"]) if len(s) > 40]
    return split[:sentences], [f"{d['title']} {d['text']}" for d in docs[:abstracts]]


def _generated(count: int, words: int) -> list[str]:
    rng = random.Random(0)
    vocab = ["patients", "treatment", "cells", "protein", "increased", "reduced", "risk", "study",
             "trial", "blood", "levels", "expression", "gene", "mice", "significantly",
             "associated", "with", "the", "of", "in", "and", "was", "were"]
    return [" ".join(rng.choice(vocab) for _ in range(words)) + "." for _ in range(count)]


def cold_load_seconds() -> float:
    """Seconds from a new interpreter to the first embedding (imports and model build included)."""
    result = subprocess.run([sys.executable, "-c", COLD_START], cwd=ROOT, check=True,
                            capture_output=True, text=True)
    return float(result.stdout.strip())


def texts_per_second(embed, texts: list[str], repeats: int) -> float:
    """Best throughput over `repeats` runs of embedding all texts."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        embed(texts)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=512)
    parser.add_argument("--abstracts", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-tokens", default=None,
                        help="comma-separated budgets to compare (default: the embedder's)")
    parser.add_argument("--threads", type=int, default=None, help="default: one per core")
    args = parser.parse_args()

    from factcheck.retrieval.embedder import BATCH_TOKENS, MiniLMEmbedder

    print(f"cpus: {os.cpu_count()}, threads: {args.threads or 'one per core'}, "
          f"load average: {os.getloadavg()[0]:.1f}")
    print(f"cold load + first embedding: {cold_load_seconds():.2f} s (fresh process)")
    started = time.perf_counter()
    embedder = MiniLMEmbedder(threads=args.threads)
    print(f"MiniLMEmbedder() in this process: {time.perf_counter() - started:.2f} s")
    sentences, abstracts = load_texts(args.sentences, args.abstracts)
    budgets = [int(b) for b in (args.batch_tokens or str(BATCH_TOKENS)).split(",")]
    for kind, texts in (("sentences", sentences), ("abstracts", abstracts)):
        tokens = sum(len(e.ids) for e in embedder._tokenizer.encode_batch(texts)) / len(texts)
        embedder.embed(texts[:8])  # warm-up: first runs allocate buffers
        for budget in budgets:
            embedder.max_batch_tokens = budget
            rate = texts_per_second(embedder.embed, texts, args.repeats)
            print(f"{kind}: {rate:.1f} {kind}/s ({len(texts)} texts, {tokens:.0f} tokens on "
                  f"average, batches of <= {budget} padded tokens, best of {args.repeats})")


if __name__ == "__main__":
    main()
