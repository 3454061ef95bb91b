"""Reading articles from stdin, files, raw text and URLs served by a real local HTTP server."""

from __future__ import annotations

import io
import ipaddress
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fakes.documents import make_pdf

from factcheck import netguard
from factcheck.errors import BadInputError, FetchError
from factcheck.intake import article_from_bytes, fetch_url, link_only, read_article
from factcheck.settings import Settings

ARTICLE_HTML = b"""<!doctype html><html><head><title>Quake toll rises to 120</title></head>
<body><nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/sport">Sport</a></nav>
<article><h1>Quake toll rises to 120</h1>
<p>The earthquake that struck the northern province on Monday killed 120 people, the interior
ministry said on Tuesday, raising its earlier figure of 85.</p>
<p>Rescue teams are still searching collapsed buildings in three districts, and officials warned
that the number of victims could rise further as roads reopen.</p>
</article><footer>Copyright 2024 Example News.</footer></body></html>"""


PDF = make_pdf(["The ministry counted 120 victims.", "Shelters hold 2,000 people."])


# The local server ----------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # the name http.server calls
        self.server.requests.append(self.path)
        self.server.hosts.append(self.headers.get("Host", ""))
        url = urlsplit(self.path)
        route = _ROUTES.get(url.path) or (_loop if url.path.startswith("/loop/") else None)
        # A broken pipe: the client gave up, as the timeout tests want.
        with suppress(BrokenPipeError, ConnectionResetError):
            route(self, parse_qs(url.query)) if route else self._send(404, b"no such page")

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "text/html",
        headers: dict[str, str] | None = None,
        sized: bool = True,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if sized:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], family: int) -> None:
        self.address_family = family
        super().__init__(address, _Handler)
        self.requests: list[str] = []
        self.hosts: list[str] = []
        self.release = threading.Event()  # set at teardown, so that slow handlers end


def _loop(h: _Handler, query: dict) -> None:
    number = int(h.path.rsplit("/", 1)[1])
    h._send(302, headers={"Location": f"/loop/{number + 1}"})


def _slow(h: _Handler, query: dict) -> None:
    h.server.release.wait(10)
    h._send(200, b"late", "text/plain")


def _drip(h: _Handler, query: dict) -> None:
    h._send(200, b"", "text/plain", sized=False)
    for _ in range(100):  # one byte every 0.1 s: no single read waits long, the whole does
        if h.server.release.wait(0.1):
            return
        h.wfile.write(b"x")
        h.wfile.flush()


_ROUTES: dict[str, Callable[[_Handler, dict], None]] = {
    "/article.html": lambda h, q: h._send(200, ARTICLE_HTML, "text/html; charset=utf-8"),
    "/report.pdf": lambda h, q: h._send(200, PDF, "application/pdf"),
    "/untyped": lambda h, q: h._send(200, PDF, "application/octet-stream"),
    "/utf16": lambda h, q: h._send(200, "\ufeffKöln: 120 died.".encode("utf-16-le"), "text/plain"),
    "/plain": lambda h, q: h._send(200, b"Plain words: 120 died.", "text/plain; charset=utf-8"),
    "/image": lambda h, q: h._send(200, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    "/empty": lambda h, q: h._send(200, b"<html><body></body></html>"),
    "/hop": lambda h, q: h._send(302, headers={"Location": "/article.html"}),
    "/redirect": lambda h, q: h._send(302, headers={"Location": q["to"][0]}),
    "/big": lambda h, q: h._send(200, b"x" * 5000, "text/plain"),
    "/big-unsized": lambda h, q: h._send(200, b"x" * 5000, "text/plain", sized=False),
    "/slow": _slow,
    "/drip": _drip,
}


@contextmanager
def _serve(host: str, family: int) -> Iterator[_Server]:
    server = _Server((host, 0), family)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def server() -> Iterator[_Server]:
    with _serve("127.0.0.1", socket.AF_INET) as running:
        yield running


def _settings(**overrides: object) -> Settings:
    values: dict = {"allow_private_urls": True, "fetch_timeout": 5.0} | overrides
    return Settings(**values)


# Address guard, end to end --------------------------------------------------------------------

LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "localhost",
    "2130706433",
    "0x7f000001",
    "127.1",
    "0x7f.1",
    "[::ffff:127.0.0.1]",
]


@pytest.mark.parametrize("host", [*LOOPBACK_SPELLINGS, "[::1]"])
def test_loopback_urls_are_refused_without_a_request(server: _Server, host: str) -> None:
    url = f"http://{host}:{server.server_port}/article.html"
    with pytest.raises(FetchError, match=r"refusing to fetch .* loopback address"):
        read_article(url, _settings(allow_private_urls=False))
    assert server.requests == []


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_loopback_urls_are_fetched_when_private_addresses_are_allowed(
    server: _Server, host: str
) -> None:
    url = f"http://{host}:{server.server_port}/article.html"
    article = read_article(url, _settings())
    assert article.title == "Quake toll rises to 120"
    assert "killed 120 people" in article.text and "Copyright" not in article.text
    assert (article.source, article.url) == (url, url)
    assert server.requests == ["/article.html"]


def test_a_question_around_a_link_checks_the_page(server: _Server) -> None:
    url = f"http://127.0.0.1:{server.server_port}/article.html"
    article = read_article(f"Is this true? {url}", _settings())
    assert article.title == "Quake toll rises to 120" and article.url == url


@pytest.mark.parametrize("text, link", [
    ("Is this true? https://example.org/a?b=1", "https://example.org/a?b=1"),
    ("(see https://en.wikipedia.org/wiki/Foo_(bar))", "https://en.wikipedia.org/wiki/Foo_(bar)"),
    ("See https://example.org/news.", "https://example.org/news"),
    ("https://example.org/news", None),  # a bare URL: read as it is, not here
    ("Two links https://a.org and https://b.org", None),
    ("The council said 35 homes were evacuated on Monday after the river burst its banks near "
     "the old mill, as https://example.org/flood reports.", None),
])
def test_only_a_link_with_a_few_words_is_taken_as_the_link(text, link) -> None:
    assert link_only(text) == link


@pytest.fixture
def ipv6_server() -> Iterator[_Server]:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    with _serve("::1", socket.AF_INET6) as running:
        yield running


def test_ipv6_loopback_is_fetched_when_allowed(ipv6_server: _Server) -> None:
    url = f"http://[::1]:{ipv6_server.server_port}/plain"
    assert read_article(url, _settings()).text == "Plain words: 120 died."


def test_fetch_connects_to_the_checked_address_not_a_new_lookup(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is resolved once, by the guard; httpx alone could not resolve it at all."""
    loopback = [ipaddress.ip_address("127.0.0.1")]
    monkeypatch.setattr(netguard, "_resolve", lambda host, url: loopback)
    article = read_article(f"http://news.invalid:{server.server_port}/plain", _settings())
    assert article.text == "Plain words: 120 died."
    assert server.hosts == [f"news.invalid:{server.server_port}"]


def _only_127_0_0_1_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the first hop reach the local server: the guard on later hops is what is tested."""
    real = netguard.address_problem
    local = ipaddress.ip_address("127.0.0.1")
    monkeypatch.setattr(netguard, "address_problem", lambda a: None if a == local else real(a))


@pytest.mark.parametrize(
    # Loopback targets only: if the guard failed, no traffic would leave this machine.
    "target",
    [
        "http://[::1]:{port}/article.html",
        "http://127.0.0.2:{port}/",
        "http://0x7f000002:{port}/",
        "http://[::ffff:127.0.0.2]:{port}/",
    ],
)
def test_redirect_to_a_private_address_is_refused(
    server: _Server, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    _only_127_0_0_1_is_public(monkeypatch)
    to = target.format(port=server.server_port)
    url = f"http://127.0.0.1:{server.server_port}/redirect?to={to}"
    with pytest.raises(FetchError, match="refusing to fetch"):
        read_article(url, _settings(allow_private_urls=False))
    assert server.requests == [f"/redirect?to={to}"]


def test_redirect_to_another_scheme_is_refused_even_when_private_is_allowed(
    server: _Server,
) -> None:
    url = f"http://127.0.0.1:{server.server_port}/redirect?to=file:///etc/passwd"
    with pytest.raises(FetchError, match="only http and https"):
        read_article(url, _settings())


def test_redirects_are_followed_and_the_final_url_kept(server: _Server) -> None:
    url = f"http://127.0.0.1:{server.server_port}/hop"
    article = read_article(url, _settings())
    assert "killed 120 people" in article.text
    assert (article.source, article.url) == (
        url,
        f"http://127.0.0.1:{server.server_port}/article.html",
    )
    assert server.requests == ["/hop", "/article.html"]


def test_more_than_five_redirects_are_refused(server: _Server) -> None:
    with pytest.raises(FetchError, match="redirects more than 5 times"):
        fetch_url(f"http://127.0.0.1:{server.server_port}/loop/0", _settings())
    assert server.requests == [f"/loop/{n}" for n in range(6)]


# Fetching ------------------------------------------------------------------------------------


def test_fetch_url_returns_body_type_and_final_url(server: _Server) -> None:
    body, content_type, final = fetch_url(
        f"http://localhost:{server.server_port}/report.pdf", _settings()
    )
    assert (body, content_type, final) == (
        PDF,
        "application/pdf",
        f"http://localhost:{server.server_port}/report.pdf",
    )


@pytest.mark.parametrize("path", ["/report.pdf", "/untyped"])
def test_pdf_url_gives_its_text(server: _Server, path: str) -> None:
    article = read_article(f"http://127.0.0.1:{server.server_port}{path}", _settings())
    assert article.text == "The ministry counted 120 victims.\nShelters hold 2,000 people."


def test_plain_text_url(server: _Server) -> None:
    assert read_article(f"http://127.0.0.1:{server.server_port}/plain", _settings()).text == (
        "Plain words: 120 died."
    )


def test_utf16_page_with_a_byte_order_mark_is_read(server: _Server) -> None:
    article = read_article(f"http://127.0.0.1:{server.server_port}/utf16", _settings())
    assert article.text == "Köln: 120 died."


@pytest.mark.parametrize(("path", "message"), [("/image", "looks binary"), ("/empty", "is empty")])
def test_unusable_pages_are_bad_input(server: _Server, path: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        read_article(f"http://127.0.0.1:{server.server_port}{path}", _settings())


@pytest.mark.parametrize("path", ["/big", "/big-unsized"])
def test_downloads_over_the_size_cap_are_refused(server: _Server, path: str) -> None:
    with pytest.raises(FetchError, match=r"larger than 1,000 bytes.*FETCH_MAX_BYTES"):
        fetch_url(f"http://127.0.0.1:{server.server_port}{path}", _settings(fetch_max_bytes=1000))


@pytest.mark.parametrize("path", ["/slow", "/drip"])
def test_slow_servers_time_out(server: _Server, path: str) -> None:
    with pytest.raises(FetchError, match=r"did not finish within 0.5 s.*FETCH_TIMEOUT"):
        fetch_url(f"http://127.0.0.1:{server.server_port}{path}", _settings(fetch_timeout=0.5))


def test_http_error_status_is_reported(server: _Server) -> None:
    with pytest.raises(FetchError, match=r"answered 404 Not Found\. Check the address"):
        read_article(f"http://127.0.0.1:{server.server_port}/nothing-here", _settings())


def test_unreachable_server_is_reported() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago has no server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(
        FetchError, match=r"could not reach .*: connection refused\. Check the address"
    ):
        read_article(f"http://127.0.0.1:{port}/", _settings())


# Files, stdin and raw text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "title", "text"),
    [
        ("a.txt", "The toll is 120.  \r\nIt was 85.\r\n", None, "The toll is 120.\nIt was 85."),
        ("a.md", "# Toll\n\nThe toll is 120.\n", "Toll", "# Toll\n\nThe toll is 120."),
        ("a.html", ARTICLE_HTML, "Quake toll rises to 120", None),
        ("a.pdf", PDF, None, "The ministry counted 120 victims.\nShelters hold 2,000 people."),
    ],
)
def test_article_files(
    tmp_path: Path, name: str, content: str | bytes, title: str | None, text: str | None
) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    article = read_article(str(path), _settings())
    assert (article.title, article.source, article.url) == (title, str(path), None)
    if text is None:
        assert "killed 120 people" in article.text
    else:
        assert article.text == text


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\x7fELF\x02\x01\x01\x00\x00\x00", "looks binary"), (b" \n\t\n", "is empty")],
)
def test_binary_and_empty_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "article.txt"
    path.write_bytes(content)
    with pytest.raises(BadInputError, match=message):
        read_article(str(path), _settings())


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_utf16_and_utf32_files_with_a_byte_order_mark_are_read(
    tmp_path: Path, encoding: str
) -> None:
    path = tmp_path / "article.txt"
    path.write_text("\ufeffThe toll in Köln is 120.\r\n", encoding=encoding)
    assert read_article(str(path), _settings()).text == "The toll in Köln is 120."
    upload = article_from_bytes(path.read_bytes(), "article.txt", _settings())
    assert upload.text == "The toll in Köln is 120."


def test_a_text_file_in_another_encoding_is_told_to_be_saved_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "article.txt"
    path.write_bytes("Café owners said five people were killed.".encode("latin-1"))
    with pytest.raises(BadInputError) as caught:
        read_article(str(path), _settings())
    said = str(caught.value)
    assert "not utf-8 text (byte 0xe9 at position 3): save it as UTF-8." in said
    assert "Give a .txt" not in said  # the format is right; only the encoding is not


def test_too_long_article_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("The toll is 120. " * 100)
    with pytest.raises(BadInputError, match="1,699 characters, more than the limit of 1,000"):
        read_article(str(path), _settings(max_article_chars=1000))


def test_file_too_large_to_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(b"a" * 5000)
    with pytest.raises(BadInputError, match="5,000 bytes, too large"):
        read_article(str(path), _settings(max_article_chars=100, fetch_max_bytes=1000))


@pytest.mark.parametrize(
    ("source", "message"), [("missing.txt", "no such file"), (".", "is a folder")]
)
def test_missing_file_and_folder_are_refused(source: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        read_article(source, _settings())


def test_stdin_text_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Cafe\u0301 owners said 120 died.\r\n"))
    article = read_article("-", _settings())
    assert (article.text, article.source) == ("Café owners said 120 died.", "-")


def test_stdin_bytes_are_decoded_and_html_recognised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ARTICLE_HTML)))
    article = read_article("-", _settings())
    assert article.title == "Quake toll rises to 120" and "killed 120 people" in article.text


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"\x00\x01\x02", "looks binary"), (b"", "is empty"), (b"a" * 5000, "too large")],
)
def test_bad_stdin_is_refused(monkeypatch: pytest.MonkeyPatch, data: bytes, message: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    with pytest.raises(BadInputError, match=message):
        read_article("-", _settings(max_article_chars=100, fetch_max_bytes=1000))


def test_raw_text_is_the_article() -> None:
    article = read_article("  The toll rose to 120 on Monday.\nIt was 85 before.  ", _settings())
    assert (article.text, article.source) == (
        "The toll rose to 120 on Monday.\nIt was 85 before.",
        "text",
    )


def test_without_local_files_a_path_or_dash_is_only_text(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("server secret")
    assert read_article(str(secret), _settings(), local_files=False).text == str(secret)
    assert read_article("-", _settings(), local_files=False).text == "-"


def test_urls_are_still_guarded_without_local_files() -> None:
    with pytest.raises(FetchError, match="refusing"):
        read_article("http://127.0.0.1:9/", _settings(allow_private_urls=False), local_files=False)
