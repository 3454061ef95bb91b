"""A Telegram Bot API server on 127.0.0.1 for end-to-end tests of the bot.

The real python-telegram-bot talks to it over HTTP; every answer is built from
python-telegram-bot's own types, so it has the shape the library expects. Use the fixture
`telegram_server` (or `with TelegramTestServer() as server:`) and point the bot at it:

    ApplicationBuilder().token(server.token).base_url(server.base_url)
        .base_file_url(server.base_file_url)        # or TELEGRAM_BASE_URL=server.base_url

server.token is "123456:TEST"; server.bot_username / server.bot_user are what getMe says.
Chats exist once a user wrote in them (or add_bot_to_chat): sending elsewhere is "chat not
found", as in Telegram. Message ids count up per chat, shared by users and the bot.

Inject what users do (each returns what Telegram would deliver, as a dict):

    send_text(chat_id, user_id, text, chat_type="private", reply_to_message_id=None,
              entities=None, forward_from_chat=None) -> message
        entities=None adds what Telegram finds itself: bot_command, mention, url;
        forward_from_chat={"id": -1001, "title": "News", "username": "news", "message_id": 7}
    send_command(chat_id, user_id, command, args="", **send_text_kwargs) -> message   "/command args"
    send_mention(chat_id, user_id, text, chat_type="group", **kwargs) -> message  "@<bot> text"
    send_document(chat_id, user_id, filename, data, mime_type="application/octet-stream",
                  caption=None, reply_to_message_id=None, chat_type="private",
                  declared_size=-1, drip=0.0) -> message
        declared_size: the file_size the message and getFile state (-1: the real one; None:
        none; or a wrong number); a file whose size is not the real one is downloaded
        without Content-Length, streamed until the bot stops reading
        drip: seconds between the 64 KiB pieces of its download (a slow download; the
        "download" call's `sent` says where the bot hung up)
    press_button(chat_id, user_id, message_id, callback_data=None, *, text=None) -> callback id
    forge_callback(chat_id, user_id, message_id, data) -> callback id   any data, any message
    post_in_channel(chat_id, text, title=None) -> message                  (a channel_post)
    add_bot_to_chat(chat_id, chat_type, as_admin, title=None, by_user_id=1, can_post=True)
        -> chat_member      (can_post=False: an admin without the right to post messages)
    make_admin(chat_id, user_id)                                     (for getChatMember)
    remove_member(chat_id, user_id)        getChatMember then says "left" (others: "member")
    link_discussion(channel_id, group_id)    getChat of either gives the other as linked_chat_id

Read what the bot did (all thread-safe; dicts are Bot API JSON):

    calls -> list[Call]          every request: method, params, time, status, result, description
        (a file download is method "download", params file_path and the bytes `sent` before
        the bot stopped reading or the file ended; "downloading", file_path, when it began)
    sent_messages(chat_id) -> list[dict]    the bot's messages as they are now (after edits)
    transcript(chat_id, names=None) -> str   the chat as read now: "you> …", "bot> …", buttons
        as "[label]" rows under their message (names: user id -> name)
    edits(chat_id, message_id) -> list[dict]     the message after each successful edit
    documents(chat_id) / photos(chat_id) -> list[SentFile]   uploads: file_name, data, mime_type
    commands -> list[dict]       what setMyCommands registered (default scope)
    webhook -> dict | None       the last setWebhook parameters
    wait_for(predicate | "methodName", timeout=20, after=0) -> Call   first matching call with
        index >= after (use len(server.calls) as a mark); AssertionError listing the last calls
    wait_for_text(chat_id, needle, timeout=20) -> dict    a bot message that now contains needle
    wait_until_polling(timeout=20)       until a getUpdates long poll waits (the bot is idle)
    wait_confirmed(timeout=20)           until every update was confirmed (a later offset)

Faults: fail_next(method, status=429, retry_after=1, count=1, description=None) answers the
next `count` calls of `method` with a Bot API error (429 carries parameters.retry_after);
answers_delay(method, seconds) delays every answer of `method`; outage(seconds, fault="drop",
retry_after=1) fails every Bot API request that arrives in the next `seconds`: "drop" closes
the connection without an answer, "502" answers a proxy's HTML error page (not JSON), "429"
answers Too Many Requests with retry_after. A long poll already waiting is not affected.
Failed requests are in `calls` (a dropped one with status 0).

Checks real Telegram makes that matter to the bot: text over 4096 characters (after HTML
parsing), captions over 1024, HTML that Telegram cannot parse (see telegram_html.py),
callback_data over 64 bytes, "message is not modified", edits of unknown messages, unknown
chats, answering a callback query twice, getUpdates while a webhook is set. Editing a message
without reply_markup removes its keyboard, as in Telegram. Unknown methods get a 404 error.
MarkdownV2 text is stored as sent (not parsed). Not served: inline mode, webhook delivery
(setWebhook is only recorded), media groups.

Files: telegram_state.py (Telegram's state), telegram_api.py (the Bot API methods),
telegram_users.py (what users do), telegram_html.py (HTML parse mode, automatic entities),
telegram_http.py (routes, request bodies).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from .loopback import LoopbackServer
from .telegram_http import handler_for
from .telegram_state import BotApiError, SentFile
from .telegram_users import UserActions

logger = logging.getLogger(__name__)

TOKEN = "123456:TEST"
BOT_USERNAME = "factcheck_test_bot"
DROP = "drop"  # what outage_answer returns for a connection to close without an answer
_PROXY_502 = (b"<html><head><title>502 Bad Gateway</title></head><body><center>"
              b"<h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>")
_DEFAULT_ERRORS = {
    400: "Bad Request", 403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error", 502: "Bad Gateway",
}


@dataclass(frozen=True)
class Call:
    """One request the bot made, with what it was answered."""

    method: str
    params: dict[str, Any]
    time: float
    status: int = 200
    result: Any = None
    description: str = ""

    @property
    def ok(self) -> bool:
        """Whether the server answered with a result rather than an error."""
        return self.status == 200


class TelegramTestServer(LoopbackServer, UserActions):
    """The server: start it (or use it as a context manager), inject updates, read `calls`."""

    def __init__(self, token: str = TOKEN, bot_username: str = BOT_USERNAME) -> None:
        super().__init__(token, bot_username)
        self._calls: list[Call] = []
        self._faults: dict[str, list[BotApiError]] = {}
        self._delays: dict[str, float] = {}
        self._outage: tuple[float, str, int] | None = None  # (until, fault, retry_after)
        self._listen(handler_for(self))

    # -- running ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What ApplicationBuilder().base_url() takes; python-telegram-bot appends the token."""
        return self.url + "/bot"

    @property
    def base_file_url(self) -> str:
        """What ApplicationBuilder().base_file_url() takes."""
        return self.url + "/file/bot"

    def _release_waiters(self) -> None:
        """Long polls waiting for updates return empty."""
        with self._cond:
            self._cond.notify_all()

    # -- what the bot did ---------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request so far, in the order they were answered."""
        with self._cond:
            return list(self._calls)

    def sent_messages(self, chat_id: int) -> list[dict]:
        """The bot's messages in a chat, oldest first, as they are after edits and deletions."""
        with self._cond:
            messages = self._messages.get(chat_id, {}).values()
            return [m for m in messages if m.get("from", {}).get("id") == self.bot_user.id]

    def transcript(self, chat_id: int, names: dict[int, str] | None = None) -> str:
        """The chat as its members see it now, oldest first: 'name> text' per message (the bot's
        after their edits), its inline buttons under it as rows of '[label]', a file as '📎 name'.
        `names` maps user ids to names ('you' for a private chat's user, 'bot' for the bot)."""
        names = names or {}
        with self._cond:
            messages = list(self._messages.get(chat_id, {}).values())
        lines: list[str] = []
        for message in messages:
            sender = message.get("from", {}).get("id")
            name = "bot" if sender == self.bot_user.id else names.get(sender, "you")
            body = message.get("text") or message.get("caption") or ""
            if "document" in message:
                body = f"📎 {message['document'].get('file_name', 'file')}" + (
                    f" {body}" if body else "")
            pad = " " * (len(name) + 2)
            text_lines = body.split("\n") or [""]
            lines.append(f"{name}> {text_lines[0]}")
            lines += [pad + line if line else "" for line in text_lines[1:]]
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                lines.append(pad + "  ".join(f"[{button['text']}]" for button in row))
        return "\n".join(lines)

    def edits(self, chat_id: int, message_id: int) -> list[dict]:
        """The message after each successful edit (the original send is not included)."""
        with self._cond:
            return list(self._edits.get((chat_id, message_id), []))

    def documents(self, chat_id: int) -> list[SentFile]:
        """Documents the bot sent to a chat."""
        with self._cond:
            return [f for f in self._sent_files if f.chat_id == chat_id and f.kind == "document"]

    def photos(self, chat_id: int) -> list[SentFile]:
        """Photos the bot sent to a chat."""
        with self._cond:
            return [f for f in self._sent_files if f.chat_id == chat_id and f.kind == "photo"]

    def wait_for(
        self, predicate: Callable[[Call], bool] | str, timeout: float = 20.0, after: int = 0
    ) -> Call:
        """The first call (index >= after) matching predicate, or a method name answered ok."""
        if isinstance(predicate, str):
            method = predicate

            def predicate(call: Call) -> bool:
                return call.method == method and call.ok
        check = predicate

        def found() -> Call | None:
            return next((c for c in self._calls[after:] if check(c)), None)

        return self._wait(found, timeout, "no matching call")

    def wait_until_polling(self, timeout: float = 20.0) -> None:
        """Block until a getUpdates long poll is waiting (the bot is up and idle)."""
        self._wait(lambda: True if self._polling else None, timeout, "no long poll waiting")

    def wait_confirmed(self, timeout: float = 20.0) -> None:
        """Block until the bot confirmed every update (a getUpdates with a later offset):
        Telegram would not deliver them again."""
        self._wait(lambda: True if not self._updates else None, timeout, "updates unconfirmed")

    def wait_for_text(self, chat_id: int, needle: str, timeout: float = 20.0) -> dict:
        """A bot message in the chat whose current text or caption contains needle."""

        def found() -> dict | None:
            return next((m for m in self.sent_messages(chat_id)
                         if needle in m.get("text", m.get("caption", ""))), None)

        return self._wait(found, timeout, f"no bot message in chat {chat_id} with {needle!r}")

    # -- faults -------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next `count` calls of `method` with this Bot API error."""
        if status == 429:
            error = BotApiError(
                429, description or f"Too Many Requests: retry after {retry_after}", retry_after
            )
        else:
            error = BotApiError(status, description or _DEFAULT_ERRORS.get(status, "Error"))
        with self._cond:
            self._faults.setdefault(method.lower(), []).extend([error] * count)

    def answers_delay(self, method: str, seconds: float) -> None:
        """Delay every answer to `method` by this many seconds (0 to stop)."""
        with self._cond:
            self._delays[method.lower()] = seconds

    def outage(self, seconds: float, fault: str = DROP, retry_after: int = 1) -> None:
        """Fail every Bot API request arriving in the next `seconds` with `fault`: "drop",
        "502" or "429" (see the module's docstring)."""
        if fault not in (DROP, "502", "429"):
            raise ValueError(f"unknown fault {fault!r}")
        with self._cond:
            self._outage = (time.monotonic() + seconds, fault, retry_after)

    # -- serving (called by the HTTP handler) -------------------------------------------------

    def outage_answer(self, method: str, params: dict[str, Any]) -> tuple[int, bytes] | str | None:
        """During an outage: DROP, or (status, body) to answer instead; None otherwise."""
        with self._cond:
            if self._outage is None or time.monotonic() >= self._outage[0]:
                return None
            _, fault, retry_after = self._outage
        name = self.routes.get(method.lower(), (method,))[0]
        if fault == DROP:
            self._record(Call(name, params, time.time(), 0, None, "connection dropped"))
            return DROP
        if fault == "502":
            self._record(Call(name, params, time.time(), 502, None, "502 Bad Gateway (proxy)"))
            return 502, _PROXY_502
        error = BotApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        self._record(Call(name, params, time.time(), 429, None, error.description))
        return 429, json.dumps(error.payload()).encode()

    def dispatch(
        self, token: str, method: str, params: dict[str, Any], files: dict[str, Any]
    ) -> dict | None:
        """Answer one Bot API request; None when the server closed while it waited."""
        arrived = time.time()
        name, route = self.routes.get(method.lower(), (method, None))
        delay = self._delays.get(method.lower(), 0.0)
        if delay and self._closing.wait(delay):
            return None
        logged = params | {key: {"file_name": f.file_name, "size": len(f.data)}
                           for key, f in files.items()}
        try:
            result = self._answer(token, method, route, params, files)
        except BotApiError as error:
            self._record(Call(name, logged, arrived, error.status, None, error.description))
            return error.payload()
        self._record(Call(name, logged, arrived, 200, result))
        return {"ok": True, "result": result}

    def download(self, token: str, file_path: str) -> tuple[bytes, bool, float] | None:
        """The bytes behind a getFile file_path, whether to send their length and the seconds
        between their pieces, or None."""
        with self._cond:
            file_id = self._paths.get(file_path) if token == self.token else None
            stored = self._files[file_id] if file_id else None
        if stored is None:
            return None
        self._record(Call("downloading", {"file_path": file_path}, time.time(), 200))
        return stored.data, stored.size == len(stored.data), stored.drip

    def downloaded(self, file_path: str, status: int, sent: int) -> None:
        """Record a download once it ended: `sent` bytes went out before the bot stopped."""
        self._record(Call("download", {"file_path": file_path, "sent": sent}, time.time(), status))

    def closing(self) -> bool:
        """Whether close() was called (long polls stop waiting)."""
        return self._closing.is_set()

    def _answer(self, token: str, method: str, route: Any, params: dict, files: dict) -> Any:
        if token != self.token:
            raise BotApiError(401, "Unauthorized")
        with self._cond:
            faults = self._faults.get(method.lower())
            if faults:
                raise faults.pop(0)
        if route is None:
            raise BotApiError(404, f"Not Found: method {method} is not served by the test server")
        try:
            with self._cond:
                return route(params, files)
        except KeyError as missing:
            raise BotApiError(400, f"Bad Request: {missing.args[0]} is empty") from None
        except BotApiError:
            raise
        except Exception as exc:  # a bug here: make it visible in the call log
            logger.exception("test server failed on %s", method)
            raise BotApiError(500, f"Internal Server Error: {exc!r}") from exc

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _wait(self, found: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while (result := found()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{what} within {timeout}s; last calls:\n"
                                         + "\n".join(_describe(c) for c in self._calls[-15:]))
                self._cond.wait(remaining)
            return result


def _describe(call: Call) -> str:
    shown = {k: (v[:80] + "…" if isinstance(v, str) and len(v) > 80 else v)
             for k, v in call.params.items()}
    error = f" {call.description}" if call.description else ""
    return f"  {call.method} -> {call.status}{error} {shown}"


# Named through `name=` so that importing it (conftest.py) does not shadow test arguments.
@pytest.fixture(name="telegram_server")
def telegram_server_fixture() -> Iterator[TelegramTestServer]:
    """A running Bot API test server."""
    with TelegramTestServer() as server:
        yield server


__all__ = ["Call", "SentFile", "TelegramTestServer", "telegram_server_fixture"]
