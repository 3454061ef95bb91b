"""The long-lived objects every handler uses, built once at start-up (see bot.app)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import ContextTypes

from bot.limits import Access, CheckQueue, RateLimiter
from factcheck.history import History
from factcheck.memory import ClaimMemory, open_memory
from factcheck.settings import Settings
from retrieval import SourceStore


@dataclass
class Services:
    """Settings, the source collection, the history store and claim memory, and the limits."""

    settings: Settings
    store: SourceStore
    history: History
    access: Access
    rate: RateLimiter
    queue: CheckQueue
    memory: ClaimMemory | None = None

    @classmethod
    def build(cls, settings: Settings, store: SourceStore, history: History) -> Services:
        """Services from the settings; the claim memory shares the history file and embedder."""
        return cls(
            settings=settings, store=store, history=history,
            memory=open_memory(settings, store.embedder),
            access=Access.from_settings(settings),
            rate=RateLimiter(settings.rate_limit_per_minute),
            queue=CheckQueue(settings.max_concurrent_checks, settings.max_queued_checks),
        )


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The services of the running application."""
    return context.bot_data["services"]
