"""The LLM engine, run for real (ChatOpenAI, the openai client) against a scripted local server."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
from fakes.openai_server import bag_of_words, openai_server_fixture  # noqa: F401

from factcheck import llm
from factcheck.errors import FactcheckError, LLMError
from factcheck.llm import extract_claims_llm, judge_llm, prompt_fingerprints
from factcheck.llm_openai import OpenAIEmbedder
from factcheck.models import Article, Claim, Passage, Stance
from factcheck.prompts import load_prompt
from factcheck.settings import Settings

ARTICLE = Article(
    text=(
        "The health ministry said on Monday that 23 people were killed in the strike. "
        "It added that 15 of them were Russians. What a tragedy! "
        "Officials expect more reports next week."
    )
)
CLAIM = Claim(
    id=1, text="23 people were killed in the strike.", start=0, end=10, checkworthiness=0.9
)
PASSAGES = [
    Passage(
        id="a",
        text="Officials counted the dead. "
        "A total of 23 people were killed, including 15 Russians.",
    ),
    Passage(
        id="b", text="As many as 200 members of the unit were killed. The figure is disputed."
    ),
    Passage(
        id="c", text="The city hosts a music festival every summer.", title="Tourism", date="2020"
    ),
]


def claims_answer(*claims: tuple[str, str, float]) -> dict:
    return {
        "claims": [{"claim": c, "source_sentence": s, "checkworthiness": w} for c, s, w in claims]
    }


def judgement(number: int, stance: str, quote: str, confidence: float = 0.8) -> dict:
    return {
        "passage": number,
        "stance": stance,
        "quote": quote,
        "rationale": "Because.",
        "confidence": confidence,
    }


def span_text(claim: Claim) -> str:
    return ARTICLE.text[claim.start : claim.end]


def test_claims_come_back_with_spans_in_the_article(openai_server):
    server, settings = openai_server
    server.answer(
        claims_answer(
            (
                "The health ministry said 15 of the people killed were Russians.",
                "It added that 15 of them were Russians.",
                0.8,
            ),
            (
                "The health ministry said on Monday that 23 people were killed in the strike.",
                "The health ministry said on Monday that 23 people were killed in the strike.",
                0.9,
            ),
            ("  ", "What a tragedy!", 0.1),
        )
    )
    claims = extract_claims_llm(ARTICLE, settings)
    assert [c.id for c in claims] == [1, 2]
    assert span_text(claims[0]).startswith("The health ministry said on Monday")
    assert span_text(claims[1]) == "It added that 15 of them were Russians."
    assert claims[1].text == "The health ministry said 15 of the people killed were Russians."
    assert claims[1].checkworthiness == 0.8
    (request,) = server.chat_requests
    assert request["model"] == settings.llm_model
    assert request["response_format"] == {"type": "json_object"}
    assert ARTICLE.text in request["messages"][-1]["content"]
    assert f"at most {settings.max_claims} claims" in request["messages"][0]["content"]


def test_a_source_sentence_not_copied_exactly_maps_to_the_closest_sentence(openai_server):
    server, settings = openai_server
    server.answer(
        claims_answer(
            ("15 of the dead were Russians.", "It added that fifteen of them were Russian.", 0.7),
        )
    )
    (claim,) = extract_claims_llm(ARTICLE, settings)
    assert span_text(claim) == "It added that 15 of them were Russians."


def test_claims_are_capped_keeping_the_most_checkworthy_in_article_order(openai_server):
    server, _ = openai_server
    settings = server.settings(max_claims=2)
    sentences = [
        "The health ministry said on Monday that 23 people were killed in the strike.",
        "It added that 15 of them were Russians.",
        "Officials expect more reports next week.",
    ]
    server.answer(
        claims_answer(*[(s, s, w) for s, w in zip(sentences, [0.9, 0.2, 0.6], strict=True)])
    )
    claims = extract_claims_llm(ARTICLE, settings)
    assert [c.text for c in claims] == [sentences[0], sentences[2]]
    assert [c.id for c in claims] == [1, 2]


def test_a_malformed_answer_is_asked_again_with_the_problem(openai_server):
    server, settings = openai_server
    server.answer('{"claims": [')
    server.answer(claims_answer(("It added that 15 of them were Russians.",) * 2 + (0.5,)))
    claims = extract_claims_llm(ARTICLE, settings)
    assert len(claims) == 1
    first, second = server.chat_requests
    assert second["messages"][: len(first["messages"])] == first["messages"]
    assert second["messages"][-2] == {"role": "assistant", "content": '{"claims": ['}
    assert "not valid JSON" in second["messages"][-1]["content"]


def test_an_answer_off_the_schema_is_asked_again_naming_the_field(openai_server):
    server, settings = openai_server
    server.answer({"claims": [{"claim": "x", "source_sentence": "x", "checkworthiness": 7}]})
    server.answer(claims_answer())
    assert extract_claims_llm(ARTICLE, settings) == []
    assert "checkworthiness" in server.chat_requests[1]["messages"][-1]["content"]


def test_json_in_a_code_fence_is_accepted(openai_server):
    server, settings = openai_server
    text = "The health ministry said on Monday that 23 people were killed in the strike."
    server.answer("```json\n" + json.dumps(claims_answer((text, text, 0.5))) + "\n```")
    assert [c.text for c in extract_claims_llm(ARTICLE, settings)] == [text]


def test_always_malformed_answers_raise_llm_error_after_the_retries(openai_server):
    server, settings = openai_server
    for _ in range(settings.llm_max_retries + 1):
        server.answer("Sure! Here are the claims: ...")
    with pytest.raises(LLMError, match=r"no usable answer in 3 attempts.*not valid JSON"):
        extract_claims_llm(ARTICLE, settings)
    assert len(server.chat_requests) == settings.llm_max_retries + 1


def test_a_timeout_is_an_llm_error_naming_the_timeout(openai_server):
    server, _ = openai_server
    settings = server.settings(llm_timeout=0.5, llm_max_retries=0)
    server.answer(claims_answer(), delay=30)
    with pytest.raises(LLMError) as caught:
        extract_claims_llm(ARTICLE, settings)
    message = str(caught.value)
    assert "did not answer within 0.5 s" in message
    assert server.url in message and "LLM_TIMEOUT" in message


def test_a_rate_limit_is_retried_by_the_client(openai_server):
    server, settings = openai_server
    server.error(429, headers={"Retry-After": "0"}, message="slow down")
    text = "The health ministry said on Monday that 23 people were killed in the strike."
    server.answer(claims_answer((text, text, 0.5)))
    assert [c.text for c in extract_claims_llm(ARTICLE, settings)] == [text]
    assert len(server.chat_requests) == 2


def test_server_errors_that_persist_become_one_llm_error(openai_server):
    server, _ = openai_server
    settings = server.settings(llm_max_retries=1)
    server.error(500, message="boom")
    server.error(500, message="boom")
    with pytest.raises(LLMError, match="answered HTTP 500 \\(boom\\)"):
        extract_claims_llm(ARTICLE, settings)
    assert len(server.chat_requests) == 2


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, "refused the API key.*OPENAI_API_KEY"),
        (404, "no model 'gpt-4o-mini'.*LLM_MODEL"),
        (400, "answered HTTP 400"),
    ],
)
def test_client_errors_say_what_to_check_and_never_show_the_key(openai_server, status, expected):
    server, _ = openai_server
    settings = server.settings(openai_api_key="sk-secret-key-123")
    server.error(status, message="Incorrect API key provided: sk-secret-key-123")
    with pytest.raises(LLMError, match=expected) as caught:
        extract_claims_llm(ARTICLE, settings)
    assert "sk-secret-key-123" not in str(caught.value)
    assert len(server.chat_requests) == 1  # 4xx other than 429 are not retried


def test_an_unreachable_server_is_an_llm_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    settings = Settings(
        _env_file=None, openai_base_url=f"http://127.0.0.1:{port}/v1", llm_max_retries=0
    )
    with pytest.raises(LLMError, match=f"cannot connect to the LLM at http://127.0.0.1:{port}/v1"):
        extract_claims_llm(ARTICLE, settings)


def test_no_key_and_no_base_url_is_an_llm_error():
    with pytest.raises(LLMError, match="OPENAI_API_KEY"):
        extract_claims_llm(ARTICLE, Settings(_env_file=None))


def test_stance_judges_all_passages_of_a_claim_in_one_request(openai_server):
    server, settings = openai_server
    server.answer(
        {
            "judgements": [
                judgement(2, "REFUTES", "As many as 200 members of the unit were killed."),
                judgement(
                    1, "SUPPORTS", "A total of 23 people were killed, including 15 Russians.", 0.9
                ),
                judgement(3, "not enough info", "The city hosts a music festival every summer."),
            ]
        }
    )
    evidence = judge_llm(CLAIM, PASSAGES, settings)
    assert [e.passage.id for e in evidence] == ["a", "b", "c"]
    assert [e.stance for e in evidence] == [
        Stance.SUPPORTS,
        Stance.REFUTES,
        Stance.NOT_ENOUGH_INFO,
    ]
    assert evidence[0].quote == "A total of 23 people were killed, including 15 Russians."
    assert evidence[0].confidence == 0.9 and evidence[0].rationale == "Because."
    (request,) = server.chat_requests
    prompt = request["messages"][-1]["content"]
    assert f"<claim>{CLAIM.text}</claim>" in prompt
    for number, passage in enumerate(PASSAGES, start=1):
        assert f'<passage n="{number}"' in prompt and passage.text in prompt
    assert '<passage n="3" source="Tourism (2020)">\nThe city hosts' in prompt


def test_a_made_up_quote_takes_no_side_and_is_shown_as_the_passages_closest_sentence(
    openai_server,
):
    server, settings = openai_server
    made_up = "Exactly 23 people died, 15 of them Russian."
    server.answer(
        {
            "judgements": [
                judgement(1, "SUPPORTS", made_up),
                judgement(2, "REFUTES", ""),
                judgement(3, "REFUTES", "the  city hosts a music festival every\u00a0summer"),
            ]
        }
    )
    first, second, third = judge_llm(CLAIM, PASSAGES, settings)
    assert first.quote == "A total of 23 people were killed, including 15 Russians."
    assert first.stance == Stance.NOT_ENOUGH_INFO
    assert first.disagreement.reason == "quote_not_in_passage"
    assert (first.disagreement.llm_stance, first.disagreement.llm_quote) == (Stance.SUPPORTS,
                                                                             made_up)
    # No quote: the sentence closest to the claim stands for it (the offline judge reads it).
    assert second.quote == "As many as 200 members of the unit were killed."
    assert second.stance == Stance.REFUTES and second.disagreement is None
    # A quote copied with other spaces and case is found.
    assert third.quote == "The city hosts a music festival every summer."
    assert third.stance == Stance.REFUTES and third.disagreement is None


def test_a_passage_left_unjudged_is_asked_for_again(openai_server):
    server, settings = openai_server
    server.answer({"judgements": [judgement(1, "SUPPORTS", "")]})
    server.answer({"judgements": [judgement(1, "SUPPORTS", ""), judgement(2, "REFUTES", "")]})
    evidence = judge_llm(CLAIM, PASSAGES[:2], settings)
    assert [e.stance for e in evidence] == [Stance.SUPPORTS, Stance.REFUTES]
    assert "passages [2] were not judged" in server.chat_requests[1]["messages"][-1]["content"]


def test_no_passages_means_no_request(openai_server):
    server, settings = openai_server
    assert judge_llm(CLAIM, [], settings) == []
    assert server.requests == []


def test_a_prompts_dir_changes_what_is_sent(openai_server, tmp_path: Path):
    server, _ = openai_server
    shipped = Path(__file__).resolve().parents[2] / "prompts" / "stance.yaml"
    text = shipped.read_text(encoding="utf-8").replace(
        "You are a careful fact-checker.", "You are a house fact-checker."
    )
    (tmp_path / "stance.yaml").write_text(text, encoding="utf-8")
    settings = server.settings(prompts_dir=tmp_path)
    server.answer({"judgements": [judgement(1, "SUPPORTS", "")]})
    judge_llm(CLAIM, PASSAGES[:1], settings)
    assert server.chat_requests[0]["messages"][0]["content"].startswith("You are a house")
    assert prompt_fingerprints(settings)["stance"] == load_prompt("stance", tmp_path).fingerprint


def test_a_prompt_variant_asking_for_another_answer_is_refused_before_any_request(
        openai_server, tmp_path: Path):
    server, _ = openai_server
    shipped = Path(__file__).resolve().parents[2] / "prompts" / "stance.yaml"
    text = shipped.read_text(encoding="utf-8").replace("output_schema: StanceAnswer",
                                                       "output_schema: ClaimsAnswer")
    (tmp_path / "stance.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(FactcheckError, match="set output_schema: StanceAnswer"):
        judge_llm(CLAIM, PASSAGES[:1], server.settings(prompts_dir=tmp_path))
    assert server.requests == []


@pytest.mark.parametrize("name", ["claims", "stance", "summary"])
def test_prompt_examples_fit_the_answer_schema(name):
    prompt = load_prompt(name)
    schema = getattr(llm, prompt.output_schema)
    for example in prompt.examples:
        answer = schema.model_validate(example.output)
        source = example.input.get("article") or example.input.get("passages") or ""
        for item in getattr(answer, "claims", []) + getattr(answer, "judgements", []):
            # The examples must show what the prompt asks: sentences copied exactly.
            assert getattr(item, "source_sentence", None) or item.quote in source


def test_openai_embeddings_are_unit_float32_vectors_in_input_order(openai_server, monkeypatch):
    server, settings = openai_server
    embedder = OpenAIEmbedder(settings)
    monkeypatch.setattr(embedder, "batch_size", 2)
    texts = ["war in syria", "syria in war", "music festival", "", "budget vote"]
    vectors = embedder.embed(texts)
    assert embedder.name == "openai:text-embedding-3-small"
    assert vectors.dtype == np.float32 and vectors.shape == (5, 32)
    assert np.allclose(np.linalg.norm(vectors[[0, 1, 2, 4]], axis=1), 1.0, atol=1e-6)
    expected = bag_of_words("music festival")
    assert np.allclose(vectors[2], expected / np.linalg.norm(expected), atol=1e-6)
    assert np.allclose(vectors[0], vectors[1], atol=1e-6)
    assert [r["input"] for r in server.embedding_requests] == [
        texts[:2],
        texts[2:3] + [" "],
        texts[4:],
    ]
    assert embedder.embed([]).shape[0] == 0


def test_embedding_errors_are_llm_errors(openai_server):
    server, _ = openai_server
    settings = server.settings(llm_max_retries=0)
    server.error(404, endpoint="embeddings", message="model not found")
    with pytest.raises(LLMError, match="no model 'text-embedding-3-small'"):
        OpenAIEmbedder(settings).embed(["text"])
