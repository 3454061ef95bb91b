"""One typed settings object, read from the environment and `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from factcheck.errors import BadInputError


def _id_list(value: Any) -> Any:
    """'123, -100456' or '[123]' from the environment -> [123, -100456]."""
    if isinstance(value, str):
        parts = value.strip(" []").replace(";", ",").split(",")
        return [int(part) for part in parts if part.strip()]
    return value


# Telegram ids from the environment as a comma-separated list (JSON lists work too).
IdList = Annotated[list[int], NoDecode, BeforeValidator(_id_list)]


def _time_zone(value: Any) -> Any:
    """Refuse a time zone name this machine does not know, at start-up rather than at 18:00."""
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin") from exc
    return value


TimeZone = Annotated[str, BeforeValidator(_time_zone)]


APP_NAME = "factcheck"
# The engines' names: factcheck.engines.ENGINES has a row for each (a test holds them equal).
EngineName = Literal["offline", "llm"]
_OURS_IN_DATA = ("chroma", "lexical", "history.sqlite")  # what marks ./data as a collection's


def default_data_dir() -> Path:
    """./data where it already holds a collection or history (the default of earlier
    versions), else the platform's user data folder: the same collection whatever folder a
    command runs from."""
    legacy = Path.cwd() / "data"
    if any((legacy / name).exists() for name in _OURS_IN_DATA):
        return legacy
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class Settings(BaseSettings):
    """Every option of the pipeline, the CLI and the bot. `.env.example` lists exactly these."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    # Engines
    engine: Literal["auto"] | EngineName = Field(
        "auto", description="'auto' uses the LLM when OPENAI_API_KEY or OPENAI_BASE_URL is set."
    )
    openai_api_key: SecretStr | None = Field(None, description="Key for the OpenAI API.")
    openai_base_url: str | None = Field(
        None, description="Any OpenAI-compatible server (vLLM, Ollama, ...), e.g. http://localhost:11434/v1."
    )
    llm_model: str = Field("gpt-4o-mini", description="Chat model for claims and stance.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds one question to the LLM (or one batch of OpenAI embeddings) may take, all its retries included (a deadline, not a per-read timeout).")
    llm_max_retries: int = Field(3, ge=0, description="Retries of a failed or malformed LLM answer (lost connections, 429, 5xx, a garbled, empty or cut-off answer), within LLM_TIMEOUT.")
    llm_max_tokens: int = Field(4096, gt=0, description="Most tokens of one LLM answer (max_tokens on every call); an answer of more than 32 bytes a token (plus 64 KiB) is cut off as it arrives, however the server counts.")
    llm_concurrency: int = Field(4, ge=1, description="Claims judged by the LLM at the same time.")
    prompts_dir: Path | None = Field(None, description="Folder of prompt YAML files to use instead of the shipped ones.")
    llm_cache: bool = Field(True, description="Keep LLM answers on disk by (model, prompt, input) and reuse them.")
    llm_cache_db: Path | None = Field(None, description="SQLite file of cached LLM answers; default DATA_DIR/llm_cache.sqlite.")
    llm_cache_max_mb: float = Field(200.0, gt=0, description="Most megabytes of answers the LLM cache keeps; past it the oldest answers are dropped.")
    llm_replay_only: bool = Field(False, description="Answer only from the LLM cache; a miss is an error (tests, CI).")
    llm_price_in: float | None = Field(None, description="USD per million input tokens, for the cost in reports and run records (known OpenAI models are built in).")
    llm_price_out: float | None = Field(None, description="USD per million output tokens, for the cost in reports and run records.")
    runs_dir: Path = Field(Path("runs"), description="Where `factcheck eval` saves its run records.")
    eval_cache: bool = Field(True, description="Keep each evaluation corpus embedded under DATA_DIR/eval by content hash and reuse it.")

    # Retrieval
    data_dir: Path = Field(default_factory=default_data_dir, description="Where the embedded Chroma, the lexical indexes and the history live; default ./data where it already holds them, else the user data folder (~/.local/share/factcheck on Linux, ~/Library/Application Support/factcheck on macOS, %LOCALAPPDATA%\\factcheck on Windows).")
    collection: str = Field("sources", description="Name of the Chroma collection of trusted sources.")
    chroma_host: str | None = Field(None, description="Use a Chroma server (`chroma run`) at this host instead of the embedded store.")
    chroma_port: int = Field(8000, description="Port of the Chroma server.")
    sync_interval: float = Field(2.0, ge=0.0, description="Seconds a long-lived process (the bot) searches before looking again whether another machine changed the collection; 0 = before every search.")
    embeddings: Literal["local", "openai"] = Field("local", description="'local' runs all-MiniLM-L6-v2 on this machine.")
    openai_embedding_model: str = Field("text-embedding-3-small", description="Used when EMBEDDINGS=openai.")
    top_k: int = Field(5, ge=1, description="Passages judged per claim.")
    min_similarity: float = Field(
        0.3,
        description="Passages less similar to a claim (cosine) are not judged. 0.3 suits the "
        "local MiniLM (99% of SciFact's cited abstracts score above it); lower it for OpenAI's.",
    )

    # Pipeline
    max_claims: int = Field(25, ge=1, description="Most claims checked per article.")
    max_article_chars: int = Field(200_000, ge=1, description="Longer articles are refused.")
    fetch_timeout: float = Field(15.0, description="Seconds allowed for a whole download (a URL, or a file sent to the bot), however slowly the server sends.")
    fetch_max_bytes: int = Field(5_000_000, ge=1, description="Largest download accepted: a page behind a link, or a file sent to the bot (cut off as it streams in, whatever size it states).")
    allow_private_urls: bool = Field(False, description="Allow fetching from private, loopback and link-local addresses.")

    # Telegram bot
    telegram_bot_token: SecretStr | None = Field(None, description="Token of the Telegram bot, from @BotFather.")
    telegram_base_url: str = Field("https://api.telegram.org/bot", description="Bot API address the token is appended to (a self-hosted Bot API server, or the tests' one).")
    telegram_base_file_url: str = Field("https://api.telegram.org/file/bot", description="Bot API address files are downloaded from.")
    telegram_retry_seconds: float = Field(60.0, ge=0, description="How long a Bot API request is retried, with backoff, through dropped connections, 5xx answers and 429s before it fails.")
    webhook_url: str | None = Field(None, description="Public HTTPS address Telegram posts updates to; unset = long polling.")
    webhook_listen: str = Field("127.0.0.1", description="Address the webhook server listens on (behind a reverse proxy); 0.0.0.0 for all.")
    webhook_port: int = Field(8443, description="Port the webhook server listens on.")
    webhook_secret: SecretStr | None = Field(None, description="Secret Telegram sends with every webhook request (X-Telegram-Bot-Api-Secret-Token); unset = a random one at each start, so that the webhook never serves without one.")
    allowed_chat_ids: IdList = Field(default_factory=list, description="Chats (users, groups, channels) the bot serves, comma-separated; empty = everyone.")
    admin_user_ids: IdList = Field(default_factory=list, description="Users who may /add sources and change chat settings, comma-separated.")
    rate_limit_per_minute: int = Field(5, description="Checks one user may start per minute.")
    max_concurrent_checks: int = Field(2, ge=1, description="Checks running at the same time; later ones wait in a queue.")
    max_queued_checks: int = Field(20, description="Checks waiting in the queue before new ones are refused.")
    status_edit_interval: float = Field(2.0, description="Seconds between edits of a check's status message (Telegram limits edits).")
    history_db: Path | None = Field(None, description="SQLite file of stored checks, chat settings and feedback; default DATA_DIR/history.sqlite.")
    timezone: TimeZone = Field("UTC", description="Time zone of /digest times and of dates in summaries (IANA name, e.g. Europe/Berlin).")
    # 0.80 sits in the flat part of bench/memory.py's curve (0.78-0.82: precision 0.85, recall
    # 0.82-0.86 on tests/data/paraphrases.jsonl); above 0.85 recall falls fast.
    memory_similarity: float = Field(0.80, ge=0.0, le=1.0, description="Cosine similarity (local MiniLM) from which a new claim with the same figures, names and polarity counts as one already checked (claim memory).")
    check_history: bool = Field(False, description="`factcheck check` keeps its checks in the history and claim memory (HISTORY_DB), under chat id 0 ('terminal'), and, like the bot, answers an article checked before from it and reuses remembered results; --history / --no-history override it.")

    def resolved_engine(self) -> EngineName:
        """The engine to use: an explicit choice, else the LLM when one is configured."""
        if self.engine != "auto":
            return self.engine
        return "llm" if (self.openai_api_key or self.openai_base_url) else "offline"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once; a bad value is one line naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise BadInputError(f"{_problems(exc)}. Fix it in .env or the environment") from exc


def _problems(exc: ValidationError) -> str:
    """'MAX_CLAIMS='abc': input should be a valid integer; ...', a union's choices merged."""
    by_field: dict[str, list[dict]] = {}
    for error in exc.errors():
        by_field.setdefault(str(error["loc"][0]), []).append(dict(error))
    found = []
    for name, errors in by_field.items():
        if all(e["type"] == "literal_error" for e in errors):
            need = "input should be " + " or ".join(e["ctx"]["expected"] for e in errors)
        else:
            message = errors[0]["msg"].removeprefix("Value error, ")
            need = message[:1].lower() + message[1:]
        found.append(f"{name.upper()}={errors[0].get('input')!r}: {need}")
    return "; ".join(found)


_MACHINE_DEFAULTS = {"data_dir"}  # defaults that depend on the machine: left empty, described


def env_example() -> str:
    """The text of `.env.example`: every field with its description and default."""
    lines = ["# Copy to .env and edit. Every variable is optional; these are the defaults.", ""]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if default is None or isinstance(default, SecretStr) or name in _MACHINE_DEFAULTS:
            value = ""
        elif isinstance(default, bool):
            value = str(default).lower()
        elif isinstance(default, list):
            value = ",".join(map(str, default))
        else:
            value = str(default)
        lines += [f"# {field.description}", f"{name.upper()}={value}", ""]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m factcheck.settings > .env.example
    print(env_example(), end="")
