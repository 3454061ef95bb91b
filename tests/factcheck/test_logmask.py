"""No secret reaches a log line (factcheck.logmask), through the real CLI, openai client and httpx
logging against the scripted server."""

from __future__ import annotations

import logging

from fakes.openai_server import openai_server_fixture  # noqa: F401

from factcheck.cli import main
from factcheck.logmask import MaskSecrets

PASSWORD = "s3cr3t-pw"
KEY = "sk-proj-abcdefghijklmnop1234"
TOKEN = "123456789:AAEabcdefghijklmnopqrstuvwxyz012345"


def test_the_cli_logs_no_password_of_openai_base_url_and_no_key(openai_server, caplog,
                                                                  monkeypatch, capsys):
    server, _ = openai_server
    address = server.url.replace("http://", f"http://editor:{PASSWORD}@") + "/v1"
    for name, value in {"OPENAI_BASE_URL": address, "OPENAI_API_KEY": KEY,
                        "LLM_MAX_RETRIES": "0", "LLM_CACHE": "false"}.items():
        monkeypatch.setenv(name, value)
    server.error(500, message=f"upstream {address} refused key {KEY}")
    caplog.set_level(logging.DEBUG)  # httpx's request lines and openai's debug lines too
    assert main(["--debug", "check", "The council approved the budget on Monday."]) == 1
    err = capsys.readouterr().err
    logged = caplog.text
    assert "HTTP Request: POST http://***@127.0.0.1" in logged  # httpx logged the URL, masked
    for secret in (PASSWORD, KEY):
        assert secret not in logged and secret not in err


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("x", logging.ERROR, __file__, 1, message, args, info)


def test_each_kind_of_secret_is_masked_in_messages_arguments_and_tracebacks():
    mask = MaskSecrets()
    mask.add("plain-secret-value", "<webhook secret>")
    lines = {
        "GET https://user:pw@example.org/x": "GET https://***@example.org/x",
        f"POST https://api.telegram.org/bot{TOKEN}/getMe": (
            "POST https://api.telegram.org/bot<bot token>/getMe"),
        f"key {KEY} refused": "key sk-*** refused",
        "Authorization: Bearer abcdefghijkl": "Authorization: Bearer ***",
        "GET /v1/models?api_key=abc123&x=1": "GET /v1/models?api_key=***&x=1",
        "secret plain-secret-value here": "secret <webhook secret> here",
    }
    for line, masked in lines.items():
        message = record("%s", line)
        mask.filter(message)
        assert message.getMessage() == masked
    try:
        raise ConnectionError(f"cannot reach http://u:{PASSWORD}@host/v1")
    except ConnectionError as exc:
        failed = record("failed", exc=exc)
    mask.filter(failed)
    text = logging.Formatter().format(failed)
    assert "ConnectionError" in text and PASSWORD not in text and "http://***@host" in text


def test_a_short_placeholder_key_masks_no_ordinary_words():
    mask = MaskSecrets()
    mask.add("test", "<OPENAI_API_KEY>")  # what a local server's placeholder key looks like
    mask.add("ollama", "<OPENAI_API_KEY>")
    line = "the BM25 postings file /tmp/pytest-1/test_x/data is damaged (ollama model)"
    assert mask.mask(line) == line
