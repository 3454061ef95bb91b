"""The desk: repeat lookup, recall, pipeline, history, claim memory, on a real SQLite file, the
real embedded Chroma and the local models (offline engine)."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import Mock

import pytest

from factcheck import pipeline
from factcheck.desk import TERMINAL, Asker, Desk
from factcheck.history import open_history
from factcheck.memory import open_memory
from factcheck.models import Article
from factcheck.retrieval import Document
from factcheck.settings import Settings

STATED = "The strike near the river killed 23 people on Monday."
ARTICLE = Article(text="On Monday, 23 people were killed in the strike near the river.")
REWORDED = Article(text="23 people were killed on Monday in the strike near the river.")
ALICE = Asker(chat_id=7, chat_type="private", user_id=7, message_id=41)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", engine="offline", _env_file=None)


@pytest.fixture
def store(settings: Settings):
    store = pipeline.open_store(settings)
    store.ingest([Document(id="wire", title="Wire report", text=STATED)])
    yield store
    store.close()


@pytest.fixture
def desk(settings: Settings, store) -> Desk:
    history = open_history(settings)
    yield Desk(settings, history, open_memory(settings, store.embedder))
    history.close()


@pytest.fixture
def pipeline_runs(monkeypatch: pytest.MonkeyPatch) -> Mock:
    """pipeline.check, its calls counted."""
    spy = Mock(wraps=pipeline.check)
    monkeypatch.setattr(pipeline, "check", spy)
    return spy


def test_a_check_is_stored_with_who_asked_and_its_claims_remembered(desk, store):
    done = desk.check(ARTICLE, ALICE, store)
    assert not done.repeat and done.report.claims
    stored = desk.history.get_check(done.check_id)
    assert (stored.chat_id, stored.chat_type, stored.user_id, stored.message_id) == (
        7, "private", 7, 41)
    assert stored.report == done.report
    [prior] = desk.memory.recall([done.report.claims[0].claim.text], chat_id=7)
    assert prior.check_id == done.check_id and prior.times_in_chat == 1


def test_the_same_article_again_is_a_repeat_stored_now_without_a_new_check(desk, store,
                                                                           pipeline_runs):
    first = desk.check(ARTICLE, ALICE, store)
    before_again = datetime.now(UTC)
    again = desk.check(Article(text=f"  {ARTICLE.text}\n"), ALICE, store)  # spacing aside
    assert pipeline_runs.call_count == 1  # the repeat ran no pipeline
    assert again.repeat and again.repeat_of.id == first.check_id
    assert again.report.repeat_of == first.check_id
    assert again.report.created_at == first.report.created_at  # results of the sources then
    assert again.check_id != first.check_id
    stored = desk.history.checks(chat_id=7)
    assert [s.id for s in stored] == [again.check_id, first.check_id]  # counted in summaries
    assert datetime.fromisoformat(stored[0].created_at) >= before_again  # dated when asked
    # Another chat has not checked it: a new check there, its claims recalled desk-wide.
    elsewhere = desk.check(ARTICLE, Asker(chat_id=8, chat_type="private"), store)
    assert not elsewhere.repeat and pipeline_runs.call_count == 2
    assert elsewhere.report.claims[0].prior.reused


def test_a_fresh_check_is_no_repeat_and_reuses_nothing_but_marks_what_it_met(desk, store,
                                                                             pipeline_runs):
    desk.check(ARTICLE, ALICE, store)
    again = desk.check(ARTICLE, ALICE, store, fresh=True)
    assert not again.repeat and pipeline_runs.call_count == 2
    [claim] = again.report.claims
    assert claim.prior is not None and not claim.prior.reused and claim.prior.times == 1


def test_another_wording_reuses_the_remembered_result_until_the_sources_change(desk, store):
    first = desk.check(ARTICLE, ALICE, store)
    other = desk.check(REWORDED, ALICE, store)
    assert not other.repeat
    [claim] = other.report.claims
    assert claim.prior.reused and claim.prior.check_id == first.check_id
    assert claim.verdict == first.report.claims[0].verdict
    store.ingest([Document(id="update", text="The ministry revised the toll to 25.")])
    after = desk.check(ARTICLE, ALICE, store)  # neither a repeat nor reused: sources changed
    assert not after.repeat and not after.report.claims[0].prior.reused


def test_a_failing_memory_loses_neither_the_report_nor_its_stored_check(desk, store, caplog):
    with closing(sqlite3.connect(desk.memory.path)) as db:
        db.execute("DROP TABLE memory")  # recall and remember fail from now on
    with caplog.at_level(logging.ERROR, logger="factcheck.desk"):
        done = desk.check(ARTICLE, TERMINAL, store)
    assert done.report.claims and done.report.claims[0].prior is None
    assert desk.history.get_check(done.check_id).report == done.report
    assert "claim memory unavailable, checking without it" in caplog.text
    assert f"could not remember check {done.check_id}" in caplog.text


def test_a_desk_without_a_memory_still_finds_repeats(settings, store):
    history = open_history(settings)
    desk = Desk(settings, history)
    first = desk.check(ARTICLE, TERMINAL, store)
    assert first.report.claims[0].prior is None
    again = desk.check(ARTICLE, TERMINAL, store)
    assert again.repeat_of.id == first.check_id
    assert history.get_check(again.check_id).chat_type == "terminal"
    history.close()
