"""`factcheck eval claims`: how well claim extraction picks and words an article's claims.

A claim set is a JSONL file of labelled sentences, `{"article", "sentence", "claim",
"self_contained", "refers_to", "parts"}`, next to the articles it names (tests/data/claim_set/
and its README). Every sentence of every article is labelled, in article order, so that an
extracted claim outside all of them counts against precision.

- precision / recall of "is a claim", per sentence: a sentence is extracted when some claim's
  span overlaps it (most of it, when a claim overlaps several);
- self_contained: the share of extracted claims (of claim sentences) that read alone: their
  sentence does, or their wording names what the sentence leans on (one of its `refers_to`);
- leaning_marked: of the extracted claims that do not read alone, the share marked as such
  (`Claim.self_contained` False, shown with their context);
- atomic: of the sentences that state `parts` >= 2 claims, the share extracted as 2+ claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from factcheck.engines import engine_for
from factcheck.errors import BadInputError
from factcheck.eval_corpus import EvalProgress
from factcheck.evaluation import read_jsonl
from factcheck.intake import read_article
from factcheck.metrics import precision_recall_f1
from factcheck.models import Article, Claim
from factcheck.runs import Prediction, Recorder
from factcheck.settings import Settings


@dataclass
class GoldSentence:
    """One labelled sentence, located in its article's text."""

    key: str  # "<article>#<n>"
    text: str
    claim: bool
    self_contained: bool
    refers_to: list[str]
    parts: int
    start: int
    end: int


@dataclass
class _Tally:
    gold_claims: int = 0
    extracted_sentences: int = 0
    right: int = 0
    stray_claims: int = 0  # claims overlapping no labelled sentence
    claims_on_claim_sentences: int = 0
    reading_alone: int = 0
    leaning: int = 0  # claims that do not read alone
    leaning_marked: int = 0  # ... and say so (self_contained False, with their context)
    multipart: int = 0
    split: int = 0
    claims: int = 0
    per_article: dict[str, dict] = field(default_factory=dict)


def eval_claims(
    labels: Path, settings: Settings, recorder: Recorder | None = None,
    progress: EvalProgress | None = None,
) -> dict:
    """Precision and recall of "is a claim", the self-contained share and the atomic share."""
    articles = load_claim_set(labels, settings)
    tally = _Tally()
    engine = engine_for(settings)
    for done, (article, gold) in enumerate(articles):
        if progress:
            progress("examples", done, len(articles))
        claims = engine.extract_claims(article).claims
        _count(tally, article.source, gold, claims, recorder)
    if progress:
        progress("examples", len(articles), len(articles))
    return _result(tally, len(articles), sum(len(g) for _, g in articles))


def load_claim_set(labels: Path, settings: Settings) -> list[tuple[Article, list[GoldSentence]]]:
    """Each article of the set (read as the product reads it) with its located sentences."""
    rows = read_jsonl(labels, ("article", "sentence", "claim"),
                      {"claim": [True, False], "self_contained": [True, False]})
    names = list(dict.fromkeys(r["article"] for r in rows))
    found = []
    for name in names:
        path = labels.parent / name
        if not path.is_file():
            raise BadInputError(f"{labels}: article {name} is not beside it (no file {path})")
        article = read_article(str(path), settings)
        article = article.model_copy(update={"source": name})
        found.append((article, _locate(article.text, name, [r for r in rows if r["article"] == name])))
    return found


def _locate(text: str, name: str, rows: list[dict]) -> list[GoldSentence]:
    """The rows' sentences found in order in `text` (whitespace may differ: PDF line breaks)."""
    located, position = [], 0
    for n, row in enumerate(rows, start=1):
        words = row["sentence"].split()
        match = re.compile(r"\s+".join(map(re.escape, words))).search(text, position)
        if not match:
            raise BadInputError(f"{name}: sentence {n} not found in order: {row['sentence']!r}")
        position = match.end()
        located.append(GoldSentence(
            key=f"{name}#{n}", text=row["sentence"], claim=bool(row["claim"]),
            self_contained=bool(row.get("self_contained", True)),
            refers_to=list(row.get("refers_to") or []), parts=int(row.get("parts", 1)),
            start=match.start(), end=match.end(),
        ))
    return located


def reads_alone(claim: Claim, gold: GoldSentence) -> bool:
    """True when the claim's wording can be understood without the article."""
    if gold.self_contained:
        return True
    wording = claim.text.lower()
    return any(ref.lower() in wording for ref in gold.refers_to)


def _sentence_of(claim: Claim, gold: list[GoldSentence]) -> GoldSentence | None:
    overlaps = [(min(claim.end, g.end) - max(claim.start, g.start), g) for g in gold]
    best = max(overlaps, key=lambda pair: pair[0], default=(0, None))
    return best[1] if best[0] > 0 else None


def _count(tally: _Tally, name: str, gold: list[GoldSentence], claims: list[Claim],
           recorder: Recorder | None) -> None:
    by_sentence: dict[str, list[Claim]] = {g.key: [] for g in gold}
    for claim in claims:
        sentence = _sentence_of(claim, gold)
        if sentence is None:
            tally.stray_claims += 1
        else:
            by_sentence[sentence.key].append(claim)
    right = 0
    for g in gold:
        mine = by_sentence[g.key]
        tally.gold_claims += g.claim
        tally.extracted_sentences += bool(mine)
        right += bool(mine) and g.claim
        if g.claim and mine:
            tally.claims_on_claim_sentences += len(mine)
            alone = [reads_alone(c, g) for c in mine]
            tally.reading_alone += sum(alone)
            tally.leaning += alone.count(False)
            tally.leaning_marked += sum(not a and not c.self_contained for a, c in zip(alone, mine))
        if g.claim and g.parts > 1 and mine:
            tally.multipart += 1
            tally.split += len(mine) > 1
        if recorder:
            recorder.add(Prediction(id=g.key, gold=g.claim, predicted=[c.text for c in mine]))
    tally.right += right
    tally.claims += len(claims)
    tally.per_article[name] = {
        "claims": len(claims), "gold_claims": sum(g.claim for g in gold), "right": right,
    }


def _result(tally: _Tally, articles: int, sentences: int) -> dict:
    made = tally.extracted_sentences + tally.stray_claims
    precision, recall, f1 = precision_recall_f1(tally.right, made, tally.gold_claims)
    return {
        "articles": articles, "sentences": sentences, "gold_claims": tally.gold_claims,
        "claims": tally.claims,
        "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
        "self_contained": _share(tally.reading_alone, tally.claims_on_claim_sentences),
        "leaning_marked": _share(tally.leaning_marked, tally.leaning),
        "atomic": _share(tally.split, tally.multipart),
        "per_article": tally.per_article,
    }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
