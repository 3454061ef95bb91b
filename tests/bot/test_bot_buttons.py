"""Report buttons obey the rule of /start <id>: a check is shown in its own chat, or in private
to its requester or a member of its group. Callback data can be forged by a modified client, so
the test server sends it with forge_callback."""

from __future__ import annotations

import threading

from bot_helpers import ALICE, BOB, CLAIMS, GROUP, buttons, report_done, texts
from fakes.telegram_server import TelegramTestServer

from factcheck.history import open_history

CAROL = 1004  # was in the group, and left
OTHER_GROUP = -100999
# Every action a report's buttons carry, with {id} for the check id.
PRESSES = ["r:{id}:md", "r:{id}:html", "s:{id}:1", "y:{id}:1", "n:{id}:1", "l:{id}:1:S",
           "a:{id}:0"]


def check_id_of(message: dict) -> str:
    return next(b["callback_data"] for b in buttons(message) if "callback_data" in b).split(":")[1]


def forge(server: TelegramTestServer, chat_id: int, user_id: int, message_id: int,
          data: str) -> dict:
    """Press forged data on a message; the bot's answer to the callback query."""
    mark = len(server.calls)
    query_id = server.forge_callback(chat_id, user_id, message_id, data)
    return server.wait_for(lambda c: c.method == "answerCallbackQuery"
                           and c.params.get("callback_query_id") == query_id, after=mark).params


def _details_link(server: TelegramTestServer, chat_id: int) -> dict:
    """The group report's details button (a status message may read "1 claim" before it)."""
    for _ in range(1200):
        for message in server.sent_messages(chat_id):
            links = [b for b in buttons(message) if "url" in b]
            if "1 claim" in message.get("text", "") and links:
                return links[0]
        threading.Event().wait(0.05)
    raise AssertionError(f"no report with a details link in chat {chat_id}")


def a_bot_message(server: TelegramTestServer, chat_id: int, user_id: int,
                  chat_type: str = "private") -> dict:
    server.send_command(chat_id, user_id, "help", chat_type=chat_type)
    return server.wait_for_text(chat_id, "What I cannot do")


def test_forged_presses_from_another_chat_get_a_refusal_no_data_and_record_nothing(
    start_bot, telegram_server, settings
):
    start_bot()
    telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
    check_id = check_id_of(report_done(telegram_server, ALICE))
    bobs = a_bot_message(telegram_server, BOB, BOB)
    for data in PRESSES:
        answer = forge(telegram_server, BOB, BOB, bobs["message_id"], data.format(id=check_id))
        assert answer["text"] == "That check belongs to another chat." and answer["show_alert"]
    assert telegram_server.documents(BOB) == []
    assert CLAIMS[0] not in texts(telegram_server, BOB)
    assert "Claim 1" not in texts(telegram_server, BOB)
    history = open_history(settings)
    try:
        assert history.feedback() == [] and len(history.checks()) == 1  # no "Check again" ran
    finally:
        history.close()


def test_a_groups_buttons_work_in_private_for_members_only_and_never_in_another_group(
    start_bot, telegram_server, settings
):
    start_bot()
    telegram_server.send_mention(GROUP, ALICE, CLAIMS[0])
    link = _details_link(telegram_server, GROUP)
    check_id = link["url"].split("start=")[1]
    telegram_server.send_command(BOB, BOB, "start", check_id)  # a member opens the details
    details = telegram_server.wait_for_text(BOB, "Checked by the offline engine")
    telegram_server.press_button(BOB, BOB, details["message_id"], text="🔎 Sources 1")
    telegram_server.wait_for_text(BOB, "Claim 1:")
    telegram_server.press_button(BOB, BOB, details["message_id"], text="👍 1")

    telegram_server.remove_member(GROUP, CAROL)
    carols = a_bot_message(telegram_server, CAROL, CAROL)
    refused = forge(telegram_server, CAROL, CAROL, carols["message_id"], f"s:{check_id}:1")
    assert refused["text"] == "That check belongs to another chat."
    # Bob is a member of GROUP, but a press in another group would show it to that group.
    elsewhere = a_bot_message(telegram_server, OTHER_GROUP, BOB, chat_type="group")
    refused = forge(telegram_server, OTHER_GROUP, BOB, elsewhere["message_id"],
                    f"r:{check_id}:md")
    assert refused["text"] == "That check belongs to another chat."
    assert telegram_server.documents(OTHER_GROUP) == [] and "Claim 1" not in texts(
        telegram_server, CAROL)
    history = open_history(settings)
    try:
        assert [(f.user_id, f.correct) for f in history.feedback()] == [(BOB, True)]
    finally:
        history.close()
