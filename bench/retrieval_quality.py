"""nDCG@10 of BM25 alone, dense alone and hybrid search on SciFact's training claims.

    .venv/bin/python bench/retrieval_quality.py [--scifact ../shared/data/scifact]
        [--cache /tmp/factcheck-embeddings.sqlite] [--tune]

Ingests the corpus (5,183 abstracts) into a temporary store and searches every training claim
that cites an abstract. Embeddings are cached on disk (keyed by model name and text), so only
the first run pays for embedding the corpus (minutes on two cores). With --tune it also
cross-validates the dense weight of the fusion: tuned on one half of the claims, reported on
the other, and the other way round.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from factcheck.retrieval.documents import Document
from factcheck.retrieval.store import SourceStore

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = [round(w, 2) for w in np.arange(0.0, 1.01, 0.05)]


class CachedEmbedder:
    """Wraps an embedder; vectors are kept in SQLite keyed by sha1(model name + text)."""

    def __init__(self, inner, path: Path) -> None:
        self.inner, self.name = inner, inner.name
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB)")

    def _key(self, text: str) -> str:
        return hashlib.sha1(f"{self.name}\x00{text}".encode()).hexdigest()

    def embed(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        found = {}
        for start in range(0, len(keys), 900):
            part = keys[start : start + 900]
            sql = f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(part))})"
            found.update(self.db.execute(sql, part).fetchall())
        todo = sorted({i for i, k in enumerate(keys) if k not in found})
        if todo:
            vectors = self.inner.embed([texts[i] for i in todo])
            rows = [(keys[i], v.astype(np.float32).tobytes()) for i, v in zip(todo, vectors)]
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?)", rows)
            found.update(rows)
        return np.stack([np.frombuffer(found[k], dtype=np.float32) for k in keys])


def ndcg_at_10(ranked_sources: list[str], gold: set[str]) -> float:
    """Binary-relevance nDCG@10 of a ranking of source ids."""
    dcg = sum(1 / math.log2(i + 2) for i, s in enumerate(ranked_sources[:10]) if s in gold)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(gold), 10)))
    return dcg / ideal


def evaluate(store: SourceStore, claims: list[dict], mode: str) -> list[float]:
    """nDCG@10 per claim; chunks are folded to their abstract, best chunk first."""
    results = store.search_many([c["claim"] for c in claims], k=40, mode=mode)  # type: ignore[arg-type]
    scores = []
    for claim, hits in zip(claims, results):
        ranked = list(dict.fromkeys(h.source_id for h in hits))
        scores.append(ndcg_at_10(ranked, set(claim["gold_ids"])))
    return scores


def tune(store: SourceStore, claims: list[dict]) -> None:
    """Two-fold cross-validation of the dense weight (halves split by claim id)."""
    folds = [[c for c in claims if int(c["id"]) % 2 == r] for r in (0, 1)]
    per_weight = {}
    for weight in WEIGHTS:
        store.dense_weight = weight
        per_weight[weight] = [np.mean(evaluate(store, fold, "hybrid")) for fold in folds]
        print(
            f"  weight {weight:.2f}: fold A {per_weight[weight][0]:.4f}, "
            f"fold B {per_weight[weight][1]:.4f}"
        )
    held_out = []
    for tuned_on, tested_on in ((0, 1), (1, 0)):
        best = max(WEIGHTS, key=lambda w: per_weight[w][tuned_on])
        held_out.append(per_weight[best][tested_on])
        print(
            f"tuned on fold {'AB'[tuned_on]}: weight {best:.2f} -> "
            f"{per_weight[best][tested_on]:.4f} on fold {'AB'[tested_on]}"
        )
    print(f"cross-validated hybrid nDCG@10: {np.mean(held_out):.4f}")


def cold_start(data_dir: Path) -> float:
    """Seconds a fresh Python process takes to import, load the embedder, open and search."""
    code = (
        "import time; t = time.perf_counter()\n"
        "from pathlib import Path\n"
        "from factcheck.retrieval.store import SourceStore\n"
        "from factcheck.retrieval.embedder import local_embedder\n"
        f"store = SourceStore.open(Path({str(data_dir)!r}), 'scifact', local_embedder())\n"
        "store.search('Vitamin D deficiency raises the risk of fractures.')\n"
        "print(time.perf_counter() - t)\n"
    )
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    print(f"  (whole process incl. interpreter start: {time.perf_counter() - start:.2f} s)")
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scifact", type=Path, default=ROOT.parent / "shared/data/scifact")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/factcheck-embeddings.sqlite"))
    parser.add_argument("--tune", action="store_true", help="cross-validate the fusion weight")
    args = parser.parse_args()
    from factcheck.retrieval.embedder import local_embedder

    embedder = CachedEmbedder(local_embedder(), args.cache)
    corpus = [json.loads(line) for line in (args.scifact / "corpus.jsonl").open()]
    claims = [json.loads(line) for line in (args.scifact / "claims_train.jsonl").open()]
    claims = [c for c in claims if c.get("gold_ids")]
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        store = SourceStore.open(Path(tmp), "scifact", embedder)
        start = time.perf_counter()
        store.ingest(
            Document(id=str(d["id"]), text=d["text"], title=d.get("title") or None) for d in corpus
        )
        print(
            f"ingested {len(corpus):,} abstracts ({store.stats().chunks:,} chunks) in "
            f"{time.perf_counter() - start:.0f} s; {len(claims)} training claims"
        )
        store.close()
        print(
            f"cold start of a new process (imports, embedder, open, first search): "
            f"{cold_start(Path(tmp)):.2f} s"
        )
        store = SourceStore.open(Path(tmp), "scifact", embedder)
        for mode in ("lexical", "dense", "hybrid"):
            print(f"{mode:>8}: nDCG@10 {np.mean(evaluate(store, claims, mode)):.4f}")
        if args.tune:
            tune(store, claims)
        store.close()


if __name__ == "__main__":
    main()
