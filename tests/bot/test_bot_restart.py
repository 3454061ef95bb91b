"""kill -9 of the bot mid-check loses nothing: `factcheck bot` runs as a real process on the Bot
API test server, is killed with SIGKILL while its check waits for an article's page (after
Telegram was told the update arrived), and its next start answers the interrupted check."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bot_helpers import ALICE, CLAIMS, ROOT, report_done
from fakes.telegram_server import TelegramTestServer

from factcheck.history import open_history
from factcheck.settings import Settings


@dataclass
class HeldSite:
    """A page on 127.0.0.1 whose first request hangs until the test ends; later ones answer."""

    url: str = ""
    requests: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def held_site() -> Iterator[HeldSite]:
    site = HeldSite()
    page = (f"<html><head><title>Macrophage news</title></head><body><article><p>{CLAIMS[0]}"
            "</p></article></body></html>").encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests += 1
            site.arrived.set()
            if site.requests == 1:
                site.release.wait(60)  # the bot is killed meanwhile
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
            except OSError:
                pass  # the killed bot's connection is gone

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site.url = f"http://127.0.0.1:{server.server_address[1]}/news/1"
    yield site
    site.release.set()
    server.shutdown()


def start_bot_process(settings: Settings, server: TelegramTestServer, log: Path
                      ) -> subprocess.Popen:
    """`factcheck bot` in its own process, ready (its commands registered)."""
    env = os.environ | {
        "TELEGRAM_BOT_TOKEN": server.token, "TELEGRAM_BASE_URL": server.base_url,
        "TELEGRAM_BASE_FILE_URL": server.base_file_url, "DATA_DIR": str(settings.data_dir),
        "ENGINE": "offline", "ALLOW_PRIVATE_URLS": "true", "STATUS_EDIT_INTERVAL": "0.2",
        "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": str(ROOT),
    }
    mark = len(server.calls)
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "factcheck", "bot"], env=env,
                                   stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
    try:
        server.wait_for("setMyCommands", timeout=120, after=mark)
    except AssertionError:
        process.kill()
        raise AssertionError(log.read_text()) from None
    return process


def wait_journalled(settings: Settings, status_id: int) -> None:
    """Until the journal holds the update with its status message (sent a moment ago)."""
    history = open_history(settings)
    try:
        for _ in range(100):
            if [p.status_message_id for p in history.pending_updates()] == [status_id]:
                return
            threading.Event().wait(0.05)
    finally:
        history.close()
    raise AssertionError("the journal never noted the status message")


def test_a_bot_killed_mid_check_answers_the_check_at_its_next_start(
    telegram_server, settings, held_site, tmp_path
):
    log = tmp_path / "bot.log"
    first = start_bot_process(settings, telegram_server, log)
    try:
        telegram_server.wait_until_polling()
        telegram_server.send_text(ALICE, ALICE, held_site.url)
        assert held_site.arrived.wait(60), log.read_text()  # the check waits for the page
        status = telegram_server.wait_for(lambda c: c.method == "sendMessage" and c.ok).result
        telegram_server.wait_confirmed()  # Telegram will not deliver this update again
        wait_journalled(settings, status["message_id"])
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    assert "Checked by" not in telegram_server.sent_messages(ALICE)[0]["text"]

    second = start_bot_process(settings, telegram_server, log)
    try:
        report = report_done(telegram_server, ALICE)
        assert CLAIMS[0] in report["text"], log.read_text()
        assert report["message_id"] == status["message_id"]  # the old status became the report
        shown = [e["text"] for e in telegram_server.edits(ALICE, status["message_id"])]
        assert shown[0].startswith("♻️ I restarted during this check")
        assert held_site.requests == 2
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(60)
    history = open_history(settings)
    try:
        assert history.pending_updates() == [] and len(history.checks(chat_id=ALICE)) == 1
    finally:
        history.close()


def test_an_update_interrupted_twice_is_given_up_with_a_word_in_its_status_message(
    start_bot, telegram_server, settings
):
    first = start_bot()
    message = telegram_server.send_text(ALICE, ALICE, CLAIMS[2])
    status = report_done(telegram_server, ALICE)
    first.stop()
    history = open_history(settings)  # as a run that died on its replay of update 99 leaves it
    try:
        history.add_pending_update(99, json.dumps({"update_id": 99, "message": message}))
        history.set_pending_status(99, status["message_id"])
        history.mark_replayed(99)
    finally:
        history.close()
    start_bot()
    given_up = telegram_server.wait_for_text(ALICE, "I restarted twice during this request")
    assert given_up["message_id"] == status["message_id"]
    history = open_history(settings)
    try:
        assert history.pending_updates() == [] and len(history.checks(chat_id=ALICE)) == 1
    finally:
        history.close()
