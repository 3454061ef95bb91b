"""Ingest throughput against the embedder's own throughput on the same texts.

    .venv/bin/python bench/ingest.py [--corpus ../shared/data/scifact/corpus.jsonl] [--docs 200]

Embeds the chunks of the first N abstracts with the local embedder directly, then ingests the
same abstracts into a fresh embedded store (chunking, hashing, the known-chunk check, embedding,
Chroma writes, BM25 indexing), three times each, interleaved, and compares the medians. The target
is ingest >= 0.85x the embedder alone: everything but the embedder must be cheap.

On a shared machine the embedder's speed swings from run to run, so the script also times the
embedder's calls inside each ingest: the share of ingest time spent embedding is the same ratio,
measured on the very same calls, and does not depend on what else the machine was doing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from factcheck.retrieval.documents import Document
from factcheck.retrieval.store import SourceStore
from factcheck.retrieval.writer import chunks_of

ROOT = Path(__file__).resolve().parent.parent


def load(path: Path, limit: int) -> list[Document]:
    """The first `limit` documents of a corpus .jsonl file."""
    docs = []
    with path.open() as lines:
        for line in lines:
            row = json.loads(line)
            docs.append(Document(id=str(row["id"]), text=row["text"], title=row.get("title")))
            if len(docs) == limit:
                break
    return docs


class TimedEmbedder:
    """Passes calls through to an embedder and adds up the seconds they take."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.seconds = inner, inner.name, 0.0

    def embed(self, texts: list[str]):
        start = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - start


def time_embedder(embedder, texts: list[str]) -> float:
    """Seconds the embedder alone takes for the texts."""
    start = time.perf_counter()
    embedder.embed(texts)
    return time.perf_counter() - start


def time_ingest(embedder: TimedEmbedder, docs: list[Document]) -> tuple[float, int]:
    """Seconds a fresh store takes to ingest the documents, and the chunks it added."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        store = SourceStore.open(data_dir, "bench", embedder)
        embedder.seconds = 0.0
        start = time.perf_counter()
        stats = store.ingest(docs)
        took = time.perf_counter() - start
        again = time.perf_counter()
        store.ingest(docs)
        print(
            f"  re-ingest of the same documents (nothing new): {time.perf_counter() - again:.2f} s"
        )
        store.close()
        return took, stats.chunks_added
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=ROOT.parent / "shared/data/scifact/corpus.jsonl"
    )
    parser.add_argument("--docs", type=int, default=200)
    args = parser.parse_args()
    from factcheck.retrieval.embedder import local_embedder

    embedder = local_embedder()
    docs = load(args.corpus, args.docs)
    texts = [c.embed_text() for d in docs for c in chunks_of(d)]
    chars = sum(len(t) for t in texts)
    print(f"{len(docs)} documents -> {len(texts)} chunks, {chars:,} characters")
    embedder.embed(texts[:16])  # warm-up
    timed = TimedEmbedder(embedder)
    embed_runs, ingest_runs, shares = [], [], []
    for run in range(3):
        embed_runs.append(time_embedder(embedder, texts))
        took, added = time_ingest(timed, docs)
        ingest_runs.append(took)
        shares.append(timed.seconds / took)
        print(
            f"run {run + 1}: embedder {embed_runs[-1]:.1f} s, ingest {took:.1f} s "
            f"({added} chunks added, {timed.seconds:.1f} s of it in the embedder)"
        )
    embed_s, ingest_s = statistics.median(embed_runs), statistics.median(ingest_runs)
    print(
        f"embedder alone: {len(texts) / embed_s:.1f} chunks/s; "
        f"ingest: {len(texts) / ingest_s:.1f} chunks/s (medians)"
    )
    print(f"ingest / embedder throughput = {embed_s / ingest_s:.2f} (target >= 0.85)")
    print(
        f"share of ingest time spent embedding = {statistics.median(shares):.3f} "
        "(the same ratio on the same calls, immune to machine load)"
    )


if __name__ == "__main__":
    main()
