"""`factcheck prompts list|show|render`: names, file content, and exactly the messages sent."""

from __future__ import annotations

import json
from pathlib import Path

from factcheck.cli import main
from factcheck.llm import extract_claims_llm, judge_llm
from factcheck.models import Article, Claim, Passage
from factcheck.prompts import load_prompt

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_names_every_shipped_prompt_with_its_fingerprint(capsys):
    code, out, _ = run(capsys, "prompts", "list")
    assert code == 0
    assert "claims" in out and "stance" in out
    assert load_prompt("claims").fingerprint in out  # version:hash


def test_show_prints_the_loaded_file(capsys):
    code, out, _ = run(capsys, "prompts", "show", "stance")
    assert code == 0
    shown = json.loads(out)
    assert shown["name"] == "stance" and shown["variables"] == ["claim", "passages"]
    assert shown["fingerprint"].startswith(shown["version"] + ":")


def test_show_unknown_prompt_fails_naming_the_file(capsys):
    code, _, err = run(capsys, "prompts", "show", "nonesuch")
    assert code == 1
    assert "nonesuch.yaml" in err


def test_render_claims_from_a_plain_text_article_is_what_the_model_gets(capsys, openai_server,
                                                                         tmp_path):
    server, settings = openai_server
    article = tmp_path / "article.txt"
    article.write_text("The bridge opened in 1932. It is 503 metres long.\n", encoding="utf-8")
    code, out, _ = run(capsys, "prompts", "render", "claims", "--input", str(article))
    assert code == 0
    rendered = json.loads(out)
    server.answer({"claims": []})
    extract_claims_llm(Article(text=article.read_text(encoding="utf-8")), settings)
    assert rendered == server.chat_requests[0]["messages"]


def test_render_stance_from_json_variables_is_what_the_model_gets(capsys, openai_server, tmp_path):
    server, settings = openai_server
    variables = tmp_path / "stance.json"
    variables.write_text(json.dumps({"claim": "Cats sleep a lot.",
                                     "passages": ["Cats sleep 15 hours a day."]}))
    code, out, _ = run(capsys, "prompts", "render", "stance", "--input", str(variables))
    assert code == 0
    server.answer({"judgements": [{"passage": 1, "stance": "SUPPORTS", "confidence": 0.9}]})
    claim = Claim(id=1, text="Cats sleep a lot.", start=0, end=17, checkworthiness=1.0)
    judge_llm(claim, [Passage(id="1", text="Cats sleep 15 hours a day.")], settings)
    assert json.loads(out) == server.chat_requests[0]["messages"]


def test_render_uses_a_variant_folder(capsys, tmp_path):
    variant = tmp_path / "variant"
    variant.mkdir()
    text = (ROOT / "prompts" / "stance.yaml").read_text(encoding="utf-8")
    (variant / "stance.yaml").write_text(text.replace("You are a careful fact-checker.",
                                                      "You are a VARIANT checker."))
    variables = tmp_path / "stance.json"
    variables.write_text(json.dumps({"claim": "c", "passages": "[1] p"}))
    code, out, _ = run(capsys, "prompts", "render", "stance", "--input", str(variables),
                       "--prompts", str(variant))
    assert code == 0
    assert json.loads(out)[0]["content"].startswith("You are a VARIANT checker.")


def test_render_with_wrong_variables_fails_in_one_line(capsys, tmp_path):
    variables = tmp_path / "stance.json"
    variables.write_text(json.dumps({"claim": "c"}))
    code, _, err = run(capsys, "prompts", "render", "stance", "--input", str(variables))
    assert code == 1
    assert "passages" in err


def test_render_of_unreadable_json_is_bad_input(capsys, tmp_path):
    variables = tmp_path / "stance.json"
    variables.write_text("not json")
    code, _, err = run(capsys, "prompts", "render", "stance", "--input", str(variables))
    assert code == 2
    assert "not JSON" in err
