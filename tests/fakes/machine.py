"""Another machine sharing a `chroma run` server: a SourceStore in its own process and data dir.

    with Machine(tmp_path / "a", chroma_server, "coll") as a:
        a.ingest([Document("s1", "text")])       # -> IngestStats as a dict
        a.search("query", mode="lexical")        # -> [source_id, ...]

The test process drives it over stdin/stdout, one JSON line per call, so that nothing of the
test's own store (its lexical index, its caches) is shared with it: only the server is.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class Machine:
    """A long-lived store process (a bot, say) on its own data dir, against the test server."""

    def __init__(self, data_dir: Path, server: Any, collection: str, sync_interval: float = 0.0,
                 wait: bool = True) -> None:
        # server None: the embedded store in data_dir (never open in two processes at once).
        host, port = (server.host, str(server.port)) if server else ("", "0")
        args = [sys.executable, str(Path(__file__)), str(data_dir), host, port,
                collection, str(sync_interval)]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "ANONYMIZED_TELEMETRY": "False"}
        self._process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         text=True, env=env, cwd=ROOT)
        if wait:  # else: call("ping") later, to start several machines at once
            self.call("ping")  # the store is open (and the embedder loaded) when this returns

    def call(self, op: str, *args: Any) -> Any:
        """Run one store operation in the other process and return its JSON result."""
        self.send(op, *args)
        return self.receive()

    def send(self, op: str, *args: Any) -> None:
        """Start an operation without waiting for it (several machines then work at once)."""
        assert self._process.stdin
        self._process.stdin.write(json.dumps([op, *args]) + "\n")
        self._process.stdin.flush()

    def receive(self) -> Any:
        """The result of the operation sent last."""
        assert self._process.stdout
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"machine process exited with {self._process.wait()}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer["result"]

    def ingest(self, documents: list[Any], label: str = "") -> dict[str, Any]:
        return self.call("ingest", [dataclasses.asdict(d) for d in documents], label)

    def ingest_and_hang(self, documents: list[Any], label: str, batch_chunks: int) -> None:
        """Start an ingest in batches of `batch_chunks` chunks and stop after the first batch,
        the process left hanging (for `kill`): returns when that batch is written."""
        self.call("ingest_and_hang", [dataclasses.asdict(d) for d in documents], label,
                  batch_chunks)

    def remove(self, source_id: str) -> int:
        return self.call("remove", source_id)

    def search(self, query: str, k: int = 5, mode: str = "hybrid") -> list[str]:
        """Source ids of the hits, best first."""
        return self.call("search", query, k, mode)

    def chunk_ids(self) -> list[str]:
        """Every chunk id of this machine's lexical index, sorted."""
        return self.call("chunk_ids")

    def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        self._process.kill()
        self._process.wait()

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.close()  # type: ignore[union-attr]
            self._process.wait(timeout=30)

    def __enter__(self) -> Machine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve(data_dir: str, host: str, port: str, collection: str, interval: str) -> None:
    from factcheck.retrieval.documents import Document
    from factcheck.retrieval.embedder import local_embedder
    from factcheck.retrieval.store import SourceStore

    store = SourceStore.open(Path(data_dir), collection, local_embedder(), host or None, int(port),
                             sync_interval=float(interval))
    def hang(done: int, total: int) -> None:
        print(json.dumps({"result": done}), flush=True)  # the answer to ingest_and_hang
        time.sleep(3600)

    def ingest_and_hang(docs: list[dict], label: str, batch_chunks: int) -> None:
        store.batch_chunks = batch_chunks
        store.ingest([Document(**d) for d in docs], hang, label)

    ops = {
        "ping": lambda: "pong",
        "soak_write": lambda seconds, seed, pool: _soak_write(store, seconds, seed, pool),
        "soak_read": lambda seconds, seed, queries: _soak_read(store, seconds, seed, queries),
        "synced_chunk_ids": lambda: (store.changed_at(), sorted(store._index.all_ids()))[1],
        "ingest": lambda docs, label: dataclasses.asdict(
            store.ingest([Document(**d) for d in docs], label=label)),
        "ingest_and_hang": ingest_and_hang,
        "remove": store.remove,
        "search": lambda q, k, mode: [h.source_id for h in store.search(q, k, mode)],
        "chunk_ids": lambda: sorted(store._index.all_ids()),
    }
    for line in sys.stdin:
        op, *args = json.loads(line)
        try:
            answer = {"result": ops[op](*args)}
        except Exception as exc:  # the test reads it
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)
    store.close()


def _soak_write(store: Any, seconds: float, seed: int, pool: dict[str, list[str]]) -> dict:
    """Ingest texts of the pool's sources and remove sources, at random, for `seconds`."""
    import random

    from factcheck.retrieval.documents import Document

    rng, deadline, done = random.Random(seed), time.monotonic() + seconds, Counter()
    while time.monotonic() < deadline:
        if rng.random() < 0.75:
            picked = rng.sample(sorted(pool), rng.randint(1, 2))
            store.ingest([Document(s, rng.choice(pool[s])) for s in picked], label=f"soak {seed}")
            done["ingests"] += 1
        else:
            done["removes"] += 1
            done["removed chunks"] += store.remove(rng.choice(sorted(pool)))
    return dict(done)


def _soak_read(store: Any, seconds: float, seed: int, queries: list[str]) -> dict:
    """Search at random for `seconds`; counts searches and hit lists with a chunk twice."""
    import random

    rng, deadline, done = random.Random(seed), time.monotonic() + seconds, Counter()
    while time.monotonic() < deadline:
        hits = store.search(rng.choice(queries), 5, rng.choice(["hybrid", "lexical"]))
        done["searches"] += 1
        done["duplicate hits"] += len(hits) - len({h.chunk_id for h in hits})
    return dict(done)


if __name__ == "__main__":
    _serve(*sys.argv[1:])
