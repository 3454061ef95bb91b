"""The bot on the LLM engine, against the scripted OpenAI server: what chats and logs see when the
language model fails."""

from __future__ import annotations

import logging

from bot_helpers import ALICE, CLAIMS
from fakes.openai_server import openai_server_fixture  # noqa: F401
from pydantic import SecretStr

from factcheck.bot.render import LLM_UNAVAILABLE

PASSWORD = "s3cr3t-pw"
KEY = "sk-proj-abcdefghijklmnop1234"


def test_users_are_told_the_model_is_unavailable_and_the_log_has_the_masked_address(
    start_bot, telegram_server, openai_server, caplog
):
    server, _ = openai_server
    address = server.url.replace("http://", f"http://editor:{PASSWORD}@") + "/v1"
    caplog.set_level(logging.INFO)  # the bot's level; httpx logs each request URL at it
    caplog.set_level(logging.INFO, logger="httpx")  # whatever an earlier CLI run set it to
    start_bot(engine="llm", openai_base_url=address, openai_api_key=SecretStr(KEY),
              llm_cache=False, llm_max_retries=1)
    for _ in range(2):
        server.error(502, message=f"upstream {address} is down")
    telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
    answer = telegram_server.wait_for_text(ALICE, "language model is unavailable")["text"]
    assert answer == LLM_UNAVAILABLE  # no address, no status code, no server's words
    assert len(server.chat_requests) == 2
    logged = caplog.text
    assert f"the LLM at {server.url}/v1 answered HTTP 502" in logged  # for the operator
    assert "HTTP Request: POST http://***@127.0.0.1" in logged
    assert PASSWORD not in logged and KEY not in logged and telegram_server.token not in logged
