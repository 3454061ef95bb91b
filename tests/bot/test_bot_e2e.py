"""The bot end to end: the real Application (`bot.app.serve`, as `factcheck bot` runs it) long
polls a Bot API test server on 127.0.0.1; the offline engine checks against 20 SciFact abstracts.
"""

from __future__ import annotations

import http.server
import json
import logging
import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bot_helpers import (
    ADMIN,
    ALICE,
    BOB,
    CHANNEL,
    CLAIMS,
    DATA,
    GROUP,
    ROOT,
    RunningBot,
    buttons,
    report_done,
    texts,
    wait_checks,
)
from fakes.telegram_server import TelegramTestServer
from pydantic import SecretStr

from factcheck import pipeline
from factcheck.engines.offline import OfflineEngine
from factcheck.errors import StoreError
from factcheck.history import SQLiteHistory, open_history

CLAIM_LINE = re.compile(r"^(?:✅|❌|⚖️|❔) (\d+)\. ", re.MULTILINE)
SEED = (ROOT / "examples" / "seed_article.txt").read_text()


@dataclass
class Held:
    """Checks that wait at a gate inside the worker thread until the test opens it."""

    gate: threading.Event
    started: list[str]

    def wait_started(self, count: int) -> None:
        for _ in range(200):
            if len(self.started) >= count:
                return
            threading.Event().wait(0.05)
        raise AssertionError(f"{count} checks did not start: {self.started}")


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[Held]:
    real, holder = pipeline.check, Held(threading.Event(), [])

    def check(article, settings, **options):
        holder.started.append(article.text)
        assert holder.gate.wait(30), "the test never opened the gate"
        return real(article, settings, **options)

    monkeypatch.setattr(pipeline, "check", check)
    yield holder
    holder.gate.set()


def failed_calls(server: TelegramTestServer) -> list:
    return [c for c in server.calls if not c.ok and c.status != 429]


# --- private chats ------------------------------------------------------------------------------


def test_seed_article_status_edits_then_a_report_naming_its_claims(start_bot, telegram_server,
                                                                   settings):
    start_bot()
    telegram_server.send_text(ALICE, ALICE, SEED)
    report_done(telegram_server, ALICE)
    first = telegram_server.sent_messages(ALICE)[0]
    edits = [e["text"] for e in telegram_server.edits(ALICE, first["message_id"])]
    assert len(edits) >= 2 and not edits[0].startswith("Fact-check")  # progress, then report
    assert edits[-1].startswith("Fact-check: USA airstrike destroys Russian-made tank in Syria")
    # The collection (SciFact abstracts) holds nothing on the seed: one message, its claims on
    # one line, no claim buttons (nothing to list, no verdict to judge), the file buttons.
    transcript = telegram_server.transcript(ALICE)
    print(transcript)  # the README's transcript shows it
    [report] = telegram_server.sent_messages(ALICE)
    assert [b["text"] for b in buttons(report)] == ["📄 Full report", "📝 Markdown"]
    assert "❔ Nothing in the collection on 22 claims: 1. " in transcript
    number = re.search(r"(\d+)\. The ministry’s spokeswoman, Maria Zakharova, said the five Russians "
                       r"killed", transcript).group(1)
    assert f"• death toll: 5 Russians (Maria Zakharova, the ministry; claim {number}) · 13 (" in (
        transcript)
    assert "12. Wagner is registered in Hong Kong · " in transcript  # within the cap of 25
    assert "checkable statements not checked" not in transcript
    assert transcript.rstrip().endswith("[📄 Full report]  [📝 Markdown]")
    [stored] = open_history(settings).checks(chat_id=ALICE)
    assert stored.user_id == ALICE and "five Russians killed" in stored.report.article.text
    assert failed_calls(telegram_server) == []


def test_commands_are_registered_and_help_says_what_it_cannot_do(start_bot, telegram_server):
    start_bot()
    assert {c["command"] for c in telegram_server.commands} >= {"check", "sources", "cancel",
                                                                 "help", "add"}
    telegram_server.send_command(ALICE, ALICE, "help")
    assert "What I cannot do" in telegram_server.wait_for_text(ALICE, "cannot")["text"]


def test_a_model_that_fails_to_load_at_start_does_not_stop_the_bot(start_bot, telegram_server,
                                                                   monkeypatch, caplog):
    def broken(self) -> None:
        raise OSError("judge.npz: truncated")

    monkeypatch.setattr(OfflineEngine, "warm_up", broken)
    with caplog.at_level(logging.ERROR, logger="factcheck.bot.app"):
        start_bot()
    assert "loading the offline engine's models failed" in caplog.text
    telegram_server.send_command(ALICE, ALICE, "help")
    assert "What I cannot do" in telegram_server.wait_for_text(ALICE, "cannot")["text"]


@pytest.fixture
def article_site() -> Iterator[str]:
    """A web page on 127.0.0.1 holding one SciFact claim as an article."""
    page = f"<html><head><title>Macrophage news</title></head><body><article><p>{CLAIMS[0]}</p>"
    page += "<p>Researchers reported the finding this week in a journal.</p></article></body></html>"

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/news/1"
    server.shutdown()


def test_a_link_is_fetched_and_checked(start_bot, telegram_server, article_site):
    start_bot(allow_private_urls=True)  # the test's site is on 127.0.0.1
    telegram_server.send_text(ALICE, ALICE, article_site)
    report_done(telegram_server, ALICE)
    shown = texts(telegram_server, ALICE)
    assert "Fact-check: Macrophage news" in shown and CLAIMS[0] in shown


def test_a_message_that_is_only_a_link_checks_the_page(start_bot, telegram_server, article_site):
    start_bot(allow_private_urls=True)
    telegram_server.send_text(ALICE, ALICE, f"Is this true? {article_site}")
    report_done(telegram_server, ALICE)
    shown = texts(telegram_server, ALICE)
    assert "Fact-check: Macrophage news" in shown and CLAIMS[0] in shown
    assert "Is this true" not in shown


def test_an_unknown_command_gets_one_line_of_help(start_bot, telegram_server):
    start_bot()
    telegram_server.send_command(ALICE, ALICE, "verify", "something")
    answer = telegram_server.wait_for_text(ALICE, "/verify")["text"]
    assert answer == ("I have no /verify command: send me an article, a link or a file to "
                      "check, or /help for what I can do.")
    # In a group, only a command naming this bot is answered: others may be another bot's.
    telegram_server.send_command(GROUP, BOB, "stats@other_bot", chat_type="group")
    telegram_server.send_command(GROUP, BOB, f"stats@{telegram_server.bot_username}",
                                 chat_type="group")
    telegram_server.wait_for_text(GROUP, "I have no /stats command")
    telegram_server.wait_until_polling()
    assert len(telegram_server.sent_messages(GROUP)) == 1


def test_a_file_name_is_checked_as_text_never_read_from_the_server(start_bot, telegram_server):
    Path("secret.txt").write_text("The vault code is 4711 and it opens at noon every day.")
    start_bot()
    telegram_server.send_text(ALICE, ALICE, "secret.txt")
    telegram_server.wait_for_text(ALICE, "Fact-check: secret.txt", timeout=60)
    assert "vault" not in texts(telegram_server, ALICE)


def test_an_uploaded_document_is_checked(start_bot, telegram_server):
    start_bot()
    telegram_server.send_document(ALICE, ALICE, "claims.txt", f"{CLAIMS[1]}\n".encode())
    report_done(telegram_server, ALICE)
    assert CLAIMS[1] in texts(telegram_server, ALICE)
    assert telegram_server.wait_for("getFile") and telegram_server.wait_for("download")


def test_a_forwarded_channel_post_is_checked(start_bot, telegram_server):
    start_bot()
    telegram_server.send_text(ALICE, ALICE, CLAIMS[6], forward_from_chat={
        "id": CHANNEL, "title": "News", "username": "news", "message_id": 7})
    report_done(telegram_server, ALICE)
    assert CLAIMS[6] in texts(telegram_server, ALICE)


def test_an_unreadable_file_type_is_refused_with_the_types_it_reads(start_bot, telegram_server):
    start_bot()
    telegram_server.send_document(ALICE, ALICE, "photo.png", b"\x89PNG")
    assert ".pdf" in telegram_server.wait_for_text(ALICE, "I can read")["text"]


def test_a_report_over_4096_characters_is_split_on_claim_boundaries(start_bot, telegram_server):
    abstracts = [json.loads(line)["text"] for line in
                 (DATA / "corpus.jsonl").read_text().splitlines()[:8]]
    start_bot()
    telegram_server.send_text(ALICE, ALICE, "\n\n".join(abstracts))
    report_done(telegram_server, ALICE)
    pages = [m["text"] for m in telegram_server.sent_messages(ALICE)]
    assert len(pages) > 1 and all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in pages)
    numbers = [int(m.group(1)) for p in pages for m in CLAIM_LINE.finditer(p)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 10
    assert failed_calls(telegram_server) == []


def test_html_hostile_article_text_is_shown_literally(start_bot, telegram_server):
    hostile = ("The ministry said <b>5 < 6</b> & that 40 % of </i> <script>x</script> tanks "
               "were destroyed in 2018.")
    start_bot()
    telegram_server.send_text(ALICE, ALICE, hostile)
    report_done(telegram_server, ALICE)
    assert "<b>5 < 6</b> & that 40 % of </i> <script>x</script>" in texts(telegram_server, ALICE)
    edits = [c for c in telegram_server.calls if c.method == "editMessageText"]
    assert edits and all(c.ok and c.params.get("parse_mode") == "HTML" for c in edits)


def test_a_message_telegram_rejects_as_html_is_resent_as_plain_text(start_bot, telegram_server):
    start_bot(status_edit_interval=60)  # the first edit is the report
    telegram_server.fail_next("editMessageText", 400,
                              description="Bad Request: can't parse entities: bad tag")
    telegram_server.send_text(ALICE, ALICE, CLAIMS[2])
    report_done(telegram_server, ALICE)
    rejected, resent = [c for c in telegram_server.calls if c.method == "editMessageText"][:2]
    assert rejected.status == 400 and resent.ok and not resent.params.get("parse_mode")
    assert CLAIMS[2] in texts(telegram_server, ALICE)


def test_a_429_from_telegram_is_waited_out_not_dropped(start_bot, telegram_server):
    start_bot()
    telegram_server.fail_next("sendMessage", status=429, retry_after=1)
    telegram_server.send_text(ALICE, ALICE, CLAIMS[3])
    report_done(telegram_server, ALICE)
    sends = [c for c in telegram_server.calls if c.method == "sendMessage"]
    assert sends[0].status == 429 and sends[1].ok
    assert sends[1].time - sends[0].time >= 1  # retry_after was honoured, not a timing budget


# --- buttons, restarts -------------------------------------------------------------------------


def test_buttons_sources_feedback_and_full_report_survive_a_restart(start_bot, telegram_server,
                                                                    settings):
    first = start_bot()
    telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
    report = report_done(telegram_server, ALICE)
    first.stop()  # a restart: everything the buttons need comes from the history database
    start_bot()
    message_id = report["message_id"]
    telegram_server.press_button(ALICE, ALICE, message_id, text="🔎 Sources 1")
    telegram_server.wait_for_text(ALICE, "Claim 1:")
    telegram_server.press_button(ALICE, ALICE, message_id, text="👎 1")
    question = telegram_server.wait_for_text(ALICE, "Which verdict would be right")
    telegram_server.press_button(ALICE, ALICE, question["message_id"], text="Contradicted")
    telegram_server.wait_for_text(ALICE, "should be contradicted")
    telegram_server.press_button(ALICE, ALICE, message_id, text="📄 Full report")
    telegram_server.wait_for("sendDocument")
    [document] = telegram_server.documents(ALICE)
    assert document.file_name.endswith(".html") and CLAIMS[0].encode() in document.data
    [feedback] = open_history(settings).feedback()
    assert (feedback.user_id, feedback.correct, feedback.right_label.value) == (
        ALICE, False, "CONTRADICTED")


# --- access and limits --------------------------------------------------------------------------


def test_a_chat_outside_the_allow_list_is_refused(start_bot, telegram_server, settings):
    start_bot(allowed_chat_ids=[ALICE])
    telegram_server.send_text(BOB, BOB, CLAIMS[0])
    telegram_server.wait_for_text(BOB, "serves only its own newsroom")
    assert open_history(settings).checks() == []


def test_a_user_over_the_rate_limit_is_told_when_to_retry_in_a_reply_to_each_refused_message(
    start_bot, telegram_server
):
    start_bot(rate_limit_per_minute=1)
    telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
    report_done(telegram_server, ALICE)
    burst = [telegram_server.send_text(ALICE, ALICE, claim) for claim in CLAIMS[1:4]]
    refused = [telegram_server.wait_for(lambda c, m=m: c.method == "sendMessage" and c.ok and (
        c.result.get("reply_to_message") or {}).get("message_id") == m["message_id"])
        for m in burst]  # in a private chat too, each notice quotes the message it refuses
    assert all("🚦" in c.result["text"] and "Try again in" in c.result["text"] for c in refused)
    assert not any(claim in texts(telegram_server, ALICE) for claim in CLAIMS[1:4])


def test_two_users_checking_at_once_both_get_reports_without_waiting_for_each_other(
    start_bot, telegram_server, monkeypatch
):
    # Each check waits inside the worker until the other has started too: if the bot ran
    # checks one after the other, the barrier would break and neither would get a report.
    barrier, real = threading.Barrier(2, timeout=30), pipeline.check
    monkeypatch.setattr(pipeline, "check", lambda *a, **k: (barrier.wait(), real(*a, **k))[1])
    start_bot()
    telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
    telegram_server.send_text(BOB, BOB, CLAIMS[1])
    report_done(telegram_server, ALICE)
    report_done(telegram_server, BOB)
    assert CLAIMS[0] in texts(telegram_server, ALICE) and CLAIMS[1] in texts(telegram_server, BOB)


def test_other_chats_are_answered_while_a_check_runs(start_bot, telegram_server, held):
    start_bot()
    telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
    held.wait_started(1)
    telegram_server.send_command(BOB, BOB, "help")
    telegram_server.wait_for_text(BOB, "What I cannot do")
    assert "Checked by" not in texts(telegram_server, ALICE)  # still held in its thread
    held.gate.set()
    report_done(telegram_server, ALICE)


def test_checks_over_the_cap_wait_in_a_queue_that_tells_their_position(start_bot,
                                                                        telegram_server, held):
    start_bot(max_concurrent_checks=1)
    telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
    held.wait_started(1)
    telegram_server.send_text(BOB, BOB, CLAIMS[1])
    telegram_server.wait_for_text(BOB, "number 1 in the queue")
    assert len(held.started) == 1
    held.gate.set()
    report_done(telegram_server, ALICE)
    report_done(telegram_server, BOB)


def test_cancel_stops_a_check_in_progress(start_bot, telegram_server, held, settings):
    start_bot()
    telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
    held.wait_started(1)
    telegram_server.send_command(ALICE, ALICE, "cancel")
    telegram_server.wait_for_text(ALICE, "Cancelling your check")
    held.gate.set()
    telegram_server.wait_for_text(ALICE, "Check cancelled")
    assert open_history(settings).checks() == []


def test_an_unexpected_error_gives_a_reference_and_logs_no_token(start_bot, telegram_server,
                                                                 monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError(f"boom while calling {telegram_server.base_url}{telegram_server.token}")

    monkeypatch.setattr(pipeline, "check", broken)
    start_bot()
    with caplog.at_level(logging.ERROR, logger="factcheck.bot"):
        telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
        answer = telegram_server.wait_for_text(ALICE, "reference")["text"]
        reference = answer.split("reference ")[1].split(")")[0]
        telegram_server.wait_for_text(ALICE, "This check failed")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert reference in logged and "boom" in logged and telegram_server.token not in logged


def test_a_history_that_cannot_be_written_is_logged_as_an_error_and_told_to_the_chat(
    start_bot, telegram_server, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise StoreError("the history database data/history.sqlite is damaged")

    monkeypatch.setattr(SQLiteHistory, "add_check", broken)
    start_bot()
    with caplog.at_level(logging.ERROR, logger="factcheck.bot"):
        telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
        telegram_server.wait_for_text(ALICE, "history database data/history.sqlite is damaged")
    assert any(r.levelno == logging.ERROR and "is damaged" in r.getMessage()
               for r in caplog.records)


# --- groups and channels ------------------------------------------------------------------------


def test_group_check_as_a_reply_is_compact_with_details_in_private(start_bot, telegram_server):
    start_bot()
    article = telegram_server.send_text(GROUP, ALICE, CLAIMS[0], chat_type="group")
    telegram_server.send_command(GROUP, BOB, "check", chat_type="group",
                                 reply_to_message_id=article["message_id"])
    report = telegram_server.wait_for_text(GROUP, "1 claim", timeout=60)
    [link] = [b for b in buttons(report) if "url" in b]
    assert link["url"].startswith("https://t.me/factcheck_test_bot?start=")
    assert "Sources" not in texts(telegram_server, GROUP)
    telegram_server.send_command(BOB, BOB, "start", link["url"].split("start=")[1])
    details = telegram_server.wait_for_text(BOB, "Checked by the offline engine")
    assert CLAIMS[0] in details["text"] and any("Sources" in b["text"] for b in buttons(details))
    mark = len(telegram_server.calls)
    telegram_server.send_command(ALICE, ALICE, "start", link["url"].split("start=")[1])
    telegram_server.wait_for_text(ALICE, "Checked by the offline engine")  # a member of the group
    assert str(telegram_server.wait_for("getChatMember", after=mark).params["user_id"]) == str(ALICE)


def test_group_acts_on_mentions_and_ignores_other_talk(start_bot, telegram_server):
    start_bot()
    telegram_server.send_text(GROUP, ALICE, CLAIMS[4], chat_type="group")
    telegram_server.send_mention(GROUP, BOB, CLAIMS[5])
    telegram_server.wait_for_text(GROUP, "1 claim")
    shown = texts(telegram_server, GROUP)
    assert CLAIMS[5] in shown and CLAIMS[4] not in shown


def test_channel_posts_are_checked_quietly_once_turned_on_and_the_setting_survives_a_restart(
    start_bot, telegram_server, settings
):
    first = start_bot()
    telegram_server.post_in_channel(CHANNEL, CLAIMS[0])
    telegram_server.post_in_channel(CHANNEL, "/autocheck on")
    telegram_server.wait_for_text(CHANNEL, "is on")
    first.stop()
    start_bot()
    mark = len(telegram_server.calls)
    telegram_server.post_in_channel(CHANNEL, CLAIMS[1])
    [stored] = wait_checks(settings, CHANNEL, 1)
    assert stored.chat_type == "channel" and stored.report.article.text == CLAIMS[1]
    assert not [c for c in telegram_server.calls[mark:] if c.method.startswith(("send", "edit"))]


def test_only_admins_turn_checking_of_a_chats_posts_on(start_bot, telegram_server, settings):
    start_bot()
    telegram_server.send_command(GROUP, BOB, "autocheck", "on", chat_type="group")
    telegram_server.wait_for_text(GROUP, "Only the bot's admins can change chat settings")
    telegram_server.send_command(GROUP, ADMIN, "autocheck", f"{CHANNEL} on", chat_type="group")
    telegram_server.wait_for_text(GROUP, f"Checking of posts in chat {CHANNEL} is on")
    history = open_history(settings)
    assert history.chats_with_setting("check_posts") == {CHANNEL: True}


# --- the collection -----------------------------------------------------------------------------


def test_admins_add_a_document_and_sources_counts_it(start_bot, telegram_server):
    start_bot()
    upload = telegram_server.send_document(GROUP, ADMIN, "desk-notes.txt", chat_type="group",
                                           data=b"The river flooded the old town in 2021.")
    telegram_server.send_command(GROUP, ADMIN, "add", chat_type="group",
                                 reply_to_message_id=upload["message_id"])
    assert "1 new passage" in telegram_server.wait_for_text(GROUP, "Added 1 document")["text"]
    telegram_server.send_command(ADMIN, ADMIN, "sources")
    assert "21 source(s)" in telegram_server.wait_for_text(ADMIN, "The collection holds")["text"]
    telegram_server.send_command(BOB, BOB, "add", "https://example.org")
    telegram_server.wait_for_text(BOB, "Only the bot's admins")


# --- webhook mode -------------------------------------------------------------------------------


@pytest.mark.parametrize("configured", ["s3cret", None], ids=["WEBHOOK_SECRET", "generated"])
def test_webhook_mode_always_has_a_secret_and_refuses_requests_without_it(
    settings, telegram_server, configured, caplog
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/telegram"
    running = RunningBot(settings.model_copy(update={
        "webhook_url": url, "webhook_port": port,
        "webhook_secret": SecretStr(configured) if configured else None}))
    try:
        telegram_server.wait_for("setWebhook")  # sent before the webhook server listens
        wait_listening(port)
        secret = telegram_server.webhook["secret_token"]
        assert telegram_server.webhook["url"] == url
        assert secret == configured if configured else re.fullmatch(r"[\w-]{40,256}", secret)
        # A forged /add "from" an admin, without the secret or with a wrong one: 403, not run.
        upload = telegram_server.send_document(ADMIN, ADMIN, "forged.txt", b"Forged fact.")
        forged = telegram_server.send_command(ADMIN, ADMIN, "add",
                                              reply_to_message_id=upload["message_id"])
        for header in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
            assert post_update(url, forged, header) == 403
        assert post_update(url, telegram_server.send_command(ALICE, ALICE, "help"),
                           {"X-Telegram-Bot-Api-Secret-Token": secret}) == 200
        telegram_server.wait_for_text(ALICE, "What I cannot do")
        assert texts(telegram_server, ADMIN) == ""  # the forged /add never ran
    finally:
        running.stop()
    assert secret not in caplog.text


def post_update(url: str, message: dict, headers: dict[str, str]) -> int:
    """POST one update to the bot's webhook as Telegram would; the HTTP status."""
    update = json.dumps({"update_id": message["message_id"], "message": message}).encode()
    request = urllib.request.Request(url, update, {"Content-Type": "application/json"} | headers)
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no env proxies
    try:
        with direct.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_listening(port: int) -> None:
    for _ in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        threading.Event().wait(0.05)
    raise AssertionError(f"nothing listens on port {port}")
