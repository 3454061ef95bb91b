"""The part every fake server shares: an HTTP server on 127.0.0.1 served from a daemon thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LoopbackServer:
    """Call `_listen(handler)` in __init__; then start() / close(), or use it as a context manager."""

    def _listen(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._closing = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # port 0: a free one
        # A short poll interval makes shutdown() (each test's teardown) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """Root URL, e.g. http://127.0.0.1:54321."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; requests still waiting are released first."""
        self._closing.set()
        self._release_waiters()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _release_waiters(self) -> None:
        """Wake requests that wait on something (long polls); nothing by default."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
