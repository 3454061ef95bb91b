"""Handlers of messages and commands: each reads the update, calls the core, answers."""

from __future__ import annotations

import logging
import math
import re
import secrets
import traceback
from pathlib import Path

from telegram import Bot, ChatMemberRestricted, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import NetworkError, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from factcheck import logmask
from factcheck.bot.checks import CheckRequest, Upload, run_check, send_report
from factcheck.bot.render import esc
from factcheck.bot.services import services
from factcheck.history import StoredCheck
from factcheck.intake import ARTICLE_SUFFIXES

logger = logging.getLogger(__name__)

HELP = (
    "I check the claims of an article against a collection of trusted sources.\n\n"
    "<b>Send me</b> an article's text, a link, a forwarded post, or a .txt, .md, .html or .pdf "
    "file. I split it into claims, look each one up in the collection and say whether the "
    "sources support it, contradict it, or say nothing about it, quoting them.\n\n"
    "<b>Commands</b>\n/check: check the message you reply to, or the text or link after it\n"
    "/sources: what the collection holds\n/cancel: stop your check in progress\n"
    "/summary [24h|7d|N]: what this chat checked, with a chart\n"
    "/add: add a source (admins)\n/autocheck on|off: check a channel's posts (admins)\n"
    "/digest on|off [HH:MM] [target]: post a daily summary here, to a channel or group I "
    "administer, or to a channel's <code>discussion</code> group (admins)\n\n"
    "<b>What I cannot do</b>: judge claims the collection does not cover (I say "
    "\"not enough evidence\"), read images or videos, or check what happened after the "
    "sources were written. Verdicts are aids for a fact-checker, not final rulings.\n\n"
    "In groups I act on /check, on a mention, and on replies to my messages."
)
REFUSAL = "This bot serves only its own newsroom's chats. Ask its operator to add this chat."
NOT_YOURS = "That check belongs to another chat."


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every handler: chats outside ALLOWED_CHAT_IDS get a short refusal."""
    chat = update.effective_chat
    if chat is None or services(context).access.chat_allowed(chat.id):
        return
    logger.info("refused an update from chat %s", chat.id)
    message = update.effective_message
    if update.callback_query:
        await update.callback_query.answer(REFUSAL, show_alert=True)
    elif message and (chat.type == ChatType.PRIVATE or (message.text or "").startswith("/")):
        await message.reply_text(REFUSAL)
    raise ApplicationHandlerStop


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, or /start <check id> from a group's "details in private" link."""
    message, chat = update.effective_message, update.effective_chat
    if context.args and chat.type == ChatType.PRIVATE:
        s = services(context)
        stored = s.history.get_check(context.args[0])
        if stored is None:
            await message.reply_text("That check is no longer stored. Send the article again.")
            return
        if not await may_read(context.bot, stored, chat.id, update.effective_user.id):
            await message.reply_text(NOT_YOURS)
            return
        await send_report(context.bot, chat.id, stored.report, stored.id, s.settings.timezone)
        return
    await message.reply_text("👋 " + HELP)


async def may_read(bot: Bot, stored: StoredCheck, chat_id: int, user_id: int | None) -> bool:
    """Whether a stored check may be shown in this chat to this user: in its own chat, or in
    private to its requester or to a member of its group. The one rule of /start <id> and of
    report buttons, whose callback data a modified client can forge."""
    # A report holds the article a chat sent: private to that chat.
    if chat_id == stored.chat_id:
        return True
    if user_id is None or chat_id != user_id:  # elsewhere, only in the user's private chat
        return False
    if user_id == stored.user_id:
        return True
    if stored.chat_type == ChatType.PRIVATE:
        return False
    try:
        member = await bot.get_chat_member(stored.chat_id, user_id)
    except TelegramError as exc:  # the bot left the chat, or it is gone
        logger.info("cannot tell whether %s is in chat %s: %s", user_id, stored.chat_id, exc)
        return False
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status not in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what the bot does and what it cannot do."""
    await update.effective_message.reply_text(HELP)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have: one line on what it does take. In groups only when the
    command names this bot, as other bots' commands reach it too."""
    message = update.effective_message
    command = (message.text or "").split(maxsplit=1)[0]
    name, _, addressee = command.partition("@")
    if update.effective_chat.type != ChatType.PRIVATE and (
            addressee.lower() != (context.bot.username or "").lower()):
        return
    await message.reply_text(
        f"I have no {esc(name, 40)} command: send me an article, a link or a file to check, "
        "or /help for what I can do.")


async def check_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/check <text or link>, or /check as a reply to the message to check."""
    message = update.effective_message
    text = message.text.split(maxsplit=1)[1] if context.args else None
    upload = None
    if not text and message.reply_to_message:
        text, upload = source_of(message.reply_to_message)
    if not (text or upload):
        await message.reply_text("Reply /check to a message, or write /check and the text "
                                 "or link.")
        return
    await start_check(update, context, text, upload)


async def private_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text, link, forwarded post or document sent in a private chat is checked."""
    text, upload = source_of(update.effective_message)
    if text or upload:
        await start_check(update, context, text, upload)


async def group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups: act on a mention of the bot or on a reply to one of its messages."""
    message, bot = update.effective_message, context.bot
    replied = message.reply_to_message
    to_bot = bool(replied and replied.from_user and replied.from_user.id == bot.id)
    mention = f"@{bot.username}"
    mentioned = mention.lower() in (message.text or message.caption or "").lower()
    if not (mentioned or to_bot):
        return
    text, upload = source_of(message)
    if text and mentioned:
        text = re.sub(re.escape(mention), " ", text, flags=re.IGNORECASE).strip() or None
    if not (text or upload) and replied and not to_bot:
        text, upload = source_of(replied)
    if text or upload:
        await start_check(update, context, text, upload)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: stop the user's checks in this chat, running or queued, and their /add."""
    user_id = update.effective_user.id if update.effective_user else None
    jobs = services(context).queue.jobs_of(update.effective_chat.id, user_id)
    for job in jobs:
        job.cancel()
    kinds = " and your ".join(sorted({job.what for job in jobs}))
    answer = (f"✋ Cancelling your {kinds}." if jobs
              else "You have no check in progress in this chat.")
    await update.effective_message.reply_text(answer)


async def start_check(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str | None, upload: Upload | None
) -> None:
    """Apply the per-user rate limit and the file-type rule, then run the check."""
    s, message, chat = services(context), update.effective_message, update.effective_chat
    user_id = update.effective_user.id if update.effective_user else None
    if upload and Path(upload.name).suffix.lower() not in ARTICLE_SUFFIXES:
        await message.reply_text(f"I can read {', '.join(ARTICLE_SUFFIXES)} files.")
        return
    wait = s.rate.try_acquire(user_id) if user_id is not None else 0.0
    if wait:
        # Quoted even in private: after a burst the user sees which articles were not checked.
        await message.reply_text(
            f"🚦 You have started {s.rate.per_minute} checks in the last minute, the most "
            f"allowed. Try again in {math.ceil(wait)} s.", do_quote=True,
        )
        return
    request = CheckRequest(chat.id, chat.type, user_id, message.message_id, text, upload,
                           update_id=update.update_id)
    await run_check(context.bot, s, request)


async def settings_allowed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the sender may change this chat's settings; says so to them when not."""
    # Only a channel's admins can post in it, so a command posted there needs no admin list.
    if update.effective_chat.type == ChatType.CHANNEL:
        return True
    user = update.effective_user
    if services(context).access.is_admin(user.id if user else None):
        return True
    await update.effective_message.reply_text("Only the bot's admins can change chat settings.")
    return False


def source_of(message: Message | None) -> tuple[str | None, Upload | None]:
    """The article a message carries: its document, else its text or caption."""
    if message is None:
        return None, None
    if message.document:
        doc = message.document
        return None, Upload(doc.file_id, doc.file_name or "document.txt", doc.file_size)
    text = (message.text or message.caption or "").strip()
    return (text or None), None


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: details to the log, a reference to the user. The token never
    reaches the log: the details are masked here, whichever handlers the log has."""
    if update is None and isinstance(context.error, NetworkError):  # polling, during an outage
        reason = " ".join(str(context.error).split())[:120]  # a proxy's error page is long
        logger.warning("getUpdates failed (%s); polling goes on", reason)
        return
    reference = secrets.token_hex(4)
    details = logmask.mask("".join(traceback.format_exception(context.error)))
    logger.error("handling an update failed (ref %s):\n%s", reference, details)
    if isinstance(update, Update) and update.effective_chat:
        try:
            await context.bot.send_message(
                update.effective_chat.id,
                f"Sorry, something went wrong on my side (reference {reference}). "
                "The maintainers can look it up; please try again later.",
            )
        except TelegramError as exc:  # the chat may be gone; the log has the original error
            logger.warning("could not tell chat %s about error %s: %s", update.effective_chat.id,
                           reference, exc)

