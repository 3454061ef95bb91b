"""The update journal: every update is stored (history's pending_updates) before Telegram learns
that it arrived, and dropped once handled, so that a bot killed mid-check (kill -9, a crash, a
power cut) runs the check again at its next start instead of losing it silently."""

from __future__ import annotations

import asyncio
import json
import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application

from factcheck.bot.messages import send_html
from factcheck.history import History, PendingUpdate

logger = logging.getLogger(__name__)

MAX_REPLAYS = 1  # an update that killed the bot twice is not tried a third time
RESTARTED = "♻️ I restarted during this check; checking again…"
GAVE_UP = ("⚠️ I restarted twice during this request and stopped trying. Send it again, or "
           "tell the bot's operator if it keeps failing.")


class JournalQueue(asyncio.Queue):
    """The application's update queue: it journals each update before queueing it, which is
    before polling confirms it (the next getUpdates) and before the webhook answers 200."""

    def __init__(self) -> None:
        super().__init__()
        self.history: History | None = None  # set when the services open (post_init)
        self._replayed: set[int] = set()

    async def put(self, item: object) -> None:
        """Journal an update, then queue it; an update being replayed is not queued twice."""
        if isinstance(item, Update) and self.history is not None:
            if item.update_id in self._replayed:  # the kill came before Telegram was told
                logger.info("update %s arrived again; it is already being replayed",
                            item.update_id)
                return
            self.history.add_pending_update(item.update_id, item.to_json())
        await super().put(item)

    async def replay(self, update: Update) -> None:
        """Queue an update of the journal again (it stays journalled)."""
        self._replayed.add(update.update_id)
        await super().put(update)


class JournalApplication(Application):
    """An Application that drops an update from the journal once its handlers are done."""

    async def process_update(self, update: object) -> None:
        """Handle the update (errors go to the error handler), then drop it from the journal.
        A task cancelled at shutdown leaves it journalled: the next start runs it again."""
        await super().process_update(update)
        queue = self.update_queue
        if isinstance(update, Update) and isinstance(queue, JournalQueue) and queue.history:
            queue.history.finish_pending_update(update.update_id)


async def replay_pending(app: Application, history: History) -> int:
    """At start: queue again every journalled update the last run did not finish; one that
    was replayed already is given up, with a word to its chat. Returns how many are replayed."""
    queue: JournalQueue = app.update_queue  # type: ignore[assignment]
    queue.history = history
    replayed = 0
    for pending in history.pending_updates():
        update = Update.de_json(json.loads(pending.payload), app.bot)
        if pending.replays >= MAX_REPLAYS:
            logger.warning("update %s was interrupted %d times; giving up", pending.update_id,
                           pending.replays + 1)
            await _tell_given_up(app, update, pending)
            history.finish_pending_update(pending.update_id)
            continue
        history.mark_replayed(pending.update_id)
        await queue.replay(update)
        replayed += 1
    return replayed


async def _tell_given_up(app: Application, update: Update, pending: PendingUpdate) -> None:
    chat, message = update.effective_chat, update.effective_message
    if chat is None or chat.type == ChatType.CHANNEL:  # channel checks are quiet
        return
    try:
        if pending.status_message_id:
            await app.bot.edit_message_text(GAVE_UP, chat_id=chat.id,
                                            message_id=pending.status_message_id)
        else:
            await send_html(app.bot, chat.id, GAVE_UP, message.message_id if message else None)
    except TelegramError as exc:
        logger.warning("could not tell chat %s its request was given up: %s", chat.id, exc)
