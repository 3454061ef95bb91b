"""Files sent to the bot, downloaded from the Bot API as a stream: capped at FETCH_MAX_BYTES
whatever size the message states (it may state none, or a wrong one), within FETCH_TIMEOUT."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
from telegram import Bot
from telegram.error import BadRequest

from factcheck.errors import BadInputError
from factcheck.settings import Settings

TELEGRAM_DOWNLOAD_LIMIT = "20 MB"  # the most Telegram lets a bot download


@dataclass(frozen=True)
class Upload:
    """A document sent to the bot, not yet downloaded."""

    file_id: str
    name: str
    size: int | None


async def download_upload(bot: Bot, upload: Upload, settings: Settings) -> bytes:
    """The upload's bytes; BadInputError past the size limit (stated or streamed) or the
    deadline, before any of it is used."""
    limit = settings.fetch_max_bytes
    if upload.size and upload.size > limit:
        raise _too_large(upload, limit)
    try:
        file = await bot.get_file(upload.file_id)
    except BadRequest as exc:
        if "too big" not in exc.message.lower():
            raise
        raise BadInputError(f"{upload.name} is larger than Telegram lets bots download "
                            f"({TELEGRAM_DOWNLOAD_LIMIT}). Send the article alone, or as a link."
                            ) from exc
    if file.file_size and file.file_size > limit:
        raise _too_large(upload, limit)
    try:
        async with asyncio.timeout(settings.fetch_timeout):
            return await _stream(file.file_path or "", upload, limit, settings.fetch_timeout)
    except TimeoutError as exc:
        raise BadInputError(f"{upload.name} did not download within {settings.fetch_timeout:g} "
                            "s. Try again later.") from exc
    except httpx.HTTPError as exc:  # its text holds the file URL, and that the bot token
        raise BadInputError(f"could not download {upload.name} from Telegram "
                            f"({type(exc).__name__}). Try again later.") from exc


async def _stream(url: str, upload: Upload, limit: int, timeout: float) -> bytes:
    body = bytearray()
    async with httpx.AsyncClient(timeout=timeout) as client, client.stream("GET", url) as answer:
        answer.raise_for_status()
        async for chunk in answer.aiter_bytes():
            body += chunk
            if len(body) > limit:  # stop here: the rest is never read
                raise _too_large(upload, limit)
    return bytes(body)


def _too_large(upload: Upload, limit: int) -> BadInputError:
    size = f" is {upload.size:,} bytes," if upload.size and upload.size > limit else " has"
    return BadInputError(f"{upload.name}{size} more than the limit of {limit:,} bytes. "
                         "Send the article alone, or as a link.")
