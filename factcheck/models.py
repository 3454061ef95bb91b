"""The typed data that flows between the pipeline's steps, and the Report every front end
renders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

# The enums live with their table of marks, words and colours (factcheck/labels.py); they are
# imported from here too, as the types of the data.
from factcheck.labels import Label, Stance


def as_utc(moment: datetime | str) -> datetime:
    """A moment (or its ISO text) as an aware datetime; one without a time zone is UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Article(BaseModel):
    """Plain article text and where it came from."""

    text: str = Field(description="The article's main text, as the claims' spans index it.")
    title: str | None = Field(default=None, description="Headline, when the source gave one.")
    source: str = Field(default="-", description="File path, URL or '-' for standard input.")
    url: str | None = Field(default=None, description="The URL it was fetched from, if any.")


class Claim(BaseModel):
    """One checkable statement of the article."""

    id: int = Field(description="Position of the claim in the article, from 1.")
    text: str = Field(description="Self-contained wording of the claim.")
    start: int = Field(description="Character offset where the claim's source sentence (or, for "
                       "one of several claims of a sentence, its clause) starts.")
    end: int = Field(description="Character offset just past its end.")
    checkworthiness: float = Field(ge=0.0, le=1.0, description="How much it deserves a check.")
    self_contained: bool = Field(
        default=True,
        description="False when the wording still leans on the article (a pronoun or a "
        "description no rule could resolve): read it with `context`.",
    )
    context: str | None = Field(
        default=None, description="The sentence before it in the article, when it is not "
        "self-contained.")


class Passage(BaseModel):
    """A chunk of a trusted source, as search returns it."""

    id: str = Field(description="Chunk id (content hash), stable across re-ingests.")
    text: str
    title: str | None = None
    url: str | None = None
    date: str | None = Field(default=None, description="Publication date as the source gave it.")
    source_id: str | None = Field(default=None, description="Id of the document it came from.")
    score: float = Field(default=0.0, description="Fused search score; higher is closer.")
    similarity: float | None = Field(
        default=None, description="Cosine similarity of the passage to the claim (none in "
        "lexical search): an absolute closeness, where score only ranks one search's hits.")


class Disagreement(BaseModel):
    """Why the LLM's judgement of a passage does not stand: the quote it rests on is not in the
    passage, or the offline judge confidently reads the quoted sentence the other way (an
    article or source that talks to the model can turn its judgement, not the sentence)."""

    reason: Literal["quote_not_in_passage", "offline_judge_disagrees"]
    llm_stance: Stance = Field(description="What the LLM said the passage does.")
    llm_confidence: float = Field(ge=0.0, le=1.0)
    llm_quote: str = Field(description="The quote as the LLM gave it.")
    offline_stance: Stance | None = Field(
        default=None, description="The offline judge's reading of the quoted sentence.")
    offline_confidence: float | None = Field(default=None, ge=0.0, le=1.0)


class Evidence(BaseModel):
    """One passage judged against one claim."""

    passage: Passage
    stance: Stance
    confidence: float = Field(ge=0.0, le=1.0)
    quote: str = Field(description="The sentence of the passage the judgement rests on.")
    rationale: str = Field(description="One line on why.")
    disagreement: Disagreement | None = Field(
        default=None,
        description="Set when the LLM's judgement was not borne out (its stance is then "
        "NOT_ENOUGH_INFO here, and the claim gets no firm verdict).",
    )


class Verdict(BaseModel):
    """The outcome for one claim."""

    label: Label
    confidence: float = Field(ge=0.0, le=1.0)
    summary: str = Field(description="One sentence a fact-checker can read aloud.")
    lean: bool = Field(
        default=False,
        description="Supported or contradicted on evidence whose direction is unclear (every "
        "judgement below 0.5): to be read as 'leans supported' or 'leans contradicted'.",
    )


class PriorCheck(BaseModel):
    """The claim memory's record of a claim checked before, in these or other words."""

    check_id: str = Field(description="The stored check that last judged this claim.")
    claim_id: int = Field(description="The claim's id in that check.")
    text: str = Field(description="The claim as it was worded then.")
    label: Label = Field(description="The verdict then.")
    lean: bool = Field(default=False, description="The verdict then was a lean ('leans "
                       "supported'), not a firm one.")
    confidence: float = Field(ge=0.0, le=1.0)
    checked_at: datetime = Field(description="When it was last checked.")
    first_checked_at: datetime = Field(description="When it was first checked.")
    times: int = Field(ge=1, description="How many earlier checks of the desk met this claim.")
    times_in_chat: int = Field(ge=0, description="How many of them were in the asking chat.")
    here_check_id: str | None = Field(
        default=None,
        description="The asking chat's latest check of this claim, which readers may open; None "
        "when only other chats checked it.",
    )
    reused: bool = Field(
        default=False,
        description="True when the verdict and evidence were taken from that check, not searched "
        "again (the sources have not changed since).",
    )


class ClaimCheck(BaseModel):
    """A claim with its verdict and the evidence behind it."""

    claim: Claim
    verdict: Verdict
    evidence: list[Evidence] = Field(default_factory=list)
    prior: PriorCheck | None = Field(
        default=None, description="The same claim checked before (claim memory), if it was."
    )


class Contradiction(BaseModel):
    """Two claims of the same article that cannot both be true."""

    first: int = Field(description="Claim id.")
    second: int = Field(description="Claim id.")
    reason: str
    measure: str | None = Field(
        default=None, description="What the two figures count, e.g. 'death toll': the "
        "`measure` of the group in `internal_contradiction_groups` the pair belongs to.")


class Figure(BaseModel):
    """One figure the article gives for a measure, and who gives it."""

    figure: str = Field(description="The figure in numerals with what it counts, e.g. 'about "
                        "100' or '15 Russians of 23 people'.")
    low: float = Field(description="Smallest value the wording allows (of its first number).")
    high: float | None = Field(description="Largest value the wording allows; null for 'at "
                               "least'.")
    claims: list[int] = Field(description="Ids of the claims that give it.")
    sources: list[str] = Field(
        default_factory=list, description="Who gives it, where the sentence says so ('Maria "
        "Zakharova, the ministry'; 'unnamed source' for 'it said'); empty when it names no one.")


class ContradictionGroup(BaseModel):
    """Every figure the article gives for one measure, when some of them cannot all be true."""

    measure: str = Field(description="What is counted, e.g. 'death toll', 'number of homes'.")
    figures: list[Figure] = Field(description="In increasing order.")


class LLMUsage(BaseModel):
    """LLM requests a check (or an evaluation run) made; answers from the cache cost nothing."""

    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float | None = Field(description="Estimated; null when the model's price is unknown "
                                   "(LLM_PRICE_IN / LLM_PRICE_OUT).")


class Provenance(BaseModel):
    """Which engine, model and prompts produced a report."""

    engine: str = Field(description="The engine that made it: 'offline', 'llm' or another of ENGINES.")
    model: str = Field(description="Chat model name, or the offline models' name.")
    embedder: str
    prompts: dict[str, str] = Field(
        default_factory=dict, description="Prompt name -> 'version:sha256 prefix' (LLM engine)."
    )


class Report(BaseModel):
    """Everything a check found; the one object the CLI, the bot and the store use."""

    schema_version: int = 1
    article: Article
    claims: list[ClaimCheck]
    internal_contradictions: list[Contradiction] = Field(
        default_factory=list, description="Pairs of claims whose figures conflict.")
    internal_contradiction_groups: list[ContradictionGroup] = Field(
        default_factory=list, description="The same conflicts, one entry per measure with every "
        "figure the article gives for it: what a reader is shown.")
    provenance: Provenance
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per step.")
    usage: LLMUsage | None = Field(
        default=None, description="The check's LLM calls, tokens and estimated cost (LLM "
        "engine); null for the offline engine, which calls no LLM.")
    claims_left_out: int = Field(
        default=0, description="Checkable statements of the article beyond the claim cap "
        "(MAX_CLAIMS), not checked; the best-scored ones were kept.")
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        description="When the check began: its results stand for the sources of that moment.",
    )
    repeat_of: str | None = Field(
        default=None,
        description="Id of the stored check this one repeats: the same article sent again and "
        "answered from that check (its created_at), without a new check.",
    )


if __name__ == "__main__":  # python -m factcheck.models > docs/report-schema.json
    import json

    print(json.dumps(Report.model_json_schema(), indent=2))
