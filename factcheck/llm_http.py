"""How the LLM's requests travel: httpx clients that refuse what is not JSON or is larger than
any answer of max_tokens (or a batch of embeddings) can be, and one event loop thread for the
process that runs each request under a deadline.

The size cap sits in the transport, so a body is cut off as it streams in: a server that sends
25 MB is stopped at the cap, not read in full and parsed. The cap holds for the bytes on the wire
and for the answer they decode to: the transport inflates a gzip or deflate body itself, a piece
at a time, and stops at the cap, where httpx's decoders would inflate a whole chunk (up to a
thousand times its size) before anyone counts it. Only those two encodings are asked for.

The async httpx clients that ChatOpenAI and the embedder are given keep their connections on one
event loop, so every LLM request of the process runs on this loop, whichever thread asks.
`asyncio.timeout` bounds a request as a whole (connection, headers, body), which per-read
timeouts do not: a server that sends a byte a second never trips them.
"""

from __future__ import annotations

import asyncio
import threading
import zlib
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

Result = TypeVar("Result")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


class Refused(Exception):
    """The transport refused an answer before the client read it; `what` says why."""

    def __init__(self, what: str, retry: bool, detail: str = "", advice: str = "") -> None:
        super().__init__(what)
        self.what, self.retry, self.detail, self.advice = what, retry, detail, advice


# A token is a few characters; escaped in JSON, non-Latin ones take up to 6 bytes each.
BYTES_PER_TOKEN = 32
ENVELOPE_BYTES = 65_536  # the completion's JSON around the answer


# An embedding of 3,072 dimensions as JSON floats takes about 70 kB.
BYTES_PER_EMBEDDING = 131_072


@dataclass(frozen=True)
class Cap:
    """The most bytes an answer may take (on the wire and decoded), and what to say past it."""

    bytes: int
    detail: str
    advice: str


def answer_limit(max_tokens: int) -> Cap:
    """The most bytes a completion of `max_tokens` tokens may take."""
    return Cap(ENVELOPE_BYTES + BYTES_PER_TOKEN * max_tokens,
               "the most an answer of LLM_MAX_TOKENS may take",
               "check that the server honours max_tokens, or raise LLM_MAX_TOKENS")


def embeddings_limit(batch_size: int) -> Cap:
    """The most bytes the embeddings of `batch_size` texts may take."""
    return Cap(ENVELOPE_BYTES + BYTES_PER_EMBEDDING * batch_size,
               f"the most {batch_size} embeddings may take",
               "check that OPENAI_EMBEDDING_MODEL is an embedding model")


def clients(timeout: float, cap: Cap) -> tuple[httpx.Client, httpx.AsyncClient]:
    """The sync and async clients for ChatOpenAI (the async one belongs to this loop)."""
    return (httpx.Client(timeout=timeout, transport=_Transport(cap)), async_client(timeout, cap))


def async_client(timeout: float, cap: Cap) -> httpx.AsyncClient:
    """An async client whose requests run on this loop (`run`)."""
    return httpx.AsyncClient(timeout=timeout, transport=_AsyncTransport(cap))


ACCEPT_ENCODING = "gzip, deflate"  # what _InflatedStream inflates within the cap
_ZLIB_WBITS = zlib.MAX_WBITS | 32  # a gzip or a zlib header, whichever the body has
_INFLATED = {"gzip", "x-gzip", "deflate"}


class _Transport(httpx.HTTPTransport):
    def __init__(self, cap: Cap) -> None:
        super().__init__()
        self.cap = cap

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["Accept-Encoding"] = ACCEPT_ENCODING
        response = super().handle_request(request)
        try:
            _guard(response, self.cap)
        except Refused:
            response.close()
            raise
        return response


class _AsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, cap: Cap) -> None:
        super().__init__()
        self.cap = cap

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["Accept-Encoding"] = ACCEPT_ENCODING
        response = await super().handle_async_request(request)
        try:
            _guard(response, self.cap)
        except Refused:
            await response.aclose()
            raise
        return response


def _guard(response: httpx.Response, cap: Cap) -> None:
    """Refuse what `_check` refuses, and cap the body, raw and decoded, as it streams in."""
    _check(response, cap)
    encoding = response.headers.get("content-encoding", "").strip().lower()
    capped = _CappedStream(response.stream, cap)
    if encoding in ("", "identity"):
        response.stream = capped
        return
    if encoding not in _INFLATED:
        raise Refused(f"sent an answer in an encoding it was not asked for ({encoding})",
                      retry=False, advice="check that the server (or a proxy before it) sends "
                                          f"only what Accept-Encoding: {ACCEPT_ENCODING} allows")
    del response.headers["content-encoding"]  # decoded here: httpx must not decode it again
    response.stream = _InflatedStream(capped, cap)


class _CappedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that stops with Refused once it passes the cap."""

    def __init__(self, stream: Any, cap: Cap) -> None:
        self._stream, self._cap, self._seen = stream, cap, 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            yield self._counted(chunk)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield self._counted(chunk)

    def close(self) -> None:
        self._stream.close()

    async def aclose(self) -> None:
        await self._stream.aclose()

    def _counted(self, chunk: bytes) -> bytes:
        self._seen += len(chunk)
        if self._seen > self._cap.bytes:
            raise _too_large(self._cap)
        return chunk


class _InflatedStream(_CappedStream):
    """A gzip or deflate body inflated at most one byte past the cap, then Refused."""

    def __init__(self, stream: _CappedStream, cap: Cap) -> None:
        super().__init__(stream, cap)
        self._inflater = zlib.decompressobj(_ZLIB_WBITS)

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            yield from self._inflated(chunk)
        self._ended()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            for piece in self._inflated(chunk):
                yield piece
        self._ended()

    def _inflated(self, data: bytes) -> Iterator[bytes]:
        while data and not self._inflater.eof:
            # A piece of room + 1 bytes is past the cap: no more is ever inflated.
            room = self._cap.bytes - self._seen + 1
            try:
                piece = self._inflater.decompress(data, room)
            except zlib.error as exc:
                raise _undecodable() from exc
            yield self._counted(piece)
            data = self._inflater.unconsumed_tail

    def _ended(self) -> None:
        if not self._inflater.eof:
            raise _undecodable()


def _undecodable() -> Refused:
    return Refused("sent a compressed answer that does not decompress", retry=True)


def _check(response: httpx.Response, cap: Cap) -> None:
    """Refuse, unread, a successful answer that is not JSON (a proxy's or a login page) or
    that says it is larger than the cap."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if response.is_success and kind and not kind.endswith("json"):
        raise Refused(f"sent a completion that is not JSON ({kind})", retry=True)
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap.bytes:
        raise _too_large(cap)


def _too_large(cap: Cap) -> Refused:
    return Refused(f"sent an answer cut off at {cap.bytes:,} bytes", retry=False,
                   detail=cap.detail, advice=cap.advice)


def run(coroutine: Coroutine[Any, Any, Result], seconds: float) -> Result:
    """Run `coroutine` on the LLM loop from any thread; TimeoutError after `seconds`."""

    async def bounded() -> Result:
        async with asyncio.timeout(max(seconds, 0.0)):
            return await coroutine

    future = asyncio.run_coroutine_threadsafe(bounded(), _running_loop())
    try:
        return future.result()
    except BaseException:
        future.cancel()  # the caller was interrupted (Ctrl-C): stop the request too
        raise


def _running_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="llm-http", daemon=True).start()
        return _loop
