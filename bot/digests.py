"""/summary and /digest: what a chat checked over a window, now or daily (PTB JobQueue).

A digest is a chat setting, {"time": "HH:MM", "target": chat id, "title": ...}, so that it
survives a restart: `restore` schedules every saved digest again when the bot starts, and posts
at once a digest whose time passed while the bot was down. Its time is read in
settings.timezone. Each digest covers the checks since the last one posted (saved in the
setting), so a missed or failed day is not lost and a DST day is 23 or 25 hours. Until the first
is posted, the moment the digest was switched on (saved too) tells whether one was missed. A day
without checks still gets a one-line digest: silence cannot be told apart from a schedule that
broke.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from datetime import time as TimeOfDay
from zoneinfo import ZoneInfo

from telegram import Bot, Chat, InputFile, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, Job, JobQueue

from factcheck.bot.handlers import settings_allowed
from factcheck.bot.messages import send_html
from factcheck.bot.render import esc, link, split_blocks
from factcheck.bot.services import Services, services
from factcheck.charts import verdict_chart
from factcheck.errors import BadInputError
from factcheck.labels import mark
from factcheck.models import Label, as_utc
from factcheck.summary import (
    ContradictedClaim,
    GroupOf,
    Summary,
    Window,
    last_verdict,
    period,
    summarize,
    verdict_line,
)
from factcheck.summary_lede import lede

logger = logging.getLogger(__name__)

DIGEST = "digest"  # chat setting: the chat's digest, or None when it is off
DEFAULT_TIME = "18:00"
DISCUSSION = "discussion"
CATCH_UP = timedelta(days=7)  # a digest after a long outage covers at most the last week
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_LISTED, _CLAIM_CHARS, _QUOTE_CHARS = 5, 200, 250
USAGE = ("Write /digest on [HH:MM] [target] or /digest off. The target is this chat by "
         "default, \"discussion\" (a channel's discussion group), or the id of a "
         "channel or group where I am an admin.")


@dataclass(frozen=True)
class Digest:
    """A chat's daily digest: when (HH:MM in settings.timezone), where, and the chats' titles."""

    time: str
    target: int
    title: str
    target_title: str = ""
    last_posted: str | None = None  # ISO moment of the last digest posted: the next one's start
    since: str | None = None  # ISO moment it was switched on: what missed() counts from at first

    def at(self, timezone: str) -> TimeOfDay:
        """The time of day to post, in that time zone."""
        hours, minutes = self.time.split(":")
        return TimeOfDay(int(hours), int(minutes), tzinfo=ZoneInfo(timezone))

    def last_due(self, timezone: str, now: datetime) -> datetime:
        """The latest moment, at or before `now`, when this digest was due."""
        at, today = self.at(timezone), now.astimezone(ZoneInfo(timezone)).date()
        due = datetime.combine(today, at)
        return due if due <= now else datetime.combine(today - timedelta(days=1), at)

    def missed(self, timezone: str, now: datetime) -> bool:
        """Whether the digest was due after the last one posted, or after it was switched on."""
        start = self.last_posted or self.since  # digests saved before `since` existed have neither
        if start is None:
            return False
        return as_utc(start) < self.last_due(timezone, now)

    def window(self, timezone: str, now: datetime) -> Window:
        """Since the last digest posted (at most CATCH_UP back), else the last calendar day."""
        if self.last_posted is None:
            # The same wall-clock time yesterday: 23 or 25 hours on the days clocks change.
            day_ago = now.astimezone(ZoneInfo(timezone)) - timedelta(days=1)
            return Window(start=day_ago, name="last day")
        start = max(as_utc(self.last_posted), now - CATCH_UP)
        days = max(1, round((now - start) / timedelta(days=1)))
        span = "day" if days == 1 else f"{days} days"
        return Window(start=start, name=f"{span} since the last digest")


# --- /summary ----------------------------------------------------------------------------------


async def summary_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/summary [24h|7d|N]: this chat's checks over a window, with a chart."""
    message, chat = update.effective_message, update.effective_chat
    try:
        window = Window.parse(context.args[0] if context.args else None)
    except BadInputError as exc:
        await message.reply_text(f"⚠️ {esc(str(exc), 500)}")
        return
    title = "📊 <b>Summary of this chat</b>"
    await send_summary(context.bot, services(context), chat.id, chat.id, window, title)


async def send_summary(
    bot: Bot, s: Services, chat_id: int, target: int, window: Window, title: str
) -> None:
    """Summarise `chat_id`'s checks and post the text, then the chart, to `target`."""
    summary, prose, chart = await asyncio.to_thread(_prepare, s, chat_id, window)
    for page in summary_pages(summary, prose, title):
        await send_html(bot, target, page)
    if chart:
        caption = f"Verdicts, {esc(summary.window)}"
        await bot.send_photo(target, InputFile(chart, filename="summary.png"), caption=caption)


def _prepare(
    s: Services, chat_id: int, window: Window
) -> tuple[Summary, str | None, bytes | None]:
    """The worker thread: summary from the store, the LLM's lede, the chart."""
    summary = summarize(s.history, chat_id, window, s.settings, group_of=_group_of(s))
    return summary, lede(summary, s.settings), verdict_chart(summary)


def _group_of(s: Services) -> GroupOf | None:
    # The claim memory groups rewordings of one claim; without it, claims group by wording.
    return s.memory.groups if s.memory is not None else None


def summary_pages(summary: Summary, prose: str | None, title: str) -> list[str]:
    """The summary as Telegram HTML messages: header and counts, then one block per list."""
    if summary.empty:
        return [f"{title}: nothing was checked in the {esc(summary.window)}."]
    head = [f"{title}: {esc(summary.window)}", f"<i>{esc(period(summary))}</i>"]
    if prose:
        head.append(esc(prose, 1000))
    head.append(esc(verdict_line(summary)))
    blocks = ["\n".join(head)]
    repeated = [f"• {r.count}× {esc(r.text, _CLAIM_CHARS)} — last verdict: "
                f"{mark(r.last_label, r.last_lean)} {last_verdict(r)}"
                for r in summary.repeated]
    contradicted = [_contradicted(c) for c in summary.contradicted]
    unchecked = [f"{mark(Label.NOT_ENOUGH_EVIDENCE)} {esc(o.text, _CLAIM_CHARS)}"
                 + (f" ({o.count}×)" if o.count > 1 else "") for o in summary.open_claims]
    for heading, items in (("Most repeated", repeated), ("Contradicted", contradicted),
                           ("Still without evidence: for the desk to look into", unchecked)):
        if items:
            more = len(items) - _LISTED
            tail = [f"… and {more} more."] if more > 0 else []
            blocks.append("\n".join([f"<b>{heading}</b>", *items[:_LISTED], *tail]))
    return ["\n\n".join(blocks[i] for i in group) for group in split_blocks(blocks)]


def _contradicted(c: ContradictedClaim) -> str:
    line = f"{mark(Label.CONTRADICTED)} {esc(c.text, _CLAIM_CHARS)}"
    if c.source:
        quote = f"“{esc(c.quote, _QUOTE_CHARS)}” " if c.quote else ""
        line += f"\n    {quote}— {link(c.source, c.url)}"
    return line


# --- /digest -----------------------------------------------------------------------------------


async def digest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/digest on|off [HH:MM] [target]: post this chat's summary of the last 24 h daily."""
    s, message, chat = services(context), update.effective_message, update.effective_chat
    if chat is None or not await settings_allowed(update, context):
        return
    words = (message.text or "").split()[1:]
    try:
        switch, at, target = parse_digest(words)
        if switch == "off":
            answer = turn_off(s, jobs(context.job_queue), chat.id)
        elif switch == "on":
            if chat.type == ChatType.CHANNEL and target not in (None, DISCUSSION):
                # Anyone who may post in the channel could send this: keep its digest at home.
                raise BadInputError("From a channel, a digest goes to the channel itself or "
                                    "to its discussion group (/digest on HH:MM discussion).")
            target_id, target_title = await resolve_target(context.bot, chat, target)
            digest = Digest(at or DEFAULT_TIME, target_id, chat.title or "this chat",
                            target_title)
            answer = turn_on(s, jobs(context.job_queue), chat.id, digest)
        else:
            answer = describe(s, chat.id)
    except BadInputError as exc:
        answer = f"⚠️ {esc(str(exc), 500)}"
    await message.reply_text(answer)


def parse_digest(words: list[str]) -> tuple[str | None, str | None, str | None]:
    """(on|off|None, 'HH:MM' or None, target word or None) from the command's words."""
    if not words:
        return None, None, None
    switch, at, target = words[0].lower(), None, None
    if switch not in ("on", "off"):
        raise BadInputError(USAGE)
    for word in words[1:]:
        if match := _TIME.fullmatch(word):
            at = f"{int(match.group(1)):02d}:{match.group(2)}"
        elif target is None:
            target = word
        else:
            raise BadInputError(USAGE)
    return switch, at, target


async def resolve_target(bot: Bot, chat: Chat, word: str | None) -> tuple[int, str]:
    """The chat (id, title) a digest goes to; another chat must be one where the bot may post."""
    if word is None:
        return chat.id, chat.title or ""
    if word.lower() == DISCUSSION and chat.type != ChatType.CHANNEL:
        # A discussion group's linked chat is its channel: "discussion" would point there.
        raise BadInputError("\"discussion\" names a channel's discussion group: write it in the "
                            "channel. Here, leave the target out or name a chat id.")
    try:
        if word.lower() == DISCUSSION:
            linked = (await bot.get_chat(chat.id)).linked_chat_id
            if not linked:
                raise BadInputError("This channel has no linked discussion group. Link one in "
                                    "the channel's settings, or name a chat id.")
            target = await bot.get_chat(linked)
        else:
            target = await bot.get_chat(int(word) if re.fullmatch(r"-?\d+", word) else word)
        member = await bot.get_chat_member(target.id, bot.id)
    except TelegramError as exc:
        raise BadInputError(f"I cannot reach chat {word} ({exc.message}). Add me to it as an "
                            "admin, then try again.") from exc
    if member.status != ChatMemberStatus.ADMINISTRATOR or (
            target.type == ChatType.CHANNEL and not getattr(member, "can_post_messages", False)):
        raise BadInputError(f"I cannot post in {target.title or word}: make me an admin there "
                            "(allowed to post messages), then try again.")
    return target.id, target.title or str(target.id)


def jobs(job_queue: JobQueue | None) -> JobQueue:
    """The application's job queue; python-telegram-bot[job-queue], a dependency, provides it."""
    if job_queue is None:
        raise RuntimeError("the bot has no job queue: install python-telegram-bot[job-queue]")
    return job_queue


def turn_on(s: Services, job_queue: JobQueue, chat_id: int, digest: Digest) -> str:
    """Save and schedule a chat's digest; returns the confirmation to show."""
    # Switched on (or moved) now: a time already past today is not due until tomorrow.
    digest = replace(digest, since=datetime.now(UTC).isoformat())
    saved = s.history.get_chat_setting(chat_id, DIGEST)
    if saved and saved.get("last_posted"):  # a new time or target: the next digest still follows
        digest = replace(digest, last_posted=saved["last_posted"])
    s.history.set_chat_setting(chat_id, DIGEST, asdict(digest))
    schedule(job_queue, chat_id, digest, s.settings.timezone)
    return "🗞 " + describe(s, chat_id)


def turn_off(s: Services, job_queue: JobQueue, chat_id: int) -> str:
    """Forget and unschedule a chat's digest."""
    s.history.set_chat_setting(chat_id, DIGEST, None)
    for job in job_queue.get_jobs_by_name(job_name(chat_id)):
        job.schedule_removal()
    return "The daily digest of this chat is off."


def describe(s: Services, chat_id: int) -> str:
    """One line on a chat's digest: when and where, or off with how to turn it on."""
    saved = s.history.get_chat_setting(chat_id, DIGEST)
    if not saved:
        return f"The daily digest of this chat is off. {USAGE}"
    digest = Digest(**saved)
    where = "here" if digest.target == chat_id else f"to “{esc(digest.target_title)}”"
    return (f"Daily digest on: the day's checks, every day at {digest.time} "
            f"({esc(s.settings.timezone)}), posted {where}.")


def job_name(chat_id: int) -> str:
    """The JobQueue name of a chat's digest job."""
    return f"digest:{chat_id}"


def schedule(job_queue: JobQueue, chat_id: int, digest: Digest, timezone: str) -> Job:
    """(Re)schedule a chat's daily digest in the JobQueue."""
    for job in job_queue.get_jobs_by_name(job_name(chat_id)):
        job.schedule_removal()
    logger.info("digest of chat %s: daily at %s (%s) to %s", chat_id, digest.time, timezone,
                digest.target)
    return job_queue.run_daily(post_digest, digest.at(timezone), data=digest,
                               name=job_name(chat_id), chat_id=chat_id, job_kwargs=_LATE)


# APScheduler drops a run more than 1 s late by default: a busy minute would skip the day.
_LATE = {"misfire_grace_time": 3600, "coalesce": True}


def restore(app: Application) -> int:
    """Schedule every saved digest again (at start-up), posting missed ones now; how many."""
    s: Services = app.bot_data["services"]
    saved = s.history.chats_with_setting(DIGEST)
    now = datetime.now(UTC)
    for chat_id, data in saved.items():
        digest = Digest(**data)
        schedule(jobs(app.job_queue), chat_id, digest, s.settings.timezone)
        if digest.missed(s.settings.timezone, now):
            logger.info("digest of chat %s was due while the bot was down: posting it", chat_id)
            jobs(app.job_queue).run_once(post_digest, 0, data=digest, name=job_name(chat_id),
                                         chat_id=chat_id, job_kwargs=_LATE)
    return len(saved)


async def post_digest(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The daily job: the chat's checks since the last digest, posted to the digest's target."""
    job, s = context.job, services(context)
    chat_id = job.chat_id
    if chat_id is None:  # every digest job is scheduled for its chat
        return
    saved = s.history.get_chat_setting(chat_id, DIGEST)
    if not saved:  # turned off while this run was due
        return
    digest, now = Digest(**saved), datetime.now(UTC)
    title = f"🗞 <b>Daily digest of {esc(digest.title, 100)}</b>"
    window = digest.window(s.settings.timezone, now)
    try:
        await send_summary(context.bot, s, chat_id, digest.target, window, title)
    except TelegramError as exc:  # removed from the target, or demoted: the log says where
        logger.warning("digest of chat %s could not be posted to %s: %s", chat_id,
                       digest.target, exc)
        return  # the next digest covers this one's checks too
    # Read again: /digest on may have changed the time or target while this one was posted.
    if latest := s.history.get_chat_setting(chat_id, DIGEST):
        s.history.set_chat_setting(chat_id, DIGEST, {**latest, "last_posted": now.isoformat()})
