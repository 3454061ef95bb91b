"""The claim memory in the bot, end to end: the real Application long polls the Bot API test
server; the offline engine (or the LLM engine against the scripted OpenAI server) checks against
20 SciFact abstracts."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot_helpers import (
    ADMIN,
    ALICE,
    BOB,
    CHANNEL,
    CLAIMS,
    FIVE,
    FIVE_REWORDED,
    GROUP,
    TWO_HUNDRED,
    buttons,
    report_done,
    texts,
    wait_checks,
)
from pydantic import SecretStr

from factcheck.history import history_path, open_history


def links(message: dict) -> list[str]:
    return [e["url"] for e in message.get("entities", []) if e.get("type") == "text_link"]


def script_check(server) -> None:
    """The scripted LLM's answers for a check of CLAIMS[0]: one claim, one passage judged."""
    server.answer({"claims": [{"claim": CLAIMS[0], "checkworthiness": 0.9,
                               "source_sentence": CLAIMS[0]}]})
    server.answer({"judgements": [{"passage": 1, "stance": "SUPPORTS", "confidence": 0.9,
                                   "rationale": "r", "quote": ""}]})


def test_a_claim_repeated_in_other_words_in_another_chat_links_its_earlier_check(
    start_bot, telegram_server, settings
):
    start_bot()
    telegram_server.send_text(ALICE, ALICE, FIVE)
    report_done(telegram_server, ALICE)
    [first] = open_history(settings).checks(chat_id=ALICE)
    telegram_server.send_text(BOB, BOB, FIVE_REWORDED)
    report = report_done(telegram_server, BOB)
    assert "🔁 Checked once before, on " in report["text"]
    assert "· in another chat" in report["text"] and not links(report)  # A's report is A's
    assert any(b["text"] == "🔄 Check again" for b in buttons(report))
    [second] = open_history(settings).checks(chat_id=BOB)
    assert second.report.claims[0].prior.check_id == first.id
    telegram_server.send_text(ALICE, ALICE, TWO_HUNDRED)  # another figure: another claim
    telegram_server.wait_for_text(ALICE, TWO_HUNDRED)
    near_miss = [m for m in telegram_server.sent_messages(ALICE) if TWO_HUNDRED in m["text"]]
    assert "🔁" not in near_miss[-1]["text"]


def test_a_check_opens_in_private_only_for_its_own_chat(start_bot, telegram_server, settings):
    start_bot()
    telegram_server.send_text(ALICE, ALICE, FIVE)
    report_done(telegram_server, ALICE)
    [first] = open_history(settings).checks(chat_id=ALICE)
    telegram_server.send_command(BOB, BOB, "start", first.id)
    telegram_server.wait_for_text(BOB, "That check belongs to another chat.")
    assert FIVE not in texts(telegram_server, BOB)
    mark = len(telegram_server.calls)
    telegram_server.send_command(ALICE, ALICE, "start", first.id)
    telegram_server.wait_for(lambda call: call.method == "sendMessage"
                             and FIVE in str(call.params.get("text")), after=mark)


def test_a_groups_check_opens_in_private_for_its_members_not_for_one_who_left(
    start_bot, telegram_server, settings
):
    start_bot()
    telegram_server.send_mention(GROUP, BOB, FIVE)
    [stored] = wait_checks(settings, GROUP, 1)
    mark = len(telegram_server.calls)
    telegram_server.send_command(ALICE, ALICE, "start", stored.id)  # a member, not the sender
    telegram_server.wait_for(lambda call: call.method == "sendMessage"
                             and FIVE in str(call.params.get("text")), after=mark)
    telegram_server.remove_member(GROUP, ALICE)
    mark = len(telegram_server.calls)
    telegram_server.send_command(ALICE, ALICE, "start", stored.id)
    telegram_server.wait_for_text(ALICE, "That check belongs to another chat.")
    assert not [c for c in telegram_server.calls[mark:] if FIVE in str(c.params.get("text"))]


def test_a_channel_post_checked_quietly_is_remembered(start_bot, telegram_server, settings):
    start_bot()
    telegram_server.post_in_channel(CHANNEL, "/autocheck on")
    telegram_server.wait_for_text(CHANNEL, "is on")
    telegram_server.post_in_channel(CHANNEL, FIVE)
    [post] = wait_checks(settings, CHANNEL, 1)
    telegram_server.send_text(ALICE, ALICE, FIVE_REWORDED)
    report = report_done(telegram_server, ALICE)
    assert "🔁 Checked once before" in report["text"] and "in another chat" in report["text"]
    [mine] = wait_checks(settings, ALICE, 1)
    assert mine.report.claims[0].prior.check_id == post.id


def test_an_article_already_checked_in_the_chat_is_answered_without_an_llm_call_until_asked(
    start_bot, telegram_server, settings, openai_server
):
    server, _ = openai_server
    start_bot(engine="llm", openai_base_url=server.url + "/v1", openai_api_key=SecretStr("t"),
              llm_cache=False, llm_max_retries=1, top_k=1)
    script_check(server)
    telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
    telegram_server.wait_for_text(ALICE, "Checked by the llm engine", timeout=60)
    assert len(server.chat_requests) == 2  # the claims, then the stance of the one claim
    telegram_server.send_text(ALICE, ALICE, f"  {CLAIMS[0]}\n", forward_from_chat={
        "id": CHANNEL, "title": "News", "username": "news", "message_id": 7})
    answer = telegram_server.wait_for_text(ALICE, "Already checked here on")
    assert CLAIMS[0] in answer["text"] and len(server.chat_requests) == 2  # no new call
    [repeat, first] = wait_checks(settings, ALICE, 2)  # the repeat is stored and counted
    assert repeat.report.repeat_of == first.id and repeat.created_at > first.created_at
    assert repeat.report.created_at == first.report.created_at  # its results are of then
    script_check(server)
    telegram_server.press_button(ALICE, ALICE, answer["message_id"], text="🔄 Check again")
    [fresh, _, _] = wait_checks(settings, ALICE, 3)
    assert len(server.chat_requests) == 4  # checked again: claims and stance asked again
    prior = fresh.report.claims[0].prior
    assert (prior.times, prior.times_in_chat, prior.reused) == (2, 2, False)


def another_day() -> tuple[str, str]:
    """A time zone where today is another day than in UTC, and today's date there."""
    # Kiritimati is UTC+14 and Pago Pago UTC-11: at any hour one of them is a day off UTC.
    zone = "Pacific/Kiritimati" if datetime.now(UTC).hour >= 12 else "Pacific/Pago_Pago"
    today = datetime.now(ZoneInfo(zone))
    return zone, f"{today.day} {today:%B}"


def test_reuse_stops_after_new_sources_are_added(start_bot, telegram_server, settings):
    zone, today = another_day()
    start_bot(timezone=zone)  # the notice's date is the desk's, not UTC's
    telegram_server.send_text(ALICE, ALICE, CLAIMS[3])
    report_done(telegram_server, ALICE)
    telegram_server.send_text(ALICE, ALICE, CLAIMS[3])
    telegram_server.wait_for_text(ALICE, f"Already checked here on {today};")
    upload = telegram_server.send_document(ADMIN, ADMIN, "desk-notes.txt",
                                           data=b"The river flooded the old town in 2021.")
    telegram_server.send_command(ADMIN, ADMIN, "add", reply_to_message_id=upload["message_id"])
    telegram_server.wait_for_text(ADMIN, "Added 1 document")
    telegram_server.send_text(ALICE, ALICE, CLAIMS[3])
    [again, repeat, first] = wait_checks(settings, ALICE, 3)
    prior = again.report.claims[0].prior
    assert repeat.report.repeat_of == first.id
    assert (prior.check_id, prior.times, prior.reused) == (repeat.id, 2, False)
    report = telegram_server.wait_for_text(ALICE, "🔁 Checked 2 times since")
    assert f"https://t.me/factcheck_test_bot?start={repeat.id}" in links(report)  # this chat's
    assert texts(telegram_server, ALICE).count("Already checked here on") == 1


def test_a_failing_claim_memory_is_logged_and_the_report_still_sent(
    start_bot, telegram_server, settings, caplog
):
    start_bot()
    with closing(sqlite3.connect(history_path(settings))) as db:
        db.execute("DROP TABLE memory")
    with caplog.at_level(logging.ERROR):
        telegram_server.send_text(ALICE, ALICE, FIVE)
        report = report_done(telegram_server, ALICE)
    assert FIVE in report["text"] and len(wait_checks(settings, ALICE, 1)) == 1
    assert "checking without it" in caplog.text and "could not remember check" in caplog.text
