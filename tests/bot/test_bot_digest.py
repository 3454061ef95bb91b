"""/summary and /digest end to end: the real Application long polls the Bot API test server,
checks run on the offline engine against 20 SciFact abstracts, and the history is real SQLite.

Digests are fired by moving the APScheduler job's next_run_time to now (see `fire`), not
waited for.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from bot_helpers import ADMIN, ALICE, BOB, CHANNEL, CLAIMS, GROUP, RunningBot, wait_checks
from fakes.png import png_size
from fakes.reports import claim_check, report
from fakes.telegram_server import TelegramTestServer
from telegram.ext import Job

from factcheck.bot.digests import DIGEST, Digest, job_name
from factcheck.history import StoredCheck, open_history
from factcheck.labels import VERDICTS
from factcheck.models import Label, Report, as_utc

WORDS = {label: look.word for label, look in VERDICTS.items()}  # the labels table's

DISCUSSION = -100400
FLOOD = "The river flooded the old town of Grimma in 2021, the mayor said."  # no source covers it


def wait_job(running: RunningBot, chat_id: int) -> Job:
    """The chat's digest job, once the scheduler has given it a next run time."""
    for _ in range(200):
        jobs = running.app.job_queue.get_jobs_by_name(job_name(chat_id))
        # A job added before the scheduler started has no next_run_time attribute yet.
        if jobs and getattr(jobs[0].job, "next_run_time", None) is not None:
            return jobs[0]
        threading.Event().wait(0.05)
    raise AssertionError(f"no digest job for chat {chat_id}")


def wait_posted(settings, chat_id: int, before: str) -> datetime:
    """The digest's last_posted once it is no longer `before` (saved after the digest is sent)."""
    history = open_history(settings)
    try:
        for _ in range(200):
            if (posted := history.get_chat_setting(chat_id, DIGEST)["last_posted"]) != before:
                return datetime.fromisoformat(posted)
            threading.Event().wait(0.05)
    finally:
        history.close()
    raise AssertionError(f"the digest of chat {chat_id} was not marked as posted")


def fire(running: RunningBot, job: Job) -> None:
    """Make the job due now; the running scheduler then fires it as it would at its time.

    Moving next_run_time keeps the whole path real (APScheduler's trigger, PTB's JobQueue, the
    callback with its context); calling the callback ourselves would skip the schedule that
    these tests are about. The change is made on the bot's event loop, where the scheduler runs.
    """
    running.loop.call_soon_threadsafe(lambda: job.job.modify(next_run_time=datetime.now(UTC)))


def flood_report(when: datetime) -> Report:
    """A stored-looking check of FLOOD: no source covers it."""
    flood = claim_check(1, FLOOD, Label.NOT_ENOUGH_EVIDENCE, confidence=0.5,
                        summary="No source.", checkworthiness=0.9)
    return report(flood, when=when, engine="llm")



def expected_line(stored: list[StoredCheck]) -> str:
    """The counts line a summary of these checks must show, computed from the store."""
    verdicts = [c.verdict for s in stored for c in s.report.claims]
    firm = Counter(v.label for v in verdicts if not v.lean)
    leans = Counter(v.label for v in verdicts if v.lean)  # counted apart from firm verdicts
    parts = [part for label in Label for part in (
        [f"{firm[label]} {WORDS[label]}"] if firm[label] else []) + (
        [f"{leans[label]} leans {WORDS[label]}"] if leans[label] else [])]
    claims = len(verdicts)
    return (f"{len(stored)} article{'s' * (len(stored) != 1)} and {claims} "
            f"claim{'s' * (claims != 1)} checked: " + ", ".join(parts) + ".")


# --- /summary ------------------------------------------------------------------------------------


def test_summary_counts_match_what_was_checked_and_come_with_a_chart(
    start_bot, telegram_server: TelegramTestServer, settings
):
    start_bot()
    for claim in CLAIMS[:3]:
        telegram_server.send_text(ALICE, ALICE, claim)
    today = wait_checks(settings, ALICE, 3)
    # An earlier check of the second claim, three days ago: a repeat, and a second day to chart.
    history = open_history(settings)
    [again] = [s for s in today if s.report.article.text == CLAIMS[1]]
    old = again.report.model_copy(update={"created_at": datetime.now(UTC) - timedelta(days=3)})
    history.add_check(old, ALICE, "private", ALICE)
    week = history.checks(chat_id=ALICE)
    history.close()

    telegram_server.send_command(ALICE, ALICE, "summary", "7d")
    text = telegram_server.wait_for_text(ALICE, "Summary of this chat: last 7 days")["text"]
    assert expected_line(week) in text
    repeated = [c.claim.text for c in again.report.claims]
    assert all(f"2× {claim}" in text for claim in repeated), text
    telegram_server.wait_for("sendPhoto")
    [chart] = telegram_server.photos(ALICE)
    assert png_size(chart.data) == (800, 400) and chart.caption == "Verdicts, last 7 days"

    telegram_server.send_command(ALICE, ALICE, "summary")  # 24h by default: today's three
    assert expected_line(today) in telegram_server.wait_for_text(ALICE, "last 24 hours")["text"]
    telegram_server.send_command(ALICE, ALICE, "summary", "week")
    telegram_server.wait_for_text(ALICE, "is not a window")


def test_summary_in_a_group_counts_only_that_groups_checks(start_bot, telegram_server,
                                                           settings):
    start_bot()
    telegram_server.send_mention(GROUP, BOB, FLOOD)
    telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
    [stored] = wait_checks(settings, GROUP, 1)
    wait_checks(settings, ALICE, 1)
    telegram_server.send_command(GROUP, BOB, "summary", chat_type="group")
    text = telegram_server.wait_for_text(GROUP, "Summary of this chat")["text"]
    assert expected_line([stored]) in text
    assert f"Still without evidence: for the desk to look into\n❔ {FLOOD}" in text


# --- /digest -------------------------------------------------------------------------------------


def test_a_digest_fires_on_schedule_with_its_time_moved_by_the_test(start_bot, telegram_server,
                                                                    settings):
    running = start_bot(timezone="Europe/Berlin")
    telegram_server.send_mention(GROUP, BOB, FLOOD)
    stored = wait_checks(settings, GROUP, 1)
    telegram_server.send_command(GROUP, ADMIN, "digest", "on 17:00", chat_type="group")
    telegram_server.wait_for_text(GROUP, "every day at 17:00")
    telegram_server.send_command(GROUP, ADMIN, "digest", "on 18:30", chat_type="group")
    answer = telegram_server.wait_for_text(GROUP, "every day at 18:30")["text"]
    assert "every day at 18:30 (Europe/Berlin), posted here" in answer
    job = wait_job(running, GROUP)
    assert [j.job.id for j in running.app.job_queue.jobs()] == [job.job.id]  # 17:00 is gone
    berlin = job.next_run_time.astimezone(ZoneInfo("Europe/Berlin"))
    assert (berlin.hour, berlin.minute) == (18, 30)

    fire(running, job)
    digest = telegram_server.wait_for_text(GROUP, "Daily digest of")["text"]
    assert expected_line(stored) in digest and FLOOD in digest
    # After firing, the job is due again at its own time, tomorrow or later today.
    assert wait_job(running, GROUP).next_run_time.astimezone(ZoneInfo("Europe/Berlin")).hour == 18


def test_the_schedule_survives_a_restart(start_bot, telegram_server, settings):
    first = start_bot()
    telegram_server.send_command(ADMIN, ADMIN, "digest", "on 7:05")
    telegram_server.wait_for_text(ADMIN, "every day at 07:05 (UTC)")
    telegram_server.send_command(GROUP, ADMIN, "digest", "on", chat_type="group")
    telegram_server.wait_for_text(GROUP, "every day at 18:00")
    telegram_server.send_command(GROUP, ADMIN, "digest", "off", chat_type="group")
    telegram_server.wait_for_text(GROUP, "is off")
    first.stop()

    second = start_bot()  # a new Application on the same SQLite file
    job = wait_job(second, ADMIN)
    assert job.next_run_time.astimezone(UTC).strftime("%H:%M") == "07:05"
    assert second.app.job_queue.get_jobs_by_name(job_name(GROUP)) == ()
    fire(second, job)
    line = telegram_server.wait_for_text(ADMIN, "Daily digest of")["text"]
    assert line.endswith("nothing was checked in the last day.")  # one line, not silence


def test_a_digest_due_while_the_bot_was_down_is_posted_at_start_from_the_last_one(
    start_bot, telegram_server, settings
):
    now = datetime.now(UTC)
    history = open_history(settings)
    history.add_check(flood_report(now - timedelta(hours=30)), GROUP, "group", BOB)
    history.add_check(flood_report(now - timedelta(days=3)), GROUP, "group", BOB)  # before it
    last = (now - timedelta(days=2)).isoformat()
    digest = Digest("18:00", GROUP, "Desk", last_posted=last)
    history.set_chat_setting(GROUP, DIGEST, asdict(digest))
    history.close()

    telegram_server.add_bot_to_chat(GROUP, "group", as_admin=True, title="Desk")
    running = start_bot()  # no fire(): the missed digest goes out by itself
    text = telegram_server.wait_for_text(GROUP, "Daily digest of Desk")["text"]
    assert "2 days since the last digest" in text and "1 article and 1 claim" in text
    assert wait_posted(settings, GROUP, last) > now  # the next digest starts from this one
    job = wait_job(running, GROUP)  # the daily job stays
    assert job.next_run_time.astimezone(UTC).strftime("%H:%M") == "18:00"


def test_a_first_digest_due_while_the_bot_was_down_is_posted_at_start(
    start_bot, telegram_server, settings
):
    first = start_bot()
    telegram_server.send_command(ADMIN, ADMIN, "digest", "on 18:00")
    telegram_server.wait_for_text(ADMIN, "every day at 18:00")
    first.stop()
    # The bot was down over the first 18:00 after /digest on: as if switched on 2 days ago.
    now = datetime.now(UTC)
    history = open_history(settings)
    saved = history.get_chat_setting(ADMIN, DIGEST)
    assert saved["last_posted"] is None and as_utc(saved["since"]) <= now
    history.set_chat_setting(ADMIN, DIGEST, {**saved, "since": (now - timedelta(days=2))
                                             .isoformat()})
    history.add_check(flood_report(now - timedelta(hours=3)), ADMIN, "private", ADMIN)
    history.close()

    start_bot()  # no fire(): the missed first digest goes out by itself
    text = telegram_server.wait_for_text(ADMIN, "Daily digest of")["text"]
    assert "last day" in text and "1 article and 1 claim" in text  # a first one covers a day
    assert wait_posted(settings, ADMIN, None) > now


@pytest.mark.parametrize("posted, now, missed", [
    ("2025-05-12T18:00:05+00:00", "2025-05-13T17:59:00+00:00", False),  # today's not due yet
    ("2025-05-12T18:00:05+00:00", "2025-05-13T18:00:00+00:00", True),
    ("2025-05-13T18:00:05+00:00", "2025-05-14T09:00:00+00:00", False),
    (None, "2025-05-14T09:00:00+00:00", False),  # never posted, no start known: nothing to do
])
def test_a_digest_is_missed_when_it_was_due_after_the_last_one_posted(posted, now, missed):
    digest = Digest("18:00", GROUP, "Desk", last_posted=posted)
    assert digest.missed("UTC", datetime.fromisoformat(now)) is missed


@pytest.mark.parametrize("since, now, missed", [
    ("2025-05-13T17:00:00+00:00", "2025-05-13T17:59:00+00:00", False),  # first one not due yet
    ("2025-05-13T17:00:00+00:00", "2025-05-13T18:00:00+00:00", True),
    ("2025-05-13T18:30:00+00:00", "2025-05-14T09:00:00+00:00", False),  # on after 18:00
])
def test_a_first_digest_is_missed_when_it_was_due_after_it_was_switched_on(since, now, missed):
    digest = Digest("18:00", GROUP, "Desk", since=since)
    assert digest.missed("UTC", datetime.fromisoformat(now)) is missed


def test_a_digests_window_starts_at_the_last_one_a_week_back_at_most_and_follows_dst():
    now = datetime(2025, 3, 30, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # clocks went forward
    first = Digest("18:00", GROUP, "Desk").window("Europe/Berlin", now)
    assert first.since(now).astimezone(UTC) == now.astimezone(UTC) - timedelta(hours=23)
    assert first.describe() == "last day"
    last = (now - timedelta(hours=23)).isoformat()
    assert Digest("18:00", GROUP, "Desk", last_posted=last).window(
        "Europe/Berlin", now).describe() == "day since the last digest"
    long_ago = Digest("18:00", GROUP, "Desk", last_posted="2025-01-01T17:00:00+00:00")
    window = long_ago.window("Europe/Berlin", now)
    assert now - window.since(now) == timedelta(days=7)
    assert window.describe() == "7 days since the last digest"


def test_a_channel_post_is_checked_and_appears_in_the_digest_in_its_discussion_group(
    start_bot, telegram_server, settings
):
    telegram_server.add_bot_to_chat(CHANNEL, "channel", as_admin=True, title="Newsroom")
    telegram_server.add_bot_to_chat(DISCUSSION, "supergroup", as_admin=True)
    telegram_server.link_discussion(CHANNEL, DISCUSSION)
    running = start_bot()
    telegram_server.post_in_channel(CHANNEL, "/autocheck on")
    telegram_server.post_in_channel(CHANNEL, "/digest on 09:00 discussion")
    answer = telegram_server.wait_for_text(CHANNEL, "Daily digest on")["text"]
    assert "posted to “Test supergroup 100400”" in answer
    telegram_server.post_in_channel(CHANNEL, FLOOD)
    stored = wait_checks(settings, CHANNEL, 1)

    fire(running, wait_job(running, CHANNEL))
    digest = telegram_server.wait_for_text(DISCUSSION, "Daily digest of Newsroom")["text"]
    assert expected_line(stored) in digest and FLOOD in digest


def test_a_target_the_bot_cannot_post_to_is_refused(start_bot, telegram_server, settings):
    telegram_server.add_bot_to_chat(-100777, "group", as_admin=False)
    telegram_server.add_bot_to_chat(-100888, "channel", as_admin=True, can_post=False)
    running = start_bot()
    for target, answer in [("-100777", "I cannot post in Test group 100777"),
                           ("-100888", "I cannot post in Test channel 100888"),
                           ("-100999", "I cannot reach chat -100999"),
                           ("discussion", "write it in the channel")]:
        telegram_server.send_command(ADMIN, ADMIN, "digest", f"on 18:00 {target}")
        telegram_server.wait_for_text(ADMIN, answer)
    telegram_server.post_in_channel(CHANNEL, "/digest on 18:00 -100888")
    telegram_server.wait_for_text(CHANNEL, "the channel itself or to its discussion group")
    telegram_server.post_in_channel(CHANNEL, "/digest on 18:00 discussion")
    telegram_server.wait_for_text(CHANNEL, "This channel has no linked discussion group")
    telegram_server.send_command(BOB, BOB, "digest", "on")
    telegram_server.wait_for_text(BOB, "Only the bot's admins")
    telegram_server.send_command(ADMIN, ADMIN, "digest", "daily")
    telegram_server.wait_for_text(ADMIN, 'Write /digest on [HH:MM] [target] or /digest off. The '
                                         'target is this chat by default, "discussion"')

    assert running.app.job_queue.jobs() == ()
    history = open_history(settings)
    assert [history.get_chat_setting(c, DIGEST) for c in (ADMIN, CHANNEL, BOB)] == [None] * 3


def test_discussion_from_the_discussion_group_itself_is_refused(start_bot, telegram_server,
                                                                settings):
    # The group's linked chat is the channel: "discussion" there would post the group's digest
    # into the channel.
    telegram_server.add_bot_to_chat(CHANNEL, "channel", as_admin=True)
    telegram_server.add_bot_to_chat(DISCUSSION, "supergroup", as_admin=True)
    telegram_server.link_discussion(CHANNEL, DISCUSSION)
    running = start_bot()
    telegram_server.send_command(DISCUSSION, ADMIN, "digest", "on 09:00 discussion",
                                 chat_type="supergroup")
    telegram_server.wait_for_text(DISCUSSION, "write it in the channel")
    assert running.app.job_queue.jobs() == ()
    history = open_history(settings)
    assert history.get_chat_setting(DISCUSSION, DIGEST) is None
    history.close()


def test_with_an_llm_the_summary_opens_with_its_lede_unless_it_invents_a_number(
    start_bot, telegram_server, settings, openai_server
):
    server, llm = openai_server
    history = open_history(settings)
    history.add_check(flood_report(datetime.now(UTC)), ALICE, "private", ALICE)
    history.close()
    start_bot(engine="llm", openai_base_url=llm.openai_base_url,
              openai_api_key=llm.openai_api_key)

    server.answer({"lede": "One flood claim came in; no source covers it yet."})
    telegram_server.send_command(ALICE, ALICE, "summary")
    shown = telegram_server.wait_for_text(ALICE, "no source covers it yet")["text"]
    assert "1 article and 1 claim checked: 1 not enough evidence." in shown
    server.answer({"lede": "Three flood claims came in; no source covers them."})  # 3 is invented
    telegram_server.send_command(ALICE, ALICE, "summary", "7d")
    shown = telegram_server.wait_for_text(ALICE, "last 7 days")["text"]
    assert "1 article and 1 claim checked" in shown and "Three" not in shown
    assert len(server.chat_requests) == 2
