"""The collection does not depend on the working folder (issue 12, item 6): DATA_DIR defaults
to the user data folder (XDG_DATA_HOME points into tmp, see conftest), `ingest` and `sources`
say where the collection is, and `check` warns when it is empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from factcheck.cli import main
from factcheck.settings import get_settings

CLAIM = "The lighthouse on Gull Rock was automated in 1985."


def run(capsys, *argv: str) -> tuple[int, str, str]:
    get_settings.cache_clear()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_data_dir(tmp_path: Path, monkeypatch) -> Path:
    """No DATA_DIR set; returns where the user data folder is."""
    monkeypatch.delenv("DATA_DIR")
    return tmp_path / "user-data" / "factcheck"


def test_every_folder_sees_the_one_collection_in_the_user_data_folder(
    capsys, tmp_path, monkeypatch, no_data_dir
):
    (tmp_path / "desk").mkdir()
    (tmp_path / "desk" / "lighthouse.txt").write_text(CLAIM)
    monkeypatch.chdir(tmp_path / "desk")
    code, _, err = run(capsys, "ingest", "lighthouse.txt")
    assert code == 0
    assert f"into collection 'sources' in {no_data_dir / 'chroma'}." in " ".join(err.split())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, _ = run(capsys, "sources")
    assert code == 0 and "1 source(s), 1 chunk(s)" in out
    assert f"Collection 'sources' in {no_data_dir / 'chroma'}." in out
    code, out, err = run(capsys, "check", CLAIM)
    assert code == 0 and "empty" not in err and "supported" in out.lower()
    assert not (elsewhere / "data").exists() and not (tmp_path / "desk" / "data").exists()


def test_check_warns_on_an_empty_collection(capsys, tmp_path, no_data_dir):
    code, _, err = run(capsys, "check", CLAIM)
    assert code == 0
    line = " ".join(err.split())
    assert f"warning: the collection 'sources' in {no_data_dir / 'chroma'} is empty" in line
    assert "factcheck ingest PATH" in line


def test_a_data_folder_made_by_an_earlier_version_is_still_used(capsys, tmp_path, no_data_dir):
    (tmp_path / "data" / "chroma").mkdir(parents=True)  # the cwd's ./data, as before
    (tmp_path / "note.txt").write_text(CLAIM)
    code, _, err = run(capsys, "ingest", "note.txt")
    assert code == 0 and f"in {tmp_path / 'data' / 'chroma'}." in " ".join(err.split())
    assert not no_data_dir.exists()
