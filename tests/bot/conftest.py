"""Fixtures of the bot's end-to-end tests: the SciFact corpus (built once per session), Settings
pointing at the Bot API test server, and start_bot() running the real Application."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bot_helpers import ADMIN, DATA, RunningBot
from fakes.telegram_server import TelegramTestServer

from factcheck import pipeline
from factcheck.retrieval.loaders import load_jsonl
from factcheck.settings import Settings


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the 20 SciFact abstracts ingested (copied by each test)."""
    data = tmp_path_factory.mktemp("corpus")
    with pipeline.open_store(Settings(data_dir=data, embeddings="local")) as store:
        store.ingest(list(load_jsonl(DATA / "corpus.jsonl")))
    return data


@pytest.fixture
def settings(tmp_path: Path, corpus: Path, telegram_server: TelegramTestServer) -> Settings:
    """Settings of a bot on the test server, with its own copy of the corpus."""
    data = tmp_path / "bot-data"
    shutil.copytree(corpus, data)
    return Settings(
        telegram_bot_token=telegram_server.token, telegram_base_url=telegram_server.base_url,
        telegram_base_file_url=telegram_server.base_file_url, data_dir=data, engine="offline",
        status_edit_interval=0.2, admin_user_ids=[ADMIN],
    )


@pytest.fixture
def start_bot(settings: Settings, telegram_server: TelegramTestServer) -> Iterator[Callable]:
    """start_bot(**setting overrides) -> RunningBot, ready; every bot is stopped at the end."""
    bots: list[RunningBot] = []

    def start(**overrides: object) -> RunningBot:
        mark = len(telegram_server.calls)
        bots.append(RunningBot(settings.model_copy(update=overrides)))
        telegram_server.wait_for("setMyCommands", after=mark)
        return bots[-1]

    yield start
    for running in bots:
        running.stop()
