"""Uploads are capped at FETCH_MAX_BYTES while they stream in, whatever size the message states:
the bot stops reading at the limit and refuses with one short line; nothing is checked or added.
The Bot API test server serves such files without Content-Length, so only the stream tells.
/cancel stops a download in progress and frees its check's slot."""

from __future__ import annotations

import time

import pytest
from bot_helpers import ADMIN, ALICE, BOB, CLAIMS, GROUP, report_done, texts

from factcheck import pipeline
from factcheck.history import open_history

LIMIT = 100_000
BIG = b"The river flooded the old town in 2021.\n" * 400_000  # 16 MB, under Telegram's 20 MB
SLOW = BIG[:2_000_000]  # downloaded in 31 pieces of 64 KiB, one every 0.5 s: 15 s in all


@pytest.fixture
def checks_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The articles pipeline.check was given."""
    real, seen = pipeline.check, []

    def check(article, *args, **options):
        seen.append(article.text)
        return real(article, *args, **options)

    monkeypatch.setattr(pipeline, "check", check)
    return seen


def _stopped_early(telegram_server) -> None:
    sent = telegram_server.wait_for("download").params["sent"]
    assert sent < len(BIG)  # the bot hung up long before the end


@pytest.mark.parametrize("declared", [None, 1_000], ids=["no file_size", "wrong file_size"])
def test_an_upload_over_the_limit_is_refused_while_streaming_and_never_checked(
    start_bot, telegram_server, settings, checks_run, declared
):
    start_bot(fetch_max_bytes=LIMIT)
    telegram_server.send_document(ALICE, ALICE, "flood.txt", BIG, declared_size=declared)
    refusal = telegram_server.wait_for_text(ALICE, "more than the limit")["text"]
    assert f"{LIMIT:,} bytes" in refusal and len(refusal) < 200
    _stopped_early(telegram_server)
    assert checks_run == [] and open_history(settings).checks() == []


def test_an_upload_telegram_states_as_too_large_is_refused_before_downloading(
    start_bot, telegram_server
):
    start_bot(fetch_max_bytes=LIMIT)
    telegram_server.send_document(ALICE, ALICE, "flood.txt", BIG)
    telegram_server.wait_for_text(ALICE, "more than the limit")
    assert not any(c.method in ("getFile", "download") for c in telegram_server.calls)


def test_an_admins_add_of_a_file_over_the_limit_is_refused_and_adds_nothing(
    start_bot, telegram_server
):
    start_bot(fetch_max_bytes=LIMIT)
    upload = telegram_server.send_document(GROUP, ADMIN, "flood.txt", BIG, chat_type="group",
                                           declared_size=None)
    telegram_server.send_command(GROUP, ADMIN, "add", chat_type="group",
                                 reply_to_message_id=upload["message_id"])
    refusal = telegram_server.wait_for_text(GROUP, "more than the limit")["text"]
    assert f"{LIMIT:,} bytes" in refusal
    _stopped_early(telegram_server)
    telegram_server.send_command(ADMIN, ADMIN, "sources")
    assert "20 source(s)" in telegram_server.wait_for_text(ADMIN, "The collection holds")["text"]


def test_a_file_telegram_will_not_serve_to_bots_is_refused_with_a_line_that_says_so(
    start_bot, telegram_server, checks_run
):
    start_bot(fetch_max_bytes=30_000_000)
    huge = b"x" * (21 * 1024 * 1024)  # over the 20 MB Telegram lets bots download
    telegram_server.send_document(ALICE, ALICE, "huge.txt", huge, declared_size=None)
    assert "20 MB" in telegram_server.wait_for_text(ALICE, "larger than Telegram lets")["text"]
    assert checks_run == []


def test_cancel_stops_an_upload_downloading_and_frees_its_slot_at_once(
    start_bot, telegram_server, settings, checks_run
):
    start_bot(fetch_timeout=120, max_concurrent_checks=1)
    telegram_server.send_document(ALICE, ALICE, "flood.txt", SLOW, drip=0.5)
    telegram_server.wait_for("downloading")
    cancelled = time.monotonic()
    telegram_server.send_command(ALICE, ALICE, "cancel")
    telegram_server.wait_for_text(ALICE, "Check cancelled")
    assert time.monotonic() - cancelled < 5  # not when the 15 s download ends
    assert telegram_server.wait_for("download").params["sent"] < len(SLOW)  # the bot hung up
    telegram_server.send_text(BOB, BOB, CLAIMS[1])
    report_done(telegram_server, BOB)
    assert "in the queue" not in texts(telegram_server, BOB)  # the slot was free again
    assert checks_run == [CLAIMS[1]]
    assert [c.chat_id for c in open_history(settings).checks()] == [BOB]
