"""What users do in the Bot API test server: messages, commands, uploads, button presses,
channel posts, the bot added to chats. Each returns what Telegram would deliver, as a dict.
"""

from __future__ import annotations

from typing import Any

from telegram import (
    CallbackQuery,
    Chat,
    ChatMemberLeft,
    ChatMemberUpdated,
    Document,
    Message,
    MessageEntity,
    MessageOriginChannel,
)

from .telegram_api import BotApiMethods
from .telegram_html import detect_entities
from .telegram_state import now, plain, quoted


class UserActions(BotApiMethods):
    """The test-side calls that inject what users do as updates."""

    def send_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
        entities: list[dict] | None = None,
        forward_from_chat: dict | None = None,
    ) -> dict:
        """A user sends text; entities=None lets the server find commands, mentions, urls."""
        found = detect_entities(text) if entities is None else entities
        fields: dict[str, Any] = {
            "text": text, "entities": [MessageEntity.de_json(e, None) for e in found],
        }
        if forward_from_chat is not None:
            fields["forward_origin"] = _channel_origin(forward_from_chat)
        return self._user_message(chat_id, user_id, chat_type, reply_to_message_id, fields)

    def send_command(
        self, chat_id: int, user_id: int, command: str, args: str = "", **kwargs: Any
    ) -> dict:
        """A user sends "/command args" (command with or without the slash, may name the bot)."""
        text = "/" + command.lstrip("/") + (f" {args}" if args else "")
        return self.send_text(chat_id, user_id, text, **kwargs)

    def send_mention(
        self, chat_id: int, user_id: int, text: str, chat_type: str = "group", **kwargs: Any
    ) -> dict:
        """A user writes "@<bot username> text" in a group."""
        return self.send_text(
            chat_id, user_id, f"@{self.bot_username} {text}", chat_type=chat_type, **kwargs
        )

    def send_document(
        self,
        chat_id: int,
        user_id: int,
        filename: str,
        data: bytes,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        reply_to_message_id: int | None = None,
        chat_type: str = "private",
        declared_size: int | None = -1,
        drip: float = 0.0,
    ) -> dict:
        """A user uploads a file; the bot can fetch it with getFile and download it."""
        with self._cond:
            stored = self._store_file("document", filename, data, mime_type, declared_size,
                                      drip)
        document = Document(
            stored.file_id, stored.unique_id, file_name=filename, mime_type=mime_type,
            file_size=stored.size,
        )
        fields = {"document": document, "caption": caption}
        return self._user_message(chat_id, user_id, chat_type, reply_to_message_id, fields)

    def press_button(
        self,
        chat_id: int,
        user_id: int,
        message_id: int,
        callback_data: str | None = None,
        *,
        text: str | None = None,
    ) -> str:
        """A user presses the inline button with this callback_data (or this text)."""
        with self._cond:
            message = self._find_message(chat_id, message_id)
            if message is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            buttons = [b for row in message.get("reply_markup", {}).get("inline_keyboard", [])
                       for b in row]
            matching = [b for b in buttons if "callback_data" in b and (
                b["callback_data"] == callback_data or b["text"] == text)]
            if not matching:
                raise ValueError(f"message {message_id} has no such button; it has {buttons}")
            return self._push_callback(chat_id, user_id, message, matching[0]["callback_data"])

    def forge_callback(self, chat_id: int, user_id: int, message_id: int, data: str) -> str:
        """A callback query with any data on any message of the chat, as a modified client can
        send (Telegram does not check the data against the message's buttons)."""
        with self._cond:
            message = self._find_message(chat_id, message_id)
            if message is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            return self._push_callback(chat_id, user_id, message, data)

    def _push_callback(self, chat_id: int, user_id: int, message: dict, data: str) -> str:
        query_id = str(self._next_id("callback"))
        self._callbacks[query_id] = False
        query = CallbackQuery(
            query_id, self._user(user_id), chat_instance=str(chat_id),
            message=Message.de_json(message, None), data=data,
        )
        self._push("callback_query", query)
        return query_id

    def post_in_channel(self, chat_id: int, text: str, title: str | None = None) -> dict:
        """A new post in a channel the bot is in (a channel_post update)."""
        with self._cond:
            chat = self._chat(chat_id, "channel", title)
            entities = [MessageEntity.de_json(e, None) for e in detect_entities(text)]
            message = self._new_message(chat, None, text=text, entities=entities,
                                        sender_chat=chat)
            self._push("channel_post", message)
            return plain(message)

    def add_bot_to_chat(
        self,
        chat_id: int,
        chat_type: str,
        as_admin: bool,
        title: str | None = None,
        by_user_id: int = 1,
        can_post: bool = True,
    ) -> dict:
        """Someone adds the bot to a group or channel (a my_chat_member update)."""
        with self._cond:
            chat = self._chat(chat_id, chat_type, title)
            self._bot_status[chat_id] = "administrator" if as_admin else "member"
            if can_post:
                self._bot_cannot_post.discard(chat_id)
            else:
                self._bot_cannot_post.add(chat_id)
            change = ChatMemberUpdated(
                chat, self._user(by_user_id), now(),
                old_chat_member=ChatMemberLeft(self.bot_user),
                new_chat_member=self._member(chat_id, self.bot_user.id),
            )
            self._push("my_chat_member", change)
            return plain(change)

    def make_admin(self, chat_id: int, user_id: int) -> None:
        """getChatMember reports this user as an administrator of the chat."""
        with self._cond:
            self._left.discard((chat_id, user_id))
            self._admins.add((chat_id, user_id))

    def remove_member(self, chat_id: int, user_id: int) -> None:
        """The user left the chat: getChatMember reports status "left" (no update is sent)."""
        with self._cond:
            self._admins.discard((chat_id, user_id))
            self._left.add((chat_id, user_id))

    def link_discussion(self, channel_id: int, group_id: int) -> None:
        """Make a supergroup the channel's discussion group (getChat's linked_chat_id)."""
        with self._cond:
            self._chat(channel_id, "channel")
            self._chat(group_id, "supergroup")
            self._linked[channel_id], self._linked[group_id] = group_id, channel_id

    def _user_message(
        self, chat_id: int, user_id: int, chat_type: str, reply_to: int | None, fields: dict
    ) -> dict:
        with self._cond:
            chat = self._chat(chat_id, chat_type)
            if reply_to is not None:
                target = self._find_message(chat_id, reply_to)
                if target is None:
                    raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
                fields["reply_to_message"] = quoted(target)
            message = self._new_message(chat, self._user(user_id), **fields)
            self._push("message", message)
            return plain(message)


def _channel_origin(chat: dict) -> MessageOriginChannel:
    source = Chat(chat["id"], "channel", title=chat.get("title", "Channel"),
                  username=chat.get("username"))
    return MessageOriginChannel(now(), source, message_id=chat.get("message_id", 1))
