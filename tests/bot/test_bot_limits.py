"""Access lists, the per-user rate limit and the queue of checks."""

from __future__ import annotations

import asyncio

import pytest

from factcheck.bot.limits import (
    Access,
    CheckCancelledError,
    CheckQueue,
    Job,
    QueueFullError,
    RateLimiter,
)
from factcheck.settings import Settings


def test_empty_allow_list_lets_everyone_in_and_admins_are_listed():
    open_bot = Access.from_settings(Settings())
    assert open_bot.chat_allowed(42) and not open_bot.is_admin(42)
    closed = Access.from_settings(Settings(allowed_chat_ids=[1, -100], admin_user_ids=[7]))
    assert closed.chat_allowed(-100) and not closed.chat_allowed(2)
    assert closed.is_admin(7) and not closed.is_admin(None)


def test_allow_lists_read_from_the_environment_as_comma_separated_ids(monkeypatch):
    monkeypatch.setenv("ALLOWED_CHAT_IDS", "12, -1001")
    monkeypatch.setenv("ADMIN_USER_IDS", "[5]")
    settings = Settings()
    assert (settings.allowed_chat_ids, settings.admin_user_ids) == ([12, -1001], [5])


def test_rate_limit_counts_per_user_in_a_sliding_minute():
    now = [1000.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.try_acquire(1) == 0 and limiter.try_acquire(1) == 0
    assert limiter.try_acquire(1) == pytest.approx(60)
    assert limiter.try_acquire(2) == 0  # another user is not affected
    now[0] += 30
    assert limiter.try_acquire(1) == pytest.approx(30)  # a refused attempt is not counted
    now[0] += 30
    assert limiter.try_acquire(1) == 0


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 10))


def test_queue_runs_at_most_its_capacity_and_tells_positions_in_order():
    async def scenario():
        queue, order, positions = CheckQueue(running=1, waiting=5), [], {}
        gate = asyncio.Event()

        async def check(name: str) -> None:
            async def told(position: int) -> None:
                positions.setdefault(name, []).append(position)

            async with queue.slot(Job(1, 1), told):
                order.append(name)
                if name == "a":
                    await gate.wait()

        tasks = [asyncio.create_task(check(n)) for n in "abc"]
        while queue.waiting < 2:
            await asyncio.sleep(0)
        assert order == ["a"]
        gate.set()
        await asyncio.gather(*tasks)
        return order, positions

    order, positions = run(scenario())
    assert order == ["a", "b", "c"]
    assert positions == {"b": [1], "c": [2, 1]}


def test_queue_refuses_when_full_and_cancelled_jobs_leave_it():
    async def scenario():
        queue, gate = CheckQueue(running=1, waiting=1), asyncio.Event()

        async def hold() -> None:
            async with queue.slot(Job(1, 1)):
                await gate.wait()

        async def wait(job: Job) -> str:
            try:
                async with queue.slot(job):
                    return "ran"
            except (CheckCancelledError, QueueFullError) as exc:
                return type(exc).__name__

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        waiting_job = Job(2, 2)
        waiter = asyncio.create_task(wait(waiting_job))
        await asyncio.sleep(0)
        refused = await wait(Job(3, 3))
        assert queue.jobs_of(2, 2) == [waiting_job]
        waiting_job.cancel()
        cancelled = await waiter
        gate.set()
        await holder
        after = await wait(Job(4, 4))  # the slot came back
        return refused, cancelled, after, queue.jobs

    assert run(scenario()) == ("QueueFullError", "CheckCancelledError", "ran", [])


def test_a_cancelled_job_stops_at_its_next_step():
    job = Job(1, 1)
    job.raise_if_cancelled()
    job.cancel()
    with pytest.raises(CheckCancelledError):
        job.raise_if_cancelled()
