"""The `factcheck` command end to end: real embedder, real Chroma, real files."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from factcheck.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SEED = ROOT / "examples" / "seed_article.txt"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def ingested(capsys) -> None:
    code, _, err = run(capsys, "ingest", str(DATA / "corpus.jsonl"))
    assert code == 0, err
    assert "20 document(s)" in err


def test_seed_article_claims_contradictions_and_no_evidence(capsys, ingested):
    code, out, _ = run(capsys, "check", str(SEED), "--format", "json")
    assert code == 0
    report = json.loads(out)
    texts = [c["claim"]["text"] for c in report["claims"]]
    assert any("five Russians killed" in t for t in texts)
    assert len(report["internal_contradictions"]) >= 4
    [group] = report["internal_contradiction_groups"]
    assert group["measure"] == "death toll" and len(group["figures"]) == 5
    # A collection of biomedical abstracts says nothing about a strike in Syria.
    assert {c["verdict"]["label"] for c in report["claims"]} == {"NOT_ENOUGH_EVIDENCE"}
    assert report["provenance"]["engine"] == "offline"


def test_text_format_says_plainly_there_is_no_evidence(capsys, ingested):
    code, out, _ = run(capsys, "check", str(SEED))
    assert code == 0
    assert "no evidence on this claim" in out
    flat = " ".join(out.split())
    assert re.search(r"death toll: 5 Russians \(Maria Zakharova, the ministry; claim \d+\) · 13 "
                     r"\(Maxim", flat)


def test_supported_claim_quotes_its_source_sentence(capsys, ingested):
    claim = json.loads((DATA / "claims.jsonl").read_text().splitlines()[0])
    gold = next(json.loads(line) for line in (DATA / "corpus.jsonl").read_text().splitlines()
                if json.loads(line)["id"] == claim["gold_ids"][0])
    code, out, _ = run(capsys, "check", claim["claim"], "--format", "json")
    assert code == 0
    [checked] = json.loads(out)["claims"]
    best = checked["evidence"][0]
    assert best["passage"]["source_id"] == gold["id"]
    assert best["quote"] and best["quote"] in best["passage"]["text"]


def test_markdown_output(capsys, ingested):
    code, out, _ = run(capsys, "check", str(SEED), "--format", "markdown")
    assert code == 0
    assert out.startswith("# Fact-check:")
    assert "## ❔" in out


def test_reingest_adds_nothing_and_sources_lists_them(capsys, ingested):
    code, _, err = run(capsys, "ingest", str(DATA / "corpus.jsonl"))
    assert code == 0 and "0 new chunk(s)" in err
    code, out, _ = run(capsys, "sources")
    assert code == 0 and "20 source(s)" in out


def test_remove_a_source(capsys, ingested):
    first_id = json.loads((DATA / "corpus.jsonl").read_text().splitlines()[0])["id"]
    assert run(capsys, "sources", "remove", first_id)[0] == 0
    code, out, _ = run(capsys, "sources")
    assert "19 source(s)" in out
    code, _, err = run(capsys, "sources", "remove", "no-such-source")
    assert code == 2 and "no source with id" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "missing-file.txt"], "no such file"),
        (["check", "   "], "empty"),
        (["ingest", "nowhere/corpus.jsonl"], "no such file"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err.lower()
    assert "Traceback" not in err


def test_malformed_corpus_line_names_it_and_ingests_nothing(capsys, tmp_path):
    lines = (DATA / "corpus.jsonl").read_text().splitlines()[:3]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[0], "{not json", lines[1]]) + "\n")
    code, _, err = run(capsys, "ingest", str(bad))
    assert code == 2 and "line 2" in err
    code, out, _ = run(capsys, "sources")
    assert "0 source(s)" in out


def test_binary_article_is_refused(capsys, tmp_path):
    binary = tmp_path / "photo.txt"
    binary.write_bytes(bytes(range(256)) * 10)
    code, _, err = run(capsys, "check", str(binary))
    assert code == 2 and "Traceback" not in err


def test_url_on_loopback_is_refused_by_default(capsys):
    code, _, err = run(capsys, "check", "http://127.0.0.1:9/article")
    assert code == 2 and "127.0.0.1" in err


def test_console_script_exit_code_and_debug_traceback(tmp_path):
    cmd = [sys.executable, "-m", "factcheck"]
    quiet = subprocess.run([*cmd, "check", "missing.txt"], capture_output=True, text=True)
    assert quiet.returncode == 2 and "Traceback" not in quiet.stderr
    assert len(quiet.stderr.strip().splitlines()) == 1
    loud = subprocess.run([*cmd, "--debug", "check", "missing.txt"], capture_output=True, text=True)
    assert loud.returncode == 2 and "Traceback" in loud.stderr


def test_stdin_article(capsys, monkeypatch, ingested):
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(SEED.read_bytes())))
    code, out, _ = run(capsys, "check", "-", "--format", "json")
    assert code == 0 and json.loads(out)["article"]["source"] == "-"


def test_example_article_shows_supported_and_contradicted_claims_with_quotes(capsys, tmp_path):
    """The README's main command, on the abstracts its example claims cite plus a few others."""
    cited = {"2095573", "1550937", "6477536", "19878070"}
    lines = (ROOT / "examples" / "corpus.jsonl").read_text().splitlines()
    sample = [line for line in lines if json.loads(line)["id"] in cited] + lines[:6]
    (tmp_path / "sample.jsonl").write_text("\n".join(sample) + "\n")
    assert run(capsys, "ingest", str(tmp_path / "sample.jsonl"))[0] == 0
    code, out, _ = run(capsys, "check", str(ROOT / "examples" / "example_article.txt"),
                       "--format", "json")
    assert code == 0
    claims = json.loads(out)["claims"]
    labels = [c["verdict"]["label"] for c in claims]
    assert "SUPPORTED" in labels and "CONTRADICTED" in labels
    for checked in claims:
        if checked["verdict"]["label"] in ("SUPPORTED", "CONTRADICTED"):
            quote = checked["evidence"][0]["quote"]
            assert quote and quote in checked["evidence"][0]["passage"]["text"]
    assert labels[-1] == "NOT_ENOUGH_EVIDENCE"  # its cited abstract is not in the collection


def _command(*argv: str) -> subprocess.CompletedProcess[str]:
    """The console script in its own process (its log lines reach stderr, as a user sees them)."""
    return subprocess.run([sys.executable, "-m", "factcheck", *argv], capture_output=True,
                          text=True)


def _truncate(path: Path) -> None:
    if path.suffix == ".sqlite":  # what the WAL holds goes into the file first
        with closing(sqlite3.connect(path)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_damaged_lexical_files_are_rebuilt_with_one_warning_line(capsys, ingested, tmp_path):
    lexical = tmp_path / "data" / "lexical"
    _truncate(lexical / "sources.sqlite")
    listed = _command("sources")
    assert listed.returncode == 0 and "20 source(s)" in listed.stdout
    [warning] = [line for line in listed.stderr.splitlines() if "WARNING" in line]
    assert warning.startswith(f"WARNING factcheck.retrieval.store: the lexical index "
                              f"{lexical / 'sources.sqlite'} is damaged (")
    assert warning.endswith("): rebuilding it from the Chroma collection")
    claim = json.loads((DATA / "claims.jsonl").read_text().splitlines()[0])
    assert _command("check", claim["claim"]).returncode == 0  # saves the postings again
    _truncate(lexical / "sources.postings.npz")
    checked = _command("check", claim["claim"], "--format", "json")
    assert checked.returncode == 0
    assert json.loads(checked.stdout)["claims"][0]["evidence"][0]["passage"]["source_id"] == (
        claim["gold_ids"][0])
    [warning] = [line for line in checked.stderr.splitlines() if "WARNING" in line]
    assert str(lexical / "sources.postings.npz") in warning and "rebuilding it" in warning


def test_a_damaged_history_is_an_error_naming_the_file_and_never_rebuilt(capsys, tmp_path):
    from factcheck.history import open_history
    from factcheck.settings import get_settings

    open_history(get_settings()).close()
    history = tmp_path / "data" / "history.sqlite"
    _truncate(history)
    damaged = history.read_bytes()
    code, out, err = run(capsys, "summary")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert str(history) in err and "damaged" in err and "backup" in err and ".recover" in err
    assert history.read_bytes() == damaged  # left as it was


ESCAPES = "\x1b]0;pwned\x07\x1b[31m\x1b[2J\x9b1A\r\x08"


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_terminal_escapes_in_articles_and_sources_are_never_printed(capsys, tmp_path, fmt):
    """An OSC title change, colours, a screen clear and a cursor move reach neither stream."""
    source = {"id": "s1", "title": f"Ministry{ESCAPES} bulletin",
              "text": f"The ministry said 120 people{ESCAPES} died in the quake on Monday."}
    (tmp_path / "evil.jsonl").write_text(json.dumps(source) + "\n")
    assert run(capsys, "ingest", str(tmp_path / "evil.jsonl"))[0] == 0
    article = tmp_path / "article.txt"
    # Enough plain text around the escapes that the file is not taken for a binary one.
    filler = "Rescue teams searched the northern districts through the night. " * 6
    article.write_text(f"The ministry said 120 people{ESCAPES} died in the quake on Monday. "
                       f"{filler}\n")
    code, out, err = run(capsys, "check", str(article), "--format", fmt)
    assert code == 0
    assert "120 people" in out and "died in the quake" in out
    assert not [c for c in out + err if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) < 0xa0]
    assert "[31m" not in out and "pwned" not in out


def test_error_lines_print_no_escapes_and_no_markup(capsys):
    code, _, err = run(capsys, "check", "http://127.0.0.1:9/\x1b]0;pwned\x07[bold]x[/bold]")
    assert code == 2
    assert "\x1b" not in err and "\x07" not in err and "[bold]x[/bold]" in err


@pytest.mark.parametrize(("variable", "value", "said"), [
    ("ENGINE", "bogus", "ENGINE='bogus': input should be 'auto' or 'offline' or 'llm'"),
    ("MAX_CLAIMS", "abc", "MAX_CLAIMS='abc': input should be a valid integer"),
    ("MAX_CLAIMS", "-1", "MAX_CLAIMS='-1': input should be greater than or equal to 1"),
    ("TIMEZONE", "Mars/Phobos", "TIMEZONE='Mars/Phobos': unknown time zone 'Mars/Phobos'"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(capsys, monkeypatch, variable, value, said):
    from factcheck.settings import get_settings

    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    code, _, err = run(capsys, "check", "Five people were killed in the strike.")
    get_settings.cache_clear()
    assert code == 2 and said in err and "Fix it in .env or the environment" in err
    assert "pydantic" not in err and len(err.strip().splitlines()) == 1


def test_a_data_dir_that_is_a_file_is_named_in_one_line(capsys, monkeypatch, tmp_path):
    from factcheck.settings import get_settings

    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "file"))
    get_settings.cache_clear()
    code, _, err = run(capsys, "eval", "retrieval", "--corpus", str(DATA / "corpus.jsonl"),
                       "--claims", str(DATA / "claims.jsonl"))
    get_settings.cache_clear()
    assert code == 1 and f"{tmp_path / 'file'}" in err and "unexpected" not in err
    assert "Check that path and its permissions" in err


def test_ctrl_c_exits_130_with_one_word(capsys, monkeypatch):
    from factcheck.cli import commands

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "_settings", interrupted)
    code, _, err = run(capsys, "sources")
    assert code == 130 and err.strip() == "interrupted"


def test_the_sources_table_shows_a_long_id_whole_for_sources_remove(capsys, tmp_path):
    folder = tmp_path / ("a_long_folder_name_" * 4)
    folder.mkdir()
    (folder / "report.txt").write_text("Five people were killed in the strike on Monday.")
    assert run(capsys, "ingest", str(folder))[0] == 0
    code, out, _ = run(capsys, "sources")
    cells = "".join(line.split("│")[1].strip() for line in out.splitlines() if "│" in line)
    assert code == 0 and (folder / "report.txt").resolve().as_uri() in cells
