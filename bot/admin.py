"""The collection and chat settings: /sources, /add (admins), /autocheck, channel posts."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from factcheck.bot.checks import UNAVAILABLE, CheckRequest, run_check
from factcheck.bot.handlers import settings_allowed, source_of
from factcheck.bot.limits import CheckCancelledError, Job
from factcheck.bot.messages import edit_quietly
from factcheck.bot.render import error_line, esc, link
from factcheck.bot.services import Services, services
from factcheck.bot.uploads import Upload, download_upload
from factcheck.collection import Document, upload_document, url_documents
from factcheck.errors import CollectionUnavailableError, FactcheckError
from factcheck.sources import IngestStats, catalogue_in, ingest_into, stopped_ingest

logger = logging.getLogger(__name__)

CHECK_POSTS = "check_posts"  # chat setting: check a channel's new posts
_LISTED = 10
UPLOAD_ORIGIN = "a file sent to the bot"


async def sources_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sources: size of the collection, last ingest, and the latest sources."""
    s = services(context)
    try:
        catalogue = await asyncio.to_thread(catalogue_in, s.store)
    except CollectionUnavailableError as exc:
        logger.warning("/sources: %s", exc)
        await update.effective_message.reply_text(f"⚠️ {UNAVAILABLE} Try again in a few minutes.")
        return
    stats, latest = catalogue.stats, catalogue.sources[:_LISTED]
    summary = (f"📚 The collection holds {stats.sources} source(s) in {stats.chunks} "
               f"passage(s); last ingest: {esc(stats.last_ingest or 'never')}.")
    lines = [summary] + [f"⚠️ {esc(stopped_ingest(r), 600)}" for r in catalogue.stopped()]
    if latest:
        lines.append("\n<b>Latest sources</b>")
        lines += [f"• {link(s.title or s.source_id, s.url)} ({s.chunks})" for s in latest]
    await update.effective_message.reply_text("\n".join(lines))


async def add_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/add <URL>… or /add as a reply to a document: ingest into the collection (admins)."""
    s, message = services(context), update.effective_message
    user_id = update.effective_user.id if update.effective_user else None
    if not s.access.is_admin(user_id):
        await message.reply_text("Only the bot's admins can add sources.")
        return
    replied = message.reply_to_message
    upload = source_of(replied)[1] if replied else None
    if not (context.args or upload):
        await message.reply_text("Reply /add to a document, or write /add and one or more links.")
        return
    status = await message.reply_text("📥 Reading the new sources…")
    job = Job(update.effective_chat.id, user_id, what="/add")
    try:
        with s.queue.tracked(job):  # /cancel stops the download or the fetches, not the ingest
            documents, label = await _new_documents(context, s, job, upload)
        job.raise_if_cancelled()
        stats = await _ingest(s, documents, status, label)
    except CheckCancelledError:
        await edit_quietly(status, "✋ /add cancelled; nothing was added.")
        return
    except CollectionUnavailableError as exc:
        logger.warning("/add: %s", exc)
        await edit_quietly(status, f"⚠️ {UNAVAILABLE} Nothing was added; try again later.")
        return
    except FactcheckError as exc:
        logger.info("/add refused: %s", exc)
        await edit_quietly(status, error_line(exc))
        return
    replaced = "".join(f"\n↪️ {esc(r.describe(), 300)}" for r in stats.replaced[:_LISTED])
    await edit_quietly(status, f"✅ Added {stats.documents} document(s): {stats.chunks_added} new "
                               f"passage(s), {stats.chunks_skipped} already present.{replaced}")


async def _new_documents(context: ContextTypes.DEFAULT_TYPE, s: Services, job: Job,
                         upload: Upload | None) -> tuple[list[Document], str]:
    """The /add's documents, downloaded or fetched, and its label for the ingest log."""
    if upload:
        data = await job.unless_cancelled(download_upload(context.bot, upload, s.settings))
        return [upload_document(data, upload.name, UPLOAD_ORIGIN)], f"/add of {upload.name}"
    urls = context.args or []
    documents = await asyncio.to_thread(url_documents, urls, s.settings, job.raise_if_cancelled)
    return documents, " ".join(["/add", *urls])


async def _ingest(s: Services, documents: list[Document], status, label: str) -> IngestStats:
    progress = {"done": 0, "total": len(documents)}

    def on_progress(done: int, total: int) -> None:
        progress.update(done=done)

    work = asyncio.ensure_future(
        asyncio.to_thread(ingest_into, s.store, documents, label, on_progress))
    while not work.done():
        await asyncio.wait({work}, timeout=s.settings.status_edit_interval)
        if not work.done():
            await edit_quietly(status, f"🧮 Embedding: {progress['done']} of "
                                       f"{progress['total']} document(s)…")
    return work.result()


async def autocheck_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/autocheck [chat id] on|off: check a channel's new posts quietly (admins)."""
    s, message, chat = services(context), update.effective_message, update.effective_chat
    if not await settings_allowed(update, context):
        return
    words = (message.text or "").split()[1:]
    target = int(words[0]) if len(words) == 2 and words[0].lstrip("-").isdigit() else chat.id
    if not words or words[-1] not in ("on", "off"):
        await message.reply_text("Write /autocheck on or /autocheck off "
                                 "(or /autocheck CHAT_ID on).")
        return
    if chat.type == ChatType.CHANNEL and target != chat.id:
        # Anyone who may post in the channel could send this: it sets only the channel itself.
        await message.reply_text("From a channel, /autocheck turns checking on or off for "
                                 "this channel only: write /autocheck on or /autocheck off.")
        return
    s.history.set_chat_setting(target, CHECK_POSTS, words[-1] == "on")
    state = ("on: new posts are checked quietly and kept for digests" if words[-1] == "on"
             else "off")
    await message.reply_text(f"Checking of posts in chat {target} is {state}.")


async def channel_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A new channel post: checked quietly and stored when the channel turned checks on."""
    s, post = services(context), update.channel_post
    if not s.history.get_chat_setting(post.chat_id, CHECK_POSTS, False):
        return
    text, upload = source_of(post)
    if text or upload:
        request = CheckRequest(post.chat_id, ChatType.CHANNEL, None, post.message_id, text,
                               upload, update_id=update.update_id)
        await run_check(context.bot, s, request)
