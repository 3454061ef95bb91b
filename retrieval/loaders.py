"""Reading source files: plain text, Markdown, HTML and PDF to text, and corpus `.jsonl` files.

`extract_text` turns the bytes of one file or download into (title, text); `load_path` walks a
file or folder and yields `Document`s. Errors are `ValueError` subclasses that name the file (and
the line, for `.jsonl`), because this package imports nothing of the project's own errors.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import cast

from factcheck.retrieval.documents import Document

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
PDF_SUFFIXES = {".pdf"}
CORPUS_SUFFIX = ".jsonl"
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | {CORPUS_SUFFIX}

_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_PDF_TYPES = {"application/pdf", "application/x-pdf"}
# A line at least this share of the page's full width that ends mid-sentence was wrapped.
_WRAPPED_SHARE = 0.7
# Share of control characters above which decoded bytes are taken for a binary file.
_MAX_CONTROL_SHARE = 0.02
# Byte-order marks and their encodings; UTF-32 first, since its LE mark begins with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class UnreadableFileError(ValueError):
    """The bytes are not text, HTML or PDF that can be read (binary, undecodable, damaged)."""


class WrongEncodingError(UnreadableFileError):
    """Text of a readable format in another encoding than the one it was read as."""


class CorpusLineError(ValueError):
    """One line of a corpus `.jsonl` file is malformed; the message names the file and line."""

    def __init__(self, path: Path | str, line_no: int, reason: str) -> None:
        super().__init__(f"{path}: line {line_no}: {reason}")
        self.path, self.line_no, self.reason = str(path), line_no, reason


def extract_text(data: bytes, filename_or_content_type: str) -> tuple[str | None, str]:
    """The (title, text) of one file or download; the hint is a file name or a Content-Type."""
    kind = _kind(filename_or_content_type, data)
    if kind == "pdf":
        return _pdf_text(data)
    if kind == "html":
        return _html_text(data)  # trafilatura reads byte-order marks itself
    text = decode_text(data, _charset(filename_or_content_type))
    return _markdown_title(text) if _is_markdown(filename_or_content_type) else None, text


def decode_text(data: bytes, encoding: str = "utf-8") -> str:
    """Decode text bytes, refusing binary data (NUL bytes, undecodable or mostly control codes).

    A byte-order mark names the encoding (UTF-8, UTF-16 or UTF-32) whatever `encoding` says.
    """
    if marked := _marked_encoding(data):
        encoding, data = marked[0], data[len(marked[1]) :]
    elif b"\x00" in data[:65536]:
        raise UnreadableFileError(_nul_bytes_problem(data))
    try:
        text = data.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as exc:
        raise WrongEncodingError(f"it is not {encoding} text (byte {data[exc.start]:#04x} at "
                                  f"position {exc.start}): save it as UTF-8") from exc
    except LookupError as exc:
        raise UnreadableFileError(f"it is in an unknown encoding ({encoding})") from exc
    sample = text[:65536]
    controls = sum(1 for c in sample if unicodedata.category(c) == "Cc" and c not in "\n\r\t\f")
    if sample and controls / len(sample) > _MAX_CONTROL_SHARE:
        raise UnreadableFileError("it looks binary (many control characters), not text")
    return text


def _marked_encoding(data: bytes) -> tuple[str, bytes] | None:
    """(encoding, byte-order mark) when `data` starts with one."""
    return next(((name, bom) for bom, name in _BOMS if data.startswith(bom)), None)


def _nul_bytes_problem(data: bytes) -> str:
    # NUL in most bytes of one parity only: UTF-16 or UTF-32 text saved without a mark.
    sample = data[:4096]
    nuls = sorted((sample[0::2].count(0), sample[1::2].count(0)))
    if nuls[1] > len(sample) * 0.4 and nuls[0] < len(sample) * 0.3:
        return "it looks like UTF-16 or UTF-32 text without a byte-order mark; save it as UTF-8"
    return "it looks binary (it has NUL bytes), not text"


def normalize_text(text: str) -> str:
    """NFC, Unix newlines, no trailing spaces on lines, no blank lines at either end."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t\f\v\u00a0]+(?=\n)", "", text)
    return text.strip()


def file_id(path: Path) -> str:
    """The source id of a file: the file: URI of its absolute path, symlinks resolved
    (file:///srv/reports/a/report.txt). The same file always gets it, from whichever folder it
    was ingested and whatever folder was given; two files never share it."""
    return Path(path).resolve().as_uri()


def former_file_ids(path: Path) -> tuple[str, ...]:
    """The ids a file may have been ingested under before file ids: its path relative to the
    folder given, i.e. any tail of its path ("report.txt", "a/report.txt", ...)."""
    parts = Path(path).resolve().parts[1:]
    return tuple(PurePosixPath(*parts[i:]).as_posix() for i in range(len(parts) - 1, -1, -1))


def load_path(path: Path) -> Iterator[Document]:
    """Yield the documents of a file, a folder (recursively) or a corpus `.jsonl` file.

    A file's id is `file_id(path)`; a corpus line's is the line's "id".
    """
    path = Path(path)
    if path.is_dir():
        yield from _load_folder(path)
    elif not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    elif path.suffix.lower() == CORPUS_SUFFIX:
        yield from load_jsonl(path)
    elif path.suffix.lower() in SUPPORTED_SUFFIXES:
        yield from _load_file(path)
    else:
        raise UnreadableFileError(
            f"{path}: unsupported file type; use {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )


def load_jsonl(path: Path) -> Iterator[Document]:
    """Yield one document per line of a corpus file; a malformed line raises CorpusLineError."""
    first_line: dict[str, int] = {}
    origin = file_id(path)
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            document = _parse_corpus_line(raw, path, line_no)
            if document.id in first_line:
                raise CorpusLineError(
                    path,
                    line_no,
                    f"duplicate id {document.id!r} (first on line {first_line[document.id]})",
                )
            first_line[document.id] = line_no
            yield replace(document, origin=origin)


SHOWN_PROBLEMS = 5  # unreadable files of a folder named in its error; the rest are counted


def _load_folder(folder: Path) -> Iterator[Document]:
    """Every supported file's documents; the files that cannot be read are all named at the
    end, in one error, so that one run shows every file to fix."""
    problems = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue  # .git, .DS_Store and other hidden files are never sources
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            logger.warning("skipping %s: not a supported file type", path)
            continue
        try:
            read = load_jsonl if path.suffix.lower() == CORPUS_SUFFIX else _load_file
            documents = list(read(path))
        except (UnreadableFileError, CorpusLineError) as exc:
            problems.append(str(exc))
            continue
        except OSError as exc:  # permission denied, a file gone while read
            problems.append(f"{path}: {(exc.strerror or str(exc)).lower()}")
            continue
        yield from documents
    if problems:
        more = len(problems) - SHOWN_PROBLEMS
        raise UnreadableFileError(f"{len(problems)} file(s) cannot be read: "
                                  + "; ".join(problems[:SHOWN_PROBLEMS])
                                  + (f"; and {more} more" if more > 0 else ""))


def _load_file(path: Path) -> Iterator[Document]:
    try:
        title, text = extract_text(path.read_bytes(), path.name)
    except UnreadableFileError as exc:
        raise UnreadableFileError(f"{path}: {exc}") from exc
    text = normalize_text(text)
    if not text:
        logger.warning("skipping %s: no text found in it", path)
        return
    doc_id = file_id(path)
    yield Document(id=doc_id, text=text, title=title, url=None, date=None, origin=doc_id,
                   former_ids=former_file_ids(path))


def _parse_corpus_line(raw: bytes, path: Path, line_no: int) -> Document:
    try:
        # utf-8-sig on the first line: a byte-order mark, as some Windows editors save, is no error
        row = json.loads(raw.decode("utf-8-sig" if line_no == 1 else "utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CorpusLineError(path, line_no, "not JSON") from None
    if not isinstance(row, dict):
        raise CorpusLineError(path, line_no, "not a JSON object")
    for key in ("id", "text"):
        if row.get(key) is None:
            raise CorpusLineError(path, line_no, f"missing {key!r}")
    if not isinstance(row["id"], (str, int)) or isinstance(row["id"], bool):
        raise CorpusLineError(path, line_no, "'id' is not a string or an integer")
    if not isinstance(row["text"], str) or not row["text"].strip():
        raise CorpusLineError(path, line_no, "'text' is not a non-empty string")
    return Document(id=str(row["id"]), text=row["text"],
                    title=_optional_str(row, "title", path, line_no),
                    url=_optional_str(row, "url", path, line_no),
                    date=_optional_str(row, "date", path, line_no))


def _optional_str(row: dict, key: str, path: Path, line_no: int) -> str | None:
    value = row.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # a year given as a number is still a date
    raise CorpusLineError(path, line_no, f"{key!r} is not a string")


def _kind(hint: str, data: bytes) -> str:
    """'pdf', 'html' or 'text', from a Content-Type or a file suffix, else from the bytes."""
    lowered = hint.lower().split(";")[0].strip()
    suffix = PurePosixPath(lowered).suffix
    if lowered in _PDF_TYPES or suffix in PDF_SUFFIXES:
        return "pdf"
    if lowered in _HTML_TYPES or suffix in HTML_SUFFIXES:
        return "html"
    if lowered.startswith("text/") or suffix in TEXT_SUFFIXES:
        return "text"
    # Unknown type (no suffix, application/octet-stream, ...): look at the bytes.
    head = data[:1024].lstrip().lower()
    if head.startswith(b"%pdf-"):
        return "pdf"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "html"
    return "text"


def _charset(hint: str) -> str:
    match = re.search(r"charset=[\"']?([\w.:-]+)", hint, re.IGNORECASE)
    return match.group(1) if match else "utf-8"


def _is_markdown(hint: str) -> bool:
    lowered = hint.lower()
    return lowered.endswith((".md", ".markdown")) or "markdown" in lowered.split(";")[0]


def _markdown_title(text: str) -> str | None:
    match = re.search(r"^#\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


def _pdf_text(data: bytes) -> tuple[str | None, str]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except Exception as exc:  # pypdf raises many kinds of error on damaged files
        raise UnreadableFileError(f"it is not a readable PDF ({exc})") from exc
    text = "\n\n".join(join_wrapped_lines(page) for page in pages)
    return (title.strip() or None) if isinstance(title, str) else None, text


def join_wrapped_lines(text: str) -> str:
    """Lines a PDF broke inside a sentence joined again; short lines (headings, a paragraph's
    last line) and lines that end a sentence keep their break."""
    lines = text.split("\n")
    widths = sorted(len(line.rstrip()) for line in lines if line.strip())
    if len(widths) < 3:
        return text
    full = widths[int(0.9 * (len(widths) - 1))]  # the width of a full line of this page
    joined = [lines[0]]
    for line in lines[1:]:
        previous = joined[-1].rstrip()
        wrapped = (len(previous) >= _WRAPPED_SHARE * full and line.strip()
                   and not previous.endswith((".", "!", "?", ":", ";", "”", '"')))
        if not wrapped:
            joined.append(line)
        else:  # "long-" + "term" keeps its hyphen; other words get a space between
            glue = "" if previous.endswith("-") else " "
            joined[-1] = previous + glue + line.lstrip()
    return "\n".join(joined)


def _html_text(data: bytes) -> tuple[str | None, str]:
    import trafilatura

    # as_dict=False (the default): a Document or None, never a dict.
    document = cast("trafilatura.settings.Document | None", trafilatura.bare_extraction(
        data, with_metadata=True, include_comments=False))
    text = (document.text or "") if document else ""
    title = document.title if document else None
    if text.strip():
        return title or _PlainHTML.parse(data).title, text
    # trafilatura finds no main text in very short or unusual pages: keep all visible text.
    plain = _PlainHTML.parse(data)
    return title or plain.title, plain.text


class _PlainHTML(HTMLParser):
    """Visible text and <title> of an HTML page, the fallback when trafilatura finds nothing."""

    _HIDDEN = frozenset({"script", "style", "noscript", "template"})
    _BLOCKS = frozenset(
        {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section"}
    )
    _VOID = frozenset(
        {"br", "img", "meta", "link", "input", "hr", "area", "base", "col", "source"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: str | None = None
        self._open: list[str] = []

    @classmethod
    def parse(cls, data: bytes) -> _PlainHTML:
        parser = cls()
        parser.feed(data.decode("utf-8", errors="replace"))
        parser.close()
        return parser

    @property
    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in self._VOID:
            self._open.append(tag)
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] == "title":
            self.title = (self.title or "") + data.strip() or None
        elif not self._HIDDEN.intersection(self._open):
            self.parts.append(data)
