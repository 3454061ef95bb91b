from pathlib import Path

import pytest

from factcheck.attribution import UNNAMED, speaker
from factcheck.claims import extract_claims_offline
from factcheck.contradictions import find, groups
from factcheck.models import Article, Claim
from factcheck.render import group_line
from factcheck.sentences import split_sentences

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed_article.txt"
# Written for this test: a fire with conflicting tolls, injury counts and staff numbers given by
# named and unnamed sources, and a bound that allows the other figure.
FIRE = ROOT / "tests" / "data" / "conflicting_figures_article.txt"


def claims_of(text: str) -> list[Claim]:
    return [Claim(id=i, text=text[s:e], start=s, end=e, checkworthiness=1.0)
            for i, (s, e) in enumerate(split_sentences(text), start=1)]


def lines_of(path: Path) -> dict[str, str]:
    text = path.read_text()
    claims = extract_claims_offline(Article(text=text), max_claims=20)
    return {g.measure: group_line(g) for g in groups(claims, text)}


def test_seed_article_gives_one_death_toll_line_with_who_gives_each_figure():
    lines = lines_of(SEED)
    assert list(lines) == ["death toll"]
    line = lines["death toll"]
    figures = [f.split(" (")[0] for f in line.removeprefix("death toll: ").split(" · ")]
    assert figures == ["5 Russians", "13", "15 Russians of 23 people", "about 100",
                       "up to 200 members of that battalion-sized unit"]
    assert "5 Russians (Maria Zakharova, the ministry; claim" in line
    assert "13 (Maxim Buga, Baltic Separate Cossack District; claim" in line
    assert f"15 Russians of 23 people ({UNNAMED}; claim" in line


def test_seed_pairs_respect_bounds_and_measures():
    text = SEED.read_text()
    claims = claims_of(text)
    reasons = [c.reason for c in find(claims, text)]
    assert "death toll differs: “five” vs “15”" in reasons  # the same noun: Russians
    # "as many as 200" allows "100 or so"; five Russians are a part of 23 people in all.
    assert not any("as many as 200" in r for r in reasons)
    assert not any("“five” vs “23”" in r for r in reasons)
    assert all(c.measure == "death toll" for c in find(claims, text))


def test_second_article_one_line_per_measure_with_sources():
    lines = lines_of(FIRE)
    assert set(lines) == {"death toll", "number of injured", "number of employees"}
    assert lines["death toll"].startswith(
        "death toll: 2 people (Anna Berg, Mayor; claim 2) · at least 4 workers "
        "(the regional fire service; claim 1)")
    injured = lines["number of injured"]
    assert injured.index("6 firefighters (a union spokesman") < injured.index(
        "8 firefighters of 30 people (Norvale General Hospital") < injured.index(
        "12 people (Anna Berg, Mayor") < injured.index("18 people (police")
    assert "60 employees (Norvale Logistics" in lines["number of employees"]
    assert "85 employees (the union" in lines["number of employees"]
    # "as many as 40 homes" and "35 homes" can both be true: no line for them.
    assert not any("homes" in line for line in lines.values())


def test_same_figure_rounded_or_other_measures_do_not_conflict():
    claims = claims_of(
        "About 100 people were killed in the blast. Officials said 98 people died. "
        "Five people were injured. The budget grew to 5 million dollars."
    )
    assert find(claims) == [] and groups(claims) == []


def test_different_injury_counts_conflict():
    claims = claims_of("Twelve people were wounded. Police said 40 people were injured.")
    [conflict] = find(claims)
    assert (conflict.first, conflict.second) == (1, 2)
    assert "injured" in conflict.reason
    [group] = groups(claims)
    assert group_line(group) == "number of injured: 12 people (claim 1) · 40 people (police; claim 2)"


def test_a_part_conflicts_with_the_whole_only_when_it_exceeds_it():
    smaller = claims_of("Ten people died in the crash. Four children died in the crash.")
    larger = claims_of("Ten people died in the crash. Fourteen children died in the crash.")
    assert find(smaller) == []
    assert len(find(larger)) == 1


def test_the_same_figure_from_two_claims_is_one_figure_with_both_sources():
    claims = claims_of("Police said 12 people were injured. The mayor said 12 people were "
                       "injured. Hospital staff said 30 people were injured.")
    [group] = groups(claims)
    assert [(f.figure, f.sources, f.claims) for f in group.figures] == [
        ("12 people", ["police", "the mayor"], [1, 2]),
        ("30 people", ["Hospital staff"], [3]),
    ]


@pytest.mark.parametrize("sentence, who", [
    ("The ministry’s spokeswoman, Maria Zakharova, said five Russians died.",
     "Maria Zakharova, the ministry"),
    ("It said a total of 23 people were killed.", UNNAMED),
    ("According to the regional health office, 14 people were hurt.",
     "the regional health office"),
    ("Five people died, said John Smith.", "John Smith"),
    ("The fire, which started at 3 a.m., destroyed 12 homes, the fire service said.",
     "the fire service"),
    ("The toll was revealed by ataman of the Baltic Cossack District Maxim Buga, a friend.",
     "Maxim Buga, Baltic Cossack District"),
    ("They are thought to be among the 100 or so dead.", None),
    ("He quoted “officials said 5 died” in a report.", None),
])
def test_speaker_is_who_the_sentence_says(sentence, who):
    assert speaker(sentence) == who
