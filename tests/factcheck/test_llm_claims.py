"""The LLM path's claims: what prompts/claims.yaml asks for, and the offline rules applied to
the answer, with the real client against the scripted server (tests/fakes/openai_server.py)."""

from __future__ import annotations

import re
from pathlib import Path

from factcheck import claim_rules
from factcheck.blocks import units
from factcheck.prompts import load_prompt
from factcheck.textmatch import normalised

ROOT = Path(__file__).resolve().parents[2]
CLAIM_SET = ROOT / "tests" / "data" / "claim_set"


def example_article() -> str:
    (example,) = load_prompt("claims").examples
    return example.input["article"]


def sentences_of(text: str) -> list[str]:
    return [text[u.start : u.end] for u in units(text) if u.checked]


def test_the_claims_prompt_asks_for_atomic_self_contained_claims_and_what_to_leave_out():
    prompt = load_prompt("claims")
    assert prompt.version == "3"
    system = prompt.system.lower()
    for asked in ("atomic", "decontextualised", "read alone", "pronoun", '"the ministry"',
                  "captions", "questions", "quoted opinions", "never guess"):
        assert asked in system, asked


def test_the_worked_example_is_not_taken_from_the_seed_or_the_claim_set():
    texts = [(ROOT / "examples" / "seed_article.txt").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in CLAIM_SET.glob("*.txt")]
    texts += [p.read_text(encoding="utf-8") for p in CLAIM_SET.glob("*.md")]
    texts.append((CLAIM_SET / "labels.jsonl").read_text(encoding="utf-8"))
    folded = [normalised(t)[0] for t in texts]
    for sentence in sentences_of(example_article()):
        # No sentence of the example, nor any five words of it in a row, is in those texts.
        words = normalised(sentence)[0].split()
        for n in range(len(words) - 4):
            run = " ".join(words[n : n + 5])
            assert not any(run in text for text in folded), run
    prompt_text = (ROOT / "prompts" / "claims.yaml").read_text(encoding="utf-8")
    for borrowed in ("Allard", "Norvale", "Riverton", "Zakharova", "wish list", "dark day"):
        assert borrowed not in prompt_text


def test_the_example_shows_what_the_offline_rules_keep_and_leave_out():
    (example,) = load_prompt("claims").examples
    article = example_article()
    sources = {c["source_sentence"] for c in example.output["claims"]}
    assert sources <= set(sentences_of(article))  # whole sentences, copied exactly
    for sentence in sentences_of(article):
        # What the example leaves out is what claim_rules drops, and only that.
        assert (sentence in sources) == claim_rules.is_checkable(sentence), sentence
    left_out = {claim_rules.reason(s) for s in sentences_of(article)} - {None}
    assert left_out == {"caption", "quoted opinion", "question"}
    wordings = [c["claim"] for c in example.output["claims"]]
    assert len(wordings) > len(sources)  # a sentence split in two
    assert not any(re.match(r"(It|They|He|She|The museum)\b", w) for w in wordings)
