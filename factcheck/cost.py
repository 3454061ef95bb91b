"""What one check cost: its LLM calls and tokens, counted apart from other checks, and their price.

The LLM module counts every answered call in `usage`, the process-wide tally (for eval run
records), which counts it again in the tally of the check running in the caller's context (a
ContextVar): the bot runs checks side by side in threads, and each report must carry its own
tokens. The pipeline judges claims in a thread pool; each task runs in a copy of the check's
context (`in_this_check`).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from factcheck.models import LLMUsage
from factcheck.settings import Settings

T = TypeVar("T")
Counts = tuple[int, int, int]  # (calls, tokens in, tokens out)
# USD per million tokens (input, output), as published by OpenAI in 2025; LLM_PRICE_IN/OUT win.
KNOWN_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
}


@dataclass
class Tally:
    """Answered LLM calls and their tokens (answers from the LLM cache cost none)."""

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, tokens_in: int, tokens_out: int) -> None:
        """Count one answered call."""
        with self._lock:
            self.calls += 1
            self.tokens_in += tokens_in
            self.tokens_out += tokens_out

    def snapshot(self) -> Counts:
        """(calls, tokens in, tokens out) so far; subtract two snapshots for a run's share."""
        with self._lock:
            return self.calls, self.tokens_in, self.tokens_out


_current: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("check_tally",
                                                                         default=None)


class _ProcessTally(Tally):
    """Every answered call of the process, each counted again for the check that made it."""

    def add(self, tokens_in: int, tokens_out: int) -> None:
        """Count one answered call, here and in the tally of the check running in this context."""
        super().add(tokens_in, tokens_out)
        check = _current.get()
        if check is not None:
            check.add(tokens_in, tokens_out)


usage: Tally = _ProcessTally()


@contextmanager
def tallying() -> Iterator[Tally]:
    """Count the LLM calls made in this context (and in_this_check tasks) into a new Tally."""
    tally = Tally()
    token = _current.set(tally)
    try:
        yield tally
    finally:
        _current.reset(token)


def in_this_check(task: Callable[..., T]) -> Callable[..., T]:
    """`task`, to run in another thread within this check's tally: call it here, run it there."""
    context = contextvars.copy_context()  # one per task: a context is entered by one thread
    return lambda *args: context.run(task, *args)


def since(before: Counts) -> Counts:
    """The process's calls and tokens since `before` (a `usage.snapshot()`)."""
    now = usage.snapshot()
    return now[0] - before[0], now[1] - before[1], now[2] - before[2]


def priced(settings: Settings, calls: int, tokens_in: int, tokens_out: int) -> LLMUsage:
    """Calls and tokens with their estimated cost (None when the model's price is unknown)."""
    known = KNOWN_PRICES.get(settings.llm_model)
    price_in = settings.llm_price_in if settings.llm_price_in is not None else (
        known[0] if known else None)
    price_out = settings.llm_price_out if settings.llm_price_out is not None else (
        known[1] if known else None)
    cost = None
    if price_in is not None and price_out is not None:
        cost = round((tokens_in * price_in + tokens_out * price_out) / 1e6, 6)
    return LLMUsage(calls=calls, tokens_in=tokens_in, tokens_out=tokens_out, cost_usd=cost)
