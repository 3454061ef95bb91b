"""Links to slow servers: FETCH_TIMEOUT is a deadline for the whole fetch, and /cancel stops a
fetch in progress at once, freeing the check's slot. The bot fetches from a server on 127.0.0.1
that drips one header line at a time (allowed only because these bots set ALLOW_PRIVATE_URLS)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bot_helpers import ALICE, BOB, CLAIMS, report_done, texts
from fakes.dripping_http import DrippingServer

from factcheck.history import open_history


@pytest.fixture
def dripping() -> Iterator[DrippingServer]:
    # A header line every 0.5 s for two minutes: no single read waits long.
    with DrippingServer(interval=0.5, lines=240) as server:
        yield server


def test_a_link_that_drips_is_refused_at_fetch_timeout(start_bot, telegram_server, dripping):
    start_bot(allow_private_urls=True, fetch_timeout=1.5)
    telegram_server.send_text(ALICE, ALICE, dripping.url + "/news")
    refusal = telegram_server.wait_for_text(ALICE, "did not finish within 1.5 s")["text"]
    assert "FETCH_TIMEOUT" in refusal


def test_cancel_stops_a_fetch_in_progress_and_frees_its_slot_at_once(
    start_bot, telegram_server, settings, dripping
):
    start_bot(allow_private_urls=True, fetch_timeout=120, max_concurrent_checks=1)
    telegram_server.send_text(ALICE, ALICE, dripping.url + "/news")
    dripping.wait_requested()
    telegram_server.send_command(ALICE, ALICE, "cancel")
    telegram_server.wait_for_text(ALICE, "Check cancelled")  # not after the 120 s deadline
    telegram_server.send_text(BOB, BOB, CLAIMS[1])
    report_done(telegram_server, BOB)
    assert "in the queue" not in texts(telegram_server, BOB)  # the slot was free again
    assert [c.chat_id for c in open_history(settings).checks()] == [BOB]
