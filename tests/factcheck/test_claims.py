"""Offline claim extraction: Markdown read as Markdown, atomic claims, self-contained wording."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from factcheck import atomic
from factcheck.blocks import plain, units
from factcheck.claims import candidates, extract_claims_offline
from factcheck.decontext import Resolver
from factcheck.models import Article

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed_article.txt"
MARKDOWN = """# Riverton council approves record transit budget

*By staff reporter · 14 May*

Riverton city council approved a transit budget of 212 million dollars on Tuesday.

The budget includes:

- 38 new electric buses, replacing diesel vehicles that are 16 years old
- more staff

| Item | 2024 | 2025 |
|---|---|---|
| Buses | 61.0 | 74.5 |

```
print("not a claim")
```

> "We are finally building the network this city deserves," Mayor Tom Alvarez said.
"""


def test_markdown_structure_is_not_checked_as_text():
    kinds = [(u.kind, plain(MARKDOWN[u.start:u.end])) for u in units(MARKDOWN)]
    assert ("heading", "# Riverton council approves record transit budget") in kinds
    assert [k for k, _ in kinds].count("table") == 3
    assert "code" in [k for k, _ in kinds]
    item = next(u for u in units(MARKDOWN) if u.kind == "item")
    assert item.lead_in == "The budget includes"
    texts = [c.text for c in candidates(MARKDOWN)]
    assert texts == [
        "Riverton city council approved a transit budget of 212 million dollars on Tuesday.",
        "The transit budget includes 38 new electric buses, replacing diesel vehicles that are "
        "16 years old",
    ]  # no heading, byline, table row, code, fragment item or quoted opinion


def test_claim_spans_index_the_article_even_when_the_wording_changes():
    claims = candidates(MARKDOWN)
    assert MARKDOWN[claims[1].start:claims[1].end] == (
        "38 new electric buses, replacing diesel vehicles that are 16 years old")


@pytest.mark.parametrize(
    ("sentence", "parts"),
    [
        ("Russia’s military said it was not involved in the attack and the claim was accepted "
         "by the US.",
         ["Russia’s military said it was not involved in the attack",
          "The claim of Russia’s military that it was not involved in the attack was accepted "
          "by the US."]),
        ("Wagner is registered in Hong Kong and has no public offices in Russian Federation and "
         "no contact details.",
         ["Wagner is registered in Hong Kong",
          "Wagner has no public offices in Russian Federation and no contact details."]),
        ("The fire service said two workers were treated for smoke inhalation and no one was "
         "killed.",
         ["The fire service said two workers were treated for smoke inhalation",
          "The fire service said no one was killed."]),
        ("Irrigation quotas were cut by half in June, and about 1,200 farms have applied for aid.",
         ["Irrigation quotas were cut by half in June", "About 1,200 farms have applied for aid."]),
        # One statement each: no verb on one side, or the right side has no subject of its own.
        ("Rainfall between April and July was 40 percent below the long-term average.", None),
        ("The grant had been approved in principle but not yet signed by the agency.", None),
        ("Novak said Russian companies want to refurbish damaged oil pipelines and wells.", None),
    ],
)
def test_a_sentence_joining_two_statements_becomes_two(sentence, parts):
    found = atomic.split(sentence)
    assert [w for _, _, w in found] == (parts or [sentence])
    for start, end, _ in found:  # each part's span is its own clause of the sentence
        assert sentence[start:end].strip() and end <= len(sentence)


def read(*sentences: str) -> Resolver:
    resolver = Resolver()
    for sentence in sentences:
        resolver.add(sentence)
    return resolver


@pytest.mark.parametrize(
    ("before", "sentence", "wording"),
    [
        (['"This is a dark day," said Mayor Ines Dorr, who visited the site.'],
         "She said the port would reopen on Wednesday.",
         "Mayor Ines Dorr said the port would reopen on Wednesday."),
        (["The Salden Water Authority said it would extend the ban."],
         "It warned that levels could fall by October.",
         "The Salden Water Authority warned that levels could fall by October."),
        (["The blaze started in a hall operated by Norvale Logistics, a company that ships grain."],
         "The company estimated its losses at 6 million euros.",
         "Norvale Logistics estimated its losses at 6 million euros."),
        (["A fire destroyed a grain warehouse at the port of Allard on Sunday night."],
         "The warehouse was built in 1974.",
         "The grain warehouse at the port of Allard was built in 1974."),
        (["USA airstrike destroys Russian-made tank in Syria"],
         "Russia’s military said it was not involved in the attack.",
         "Russia’s military said it was not involved in the attack (USA airstrike in Syria)."),
        (["Fire destroys grain warehouse at Port Allard"],
         "The fire service said the cause of the fire was not known.",
         "The fire service said the cause of the fire at Port Allard was not known."),
        (["Something else happened."], "It said a total of 23 people were killed.",
         "A source said a total of 23 people were killed."),
    ],
)
def test_what_a_sentence_leans_on_is_taken_from_the_sentences_before(before, sentence, wording):
    assert read(*before).resolve(sentence).text == wording


@pytest.mark.parametrize(
    "sentence",
    ["They are thought to be among the 100 or so dead after the clash.",
     "The contractors have been active in Syria since 2015.",
     "As a result, 200 members of that battalion-sized unit were killed.",
     "A United States detachment was at the base."],
)
def test_what_no_rule_resolves_is_marked_and_keeps_its_context(sentence):
    resolved = read("Russia’s assistance has proved to be a major success.").resolve(sentence)
    assert resolved.self_contained is False
    assert resolved.context == "Russia’s assistance has proved to be a major success."


def test_a_self_contained_sentence_is_left_as_it_is():
    sentence = "Wagner is registered in Hong Kong."
    resolved = read("The contractors were killed.").resolve(sentence)
    assert (resolved.text, resolved.self_contained, resolved.context) == (sentence, True, None)


def test_seed_article_claims_read_alone_or_are_marked():
    text = SEED.read_text(encoding="utf-8")
    found = candidates(text)
    texts = [c.text for c in found]
    for claim in found:
        assert not re.match(r"It said\b", claim.text)
        if re.match(r"(It|He|She|They)\b", claim.text):
            assert not claim.self_contained and claim.context  # shown with its context
    # The caption, the quoted opinion and the speculation are not claims.
    assert not any(t.startswith("Pro-regime forces") for t in texts)
    assert not any("beyond doubt" in t or "both sides will be more careful" in t for t in texts)
    assert not any(t.startswith("If those numbers hold") for t in texts)
    # The facts the old extraction dropped are claims.
    assert "Wagner is registered in Hong Kong" in texts
    assert any(t.startswith("US Special Forces soldiers were stationed") for t in texts)
    assert any("al-Baqir brigade" in t for t in texts)


def test_every_claim_maps_to_its_span():
    text = SEED.read_text(encoding="utf-8")
    for claim in extract_claims_offline(Article(text=text), max_claims=40):
        assert text[claim.start:claim.end].strip()
        assert text[claim.start:claim.end].split()[-1].rstrip(".") in claim.text


def test_the_cap_keeps_the_best_scored_and_counts_what_it_left_out():
    from factcheck.engines.offline import OfflineEngine
    from factcheck.settings import Settings

    article = Article(text=SEED.read_text(encoding="utf-8"))
    everything = extract_claims_offline(article, max_claims=200)
    capped = OfflineEngine(Settings(_env_file=None, max_claims=5)).extract_claims(article)
    assert len(capped.claims) == 5 and capped.left_out == len(everything) - 5
    assert {c.text for c in capped.claims} <= {c.text for c in everything}
    roomy = OfflineEngine(Settings(_env_file=None, max_claims=200)).extract_claims(article)
    assert roomy.left_out == 0 and len(roomy.claims) == len(everything)


def test_two_statements_worded_alike_that_lean_on_different_context_are_two():
    text = ("Unemployment in Spain was 12 percent in 2022. The figure rose by 2 points last year. "
            "Inflation in Italy was 8 percent in 2022. The figure rose by 2 points last year.")
    rose = [c for c in candidates(text) if "rose by 2 points" in c.text]
    assert len(rose) == 2 and rose[0].start < rose[1].start


def test_a_sentence_the_article_repeats_is_one_claim():
    sentence = "Five people were killed in the strike on Monday, officials said."
    text = "\n\n".join([sentence, "The town's mayor called for calm.", sentence.upper(), sentence])
    found = candidates(text)
    assert [c.text for c in found].count(sentence) == 1
    assert found[0].start == 0  # the first one, with its span
