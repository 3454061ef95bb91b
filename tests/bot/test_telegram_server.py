"""The Bot API test server, driven by the real python-telegram-bot over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fakes.telegram_server import TelegramTestServer, telegram_server_fixture  # noqa: F401
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, InvalidToken, RetryAfter
from telegram.ext import Application, ContextTypes, MessageHandler, filters

CHAT = 42  # a private chat: its id is the user's id


def run(server: TelegramTestServer, steps: Callable[[Bot], Awaitable[Any]]) -> Any:
    """Run steps(bot) with a real Bot pointed at the server."""

    async def main() -> Any:
        bot = Bot(server.token, base_url=server.base_url, base_file_url=server.base_file_url)
        async with bot:
            return await steps(bot)

    return asyncio.run(main())


def keyboard(callback_data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Sources", callback_data=callback_data)]])


def test_get_me_is_a_bot_with_the_servers_username(telegram_server: TelegramTestServer) -> None:
    me = run(telegram_server, lambda bot: bot.get_me())
    assert me.is_bot and me.username == telegram_server.bot_username


def test_send_and_edit_keep_the_current_state_and_the_history(
    telegram_server: TelegramTestServer,
) -> None:
    telegram_server.send_text(CHAT, CHAT, "check this")

    async def steps(bot: Bot) -> None:
        status = await bot.send_message(CHAT, "42", reply_markup=keyboard("src:1"))
        assert status.text == "42"  # a numeric text stays a string
        await bot.edit_message_text("checking 1 of 2", CHAT, status.message_id,
                                    reply_markup=keyboard("src:1"))
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("checking 1 of 2", CHAT, status.message_id,
                                        reply_markup=keyboard("src:1"))
        await bot.edit_message_text("<b>Report</b>", CHAT, status.message_id,
                                    parse_mode=ParseMode.HTML)

    run(telegram_server, steps)
    [status] = telegram_server.sent_messages(CHAT)
    assert status["message_id"] == 2  # after the user's message 1
    assert status["text"] == "Report"
    assert status["entities"] == [{"type": "bold", "offset": 0, "length": 6}]
    assert "reply_markup" not in status  # an edit without a keyboard drops it, as in Telegram
    history = telegram_server.edits(CHAT, status["message_id"])
    assert [m["text"] for m in history] == ["checking 1 of 2", "Report"]


def test_the_transcript_shows_the_chat_as_read_now_with_buttons(
    telegram_server: TelegramTestServer,
) -> None:
    telegram_server.send_text(CHAT, CHAT, "check this\nplease")

    async def steps(bot: Bot) -> None:
        status = await bot.send_message(CHAT, "working…")
        await bot.edit_message_text("<b>Report</b>\nline two", CHAT, status.message_id,
                                    parse_mode=ParseMode.HTML, reply_markup=keyboard("src:1"))
        await bot.send_document(CHAT, b"# report", filename="report.md")

    run(telegram_server, steps)
    assert telegram_server.transcript(CHAT, {CHAT: "alice"}) == (
        "alice> check this\n       please\nbot> Report\n     line two\n     [Sources]\n"
        "bot> 📎 report.md")


def test_send_document_records_name_bytes_and_caption(
    telegram_server: TelegramTestServer,
) -> None:
    telegram_server.send_text(CHAT, CHAT, "/start")
    data = b"<html>Rapport: 3 claims</html>"

    async def steps(bot: Bot) -> None:
        message = await bot.send_document(CHAT, data, filename="rapport é.html",
                                          caption="<i>Full report</i>", parse_mode="HTML")
        assert message.document.file_name == "rapport é.html"
        assert message.caption == "Full report"

    run(telegram_server, steps)
    [sent] = telegram_server.documents(CHAT)
    assert (sent.file_name, sent.data, sent.mime_type) == ("rapport é.html", data, "text/html")


def test_a_users_document_can_be_fetched_and_downloaded(
    telegram_server: TelegramTestServer,
) -> None:
    data = b"%PDF-1.4 the article"
    message = telegram_server.send_document(CHAT, CHAT, "article.pdf", data, "application/pdf")

    async def steps(bot: Bot) -> bytes:
        [update] = await bot.get_updates()
        assert update.message.document.file_name == "article.pdf"
        file = await bot.get_file(message["document"]["file_id"])
        return bytes(await file.download_as_bytearray())

    assert run(telegram_server, steps) == data


def test_a_429_surfaces_as_retry_after_then_the_call_succeeds(
    telegram_server: TelegramTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # retry_after as a timedelta, the future default
    telegram_server.send_text(CHAT, CHAT, "hi")
    telegram_server.fail_next("sendMessage", status=429, retry_after=2)

    async def steps(bot: Bot) -> None:
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(CHAT, "report")
        assert raised.value.retry_after == dtm.timedelta(seconds=2)
        await bot.send_message(CHAT, "report")

    run(telegram_server, steps)
    assert [c.status for c in telegram_server.calls if c.method == "sendMessage"] == [429, 200]


def test_long_polling_returns_an_update_injected_while_it_waits(
    telegram_server: TelegramTestServer,
) -> None:
    def inject_when_polling() -> None:
        telegram_server.wait_until_polling()
        telegram_server.send_text(CHAT, CHAT, "late news")

    threading.Thread(target=inject_when_polling, daemon=True).start()

    async def steps(bot: Bot) -> tuple[tuple[Update, ...], tuple[Update, ...]]:
        # The poll may wait 10 minutes; it must return when the update comes, not at its end.
        # (20 s is no speed limit: a poll that is not woken takes the whole 600 s.)
        first = await asyncio.wait_for(bot.get_updates(timeout=600), timeout=20)
        confirmed = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
        return first, confirmed

    first, confirmed = run(telegram_server, steps)
    assert [u.message.text for u in first] == ["late news"]
    assert confirmed == ()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<b>unclosed", 'start tag "b"'),
        ("3 < 4", "Unsupported start tag"),
        ("<b>bold</i>", "Unmatched end tag"),
        ("<script>x</script>", 'Unsupported start tag "script"'),
        ('<span class="x">s</span>', "tg-spoiler"),
    ],
)
def test_html_that_telegram_cannot_parse_is_rejected(
    telegram_server: TelegramTestServer, text: str, error: str
) -> None:
    telegram_server.send_text(CHAT, CHAT, "hi")

    async def steps(bot: Bot) -> None:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities") as raised:
            await bot.send_message(CHAT, text, parse_mode=ParseMode.HTML)
        assert error.lower() in str(raised.value).lower()

    run(telegram_server, steps)
    assert telegram_server.sent_messages(CHAT) == []


def test_escaped_html_is_accepted_and_stored_as_plain_text(
    telegram_server: TelegramTestServer,
) -> None:
    telegram_server.send_text(CHAT, CHAT, "hi")
    hostile = 'Prices <rose> 5% & "fell" </b>'
    text = f'<a href="https://example.org/?a=1&amp;b=2">{html.escape(hostile)}</a>'
    sent = run(telegram_server, lambda bot: bot.send_message(CHAT, text, parse_mode="HTML"))
    assert sent.text == hostile
    assert sent.entities[0].url == "https://example.org/?a=1&b=2"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "x" * 4097}, "message is too long"),
        ({"text": "<b>" + "x" * 4097 + "</b>", "parse_mode": "HTML"}, "message is too long"),
        ({"text": "ok", "reply_markup": keyboard("x" * 65)}, "BUTTON_DATA_INVALID"),
        ({"text": "   "}, "message text is empty"),
    ],
)
def test_sends_real_telegram_refuses_are_refused(
    telegram_server: TelegramTestServer, kwargs: dict[str, Any], error: str
) -> None:
    telegram_server.send_text(CHAT, CHAT, "hi")

    async def steps(bot: Bot) -> None:
        with pytest.raises(BadRequest, match="(?i)" + error):
            await bot.send_message(CHAT, **kwargs)

    run(telegram_server, steps)


def test_a_4096_character_message_after_html_parsing_is_accepted(
    telegram_server: TelegramTestServer,
) -> None:
    telegram_server.send_text(CHAT, CHAT, "hi")
    text = "<b>" + "x" * 4096 + "</b>"  # 4103 characters as sent, 4096 as Telegram counts
    sent = run(telegram_server, lambda bot: bot.send_message(CHAT, text, parse_mode="HTML"))
    assert len(sent.text) == 4096


def test_a_button_press_arrives_and_can_be_answered_once(
    telegram_server: TelegramTestServer,
) -> None:
    telegram_server.send_text(CHAT, CHAT, "hi")

    async def steps(bot: Bot) -> None:
        report = await bot.send_message(CHAT, "report", reply_markup=keyboard("src:3"))
        await bot.get_updates()  # the user's "hi"
        query_id = telegram_server.press_button(CHAT, CHAT, report.message_id, "src:3")
        updates = await bot.get_updates(offset=2)
        assert updates[-1].callback_query.data == "src:3"
        assert updates[-1].callback_query.message.message_id == report.message_id
        assert await bot.answer_callback_query(query_id, text="Sources below")
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query(query_id)

    run(telegram_server, steps)


def test_group_channel_and_membership_updates_parse_as_python_telegram_bot_expects(
    telegram_server: TelegramTestServer,
) -> None:
    telegram_server.add_bot_to_chat(-1001, "channel", as_admin=True, title="News desk")
    telegram_server.post_in_channel(-1001, "Breaking: water boils at 90 C")
    question = telegram_server.send_text(-200, 7, "is this true?", chat_type="group")
    telegram_server.send_mention(-200, 8, "check", reply_to_message_id=question["message_id"])
    telegram_server.send_command(-200, 8, "check@" + telegram_server.bot_username,
                                 chat_type="group")

    async def steps(bot: Bot) -> None:
        joined, post, _, mention, command = await bot.get_updates()
        assert joined.my_chat_member.new_chat_member.status == "administrator"
        assert post.channel_post.chat.title == "News desk"
        assert mention.message.parse_entities(["mention"])
        assert mention.message.reply_to_message.text == "is this true?"
        assert command.message.text.startswith("/check@")
        assert command.message.entities[0].type == "bot_command"
        member = await bot.get_chat_member(-1001, bot.id)
        assert member.status == "administrator"

    run(telegram_server, steps)


def test_a_python_telegram_bot_application_polls_and_answers(
    telegram_server: TelegramTestServer,
) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    async def main() -> None:
        app = (Application.builder().token(telegram_server.token)
               .base_url(telegram_server.base_url).base_file_url(telegram_server.base_file_url)
               .build())
        app.add_handler(MessageHandler(filters.TEXT, echo))
        async with app:
            await app.updater.start_polling(poll_interval=0, timeout=5)
            await app.start()
            telegram_server.send_text(CHAT, CHAT, "hello")
            await asyncio.to_thread(telegram_server.wait_for_text, CHAT, "echo: hello")
            await app.updater.stop()
            await app.stop()

    asyncio.run(main())
    assert telegram_server.wait_for("deleteWebhook").ok


def test_unknown_methods_and_wrong_tokens_are_errors(
    telegram_server: TelegramTestServer,
) -> None:
    async def steps(bot: Bot) -> None:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("sendFlyingPig")

    run(telegram_server, steps)
    wrong = Bot("999:WRONG", base_url=telegram_server.base_url)
    with pytest.raises(InvalidToken):
        asyncio.run(wrong.get_me())


def test_wait_for_lists_the_last_calls_when_nothing_matches(
    telegram_server: TelegramTestServer,
) -> None:
    run(telegram_server, lambda bot: bot.get_me())
    with pytest.raises(AssertionError, match="getMe -> 200"):
        telegram_server.wait_for("sendMessage", timeout=0.1)
