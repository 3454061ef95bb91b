"""Claim extraction: the LLM when configured, else sentence segmentation plus a trained scorer."""

from __future__ import annotations

from factcheck import checkworthiness, contradictions
from factcheck.models import Article, Claim
from factcheck.sentences import split_sentences
from factcheck.settings import Settings


def extract_claims(article: Article, settings: Settings, engine: str) -> list[Claim]:
    """The article's checkable claims, in article order, at most `settings.max_claims`."""
    if engine == "llm":
        from factcheck import llm

        return llm.extract_claims_llm(article, settings)
    return extract_claims_offline(article, settings.max_claims)


def extract_claims_offline(article: Article, max_claims: int) -> list[Claim]:
    """Each checkable sentence is a claim; the best-scored ones are kept, up to `max_claims`.

    The score only ranks: its model learnt from political debates, where a scientific finding
    scores low, so no threshold drops a checkable sentence of a short article.
    """
    spans = [
        (s, e) for s, e in split_sentences(article.text)
        if checkworthiness.is_checkable(article.text[s:e])
    ]
    if not spans:
        return []
    texts = [article.text[s:e] for s, e in spans]
    scores = checkworthiness.score(texts)
    # A figure that disagrees with another figure of the same article is always worth a check.
    conflicted = contradictions.conflicting(texts)
    ranked = sorted(range(len(spans)), key=lambda i: (i not in conflicted, -scores[i]))
    kept = sorted(ranked[:max_claims])
    return [
        Claim(
            id=n,
            text=article.text[spans[i][0] : spans[i][1]],
            start=spans[i][0],
            end=spans[i][1],
            checkworthiness=round(float(scores[i]), 3),
        )
        for n, i in enumerate(kept, start=1)
    ]
