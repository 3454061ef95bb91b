"""Retrying a question to the LLM (or a batch of embeddings) within one deadline.

The clients never retry by themselves: `retried` runs an attempt again where a retry can help
(lost connections, 429, 5xx, a garbled or empty completion, an answer cut off at max_tokens), at
most LLM_MAX_RETRIES times and all within one LLM_TIMEOUT, and every fault leaves as one LLMError
line that says what happened and what to do. An attempt's fault is a `Failure`, which may carry a
re-ask for the next attempt.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from factcheck.errors import LLMError
from factcheck.settings import Settings

logger = logging.getLogger(__name__)

# Waits between retries: doubling from the first, at most the last (unless the server says).
_BACKOFF = (0.5, 8.0)

Result = TypeVar("Result")


def retried(attempt: Callable[[float], Result], settings: Settings) -> Result:
    """attempt(deadline) until it returns, retrying a Failure where a retry can help, at most
    LLM_MAX_RETRIES times and all within one LLM_TIMEOUT (`deadline` is time.monotonic's)."""
    deadline = time.monotonic() + settings.llm_timeout
    retries = settings.llm_max_retries
    attempts = 0
    failure: Failure | None = None
    while True:
        attempts += 1
        try:
            return attempt(deadline)
        except TimedOut as timed_out:
            if failure is None:
                raise LLMError(timed_out.line(attempts)) from None
            # The earlier attempts' fault is the news: the deadline only ended the retries.
            raise LLMError(failure.line(attempts, "the last did not end within the LLM_TIMEOUT "
                                        f"of {settings.llm_timeout:g} s")) from None
        except Failure as caught:
            failure = caught
        time.sleep(_wait_for_retry(failure, attempts, retries, deadline, settings))
        retries -= 1


def _wait_for_retry(
    failure: Failure, attempts: int, retries: int, deadline: float, settings: Settings
) -> float:
    """Seconds to wait before the next attempt; LLMError when there is to be none."""
    logger.info("LLM attempt %d/%d failed: %s%s", attempts, settings.llm_max_retries + 1,
                failure.what, f" ({failure.detail})" if failure.detail else "")
    if not failure.retry or retries == 0:
        raise LLMError(failure.line(attempts))
    wait = failure.wait if failure.wait is not None else _backoff(attempts)
    if time.monotonic() + wait >= deadline:  # never wait past the deadline
        asked = f"it asked to wait {wait:g} s, " if failure.wait else ""
        raise LLMError(failure.line(
            attempts, f"{asked}past the LLM_TIMEOUT of {settings.llm_timeout:g} s"))
    return wait


@dataclass
class Failure(Exception):
    """One failed attempt: what happened, whether a retry may help, and the line for the user."""

    what: str  # what happened, for the log and the user's line
    advice: str  # what to do
    detail: str = ""  # said after the attempts
    retry: bool = True
    wait: float | None = None  # seconds the server asked to wait (Retry-After)
    turns: list[tuple[str, str]] = field(default_factory=list)  # a re-ask, for the next attempt

    def line(self, attempts: int, why_stopped: str = "") -> str:
        """One line: what happened in how many attempts (and why no more), and what to do."""
        tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        notes = "; ".join(filter(None, [self.detail, why_stopped]))
        return f"{self.what} in {tries}{f' ({notes})' if notes else ''}; {self.advice}"


class TimedOut(Failure):
    """The question's deadline passed during a request."""


def cut_off(settings: Settings) -> Failure:
    """An answer stopped at max_tokens: asked again for a shorter one."""
    return Failure(
        f"the answer of the LLM ({settings.llm_model}) was cut off at its token limit",
        f"raise LLM_MAX_TOKENS (now {settings.llm_max_tokens}) or lower MAX_CLAIMS",
        wait=0.0,
        turns=[("user", "Your answer was cut off at the token limit. Answer again with the "
                        "JSON object only, shorter: fewer items, one-line rationales.")],
    )


def _backoff(attempts: int) -> float:
    first, most = _BACKOFF
    return min(first * 2 ** (attempts - 1), most) * random.uniform(0.75, 1.0)
