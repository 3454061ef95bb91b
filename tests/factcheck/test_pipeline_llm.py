"""The whole pipeline on the LLM engine: real ChatOpenAI over HTTP to the scripted server."""

from __future__ import annotations

import json

import pytest

from factcheck.cli import main
from factcheck.pipeline import check, open_store
from factcheck.retrieval import Document
from factcheck.settings import Settings

ARTICLE = (
    "Health officials said on Monday that 23 people were killed in the strike. "
    "Fifteen of them were Russians, the ministry said. What a sad day!"
)
SOURCES = [
    Document(id="wire", title="Wire report", url="https://example.org/wire", date="2018-02-14",
             text="A total of 23 people were killed in the strike, including 15 Russians."),
    Document(id="blog", title="Blog", url=None, date=None,
             text="Only five Russians died, according to the foreign ministry."),
]
CLAIMS = {"claims": [
    {"claim": "23 people were killed in the strike.", "checkworthiness": 0.9,
     "source_sentence": "Health officials said on Monday that 23 people were killed in the strike."},
    {"claim": "Fifteen of those killed in the strike were Russians.", "checkworthiness": 0.8,
     "source_sentence": "Fifteen of them were Russians, the ministry said."},
]}


def judgements(first: str, second: str) -> dict:
    return {"judgements": [
        {"passage": 1, "stance": first, "confidence": 0.9, "rationale": "figures",
         "quote": "A total of 23 people were killed in the strike, including 15 Russians."},
        {"passage": 2, "stance": second, "confidence": 0.8, "rationale": "figures",
         "quote": "Only five Russians died, according to the foreign ministry."},
    ]}


def script_check(server, first: str, second: str) -> None:
    """Queue the claims answer, then the same stance answer for each of the two claims."""
    server.answer(CLAIMS)
    for _ in CLAIMS["claims"]:
        server.answer(judgements(first, second))


@pytest.fixture
def llm_settings(openai_server, tmp_path) -> Settings:
    _server, settings = openai_server
    # Every passage is judged here; test_unrelated_passages_cost_no_call covers the filter.
    settings = settings.model_copy(
        update={"data_dir": tmp_path / "data", "top_k": 2, "min_similarity": 0.0}
    )
    open_store(settings).ingest(SOURCES)
    return settings


def test_llm_engine_makes_one_call_for_claims_and_one_per_claim(openai_server, llm_settings):
    server, _ = openai_server
    script_check(server, "SUPPORTS", "NOT_ENOUGH_INFO")
    report = check(ARTICLE, llm_settings)
    assert len(server.chat_requests) == 1 + len(report.claims) == 3
    assert [c.verdict.label.value for c in report.claims] == ["SUPPORTED", "SUPPORTED"]
    assert report.claims[0].claim.start == 0
    assert report.provenance.engine == "llm"
    assert set(report.provenance.prompts) == {"claims", "stance"}
    stance_prompt = json.dumps(server.chat_requests[1]["messages"])
    assert "Wire report" in stance_prompt and "Blog" in stance_prompt


def test_llm_engine_mixed_verdict_and_quotes(openai_server, llm_settings):
    server, _ = openai_server
    script_check(server, "SUPPORTS", "REFUTES")
    report = check(ARTICLE, llm_settings)
    assert {c.verdict.label.value for c in report.claims} == {"MIXED"}
    quotes = {e.quote for e in report.claims[0].evidence}
    assert "Only five Russians died, according to the foreign ministry." in quotes


def test_cli_reports_an_llm_outage_in_one_line(openai_server, llm_settings, capsys, monkeypatch):
    server, _ = openai_server
    for _ in range(3):
        server.error(500)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("DATA_DIR", str(llm_settings.data_dir))
    monkeypatch.setenv("LLM_MAX_RETRIES", "2")
    code = main(["check", ARTICLE])
    err = capsys.readouterr().err
    assert code == 1
    assert "LLM" in err and "Traceback" not in err


def test_unrelated_passages_cost_no_call(openai_server, llm_settings):
    server, _ = openai_server
    server.answer({"claims": [
        {"claim": "The Eiffel Tower was painted green in 1999.", "checkworthiness": 0.7,
         "source_sentence": "The Eiffel Tower was painted green in 1999."},
    ]})
    settings = llm_settings.model_copy(update={"min_similarity": 0.3})
    report = check("The Eiffel Tower was painted green in 1999.", settings)
    assert len(server.chat_requests) == 1  # claims only: no passage was close enough to judge
    [checked] = report.claims
    assert checked.verdict.label.value == "NOT_ENOUGH_EVIDENCE" and checked.evidence == []


def test_every_report_carries_its_prompts_seconds_tokens_and_cost(openai_server, llm_settings):
    from factcheck.render import to_markdown

    server, _ = openai_server
    script_check(server, "SUPPORTS", "NOT_ENOUGH_INFO")
    priced = llm_settings.model_copy(update={"llm_price_in": 1.0, "llm_price_out": 2.0})
    report = check(ARTICLE, priced)
    usage = report.usage
    assert usage.calls == 3 and usage.tokens_in > 0 and usage.tokens_out > 0
    assert usage.cost_usd == round((usage.tokens_in * 1.0 + usage.tokens_out * 2.0) / 1e6, 6)
    assert {"intake", "claims", "search", "judging", "evidence", "total"} <= set(report.timings)
    footer = to_markdown(report).split("Checked by the llm engine")[1]
    assert f"claims {report.provenance.prompts['claims']}" in footer
    assert f"stance {report.provenance.prompts['stance']}" in footer
    assert f"LLM: 3 calls, {usage.tokens_in:,} tokens in and {usage.tokens_out:,} out" in footer
    assert "judging" in footer and "search" in footer
