"""Asking the LLM one question and getting an answer that fits its schema.

Answers are asked for as JSON, parsed with `model_validate_json` and re-asked with the
validation error when unusable, all under llm_retry's deadline; a validated answer is kept in the
LLM cache, and one from the cache is used while it still validates. How JSON is asked for falls
back, once per server and model, to what the server takes (`_FORMATS`).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from factcheck import llm_cache
from factcheck.llm_openai import ChatModel, FormatRefused, chat_model, invoke
from factcheck.llm_retry import Failure, retried
from factcheck.settings import Settings

logger = logging.getLogger(__name__)

# How JSON is asked for, in the order tried: JSON mode (OpenAI, vLLM, Ollama), a JSON schema
# (LM Studio refuses JSON mode), then the prompt alone (it asks for one JSON object). A server
# that answers HTTP 400 naming the response format moves on to the next, once for the process.
_FORMATS = ("json_object", "json_schema", "prompt")
_format_in_use: dict[tuple[str | None, str], str] = {}  # (base URL, model) -> format
_formats_lock = threading.Lock()

Answer = TypeVar("Answer", bound=BaseModel)


def ask(
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
        except Failure as failure:
            conversation.extend(failure.turns)  # a re-ask, for the next attempt
            raise
        return reply, answer

    return retried(attempt, settings)


def _invoke_in_a_format(model: ChatModel, messages: list[tuple[str, str]],
                        schema: type[BaseModel], settings: Settings, deadline: float) -> str:
    """One request, asked again at once in the next format while the server refuses one (not
    counted as a retry: the request was never read)."""
    while True:
        try:
            return invoke(model, messages, _format_kwargs(schema, settings), settings,
                          deadline - time.monotonic())
        except FormatRefused as refused:
            _next_format(refused, settings)


def _format_kwargs(schema: type[BaseModel], settings: Settings) -> dict[str, Any]:
    """The request's response_format for the format this server takes."""
    kind = _format_in_use.get((settings.openai_base_url, settings.llm_model), _FORMATS[0])
    if kind == "prompt":
        return {}
    if kind == "json_schema":
        return {"response_format": {"type": "json_schema", "json_schema": {
            "name": schema.__name__, "schema": _json_schema(schema), "strict": False}}}
    return {"response_format": {"type": kind}}


@functools.cache
def _json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The schema class's JSON schema, built once (pydantic builds it anew on every call); the
    clients read it and never change it."""
    return schema.model_json_schema()


def _next_format(refused: FormatRefused, settings: Settings) -> None:
    key = (settings.openai_base_url, settings.llm_model)
    with _formats_lock:
        kind = _format_in_use.get(key, _FORMATS[0])
        if kind != refused.kind:
            return  # another thread has moved on already
        following = _FORMATS[_FORMATS.index(kind) + 1]
        _format_in_use[key] = following
    logger.warning("%s; asking with %s from now on", refused.what,
                   "a JSON schema" if following == "json_schema" else "the prompt alone")


def _unusable(reply: str, problem: str, settings: Settings) -> Failure:
    """An answer that did not fit: asked again at once, with the problem."""
    return Failure(
        f"the LLM ({settings.llm_model}) gave no usable answer",
        "try a stronger LLM_MODEL or raise LLM_MAX_RETRIES",
        detail=f"last problem: {problem}",
        wait=0.0,
        turns=[("assistant", reply),
               ("user", f"That answer was not usable: {problem}. Answer again with the JSON "
                        "object only, following the format asked for.")],
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
