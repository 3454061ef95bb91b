"""bot/admin.py end to end on the Bot API test server: /autocheck, and /cancel of an admin's
/add while it downloads a file or fetches a link (a server on 127.0.0.1 that drips header lines,
allowed only because the bot sets ALLOW_PRIVATE_URLS)."""

from __future__ import annotations

import time

from bot_helpers import ADMIN, CHANNEL, GROUP
from fakes.dripping_http import DrippingServer
from fakes.telegram_server import TelegramTestServer

from factcheck.bot.admin import CHECK_POSTS
from factcheck.history import open_history


def test_autocheck_posted_in_a_channel_sets_only_that_channel(
    start_bot, telegram_server: TelegramTestServer, settings
):
    start_bot()
    telegram_server.post_in_channel(CHANNEL, f"/autocheck {GROUP} on")
    telegram_server.wait_for_text(CHANNEL, "for this channel only")
    telegram_server.post_in_channel(CHANNEL, f"/autocheck {CHANNEL} on")  # its own id is fine
    telegram_server.wait_for_text(CHANNEL, f"Checking of posts in chat {CHANNEL} is on")
    history = open_history(settings)
    try:
        assert history.chats_with_setting(CHECK_POSTS) == {CHANNEL: True}
    finally:
        history.close()


def _cancelled_at_once(telegram_server: TelegramTestServer, chat_id: int) -> None:
    """The admin's /cancel stops the /add at once, and the collection is as it was."""
    cancelled = time.monotonic()
    telegram_server.send_command(chat_id, ADMIN, "cancel", chat_type="group")
    assert "Cancelling your /add" in telegram_server.wait_for_text(chat_id, "Cancelling")["text"]
    telegram_server.wait_for_text(chat_id, "/add cancelled; nothing was added")
    assert time.monotonic() - cancelled < 5  # not at the end of the download or its deadline
    telegram_server.send_command(chat_id, ADMIN, "sources", chat_type="group")
    assert "20 source(s)" in telegram_server.wait_for_text(chat_id, "The collection holds")["text"]


def test_cancel_stops_an_admins_add_of_a_link_in_progress(start_bot, telegram_server):
    start_bot(allow_private_urls=True, fetch_timeout=120)
    with DrippingServer(interval=0.5, lines=240) as dripping:  # two minutes of header lines
        telegram_server.send_command(GROUP, ADMIN, "add", dripping.url + "/news",
                                     chat_type="group")
        dripping.wait_requested()
        _cancelled_at_once(telegram_server, GROUP)


def test_cancel_stops_an_admins_add_of_a_file_downloading(start_bot, telegram_server):
    start_bot(fetch_timeout=120)
    data = b"The river flooded the old town in 2021.\n" * 50_000  # 15 s: 31 pieces, 0.5 s apart
    upload = telegram_server.send_document(GROUP, ADMIN, "flood.txt", data, chat_type="group",
                                           drip=0.5)
    telegram_server.send_command(GROUP, ADMIN, "add", chat_type="group",
                                 reply_to_message_id=upload["message_id"])
    telegram_server.wait_for("downloading")
    _cancelled_at_once(telegram_server, GROUP)
    assert telegram_server.wait_for("download").params["sent"] < len(data)  # the bot hung up
