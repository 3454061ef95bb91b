"""Hybrid search latency and memory with 100,000 chunks, embedded and over a Chroma server.

    .venv/bin/python bench/search.py [--chunks 100000] [--queries 200] [--chroma-server]

To avoid embedding 100,000 texts, the chunks are SYNTHETIC: random unit vectors and texts drawn
from a Zipf-distributed vocabulary of pseudo-words, written straight into Chroma and the BM25
index (the same two writes ingest makes). Latency is measured twice: with a stand-in query
embedder (random vectors: the store's own cost) and with the real local embedder (what a user
waits for). Prints p50/p95 per query, the BM25 index's cold build time and the process's RSS.

With --chroma-server the same chunks also go into a `chroma run` started on 127.0.0.1 for the
run (as machines sharing a collection use it), and the hybrid, lexical and dense latencies of
both stores are printed side by side at the end, from the same run.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from factcheck.retrieval.lexical import ChunkRecord, LexicalIndex
from factcheck.retrieval.store import SourceStore

DIMS = 384
BATCH = 5000


class RandomEmbedder:
    """Random unit vectors, named like the real model so the collection accepts both."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, seed: int = 1) -> None:
        self.rng = np.random.default_rng(seed)

    def embed(self, texts: list[str]) -> np.ndarray:
        v = self.rng.standard_normal((len(texts), DIMS)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def vocabulary(size: int, rng: np.random.Generator) -> list[str]:
    """Pronounceable pseudo-words (so the stemmer does real work), some with -ing/-ed/-s."""
    consonants, vowels = list("bcdfghklmnprstvz"), list("aeiou")
    suffixes = ["", "", "", "s", "ing", "ed", "ation", "ness"]
    words = set()
    while len(words) < size:
        syllables = rng.integers(2, 5)
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables))
        words.add(word + suffixes[rng.integers(len(suffixes))])
    return sorted(words)


def synthetic_texts(n: int, words: list[str], rng: np.random.Generator) -> list[str]:
    """Texts of 60-140 words with Zipf-like word frequencies (~700 characters, like a chunk)."""
    ranks = np.minimum(rng.zipf(1.15, size=n * 140) - 1, len(words) - 1)
    lengths = rng.integers(60, 141, size=n)
    out, pos = [], 0
    for length in lengths:
        out.append(" ".join(words[i] for i in ranks[pos : pos + length]) + ".")
        pos += length
    return out


def fill(store: SourceStore, texts: list[str], rng: np.random.Generator) -> float:
    """Write chunks straight into Chroma and the BM25 index; returns seconds taken."""
    start = time.perf_counter()
    now = "2024-01-01T00:00:00+00:00"
    for first in range(0, len(texts), BATCH):
        part = texts[first : first + BATCH]
        ids = [f"c{first + i}" for i in range(len(part))]
        vectors = RandomEmbedder(first).embed(part)
        store._chroma.add(
            ids=ids,
            embeddings=vectors,
            documents=part,
            metadatas=[{"source_id": f"s{int(c[1:]) // 3}"} for c in ids],
        )
        store._index.add(
            [
                ChunkRecord(c, f"s{int(c[1:]) // 3}", None, None, None, now, t)
                for c, t in zip(ids, part)
            ]
        )
        print(f"  {first + len(part):,} chunks written", end="\r", flush=True)
    print()
    return time.perf_counter() - start


def latencies(store: SourceStore, queries: list[str], mode: str = "hybrid") -> np.ndarray:
    """Milliseconds of each search."""
    out = []
    for query in queries:
        start = time.perf_counter()
        store.search(query, k=5, mode=mode)  # type: ignore[arg-type]
        out.append((time.perf_counter() - start) * 1000)
    return np.array(out)


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    current = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(label: str, ms: np.ndarray) -> None:
    print(
        f"{label}: p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, "
        f"max {ms.max():.1f} ms over {len(ms)} queries"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the store in this folder")
    parser.add_argument("--chroma-server", action="store_true",
                        help="also measure the same chunks on a `chroma run` on 127.0.0.1")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    words = vocabulary(30_000, rng)
    texts = synthetic_texts(args.chunks, words, rng)
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="bench-search-"))
    print(f"SYNTHETIC chunks (random unit vectors + pseudo-word texts) in {data_dir}")

    def embedded() -> SourceStore:
        return SourceStore.open(data_dir, "bench", RandomEmbedder())

    results = {"embedded": build_and_measure(embedded, texts, words, args.queries)}
    if args.chroma_server:
        results["chroma run"] = on_a_server(data_dir, texts, words, args.queries)
        compare(results)
    if args.keep is None:
        shutil.rmtree(data_dir, ignore_errors=True)


def on_a_server(data_dir: Path, texts: list[str], words: list[str], n_queries: int
                ) -> dict[str, np.ndarray]:
    """The same chunks in a collection of a `chroma run` on loopback, measured the same way."""
    from tests.fakes.chroma_server import StoppableChromaServer, chroma_executable

    executable = chroma_executable()
    if executable is None:
        raise SystemExit("--chroma-server needs the `chroma` command (pip install chromadb)")
    folder = Path(tempfile.mkdtemp(prefix="bench-chroma-run-"))
    try:
        with StoppableChromaServer(folder, executable) as chroma:
            where = chroma.server
            print(f"\nthe same chunks on `chroma run` at {where.host}:{where.port}")

            def served() -> SourceStore:
                return SourceStore.open(data_dir / "client", "bench", RandomEmbedder(),
                                        where.host, where.port)

            return build_and_measure(served, texts, words, n_queries)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def build_and_measure(open_store: Callable[[], SourceStore], texts: list[str],
                      words: list[str], n_queries: int) -> dict[str, np.ndarray]:
    """Fill the store (unless it holds the chunks already), then measure it reopened."""
    store = open_store()
    if store.count() < len(texts):
        took = fill(store, texts, np.random.default_rng(0))
        print(f"wrote {len(texts):,} chunks in {took:.0f} s")
    store.close()
    return measure(open_store, words, n_queries)


def measure(open_store: Callable[[], SourceStore], words: list[str], n_queries: int
            ) -> dict[str, np.ndarray]:
    """Reopen the store as a new process would, then time searches; returns ms per mode."""
    store = reopened(open_store)
    start = time.perf_counter()
    catalogue = store.catalogue()
    print(f"sources listing (read from Chroma): {catalogue.stats.sources:,} sources in "
          f"{time.perf_counter() - start:.2f} s")
    qrng = np.random.default_rng(7)
    queries = [
        " ".join(qrng.choice(words[:5000], size=qrng.integers(4, 12))) for _ in range(n_queries)
    ]
    start = time.perf_counter()
    store.search(queries[0])  # loads the BM25 postings and Chroma's HNSW index
    print(f"first search after open: {(time.perf_counter() - start) * 1000:.0f} ms")
    measured = {"hybrid": latencies(store, queries), "lexical": latencies(store, queries, "lexical"),
                "dense": latencies(store, queries, "dense")}
    report("hybrid, stand-in query vectors (store cost only)", measured["hybrid"])
    report("lexical only", measured["lexical"])
    report("dense only (stand-in vectors)", measured["dense"])
    measured.update(with_real_embedder(store, queries[:50]))
    current, peak = rss_mb()
    print(f"RSS now {current:.0f} MB, peak {peak:.0f} MB (limit 1,536 MB)")
    store.close()
    return measured


def reopened(open_store: Callable[[], SourceStore]) -> SourceStore:
    """The store opened again, after printing how long opening and the BM25 index take."""
    start = time.perf_counter()
    store = open_store()
    opened = time.perf_counter() - start
    index = LexicalIndex(store._index.path)
    start = time.perf_counter()
    index.warm()
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    index._build(index.generation())
    rebuilt = time.perf_counter() - start
    index.close()
    print(
        f"store open {opened:.2f} s; BM25 index load {loaded:.2f} s (saved postings), "
        f"full rebuild {rebuilt:.2f} s, for {store.count():,} chunks"
    )
    return store


def with_real_embedder(store: SourceStore, queries: list[str]) -> dict[str, np.ndarray]:
    """Hybrid latencies with the real MiniLM embedding each query; none if it cannot load."""
    try:
        from factcheck.retrieval.embedder import local_embedder

        store._embedder = local_embedder()  # same name, real vectors for the queries
        store.search(queries[0])
        measured = latencies(store, queries)
        report("hybrid, real MiniLM query embedding", measured)
        return {"hybrid, real MiniLM": measured}
    except Exception as exc:  # the bench still reports the store's own cost
        print(f"real embedder not measured: {exc}")
        return {}


def compare(results: dict[str, dict[str, np.ndarray]]) -> None:
    """p50 / p95 of each mode, one column per store, from this run."""
    stores = list(results)
    print("\n" + " | ".join(["query (ms, p50 / p95)", *stores]))
    for mode in results[stores[0]]:
        cells = [f"{np.percentile(results[s][mode], 50):.1f} / "
                 f"{np.percentile(results[s][mode], 95):.1f}" for s in stores if mode in results[s]]
        print(" | ".join([mode, *cells]))


if __name__ == "__main__":
    main()
