"""The state the Bot API test server holds, as real Telegram would: the bot, chats, messages,
files and updates, with the helpers the methods (telegram_api.py) and the test side
(telegram_server.py, telegram_users.py) share. All of it is guarded by one Condition, `_cond`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram import (
    Chat,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    Message,
    TelegramObject,
    Update,
    User,
)


class BotApiError(Exception):
    """A Bot API error answer: HTTP status, Telegram's description, optional retry_after."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict:
        """The JSON body Telegram sends with this error."""
        body: dict[str, Any] = {
            "ok": False, "error_code": self.status, "description": self.description
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass(frozen=True)
class SentFile:
    """A document or photo the bot uploaded."""

    chat_id: int
    message_id: int
    kind: str  # "document" or "photo"
    file_name: str
    data: bytes
    mime_type: str
    caption: str | None


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    unique_id: str
    path: str
    file_name: str
    data: bytes
    mime_type: str
    declared_size: int | None = -1  # the file_size Telegram states; -1: the real one
    drip: float = 0.0  # seconds between the 64 KiB pieces of its download

    @property
    def size(self) -> int | None:
        """The file_size the message and getFile carry."""
        return len(self.data) if self.declared_size == -1 else self.declared_size


def now() -> datetime:
    """The current time as Telegram dates are given."""
    return datetime.now(UTC)


def plain(obj: TelegramObject) -> dict:
    """A python-telegram-bot object as Bot API JSON (plain dicts, lists, str, int)."""
    return json.loads(obj.to_json())


def quoted(message: dict) -> Message:
    """A stored message as the reply_to_message of another (Telegram does not nest further)."""
    return Message.de_json({k: v for k, v in message.items() if k != "reply_to_message"}, None)


class TelegramState:
    """Telegram's state for one bot."""

    def __init__(self, token: str, bot_username: str) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_user = User(int(token.split(":")[0]), "Factcheck Test Bot", True,
                             username=bot_username)
        self.webhook: dict | None = None
        self._cond = threading.Condition()
        self._counters: dict[str, int] = {}
        self._updates: list[dict] = []
        self._allowed_updates: list[str] | None = None
        self._polling = 0  # long polls waiting now
        self._chats: dict[int, Chat] = {}
        self._messages: dict[int, dict[int, dict]] = {}
        self._edits: dict[tuple[int, int], list[dict]] = {}
        self._files: dict[str, StoredFile] = {}
        self._paths: dict[str, str] = {}
        self._sent_files: list[SentFile] = []
        self._callbacks: dict[str, bool] = {}  # query id -> answered
        self._bot_status: dict[int, str] = {}
        self._admins: set[tuple[int, int]] = set()
        self._left: set[tuple[int, int]] = set()  # (chat, user): users who left the chat
        self._linked: dict[int, int] = {}  # channel <-> its discussion group, both ways
        self._bot_cannot_post: set[int] = set()  # chats where the bot is an admin without it
        self._commands: dict[str, list[dict]] = {}

    def closing(self) -> bool:
        """Whether the server is shutting down (long polls stop waiting)."""
        return False

    # -- state helpers (call with _cond held) ---------------------------------------------------

    def _next_id(self, counter: str) -> int:
        self._counters[counter] = self._counters.get(counter, 0) + 1
        return self._counters[counter]

    def _user(self, user_id: int) -> User:
        return User(user_id, f"User{user_id}", False, username=f"user{user_id}",
                    language_code="en")

    def _chat(self, chat_id: int, chat_type: str, title: str | None = None) -> Chat:
        """The chat with this id, registered on first use."""
        known = self._chats.get(chat_id)
        if known is not None and title is None:
            return known
        if chat_type == "private":
            chat = Chat(chat_id, chat_type, first_name=f"User{chat_id}", username=f"user{chat_id}")
        else:
            chat = Chat(chat_id, chat_type, title=title or f"Test {chat_type} {abs(chat_id)}")
        self._chats[chat_id] = chat
        return chat

    def _known_chat(self, chat_id: int | str) -> Chat:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            found = [c for c in self._chats.values() if f"@{c.username}" == chat_id]
        else:
            found = [self._chats[int(chat_id)]] if int(chat_id) in self._chats else []
        if not found:
            raise BotApiError(400, "Bad Request: chat not found")
        return found[0]

    def _new_message(self, chat: Chat, sender: User | None, **fields: Any) -> Message:
        message = Message(self._next_id(f"message:{chat.id}"), now(), chat, from_user=sender,
                          **fields)
        self._messages.setdefault(chat.id, {})[message.message_id] = plain(message)
        return message

    def _find_message(self, chat_id: int, message_id: int) -> dict | None:
        return self._messages.get(chat_id, {}).get(message_id)

    def _push(self, kind: str, payload: TelegramObject) -> None:
        update = Update(self._next_id("update"), **{kind: payload})
        self._updates.append(plain(update))
        self._cond.notify_all()

    def _store_file(self, kind: str, file_name: str, data: bytes, mime_type: str,
                    declared_size: int | None = -1, drip: float = 0.0) -> StoredFile:
        number = self._next_id("file")
        suffix = "." + file_name.rsplit(".", 1)[1] if "." in file_name else ""
        stored = StoredFile(f"F{number:05d}-{kind}", f"U{number:05d}",
                             f"{kind}s/file_{number}{suffix}", file_name, data, mime_type,
                             declared_size, drip)
        self._files[stored.file_id] = stored
        self._paths[stored.path] = stored.file_id
        return stored

    def _member(self, chat_id: int, user_id: int) -> ChatMember:
        if user_id == self.bot_user.id:
            user, status = self.bot_user, self._bot_status.get(chat_id, "member")
        else:
            user, status = self._user(user_id), self._user_status(chat_id, user_id)
        if status == "left":
            return ChatMemberLeft(user)
        if status == "member":
            return ChatMemberMember(user)
        can_post = not (user.id == self.bot_user.id and chat_id in self._bot_cannot_post)
        return ChatMemberAdministrator(
            user, can_be_edited=False, is_anonymous=False, can_manage_chat=True,
            can_delete_messages=True, can_manage_video_chats=False, can_restrict_members=True,
            can_promote_members=False, can_change_info=False, can_invite_users=True,
            can_post_stories=False, can_edit_stories=False, can_delete_stories=False,
            can_post_messages=can_post, can_edit_messages=can_post,
        )

    def _user_status(self, chat_id: int, user_id: int) -> str:
        # Every user is a member of every chat unless made an admin or removed.
        if (chat_id, user_id) in self._left:
            return "left"
        return "administrator" if (chat_id, user_id) in self._admins else "member"
