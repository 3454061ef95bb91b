"""What is not a claim: questions, captions, quoted opinions, speculation, fragments."""

from __future__ import annotations

import pytest

from factcheck import claim_rules

FACT = "The unemployment rate fell to 4.1% in March."
GREETING = "Good evening, and welcome."


@pytest.mark.parametrize(
    ("sentence", "checkable"),
    [
        (FACT, True),
        ("Five Russians were killed in the February 7 clash in Deir el-Zour.", True),
        ("USA airstrike destroys Russian-made tank in Syria", True),  # a headline with a verb
        ("Reservoirs fall to lowest level in 30 years", True),
        ("Why did the unemployment rate fall in March?", False),  # question
        (GREETING, False),
        ("Thank you all for being here tonight with us.", False),
        ("I think we should be much more careful with our allies.", False),  # pure opinion
        ("We should invest in our roads and bridges again.", False),
        ("So, I think both sides will be more careful”.", False),
        ("I think unemployment fell to 4.1% in March.", True),  # opinion carrying a figure
        ("Absolutely, that's right.", False),  # fragment
        ("Russian Mercenaries In Syria", False),  # title-case heading
        ("The budget includes:", False),  # a lead-in: its list carries the statements
    ],
)
def test_is_checkable(sentence, checkable):
    assert claim_rules.is_checkable(sentence) is checkable


@pytest.mark.parametrize(
    ("sentence", "why"),
    [
        ("Pro-regime forces in the ruined city of Deir Ezzor in eastern Syria.", "caption"),
        ("Firefighters at the scene late on Sunday.", "caption"),
        ("Photo: Smoke over the port of Allard on Sunday night.", "caption"),
        ("Figure 2: Reservoir levels in the Salden region, 2015-2024.", "caption"),
        ("By staff reporter · 14 May", "caption"),
        ("Water authority report, 2 August", "caption"),
        ("“It is beyond doubt that this incident indeed took place.", "quoted opinion"),
        ('"This is a dark day for our town," said Mayor Ines Dorr, who visited the site on '
         "Monday morning.", "quoted opinion"),
        ('Opposition councillor Dana Whitfield called the plan "a wish list, not a budget".',
         "quoted opinion"),
        ("If those numbers hold, it could be the deadliest clash between citizens of the "
         "United States and Russian Federation since the end of the Cold War.", "speculation"),
        ("Of course, if indeed Russian soldiers were killed while fighting under covert "
         "circumstances – in the same way as killed U.S.", "speculation"),
        ("Is the aid enough?", "question"),
    ],
)
def test_not_claims_say_why(sentence, why):
    assert claim_rules.reason(sentence) == why


@pytest.mark.parametrize(
    "sentence",
    [
        "“Coalition officials maintained regular contact with Russian counterparts via "
        "established de-confliction lines”, the statement added.",  # the quotation names names
        "Spending on trams almost doubles, from 48.2 million to 90.1 million dollars.",
        "They now want an independent inquiry.",
        "The authority said it would extend the ban if levels fell below 25 percent.",
        "If you look at the data, we have the highest taxes anywhere in the world.",
        "We're using about fifty percent of our steel capacity today.",
        "The murder rate in 2015 experienced its largest single-year increase in decades.",
        "Mitochondria play a major role in apoptosis.",  # a plural subject and a base verb
        "RTEL1 interacts with TRF2 through a C4C4 motif",
    ],
)
def test_claims_the_rules_keep(sentence):
    assert claim_rules.reason(sentence) is None


def test_subject_is_the_words_before_the_first_verb():
    assert claim_rules.subject_of("The company estimated its losses at 6 million euros") == (
        "The company")
    assert claim_rules.subject_of("The budget includes 38 new buses") == "The budget"
    assert claim_rules.subject_of("Photo of the port at night") is None
