from pathlib import Path

from factcheck.contradictions import find
from factcheck.models import Claim
from factcheck.sentences import split_sentences

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed_article.txt"


def claims_of(text: str) -> list[Claim]:
    return [Claim(id=i, text=text[s:e], start=s, end=e, checkworthiness=1.0)
            for i, (s, e) in enumerate(split_sentences(text), start=1)]


def test_seed_article_five_death_tolls_are_flagged():
    claims = claims_of(SEED.read_text())
    found = find(claims)
    flagged = {claims[c.first - 1].text for c in found} | {claims[c.second - 1].text for c in found}
    for figure in ("baker’s dozen", "the five Russians", "as many as 200", "15 Russians", "100 or so"):
        assert any(figure in text for text in flagged), figure
    five_vs_fifteen = [c for c in found if "“five” vs “15”" in c.reason]
    assert five_vs_fifteen, "the same counted noun (Russians) is preferred as the reason"
    assert all(c.reason.startswith("death toll differs") for c in found)


def test_same_figure_rounded_or_other_measures_do_not_conflict():
    claims = claims_of(
        "About 100 people were killed in the blast. Officials said 98 people died. "
        "Five people were injured. The budget grew to 5 million dollars."
    )
    assert find(claims) == []


def test_different_injury_counts_conflict():
    claims = claims_of("Twelve people were wounded. Police said 40 people were injured.")
    [conflict] = find(claims)
    assert (conflict.first, conflict.second) == (1, 2)
    assert "injured" in conflict.reason


def test_offline_claims_keep_every_conflicting_figure_under_the_cap():
    from factcheck.claims import extract_claims_offline
    from factcheck.models import Article

    claims = extract_claims_offline(Article(text=SEED.read_text()), max_claims=10)
    texts = " ".join(c.text for c in claims)
    for figure in ("baker’s dozen", "the five Russians", "as many as 200", "15 Russians", "100 or so"):
        assert figure in texts, figure
    assert len(claims) == 10
