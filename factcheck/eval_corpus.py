"""The corpora evaluations search: each embedded into its own collection under DATA_DIR/eval
(never the user's), kept by content hash and reused while unchanged.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from factcheck.errors import BadInputError, StoreError
from factcheck.retrieval import SourceStore
from factcheck.retrieval.documents import RetrievalError
from factcheck.retrieval.embedder import Embedder
from factcheck.retrieval.loaders import CorpusLineError, load_path
from factcheck.settings import Settings

logger = logging.getLogger(__name__)

# progress(stage, done, total): "ingest" of the corpus, then "examples" judged or searched.
EvalProgress = Callable[[str, int, int], None]
COMPLETE = "complete.json"  # written after a successful ingest of an evaluation corpus
_CACHE_VERSION = "1"  # part of an evaluation collection's folder name; bump when chunking changes


@contextmanager
def corpus_store(
    corpus: Path, settings: Settings, progress: EvalProgress | None = None
) -> Iterator[SourceStore]:
    """The corpus's own collection under DATA_DIR/eval (never the user's), reused while unchanged.

    A collection with its COMPLETE marker is opened without reading the corpus again; one
    without it (an interrupted ingest) is ingested again, which embeds only missing chunks.
    training/train_offline.py uses it too, to judge the passages `eval verdicts` retrieves.
    """
    from factcheck.pipeline import embedder_for

    if not corpus.exists():
        raise BadInputError(f"{corpus}: no such file or folder")
    embedder = embedder_for(settings)
    if not settings.eval_cache:
        with (
            tempfile.TemporaryDirectory(prefix="factcheck-eval-") as temporary,
            SourceStore.open(Path(temporary), "eval", embedder) as store,
        ):
            _ingest(store, corpus, progress)
            yield store
        return
    folder = Path(settings.data_dir) / "eval" / corpus_key(corpus, embedder.name)
    with _locked(folder), _open_cached(folder, embedder) as store:
        if _is_complete(folder, store):
            logger.info("evaluation corpus %s: reusing %s", corpus, folder)
        else:
            _ingest(store, corpus, progress)
            _mark_complete(folder, corpus, store)
        yield store


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold `folder`.lock while this process uses the collection: one process at a time.

    Two processes writing one local Chroma folder corrupt it, so a second evaluation of the
    same corpus waits for the first (it then finds the collection complete and reuses it).
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.warning("another evaluation is using %s; waiting for it to finish", folder)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def corpus_key(corpus: Path, embedder_name: str) -> str:
    """Folder name of a corpus's evaluation collection: its content hash and its embedder's."""
    digest = hashlib.sha256()
    files = sorted(p for p in corpus.rglob("*") if p.is_file()) if corpus.is_dir() else [corpus]
    for path in files:
        if corpus.is_dir():  # a folder's layout is part of its content
            digest.update(f"{path.relative_to(corpus)}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    # The version changes when chunking changes, so old collections are not reused.
    model = hashlib.sha256(f"{embedder_name}|{_CACHE_VERSION}".encode()).hexdigest()[:8]
    return f"{digest.hexdigest()[:16]}-{model}"


def _open_cached(folder: Path, embedder: Embedder) -> SourceStore:
    try:
        return SourceStore.open(folder, "eval", embedder)
    except (RetrievalError, sqlite3.DatabaseError) as exc:  # a damaged cache is rebuilt
        logger.warning("evaluation collection %s unreadable (%s): rebuilding it", folder, exc)
        shutil.rmtree(folder, ignore_errors=True)
    try:
        return SourceStore.open(folder, "eval", embedder)
    except (RetrievalError, sqlite3.DatabaseError) as exc:
        # Chroma keeps a failed database open for the life of the process, so only a new
        # process can build the collection again in the same place.
        raise StoreError(
            f"the evaluation collection {folder} was damaged and has been removed; "
            "run the evaluation again to rebuild it"
        ) from exc


def _ingest(store: SourceStore, corpus: Path, progress: EvalProgress | None) -> None:
    try:
        documents = list(load_path(corpus))
    except (CorpusLineError, ValueError) as exc:
        raise BadInputError(f"{corpus}: {exc}") from exc
    if not documents:  # every score would be 0, measuring nothing
        raise BadInputError(f"{corpus}: no documents to search; give the corpus the claims cite")
    store.ingest(documents, lambda done, total: report_progress(progress, "ingest", done, total))


def _is_complete(folder: Path, store: SourceStore) -> bool:
    try:
        marker = json.loads((folder / COMPLETE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    # A collection changed after the marker was written is not trusted.
    return isinstance(marker, dict) and marker.get("chunks") == store.count()


def _mark_complete(folder: Path, corpus: Path, store: SourceStore) -> None:
    stats = store.stats()
    marker = {"corpus": str(corpus), "embedder": store.embedder_name,
              "sources": stats.sources, "chunks": stats.chunks}
    partial = folder / (COMPLETE + ".tmp")
    partial.write_text(json.dumps(marker), encoding="utf-8")
    partial.replace(folder / COMPLETE)  # atomic: a crash leaves no half-written marker


def report_progress(progress: EvalProgress | None, stage: str, done: int, total: int) -> None:
    """Tell `progress` (if any) how far a stage has come."""
    if progress:
        progress(stage, done, total)
