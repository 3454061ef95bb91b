"""The LLM's three questions: an article's claims, a claim's stance over passages, a summary's
lede, each from its prompt file, over any OpenAI-compatible server (llm_ask asks them).

Article, claim, passage and summary-facts text go between the prompts' data markers
(step_messages, prompts.as_data); a claim
whose source sentence is not in the article is dropped, and the rest go through the offline rules
(claims.reviewed: dropped, split or worded as offline); a judgement whose quote is not in its
passage takes no side (crosscheck.py then holds the rest against the offline judge).
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from concurrent.futures import ThreadPoolExecutor
from itertools import accumulate
from typing import Any

from pydantic import BaseModel, Field, field_validator

from factcheck import claims, textmatch
from factcheck.llm_ask import ask
from factcheck.models import Article, Claim, Disagreement, Evidence, Passage, Stance
from factcheck.prompts import Prompt, PromptError, Role, as_data, load_prompt
from factcheck.sentences import split_sentences
from factcheck.settings import Settings

logger = logging.getLogger(__name__)

PROMPT_NAMES = ("claims", "stance")
# Sentences per claims call when the LLM scores check-worthiness: a window of a transcript
# gives the model context, and stays far below any context limit.
LLM_WINDOW = 30


class ExtractedClaim(BaseModel):
    """One claim as the claims prompt returns it."""

    claim: str
    source_sentence: str = ""
    checkworthiness: float = Field(0.5, ge=0.0, le=1.0)


class ClaimsAnswer(BaseModel):
    """The claims prompt's answer."""

    claims: list[ExtractedClaim]


class PassageJudgement(BaseModel):
    """One passage judged, as the stance prompt returns it."""

    passage: int = Field(description="The passage's number in the prompt, from 1.")
    stance: Stance
    quote: str = ""
    rationale: str = ""
    confidence: float = Field(ge=0.0, le=1.0)

    @field_validator("stance", mode="before")
    @classmethod
    def _normalise_stance(cls, value: Any) -> Any:
        # Small local models write "Supports" or "not enough info"; accept those spellings.
        if isinstance(value, str):
            value = "_".join(value.replace("-", " ").upper().split())
            return "NOT_ENOUGH_INFO" if value in {"NEI", "NOT_ENOUGH_INFORMATION"} else value
        return value


class StanceAnswer(BaseModel):
    """The stance prompt's answer."""

    judgements: list[PassageJudgement]


class SummaryLede(BaseModel):
    """The summary prompt's answer: a few sentences of prose."""

    lede: str


# Variables whose text comes from outside (articles, sources, chats): sent between data markers.
DATA_VARIABLES = ("article", "claim", "facts")


def step_prompt(name: str, answer: type[BaseModel], settings: Settings) -> Prompt:
    """Prompt `name` as the settings choose it, checked to ask for the answer the step reads."""
    prompt = load_prompt(name, settings.prompts_dir)
    if prompt.output_schema != answer.__name__:
        raise PromptError(f"prompt {name} names output_schema {prompt.output_schema!r}, but its "
                          f"step reads {answer.__name__}; set output_schema: {answer.__name__}")
    return prompt


def step_messages(prompt: Prompt, **variables: Any) -> list[tuple[Role, str]]:
    """The messages a step sends: its outside text marked as data, its passages numbered
    (`factcheck prompts render` shows the same)."""
    for name in DATA_VARIABLES:
        if isinstance(variables.get(name), str):
            variables[name] = as_data(variables[name])
    if isinstance(variables.get("passages"), list):
        variables["passages"] = number_passages(variables["passages"])
    return prompt.render(**variables)


def prompt_fingerprints(settings: Settings) -> dict[str, str]:
    """Prompt name -> 'version:sha256 prefix' of the prompt files in use, for the report."""
    return {name: load_prompt(name, settings.prompts_dir).fingerprint for name in PROMPT_NAMES}


def extract_claims_llm(article: Article, settings: Settings, rules: bool = True) -> list[Claim]:
    """The article's checkable claims, each spanning the article sentence it comes from.

    With `rules` (the product's path) the offline rules apply to the answer too (claims.reviewed):
    a claim on a caption, a question or a quoted opinion is dropped, and a wording that still
    leans on the article is resolved where a rule can, else marked with its context. Without
    them, the model's own choice is measured (`eval checkworthiness --engine llm`).
    """
    if not article.text.strip():
        return []
    prompt = step_prompt("claims", ClaimsAnswer, settings)
    messages = step_messages(prompt, article=article.text, max_claims=settings.max_claims)
    answer = ask(messages, ClaimsAnswer, settings, prompt=f"{prompt.name} {prompt.fingerprint}")
    return _to_claims(answer, article, settings.max_claims, rules)


def checkworthiness_llm(sentences: list[str], settings: Settings) -> list[float]:
    """Each sentence's score from the claims prompt: its best claim's check-worthiness, else 0.

    The sentences go LLM_WINDOW at a time, one per line, as the article of one claims call.
    """
    windows = [sentences[i : i + LLM_WINDOW] for i in range(0, len(sentences), LLM_WINDOW)]
    with ThreadPoolExecutor(max_workers=max(1, settings.llm_concurrency)) as pool:
        scored = pool.map(lambda window: _window_checkworthiness(window, settings), windows)
    return [score for window in scored for score in window]


def _window_checkworthiness(window: list[str], settings: Settings) -> list[float]:
    starts = list(accumulate((len(s) + 1 for s in window[:-1]), initial=0))
    article = Article(text="\n".join(window), source="checkworthiness window")
    # Every sentence may be a claim, so the prompt's cap must not drop any; the offline rules do
    # not apply either, as the offline scorer is measured without them.
    claims = extract_claims_llm(article, settings.model_copy(update={"max_claims": len(window)}),
                                rules=False)
    scores = [0.0] * len(window)
    for claim in claims:  # a claim belongs to the sentence its source span starts in
        index = bisect_right(starts, claim.start) - 1
        scores[index] = max(scores[index], claim.checkworthiness)
    return scores


def judge_llm(claim: Claim, passages: list[Passage], settings: Settings) -> list[Evidence]:
    """One judgement per passage, in the passages' order, from a single LLM call."""
    if not passages:
        return []
    prompt = step_prompt("stance", StanceAnswer, settings)
    messages = step_messages(prompt, claim=claim.text, passages=passages)

    def all_judged(answer: StanceAnswer) -> str | None:
        missing = set(range(1, len(passages) + 1)) - {j.passage for j in answer.judgements}
        if missing:
            return f"passages {sorted(missing)} were not judged; judge each of 1..{len(passages)}"
        return None

    answer = ask(messages, StanceAnswer, settings, all_judged,
                  prompt=f"{prompt.name} {prompt.fingerprint}")
    by_number: dict[int, PassageJudgement] = {}
    for judgement in answer.judgements:
        by_number.setdefault(judgement.passage, judgement)
    return [_to_evidence(p, by_number[n], claim) for n, p in enumerate(passages, start=1)]


def write_summary_lede(facts: str, settings: Settings) -> str:
    """Two or three sentences of prose over a summary's facts (the caller checks its numbers)."""
    prompt = step_prompt("summary", SummaryLede, settings)
    answer = ask(step_messages(prompt, facts=facts), SummaryLede, settings,
                  lambda a: None if a.lede.strip() else "the lede is empty",
                  prompt=f"{prompt.name} {prompt.fingerprint}")
    return " ".join(answer.lede.split())


def _to_claims(answer: ClaimsAnswer, article: Article, max_claims: int, rules: bool
               ) -> list[Claim]:
    """Claims whose source sentence is in the article: the most check-worthy `max_claims`, in article
    order. Only the first 2 x max_claims listed are read; a claim whose source the article does
    not hold is dropped, and with `rules` so is one whose sentence the offline rules say is no
    claim, and the rest are split, worded and marked as the offline path does its own."""
    text = article.text
    listed = answer.claims[: 2 * max_claims]
    if len(answer.claims) > len(listed):
        logger.warning("the LLM listed %d claims for at most %d; only the first %d are read",
                       len(answer.claims), max_claims, len(listed))
    found: list[tuple[float, int, int, str]] = []
    seen: set[str] = set()
    sentences = split_sentences(text)  # once for the article, not once a claim
    for item in listed:
        wording = " ".join(item.claim.split())
        if not wording or wording.lower() in seen:
            continue
        seen.add(wording.lower())
        source = item.source_sentence.strip() or wording
        if (span := textmatch.locate(source, text, sentences)[0]) is None:
            logger.warning("dropped a claim whose source is not in the article: %r", source[:80])
            continue
        found.append((item.checkworthiness, *span, wording))
    spans = [(start, end, wording) for _, start, end, wording in found]
    marked = claims.reviewed(text, spans, article.title) if rules else [
        [claims.Candidate(*span, self_contained=True, context=None)] for span in spans]
    ranked = sorted(((worth, c) for (worth, *_), parts in zip(found, marked) for c in parts),
                    key=lambda pair: -pair[0])
    # A statement split from one claim may be another claim as the LLM wrote it: kept once.
    kept = list({c.text.lower(): (worth, c) for worth, c in reversed(ranked)}.values())
    kept = sorted(kept, key=lambda pair: -pair[0])[:max_claims]
    kept.sort(key=lambda pair: pair[1].start)
    return [
        Claim(id=number, text=c.text, start=c.start, end=c.end, checkworthiness=worth,
              self_contained=c.self_contained, context=c.context)
        for number, (worth, c) in enumerate(kept, start=1)
    ]


def number_passages(passages: list[Passage]) -> str:
    """The passages as the stance prompt shows them: a <passage n="1" source="..."> block each."""
    blocks = []
    for number, passage in enumerate(passages, start=1):
        source = " ".join(
            filter(None, [passage.title, f"({passage.date})" if passage.date else ""])
        )
        label = f' source="{as_data(source).replace(chr(34), chr(39))}"' if source else ""
        blocks.append(f'<passage n="{number}"{label}>\n{as_data(passage.text)}\n</passage>')
    return "\n\n".join(blocks)


def _to_evidence(passage: Passage, judgement: PassageJudgement, claim: Claim) -> Evidence:
    """The judgement as evidence whose quote is a sentence of the passage. A side taken on a
    quote the passage does not hold is not borne out: no stance, and the disagreement kept."""
    quote = judgement.quote.strip()
    # Never show a quote the passage does not contain: its closest real sentence instead.
    held, span = textmatch.locate(quote, passage.text) if quote else (None, None)
    disagreement = None
    if held is not None:
        span = textmatch.whole_sentences(held, passage.text)
    elif not quote:
        span, _ = textmatch.most_similar(claim.text, passage.text, split_sentences(passage.text))
    elif judgement.stance is not Stance.NOT_ENOUGH_INFO:
        logger.warning("the LLM's quote is not in passage %s: %r", passage.id, quote[:80])
        disagreement = Disagreement(
            reason="quote_not_in_passage", llm_stance=judgement.stance,
            llm_confidence=judgement.confidence, llm_quote=quote)
    return Evidence(
        passage=passage,
        stance=Stance.NOT_ENOUGH_INFO if disagreement else judgement.stance,
        confidence=judgement.confidence,
        quote=passage.text[span[0] : span[1]] if span else "",
        rationale=" ".join(judgement.rationale.split()),
        disagreement=disagreement,
    )
