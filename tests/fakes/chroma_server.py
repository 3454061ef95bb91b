"""A real Chroma server (`chroma run`) on 127.0.0.1 for the tests of server mode.

    def test_x(chroma_server):          # ChromaServer(host, port, path)
        SourceStore.open(tmp, "c", emb, chroma_host=chroma_server.host, chroma_port=chroma_server.port)

Started once per test session on a free port with its data in a temp folder; the fixture waits
until the heartbeat answers and stops the server at the end. Tests that use it are skipped, with
the reason, only when the `chroma` executable is not installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT = 60.0  # seconds; the first start compiles nothing but a busy CI can be slow


@dataclass(frozen=True)
class ChromaServer:
    """Where the test server listens."""

    host: str
    port: int
    path: Path


def chroma_executable() -> str | None:
    """The `chroma` command of this virtualenv, else the one on PATH."""
    beside_python = Path(sys.executable).parent / "chroma"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("chroma")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _heartbeat(host: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/api/v2/heartbeat", timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def _wait_ready(process: subprocess.Popen[bytes], host: str, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited with {process.returncode}: {log.read_text()}")
        if _heartbeat(host, port):
            return
        time.sleep(0.1)
    raise RuntimeError(f"chroma run did not answer within {START_TIMEOUT}s: {log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class StoppableChromaServer:
    """A `chroma run` of one test, which the test may stop and start again (same port, same
    data): for outages. Use as a context manager; `.server` says where it listens."""

    def __init__(self, path: Path, executable: str) -> None:
        self.server = ChromaServer("127.0.0.1", free_port(), path / "data")
        self._path, self._executable = path, executable
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self._path / "server.log"
        with log.open("ab") as out:
            self._process = subprocess.Popen(
                [self._executable, "run", "--path", str(self.server.path), "--host",
                 self.server.host, "--port", str(self.server.port)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            )
        _wait_ready(self._process, self.server.host, self.server.port, log)

    def stop(self) -> None:
        if self._process is not None:
            _stop(self._process)
            self._process = None

    def __enter__(self) -> StoppableChromaServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def stoppable_chroma(tmp_path: Path) -> Iterator[StoppableChromaServer]:
    """A `chroma run` for this test alone, started; the test may stop and restart it."""
    executable = chroma_executable()
    if executable is None:
        pytest.skip("the `chroma` executable is not installed (pip install chromadb)")
    (tmp_path / "chroma-server").mkdir()
    with StoppableChromaServer(tmp_path / "chroma-server", executable) as server:
        yield server


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A `chroma run` server on a free 127.0.0.1 port for the whole session."""
    executable = chroma_executable()
    if executable is None:
        pytest.skip("the `chroma` executable is not installed (pip install chromadb)")
    with StoppableChromaServer(tmp_path_factory.mktemp("chroma-server"), executable) as server:
        yield server.server
