"""No secret reaches a log line: passwords in URLs (`http://user:pw@host`), API keys, Telegram bot
tokens and the secrets the settings hold are masked in every record, its arguments and its
traceback alike. The CLI and the bot install it on the root logger's handlers at start-up.

httpx logs every request URL at INFO, userinfo included, and library messages quote URLs and
headers; masking the line as it is written catches them all, whoever logs them.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import urlsplit

from factcheck.settings import Settings

# (pattern, replacement) applied to every line after the known secrets.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # scheme://user:password@host -> scheme://***@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@]+@"), r"\1***@"),
    # OpenAI-style keys (sk-..., sk-proj-...)
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), "sk-***"),
    # Telegram bot tokens, also inside .../bot<token>/getMe
    (re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}"), "<bot token>"),
    # Authorization headers and secrets in query strings
    (re.compile(r"(?i)\b(bearer\s+|basic\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1***"),
    (re.compile(r"(?i)([?&](?:api[_-]?key|key|token|access_token|secret|password)=)[^&\s]+"),
     r"\1***"),
]


MIN_SECRET = 8


class MaskSecrets(logging.Filter):
    """A handler filter that rewrites each record with its secrets masked."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: dict[str, str] = {}
        self._ordered: tuple[tuple[str, str], ...] = ()  # longest first, sorted once per add
        self._lock = threading.Lock()

    def add(self, secret: str | None, label: str) -> None:
        """Mask this exact value as `label` too (a key that has no recognisable shape).

        Values shorter than MIN_SECRET are left alone: masking "test" or "ollama" (placeholder
        keys of local servers) would rewrite ordinary words and paths in every line."""
        if secret and len(secret) >= MIN_SECRET:
            with self._lock:
                self._secrets[secret] = label
                self._ordered = tuple(sorted(self._secrets.items(), key=lambda kv: -len(kv[0])))

    def mask(self, text: str) -> str:
        """`text` with every known secret and every secret-shaped string masked."""
        for secret, label in self._ordered:  # a tuple swapped whole: no lock needed to read
            text = text.replace(secret, label)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # Formatted here so that the traceback, which may quote URLs, is masked too.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


_mask = MaskSecrets()


def mask(text: str) -> str:
    """`text` as a log line would show it: for messages that quote errors (a bot's chat)."""
    return _mask.mask(text)


def forget_secrets() -> None:
    """Forget the exact values added so far (tests: one test's settings must not mask the next's)."""
    with _mask._lock:
        _mask._secrets.clear()
        _mask._ordered = ()


def add_secret(secret: str | None, label: str) -> None:
    """Mask this value too from now on (e.g. a webhook secret made at start-up)."""
    _mask.add(secret, label)


def install(settings: Settings) -> None:
    """Mask the settings' secrets, and every secret-shaped string, in all root handlers' lines
    (calling it again adds new handlers and secrets)."""
    for secret, label in ((settings.openai_api_key, "<OPENAI_API_KEY>"),
                          (settings.telegram_bot_token, "<bot token>"),
                          (settings.webhook_secret, "<webhook secret>")):
        _mask.add(secret.get_secret_value() if secret else None, label)
    if settings.openai_base_url:  # its password, wherever else it may be quoted
        _mask.add(urlsplit(settings.openai_base_url).password, "***")
    for handler in logging.getLogger().handlers:
        if _mask not in handler.filters:
            handler.addFilter(_mask)
