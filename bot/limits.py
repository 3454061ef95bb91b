"""Who may use the bot, how often, and how many checks run at once (the rest wait in a queue)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from factcheck.settings import Settings

logger = logging.getLogger(__name__)

Result = TypeVar("Result")


@dataclass(frozen=True)
class Access:
    """ALLOWED_CHAT_IDS and ADMIN_USER_IDS: an empty allow-list lets every chat in."""

    allowed_chats: frozenset[int] = frozenset()
    admins: frozenset[int] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> Access:
        """The access lists of these settings."""
        return cls(frozenset(settings.allowed_chat_ids), frozenset(settings.admin_user_ids))

    def chat_allowed(self, chat_id: int) -> bool:
        """Whether the bot serves this chat."""
        return not self.allowed_chats or chat_id in self.allowed_chats

    def is_admin(self, user_id: int | None) -> bool:
        """Whether this user may add sources and change settings."""
        return user_id is not None and user_id in self.admins


class RateLimiter:
    """At most `per_minute` events per key in any 60-second window."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._events: dict[int, deque[float]] = defaultdict(deque)

    def try_acquire(self, key: int) -> float:
        """Count one event for `key` and return 0, or return the seconds to wait (not counted)."""
        now, window = self._clock(), self._events[key]
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return 60 - (now - window[0])
        window.append(now)
        return 0.0


class QueueFullError(Exception):
    """Too many checks are waiting already."""


class CheckCancelledError(Exception):
    """The user cancelled the check."""


@dataclass
class Job:
    """One check (or an admin's /add), from the moment it is asked until it is answered."""

    chat_id: int
    user_id: int | None
    what: str = "check"  # what /cancel says it cancels
    cancelled: threading.Event = field(default_factory=threading.Event)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def cancel(self) -> None:
        """Stop the check: a queued one leaves the queue, a running one at its next step."""
        self.cancelled.set()
        self._wake.set()

    def raise_if_cancelled(self) -> None:
        """Called from the worker thread between steps."""
        if self.cancelled.is_set():
            raise CheckCancelledError

    async def unless_cancelled(self, work: Awaitable[Result]) -> Result:
        """Await `work` on the event loop, or stop it as soon as the job is cancelled (a
        download drops its connection) and raise CheckCancelledError."""
        self.raise_if_cancelled()
        task, woken = asyncio.ensure_future(work), asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({task, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if task.cancelled():
            raise CheckCancelledError
        return task.result()


PositionCallback = Callable[[int], Awaitable[None]]


class CheckQueue:
    """A cap on running checks; waiting checks are served in order and told their position."""

    def __init__(self, running: int, waiting: int) -> None:
        self._free = max(1, running)
        self._max_waiting = waiting
        self._waiting: list[tuple[Job, asyncio.Event, PositionCallback | None]] = []
        self.jobs: list[Job] = []  # every job asked and not yet finished, for /cancel

    @asynccontextmanager
    async def slot(
        self, job: Job, on_position: PositionCallback | None = None
    ) -> AsyncIterator[None]:
        """Hold a running slot for the body; wait (reporting positions) while all are busy."""
        with self.tracked(job):
            await self._acquire(job, on_position)
            try:
                yield
            finally:
                self._release()

    @contextmanager
    def tracked(self, job: Job) -> Iterator[None]:
        """/cancel finds the job while the body runs (a job that needs no slot: /add)."""
        self.jobs.append(job)
        try:
            yield
        finally:
            self.jobs.remove(job)

    def jobs_of(self, chat_id: int, user_id: int | None) -> list[Job]:
        """The unfinished jobs one user asked in one chat."""
        return [j for j in self.jobs if j.chat_id == chat_id and j.user_id == user_id]

    @property
    def waiting(self) -> int:
        """How many checks wait for a slot."""
        return len(self._waiting)

    async def _acquire(self, job: Job, on_position: PositionCallback | None) -> None:
        job.raise_if_cancelled()
        if self._free and not self._waiting:
            self._free -= 1
            return
        if len(self._waiting) >= self._max_waiting:
            raise QueueFullError
        turn = asyncio.Event()
        entry = (job, turn, on_position)
        self._waiting.append(entry)
        if on_position:
            await on_position(len(self._waiting))
        try:
            await _first_of(turn, job._wake)
        except BaseException:  # the task itself was cancelled (shutdown)
            self._leave(entry)
            raise
        if not turn.is_set():  # the user cancelled while waiting
            self._leave(entry)
            raise CheckCancelledError

    def _leave(self, entry: tuple[Job, asyncio.Event, PositionCallback | None]) -> None:
        if entry in self._waiting:
            self._waiting.remove(entry)
            asyncio.get_running_loop().create_task(self._tell_positions())
        elif entry[1].is_set():  # the slot arrived as the job left: pass it on
            self._release()

    def _release(self) -> None:
        if not self._waiting:
            self._free += 1
            return
        _, turn, _ = self._waiting.pop(0)
        turn.set()  # the slot passes straight to the next job
        asyncio.get_running_loop().create_task(self._tell_positions())

    async def _tell_positions(self) -> None:
        for position, (_, _, on_position) in enumerate(list(self._waiting), start=1):
            if on_position:
                await on_position(position)


async def _first_of(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
