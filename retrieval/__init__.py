"""Search over trusted sources: chunking, Chroma vectors, BM25 and their fusion.

Imports nothing from the rest of the project; errors are `RetrievalError` subclasses that
callers translate into their own.
"""

from factcheck.retrieval.documents import (
    Document,
    EmbedderMismatchError,
    Hit,
    IngestStats,
    RetrievalError,
    SourceInfo,
    StoreStats,
    StoreUnavailableError,
)
from factcheck.retrieval.store import SourceStore

__all__ = [
    "Document",
    "EmbedderMismatchError",
    "Hit",
    "IngestStats",
    "RetrievalError",
    "SourceInfo",
    "SourceStore",
    "StoreStats",
    "StoreUnavailableError",
]
