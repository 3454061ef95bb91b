"""The Chroma collection as the store uses it: opened embedded or on a server, and its change
marker.

The marker is two keys of the collection's metadata, a random token and a time (UTC), written
after every ingest or removal that changed the collection. Every machine sharing a server reads
it (one `get_collection`, under a millisecond on loopback) to tell whether its own lexical index
is behind and whether an earlier result may still stand. A token, not a counter: two writers
never race to the same value. `modify` replaces the whole metadata dict, so other keys are
carried over, and the write is read back and tried again if another writer's modify crossed it.

Every call to Chroma goes through `Collection`, which turns a server that is down or went away
(refused or dropped connections: httpx's transport errors) into one `unreachable(...)` line.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factcheck.retrieval.documents import EmbedderMismatchError, StoreUnavailableError

logger = logging.getLogger(__name__)

MARKER_TOKEN, MARKER_AT = "change", "changed_at"  # keys of the collection's metadata
EMBEDDER = "embedder"
COMPANION_OF = "companion_of"
INGESTS = "ingests"  # the companion collection of the ingest log (retrieval.ingests)
_VALID_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]")  # Chroma's rule
_WRITE_TRIES = 5
PAGE = 2000  # rows per Chroma read when reading the whole collection
Server = tuple[str, int]  # host and port of a `chroma run`


@dataclass(frozen=True)
class ChangeMarker:
    """The collection's last change as its writer recorded it; token '' if never recorded."""

    token: str
    at: datetime | None


class Collection:
    """One Chroma collection and the client it came from; `server` is None when embedded."""

    def __init__(self, client: Any, collection: Any, where: str, server: Server | None = None
                 ) -> None:
        self._client = client
        self._raw = collection
        self.where = where  # "the Chroma server at host:port" or the embedded folder
        self._server = server
        self._companions: dict[str, Collection] = {}

    # The data calls the store makes, in one place (so that an outage is handled in one place).

    def get(self, **query: Any) -> dict[str, Any]:
        return self._call(self._raw.get, **query)

    def add(self, **records: Any) -> None:
        self._call(self._raw.add, **records)

    def upsert(self, **records: Any) -> None:
        self._call(self._raw.upsert, **records)

    def delete(self, ids: list[str]) -> None:
        self._call(self._raw.delete, ids=ids)

    def query(self, **query: Any) -> dict[str, Any]:
        return self._call(self._raw.query, **query)

    def count(self) -> int:
        return self._call(self._raw.count)

    def pages(self, include: list[str]) -> Iterator[dict[str, Any]]:
        """The whole collection, `PAGE` rows at a time (`get`'s answers, in Chroma's order)."""
        seen = 0
        while True:
            page = self.get(include=include, limit=PAGE, offset=seen)
            yield page
            seen += len(page["ids"])
            if len(page["ids"]) < PAGE:
                return

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with reached(self._server):
            return method(*args, **kwargs)

    @property
    def name(self) -> str:
        """The collection's name."""
        return self._raw.name

    def metadata(self) -> dict[str, Any]:
        """The collection's metadata as the server has it now (not as it was when opened)."""
        got = self._call(self._client.get_collection, self.name, embedding_function=None)
        return dict(got.metadata or {})

    def marker(self) -> ChangeMarker:
        """The change marker as the server has it now."""
        return _marker_of(self.metadata())

    def mark_changed(self) -> ChangeMarker:
        """Record a change with a new token and the time now; returns the marker written."""
        token = secrets.token_hex(8)
        for _ in range(_WRITE_TRIES):
            at = datetime.now(UTC)
            self.update_metadata({MARKER_TOKEN: token, MARKER_AT: at.isoformat()})
            if self.marker().token == token:
                return ChangeMarker(token, at)
        # Others kept writing: each of them moved the marker too, which is what matters.
        return self.marker()

    def companion(self, kind: str) -> Collection:
        """The collection `<name>.<kind>` beside this one (created on first use), for records
        every machine must see, such as the ingest log."""
        if kind not in self._companions:
            name = companion_name(self.name, kind)
            raw = self._call(self._client.get_or_create_collection, name,
                             embedding_function=None, metadata={COMPANION_OF: self.name})
            self._companions[kind] = Collection(self._client, raw, self.where, self._server)
        return self._companions[kind]

    def update_metadata(self, changes: Mapping[str, Any]) -> None:
        """Set keys of the collection's metadata (None removes one), keeping the other keys."""
        merged = {**self.metadata(), **changes}
        self._call(self._raw.modify, metadata={k: v for k, v in merged.items() if v is not None})


def companion_name(name: str, kind: str) -> str:
    """`<name>.<kind>`, shortened with a hash of `name` where that passes Chroma's 512."""
    full = f"{name}.{kind}"
    if len(full) <= 512:
        return full
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{name[: 512 - len(kind) - 14]}.{digest}.{kind}"


def _marker_of(metadata: Mapping[str, Any]) -> ChangeMarker:
    at = metadata.get(MARKER_AT)
    return ChangeMarker(str(metadata.get(MARKER_TOKEN) or ""),
                        datetime.fromisoformat(at) if isinstance(at, str) else None)


def open_collection(
    data_dir: Path, name: str, embedder_name: str, host: str | None, port: int
) -> Collection:
    """The collection `name`, created if missing, refusing one built with another embedder."""
    if not _VALID_NAME.fullmatch(name):
        raise ValueError(
            f"invalid collection name {name!r}: use 3-512 letters, digits, '.', "
            "'_' or '-', starting and ending with a letter or digit"
        )
    server = (host, port) if host else None
    client = _client(data_dir, server)
    where = f"the Chroma server at {host}:{port}" if host else str(data_dir / "chroma")
    try:
        with reached(server):
            collection = _get_or_create(client, name, embedder_name)
    except (EmbedderMismatchError, ValueError, StoreUnavailableError):
        raise
    except Exception as exc:
        raise StoreUnavailableError(f"cannot open collection {name!r}: {exc}") from exc
    return Collection(client, collection, where, server)


def unreachable(host: str, port: int) -> StoreUnavailableError:
    """The one line for a Chroma server that does not answer."""
    return StoreUnavailableError(f"cannot reach the Chroma server at {host}:{port}; "
                                 "is `chroma run` up?")


@contextmanager
def reached(server: Server | None) -> Iterator[None]:
    """Calls to the Chroma server inside raise `unreachable(...)` when the server is down or
    went away, instead of httpx's errors; embedded (server None), errors pass as they are."""
    import httpx

    try:
        yield
    except httpx.TransportError as exc:
        if server is None:
            raise
        raise unreachable(*server) from exc


def _client(data_dir: Path, server: Server | None) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if server:
        try:
            # It asks the server for its version at once: a server that is down fails here.
            return chromadb.HttpClient(host=server[0], port=server[1], settings=settings)
        except Exception as exc:
            raise unreachable(*server) from exc
    try:
        (data_dir / "chroma").mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=settings)
    except Exception as exc:
        raise StoreUnavailableError(f"cannot open {data_dir / 'chroma'}: {exc}; check the path"
                                    ) from exc


def _get_or_create(client: Any, name: str, embedder_name: str) -> Any:
    from chromadb.errors import NotFoundError

    try:
        collection = client.get_collection(name, embedding_function=None)
    except NotFoundError:
        # No embedding function: Chroma's default one would download a model. Vectors are
        # always passed in explicitly.
        collection = client.get_or_create_collection(
            name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={EMBEDDER: embedder_name},
        )
    built_with = (collection.metadata or {}).get(EMBEDDER)
    if built_with is None and collection.count() == 0:
        collection.modify(metadata={**(collection.metadata or {}), EMBEDDER: embedder_name})
    elif built_with != embedder_name:
        raise EmbedderMismatchError(
            f"collection {name!r} holds vectors of {built_with or 'an unknown embedder'}, not "
            f"{embedder_name}: use the same embedder, or another collection name"
        )
    return collection
