"""Sending and editing HTML messages; what Telegram rejects as HTML is resent as plain text."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import cast

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.error import BadRequest, TelegramError

from factcheck.bot.render import plain_text

logger = logging.getLogger(__name__)


def _rejected_html(exc: BadRequest) -> bool:
    return "can't parse entities" in exc.message.lower() or "unsupported start tag" in exc.message


async def send_html(
    bot: Bot, chat_id: int, text: str, reply_to: int | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> Message:
    """Send an HTML message (as a reply when `reply_to` is given), plain text if HTML fails."""
    reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    try:
        return await bot.send_message(chat_id, text, reply_parameters=reply, reply_markup=markup)
    except BadRequest as exc:
        if not _rejected_html(exc):
            raise
        logger.warning("Telegram rejected a message's HTML (%s); sending it as plain text", exc)
        return await bot.send_message(
            chat_id, plain_text(text), parse_mode=None, reply_parameters=reply, reply_markup=markup
        )


async def edit_html(
    message: Message, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace a message's text; an unchanged text is no error, rejected HTML goes plain."""
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" in exc.message.lower():
            return
        if not _rejected_html(exc):
            raise
        logger.warning("Telegram rejected an edit's HTML (%s); sending it as plain text", exc)
        await message.edit_text(plain_text(text), parse_mode=None, reply_markup=markup)


async def resume_html(
    bot: Bot, chat_id: int, message_id: int, text: str, reply_to: int | None = None
) -> Message:
    """Edit an earlier message of the bot to `text`; a new message if it cannot be edited."""
    try:  # a Message: only inline messages are answered with True
        return cast(Message, await bot.edit_message_text(text, chat_id=chat_id,
                                                         message_id=message_id))
    except TelegramError as exc:  # deleted, or too old to edit
        logger.info("cannot edit message %s of chat %s (%s); sending a new one", message_id,
                    chat_id, exc)
        return await send_html(bot, chat_id, text, reply_to)


async def edit_quietly(message: Message | None, text: str) -> None:
    """Edit a status message; a failure (deleted message, flood) must not stop the check."""
    if message is None:
        return
    try:
        await edit_html(message, text)
    except TelegramError as exc:
        logger.info("could not update a status message: %s", exc)


class StatusMessage:
    """A check's status message, sent in the background: the check never waits for it (the send
    may be retried through a Bot API outage), and a status that could not be sent is replaced by
    new messages at the end. Without a send (a quiet channel check) it shows nothing."""

    def __init__(self, bot: Bot, chat_id: int, sending: Awaitable[Message] | None) -> None:
        self._bot, self._chat_id = bot, chat_id
        self.quiet = sending is None
        self._wanted: str | None = None  # the text to show once the message is sent
        self._sending = asyncio.ensure_future(self._deliver(sending)) if sending else None

    @classmethod
    def send(cls, bot: Bot, chat_id: int, text: str, reply_to: int | None) -> StatusMessage:
        """Start sending a status message (as a reply to `reply_to`)."""
        return cls(bot, chat_id, send_html(bot, chat_id, text, reply_to))

    async def show(self, text: str) -> None:
        """Edit the status to `text`; while it is being sent, it shows `text` once sent."""
        if self._sending and self._sending.done() and (message := self._sending.result()):
            await edit_quietly(message, text)
        else:
            self._wanted = text

    async def message(self) -> Message | None:
        """The sent status once its sending ends; None when quiet or it could not be sent."""
        return await self._sending if self._sending else None

    async def finish(self, text: str) -> None:
        """The check's last word: in the status message, or in a new one if it was not sent."""
        if self.quiet:
            return
        message = await self.message()
        if message is not None:
            await edit_quietly(message, text)
            return
        try:
            await send_html(self._bot, self._chat_id, text)
        except TelegramError as exc:
            logger.warning("could not tell chat %s how its check ended: %s", self._chat_id, exc)

    async def _deliver(self, sending: Awaitable[Message]) -> Message | None:
        try:
            message = await sending
        except TelegramError as exc:  # the check goes on; its report is sent as new messages
            logger.warning("could not send a status message to chat %s: %s", self._chat_id, exc)
            return None
        # Show what the check showed while the message was on its way.
        shown: str | None = None
        while self._wanted is not None and self._wanted != shown:
            shown = self._wanted
            await edit_quietly(message, shown)
        return message
