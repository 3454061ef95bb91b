"""The long-lived objects every handler uses, built once at start-up (see bot.app)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from telegram.ext import ContextTypes

from factcheck.bot.limits import Access, CheckQueue, RateLimiter
from factcheck.desk import Desk
from factcheck.history import History
from factcheck.memory import ClaimMemory, open_memory
from factcheck.pipeline import Store, embedder_for, open_store
from factcheck.settings import Settings
from factcheck.sources import is_empty

logger = logging.getLogger(__name__)


class Collection:
    """The source collection, opened on first use and again after a failed open: with its
    Chroma server down when the bot starts, checks and /sources answer that the collection is
    unavailable (CollectionUnavailableError) and everything else works, until it is back."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._store: Store | None = None
        self._lock = threading.Lock()

    def store(self) -> Store:
        """The open store; opens it now if it is not (blocking: call it from a worker thread)."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self._settings)
                if is_empty(self._store):
                    logger.warning("the collection %s is empty: every claim will be 'not enough "
                                   "evidence' until sources are added (/add, or factcheck "
                                   "ingest)", self._store.location)
            return self._store

    def close(self) -> None:
        """Close the store if it was opened."""
        with self._lock:
            if self._store is not None:
                self._store.close()


@dataclass
class Services:
    """Settings, the source collection, the history store and claim memory, and the limits."""

    settings: Settings
    collection: Collection
    history: History
    access: Access
    rate: RateLimiter
    queue: CheckQueue
    memory: ClaimMemory | None = None

    @property
    def store(self) -> Store:
        """The source collection's store (opened on first use: from a worker thread)."""
        return self.collection.store()

    @property
    def desk(self) -> Desk:
        """The desk that checks, stores and remembers (from a worker thread)."""
        return Desk(self.settings, self.history, self.memory)

    @classmethod
    def build(cls, settings: Settings, collection: Collection, history: History) -> Services:
        """Services from the settings; the claim memory shares the history file and embedder."""
        return cls(
            settings=settings, collection=collection, history=history,
            memory=open_memory(settings, embedder_for(settings)),
            access=Access.from_settings(settings),
            rate=RateLimiter(settings.rate_limit_per_minute),
            queue=CheckQueue(settings.max_concurrent_checks, settings.max_queued_checks),
        )


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The services of the running application."""
    return context.bot_data["services"]
