"""The Bot API methods of the test server, over the state of telegram_state.py.

`BotApiMethods` answers each Bot API method with python-telegram-bot's own types turned into
JSON. telegram_server.TelegramTestServer adds the HTTP server and the test-side API on top; all
state is guarded by one Condition, `_cond`.
"""

from __future__ import annotations

import json
import mimetypes
import re
import time
from collections.abc import Callable
from typing import Any

from telegram import (
    AcceptedGiftTypes,
    BotCommand,
    Chat,
    ChatFullInfo,
    Document,
    File,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    PhotoSize,
    User,
    WebhookInfo,
)

from .telegram_html import EntityParseError, parse_html
from .telegram_state import BotApiError, SentFile, StoredFile, TelegramState, plain, quoted

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024
# Update kinds Telegram leaves out unless allowed_updates names them.
_OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a content and reply markup of the current message"
)
Params = dict[str, Any]


class BotApiMethods(TelegramState):
    """The Bot API methods over Telegram's state for one bot."""

    def __init__(self, token: str, bot_username: str) -> None:
        super().__init__(token, bot_username)
        methods: dict[str, Callable[[Params, dict], Any]] = {
            "getMe": self._get_me, "getUpdates": self._get_updates,
            "sendMessage": self._send_message, "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "editMessageCaption": self._edit_caption, "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": lambda p, f: self._send_file("document", p, f),
            "sendPhoto": lambda p, f: self._send_file("photo", p, f),
            "getFile": self._get_file, "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands, "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands, "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook, "getWebhookInfo": self._get_webhook_info,
            "close": lambda p, f: True, "logOut": lambda p, f: True,
            "getChat": self._get_chat, "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
        }
        self.routes = {name.lower(): (name, method) for name, method in methods.items()}

    @property
    def commands(self) -> list[dict]:
        """The commands setMyCommands registered for the default scope and all languages."""
        with self._cond:
            return list(self._commands.get(_scope_key({}), []))

    # -- Bot API methods --------------------------------------------------------------------

    def _get_me(self, params: Params, files: dict) -> dict:
        return plain(User(
            self.bot_user.id, self.bot_user.first_name, True, username=self.bot_username,
            can_join_groups=True, can_read_all_group_messages=False,
            supports_inline_queries=False,
        ))

    def _get_updates(self, params: Params, files: dict) -> list[dict]:
        """Long polling: waits up to `timeout` seconds for an update, woken by injections."""
        if self.webhook is not None:
            raise BotApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                   "active; use deleteWebhook to delete the webhook first")
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
        if "allowed_updates" in params:
            self._allowed_updates = params["allowed_updates"] or None
        deadline = time.monotonic() + float(params.get("timeout", 0))
        while True:
            if offset > 0:  # confirms every earlier update
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            ready = [u for u in self._updates if self._allowed(u)][:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0 or self.closing():
                return ready
            self._polling += 1
            self._cond.notify_all()  # for wait_until_polling
            self._cond.wait(remaining)
            self._polling -= 1

    def _allowed(self, update: dict) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed_updates

    def _send_message(self, params: Params, files: dict) -> dict:
        chat = self._known_chat(params["chat_id"])
        text, entities = _formatted(params["text"], params, "entities", MAX_TEXT,
                                    "message is too long")
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        return plain(self._bot_message(chat, params, text=text, entities=entities))

    def _bot_message(self, chat: Chat, params: Params, **fields: Any) -> Message:
        reply = self._reply_target(chat.id, params)
        return self._new_message(
            chat, self.bot_user, reply_markup=_inline_markup(params),
            reply_to_message=quoted(reply) if reply else None,
            sender_chat=chat if chat.type == "channel" else None, **fields,
        )

    def _reply_target(self, chat_id: int, params: Params) -> dict | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        target = self._find_message(chat_id, int(message_id))
        if target is None and not reply.get("allow_sending_without_reply"):
            raise BotApiError(400, "Bad Request: message to be replied not found")
        return target

    def _editable(self, params: Params) -> dict:
        if "inline_message_id" in params:
            raise BotApiError(400, "Bad Request: inline messages are not served by the test server")
        chat = self._known_chat(params["chat_id"])
        message = self._find_message(chat.id, int(params["message_id"]))
        if message is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user.id:
            raise BotApiError(400, "Bad Request: message can't be edited")
        return message

    def _apply_edit(self, message: dict, **changes: Any) -> dict:
        """Store the edited message; an empty value removes the field, as Telegram does."""
        edited = {k: v for k, v in message.items() if k not in changes} | {
            k: v for k, v in changes.items() if v
        }
        if all(edited.get(key) == message.get(key) for key in changes):
            raise BotApiError(400, _NOT_MODIFIED)
        edited["edit_date"] = int(time.time())
        edited = plain(Message.de_json(edited, None))  # keeps it schema-true
        chat_id, message_id = edited["chat"]["id"], edited["message_id"]
        self._messages[chat_id][message_id] = edited
        self._edits.setdefault((chat_id, message_id), []).append(edited)
        return edited

    def _edit_message_text(self, params: Params, files: dict) -> dict:
        message = self._editable(params)
        if "text" not in message:
            raise BotApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = _formatted(params["text"], params, "entities", MAX_TEXT,
                                    "MESSAGE_TOO_LONG")
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        return self._apply_edit(message, text=text, entities=[plain(e) for e in entities],
                                reply_markup=_plain_markup(params))

    def _edit_caption(self, params: Params, files: dict) -> dict:
        message = self._editable(params)
        caption, entities = _formatted(params.get("caption", ""), params, "caption_entities",
                                       MAX_CAPTION, "message caption is too long")
        return self._apply_edit(message, caption=caption,
                                caption_entities=[plain(e) for e in entities],
                                reply_markup=_plain_markup(params))

    def _edit_reply_markup(self, params: Params, files: dict) -> dict:
        return self._apply_edit(self._editable(params), reply_markup=_plain_markup(params))

    def _delete_message(self, params: Params, files: dict) -> bool:
        chat = self._known_chat(params["chat_id"])
        if self._messages.get(chat.id, {}).pop(int(params["message_id"]), None) is None:
            raise BotApiError(400, "Bad Request: message to delete not found")
        return True

    def _answer_callback_query(self, params: Params, files: dict) -> bool:
        query_id = str(params["callback_query_id"])
        if self._callbacks.get(query_id) is not False:  # unknown, or answered already
            raise BotApiError(400, "Bad Request: query is too old and response timeout expired "
                                   "or query ID is invalid")
        self._callbacks[query_id] = True
        return True

    def _send_file(self, kind: str, params: Params, files: dict) -> dict:
        chat = self._known_chat(params["chat_id"])
        stored = self._uploaded(kind, params, files)
        caption, entities = _formatted(params.get("caption", ""), params, "caption_entities",
                                       MAX_CAPTION, "message caption is too long")
        if kind == "document":
            media: Any = Document(stored.file_id, stored.unique_id, file_name=stored.file_name,
                                  mime_type=stored.mime_type, file_size=len(stored.data))
        else:
            media = [PhotoSize(stored.file_id, stored.unique_id, *_image_size(stored.data),
                               file_size=len(stored.data))]
        message = self._bot_message(chat, params, caption=caption or None,
                                    caption_entities=entities, **{kind: media})
        self._sent_files.append(SentFile(chat.id, message.message_id, kind, stored.file_name,
                                         stored.data, stored.mime_type, caption or None))
        return plain(message)

    def _uploaded(self, kind: str, params: Params, files: dict) -> StoredFile:
        """The file of a send: a fresh upload, or a file_id sent before."""
        upload = files.get(kind)
        if upload is None:
            known = self._files.get(str(params[kind]))
            if known is None:
                raise BotApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            return known
        if not upload.data:
            raise BotApiError(400, "Bad Request: file must be non-empty")
        mime = mimetypes.guess_type(upload.file_name)[0] or upload.content_type
        return self._store_file(kind, upload.file_name, upload.data, mime)

    def _get_file(self, params: Params, files: dict) -> dict:
        stored = self._files.get(str(params["file_id"]))
        if stored is None:
            raise BotApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD:
            raise BotApiError(400, "Bad Request: file is too big")
        return plain(File(stored.file_id, stored.unique_id, file_size=stored.size,
                          file_path=stored.path))

    def _send_chat_action(self, params: Params, files: dict) -> bool:
        self._known_chat(params["chat_id"])
        return True

    def _set_my_commands(self, params: Params, files: dict) -> bool:
        commands = [BotCommand.de_json(c, None) for c in params["commands"]]
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.command):
                raise BotApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.description) <= 256:
                raise BotApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[_scope_key(params)] = [plain(c) for c in commands]
        return True

    def _get_my_commands(self, params: Params, files: dict) -> list[dict]:
        return self._commands.get(_scope_key(params), [])

    def _delete_my_commands(self, params: Params, files: dict) -> bool:
        self._commands.pop(_scope_key(params), None)
        return True

    def _set_webhook(self, params: Params, files: dict) -> bool:
        self.webhook = {"url": params["url"]} | params
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _delete_webhook(self, params: Params, files: dict) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: Params, files: dict) -> dict:
        url = (self.webhook or {}).get("url", "")
        return plain(WebhookInfo(url, False, pending_update_count=len(self._updates)))

    def _get_chat(self, params: Params, files: dict) -> dict:
        chat = self._known_chat(params["chat_id"])
        return plain(ChatFullInfo(
            chat.id, chat.type, accent_color_id=0, max_reaction_count=11,
            accepted_gift_types=AcceptedGiftTypes(False, False, False, False, False),
            title=chat.title, username=chat.username, first_name=chat.first_name,
            linked_chat_id=self._linked.get(chat.id),
        ))

    def _get_chat_member(self, params: Params, files: dict) -> dict:
        chat = self._known_chat(params["chat_id"])
        return plain(self._member(chat.id, int(params["user_id"])))

    def _get_chat_administrators(self, params: Params, files: dict) -> list[dict]:
        chat = self._known_chat(params["chat_id"])
        ids = [user for chat_id, user in sorted(self._admins) if chat_id == chat.id]
        if self._bot_status.get(chat.id) == "administrator":
            ids.append(self.bot_user.id)
        return [plain(self._member(chat.id, user_id)) for user_id in ids]


def _formatted(
    text: str, params: Params, entities_key: str, limit: int, too_long: str
) -> tuple[str, list[MessageEntity]]:
    """Text and entities as Telegram stores them, after the parse mode and length checks."""
    if str(params.get("parse_mode") or "").lower() == "html":
        try:
            text, raw = parse_html(text)
        except EntityParseError as error:
            raise BotApiError(400, f"Bad Request: can't parse entities: {error}") from None
    else:  # no parse mode, or MarkdownV2/Markdown, which are stored as sent
        raw = params.get(entities_key) or []
    if len(text) > limit:
        raise BotApiError(400, f"Bad Request: {too_long}")
    return text, [MessageEntity.de_json(e, None) for e in raw]


def _inline_markup(params: Params) -> InlineKeyboardMarkup | None:
    """The inline keyboard of a send; other keyboards do not show in the Message."""
    markup = params.get("reply_markup")
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            if len(button.get("callback_data", "").encode()) > MAX_CALLBACK_DATA:
                raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return InlineKeyboardMarkup.de_json(markup, None)


def _plain_markup(params: Params) -> dict | None:
    markup = _inline_markup(params)
    return plain(markup) if markup else None


def _scope_key(params: Params) -> str:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True) + "|" + params.get("language_code", "")


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG header; 1x1 for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 1, 1
