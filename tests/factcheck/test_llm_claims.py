"""The LLM path's claims: what prompts/claims.yaml asks for, and the offline rules applied to
the answer, with the real client against the scripted server (tests/fakes/openai_server.py)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from fakes.openai_models import LabelledClaimsModel
from fakes.openai_server import openai_server_fixture  # noqa: F401

from factcheck import claim_rules, claims
from factcheck.blocks import units
from factcheck.cli import main
from factcheck.llm import extract_claims_llm
from factcheck.models import Article
from factcheck.prompts import load_prompt
from factcheck.settings import get_settings
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


# Made up for these tests (not in the claim set): a caption, a quoted opinion, a question, a
# pronoun the rules resolve ("She said") and two they cannot ("It blamed", "They have asked").
FERRY = """Kestrel Ferries cuts winter crossings to Brannock

Kestrel Ferries said on Thursday that it had cut its winter timetable to Brannock Island from six crossings a day to two. It blamed a shortage of trained crew.

Photo: The ferry Morven at the Brannock pier.

Islanders' association chair Ruth Okafor said about 1,800 people live on the island all year. She said the last winter cut, in 2019, lasted four months. "This is a betrayal," she said. Will the council step in?

They have asked the transport minister to intervene.
"""
LEAD = ("Kestrel Ferries said on Thursday that it had cut its winter timetable to Brannock Island "
        "from six crossings a day to two.")
# What a model that half follows the prompt answers: it lists the caption, the quote and the
# question too, leaves two pronouns as written, and makes one source up.
FERRY_ANSWER = [
    (LEAD, LEAD, 0.9),
    ("It blamed a shortage of trained crew.", "It blamed a shortage of trained crew.", 0.6),
    ("The ferry Morven is at the Brannock pier.",
     "Photo: The ferry Morven at the Brannock pier.", 0.3),
    ("About 1,800 people live on Brannock Island all year, according to Ruth Okafor.",
     "Islanders' association chair Ruth Okafor said about 1,800 people live on the island all "
     "year.", 0.8),
    ("She said the last winter cut, in 2019, lasted four months.",
     "She said the last winter cut, in 2019, lasted four months.", 0.7),
    ("Ruth Okafor called the timetable cut a betrayal.", '"This is a betrayal," she said.', 0.5),
    ("The council may step in.", "Will the council step in?", 0.4),
    ("They have asked the transport minister to intervene.",
     "They have asked the transport minister to intervene.", 0.5),
    ("Kestrel Ferries sold two ships in 2022.", "Kestrel Ferries sold two ships in 2022.", 0.9),
]


def claims_answer(rows) -> dict:
    return {"claims": [{"claim": c, "source_sentence": s, "checkworthiness": w}
                       for c, s, w in rows]}


def test_the_offline_rules_apply_to_the_llms_claims(openai_server, caplog):
    server, settings = openai_server
    server.answer(claims_answer(FERRY_ANSWER))
    caplog.set_level(logging.INFO, logger="factcheck.claims")
    found = extract_claims_llm(Article(text=FERRY), settings)
    kept = [(c.text, c.self_contained, c.context) for c in found]
    assert kept == [
        (LEAD, True, None),
        # No rule can tell who "It" is (Kestrel Ferries is no organisation noun): marked, with
        # its context, as the offline path marks it.
        ("It blamed a shortage of trained crew.", False, LEAD),
        ("About 1,800 people live on Brannock Island all year, according to Ruth Okafor.",
         True, None),
        # The one person the sentence before names.
        ("Ruth Okafor said the last winter cut, in 2019, lasted four months.", True, None),
        ("They have asked the transport minister to intervene.", False,
         "Will the council step in?"),
    ]
    assert [c.id for c in found] == [1, 2, 3, 4, 5]
    assert [FERRY[c.start : c.end] for c in found][1] == "It blamed a shortage of trained crew."
    dropped = " ".join(r.getMessage() for r in caplog.records if "not a claim" in r.getMessage())
    for why in ("(caption)", "(quoted opinion)", "(question)"):
        assert why in dropped
    (request,) = server.chat_requests  # one call, the claims prompt
    assert "<article>" in request["messages"][-1]["content"]


def test_the_llm_claims_get_the_offline_marks_for_the_same_wording(openai_server):
    """A model that copies every sentence as it stands gets, for each sentence the offline path
    keeps whole, the same wording, self_contained and context as the offline path."""
    server, settings = openai_server
    text = (CLAIM_SET / "harbour_fire.txt").read_text(encoding="utf-8")
    sentences = sentences_of(text)
    server.answer(claims_answer([(s, s, 0.5) for s in sentences]))
    found = extract_claims_llm(Article(text=text), settings.model_copy(update={"max_claims": 40}))
    offline = {(c.start, c.end): c for c in claims.candidates(text)}
    compared = 0
    for claim in found:
        if (mine := offline.get((claim.start, claim.end))) is not None:
            assert (claim.text, claim.self_contained, claim.context) == (
                mine.text, mine.self_contained, mine.context)
            compared += 1
    # Every statement the offline path finds is kept, split as offline; every other sentence
    # (the title line among them) is dropped.
    assert [(c.start, c.end) for c in found] == list(offline)
    assert compared == len(found) >= 10 and any(not c.self_contained for c in found)
    claimed = [s for s in sentences
               if any(text.index(s) <= start < text.index(s) + len(s) for start, _ in offline)]
    assert len(claimed) < len(sentences) and len(claimed) < len(found)  # some split in two


def test_the_report_marks_a_leaning_llm_claim_as_it_marks_an_offline_one(openai_server, capsys,
                                                                         monkeypatch):
    server, _ = openai_server
    server.answer(claims_answer(FERRY_ANSWER))
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("LLM_CACHE", "false")
    article = Path("ferry.txt")
    article.write_text(FERRY, encoding="utf-8")
    # An empty collection: no stance call. Markdown, as the terminal wraps its lines.
    assert main(["check", str(article), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.count("Leans on the article") == 2
    assert f"Leans on the article; the sentence before it: “{LEAD}”" in out
    assert "Ruth Okafor said the last winter cut" in out
    assert "Brannock pier" not in out and "betrayal" not in out
    server.answer(claims_answer(FERRY_ANSWER))
    assert main(["check", str(article), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    marks = [(c["claim"]["self_contained"], c["claim"]["context"]) for c in report["claims"]]
    assert marks[1] == (False, LEAD) and marks[0] == (True, None)


def eval_claims_llm(capsys, monkeypatch, server, **env: str) -> dict:
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    labels = CLAIM_SET / "labels.jsonl"
    assert main(["eval", "claims", "--labels", str(labels), "--engine", "llm", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def labelled_rows() -> list[dict]:
    text = (CLAIM_SET / "labels.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_eval_claims_on_the_llm_engine_measures_the_rules_on_an_answer_that_lists_everything(
        openai_server, capsys, monkeypatch):
    """The plumbing, not a model: the scripted model copies every labelled sentence, claims or
    not, unreworded and unsplit (fakes.openai_models.LabelledClaimsModel)."""
    server, _ = openai_server
    server.responder = model = LabelledClaimsModel(labelled_rows())
    result = eval_claims_llm(capsys, monkeypatch, server, LLM_CACHE="false")
    assert sorted(model.answered) == sorted(
        ["seed_article.txt", "harbour_fire.txt", "transit_budget.md", "drought_report.pdf"])
    assert len(server.chat_requests) == 4  # one claims call per article
    # Measured: precision 0.9821 (one non-claim the offline rules keep too, "Farmers have been
    # hit hardest."), recall 1.0 (0.9636 under the earlier cap of 20, which the split sentences
    # filled), self_contained 0.635, leaning_marked 0.43, atomic 0.8:
    # the sentences copied unsplit are split as offline (before: recall 1.0, atomic 0).
    assert result["precision"] >= 0.95 and result["recall"] >= 0.95
    assert result["self_contained"] >= 0.6 and result["leaning_marked"] >= 0.35
    assert result["atomic"] >= 0.6


def test_the_rules_drop_no_claim_the_labels_call_a_claim(openai_server, capsys, monkeypatch):
    server, _ = openai_server
    server.responder = LabelledClaimsModel(labelled_rows(), every_sentence=False)
    result = eval_claims_llm(capsys, monkeypatch, server, LLM_CACHE="false", MAX_CLAIMS="30")
    assert result["precision"] == 1.0 and result["recall"] == 1.0
    # 55 claim sentences (58 before the titles, issue 13); 63 claims as split offline.
    assert result["gold_claims"] == 55 and result["claims"] == 63


def test_a_list_item_copied_as_it_stands_is_read_with_its_lead_in_as_offline():
    text = ("The Velden library plan includes:\n\n- a reading room for 120 people\n"
            "- longer opening hours on Sundays in winter\n\n## Costs\n")
    item = "a reading room for 120 people"
    start = text.index(item)
    own = "The Velden library plan includes longer opening hours on Sundays in winter."
    heading = text.index("Costs")
    [first], [second], third = claims.reviewed(text, [
        (start, start + len(item), item),
        (text.index("longer"), text.index(" in winter") + 10, own),
        (heading, heading + 5, "Costs"),
    ])
    assert first.text == "The Velden library plan includes a reading room for 120 people"
    assert first.text == claims.candidates(text)[0].text
    assert second.text == own  # the LLM's own wording stays
    assert third == []  # a heading is structure, not a claim


# Made up for these tests: a headline, a sentence that joins two statements, and a sentence
# that holds one.
STRIKE = """Port strike ends after two weeks

Dock workers at Halvik returned to work on Monday after a 14-day strike, and the port authority reopened all six berths. Ships waited up to nine days at anchor during the strike.
"""
JOINED = ("Dock workers at Halvik returned to work on Monday after a 14-day strike, and the port "
          "authority reopened all six berths.")
WAITED = "Ships waited up to nine days at anchor during the strike."


def test_the_llms_claims_are_split_as_offline_and_an_atomic_one_stays_one(openai_server):
    server, settings = openai_server
    server.answer(claims_answer([
        ("Port strike ends after two weeks", "Port strike ends after two weeks", 0.9),
        (JOINED, JOINED, 0.8),  # copied as it stands: offline's two claims
        ("Halvik dock workers went back to work on Monday and the port authority reopened all "
         "six berths.", JOINED, 0.7),  # its own wording of two statements: split
        ("The strike at Halvik lasted 14 days.", JOINED, 0.6),  # atomic: stays one
        (WAITED, WAITED, 0.5),
    ]))
    found = extract_claims_llm(Article(text=STRIKE), settings)
    offline = claims.candidates(STRIKE)
    assert [(c.start, c.end, c.text) for c in found if c.checkworthiness == 0.8] == [
        (o.start, o.end, o.text) for o in offline[:2]]
    assert [c.text for c in found] == [
        "Dock workers at Halvik returned to work on Monday after a 14-day strike",
        "Halvik dock workers went back to work on Monday",
        "The strike at Halvik lasted 14 days.",
        "The port authority reopened all six berths.",
        "Ships waited up to nine days at anchor during the Port strike.",  # the headline's event
    ]  # the headline is the title, no claim; the berths, said twice, kept once
    own = next(c for c in found if c.text.startswith("Halvik"))
    assert (own.start, own.end) == (offline[0].start, offline[0].end)  # its part of the sentence
    whole = (STRIKE.index(JOINED), STRIKE.index(JOINED) + len(JOINED))
    atomic_one = next(c for c in found if c.text.startswith("The strike"))
    assert (atomic_one.start, atomic_one.end) == whole
    assert [c.id for c in found] == [1, 2, 3, 4, 5]


def test_a_split_the_sentence_does_not_share_keeps_the_sentences_span():
    start = STRIKE.index(WAITED)
    span = (start, start + len(WAITED))
    own = "Ships waited up to nine days at anchor and their crews stayed on board during the strike."
    (parts,) = claims.reviewed(STRIKE, [(*span, own)])
    assert [(p.start, p.end) for p in parts] == [span, span]
    assert [p.text for p in parts] == ["Ships waited up to nine days at anchor",
                                       "Their crews stayed on board during the Port strike."]
