"""One typed settings object, read from the environment and `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every option of the pipeline, the CLI and the bot. `.env.example` lists exactly these."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    # Engines
    engine: Literal["auto", "offline", "llm"] = Field(
        "auto", description="'auto' uses the LLM when OPENAI_API_KEY or OPENAI_BASE_URL is set."
    )
    openai_api_key: SecretStr | None = Field(None, description="Key for the OpenAI API.")
    openai_base_url: str | None = Field(
        None, description="Any OpenAI-compatible server (vLLM, Ollama, ...), e.g. http://localhost:11434/v1."
    )
    llm_model: str = Field("gpt-4o-mini", description="Chat model for claims and stance.")
    llm_timeout: float = Field(60.0, description="Seconds before one LLM request is abandoned.")
    llm_max_retries: int = Field(3, description="Retries of a failed or malformed LLM answer.")
    llm_concurrency: int = Field(4, description="Claims judged by the LLM at the same time.")
    prompts_dir: Path | None = Field(None, description="Folder of prompt YAML files to use instead of the shipped ones.")

    # Retrieval
    data_dir: Path = Field(Path("data"), description="Where the embedded Chroma and the indexes live.")
    collection: str = Field("sources", description="Name of the Chroma collection of trusted sources.")
    chroma_host: str | None = Field(None, description="Use a Chroma server (`chroma run`) at this host instead of the embedded store.")
    chroma_port: int = Field(8000, description="Port of the Chroma server.")
    embeddings: Literal["local", "openai"] = Field("local", description="'local' runs all-MiniLM-L6-v2 on this machine.")
    openai_embedding_model: str = Field("text-embedding-3-small", description="Used when EMBEDDINGS=openai.")
    top_k: int = Field(5, description="Passages judged per claim.")

    # Pipeline
    max_claims: int = Field(20, description="Most claims checked per article.")
    max_article_chars: int = Field(200_000, description="Longer articles are refused.")
    fetch_timeout: float = Field(15.0, description="Seconds allowed to download a URL.")
    fetch_max_bytes: int = Field(5_000_000, description="Largest download accepted.")
    allow_private_urls: bool = Field(False, description="Allow fetching from private, loopback and link-local addresses.")

    def resolved_engine(self) -> Literal["offline", "llm"]:
        """The engine to use: an explicit choice, else the LLM when one is configured."""
        if self.engine != "auto":
            return self.engine
        return "llm" if (self.openai_api_key or self.openai_base_url) else "offline"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
