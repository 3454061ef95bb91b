"""Quantities: digits, number words, qualifiers, what they count, and what is not a count."""

from __future__ import annotations

import math

import pytest

from factcheck.numbers import Quantity, comparable, conflicts, quantities

# The seed article's five death tolls for the same clash (sentences quoted from it).
SEED_TOLLS = [
    ("The fact that the death toll hits baker’s dozen is revealed by ataman Maxim Buga.",
     13, 13, 13, None, "killed"),
    ("The ministry’s spokeswoman, Maria Zakharova, said the five Russians killed in the "
     "February 7 clash in the eastern Deir el-Zour province were not military personnel.",
     5, 5, 5, "russian", "killed"),
    ("As a result, as many as 200 members of that battalion-sized unit were killed in USA -led "
     "air and artillery strikes.", 200, 0, 200, "member", "killed"),
    ("They are thought to be among the 100 or so dead after the clash.",
     100, 80, 120, None, "killed"),
]


@pytest.mark.parametrize(("sentence", "value", "low", "high", "unit", "event"), SEED_TOLLS)
def test_seed_article_tolls(sentence, value, low, high, unit, event):
    (found,) = quantities(sentence)
    assert (found.value, found.low, found.high) == (value, low, high)
    assert (found.unit, found.event) == (unit, event)


def test_seed_article_fifteen_russians_of_twenty_three_people():
    sentence = "It said a total of 23 people were killed, including 15 Russians."
    people, russians = quantities(sentence)
    assert (people.value, people.unit, people.event) == (23, "people", "killed")
    assert (russians.value, russians.unit, russians.event) == (15, "russian", "killed")
    assert sentence[russians.start : russians.end] == "15"


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("The unemployment rate fell to 4.1% in March.", [4.1]),
        ("It cost $3.5 million and covered 1,200 acres.", [3.5e6, 1200]),
        ("thirteen", [13]),
        ("two hundred soldiers", [200]),
        ("a hundred and fifty people", [150]),
        ("twenty-three people", [23]),
        ("a dozen eggs and two dozen apples", [12, 24]),
        ("Risk fell by 30 percent among 1,000 women.", [30, 1000]),
        ("a 5bn deal", [5e9]),
        ("0.05", [0.05]),
    ],
)
def test_values(text, values):
    assert [q.value for q in quantities(text)] == pytest.approx(values)


@pytest.mark.parametrize(
    "text",
    [
        "In 2015 the war began.",  # a year
        "The contractors have been active since September 2015.",
        "The clash on February 7 ended at 10:30.",  # date and time
        "COVID-19 reached F-16 pilots in the 1990s.",  # codes and decades
        "Syria's second largest city was taken on the 7th.",  # ordinals
        "far more than a handful of contractors and dozens of others",  # vague amounts
        "one of the deceased was a Cossack",  # "one of" is a pronoun
    ],
)
def test_not_counts(text):
    assert quantities(text) == []


@pytest.mark.parametrize(
    ("text", "low", "high", "qualifier"),
    [
        ("about 100 people", 80, 120, "about"),
        ("some 40 villages", 32, 48, "some"),
        ("up to 50 people", 0, 50, "up to"),
        ("at least 12 people", 12, math.inf, "at least"),
        ("more than 300 people", 300, math.inf, "more than"),
        ("nearly 90 people", 72, 90, "nearly"),
        ("between 10 and 15 people", 10, 15, "between"),
        ("10-15 people", 10, 15, None),
    ],
)
def test_bounds_and_qualifiers(text, low, high, qualifier):
    (found,) = quantities(text)
    assert (found.low, found.high, found.qualifier) == (pytest.approx(low), high, qualifier)
    assert found.approximate
    assert text[found.start : found.end].split()[-1][0].isdigit()


def test_span_covers_qualifier():
    text = "Officials said as many as 200 were killed."
    (found,) = quantities(text)
    assert text[found.start : found.end] == "as many as 200"


def test_units_and_ratio():
    assert [q.unit for q in quantities("4.1% and $3 and 1 in 5 million")] == ["%", "$", "ratio"]


def test_year_followed_by_plural_noun_is_a_count():
    (found,) = quantities("In 2015, 2000 people died.")
    assert (found.value, found.unit, found.event) == (2000, "people", "killed")


def test_conflicts_between_tolls():
    five = "Five Russians were killed in the clash."
    assert [(a.value, b.value) for a, b in conflicts(five, "Fifteen Russians were killed.")] == [
        (5, 15)]
    assert conflicts(five, "the death toll hits baker's dozen")  # same event, no noun
    assert not conflicts(five, "About 5 Russians were killed.")
    assert not conflicts(five, "23 people died.")  # people are not Russians


def test_comparable_needs_same_unit_or_event():
    def one(text: str) -> Quantity:
        return quantities(text)[0]

    assert comparable(one("5 Russians killed"), one("13 killed"))
    assert not comparable(one("5 tanks"), one("13 killed"))
    assert not one("about 100 dead").overlaps(one("5 killed"))
    assert one("about 100 dead").overlaps(one("as many as 200 killed"))


@pytest.mark.parametrize("text", ["Methane (CH₄) rose by 5%.", "²³ cases", "x² grew in 5 people"])
def test_superscript_and_subscript_digits_are_not_numbers(text):
    # str.isdigit() is true for '₄' and '²', but float() cannot read them.
    assert [q.value for q in quantities(text)] in ([5.0], [])
