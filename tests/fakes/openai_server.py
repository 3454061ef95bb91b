"""A scripted OpenAI-compatible HTTP server on 127.0.0.1, so tests run the real client over HTTP.

Queue what the next requests get, run the code under test, then look at what was sent:

    server.answer({"claims": []})              # 200, the assistant's content is this JSON
    server.answer("not json")                  # a malformed answer
    server.answer("{}", delay=3.0)             # answers late (for timeouts)
    server.error(429, headers={"Retry-After": "0"})
    assert server.chat_requests[0]["model"] == "gpt-4o-mini"

Faults a real server shows:

    server.answer("{}", finish_reason="length")  # cut off at max_tokens
    server.raw(b"<html>Bad gateway</html>")      # a 200 whose body is not JSON
    server.completion(choices=[])                # a completion without choices
    server.huge(25_000_000)                      # a 25 MB answer, streamed; see `bytes_sent`
    server.compressed(GOOD, inflates_to=10**8)   # 100 kB of gzip that inflates to 100 MB
    server.refuse_formats("json_object")         # 400 to these response_format types, as
                                                 # LM Studio answers json_object
    server.responder = ObedientInjectedModel()   # answers what nothing is queued for
    server.responder = LabelledClaimsModel(rows) # answers the claims prompt from a claim set
                                                 # (both in fakes.openai_models)

Chat completions with nothing queued get a 400 (never retried by the client), so a test that
makes more calls than it scripted fails loudly. Embeddings with nothing queued get deterministic
bag-of-words vectors: texts that share words are close.

The fixture `openai_server` yields `(server, settings)`; tests/conftest.py makes it available with
    from fakes.openai_server import openai_server_fixture  # noqa: F401
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import numpy as np
import pytest

from factcheck.settings import Settings

from .loopback import LoopbackServer

EMBEDDING_DIMS = 32
CHAT_PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"


@dataclass
class Scripted:
    """One queued reply: a status, a body or assistant content, extra headers, a delay."""

    status: int = 200
    content: str | None = None
    message: str = ""
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"
    body: bytes | None = None  # sent as it is, instead of a completion
    overrides: dict[str, Any] = field(default_factory=dict)  # top-level keys of the completion
    huge: int = 0  # bytes of a streamed answer made up on the fly
    sized: bool = True  # whether the huge answer states its Content-Length (else it is chunked)
    encoding: str = ""  # Content-Encoding of a compressed answer
    padding: int = 0  # spaces inside its JSON, so that it inflates to many times its size


@dataclass
class Recorded:
    """One request the server received."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]


class FakeOpenAI(LoopbackServer):
    """The server: start it (or use it as a context manager), queue replies, read `requests`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.bytes_sent = 0  # of the last huge() answer, until the client hung up
        self.refused_formats: set[str] = set()
        # Answers a chat request nothing is queued for: request body -> the assistant's content.
        self.responder: Callable[[dict[str, Any]], str] | None = None
        self._queues: dict[str, deque[Scripted]] = {CHAT_PATH: deque(), EMBEDDINGS_PATH: deque()}
        self._lock = threading.Lock()
        self._listen(_handler_for(self))  # self.url is the root, without the /v1 suffix

    def answer(
        self, content: str | dict | list, *, delay: float = 0.0, finish_reason: str = "stop"
    ) -> None:
        """Queue a chat answer; dicts and lists are JSON-encoded, strings sent as they are."""
        text = content if isinstance(content, str) else json.dumps(content)
        self._queues[CHAT_PATH].append(
            Scripted(content=text, delay=delay, finish_reason=finish_reason)
        )

    def raw(self, body: bytes, *, content_type: str = "application/json") -> None:
        """Queue a 200 whose body is `body` as it is (a proxy's page, a broken body)."""
        self._queues[CHAT_PATH].append(
            Scripted(body=body, headers={"Content-Type": content_type})
        )

    def compressed(
        self, content: str | dict, *, encoding: str = "gzip", inflates_to: int = 0
    ) -> None:
        """Queue an answer sent compressed, "gzip" or "deflate" (zlib); any other encoding is
        named in Content-Encoding but the body is gzip. With `inflates_to`, spaces inside the
        JSON make the body decompress to about that many bytes (a 1,000:1 bomb)."""
        text = content if isinstance(content, str) else json.dumps(content)
        self._queues[CHAT_PATH].append(
            Scripted(content=text, encoding=encoding, padding=inflates_to))

    def completion(self, **overrides: Any) -> None:
        """Queue a completion with some top-level keys replaced, e.g. `choices=[]`."""
        self._queues[CHAT_PATH].append(Scripted(content="", overrides=overrides))

    def refuse_formats(self, *kinds: str) -> None:
        """Answer HTTP 400 to chat requests whose response_format type is one of `kinds`
        (without taking a queued reply)."""
        self.refused_formats.update(kinds)

    def huge(self, size: int, *, sized: bool = True) -> None:
        """Queue an answer of `size` bytes (a list of made-up claims), streamed in 64 KiB writes,
        with its Content-Length or, `sized=False`, chunked without one."""
        self._queues[CHAT_PATH].append(Scripted(huge=size, sized=sized))

    def error(
        self,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        message: str = "scripted error",
        endpoint: str = "chat",
        delay: float = 0.0,
    ) -> None:
        """Queue an HTTP error for the chat (default) or the "embeddings" endpoint."""
        path = CHAT_PATH if endpoint == "chat" else EMBEDDINGS_PATH
        self._queues[path].append(
            Scripted(status=status, message=message, headers=headers or {}, delay=delay)
        )

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """Bodies of the chat completion requests received, in order."""
        return [r.body for r in self.requests if r.path == CHAT_PATH]

    @property
    def embedding_requests(self) -> list[dict[str, Any]]:
        """Bodies of the embedding requests received, in order."""
        return [r.body for r in self.requests if r.path == EMBEDDINGS_PATH]

    def settings(self, **overrides: Any) -> Settings:
        """Settings of the LLM engine pointing at this server (no .env file read)."""
        values: dict[str, Any] = {
            "engine": "llm",
            "openai_base_url": self.url + "/v1",
            "openai_api_key": "test",
            "llm_timeout": 5.0,
            "llm_max_retries": 2,
        }
        return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]

    def _next(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Scripted | None:
        with self._lock:
            self.requests.append(Recorded(path, body, headers))
            kind = (body.get("response_format") or {}).get("type")
            if path == CHAT_PATH and kind in self.refused_formats:
                # LM Studio's words for json_object.
                return Scripted(status=400, message=f"'response_format.type' must not be "
                                f"'{kind}'; use 'json_schema' or 'text'")
            queue = self._queues.get(path)
            return queue.popleft() if queue else None


def _handler_for(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"fake": server})


class _Handler(BaseHTTPRequestHandler):
    """Answers the chat and embeddings endpoints from `fake`'s queues and responder."""

    protocol_version = "HTTP/1.1"
    fake: FakeOpenAI

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path not in (CHAT_PATH, EMBEDDINGS_PATH):
            self._send(404, _error_body(f"no route {self.path}"))
            return
        scripted = self.fake._next(self.path, body, dict(self.headers))
        if scripted and scripted.delay and self.fake._closing.wait(scripted.delay):
            return  # the server is closing: drop the late reply
        self._reply(scripted, body)

    def _reply(self, scripted: Scripted | None, body: dict[str, Any]) -> None:
        if scripted and scripted.body is not None:
            self._send(scripted.status, scripted.body, scripted.headers)
        elif scripted and scripted.huge:
            self._stream_huge(scripted.huge, scripted.sized)
        elif scripted and scripted.status != 200:
            self._send(scripted.status, _error_body(scripted.message), scripted.headers)
        elif self.path == EMBEDDINGS_PATH:
            self._send(200, _embeddings_body(body))
        elif scripted is None and self.fake.responder is not None:
            self._send(200, _chat_body(body, self.fake.responder(body)))
        elif scripted is None:
            self._send(400, _error_body("fake server: no scripted chat answer left"))
        else:
            completion = _chat_body(body, scripted.content or "", scripted.finish_reason)
            completion |= scripted.overrides
            if scripted.encoding:
                self._send(200, _compressed(json.dumps(completion).encode(), scripted),
                           {"Content-Encoding": scripted.encoding})
            else:
                self._send(200, completion)

    def _stream_huge(self, size: int, sized: bool) -> None:
        self.fake.bytes_sent = 0
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if sized:
                self.send_header("Content-Length", str(size))
            else:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in _huge_body(size):
                self.wfile.write(chunk if sized else b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.fake.bytes_sent += len(chunk)
            if not sized:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading, as it should

    def _send(
        self, status: int, payload: dict | bytes, headers: dict[str, str] | None = None
    ) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} | (headers or {})
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to tell it

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


def _error_body(message: str) -> dict:
    return {"error": {"message": message, "type": "fake_error", "param": None, "code": None}}


def _count_tokens(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text))


def _huge_body(size: int, chunk: int = 65536) -> Iterator[bytes]:
    """`size` bytes of a completion whose content lists claims without end (padded to size)."""
    claim = json.dumps({"claim": "A claim that is not in the article.",
                        "source_sentence": "Nothing like it is there.", "checkworthiness": 0.9})
    head = b'{"id": "chatcmpl-huge", "object": "chat.completion", "created": 0, "model": "fake", '
    head += b'"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", '
    head += b'"content": "{\\"claims\\": ['
    item = json.dumps(claim)[1:-1].encode() + b", "
    sent = 0
    block = head + item * (chunk // len(item))
    while sent < size:
        piece = block[: size - sent]
        yield piece
        sent += len(piece)
        block = item * (chunk // len(item))


def _compressed(data: bytes, scripted: Scripted) -> bytes:
    """`data` compressed, with `scripted.padding` spaces after its first byte, made a MiB at a
    time (the server holds the compressed bytes only)."""
    packer = zlib.compressobj(wbits=zlib.MAX_WBITS if scripted.encoding == "deflate" else 31)
    spaces, left = b" " * 2**20, scripted.padding
    parts = [packer.compress(data[:1])]
    while left > 0:
        parts.append(packer.compress(spaces[:left]))
        left -= len(spaces)
    return b"".join([*parts, packer.compress(data[1:]), packer.flush()])


def _chat_body(request: dict, content: str, finish_reason: str = "stop") -> dict:
    prompt_tokens = sum(_count_tokens(str(m.get("content", ""))) for m in request["messages"])
    completion_tokens = _count_tokens(content)
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def bag_of_words(text: str) -> np.ndarray:
    """The fake embedding: hashed word counts, deliberately not unit length."""
    vector = np.zeros(EMBEDDING_DIMS, dtype=np.float32)
    for word in re.findall(r"\w+", text.lower()):
        vector[hashlib.sha1(word.encode()).digest()[0] % EMBEDDING_DIMS] += 1.0
    return vector


def _embeddings_body(request: dict) -> dict:
    texts = request["input"]
    texts = [texts] if isinstance(texts, str) else texts
    data = []
    for index, text in enumerate(texts):
        vector = bag_of_words(text)
        # The openai client asks for base64 (little-endian float32) unless told otherwise.
        if request.get("encoding_format") == "base64":
            embedding: Any = base64.b64encode(vector.astype("<f4").tobytes()).decode()
        else:
            embedding = vector.tolist()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(_count_tokens(t) for t in texts)
    return {
        "object": "list",
        "data": data,
        "model": request.get("model", "fake"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


# Named through `name=` so that importing it (conftest.py) does not shadow test arguments.
@pytest.fixture(name="openai_server")
def openai_server_fixture() -> Iterator[tuple[FakeOpenAI, Settings]]:
    """A running fake OpenAI server and Settings of the LLM engine pointing at it."""
    with FakeOpenAI() as server:
        yield server, server.settings()
