"""The SQLite history: checks, claims, feedback and chat settings survive a reopen."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from factcheck.errors import StoreError
from factcheck.history import Feedback, SQLiteHistory, article_hash, history_path, open_history
from factcheck.models import (
    Article,
    Claim,
    ClaimCheck,
    Evidence,
    Label,
    Passage,
    Provenance,
    Report,
    Stance,
    Verdict,
)
from factcheck.settings import Settings


def make_report(text: str = "Water boils at 100 C at sea level.") -> Report:
    passage = Passage(id="chunk-1", text="Water boils at 100 C.", source_id="physics", title="Physics")
    evidence = Evidence(passage=passage, stance=Stance.SUPPORTS, confidence=0.9,
                        quote="Water boils at 100 C.", rationale="Same figure.")
    check = ClaimCheck(
        claim=Claim(id=1, text=text, start=0, end=len(text), checkworthiness=0.8),
        verdict=Verdict(label=Label.SUPPORTED, confidence=0.9, summary="Supported."),
        evidence=[evidence],
    )
    return Report(
        article=Article(text=text, source="text"), claims=[check],
        provenance=Provenance(engine="llm", model="m", embedder="e", prompts={"stance": "1:abc"}),
        timings={"total": 1.5},
    )


@pytest.fixture
def history(tmp_path):
    store = SQLiteHistory(tmp_path / "h.sqlite")
    yield store
    store.close()


def test_a_stored_check_comes_back_whole_after_a_reopen(tmp_path):
    store = SQLiteHistory(tmp_path / "h.sqlite")
    report = make_report()
    check_id = store.add_check(report, chat_id=-100, chat_type="group", user_id=7, message_id=3)
    store.close()

    reopened = SQLiteHistory(tmp_path / "h.sqlite")
    stored = reopened.get_check(check_id)
    assert stored is not None and stored.report == report
    assert (stored.chat_id, stored.chat_type, stored.user_id, stored.message_id) == (
        -100, "group", 7, 3)
    reopened.close()


def test_claims_rows_hold_verdicts_and_evidence_ids_for_sql_queries(history):
    check_id = history.add_check(make_report(), chat_id=1, chat_type="private", user_id=1)
    db = sqlite3.connect(history.path)
    label, evidence = db.execute(
        "SELECT label, evidence FROM claims WHERE check_id = ?", (check_id,)).fetchone()
    sha, engine, prompts = db.execute(
        "SELECT article_sha256, engine, prompts FROM checks").fetchone()
    assert label == "SUPPORTED" and '"passage_id": "chunk-1"' in evidence
    assert sha == article_hash("Water boils at 100 C at sea level.")
    assert engine == "llm" and "1:abc" in prompts


def test_check_ids_are_unguessable_and_unknown_ids_give_none(history):
    ids = {history.add_check(make_report(), chat_id=1, chat_type="private") for _ in range(5)}
    assert len(ids) == 5 and all(len(i) >= 10 for i in ids)
    assert history.get_check("1") is None


def test_checks_filter_by_chat_and_time_newest_first(history):
    first = history.add_check(make_report("A is B."), chat_id=1, chat_type="channel")
    second = history.add_check(make_report("C is D."), chat_id=1, chat_type="channel")
    history.add_check(make_report("E is F."), chat_id=2, chat_type="channel")
    assert [c.id for c in history.checks(chat_id=1)] == [second, first]
    future = datetime.now(UTC) + timedelta(hours=1)
    assert history.checks(since=future) == []
    assert len(history.checks()) == 3


def test_feedback_is_one_row_per_user_and_claim_updated_in_place(history):
    check_id = history.add_check(make_report(), chat_id=1, chat_type="private")
    history.add_feedback(Feedback(check_id=check_id, claim_id=1, user_id=5, correct=False))
    history.add_feedback(Feedback(check_id=check_id, claim_id=1, user_id=5,
                                  right_label=Label.CONTRADICTED))
    history.add_feedback(Feedback(check_id=check_id, claim_id=1, user_id=6, correct=True))
    got = sorted(history.feedback(check_id), key=lambda f: f.user_id)
    assert [(f.user_id, f.correct, f.right_label) for f in got] == [
        (5, False, Label.CONTRADICTED), (6, True, None)]


def test_feedback_on_an_unknown_check_is_refused(history):
    with pytest.raises(StoreError, match="no stored check"):
        history.add_feedback(Feedback(check_id="nope", claim_id=1, user_id=5, correct=True))


def test_chat_settings_default_then_persist(tmp_path):
    store = SQLiteHistory(tmp_path / "h.sqlite")
    assert store.get_chat_setting(-1001, "check_posts", False) is False
    store.set_chat_setting(-1001, "check_posts", True)
    store.close()
    assert SQLiteHistory(tmp_path / "h.sqlite").get_chat_setting(-1001, "check_posts") is True


def test_chats_with_setting_lists_every_chat_where_it_is_set(history):
    history.set_chat_setting(-1001, "digest", {"time": "18:00"})
    history.set_chat_setting(42, "digest", {"time": "07:30"})
    history.set_chat_setting(7, "digest", {"time": "09:00"})
    history.set_chat_setting(7, "digest", None)  # turned off
    history.set_chat_setting(42, "check_posts", True)
    assert history.chats_with_setting("digest") == {
        -1001: {"time": "18:00"}, 42: {"time": "07:30"}}
    assert history.chats_with_setting("nothing") == {}


def test_check_ids_lists_checks_with_claims_oldest_first(history):
    first = history.add_check(make_report(), chat_id=1, chat_type="private")
    history.add_check(make_report().model_copy(update={"claims": []}), chat_id=1,
                      chat_type="private")
    second = history.add_check(make_report(), chat_id=2, chat_type="group")
    assert history.check_ids() == [first, second]


def test_history_path_defaults_under_the_data_dir(tmp_path):
    assert history_path(Settings(data_dir=tmp_path)) == tmp_path / "history.sqlite"
    assert history_path(Settings(history_db=tmp_path / "x.db")) == tmp_path / "x.db"
    open_history(Settings(data_dir=tmp_path / "new")).close()
    assert (tmp_path / "new" / "history.sqlite").exists()


def test_an_unopenable_path_is_a_store_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match="HISTORY_DB"):
        SQLiteHistory(tmp_path / "file" / "h.sqlite")


def test_find_article_matches_the_same_text_in_the_same_chat_whitespace_aside(history):
    text = "Water boils at 100 C at sea level.\n\nIt freezes at 0 C."
    history.add_check(make_report(text), chat_id=1, chat_type="private")
    newer = history.add_check(make_report(text), chat_id=1, chat_type="private")
    assert history.find_article(1, "  Water boils at 100 C  at sea level. It freezes at 0 C.\n").id \
        == newer
    assert history.find_article(2, text) is None  # another chat
    assert history.find_article(1, "Water boils at 90 C at sea level. It freezes at 0 C.") is None


def test_a_version_1_history_is_rehashed_so_that_old_checks_are_found(tmp_path):
    path = tmp_path / "h.sqlite"
    SQLiteHistory(path).add_check(make_report("Water  boils."), chat_id=1, chat_type="private")
    db = sqlite3.connect(path)
    db.execute("UPDATE checks SET article_sha256 = 'raw-hash-of-version-1'")
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    assert SQLiteHistory(path).find_article(1, "Water boils.") is not None
