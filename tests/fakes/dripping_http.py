"""An HTTP server on 127.0.0.1 that answers slowly but never stalls: after the status line it
sends one header line every `interval` seconds, `lines` of them, then a short page. No single
read waits as long as `interval`, so only a deadline on the whole download cuts it short.

    with DrippingServer(interval=0.5, lines=60) as server:   # 30 s for the whole answer
        fetch(server.url + "/news")
        server.wait_requested()          # a request arrived
        server.requests                  # how many arrived
"""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler

from .loopback import LoopbackServer

PAGE = b"<html><body><p>The page came at last.</p></body></html>"


class DrippingServer(LoopbackServer):
    """Serves every GET by dripping header lines; close() stops the drip."""

    def __init__(self, interval: float = 0.5, lines: int = 60) -> None:
        self.interval, self.lines = interval, lines
        self.requests = 0
        self._requested = threading.Event()
        self._listen(_handler_for(self))

    def wait_requested(self, timeout: float = 20.0) -> None:
        """Until the first request arrived."""
        if not self._requested.wait(timeout):
            raise AssertionError(f"no request reached {self.url} within {timeout}s")

    def _arrived(self) -> None:
        self.requests += 1
        self._requested.set()

    def _drip(self, handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for number in range(self.lines):
            if self._closing.wait(self.interval):
                return
            handler.wfile.write(f"X-Drip-{number}: still coming\r\n".encode())
            handler.wfile.flush()
        handler.wfile.write(b"Content-Type: text/html\r\nConnection: close\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (len(PAGE), PAGE))


def _handler_for(server: DrippingServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server calls
            server._arrived()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                server._drip(self)  # a broken pipe: the client gave up, as the deadline tests want
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass  # keep test output clean

    return Handler
