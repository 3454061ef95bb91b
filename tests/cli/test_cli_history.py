"""`factcheck check --history`: the terminal's checks at the desk (history and claim memory),
end to end with the real embedder, Chroma and SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factcheck.cli import main
from factcheck.desk import TERMINAL_CHAT_ID
from factcheck.history import open_history
from factcheck.settings import Settings, get_settings

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
CLAIM = json.loads((DATA / "claims.jsonl").read_text().splitlines()[0])["claim"]
REWORDED = "Cold exposure quickly induces an M2-like phenotype in brown adipose tissue macrophages."
REPEAT = "Already checked here on"


def run(capsys, *argv: str) -> tuple[dict, str]:
    """The JSON report and standard error of `factcheck check --format json ARGV`."""
    assert main(["check", "--format", "json", *argv]) == 0
    out, err = capsys.readouterr()
    return json.loads(out), err


@pytest.fixture(autouse=True)
def ingested(capsys) -> None:
    assert main(["ingest", str(DATA / "corpus.jsonl")]) == 0
    capsys.readouterr()


def stored_checks() -> list:
    history = open_history(Settings())
    try:
        return history.checks(chat_id=TERMINAL_CHAT_ID)
    finally:
        history.close()


def test_the_same_article_again_is_answered_from_the_history_until_fresh(capsys):
    first, err = run(capsys, CLAIM, "--history")
    assert REPEAT not in err and first["repeat_of"] is None
    [stored] = stored_checks()
    assert stored.chat_type == "terminal"
    again, err = run(capsys, CLAIM, "--history")
    assert REPEAT in err and "sources unchanged since" in err
    assert again["repeat_of"] == stored.id and again["claims"] == first["claims"]
    fresh, err = run(capsys, CLAIM, "--history", "--fresh")
    assert REPEAT not in err and fresh["repeat_of"] is None
    [claim] = fresh["claims"]
    assert claim["prior"]["times"] == 2 and not claim["prior"]["reused"]
    assert len(stored_checks()) == 3  # the repeat is counted too


def test_another_wording_reuses_the_remembered_result(capsys):
    first, _ = run(capsys, CLAIM, "--history")
    other, err = run(capsys, REWORDED, "--history")
    assert REPEAT not in err
    [claim] = other["claims"]
    assert claim["prior"]["reused"] and claim["verdict"] == first["claims"][0]["verdict"]


def test_without_history_nothing_is_stored_or_recalled(capsys, monkeypatch):
    run(capsys, CLAIM)
    assert not (Path(Settings().data_dir) / "history.sqlite").exists()
    monkeypatch.setenv("CHECK_HISTORY", "true")
    get_settings.cache_clear()  # read once per process
    run(capsys, CLAIM)
    _, err = run(capsys, CLAIM)
    assert REPEAT in err
    again, err = run(capsys, CLAIM, "--no-history")
    assert REPEAT not in err and again["claims"][0]["prior"] is None
    assert len(stored_checks()) == 2
