"""How the LLM's requests travel: httpx clients that refuse what is not a completion, and one
event loop thread for the process that runs each request under a deadline.

The async httpx client that ChatOpenAI is given keeps its connections on one event loop, so every
LLM request of the process runs on this loop, whichever thread asks. `asyncio.timeout` bounds a
request as a whole (connection, headers, body), which per-read timeouts do not: a server that
sends a byte a second never trips them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

Result = TypeVar("Result")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


class Refused(Exception):
    """The transport refused an answer before the client read it; `what` says why."""

    def __init__(self, what: str, retry: bool) -> None:
        super().__init__(what)
        self.what, self.retry = what, retry


def clients(timeout: float) -> tuple[httpx.Client, httpx.AsyncClient]:
    """The sync and async clients for ChatOpenAI (the async one belongs to this loop)."""
    return (httpx.Client(timeout=timeout, transport=_Transport()),
            httpx.AsyncClient(timeout=timeout, transport=_AsyncTransport()))


class _Transport(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        try:
            _check(response)
        except Refused:
            response.close()
            raise
        return response


class _AsyncTransport(httpx.AsyncHTTPTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        try:
            _check(response)
        except Refused:
            await response.aclose()
            raise
        return response


def _check(response: httpx.Response) -> None:
    """Refuse a successful answer that is not JSON (a proxy's or a login page), unread."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if response.is_success and kind and not kind.endswith("json"):
        raise Refused(f"sent a completion that is not JSON ({kind})", retry=True)


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
