"""The LLM engine: claims and stance from any OpenAI-compatible server, and OpenAI embeddings.

This is the only module that imports langchain_openai or openai. Answers are asked for in JSON
mode (which OpenAI, vLLM and Ollama all serve), parsed with `model_validate_json`, and re-asked
with the validation error when unusable. Every vendor error leaves as a short LLMError.
"""

from __future__ import annotations

import difflib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import numpy as np
import openai
from langchain_core.exceptions import LangChainException
from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field, ValidationError, field_validator

from factcheck import llm_cache
from factcheck.errors import LLMError
from factcheck.models import Article, Claim, Evidence, Passage, Stance
from factcheck.prompts import load_prompt
from factcheck.sentences import split_sentences
from factcheck.settings import Settings

logger = logging.getLogger(__name__)

PROMPT_NAMES = ("claims", "stance")
# Local servers (vLLM, Ollama) ignore the key, but the client refuses to start without one.
_DUMMY_KEY = "not-needed"
_JSON_MODE = {"type": "json_object"}

Answer = TypeVar("Answer", bound=BaseModel)


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


class UsageMeter:
    """Tokens sent and received by this process's LLM calls (cache hits cost none)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = self.tokens_in = self.tokens_out = 0

    def add(self, tokens_in: int, tokens_out: int) -> None:
        """Count one answered call."""
        with self._lock:
            self.calls += 1
            self.tokens_in += tokens_in
            self.tokens_out += tokens_out

    def snapshot(self) -> tuple[int, int, int]:
        """(calls, tokens in, tokens out) so far; subtract two snapshots for one run's share."""
        with self._lock:
            return self.calls, self.tokens_in, self.tokens_out


usage = UsageMeter()

# The models named by the prompt files' `output_schema`.
ANSWER_SCHEMAS: dict[str, type[BaseModel]] = {
    "ClaimsAnswer": ClaimsAnswer,
    "StanceAnswer": StanceAnswer,
    "SummaryLede": SummaryLede,
}


def chat_model(settings: Settings) -> ChatOpenAI:
    """The chat model the settings describe; the client retries 429, 5xx and lost connections."""
    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.openai_base_url,
        api_key=_api_key(settings),
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        temperature=0,
    )


def prompt_fingerprints(settings: Settings) -> dict[str, str]:
    """Prompt name -> 'version:sha256 prefix' of the prompt files in use, for the report."""
    return {name: load_prompt(name, settings.prompts_dir).fingerprint for name in PROMPT_NAMES}


def extract_claims_llm(
    article: Article, settings: Settings, model: BaseChatModel | None = None
) -> list[Claim]:
    """The article's checkable claims, each spanning the article sentence it comes from."""
    if not article.text.strip():
        return []
    prompt = load_prompt("claims", settings.prompts_dir)
    messages = prompt.render(article=article.text, max_claims=settings.max_claims)
    answer = _ask(model or chat_model(settings), messages, ClaimsAnswer, settings,
                  prompt=f"{prompt.name} {prompt.fingerprint}")
    return _to_claims(answer, article.text, settings.max_claims)


def judge_llm(
    claim: Claim, passages: list[Passage], settings: Settings, model: BaseChatModel | None = None
) -> list[Evidence]:
    """One judgement per passage, in the passages' order, from a single LLM call."""
    if not passages:
        return []
    prompt = load_prompt("stance", settings.prompts_dir)
    messages = prompt.render(claim=claim.text, passages=number_passages(passages))

    def all_judged(answer: StanceAnswer) -> str | None:
        missing = set(range(1, len(passages) + 1)) - {j.passage for j in answer.judgements}
        if missing:
            return f"passages {sorted(missing)} were not judged; judge each of 1..{len(passages)}"
        return None

    answer = _ask(model or chat_model(settings), messages, StanceAnswer, settings, all_judged,
                  prompt=f"{prompt.name} {prompt.fingerprint}")
    by_number: dict[int, PassageJudgement] = {}
    for judgement in answer.judgements:
        by_number.setdefault(judgement.passage, judgement)
    return [_to_evidence(p, by_number[n], claim) for n, p in enumerate(passages, start=1)]


def write_summary_lede(facts: str, settings: Settings, model: BaseChatModel | None = None) -> str:
    """Two or three sentences of prose over a summary's facts (the caller checks its numbers)."""
    prompt = load_prompt("summary", settings.prompts_dir)
    answer = _ask(model or chat_model(settings), prompt.render(facts=facts), SummaryLede,
                  settings, lambda a: None if a.lede.strip() else "the lede is empty",
                  prompt=f"{prompt.name} {prompt.fingerprint}")
    return " ".join(answer.lede.split())


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible /embeddings endpoint, as unit float32 vectors."""

    batch_size = 256

    def __init__(self, settings: Settings) -> None:
        self.name = f"openai:{settings.openai_embedding_model}"
        self._settings = settings
        self._client = openai.OpenAI(
            base_url=settings.openai_base_url,
            api_key=_api_key(settings),
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts; returns an (n, dims) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        rows: list[list[float]] = []
        model = self._settings.openai_embedding_model
        for start in range(0, len(texts), self.batch_size):
            # The API rejects empty strings; a space embeds as "nothing".
            batch = [
                text if text.strip() else " " for text in texts[start : start + self.batch_size]
            ]
            with _translated_errors(self._settings, model):
                response = self._client.embeddings.create(model=model, input=batch)
            rows.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)


def _api_key(settings: Settings) -> str:
    if settings.openai_api_key is not None:
        return settings.openai_api_key.get_secret_value()
    if settings.openai_base_url or settings.llm_replay_only:
        return _DUMMY_KEY  # replay-only never reaches the model
    raise LLMError(
        "no LLM is configured; set OPENAI_API_KEY, or OPENAI_BASE_URL for a local "
        "OpenAI-compatible server, or use the offline engine"
    )


def _ask(
    model: BaseChatModel,
    messages: Sequence[tuple[str, str]],
    schema: type[Answer],
    settings: Settings,
    check: Callable[[Answer], str | None] | None = None,
    prompt: str = "",
) -> Answer:
    """A cached answer that still validates, else the model's; only a validated one is cached."""
    cache = llm_cache.cache_for(settings)
    name = str(getattr(model, "model_name", settings.llm_model))
    if cache is not None and (hit := cache.get(name, prompt, messages)) is not None:
        answer, problem = _validated(hit, schema, check)
        if answer is not None:
            return answer
        if settings.llm_replay_only:
            raise llm_cache.unusable(name, prompt, problem)
        # Written before only validated answers were kept, or the schema has changed since.
        logger.warning("dropped a cached %s that is not usable (%s); asking the LLM",
                       schema.__name__, problem)
        cache.drop(name, prompt, messages)
    elif settings.llm_replay_only:
        raise llm_cache.miss(name, prompt, messages)
    reply, answer = _ask_model(model, messages, schema, settings, check)
    if cache is not None:
        cache.put(name, prompt, messages, reply)
    return answer


def _ask_model(
    model: BaseChatModel,
    messages: Sequence[tuple[str, str]],
    schema: type[Answer],
    settings: Settings,
    check: Callable[[Answer], str | None] | None,
) -> tuple[str, Answer]:
    """(reply, answer) that fits `schema`; re-ask with the problem up to llm_max_retries times."""
    conversation = list(messages)
    attempts = settings.llm_max_retries + 1
    problem = ""
    for attempt in range(1, attempts + 1):
        reply = _invoke(model, conversation, settings)
        answer, problem = _validated(reply, schema, check)
        if answer is not None:
            return reply, answer
        logger.warning(
            "unusable %s from the LLM (attempt %d/%d): %s",
            schema.__name__,
            attempt,
            attempts,
            problem,
        )
        conversation += [
            ("assistant", reply),
            (
                "user",
                f"That answer was not usable: {problem}. Answer again with the JSON "
                "object only, following the format asked for.",
            ),
        ]
    raise LLMError(
        f"the LLM ({settings.llm_model}) gave no usable answer in {attempts} attempts "
        f"(last problem: {problem}); try a stronger LLM_MODEL or raise LLM_MAX_RETRIES"
    )


def _validated(
    reply: str, schema: type[Answer], check: Callable[[Answer], str | None] | None
) -> tuple[Answer | None, str]:
    """(answer, "") when `reply` fits `schema` and passes `check`, else (None, the problem)."""
    try:
        answer = schema.model_validate_json(_strip_code_fence(reply))
    except ValidationError as exc:
        return None, _describe_validation(exc)
    problem = check(answer) if check else None
    return (None, problem) if problem else (answer, "")


def _invoke(model: BaseChatModel, messages: list[tuple[str, str]], settings: Settings) -> str:
    with _translated_errors(settings, settings.llm_model):
        reply = model.invoke(messages, response_format=_JSON_MODE)
    counted = getattr(reply, "usage_metadata", None) or {}
    usage.add(counted.get("input_tokens", 0), counted.get("output_tokens", 0))
    logger.debug("LLM call: %s tokens in, %s out",
                 counted.get("input_tokens"), counted.get("output_tokens"))
    content = reply.content
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else part.get("text", "") for part in content)


def _strip_code_fence(reply: str) -> str:
    # Some local models wrap JSON in ``` fences even in JSON mode.
    text = reply.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text


def _describe_validation(exc: ValidationError) -> str:
    errors = exc.errors()
    if errors and errors[0]["type"] == "json_invalid":
        return "it was not valid JSON"
    parts = [f"{'.'.join(str(x) for x in e['loc']) or 'answer'}: {e['msg']}" for e in errors[:3]]
    return "; ".join(parts)


# (error type, message) in order: the first isinstance match wins (timeouts are connection errors).
_ERROR_MESSAGES: list[tuple[type[Exception], str]] = [
    (
        openai.APITimeoutError,
        "the LLM at {where} did not answer within {timeout:g} s; "
        "check OPENAI_BASE_URL or raise LLM_TIMEOUT",
    ),
    (
        openai.APIConnectionError,
        "cannot connect to the LLM at {where}; "
        "check OPENAI_BASE_URL and that the server is running",
    ),
    (
        openai.AuthenticationError,
        "the LLM at {where} refused the API key (HTTP 401); check OPENAI_API_KEY",
    ),
    (
        openai.PermissionDeniedError,
        "the LLM at {where} does not allow model {model!r} for this key (HTTP 403); "
        "check OPENAI_API_KEY and LLM_MODEL",
    ),
    (
        openai.NotFoundError,
        "the LLM at {where} has no model {model!r} or no such endpoint (HTTP 404); "
        "check LLM_MODEL, and that OPENAI_BASE_URL ends in /v1",
    ),
    (
        openai.RateLimitError,
        "the LLM at {where} still refused after {retries} retries (HTTP 429: {detail}); "
        "wait and try again, or lower LLM_CONCURRENCY",
    ),
    (
        openai.APIStatusError,
        "the LLM at {where} answered HTTP {status} ({detail}); "
        "try again later or check the server",
    ),
    (openai.OpenAIError, "the LLM call failed ({detail})"),
    (LangChainException, "the LLM call failed ({detail})"),
]


@contextmanager
def _translated_errors(settings: Settings, model: str) -> Iterator[None]:
    """Turn openai/LangChain errors into one LLMError line that never shows the API key."""
    try:
        yield
    except (openai.OpenAIError, LangChainException) as exc:
        template = next(text for kind, text in _ERROR_MESSAGES if isinstance(exc, kind))
        message = template.format(
            where=_where(settings),
            timeout=settings.llm_timeout,
            model=model,
            retries=settings.llm_max_retries,
            status=getattr(exc, "status_code", "?"),
            detail=_detail(exc),
        )
        raise LLMError(_scrub(message, settings)) from exc


def _where(settings: Settings) -> str:
    if not settings.openai_base_url:
        return "api.openai.com"
    # Show scheme, host and path only: no user:password@ or query string that may hold secrets.
    parts = urlsplit(settings.openai_base_url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _detail(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    return " ".join(str(message or exc).split())[:200]


def _scrub(text: str, settings: Settings) -> str:
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    return text.replace(key, "***") if len(key) >= 4 else text


def _to_claims(answer: ClaimsAnswer, text: str, max_claims: int) -> list[Claim]:
    """Claims with spans in `text`: the most check-worthy `max_claims`, in article order."""
    sentence_spans = split_sentences(text)
    found: list[tuple[float, int, int, str]] = []
    seen: set[str] = set()
    for item in answer.claims:
        wording = " ".join(item.claim.split())
        if not wording or wording.lower() in seen:
            continue
        seen.add(wording.lower())
        start, end = _locate(item.source_sentence.strip() or wording, text, sentence_spans)
        found.append((item.checkworthiness, start, end, wording))
    kept = sorted(found, key=lambda c: -c[0])[:max_claims]
    kept.sort(key=lambda c: c[1])
    return [
        Claim(id=number, text=wording, start=start, end=end, checkworthiness=worth)
        for number, (worth, start, end, wording) in enumerate(kept, start=1)
    ]


def _locate(sentence: str, text: str, sentence_spans: list[tuple[int, int]]) -> tuple[int, int]:
    """Span of `sentence` in `text`: exact when copied faithfully, else the closest sentence."""
    start = text.find(sentence)
    if start >= 0:
        return start, start + len(sentence)
    span, score = _most_similar(sentence, text, sentence_spans)
    if score < 0.5:
        logger.info(
            "claim source %r matches no article sentence well (%.2f)", sentence[:80], score
        )
    return span or (0, 0)


def _most_similar(
    target: str, text: str, spans: list[tuple[int, int]]
) -> tuple[tuple[int, int] | None, float]:
    """The span of `text` most similar to `target` (difflib ratio) and its score."""
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(target.lower())  # seq2 is the one SequenceMatcher caches
    best: tuple[int, int] | None = None
    best_score = -1.0
    for span in spans:
        matcher.set_seq1(text[span[0] : span[1]].lower())
        # The cheap upper bounds skip most sentences without the full comparison.
        if matcher.real_quick_ratio() <= best_score or matcher.quick_ratio() <= best_score:
            continue
        score = matcher.ratio()
        if score > best_score:
            best, best_score = span, score
    return best, best_score


def number_passages(passages: list[Passage]) -> str:
    """The passages as the stance prompt shows them: '[n] title (date): text' blocks."""
    blocks = []
    for number, passage in enumerate(passages, start=1):
        source = " ".join(
            filter(None, [passage.title, f"({passage.date})" if passage.date else ""])
        )
        blocks.append(
            f"[{number}] {source}: {passage.text}" if source else f"[{number}] {passage.text}"
        )
    return "\n\n".join(blocks)


def _to_evidence(passage: Passage, judgement: PassageJudgement, claim: Claim) -> Evidence:
    quote = judgement.quote.strip()
    if not quote or quote not in passage.text:
        # Never show a quote the passage does not contain: use its closest real sentence.
        span, _ = _most_similar(quote or claim.text, passage.text, split_sentences(passage.text))
        logger.debug("quote %r not in passage %s; replaced", quote[:80], passage.id)
        quote = passage.text[span[0] : span[1]] if span else ""
    return Evidence(
        passage=passage,
        stance=judgement.stance,
        confidence=judgement.confidence,
        quote=quote,
        rationale=" ".join(judgement.rationale.split()),
    )
