"""HTTP side of the Bot API test server: routes, and request bodies as python-telegram-bot sends them.

python-telegram-bot posts form fields whose values are JSON-encoded, except strings, which go
as they are (so a text "123" must stay a string); uploads go as multipart/form-data. Plain JSON
bodies and query strings are read too, for other clients.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

# Parameters whose values are free text or ids: never JSON-decoded.
_STRING_PARAMS = {
    "text", "caption", "parse_mode", "callback_query_id", "file_id", "url", "secret_token",
    "action", "language_code", "description", "short_description", "name", "title", "query",
    "inline_message_id", "document", "photo", "emoji", "business_connection_id",
}
_CHUNK = 64 * 1024  # downloads go out in pieces, so that `sent` says where the bot stopped
_API_PATH = re.compile(r"/bot([^/]+)/([A-Za-z]+)/?")


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    file_name: str
    data: bytes
    content_type: str


class Served(Protocol):
    """What the handler needs from the server."""

    def dispatch(self, token: str, method: str, params: dict, files: dict) -> dict | None: ...

    def download(self, token: str, file_path: str) -> tuple[bytes, bool, float] | None: ...

    def downloaded(self, file_path: str, status: int, sent: int) -> None: ...

    def outage_answer(self, method: str, params: dict) -> tuple[int, bytes] | str | None: ...


def handler_for(server: Served) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to this server."""
    return type("Handler", (_Handler,), {"served": server})


class _Handler(BaseHTTPRequestHandler):
    """Serves the Bot API and file downloads of `served`."""

    served: Served
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if url.path.startswith("/file/bot"):
            token, _, file_path = url.path.removeprefix("/file/bot").partition("/")
            self._download(unquote(token), unquote(file_path))
            return
        match = _API_PATH.fullmatch(url.path)
        if match is None:
            self._send(404, json.dumps(_not_found()).encode())
            return
        params, files = parse_body(self.headers.get("Content-Type", ""), body, url.query)
        outage = self.served.outage_answer(match[2], params)
        if outage == "drop":
            self.close_connection = True  # closed without a word, as a dying proxy does
            return
        if outage is not None:
            status, data = outage
            self._send(status, data, "application/json" if status == 429 else "text/html")
            return
        payload = self.served.dispatch(unquote(match[1]), match[2], params, files)
        if payload is not None:  # None: the server is closing
            status = 200 if payload["ok"] else payload["error_code"]
            self._send(status, json.dumps(payload).encode())

    def _download(self, token: str, file_path: str) -> None:
        found = self.served.download(token, file_path)
        if found is None:
            self._send(404, json.dumps(_not_found()).encode())
            self.served.downloaded(file_path, 404, 0)
            return
        data, sized, drip = found
        sent = self._send(200, data, "application/octet-stream", sized, drip)
        self.served.downloaded(file_path, 200, sent)

    def _send(self, status: int, data: bytes, ctype: str = "application/json",
              sized: bool = True, drip: float = 0.0) -> int:
        """Answer; the bytes of `data` sent before the client went away. Unsized: no
        Content-Length, the connection's end ends the body. `drip`: seconds between
        pieces."""
        sent = 0
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if sized:
                self.send_header("Content-Length", str(len(data)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            for start in range(0, len(data), _CHUNK):
                if start and drip:
                    time.sleep(drip)
                self.wfile.write(data[start:start + _CHUNK])
                self.wfile.flush()
                sent = min(len(data), start + _CHUNK)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a cancelled long poll): nothing to tell it
        return sent

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


def parse_body(
    content_type: str, body: bytes, query: str = ""
) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Parameters and uploaded files of a Bot API request."""
    fields = dict(parse_qsl(query, keep_blank_values=True))
    files: dict[str, Upload] = {}
    if content_type.startswith("application/json") and body:
        return {k: _decode(k, v) for k, v in fields.items()} | json.loads(body), files
    if content_type.startswith("multipart/form-data"):
        more, files = _parse_multipart(content_type, body)
        fields |= more
    elif body:
        fields |= dict(parse_qsl(body.decode(), keep_blank_values=True))
    return {key: _decode(key, value) for key, value in fields.items()}, files


def _decode(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id "@channelname"


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        file_name = part.get_filename()
        if file_name is None:
            fields[str(name)] = data.decode()
        else:
            # Non-ASCII names arrive as raw UTF-8, which the email parser keeps as surrogates.
            file_name = file_name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            files[str(name)] = Upload(file_name, data, part.get_content_type())
    return fields, files


def _not_found() -> dict:
    return {"ok": False, "error_code": 404, "description": "Not Found"}
