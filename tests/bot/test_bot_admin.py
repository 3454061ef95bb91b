"""Chat settings from bot/admin.py end to end on the Bot API test server: /autocheck."""

from __future__ import annotations

from bot_helpers import CHANNEL, GROUP
from fakes.telegram_server import TelegramTestServer

from bot.admin import CHECK_POSTS
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
