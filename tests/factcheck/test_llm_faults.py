"""Faults of an LLM server, through the real ChatOpenAI and openai client over HTTP: each is
retried where a retry can help, all within one deadline of LLM_TIMEOUT, and ends in one line
that says what happened, in how many attempts, and what to do."""

from __future__ import annotations

import time

import pytest
from fakes.openai_server import openai_server_fixture  # noqa: F401

from factcheck.cli import main
from factcheck.errors import LLMError
from factcheck.llm import extract_claims_llm
from factcheck.models import Article

SENTENCE = "It added that 15 of them were Russians."
ARTICLE = Article(text=f"The ministry spoke on Monday. {SENTENCE}")
GOOD = {"claims": [{"claim": SENTENCE, "source_sentence": SENTENCE, "checkworthiness": 0.5}]}
# What a fault must never show: a vendor's exception name or object dump.
VENDOR_NOISE = ("unexpected error", "JSONDecodeError", "IndexError", "CompletionUsage", "retries")

FAULTS = {
    "a body that is not JSON": lambda server: server.raw(b'{"id": "chatcmpl-1", "choi'),
    "a proxy's HTML page": lambda server: server.raw(
        b"<html><body>502 Bad Gateway</body></html>", content_type="text/html"),
    "no choices": lambda server: server.completion(choices=[]),
    "an answer cut off at max_tokens": lambda server: server.answer(
        '{"claims": [{"claim": "It added', finish_reason="length"),
    "a 502": lambda server: server.error(502, message="bad gateway"),
    "a dropped 429": lambda server: server.error(429, headers={"Retry-After": "0"}),
}
LINES = {
    "a body that is not JSON": "sent a completion that is not JSON",
    "a proxy's HTML page": "sent a completion that is not JSON",
    "no choices": "sent a completion without choices",
    "an answer cut off at max_tokens": "was cut off at its token limit",
    "a 502": "answered HTTP 502 (bad gateway)",
    "a dropped 429": "refused with HTTP 429",
}


def no_cache(server, **overrides):
    return server.settings(llm_cache=False, **overrides)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_passing_fault_is_retried_and_the_answer_used(openai_server, fault):
    server, _ = openai_server
    FAULTS[fault](server)
    server.answer(GOOD)
    claims = extract_claims_llm(ARTICLE, no_cache(server))
    assert [c.text for c in claims] == [SENTENCE]
    assert len(server.chat_requests) == 2


def test_an_answer_cut_off_is_asked_again_for_a_shorter_one(openai_server):
    server, _ = openai_server
    FAULTS["an answer cut off at max_tokens"](server)
    server.answer(GOOD)
    extract_claims_llm(ARTICLE, no_cache(server))
    first, second = server.chat_requests
    assert second["messages"][: len(first["messages"])] == first["messages"]
    assert "cut off at the token limit" in second["messages"][-1]["content"]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_lasting_fault_is_one_line_that_counts_the_attempts(openai_server, fault):
    server, _ = openai_server
    settings = no_cache(server, llm_max_retries=2)
    for _ in range(3):
        FAULTS[fault](server)
    with pytest.raises(LLMError) as caught:
        extract_claims_llm(ARTICLE, settings)
    message = str(caught.value)
    assert len(server.chat_requests) == 3
    assert LINES[fault] in message and "in 3 attempts" in message
    assert "\n" not in message and not any(noise in message for noise in VENDOR_NOISE)


def test_a_retry_after_past_the_deadline_is_not_waited_for(openai_server):
    server, _ = openai_server
    settings = no_cache(server, llm_timeout=3, llm_max_retries=3)
    server.error(429, headers={"Retry-After": "100000"}, message="quota")
    started = time.monotonic()
    with pytest.raises(LLMError) as caught:
        extract_claims_llm(ARTICLE, settings)
    assert time.monotonic() - started < 2
    assert len(server.chat_requests) == 1
    assert str(caught.value) == (
        f"the LLM at {server.url}/v1 refused with HTTP 429 (quota) in 1 attempt (it asked to "
        "wait 100000 s, past the LLM_TIMEOUT of 3 s); wait and try again, or lower "
        "LLM_CONCURRENCY"
    )


def test_all_retries_end_within_one_deadline_of_llm_timeout(openai_server):
    server, _ = openai_server
    settings = no_cache(server, llm_timeout=2, llm_max_retries=10)
    for _ in range(11):  # each slow, each asking for a short wait: 11 of them take 6 s
        server.error(503, headers={"Retry-After": "0.2"}, delay=0.35)
    started = time.monotonic()
    with pytest.raises(LLMError) as caught:
        extract_claims_llm(ARTICLE, settings)
    assert time.monotonic() - started < 2.5
    attempts = len(server.chat_requests)
    assert 2 <= attempts < 11
    message = str(caught.value)
    assert f"answered HTTP 503 (scripted error) in {attempts} attempts" in message
    assert "the LLM_TIMEOUT of 2 s" in message


def test_a_request_is_cut_at_the_deadline_however_it_started(openai_server):
    server, _ = openai_server
    settings = no_cache(server, llm_timeout=1.5, llm_max_retries=3)
    server.error(500, delay=0.9)
    server.answer(GOOD, delay=30)  # the retry would end long after the deadline
    started = time.monotonic()
    with pytest.raises(LLMError, match=r"HTTP 500 \(scripted error\) in 2 attempts \(the last "
                       r"did not end within the LLM_TIMEOUT of 1.5 s\)"):
        extract_claims_llm(ARTICLE, settings)
    assert time.monotonic() - started < 2.2


def test_the_cli_shows_a_lasting_fault_as_one_line(openai_server, capsys, monkeypatch):
    server, _ = openai_server
    for _ in range(3):
        server.completion(choices=[])
    for name, value in {"OPENAI_BASE_URL": f"{server.url}/v1", "OPENAI_API_KEY": "test",
                        "LLM_MAX_RETRIES": "2", "LLM_CACHE": "false"}.items():
        monkeypatch.setenv(name, value)
    assert main(["check", ARTICLE.text]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"error: the LLM at {server.url}/v1 sent a completion without choices in 3 attempts; "
        "check the server's log, or try another LLM_MODEL"
    ]


def response_format(request: dict) -> str | None:
    return (request.get("response_format") or {}).get("type")


def test_a_server_refusing_json_mode_is_asked_with_a_schema_from_then_on(openai_server):
    server, _ = openai_server
    settings = no_cache(server)
    server.refuse_formats("json_object")  # as LM Studio does
    server.answer(GOOD)
    server.answer(GOOD)
    assert [c.text for c in extract_claims_llm(ARTICLE, settings)] == [SENTENCE]
    assert [c.text for c in extract_claims_llm(ARTICLE, settings)] == [SENTENCE]
    assert [response_format(r) for r in server.chat_requests] == [
        "json_object", "json_schema", "json_schema"]  # refused once, remembered after
    schema = server.chat_requests[1]["response_format"]["json_schema"]
    assert schema["name"] == "ClaimsAnswer" and "claims" in schema["schema"]["properties"]


def test_a_server_refusing_both_formats_gets_json_asked_in_the_prompt(openai_server, caplog):
    server, _ = openai_server
    settings = no_cache(server, llm_max_retries=0)
    server.refuse_formats("json_object", "json_schema")
    server.answer(GOOD)
    server.answer(GOOD)
    extract_claims_llm(ARTICLE, settings)
    extract_claims_llm(ARTICLE, settings)
    assert [response_format(r) for r in server.chat_requests] == [
        "json_object", "json_schema", None, None]
    assert "one JSON object" in server.chat_requests[-1]["messages"][0]["content"]
    refusals = [r.getMessage() for r in caplog.records
                if "refused response_format" in r.getMessage()]
    assert len(refusals) == 2 and "asking with the prompt alone from now on" in refusals[1]


def test_a_400_about_something_else_is_not_a_format_refusal(openai_server):
    server, _ = openai_server
    server.error(400, message="This model's maximum context length is 8192 tokens")
    with pytest.raises(LLMError, match="answered HTTP 400 .*in 1 attempt;"):
        extract_claims_llm(ARTICLE, no_cache(server))
    assert [response_format(r) for r in server.chat_requests] == ["json_object"]
