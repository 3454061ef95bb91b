"""Faults of an LLM server, through the real ChatOpenAI and openai client over HTTP: each is
retried where a retry can help, all within one deadline of LLM_TIMEOUT, and ends in one line
that says what happened, in how many attempts, and what to do."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from fakes.openai_server import openai_server_fixture  # noqa: F401

from factcheck.cli import main
from factcheck.errors import LLMError
from factcheck.llm import extract_claims_llm, judge_llm, write_summary_lede
from factcheck.llm_openai import OpenAIEmbedder, chat_model
from factcheck.models import Article, Claim, Passage
from factcheck.settings import Settings

# It reads alone: the offline rules leave its wording as it is.
SENTENCE = "The Foreign Ministry added that 15 of them were Russians."
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


def one_failed_attempt(server, settings, within: float) -> str:
    """The LLMError's line of a claims call that must fail after one request, within seconds."""
    started = time.monotonic()
    with pytest.raises(LLMError) as caught:
        extract_claims_llm(ARTICLE, settings)
    assert time.monotonic() - started < within
    assert len(server.chat_requests) == 1
    return str(caught.value)


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
    assert one_failed_attempt(server, settings, within=2) == (
        f"the LLM at {server.url}/v1 refused with HTTP 429 (quota) in 1 attempt (it asked to "
        "wait 100000 s, past the LLM_TIMEOUT of 3 s); wait and try again, or lower "
        "LLM_CONCURRENCY"
    )


ASKED = {  # what each endpoint is asked through
    "chat": lambda settings: extract_claims_llm(ARTICLE, settings),
    "embeddings": lambda settings: OpenAIEmbedder(settings).embed(["war in syria"]),
}


@pytest.mark.parametrize("endpoint", ASKED)
def test_all_retries_end_within_one_deadline_of_llm_timeout(openai_server, endpoint):
    server, _ = openai_server
    settings = no_cache(server, llm_timeout=2, llm_max_retries=10)
    for _ in range(11):  # each slow, each asking for a short wait: 11 of them take 6 s
        server.error(503, headers={"Retry-After": "0.2"}, delay=0.35, endpoint=endpoint)
    started = time.monotonic()
    with pytest.raises(LLMError) as caught:
        ASKED[endpoint](settings)
    assert time.monotonic() - started < 2.5
    attempts = len(server.chat_requests + server.embedding_requests)
    assert 2 <= attempts < 11
    message = str(caught.value)
    assert f"answered HTTP 503 (scripted error) in {attempts} attempts" in message
    assert "the LLM_TIMEOUT of 2 s" in message


def test_an_embeddings_fault_is_retried_and_the_vectors_used(openai_server):
    server, _ = openai_server
    server.error(502, endpoint="embeddings", message="bad gateway")
    vectors = OpenAIEmbedder(no_cache(server)).embed(["war in syria"])
    assert vectors.shape == (1, 32)
    assert len(server.embedding_requests) == 2


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
    assert lines[-1] == (
        f"error: the LLM at {server.url}/v1 sent a completion without choices in 3 attempts; "
        "check the server's log, or try another LLM_MODEL"
    )
    # Before it, at most the warning that the collection is empty: no line per attempt.
    assert all(line.startswith("warning: the collection") for line in lines[:-1])


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
    with pytest.raises(LLMError, match=r"answered HTTP 400 .*in 1 attempt;"):
        extract_claims_llm(ARTICLE, no_cache(server))
    assert [response_format(r) for r in server.chat_requests] == ["json_object"]


# --- limits on what an answer may be (case 5) --------------------------------------------------


def test_every_call_asks_for_at_most_llm_max_tokens(openai_server):
    server, _ = openai_server
    server.answer(GOOD)
    extract_claims_llm(ARTICLE, no_cache(server))
    server.answer({"judgements": [{"passage": 1, "stance": "SUPPORTS", "confidence": 0.8,
                                   "quote": SENTENCE}]})
    claim = Claim(id=1, text=SENTENCE, start=0, end=1, checkworthiness=0.5)
    judge_llm(claim, [Passage(id="p", text=SENTENCE)], no_cache(server, llm_max_tokens=900))
    server.answer({"lede": "Nothing stands out."})
    write_summary_lede("1 claim checked.", no_cache(server))
    assert [r["max_tokens"] for r in server.chat_requests] == [4096, 900, 4096]
    assert not any("max_completion_tokens" in r for r in server.chat_requests)


def test_openai_itself_gets_the_limit_as_max_completion_tokens():
    settings = Settings(_env_file=None, openai_api_key="sk-test", llm_max_tokens=1000)
    payload = chat_model(settings)._get_request_payload([("user", "hi")])
    assert payload["max_completion_tokens"] == 1000 and "max_tokens" not in payload


@pytest.mark.parametrize("sized", [True, False], ids=["with Content-Length", "chunked"])
def test_an_answer_of_25_mb_is_cut_off_as_it_streams_in(openai_server, sized):
    server, _ = openai_server
    settings = no_cache(server, llm_timeout=3)
    server.huge(25_000_000, sized=sized)
    message = one_failed_attempt(server, settings, within=3)  # a retry would be cut off too
    # What the kernel's socket buffers took before the client hung up, far short of 25 MB.
    assert server.bytes_sent < 10_000_000
    assert message == (
        f"the LLM at {server.url}/v1 sent an answer cut off at 196,608 bytes in 1 attempt (the "
        "most an answer of LLM_MAX_TOKENS may take); check that the server honours max_tokens, "
        "or raise LLM_MAX_TOKENS"
    )


def test_a_compressed_answer_is_cut_off_as_it_inflates(openai_server):
    server, _ = openai_server
    # About 100 kB of gzip on the wire, under the cap there; it inflates to 100 MB.
    server.compressed(GOOD, inflates_to=100_000_000)
    tracemalloc.start()
    try:
        message = one_failed_attempt(server, no_cache(server, llm_timeout=10), within=10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000  # inflated a piece at a time and stopped at the cap, not 100 MB
    assert message.startswith(f"the LLM at {server.url}/v1 sent an answer cut off at 196,608 "
                              "bytes in 1 attempt")


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_answer_within_the_cap_is_read(openai_server, encoding):
    server, _ = openai_server
    server.compressed(GOOD, encoding=encoding, inflates_to=100_000)
    claims = extract_claims_llm(ARTICLE, no_cache(server))
    assert [c.text for c in claims] == [SENTENCE]
    assert server.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


def test_an_answer_in_an_encoding_not_asked_for_is_refused_in_one_line(openai_server):
    server, _ = openai_server
    server.compressed(GOOD, encoding="br")
    message = one_failed_attempt(server, no_cache(server), within=5)
    assert message == (
        f"the LLM at {server.url}/v1 sent an answer in an encoding it was not asked for (br) in "
        "1 attempt; check that the server (or a proxy before it) sends only what "
        "Accept-Encoding: gzip, deflate allows"
    )


def test_claims_not_in_the_article_are_dropped(openai_server):
    server, _ = openai_server
    made_up = [{"claim": f"Claim {n} that the article never made.", "checkworthiness": 0.9,
                "source_sentence": f"Officials said {n} tanks were sold abroad."}
               for n in range(20)]
    paraphrase = {"claim": "Fifteen were Russians.", "checkworthiness": 0.4,
                  "source_sentence": "The Foreign Ministry added that fifteen of them were Russian."}
    typography = {"claim": "The ministry spoke.", "checkworthiness": 0.3,
                  "source_sentence": "the  ministry spoke\u00a0on Monday."}
    server.answer({"claims": made_up + [paraphrase, typography]})
    claims = extract_claims_llm(ARTICLE, no_cache(server, max_claims=20))
    assert [c.text for c in claims] == ["The ministry spoke.", "Fifteen were Russians."]
    assert [ARTICLE.text[c.start:c.end] for c in claims] == ["The ministry spoke on Monday.",
                                                             SENTENCE]


def test_only_twice_max_claims_listed_claims_are_read(openai_server, caplog):
    server, _ = openai_server
    listed = [{"claim": f"{SENTENCE} ({n})", "source_sentence": SENTENCE,
               "checkworthiness": 0.1} for n in range(5)]
    listed.append({"claim": "The ministry spoke on Monday.", "checkworthiness": 1.0,
                   "source_sentence": "The ministry spoke on Monday."})
    server.answer({"claims": listed})
    claims = extract_claims_llm(ARTICLE, no_cache(server, max_claims=2))
    assert "The ministry spoke on Monday." not in [c.text for c in claims]  # the 6th of 6
    assert len(claims) == 2
    assert "listed 6 claims for at most 2; only the first 4 are read" in caplog.text
