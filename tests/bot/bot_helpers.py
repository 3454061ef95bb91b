"""What the bot's end-to-end tests share besides fixtures: the chats, the SciFact claims, the
running bot, and waiting for what it sends or stores."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

from fakes.telegram_server import TelegramTestServer

from factcheck.bot.app import build_application, serve
from factcheck.history import StoredCheck, open_history
from factcheck.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CLAIMS = [json.loads(line)["claim"] for line in (DATA / "claims.jsonl").read_text().splitlines()]
PAIRS = [json.loads(line) for line in (DATA / "paraphrases.jsonl").read_text().splitlines()]
# A casualty claim of the seed article, the same claim in other words, and a near miss.
FIVE, FIVE_REWORDED, TWO_HUNDRED = PAIRS[0]["a"], PAIRS[2]["b"], PAIRS[28]["b"]
ALICE, BOB, ADMIN = 1001, 1002, 1003  # in a private chat, the chat id is the user's id
GROUP, CHANNEL = -100200, -100300


class RunningBot:
    """The application served in a thread with its own event loop, as in production."""

    def __init__(self, settings: Settings) -> None:
        self.app = build_application(settings)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, args=(settings,), daemon=True)
        self.thread.start()

    def _serve(self, settings: Settings) -> None:
        asyncio.set_event_loop(self.loop)
        serve(self.app, settings, stop_signals=None)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.app.stop_running)
            self.thread.join(30)


def texts(server: TelegramTestServer, chat_id: int) -> str:
    """Everything the bot shows in a chat now, one message per line."""
    return "\n".join(m.get("text", m.get("caption", "")) for m in server.sent_messages(chat_id))


def buttons(message: dict) -> list[dict]:
    """The inline buttons of a sent message, row after row."""
    return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def report_done(server: TelegramTestServer, chat_id: int) -> dict:
    """The report's last page; fails at once when the check failed instead."""
    for _ in range(1200):
        for message in server.sent_messages(chat_id):
            text = message.get("text", "")
            if "Checked by the offline engine" in text:
                return message
            if text.startswith(("⚠️", "❗")) or "went wrong" in text:
                raise AssertionError(f"the check failed: {text}")
        threading.Event().wait(0.05)
    raise AssertionError(f"no report in chat {chat_id}: {texts(server, chat_id)}")


def wait_checks(settings: Settings, chat_id: int, count: int) -> list[StoredCheck]:
    """The chat's stored checks, newest first, once there are `count` of them."""
    history = open_history(settings)
    try:
        for _ in range(600):
            if len(stored := history.checks(chat_id=chat_id)) >= count:
                return stored
            threading.Event().wait(0.1)
    finally:
        history.close()
    raise AssertionError(f"chat {chat_id} has {len(stored)} checks, not {count}")
