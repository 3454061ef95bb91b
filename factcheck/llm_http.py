"""How the LLM's requests travel: httpx clients that refuse what is not a completion or is
larger than any answer of max_tokens can be, and one event loop thread for the process that runs
each request under a deadline.

The size cap sits in the transport, so a body is cut off as it streams in: a server that sends
25 MB is stopped at the cap, not read in full and parsed.

The async httpx client that ChatOpenAI is given keeps its connections on one event loop, so every
LLM request of the process runs on this loop, whichever thread asks. `asyncio.timeout` bounds a
request as a whole (connection, headers, body), which per-read timeouts do not: a server that
sends a byte a second never trips them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

import httpx

Result = TypeVar("Result")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


class Refused(Exception):
    """The transport refused an answer before the client read it; `what` says why."""

    def __init__(self, what: str, retry: bool, detail: str = "") -> None:
        super().__init__(what)
        self.what, self.retry, self.detail = what, retry, detail


# A token is a few characters; escaped in JSON, non-Latin ones take up to 6 bytes each.
BYTES_PER_TOKEN = 32
ENVELOPE_BYTES = 65_536  # the completion's JSON around the answer


def answer_limit(max_tokens: int) -> int:
    """The most bytes a completion of `max_tokens` tokens may take on the wire."""
    return ENVELOPE_BYTES + BYTES_PER_TOKEN * max_tokens


def clients(timeout: float, max_bytes: int) -> tuple[httpx.Client, httpx.AsyncClient]:
    """The sync and async clients for ChatOpenAI (the async one belongs to this loop)."""
    return (httpx.Client(timeout=timeout, transport=_Transport(max_bytes)),
            httpx.AsyncClient(timeout=timeout, transport=_AsyncTransport(max_bytes)))


class _Transport(httpx.HTTPTransport):
    def __init__(self, max_bytes: int) -> None:
        super().__init__()
        self.max_bytes = max_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        try:
            _check(response, self.max_bytes)
        except Refused:
            response.close()
            raise
        response.stream = _CappedStream(response.stream, self.max_bytes)
        return response


class _AsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, max_bytes: int) -> None:
        super().__init__()
        self.max_bytes = max_bytes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        try:
            _check(response, self.max_bytes)
        except Refused:
            await response.aclose()
            raise
        response.stream = _CappedStream(response.stream, self.max_bytes)
        return response


class _CappedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that stops with Refused once it passes `max_bytes`."""

    def __init__(self, stream: Any, max_bytes: int) -> None:
        self._stream, self._max_bytes, self._seen = stream, max_bytes, 0

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
        if self._seen > self._max_bytes:
            raise _too_large(self._max_bytes)
        return chunk


def _check(response: httpx.Response, max_bytes: int) -> None:
    """Refuse, unread, a successful answer that is not JSON (a proxy's or a login page) or
    that says it is larger than `max_bytes`."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if response.is_success and kind and not kind.endswith("json"):
        raise Refused(f"sent a completion that is not JSON ({kind})", retry=True)
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise _too_large(max_bytes)


def _too_large(max_bytes: int) -> Refused:
    return Refused(f"sent an answer cut off at {max_bytes:,} bytes", retry=False,
                   detail="the most an answer of LLM_MAX_TOKENS may take")


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
