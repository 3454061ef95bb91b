"""How a report reads in the terminal and in Markdown."""

from __future__ import annotations

from fakes.reports import claim_check, report
from rich.console import Console

from factcheck import contradictions
from factcheck.cli.render import print_report
from factcheck.models import Label, LLMUsage, Provenance
from factcheck.render import to_markdown

CONTEXT = "Russia’s assistance has proved to be a major success."


def leaning_report():
    leaning = claim_check(1, "They are thought to be among the 100 or so dead.",
                          Label.NOT_ENOUGH_EVIDENCE)
    leaning.claim.self_contained, leaning.claim.context = False, CONTEXT
    alone = claim_check(2, "Wagner is registered in Hong Kong.", Label.NOT_ENOUGH_EVIDENCE)
    return report(leaning, alone)


def terminal(rendered) -> str:
    console = Console(record=True, width=200)
    print_report(rendered, console)
    return console.export_text()


def test_a_claim_that_leans_on_the_article_is_marked_with_its_context():
    markdown, text = to_markdown(leaning_report()), terminal(leaning_report())
    for out in (markdown, text):
        assert f"Leans on the article; the sentence before it: “{CONTEXT}”" in out
        assert out.count("Leans on the article") == 1  # the self-contained claim has no mark


def conflicting_report():
    first = claim_check(1, "Police said 12 people were injured.", Label.NOT_ENOUGH_EVIDENCE)
    second = claim_check(2, "The mayor said 30 people were injured.", Label.NOT_ENOUGH_EVIDENCE)
    checked = report(first, second)
    text = checked.article.text
    first.claim.start, first.claim.end = 0, len(first.claim.text)
    second.claim.start = text.index("The mayor")
    second.claim.end = len(text)
    claims = [first.claim, second.claim]
    return checked.model_copy(update={
        "internal_contradictions": contradictions.find(claims, text),
        "internal_contradiction_groups": contradictions.groups(claims, text)})


def test_conflicting_figures_are_one_line_per_measure_with_their_sources():
    line = ("number of injured: 12 people (police; claim 1) · 30 people (the mayor; claim 2)")
    for out in (to_markdown(conflicting_report()), terminal(conflicting_report())):
        assert "Figures of this article that contradict each other:" in out
        assert line in out and "claim 1 vs claim 2" not in out


def test_a_stored_report_with_pairs_only_still_lists_them():
    old = conflicting_report().model_copy(update={"internal_contradiction_groups": []})
    assert "claim 1 vs claim 2: number of injured differs: “12” vs “30”" in to_markdown(old)


def llm_report():
    checked = leaning_report()
    return checked.model_copy(update={
        "provenance": Provenance(engine="llm", model="gpt-4o-mini", embedder="e",
                                 prompts={"claims": "1:219ef52cfada", "stance": "1:1a1d993abc13"}),
        "timings": {"intake": 0.01, "claims": 2.3, "search": 0.05, "judging": 3.7,
                    "evidence": 3.8, "total": 6.2},
        "usage": LLMUsage(calls=7, tokens_in=9812, tokens_out=1206, cost_usd=0.0022)})


def test_footers_name_the_prompts_the_seconds_of_each_step_and_the_llm_cost():
    for out in (to_markdown(llm_report()), terminal(llm_report())):
        flat = " ".join(out.split())
        assert ("in 6.20 s (reading 0.01 s, claims 2.30 s, search 0.05 s, judging 3.70 s, "
                "setup 0.14 s).") in flat
        assert "Prompts: claims 1:219ef52cfada, stance 1:1a1d993abc13." in flat
        assert "LLM: 7 calls, 9,812 tokens in and 1,206 out, about $0.0022." in flat


def test_markdown_numbers_its_claims():
    markdown = to_markdown(leaning_report())
    assert "## ❔ 1. They are thought" in markdown and "## ❔ 2. Wagner is" in markdown


def test_what_the_claim_cap_left_out_is_said_in_every_format():
    capped = leaning_report().model_copy(update={"claims_left_out": 7})
    for out in (to_markdown(capped), terminal(capped)):
        assert "7 more checkable statements not checked: the best-scored 2 were kept" in out
        assert "raise MAX_CLAIMS" in out
    assert "not checked" not in to_markdown(leaning_report())
