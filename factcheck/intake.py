"""Reading the article to check: standard input, a file, a URL, or the text itself.

URLs are fetched with the address guard of `factcheck.netguard` on every hop, a size cap and a
deadline for the whole download; a caller can stop a fetch in progress (the bot's /cancel).
Whatever the source, the text is normalised once here, before any claim's span indexes it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import logging
import os
import re
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from factcheck import netguard
from factcheck.errors import BadInputError, FetchError
from factcheck.models import Article
from factcheck.retrieval.loaders import (
    CORPUS_SUFFIX,
    SUPPORTED_SUFFIXES,
    UnreadableFileError,
    WrongEncodingError,
    extract_text,
    normalize_text,
)
from factcheck.sentences import title_line
from factcheck.settings import Settings

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
_REDIRECT_CODES = {301, 302, 303, 307, 308}
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")
_HEADERS = {
    "User-Agent": "factcheck-bot/0.1 (article fetch)",
    "Accept": "text/html,application/xhtml+xml,application/pdf,text/plain;q=0.9,*/*;q=0.5",
}
_FORMATS = "Give a .txt, .md, .html or .pdf file"
INTERRUPT_POLL = 0.1  # seconds between asking a fetch's caller whether to stop
# The file types an article can come in (a corpus .jsonl holds sources, not an article).
ARTICLE_SUFFIXES = sorted(SUPPORTED_SUFFIXES - {CORPUS_SUFFIX})


def read_article(source: str, settings: Settings, local_files: bool = True,
                 interrupt: Callable[[], None] | None = None) -> Article:
    """The Article behind `source`: '-' (stdin), a file path, an http(s) URL, or the text itself.

    With `local_files=False` (the bot: its users must not read the server's files) anything
    that is not a URL is taken as the article's text. `interrupt` is fetch_url's.
    """
    # A bare URL is fetched exactly as given; a link with words around it, the link alone.
    if not _is_url(source) and (link := link_only(source)) is not None:
        source = link
    if _is_url(source):
        url = source.strip()
        title, text, final_url = fetch_text(url, settings, interrupt)
        return _article(text, title, url, final_url, settings)
    if local_files and source == "-":
        title, text = read_text(_read_stdin(settings), "", "standard input")
        return _article(text, title, "-", None, settings)
    if local_files and (path := _existing_file(source)):
        title, text = _read_file(path, settings)
        return _article(text, title, source, None, settings)
    if local_files and _looks_like_path(source):
        raise _no_such_file(source)
    return _article(source, None, "text", None, settings)


def article_from_bytes(data: bytes, name: str, settings: Settings) -> Article:
    """The Article in an uploaded .txt, .md, .html or .pdf file called `name`."""
    title, text = read_text(data, name, name)
    return _article(text, title, name, None, settings)


def read_text(data: bytes, hint: str, label: str) -> tuple[str | None, str]:
    """The (title, text) of a file's or a page's bytes (`hint`: a file name or a Content-Type);
    bytes that are no text, HTML or PDF are bad input, named by `label`."""
    try:
        return extract_text(data, hint)
    except WrongEncodingError as exc:  # the format is right; the message says what to do
        raise BadInputError(f"cannot read {label}: {exc}.") from exc
    except UnreadableFileError as exc:
        raise BadInputError(f"cannot read {label}: {exc}. {_FORMATS}.") from exc


def fetch_text(url: str, settings: Settings, interrupt: Callable[[], None] | None = None
               ) -> tuple[str | None, str, str]:
    """Fetch `url` (fetch_url) and read its text: (title, text, the URL it ended at). With no
    Content-Type, the type is the final URL's path's suffix, else the bytes'."""
    data, content_type, final_url = fetch_url(url, settings, interrupt)
    title, text = read_text(data, content_type or httpx.URL(final_url).path, final_url)
    return title, text, final_url


def fetch_url(
    url: str, settings: Settings, interrupt: Callable[[], None] | None = None
) -> tuple[bytes, str, str]:
    """Download `url`, guarded on every hop and capped: (body, content type, final URL).

    FETCH_TIMEOUT is a deadline for the whole download, every hop's name lookup, connection,
    headers and body together: a server may drip bytes or header lines, each read well within
    any read timeout, and a resolver may take its time.
    `interrupt` is called every INTERRUPT_POLL seconds while the download runs; what it raises
    stops the download and is raised. Call from a thread without a running event loop.
    """
    try:
        return asyncio.run(_fetch_by_deadline(url, settings, interrupt))
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise _timed_out(url, settings) from exc
    except httpx.ConnectError as exc:
        raise FetchError(
            f"could not reach {url}: {_reason(exc)}. Check the address or try again later."
        ) from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"could not fetch {url}: {_reason(exc)}. Try again later.") from exc


async def _fetch_by_deadline(
    url: str, settings: Settings, interrupt: Callable[[], None] | None
) -> tuple[bytes, str, str]:
    fetch = asyncio.ensure_future(_fetch(url, settings))
    try:
        async with asyncio.timeout(settings.fetch_timeout):
            while not (await asyncio.wait({fetch}, timeout=INTERRUPT_POLL))[0]:
                if interrupt is not None:
                    interrupt()
        return fetch.result()
    finally:
        fetch.cancel()  # past the deadline, or interrupted: it closes its connection
        await asyncio.gather(fetch, return_exceptions=True)


async def _fetch(url: str, settings: Settings) -> tuple[bytes, str, str]:
    current = url
    client = httpx.AsyncClient(
        timeout=settings.fetch_timeout,
        headers=_HEADERS,
        trust_env=False,  # a proxy from the environment would fetch any address, past the guard
        # Connections are keyed by address: no reuse, so each hop's TLS is checked for its name.
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    async with client:
        for _ in range(MAX_REDIRECTS + 1):
            async with _open(client, current, settings.allow_private_urls) as response:
                if response.status_code in _REDIRECT_CODES:
                    current = _redirect_target(current, response)
                    continue
                if not 200 <= response.status_code < 300:
                    raise FetchError(
                        f"{current} answered {response.status_code} {response.reason_phrase}. "
                        "Check the address or try again later."
                    )
                body = await _read_capped(response, current, settings)
                return body, response.headers.get("content-type", ""), current
    raise FetchError(
        f"{url} redirects more than {MAX_REDIRECTS} times. "
        "Open it in a browser and give the address it ends at."
    )


@asynccontextmanager
async def _open(
    client: httpx.AsyncClient, url: str, allow_private: bool
) -> AsyncIterator[httpx.Response]:
    parsed = netguard.parse_url(url)
    addresses = await _resolved(parsed, allow_private)
    response = await _send_pinned(client, parsed, addresses)
    try:
        yield response
    finally:
        await response.aclose()


async def _resolved(url: httpx.URL, allow_private: bool) -> list[netguard.IPAddress]:
    """netguard.resolve_url in a daemon thread of its own, so that the deadline and an interrupt
    stop the wait for it. getaddrinfo cannot be cancelled, a lookup in asyncio's default
    executor would hold asyncio.run's end (it joins that executor) until the lookup returns,
    and an executor's threads hold the interpreter's exit."""
    answer: concurrent.futures.Future[list[netguard.IPAddress]] = concurrent.futures.Future()
    answer.set_running_or_notify_cancel()  # running: giving up on the wait leaves it be

    def look_up() -> None:
        try:
            answer.set_result(netguard.resolve_url(url, allow_private))
        except Exception as exc:  # FetchError, and whatever else the resolver raised
            answer.set_exception(exc)

    threading.Thread(target=look_up, name="fetch-lookup", daemon=True).start()
    return await asyncio.wrap_future(answer)


async def _send_pinned(
    client: httpx.AsyncClient, url: httpx.URL, addresses: list[netguard.IPAddress]
) -> httpx.Response:
    """Connect to the addresses the guard checked, so that the name cannot resolve anew."""
    for address in addresses[:-1]:
        try:
            return await client.send(_pinned_request(client, url, address), stream=True)
        except httpx.ConnectError:
            logger.debug("could not connect to %s at %s, trying its next address", url, address)
    return await client.send(_pinned_request(client, url, addresses[-1]), stream=True)


def _pinned_request(
    client: httpx.AsyncClient, url: httpx.URL, address: netguard.IPAddress
) -> httpx.Request:
    # ::ffff:a.b.c.d is the IPv4 address a.b.c.d; connecting over IPv4 needs no IPv6 stack.
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return client.build_request(
        "GET",
        url.copy_with(host=str(mapped or address)),
        headers={"Host": url.netloc.decode("ascii")},
        # TLS still sends and checks the name, not the address.
        extensions={"sni_hostname": url.raw_host.decode("ascii")},
    )


def _redirect_target(current: str, response: httpx.Response) -> str:
    location = response.headers.get("location")
    if not location:
        raise FetchError(f"{current} answered {response.status_code} without saying where to go.")
    target = str(httpx.URL(current).join(location))
    logger.info("%s redirects to %s", current, target)
    return target


async def _read_capped(response: httpx.Response, url: str, settings: Settings) -> bytes:
    limit = settings.fetch_max_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(url, limit)
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise _too_large(url, limit)
    return bytes(body)


def _too_large(url: str, limit: int) -> FetchError:
    return FetchError(
        f"{url} is larger than {limit:,} bytes. Save the article's text to a file, "
        "or raise FETCH_MAX_BYTES."
    )


def _timed_out(url: str, settings: Settings) -> FetchError:
    return FetchError(
        f"{url} did not finish within {settings.fetch_timeout:g} s. "
        "Try again later, or raise FETCH_TIMEOUT."
    )


def _reason(exc: Exception) -> str:
    # "[Errno 111] Connection refused" -> "connection refused"
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc)).strip()
    errno = _connection_errno(exc)
    if errno is not None:  # under anyio's "All connection attempts failed"
        text = os.strerror(errno)
    return (text[:1].lower() + text[1:]) if text else exc.__class__.__name__


def _connection_errno(exc: BaseException) -> int | None:
    """The errno of the refused, reset or aborted connection at the root of `exc`, if that is
    its cause."""
    root = exc
    while (parent := root.__cause__ or root.__context__) is not None:
        root = parent
    return root.errno if isinstance(root, ConnectionError) and root.errno else None


def _read_file(path: Path, settings: Settings) -> tuple[str | None, str]:
    size, limit = path.stat().st_size, _byte_limit(settings)
    if size > limit:
        raise BadInputError(
            f"{path} is {size:,} bytes, too large for an article (at most {limit:,}). "
            "Give the article alone."
        )
    return read_text(path.read_bytes(), path.name, str(path))


def _read_stdin(settings: Settings) -> bytes:
    """The bytes of standard input, refused past the byte limit rather than cut."""
    limit = _byte_limit(settings)
    binary = getattr(sys.stdin, "buffer", None)
    # A text stream put in place of stdin (tests, embedding programs) has no .buffer.
    data = binary.read(limit + 1) if binary else sys.stdin.read(limit + 1).encode("utf-8")
    if len(data) > limit:
        raise BadInputError(
            f"standard input has more than {limit:,} bytes, too large for an article. "
            "Give the article alone."
        )
    return data


def _byte_limit(settings: Settings) -> int:
    # No article needs more bytes than a download may have, or than its text can take in UTF-8.
    return max(settings.fetch_max_bytes, settings.max_article_chars * 4)


def _no_such_file(source: str) -> BadInputError:
    if Path(source).expanduser().is_dir():
        return BadInputError(
            f"{source} is a folder. Give one article file (to add trusted sources, use "
            "`factcheck ingest`)."
        )
    return BadInputError(
        f"no such file: {source}. Give a file path, an http(s) URL, '-' for standard input, "
        "or the article's text (a text of one word is read as a file name)."
    )


def _article(
    text: str, title: str | None, source: str, url: str | None, settings: Settings
) -> Article:
    text = normalize_text(text)
    where = {"-": "standard input", "text": "the text given"}.get(source, source)
    if not text:
        raise BadInputError(f"the article from {where} is empty. Give an article with some text.")
    if len(text) > settings.max_article_chars:
        raise BadInputError(
            f"the article from {where} has {len(text):,} characters, more than the limit of "
            f"{settings.max_article_chars:,}. Check a shorter part, or raise MAX_ARTICLE_CHARS."
        )
    if not title and (line := title_line(text)):  # a plain-text article's headline
        title = text[line[0] : line[1]]
    title = " ".join(title.split()) if title else None
    return Article(text=text, title=title or None, source=source, url=url)


_LINK = re.compile(r"https?://[^\s<>\"“”]+", re.IGNORECASE)
_MOST_WORDS_AROUND_LINK = 15


def link_only(text: str) -> str | None:
    """The URL of a message that is only a link with a few words around it ("Is this true?
    https://…"): the article is the page, not the question. None for anything else."""
    links = _LINK.findall(text)
    if len(links) != 1 or "\n\n" in text.strip() or _is_url(text):
        return None  # a bare URL is read as it is, whatever it ends with
    url = links[0].rstrip(".,;:!?’'")
    for opening, closing in ("()", "[]"):  # "(see https://x.org/a)", but ".../Foo_(bar)"
        while url.endswith(closing) and url.count(closing) > url.count(opening):
            url = url[:-1]
    around = text.replace(links[0], " ").split()
    return url if len(around) <= _MOST_WORDS_AROUND_LINK else None


def _is_url(source: str) -> bool:
    stripped = source.strip()
    return bool(_SCHEME.match(stripped)) and not any(c.isspace() for c in stripped)


def _existing_file(source: str) -> Path | None:
    if "\n" in source or len(source) > 4096:
        return None
    try:
        path = Path(source).expanduser()
        return path if path.is_file() else None
    except (OSError, ValueError):  # a name too long, or with a NUL byte, is no file
        return None


def _looks_like_path(source: str) -> bool:
    """One token, or one line naming a file (/x, ./x, ~/x, x.txt): a mistyped path, not text."""
    stripped = source.strip()
    if not stripped or "\n" in stripped:
        return False
    if not any(c.isspace() for c in stripped):
        return True
    return stripped.startswith(("/", "./", "../", "~")) or (
        Path(stripped).suffix.lower() in SUPPORTED_SUFFIXES
    )
