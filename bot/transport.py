"""Bot API requests that outlive a short outage: dropped connections, 5xx answers and 429s are
retried with backoff for a while (TELEGRAM_RETRY_SECONDS) before a send gives up."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from telegram.error import NetworkError, TelegramError
from telegram.request import HTTPXRequest, RequestData

logger = logging.getLogger(__name__)

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 8.0
_TRANSIENT_STATUSES = {500, 502, 503, 504}


class PatientRequest(HTTPXRequest):
    """HTTPXRequest that retries transient failures for up to `patience` seconds (0: never),
    logging one line per retry, and reads a non-JSON error page (a proxy's 502) quietly."""

    def __init__(self, patience: float, **options: Any) -> None:
        super().__init__(**options)
        self.patience = patience

    async def do_request(  # type: ignore[override]  # PTB names each timeout; they pass through
        self, url: str, method: str, request_data: RequestData | None = None, **timeouts: Any
    ) -> tuple[int, bytes]:
        """One request, tried again while the failure is transient and patience lasts."""
        deadline, backoff = time.monotonic() + self.patience, FIRST_BACKOFF
        while True:
            error: NetworkError | None = None
            failure: str | None
            try:
                code, payload = await super().do_request(url, method, request_data, **timeouts)
            except NetworkError as exc:  # refused, dropped or timed out
                error, code, payload = exc, 0, b""
                failure, wait = str(exc), backoff
            else:
                failure, wait = transient_failure(code, payload, backoff)
            if failure is None:
                return code, payload
            if time.monotonic() + wait > deadline:
                if error is not None:
                    raise error
                return code, payload
            # The URL holds the bot token: name only its last part (the method).
            logger.warning("Bot API %s failed (%s); retrying in %.1f s", url.rsplit("/", 1)[-1],
                           failure, wait)
            await asyncio.sleep(wait)
            backoff = min(2 * backoff, MAX_BACKOFF)

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """JSON of an answer; an HTML error page is an error, not a logged traceback."""
        try:
            return json.loads(payload.decode("utf-8", "replace"))
        except ValueError as exc:
            raise TelegramError("Invalid server response") from exc


def transient_failure(code: int, payload: bytes, backoff: float) -> tuple[str | None, float]:
    """What failed and how long to wait, for an answer worth retrying; (None, 0) otherwise."""
    if code == 429:
        try:
            wait = float(json.loads(payload)["parameters"]["retry_after"])
        except (ValueError, KeyError, TypeError):
            wait = backoff
        return f"429 Too Many Requests, retry after {wait:g} s", wait
    if code in _TRANSIENT_STATUSES:
        return f"HTTP {code}", backoff
    return None, 0.0
