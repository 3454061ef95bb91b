"""A short Bot API outage loses no check: sends are retried with backoff, the check runs while
its status message waits, and the report arrives when the API is back. The test server fails
every request for 5 s (dropped connections, a proxy's 502 pages, or 429s)."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from bot_helpers import ALICE, CLAIMS, report_done, texts, wait_checks

OUTAGE = 5.0


@pytest.mark.parametrize("fault", ["drop", "502", "429"])
def test_a_short_outage_as_the_first_status_is_sent_delays_the_report_and_loses_nothing(
    start_bot, telegram_server, settings, fault, caplog
):
    start_bot()
    telegram_server.wait_until_polling()  # the waiting long poll takes the article
    with caplog.at_level(logging.WARNING):
        telegram_server.outage(OUTAGE, fault)
        telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
        report = report_done(telegram_server, ALICE)
    assert CLAIMS[0] in report["text"] and "went wrong" not in texts(telegram_server, ALICE)
    sends = [c for c in telegram_server.calls if c.method == "sendMessage"]
    assert not sends[0].ok and sends[-1].ok and len(telegram_server.sent_messages(ALICE)) == 1
    assert sends[-1].time - sends[0].time >= OUTAGE - 1  # retried through the outage
    # The check did not wait for its status message: it was stored during the outage.
    [stored] = wait_checks(settings, ALICE, 1)
    assert datetime.fromisoformat(stored.created_at).timestamp() < sends[-1].time
    failed_polls = [c for c in telegram_server.calls if c.method == "getUpdates" and not c.ok]
    assert failed_polls, "polling met the outage too"
    # During the outage: one line per failed request, never a traceback.
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    polling_lines = [r for r in caplog.records if "getUpdates" in r.getMessage()]
    assert len(polling_lines) <= len(failed_polls)


def test_a_check_whose_status_message_cannot_be_sent_still_delivers_its_report(
    start_bot, telegram_server
):
    start_bot()
    telegram_server.fail_next("sendMessage", 400, description="Bad Request: something odd")
    telegram_server.send_text(ALICE, ALICE, CLAIMS[1])
    report = report_done(telegram_server, ALICE)  # a new message: there was no status to edit
    assert CLAIMS[1] in report["text"] and telegram_server.edits(ALICE, report["message_id"]) == []
