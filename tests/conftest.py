"""Shared fixtures: every test runs in its own folder with its own data dir and no API keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.chroma_server import chroma_server  # noqa: F401
from fakes.openai_server import openai_server_fixture  # noqa: F401
from fakes.telegram_server import telegram_server_fixture  # noqa: F401

from factcheck.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point data paths at a temp dir, drop keys from the environment, ignore any .env."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ENGINE", "CHROMA_HOST", "EMBEDDINGS",
                 "PROMPTS_DIR", "ALLOW_PRIVATE_URLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
