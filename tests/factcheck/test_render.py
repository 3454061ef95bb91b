"""How a report reads in the terminal and in Markdown."""

from __future__ import annotations

from fakes.reports import claim_check, report
from rich.console import Console

from factcheck.models import Label
from factcheck.render import print_report, to_markdown

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
