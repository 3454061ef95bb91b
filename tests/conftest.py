"""Shared fixtures: every test runs in its own folder with its own data dir and no API keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest
from fakes.chroma_server import chroma_server, stoppable_chroma  # noqa: F401
from fakes.openai_server import openai_server_fixture  # noqa: F401
from fakes.telegram_server import telegram_server_fixture  # noqa: F401

from factcheck import logmask
from factcheck.settings import APP_NAME, get_settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _listing(folder: Path) -> list[tuple[str, int]] | None:
    if not folder.exists():
        return None
    return sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*"))


@pytest.fixture(scope="session", autouse=True)
def real_user_data_untouched() -> Iterator[None]:
    """Fail the run if any test wrote to the real user data folder (the default DATA_DIR)."""
    real = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    before = _listing(real)
    yield
    assert _listing(real) == before, f"a test wrote to the real user data folder {real}"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point data paths at a temp dir, drop keys from the environment, ignore any .env."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ENGINE", "CHROMA_HOST", "EMBEDDINGS",
                 "PROMPTS_DIR", "ALLOW_PRIVATE_URLS", "COLLECTION", "CHROMA_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    # Where the default DATA_DIR would go (Linux, and macOS/Windows do not read it): in tmp too,
    # for a test or a subprocess that unsets DATA_DIR.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
    logmask.forget_secrets()  # a test's keys must not mask words in the next test's lines
