"""Sending and editing HTML messages; what Telegram rejects as HTML is resent as plain text."""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.error import BadRequest, TelegramError

from bot.render import plain_text

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


async def edit_quietly(message: Message | None, text: str) -> None:
    """Edit a status message; a failure (deleted message, flood) must not stop the check."""
    if message is None:
        return
    try:
        await edit_html(message, text)
    except TelegramError as exc:
        logger.info("could not update a status message: %s", exc)
