"""FETCH_TIMEOUT is a deadline for the whole download, and a caller can stop a fetch in progress:
against a real server on 127.0.0.1 that drips one header line at a time (the address guard lets
loopback through only because these settings allow private addresses)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from fakes.dripping_http import DrippingServer

from factcheck.errors import FetchError
from factcheck.intake import fetch_url, read_article
from factcheck.settings import Settings

DEADLINE = 1.5


@pytest.fixture
def dripping() -> Iterator[DrippingServer]:
    # A header line every 0.5 s for 30 s: every read is quicker than FETCH_TIMEOUT.
    with DrippingServer(interval=0.5, lines=60) as server:
        yield server


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


def test_a_fetch_in_progress_stops_when_its_caller_says_so(dripping) -> None:
    stop = threading.Event()

    def interrupt() -> None:
        if stop.is_set():
            raise Stopped

    threading.Timer(0.5, stop.set).start()
    began = time.monotonic()
    with pytest.raises(Stopped):
        fetch_url(dripping.url + "/news", _settings(fetch_timeout=60), interrupt=interrupt)
    assert dripping.requests == 1 and time.monotonic() - began < 10  # not the 60 s deadline


def test_a_fetch_that_finishes_in_time_is_unaffected() -> None:
    quick = DrippingServer(interval=0.01, lines=5)
    with quick:
        body, content_type, _ = fetch_url(quick.url + "/news", _settings(), interrupt=lambda: None)
    assert b"came at last" in body and content_type == "text/html"
