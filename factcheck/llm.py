"""The LLM engine: claims and stance from any OpenAI-compatible server, and OpenAI embeddings.

This is the only module that imports langchain_openai or openai. Answers are asked for in JSON
mode (which OpenAI, vLLM and Ollama all serve), parsed with `model_validate_json`, and re-asked
with the validation error when unusable. The client does not retry by itself: `_retried`
retries what a retry can help (lost connections, 429, 5xx, a garbled or empty completion, an
answer cut off at max_tokens), all within one deadline of LLM_TIMEOUT per question or batch of
embeddings, and every
vendor error leaves as one LLMError line that says what happened and what to do. Article,
claim and passage text go between the prompts' data markers (prompts.as_data); a judgement whose
quote is not in its passage takes no side (crosscheck.py then holds the rest against the
offline judge).
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, TypeVar
from urllib.parse import urlsplit


import numpy as np
import openai
from langchain_core.exceptions import LangChainException
from langchain_core.messages import convert_to_messages
from langchain_openai import ChatOpenAI
from openai.types import CreateEmbeddingResponse
from pydantic import BaseModel, Field, ValidationError, field_validator

from factcheck import claims, cost, llm_cache, llm_http, logmask, textmatch
from factcheck.errors import LLMError
from factcheck.llm_http import Refused
from factcheck.models import Article, Claim, Disagreement, Evidence, Passage, Stance
from factcheck.prompts import as_data, load_prompt
from factcheck.sentences import split_sentences
from factcheck.settings import Settings

logger = logging.getLogger(__name__)

PROMPT_NAMES = ("claims", "stance")
# Sentences per claims call when the LLM scores check-worthiness: a window of a transcript
# gives the model context, and stays far below any context limit.
LLM_WINDOW = 30
# Local servers (vLLM, Ollama) ignore the key, but the client refuses to start without one.
_DUMMY_KEY = "not-needed"
# How JSON is asked for, in the order tried: JSON mode (OpenAI, vLLM, Ollama), a JSON schema
# (LM Studio refuses JSON mode), then the prompt alone (it asks for one JSON object). A server
# that answers HTTP 400 naming the response format moves on to the next, once for the process.
_FORMATS = ("json_object", "json_schema", "prompt")
_format_in_use: dict[tuple[str | None, str], str] = {}  # (base URL, model) -> format
_REFUSES_FORMAT = re.compile(r"response_format|json_object|json_schema|json mode", re.IGNORECASE)
# Waits between retries: doubling from the first, at most the last (unless the server says).
_BACKOFF = (0.5, 8.0)

Answer = TypeVar("Answer", bound=BaseModel)
Result = TypeVar("Result")


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


# The models named by the prompt files' `output_schema`.
ANSWER_SCHEMAS: dict[str, type[BaseModel]] = {
    "ClaimsAnswer": ClaimsAnswer,
    "StanceAnswer": StanceAnswer,
    "SummaryLede": SummaryLede,
}


_models: dict[tuple[Any, ...], ChatOpenAI] = {}
_models_lock = threading.Lock()


def chat_model(settings: Settings) -> ChatOpenAI:
    """The chat model the settings describe, built once per process (it holds the connections).

    It never retries by itself (`_ask_model` does, under the question's deadline), asks for at
    most LLM_MAX_TOKENS, and its transport cuts off an answer larger than those can be.
    """
    key = (settings.llm_model, settings.openai_base_url, _api_key(settings), settings.llm_timeout,
           settings.llm_max_tokens)
    with _models_lock:
        if key not in _models:
            sync_client, async_client = llm_http.clients(
                settings.llm_timeout, llm_http.answer_limit(settings.llm_max_tokens))
            _models[key] = ChatOpenAI(
                model=settings.llm_model,
                base_url=settings.openai_base_url,
                api_key=_api_key(settings),
                timeout=settings.llm_timeout,
                max_retries=0,
                temperature=0,
                **_token_limit(settings),
                http_client=sync_client,
                http_async_client=async_client,
            )
        return _models[key]


def _token_limit(settings: Settings) -> dict[str, Any]:
    """LLM_MAX_TOKENS as the server reads it. LangChain sends `max_completion_tokens`, which
    OpenAI wants (its newer models refuse `max_tokens`); other servers (Ollama, vLLM, llama.cpp,
    LM Studio) all read `max_tokens`, which LangChain renames unless it goes in the body as is."""
    if settings.openai_base_url:
        return {"extra_body": {"max_tokens": settings.llm_max_tokens}}
    return {"max_tokens": settings.llm_max_tokens}


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
    prompt = load_prompt("claims", settings.prompts_dir)
    messages = prompt.render(article=as_data(article.text), max_claims=settings.max_claims)
    answer = _ask(messages, ClaimsAnswer, settings, prompt=f"{prompt.name} {prompt.fingerprint}")
    return _to_claims(answer, article.text, settings.max_claims, rules)


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
    prompt = load_prompt("stance", settings.prompts_dir)
    messages = prompt.render(claim=as_data(claim.text), passages=number_passages(passages))

    def all_judged(answer: StanceAnswer) -> str | None:
        missing = set(range(1, len(passages) + 1)) - {j.passage for j in answer.judgements}
        if missing:
            return f"passages {sorted(missing)} were not judged; judge each of 1..{len(passages)}"
        return None

    answer = _ask(messages, StanceAnswer, settings, all_judged,
                  prompt=f"{prompt.name} {prompt.fingerprint}")
    by_number: dict[int, PassageJudgement] = {}
    for judgement in answer.judgements:
        by_number.setdefault(judgement.passage, judgement)
    return [_to_evidence(p, by_number[n], claim) for n, p in enumerate(passages, start=1)]


def write_summary_lede(facts: str, settings: Settings) -> str:
    """Two or three sentences of prose over a summary's facts (the caller checks its numbers)."""
    prompt = load_prompt("summary", settings.prompts_dir)
    answer = _ask(prompt.render(facts=facts), SummaryLede, settings,
                  lambda a: None if a.lede.strip() else "the lede is empty",
                  prompt=f"{prompt.name} {prompt.fingerprint}")
    return " ".join(answer.lede.split())


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible /embeddings endpoint, as unit float32 vectors."""

    batch_size = 256

    def __init__(self, settings: Settings) -> None:
        self.name = f"openai:{settings.openai_embedding_model}"
        self._settings = settings
        # Like chat calls: no retries of its own, each batch under one deadline on the LLM loop.
        self._client = openai.AsyncOpenAI(
            base_url=settings.openai_base_url,
            api_key=_api_key(settings),
            timeout=settings.llm_timeout,
            max_retries=0,
            http_client=llm_http.async_client(
                settings.llm_timeout, llm_http.embeddings_limit(self.batch_size)),
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
            response = _retried(lambda deadline, b=batch: self._create(b, deadline),
                                self._settings)
            rows.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)

    def _create(self, batch: list[str], deadline: float) -> CreateEmbeddingResponse:
        model = self._settings.openai_embedding_model
        request = self._client.embeddings.create(model=model, input=batch)
        with _failures(self._settings, {}, model):
            return llm_http.run(request, deadline - time.monotonic())


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
    messages: Sequence[tuple[str, str]],
    schema: type[Answer],
    settings: Settings,
    check: Callable[[Answer], str | None] | None = None,
    prompt: str = "",
) -> Answer:
    """A cached answer that still validates, else the model's; only a validated one is cached."""
    cache = llm_cache.cache_for(settings)
    name = settings.llm_model
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
    reply, answer = _ask_model(messages, schema, settings, check)
    if cache is not None:
        cache.put(name, prompt, messages, reply)
    return answer


def _ask_model(
    messages: Sequence[tuple[str, str]],
    schema: type[Answer],
    settings: Settings,
    check: Callable[[Answer], str | None] | None,
) -> tuple[str, Answer]:
    """(reply, answer) that fits `schema`, within LLM_TIMEOUT and LLM_MAX_RETRIES retries."""
    model = chat_model(settings)
    conversation = list(messages)

    def attempt(deadline: float) -> tuple[str, Answer]:
        try:
            reply = _invoke_in_a_format(model, conversation, schema, settings, deadline)
            answer, problem = _validated(reply, schema, check)
            if answer is None:
                raise _unusable(reply, problem, settings)
        except _Failure as failure:
            conversation.extend(failure.turns)  # a re-ask, for the next attempt
            raise
        return reply, answer

    return _retried(attempt, settings)


def _retried(attempt: Callable[[float], Result], settings: Settings) -> Result:
    """attempt(deadline) until it returns, retrying a _Failure where a retry can help, at most
    LLM_MAX_RETRIES times and all within one LLM_TIMEOUT (`deadline` is time.monotonic's)."""
    deadline = time.monotonic() + settings.llm_timeout
    retries = settings.llm_max_retries
    attempts = 0
    failure: _Failure | None = None
    while True:
        attempts += 1
        try:
            return attempt(deadline)
        except _TimedOut as timed_out:
            if failure is None:
                raise LLMError(timed_out.line(attempts)) from None
            # The earlier attempts' fault is the news: the deadline only ended the retries.
            raise LLMError(failure.line(attempts, "the last did not end within the LLM_TIMEOUT "
                                        f"of {settings.llm_timeout:g} s")) from None
        except _Failure as caught:
            failure = caught
        time.sleep(_wait_for_retry(failure, attempts, retries, deadline, settings))
        retries -= 1


def _invoke_in_a_format(model: ChatOpenAI, messages: list[tuple[str, str]],
                        schema: type[BaseModel], settings: Settings, deadline: float) -> str:
    """_invoke, asked again at once in the next format while the server refuses one (not
    counted as a retry: the request was never read)."""
    while True:
        try:
            return _invoke(model, messages, schema, settings, deadline - time.monotonic())
        except _FormatRefused as refused:
            _next_format(refused, settings)


def _wait_for_retry(
    failure: _Failure, attempts: int, retries: int, deadline: float, settings: Settings
) -> float:
    """Seconds to wait before the next attempt; LLMError when there is to be none."""
    logger.info("LLM attempt %d/%d failed: %s%s", attempts, settings.llm_max_retries + 1,
                failure.what, f" ({failure.detail})" if failure.detail else "")
    if not failure.retry or retries == 0:
        raise LLMError(failure.line(attempts))
    wait = failure.wait if failure.wait is not None else _backoff(attempts)
    if time.monotonic() + wait >= deadline:  # never wait past the deadline
        asked = f"it asked to wait {wait:g} s, " if failure.wait else ""
        raise LLMError(failure.line(
            attempts, f"{asked}past the LLM_TIMEOUT of {settings.llm_timeout:g} s"))
    return wait


@dataclass
class _Failure(Exception):
    """One failed attempt: what happened, whether a retry may help, and the line for the user."""

    what: str  # what happened, for the log and the user's line
    advice: str  # what to do
    detail: str = ""  # said after the attempts
    retry: bool = True
    wait: float | None = None  # seconds the server asked to wait (Retry-After)
    turns: list[tuple[str, str]] = field(default_factory=list)  # a re-ask, for the next attempt

    def line(self, attempts: int, why_stopped: str = "") -> str:
        """One line: what happened in how many attempts (and why no more), and what to do."""
        tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        notes = "; ".join(filter(None, [self.detail, why_stopped]))
        return f"{self.what} in {tries}{f' ({notes})' if notes else ''}; {self.advice}"


class _TimedOut(_Failure):
    """The question's deadline passed during a request."""


class _FormatRefused(Exception):
    """The server refused the way JSON was asked for (HTTP 400 naming response_format)."""

    def __init__(self, kind: str, what: str) -> None:
        super().__init__(what)
        self.kind, self.what = kind, what


def _format_kwargs(schema: type[BaseModel], settings: Settings) -> dict[str, Any]:
    """The request's response_format for the format this server takes."""
    kind = _format_in_use.get((settings.openai_base_url, settings.llm_model), _FORMATS[0])
    if kind == "prompt":
        return {}
    if kind == "json_schema":
        return {"response_format": {"type": "json_schema", "json_schema": {
            "name": schema.__name__, "schema": schema.model_json_schema(), "strict": False}}}
    return {"response_format": {"type": kind}}


def _next_format(refused: _FormatRefused, settings: Settings) -> None:
    key = (settings.openai_base_url, settings.llm_model)
    with _models_lock:
        kind = _format_in_use.get(key, _FORMATS[0])
        if kind != refused.kind:
            return  # another thread has moved on already
        following = _FORMATS[_FORMATS.index(kind) + 1]
        _format_in_use[key] = following
    logger.warning("%s; asking with %s from now on", refused.what,
                   "a JSON schema" if following == "json_schema" else "the prompt alone")


def _unusable(reply: str, problem: str, settings: Settings) -> _Failure:
    """An answer that did not fit: asked again at once, with the problem."""
    return _Failure(
        f"the LLM ({settings.llm_model}) gave no usable answer",
        "try a stronger LLM_MODEL or raise LLM_MAX_RETRIES",
        detail=f"last problem: {problem}",
        wait=0.0,
        turns=[("assistant", reply),
               ("user", f"That answer was not usable: {problem}. Answer again with the JSON "
                        "object only, following the format asked for.")],
    )


def _backoff(attempts: int) -> float:
    first, most = _BACKOFF
    return min(first * 2 ** (attempts - 1), most) * random.uniform(0.75, 1.0)


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


def _invoke(
    model: ChatOpenAI,
    messages: list[tuple[str, str]],
    schema: type[BaseModel],
    settings: Settings,
    seconds: float,
) -> str:
    """One request, on the LLM loop, stopped after `seconds`; every fault leaves as _Failure."""
    asked = _format_kwargs(schema, settings)
    request = model.agenerate([convert_to_messages(messages)], **asked)
    with _failures(settings, asked):
        result = llm_http.run(request, seconds)
    if not result.generations[0]:
        raise _Failure(f"the LLM at {_where(settings)} sent a completion without choices",
                       "check the server's log, or try another LLM_MODEL")
    generation = result.generations[0][0]
    reply = generation.message
    if (generation.generation_info or {}).get("finish_reason") == "length":
        raise _cut_off(settings)
    counted = getattr(reply, "usage_metadata", None) or {}
    cost.usage.add(counted.get("input_tokens", 0), counted.get("output_tokens", 0))
    logger.debug("LLM call: %s tokens in, %s out",
                 counted.get("input_tokens"), counted.get("output_tokens"))
    content = reply.content
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else part.get("text", "") for part in content)


def _cut_off(settings: Settings) -> _Failure:
    """An answer stopped at max_tokens: asked again for a shorter one."""
    return _Failure(
        f"the answer of the LLM ({settings.llm_model}) was cut off at its token limit",
        f"raise LLM_MAX_TOKENS (now {settings.llm_max_tokens}) or lower MAX_CLAIMS",
        wait=0.0,
        turns=[("user", "Your answer was cut off at the token limit. Answer again with the "
                        "JSON object only, shorter: fewer items, one-line rationales.")],
    )


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


_CHECK_URL = "check that OPENAI_BASE_URL is the server's OpenAI-compatible /v1 address"
# (error type, what happened, what to do, retry) in order: the first isinstance match wins
# (timeouts are connection errors).
_ERRORS: list[tuple[type[Exception] | tuple[type[Exception], ...], str, str, bool]] = [
    (openai.APITimeoutError, "the LLM at {where} did not answer within {timeout:g} s",
     "check OPENAI_BASE_URL or raise LLM_TIMEOUT", True),
    (openai.APIConnectionError, "cannot connect to the LLM at {where}",
     "check OPENAI_BASE_URL and that the server is running", True),
    (openai.AuthenticationError, "the LLM at {where} refused the API key (HTTP 401)",
     "check OPENAI_API_KEY", False),
    (openai.PermissionDeniedError,
     "the LLM at {where} does not allow model {model!r} for this key (HTTP 403)",
     "check OPENAI_API_KEY and LLM_MODEL", False),
    (openai.NotFoundError,
     "the LLM at {where} has no model {model!r} or no such endpoint (HTTP 404)",
     "check LLM_MODEL, and that OPENAI_BASE_URL ends in /v1", False),
    (openai.RateLimitError, "the LLM at {where} refused with HTTP 429 ({detail})",
     "wait and try again, or lower LLM_CONCURRENCY", True),
    (openai.InternalServerError, "the LLM at {where} answered HTTP {status} ({detail})",
     "try again later or check the server", True),
    (openai.APIStatusError, "the LLM at {where} answered HTTP {status} ({detail})",
     "check the request the server refused in its log", False),
    (openai.ContentFilterFinishReasonError,
     "the LLM at {where} withheld its answer (content filter)",
     "check the article, or use the offline engine", False),
    (openai.OpenAIError, "the LLM call failed ({detail})", "check the server", False),
    (LangChainException, "the LLM call failed ({detail})", "check the server", False),
    # The client could not read the completion: a broken body, a JSON that is no completion.
    (ValueError, "the LLM at {where} sent a completion that is not JSON ({detail})",
     _CHECK_URL, True),
    ((KeyError, TypeError), "the LLM at {where} sent a completion this client cannot read "
     "({detail})", _CHECK_URL, True),
]
# Status codes worth another try besides 429 and 5xx: request timeout, conflict.
_RETRY_STATUS = {408, 409}


@contextmanager
def _failures(settings: Settings, asked: dict[str, Any], model: str | None = None
              ) -> Iterator[None]:
    """Turn a request's faults into a _Failure whose line never shows the API key (`model`:
    the one asked, when it is not LLM_MODEL)."""
    try:
        yield
    except openai.BadRequestError as exc:
        kind = asked.get("response_format", {}).get("type")
        if kind and _REFUSES_FORMAT.search(_detail(exc)):
            raise _FormatRefused(kind, f"the LLM at {_where(settings)} refused response_format "
                                       f"{kind} (HTTP 400: {_detail(exc)})") from exc
        raise _failure(exc, settings, model) from exc
    except TimeoutError as exc:
        raise _TimedOut(
            f"the LLM at {_where(settings)} did not answer within {settings.llm_timeout:g} s",
            "check OPENAI_BASE_URL or raise LLM_TIMEOUT", retry=False,
        ) from exc
    except openai.LengthFinishReasonError as exc:
        raise _cut_off(settings) from exc
    except (openai.OpenAIError, LangChainException, llm_http.Refused, ValueError, KeyError,
            TypeError) as exc:
        raise _failure(exc, settings, model) from exc


def _failure(exc: Exception, settings: Settings, model: str | None = None) -> _Failure:
    if refused := _in_chain(exc, llm_http.Refused):  # older clients wrap it
        advice = refused.advice or _CHECK_URL
        return _Failure(f"the LLM at {_where(settings)} {refused.what}", advice,
                        detail=refused.detail, retry=refused.retry)
    _, what, advice, retry = next(entry for entry in _ERRORS if isinstance(exc, entry[0]))
    status = getattr(exc, "status_code", None)
    text = what.format(where=_where(settings), timeout=settings.llm_timeout,
                       model=model or settings.llm_model, status=status or "?",
                       detail=_detail(exc))
    response = getattr(exc, "response", None)
    return _Failure(_scrub(text, settings), advice, retry=retry or status in _RETRY_STATUS,
                    wait=_retry_after(response.headers) if response is not None else None)


def _in_chain(exc: BaseException | None, kind: type[Refused]) -> Refused | None:
    """`exc` or the first of its causes that is a `kind`."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _retry_after(headers: Any) -> float | None:
    """Seconds a 429 or 503 asks to wait: Retry-After-Ms, Retry-After in seconds or as a date."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return max(float(headers.get(name)) * scale, 0.0)
        except (TypeError, ValueError):
            continue
    try:
        moment = email.utils.parsedate_to_datetime(headers.get("retry-after"))
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


def _where(settings: Settings) -> str:
    if not settings.openai_base_url:
        return "api.openai.com"
    # Show scheme, host and path only: no user:password@ or query string that may hold secrets.
    parts = urlsplit(settings.openai_base_url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _detail(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return repr(exc.doc[:60])
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    return " ".join(str(message or exc).split())[:200]


def _scrub(text: str, settings: Settings) -> str:
    """A server's words may quote the key or the address with its password: never show them."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    return logmask.mask(text.replace(key, "***") if len(key) >= 4 else text)


def _to_claims(answer: ClaimsAnswer, text: str, max_claims: int, rules: bool) -> list[Claim]:
    """Claims whose source sentence is in `text`: the most check-worthy `max_claims`, in article
    order. Only the first 2 x max_claims listed are read; a claim whose source the article does
    not hold is dropped, and with `rules` so is one whose sentence the offline rules say is no
    claim, and the rest are worded and marked as the offline path words and marks its own."""
    listed = answer.claims[: 2 * max_claims]
    if len(answer.claims) > len(listed):
        logger.warning("the LLM listed %d claims for at most %d; only the first %d are read",
                       len(answer.claims), max_claims, len(listed))
    found: list[tuple[float, int, int, str]] = []
    seen: set[str] = set()
    for item in listed:
        wording = " ".join(item.claim.split())
        if not wording or wording.lower() in seen:
            continue
        seen.add(wording.lower())
        source = item.source_sentence.strip() or wording
        if (span := textmatch.locate(source, text)) is None:
            logger.warning("dropped a claim whose source is not in the article: %r", source[:80])
            continue
        found.append((item.checkworthiness, *span, wording))
    spans = [(start, end, wording) for _, start, end, wording in found]
    marked = claims.reviewed(text, spans) if rules else [
        claims.Candidate(*span, self_contained=True, context=None) for span in spans]
    kept = sorted(((worth, c) for (worth, *_), c in zip(found, marked) if c is not None),
                  key=lambda pair: -pair[0])[:max_claims]
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
    span = textmatch.locate(quote, passage.text) if quote else None
    disagreement = None
    if span is not None:
        span = textmatch.whole_sentences(span, passage.text)
    else:
        # Never show a quote the passage does not contain: use its closest real sentence.
        span, _ = textmatch.most_similar(quote or claim.text, passage.text,
                                         split_sentences(passage.text))
        if quote and judgement.stance is not Stance.NOT_ENOUGH_INFO:
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
