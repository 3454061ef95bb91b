"""One check from a chat: status message, queue, the pipeline in a worker thread, the report.

The pipeline is CPU-bound (embeddings, offline models) or waits on an LLM, so it runs in a
thread: the event loop stays free to serve other chats while it works.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from telegram import Bot, Message

from factcheck.bot import keyboards
from factcheck.bot.journal import RESTARTED
from factcheck.bot.limits import CheckCancelledError, Job, QueueFullError
from factcheck.bot.messages import StatusMessage, edit_html, resume_html, send_html
from factcheck.bot.render import error_line, progress_text, queue_text, report_pages
from factcheck.bot.services import Services
from factcheck.bot.uploads import Upload, download_upload
from factcheck.desk import Asker, DeskCheck
from factcheck.errors import CollectionUnavailableError, FactcheckError, LLMError, StoreError
from factcheck.intake import article_from_bytes, read_article
from factcheck.models import Article, Report

logger = logging.getLogger(__name__)

UNAVAILABLE = "The collection of trusted sources is unavailable right now."
GROUP_EDIT_INTERVAL = 3.0  # Telegram allows about 20 messages a minute in a group


@dataclass(frozen=True)
class CheckRequest:
    """What to check, for whom, and how to answer."""

    chat_id: int
    chat_type: str  # "private", "group", "supergroup" or "channel"
    user_id: int | None
    message_id: int | None
    text: str | None = None  # article text or a URL
    upload: Upload | None = None
    article: Article | None = None  # an article already read ("Check again")
    fresh: bool = False  # check everything again: no answer from the claim memory
    update_id: int | None = None  # the update that asked, in the journal until answered

    @property
    def quiet(self) -> bool:
        """Channel posts are checked without answering in the channel."""
        return self.chat_type == "channel"

    @property
    def compact(self) -> bool:
        """Groups get a short report with a link to the details in private."""
        return self.chat_type in ("group", "supergroup")

    @property
    def asker(self) -> Asker:
        """Who asked, for the desk."""
        return Asker(self.chat_id, self.chat_type, self.user_id, self.message_id)


class _Progress:
    """The latest (stage, done, total) the worker thread reported."""

    def __init__(self) -> None:
        self.latest: tuple[str, int, int] = ("reading", 0, 1)


async def run_check(bot: Bot, services: Services, request: CheckRequest) -> str | None:
    """Check the request's article at the desk (which stores it) and answer; returns the stored
    check id."""
    status = _status_message(bot, services, request)
    job = Job(request.chat_id, request.user_id)
    try:
        done = await _queued_check(bot, services, request, job, status)
    except CheckCancelledError:
        await status.finish("✋ Check cancelled.")
        return None
    except QueueFullError:
        await status.finish("🚦 Too many checks are waiting. Try again in a few minutes.")
        return None
    except CollectionUnavailableError as exc:
        logger.warning("check in chat %s: %s", request.chat_id, exc)
        await status.finish(f"⚠️ {UNAVAILABLE} Nothing can be checked until it is back; try "
                            "again in a few minutes.")
        return None
    except StoreError as exc:  # the history's or the memory's file: the operator must look
        logger.error("check in chat %s failed: %s", request.chat_id, exc)
        await status.finish(error_line(exc))
        return None
    except FactcheckError as exc:  # the log has the whole line, the chat what it may see
        logger.log(logging.WARNING if isinstance(exc, LLMError) else logging.INFO,
                   "check in chat %s refused: %s", request.chat_id, exc)
        await status.finish(error_line(exc))
        return None
    except Exception:
        await status.finish("❗ This check failed.")
        raise
    await _answer(bot, services, request, done, status)
    return done.check_id


def _status_message(bot: Bot, services: Services, request: CheckRequest) -> StatusMessage:
    """The check's status message, sent in the background: the check starts at once and does
    not fail with it. A check run again after a restart continues in its old status message;
    a new one is noted in the journal for that."""
    if request.quiet:
        return StatusMessage(bot, request.chat_id, None)
    pending = (services.history.pending_update(request.update_id)
               if request.update_id is not None else None)
    if pending and pending.status_message_id:
        sending = resume_html(bot, request.chat_id, pending.status_message_id, RESTARTED,
                              request.message_id)
    else:
        sending = send_html(bot, request.chat_id, progress_text("reading", 0, 1),
                            request.message_id)
    return StatusMessage(bot, request.chat_id, _noted(sending, services, request.update_id))


async def _noted(sending: Awaitable[Message], services: Services,
                 update_id: int | None) -> Message:
    message = await sending
    if update_id is not None:
        services.history.set_pending_status(update_id, message.message_id)
    return message


async def _answer(bot: Bot, services: Services, request: CheckRequest, done: DeskCheck,
                  status: StatusMessage) -> None:
    """Send the report; a repeat of an earlier check says so."""
    if not status.quiet:  # the status becomes the report; new messages if it was never sent
        await send_report(bot, request.chat_id, done.report, done.check_id,
                          services.settings.timezone, request.compact, await status.message(),
                          notice=done.notice(services.settings.timezone))


async def _queued_check(
    bot: Bot, services: Services, request: CheckRequest, job: Job, status: StatusMessage
) -> DeskCheck:
    queued = False

    async def show_position(position: int) -> None:
        nonlocal queued
        queued = True
        await status.show(queue_text(position))

    async with services.queue.slot(job, show_position):
        job.raise_if_cancelled()
        if queued:
            await status.show(progress_text("reading", 0, 1))
        # /cancel stops a download in progress too (its slot is freed at once).
        data = (await job.unless_cancelled(download_upload(bot, request.upload,
                                                           services.settings))
                if request.upload else None)
        progress = _Progress()
        work = asyncio.ensure_future(
            asyncio.to_thread(_read_and_check, request, data, services, job, progress)
        )
        interval = services.settings.status_edit_interval
        if request.compact:
            interval = max(interval, GROUP_EDIT_INTERVAL)
        return await _watch(work, progress, status, interval)


async def _watch(
    work: asyncio.Future[DeskCheck], progress: _Progress, status: StatusMessage, interval: float
) -> DeskCheck:
    """Wait for the worker, editing the status at most once per `interval` seconds."""
    shown = progress_text("reading", 0, 1)
    while True:
        done, _ = await asyncio.wait({work}, timeout=interval)
        if done:
            return work.result()
        text = progress_text(*progress.latest)
        if text != shown:
            await status.show(text)
            shown = text


def _read_and_check(
    request: CheckRequest, data: bytes | None, services: Services, job: Job, progress: _Progress
) -> DeskCheck:
    """The worker thread: read the article (never a local file) and check it at the desk, which
    answers from the chat's earlier check of it if that still stands and stores the check."""
    settings = services.settings
    if request.article is not None:
        article = request.article
    elif data is not None and request.upload:
        article = article_from_bytes(data, request.upload.name, settings)
    else:
        # /cancel stops a fetch in progress too, so that the check's slot is freed at once.
        article = read_article(request.text or "", settings, local_files=False,
                               interrupt=job.raise_if_cancelled)

    def report_progress(stage: str, done: int, total: int) -> None:
        job.raise_if_cancelled()  # a cancelled check stops at its next step
        progress.latest = (stage, done, total)

    return services.desk.check(article, request.asker, services.store, fresh=request.fresh,
                               progress=report_progress)


async def send_report(
    bot: Bot, chat_id: int, report: Report, check_id: str, timezone: str, compact: bool = False,
    status: Message | None = None, notice: str | None = None,
) -> None:
    """Send the report's pages, dates in `timezone`; the first replaces the status message when
    there is one.

    `notice` heads the first page; a report with remembered claims or a notice (an answer from
    memory) gets a "Check again" button.
    """
    pages = report_pages(report, compact=compact, username=bot.username, notice=notice,
                         timezone=timezone)
    again = notice is not None or any(c.prior for c in report.claims)
    for number, page in enumerate(pages):
        last = number == len(pages) - 1
        if compact:
            markup = (keyboards.private_link_keyboard(bot.username, check_id, again)
                      if last else None)
        else:
            markup = keyboards.report_keyboard(check_id, page.claims, last, again)
        if number == 0 and status is not None:
            await edit_html(status, page.text, markup)
        else:
            await send_html(bot, chat_id, page.text, markup=markup)
