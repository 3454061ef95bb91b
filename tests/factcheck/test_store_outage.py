"""The CLI when the Chroma server is down or goes away mid-run (issue 12, item 7): one line,
exit 1, whatever the command."""

from __future__ import annotations

import pytest

from factcheck.cli import main
from factcheck.engines.offline import OfflineEngine
from factcheck.settings import get_settings

CLAIM = "The ferry to Inishmore leaves at nine every morning."


@pytest.fixture
def on_server(stoppable_chroma, monkeypatch):
    server = stoppable_chroma.server
    monkeypatch.setenv("CHROMA_HOST", server.host)
    monkeypatch.setenv("CHROMA_PORT", str(server.port))
    get_settings.cache_clear()
    return stoppable_chroma


def _line(server) -> str:
    return (f"error: cannot reach the Chroma server at {server.host}:{server.port}; is `chroma "
            "run` up?\n")


def test_every_command_on_a_server_that_is_down_says_so_in_one_line(capsys, tmp_path,
                                                                    on_server):
    (tmp_path / "note.txt").write_text(CLAIM)
    on_server.stop()
    for argv in (["sources"], ["check", CLAIM], ["ingest", "note.txt"],
                 ["sources", "remove", "x"]):
        assert main(argv) == 1, argv
        out, err = capsys.readouterr()
        assert (out, err) == ("", _line(on_server.server)), argv


def test_a_server_that_goes_away_during_a_check_is_the_same_one_line(capsys, on_server,
                                                                    monkeypatch, tmp_path):
    (tmp_path / "note.txt").write_text(CLAIM)
    assert main(["ingest", "note.txt"]) == 0
    capsys.readouterr()
    extract = OfflineEngine.extract_claims

    def stop_then_extract(*args, **kwargs):
        on_server.stop()  # after the store opened, before the search
        return extract(*args, **kwargs)

    monkeypatch.setattr(OfflineEngine, "extract_claims", stop_then_extract)
    assert main(["check", CLAIM]) == 1
    _out, err = capsys.readouterr()
    assert err.endswith(_line(on_server.server)) and err.count("error:") == 1
    assert "Traceback" not in err
