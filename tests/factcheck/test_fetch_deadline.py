"""FETCH_TIMEOUT is a deadline for the whole download, and a caller can stop a fetch in progress:
against a real server on 127.0.0.1 that drips one header line at a time (the address guard lets
loopback through only because these settings allow private addresses), and a resolver made slow
in-process (names under .test never leave the process)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from fakes.dripping_http import DrippingServer

from factcheck import netguard
from factcheck.errors import FetchError
from factcheck.intake import fetch_url, read_article
from factcheck.settings import Settings

DEADLINE = 1.5


@pytest.fixture
def dripping() -> Iterator[DrippingServer]:
    # A header line every 0.5 s for 30 s: every read is quicker than FETCH_TIMEOUT.
    with DrippingServer(interval=0.5, lines=60) as server:
        yield server


@pytest.fixture
def slow_lookup(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The guard's resolver: slow.test takes 30 s to resolve, quick.test none; both resolve to
    127.0.0.1, and every other name as before."""
    real, release = netguard.socket.getaddrinfo, threading.Event()

    def getaddrinfo(host: str, port: object, *args: object, **kwargs: object) -> list:
        if host in ("slow.test", "quick.test"):
            if host == "slow.test":
                release.wait(30)
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(netguard.socket, "getaddrinfo", getaddrinfo)
    yield
    release.set()  # the lookups still waiting end


def _settings(**overrides: object) -> Settings:
    return Settings(**({"allow_private_urls": True, "fetch_timeout": DEADLINE} | overrides))


def test_a_server_dripping_header_lines_is_cut_at_the_deadline(dripping) -> None:
    began = time.monotonic()
    with pytest.raises(FetchError, match=r"did not finish within 1.5 s.*FETCH_TIMEOUT"):
        read_article(dripping.url + "/news", _settings())
    # Cut near the deadline, long before the 30 s the server takes (a loose bound, not a timing).
    assert time.monotonic() - began < DEADLINE + 5


class Stopped(Exception):
    """What the caller's interrupt raises."""


def _stopped_after_half_a_second(url: str) -> float:
    """Fetch `url` with a 60 s deadline and an interrupt that stops it after 0.5 s: the
    seconds the fetch took to stop."""
    stop = threading.Event()

    def interrupt() -> None:
        if stop.is_set():
            raise Stopped

    threading.Timer(0.5, stop.set).start()
    began = time.monotonic()
    with pytest.raises(Stopped):
        fetch_url(url, _settings(fetch_timeout=60), interrupt=interrupt)
    return time.monotonic() - began


def test_a_fetch_in_progress_stops_when_its_caller_says_so(dripping) -> None:
    took = _stopped_after_half_a_second(dripping.url + "/news")
    assert dripping.requests == 1 and took < 10  # not the 60 s deadline


def test_a_fetch_that_finishes_in_time_is_unaffected() -> None:
    quick = DrippingServer(interval=0.01, lines=5)
    with quick:
        body, content_type, _ = fetch_url(quick.url + "/news", _settings(), interrupt=lambda: None)
    assert b"came at last" in body and content_type == "text/html"


def test_a_slow_name_lookup_is_cut_at_the_deadline(slow_lookup) -> None:
    began = time.monotonic()
    with pytest.raises(FetchError, match=r"did not finish within 1.5 s.*FETCH_TIMEOUT"):
        read_article("http://slow.test/news", _settings())
    assert time.monotonic() - began < DEADLINE + 5  # not the 30 s the lookup takes


def test_a_fetch_waiting_for_its_name_stops_when_its_caller_says_so(slow_lookup) -> None:
    # Not the 30 s the lookup takes, nor the 60 s deadline.
    assert _stopped_after_half_a_second("http://slow.test/news") < 10


def test_a_name_that_resolves_in_time_is_fetched_from_its_address(slow_lookup) -> None:
    quick = DrippingServer(interval=0.01, lines=5)
    with quick:
        port = quick.url.rsplit(":", 1)[1]
        body, _, final = fetch_url(f"http://quick.test:{port}/news", _settings())
    assert b"came at last" in body and final == f"http://quick.test:{port}/news"
