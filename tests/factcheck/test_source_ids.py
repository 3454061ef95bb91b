"""Source ids that cannot collide (issue 12, item 5): a file's id is the file: URI of its
resolved path, whatever folder it was ingested through; an ingest says when it replaces a
source read from elsewhere, or one stored under a file's old relative id."""

from __future__ import annotations

import json
from pathlib import Path

from factcheck.cli import main
from factcheck.pipeline import open_store
from factcheck.retrieval import Document
from factcheck.settings import get_settings


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _source_ids() -> set[str]:
    with open_store(get_settings()) as store:
        return {s.source_id for s in store.sources()}


def _report(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.txt").write_text(text)
    return folder


def test_two_folders_with_a_file_of_one_name_keep_two_sources(capsys, tmp_path):
    a = _report(tmp_path / "a", "The dam at Alder Creek was finished in 1962.")
    b = _report(tmp_path / "b", "The bridge at Birch Ford was finished in 1974.")
    assert run(capsys, "ingest", str(a))[0] == 0
    code, _, err = run(capsys, "ingest", str(b))
    assert code == 0 and "1 new chunk(s)" in err and "Replaced" not in err
    assert _source_ids() == {(a / "report.txt").resolve().as_uri(),
                             (b / "report.txt").resolve().as_uri()}


def test_a_parent_folder_then_its_subfolder_store_the_file_once(capsys, tmp_path):
    _report(tmp_path / "desk" / "floods", "The river rose 4 metres in March 2021.")
    assert run(capsys, "ingest", str(tmp_path / "desk"))[0] == 0
    code, _, err = run(capsys, "ingest", str(tmp_path / "desk" / "floods"))
    assert code == 0 and "0 new chunk(s), 1 already present" in err
    assert len(_source_ids()) == 1


def test_a_corpus_row_replaced_from_another_corpus_file_is_named(capsys, tmp_path):
    for name, text in (("first", "The council met 12 times."), ("second", "It met 14 times.")):
        (tmp_path / f"{name}.jsonl").write_text(json.dumps({"id": "minutes", "text": text}))
    assert run(capsys, "ingest", str(tmp_path / "first.jsonl"))[0] == 0
    code, _, err = run(capsys, "ingest", str(tmp_path / "second.jsonl"))
    assert code == 0
    first, second = ((tmp_path / f"{n}.jsonl").resolve().as_uri() for n in ("first", "second"))
    assert f"Replaced: minutes came from {first}; its text is now the one from {second}." in err
    assert run(capsys, "ingest", str(tmp_path / "second.jsonl"))[2].count("Replaced") == 0


def test_a_collection_made_before_file_ids_moves_to_them_when_ingested_again(capsys, tmp_path):
    folder = _report(tmp_path / "desk", "The ferry carried 300 people a day in 1990.")
    (folder / "sub").mkdir()
    (folder / "sub" / "notes.md").write_text("The old pier was closed in 2001.")
    with open_store(get_settings()) as store:  # as the ingest before this change stored them
        store.ingest([Document("report.txt", "The ferry carried 200 people a day."),
                      Document("sub/notes.md", "The old pier was closed in 2001."),
                      # a file of that name sent to the bot since: its id, not a former one
                      Document("notes.md", "Pier notes.", origin="a file sent to the bot")])
    code, _, err = run(capsys, "ingest", str(folder))
    assert code == 0
    uri = (folder / "report.txt").resolve().as_uri()
    assert (f"Replaced: report.txt (its id from before sources were known by their full path) "
            f"is now {uri}.") in err
    assert err.count("Replaced:") == 2
    assert _source_ids() == {uri, (folder / "sub" / "notes.md").resolve().as_uri(), "notes.md"}


def test_a_source_is_removed_by_its_id_or_its_path(capsys, tmp_path):
    folder = _report(tmp_path / "desk", "The lighthouse was automated in 1985.")
    assert run(capsys, "ingest", str(folder))[0] == 0
    code, _, err = run(capsys, "sources", "remove", str(folder / "report.txt"))
    assert code == 0 and "Removed 1 chunk(s)" in err
    assert _source_ids() == set()
