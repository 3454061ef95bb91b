"""An article's title line: no claim of its own, the article's title instead (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from factcheck.blocks import units
from factcheck.claims import candidates, extract_claims_offline
from factcheck.intake import article_from_bytes, read_article
from factcheck.sentences import TITLE_MOST_WORDS, title_line
from factcheck.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BODY = "\n\nThe council approved 212 million dollars on Tuesday. Nine members voted for it."


@pytest.mark.parametrize("first", [
    "Ferry operator cuts winter crossings to Brannock",
    "“Not our fault,” says ferry operator",
    "Storm closes 14 schools in the north",
])
def test_a_short_first_line_alone_without_a_full_stop_is_the_title(first):
    assert title_line(first + BODY) == (0, len(first))


@pytest.mark.parametrize("text", [
    "The council approved 212 million dollars on Tuesday." + BODY,  # a sentence
    "Did the council approve the budget?" + BODY,  # a question
    "The budget includes:" + BODY,  # a lead-in
    "# Council approves budget" + BODY,  # a Markdown heading, read as one
    "- more staff for the depots" + BODY,  # a list item
    " ".join(["word"] * (TITLE_MOST_WORDS + 1)) + BODY,  # too long for a headline
    "Council approves budget",  # the whole text: what it says is the article
    "Council approves budget\nThe council approved it on Tuesday.",  # no blank line after
])
def test_anything_else_is_no_title(text):
    assert title_line(text) is None


def test_a_first_line_with_no_blank_line_after_is_the_title_its_source_gave():
    text = "Reservoirs fall to lowest level\nWater authority report, 2 August" + BODY
    assert title_line(text) is None  # a hard-wrapped line, for all we know
    assert title_line(text, "Reservoirs  fall to lowest level") == (0, 31)


def test_the_title_is_a_unit_of_its_own_and_the_rest_of_its_paragraph_is_read():
    text = "Reservoirs fall to lowest level\nThe dam held 31 percent of its capacity in July."
    kinds = [(u.kind, text[u.start : u.end]) for u in units(text, title_line(text, text[:31]))]
    assert kinds == [("title", "Reservoirs fall to lowest level"),
                     ("sentence", "The dam held 31 percent of its capacity in July.")]


def test_the_example_articles_claim_1_is_no_longer_its_headline_which_is_its_title():
    for name in ("example_article.txt", "seed_article.txt"):
        article = read_article(str(EXAMPLES / name), Settings(_env_file=None))
        headline = article.text.split("\n", 1)[0]
        assert article.title == headline
        first = extract_claims_offline(article, max_claims=20)[0]
        assert first.start > len(headline) and first.text != headline


def test_the_headline_still_names_the_event_a_later_claim_leans_on():
    text = (EXAMPLES / "seed_article.txt").read_text(encoding="utf-8")
    assert any("(USA airstrike in Syria)" in c.text for c in candidates(text))


def test_a_title_over_a_text_with_no_other_claim_is_what_the_text_states():
    text = "Vaccines cause autism in children\n\nIs this true?"
    assert [c.text for c in candidates(text)] == ["Vaccines cause autism in children"]


def test_an_article_keeps_the_title_its_source_gave():
    markdown = article_from_bytes(b"# Council approves budget" + BODY.encode(), "a.md",
                                  Settings(_env_file=None))
    assert markdown.title == "Council approves budget"
    plain = article_from_bytes(b"A sentence, not a title." + BODY.encode(), "a.txt",
                               Settings(_env_file=None))
    assert plain.title is None
