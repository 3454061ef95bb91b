"""The OpenAI-compatible servers, through the vendor SDKs: this is the only module that imports
langchain_openai or openai.

It builds the chat model once per process (`chat_model`), sends one request within the seconds
left (`invoke`), and turns every vendor error into a `Failure` whose line says what happened and
what to do, never the API key; it also serves OpenAI embeddings (`OpenAIEmbedder`).
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import urlsplit

import numpy as np
import openai
from langchain_core.exceptions import LangChainException
from langchain_core.messages import convert_to_messages
from langchain_core.outputs import ChatGeneration
from langchain_openai import ChatOpenAI
from openai.types import CreateEmbeddingResponse

from factcheck import cost, llm_http, logmask
from factcheck.errors import LLMError
from factcheck.llm_http import Refused
from factcheck.llm_retry import Failure, TimedOut, cut_off, retried
from factcheck.settings import Settings

logger = logging.getLogger(__name__)

# Local servers (vLLM, Ollama) ignore the key, but the client refuses to start without one.
_DUMMY_KEY = "not-needed"
_REFUSES_FORMAT = re.compile(r"response_format|json_object|json_schema|json mode", re.IGNORECASE)

ChatModel = ChatOpenAI  # what chat_model returns, for the modules that never import the SDK
_models: dict[tuple[Any, ...], ChatOpenAI] = {}
_models_lock = threading.Lock()


def chat_model(settings: Settings) -> ChatOpenAI:
    """The chat model the settings describe, built once per process (it holds the connections).

    It never retries by itself (llm_ask does, under the question's deadline), asks for at
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


def invoke(
    model: ChatOpenAI,
    messages: Sequence[tuple[str, str]],
    asked: dict[str, Any],
    settings: Settings,
    seconds: float,
) -> str:
    """One request (`asked`: how JSON is asked for), on the LLM loop, stopped after `seconds`;
    a server that refuses that way raises FormatRefused, every other fault a Failure."""
    request = model.agenerate([convert_to_messages(messages)], **asked)
    with _failures(settings, asked):
        result = llm_http.run(request, seconds)
    if not result.generations[0]:
        raise Failure(f"the LLM at {_where(settings)} sent a completion without choices",
                      "check the server's log, or try another LLM_MODEL")
    generation = cast(ChatGeneration, result.generations[0][0])  # a chat model's, always
    reply = generation.message
    if (generation.generation_info or {}).get("finish_reason") == "length":
        raise cut_off(settings)
    counted = getattr(reply, "usage_metadata", None) or {}
    cost.usage.add(counted.get("input_tokens", 0), counted.get("output_tokens", 0))
    logger.debug("LLM call: %s tokens in, %s out",
                 counted.get("input_tokens"), counted.get("output_tokens"))
    content = reply.content
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else part.get("text", "") for part in content)


class FormatRefused(Exception):
    """The server refused the way JSON was asked for (HTTP 400 naming response_format)."""

    def __init__(self, kind: str, what: str) -> None:
        super().__init__(what)
        self.kind, self.what = kind, what


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
            # openai's annotation names httpx2's client; it takes an httpx one (llm_http's).
            http_client=llm_http.async_client(  # type: ignore[arg-type]
                settings.llm_timeout, llm_http.embeddings_limit(self.batch_size)),
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts; returns an (n, dims) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            # The API rejects empty strings; a space embeds as "nothing".
            batch = [
                text if text.strip() else " " for text in texts[start : start + self.batch_size]
            ]
            response = retried(functools.partial(self._create, batch), self._settings)
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
    """Turn a request's faults into a Failure whose line never shows the API key (`model`:
    the one asked, when it is not LLM_MODEL)."""
    try:
        yield
    except openai.BadRequestError as exc:
        kind = asked.get("response_format", {}).get("type")
        if kind and _REFUSES_FORMAT.search(_detail(exc)):
            raise FormatRefused(kind, f"the LLM at {_where(settings)} refused response_format "
                                      f"{kind} (HTTP 400: {_detail(exc)})") from exc
        raise _failure(exc, settings, model) from exc
    except TimeoutError as exc:
        raise TimedOut(
            f"the LLM at {_where(settings)} did not answer within {settings.llm_timeout:g} s",
            "check OPENAI_BASE_URL or raise LLM_TIMEOUT", retry=False,
        ) from exc
    except openai.LengthFinishReasonError as exc:
        raise cut_off(settings) from exc
    except (openai.OpenAIError, LangChainException, llm_http.Refused, ValueError, KeyError,
            TypeError) as exc:
        raise _failure(exc, settings, model) from exc


def _failure(exc: Exception, settings: Settings, model: str | None = None) -> Failure:
    if refused := _in_chain(exc, llm_http.Refused):  # older clients wrap it
        advice = refused.advice or _CHECK_URL
        return Failure(f"the LLM at {_where(settings)} {refused.what}", advice,
                       detail=refused.detail, retry=refused.retry)
    _, what, advice, retry = next(entry for entry in _ERRORS if isinstance(exc, entry[0]))
    status = getattr(exc, "status_code", None)
    text = what.format(where=_where(settings), timeout=settings.llm_timeout,
                       model=model or settings.llm_model, status=status or "?",
                       detail=_detail(exc))
    response = getattr(exc, "response", None)
    return Failure(_scrub(text, settings), advice, retry=retry or status in _RETRY_STATUS,
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
