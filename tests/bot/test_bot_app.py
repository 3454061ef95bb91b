"""Starting the bot: the token is required, and never reaches the log."""

from __future__ import annotations

import logging

import pytest

from factcheck.bot.app import NO_TOKEN, build_application
from factcheck.cli import main
from factcheck.errors import BadInputError
from factcheck.logmask import MaskSecrets
from factcheck.settings import Settings


def test_factcheck_bot_without_a_token_exits_2_with_one_line(capsys, monkeypatch):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["bot"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: {NO_TOKEN}"


def test_building_the_application_needs_a_token():
    with pytest.raises(BadInputError, match="@BotFather"):
        build_application(Settings())


def test_log_lines_never_show_the_token():
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1,
                               "POST %s/getUpdates", ("https://api.telegram.org/bot123:SECRET",),
                               None)
    mask = MaskSecrets()
    mask.add("123:SECRET", "<bot token>")
    mask.filter(record)
    assert record.getMessage() == "POST https://api.telegram.org/bot<bot token>/getUpdates"
