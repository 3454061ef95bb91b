"""Source files to text: txt, md, html, pdf, folders and corpus .jsonl files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fakes.documents import make_pdf

from factcheck.retrieval.documents import Document
from factcheck.retrieval.loaders import (
    CorpusLineError,
    UnreadableFileError,
    extract_text,
    load_path,
    normalize_text,
)

ARTICLE_HTML = b"""<!doctype html><html><head><title>Quake toll rises to 120</title>
<script>var tracking = "do not index me";</script></head><body>
<nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/sport">Sport</a></nav>
<article><h1>Quake toll rises to 120</h1>
<p>The earthquake that struck the northern province on Monday killed 120 people, the interior
ministry said on Tuesday, raising its earlier figure of 85.</p>
<p>Rescue teams are still searching collapsed buildings in three districts, and officials warned
that the number of victims could rise further as roads reopen.</p>
<p>More than 2,000 people have been moved to temporary shelters near the provincial capital.</p>
</article><footer>Copyright 2024 Example News. All rights reserved.</footer></body></html>"""


# extract_text --------------------------------------------------------------------------------


def test_text_file_is_decoded_as_utf8_without_bom() -> None:
    title, text = extract_text("\ufeffZürich a dit: 120 morts.".encode(), "report.txt")
    assert (title, text) == (None, "Zürich a dit: 120 morts.")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("hint", ["report.md", "text/plain; charset=ISO-8859-1", ""])
def test_text_with_a_utf16_or_utf32_byte_order_mark_is_decoded(encoding: str, hint: str) -> None:
    data = "\ufeff# Zürich\n\nThe toll is 120 (東京).\n".encode(encoding)
    title, text = extract_text(data, hint)
    assert text == "# Zürich\n\nThe toll is 120 (東京).\n"
    assert title == ("Zürich" if hint.endswith(".md") else None)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_html_with_a_byte_order_mark_is_decoded(encoding: str) -> None:
    title, text = extract_text(ARTICLE_HTML.decode().encode(encoding), "page.html")
    assert title == "Quake toll rises to 120" and "killed 120 people" in text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_utf16_without_a_mark_is_named_not_called_binary(encoding: str) -> None:
    with pytest.raises(UnreadableFileError, match="UTF-16 or UTF-32 text without a byte-order"):
        extract_text("The toll is 120.".encode(encoding), "a.txt")


def test_markdown_title_is_its_first_heading() -> None:
    title, text = extract_text(b"intro\n\n# Quake toll\n\nThe toll is 120.\n", "notes.md")
    assert title == "Quake toll"
    assert "The toll is 120." in text


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"abc\x00def",
        bytes(range(1, 32)) * 20,
        b"\xc3\x28\xfa",
        b"\xff\xfe\xfa",  # a UTF-16 mark, then half a character
    ],
)
def test_binary_or_undecodable_text_is_refused(data: bytes) -> None:
    with pytest.raises(UnreadableFileError, match=r"binary|not utf-(8|16-le)"):
        extract_text(data, "article.txt")


def test_charset_of_the_content_type_is_used() -> None:
    _, text = extract_text("Café à Genève".encode("latin-1"), "text/plain; charset=ISO-8859-1")
    assert text == "Café à Genève"


def test_html_gives_main_text_and_title_without_boilerplate() -> None:
    title, text = extract_text(ARTICLE_HTML, "text/html; charset=utf-8")
    assert title == "Quake toll rises to 120"
    assert "killed 120 people" in text and "temporary shelters" in text
    assert "tracking" not in text and "Copyright" not in text and "Sport" not in text


def test_html_without_main_text_falls_back_to_visible_text() -> None:
    page = b"<html><head><title>Short</title><style>p{color:red}</style></head><body><p>Toll: 120."
    title, text = extract_text(page, "page.htm")
    assert (title, text) == ("Short", "Toll: 120.")


def test_pdf_gives_the_text_of_every_page_and_its_title() -> None:
    title, text = extract_text(
        make_pdf(["The toll rose to 120.", "Officials confirmed."], "Quake"), "a.pdf"
    )
    assert title == "Quake"
    assert "The toll rose to 120." in text and "Officials confirmed." in text


def test_pdf_lines_broken_inside_a_sentence_are_joined() -> None:
    lines = [
        "Reservoirs fall to lowest level in 30 years",
        "Reservoirs in the Salden region held 31 percent of their capacity at the end of July, the",
        "lowest level recorded since 1994, the Salden Water Authority said in its monthly report",
        "on Friday. A year ago they were 58 percent full. Rainfall was 40 percent below the long-",
        "term average.",
        "Figure 2: Reservoir levels in the Salden region.",
    ]
    _, text = extract_text(make_pdf(lines), "a.pdf")
    assert text.strip().split("\n") == [
        "Reservoirs fall to lowest level in 30 years",  # a short line keeps its break
        "Reservoirs in the Salden region held 31 percent of their capacity at the end of July, the "
        "lowest level recorded since 1994, the Salden Water Authority said in its monthly report "
        "on Friday. A year ago they were 58 percent full. Rainfall was 40 percent below the long-"
        "term average.",
        "Figure 2: Reservoir levels in the Salden region.",
    ]


def test_damaged_pdf_is_refused() -> None:
    with pytest.raises(UnreadableFileError, match="PDF"):
        extract_text(b"%PDF-1.4\nthis is not really a pdf", "application/pdf")


@pytest.mark.parametrize(
    ("hint", "data", "expected"),
    [
        ("application/octet-stream", make_pdf(["Sniffed PDF."]), "Sniffed PDF."),
        ("", b"<!DOCTYPE html><html><body><p>Sniffed page.</p></body></html>", "Sniffed page."),
        ("README", b"Plain words.", "Plain words."),
    ],
)
def test_unknown_types_are_recognised_from_their_bytes(
    hint: str, data: bytes, expected: str
) -> None:
    assert expected in extract_text(data, hint)[1]


def test_normalize_text_keeps_content_and_unifies_form() -> None:
    raw = "  Cafe\u0301 line one.   \r\nline two\t\rline three\n\n\n"
    assert normalize_text(raw) == "Café line one.\nline two\nline three"


# load_path -----------------------------------------------------------------------------------


def test_folder_is_read_recursively_with_file_uri_ids(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("Text source.\r\n")
    (tmp_path / "sub" / "b.md").write_text("# Bee\n\nMarkdown source.")
    (tmp_path / "sub" / "c.html").write_bytes(ARTICLE_HTML)
    (tmp_path / "sub" / "d.pdf").write_bytes(make_pdf(["PDF source."]))
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden.txt").write_text("never a source")
    with caplog.at_level(logging.INFO, logger="factcheck.retrieval.loaders"):
        documents = {doc.id: doc for doc in load_path(tmp_path)}
    root = tmp_path.resolve().as_uri()
    assert sorted(documents) == [f"{root}/a.txt", f"{root}/sub/b.md", f"{root}/sub/c.html",
                                 f"{root}/sub/d.pdf"]
    a = documents[f"{root}/a.txt"]
    assert (a.text, a.title, a.origin) == ("Text source.", None, f"{root}/a.txt")
    assert a.former_ids[:2] == ("a.txt", f"{tmp_path.resolve().name}/a.txt")
    assert documents[f"{root}/sub/b.md"].title == "Bee"
    assert "sub/b.md" in documents[f"{root}/sub/b.md"].former_ids
    assert documents[f"{root}/sub/c.html"].title == "Quake toll rises to 120"
    assert documents[f"{root}/sub/d.pdf"].text == "PDF source."
    assert "image.png" in caplog.text


def test_a_file_has_one_id_whichever_folder_or_path_it_is_read_through(tmp_path: Path) -> None:
    (tmp_path / "desk" / "reports").mkdir(parents=True)
    path = tmp_path / "desk" / "reports" / "report.txt"
    path.write_text("One report.")
    (tmp_path / "link").symlink_to(tmp_path / "desk")
    expected = [path.resolve().as_uri()]
    assert expected[0].startswith("file:///") and expected[0].endswith("/desk/reports/report.txt")
    for given in (path, tmp_path / "desk", tmp_path / "desk" / "reports",
                  tmp_path / "link" / "reports" / ".." / "reports" / "report.txt"):
        assert [doc.id for doc in load_path(given)] == expected


def test_binary_file_in_a_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "fine.txt").write_text("Fine.")
    (tmp_path / "broken.txt").write_bytes(b"\x00\x01\x02")
    with pytest.raises(UnreadableFileError, match=r"broken\.txt"):
        list(load_path(tmp_path))


def test_every_unreadable_file_of_a_folder_is_named_in_one_error(tmp_path: Path) -> None:
    (tmp_path / "fine.txt").write_text("Fine.")
    for name in ("a.txt", "b.pdf", "c.md"):
        (tmp_path / name).write_bytes(b"\x00\x01\x02")
    (tmp_path / "d.jsonl").write_text("{not json\n")
    with pytest.raises(UnreadableFileError) as caught:
        list(load_path(tmp_path))
    said = str(caught.value)
    assert said.startswith("4 file(s) cannot be read: ")
    assert all(name in said for name in ("a.txt", "b.pdf", "c.md", "d.jsonl: line 1"))


def test_a_file_that_cannot_be_opened_is_named_with_the_others(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "fine.txt").write_text("Fine.")
    (tmp_path / "locked.txt").write_text("Locked.")
    (tmp_path / "broken.txt").write_bytes(b"\x00\x01\x02")
    read_bytes = Path.read_bytes

    def refuse_locked(path: Path) -> bytes:
        if path.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse_locked)
    with pytest.raises(UnreadableFileError) as caught:
        list(load_path(tmp_path))
    assert str(caught.value).startswith("2 file(s) cannot be read: ")
    assert f"{tmp_path / 'locked.txt'}: permission denied" in str(caught.value)


def test_a_file_of_another_type_in_a_folder_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "fine.txt").write_text("Fine.")
    (tmp_path / "table.csv").write_text("a,b\n")
    assert [d.text for d in load_path(tmp_path)] == ["Fine."]
    assert "skipping" in caplog.text and "table.csv: not a supported file type" in caplog.text


def test_empty_file_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "empty.txt").write_text("  \n")
    assert list(load_path(tmp_path)) == []
    assert "empty.txt" in caplog.text


def test_missing_and_unsupported_paths_are_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(load_path(tmp_path / "nope"))
    (tmp_path / "sheet.xlsx").write_bytes(b"PK")
    with pytest.raises(UnreadableFileError, match="unsupported"):
        list(load_path(tmp_path / "sheet.xlsx"))


def _write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_corpus_gives_one_document_per_line(tmp_path: Path) -> None:
    rows = [
        {
            "id": "d1",
            "text": "First abstract.",
            "title": "One",
            "url": "https://x.org/1",
            "date": "2020",
        },
        {"id": 42, "text": "Second abstract.", "date": 2021},
    ]
    corpus = _write_jsonl(tmp_path / "corpus.jsonl", [json.dumps(row) for row in rows] + [""])
    origin = corpus.resolve().as_uri()
    assert list(load_path(corpus)) == [
        Document(id="d1", text="First abstract.", title="One", url="https://x.org/1", date="2020",
                 origin=origin),
        Document(id="42", text="Second abstract.", date="2021", origin=origin),
    ]


def test_a_jsonl_corpus_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "d1", "text": "One."}).encode() + b"\n")
    assert [d.id for d in load_path(corpus)] == ["d1"]


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("{not json", "line 3: not JSON"),
        ('["a list"]', "line 3: not a JSON object"),
        ('{"id": "x"}', "line 3: missing 'text'"),
        ('{"text": "no id"}', "line 3: missing 'id'"),
        ('{"id": "x", "text": ""}', "line 3: 'text' is not a non-empty string"),
        ('{"id": "x", "text": "t", "title": ["a"]}', "line 3: 'title' is not a string"),
        ('{"id": "d1", "text": "again"}', "line 3: duplicate id 'd1' (first on line 1)"),
    ],
)
def test_malformed_jsonl_line_names_file_line_and_problem(
    tmp_path: Path, bad_line: str, reason: str
) -> None:
    good = [json.dumps({"id": "d1", "text": "One."}), json.dumps({"id": "d2", "text": "Two."})]
    corpus = _write_jsonl(tmp_path / "corpus.jsonl", [*good, bad_line])
    with pytest.raises(CorpusLineError) as caught:
        list(load_path(corpus))
    assert str(caught.value) == f"{corpus}: {reason}"
    assert isinstance(caught.value, ValueError) and caught.value.line_no == 3


def test_jsonl_inside_a_folder_is_read_too(tmp_path: Path) -> None:
    _write_jsonl(tmp_path / "more.jsonl", [json.dumps({"id": "j1", "text": "From a corpus."})])
    (tmp_path / "a.txt").write_text("From a file.")
    assert [doc.id for doc in load_path(tmp_path)] == [(tmp_path / "a.txt").resolve().as_uri(),
                                                       "j1"]
