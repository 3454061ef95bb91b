"""Sources for the collection as Documents, however they come: a path (a file, a folder of
files, a corpus .jsonl), an http(s) URL (fetched as articles are: guarded, capped, within
FETCH_TIMEOUT) or the bytes of an uploaded file. The CLI's `ingest` and the bot's /add read
through here; reading a page's or a file's text is intake's, as for an article.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from factcheck.errors import BadInputError
from factcheck.intake import fetch_text, read_text
from factcheck.pipeline import reaching_store
from factcheck.retrieval import Document
from factcheck.retrieval.loaders import CorpusLineError, load_path
from factcheck.settings import Settings

__all__ = ["Document", "read_sources", "upload_document", "url_documents"]


@reaching_store
def read_sources(paths: list[str], settings: Settings) -> list[Document]:
    """Every path's or URL's documents, all read before anything is written (so that a bad one
    fails first); nothing to ingest is bad input."""
    documents = [doc for path in paths for doc in _documents(path, settings)]
    if not documents:
        raise BadInputError("nothing to ingest: no text in the files given, or no supported file "
                            "(.txt .md .html .pdf .jsonl) among them")
    return documents


def url_documents(urls: list[str], settings: Settings,
                  interrupt: Callable[[], None] | None = None) -> list[Document]:
    """Fetch each URL and take its text as a source document; `interrupt` is fetch_url's."""
    for url in urls:
        if not _is_url(url):
            raise BadInputError(f"{url} is not an http(s) link.")
    return [_url_document(url, settings, interrupt) for url in urls]


def upload_document(data: bytes, name: str, origin: str) -> Document:
    """A source document from an uploaded file; its file name is its id (another file of that
    name sent later replaces it)."""
    title, text = read_text(data, name, name)
    return _document(name, text, title, None, origin)


def _documents(path: str, settings: Settings) -> list[Document]:
    if _is_url(path):
        return [_url_document(path, settings)]
    if not Path(path).exists():
        raise BadInputError(f"{path}: no such file or folder")
    try:
        return list(load_path(Path(path)))
    except (CorpusLineError, ValueError) as exc:
        raise BadInputError(f"{path}: {exc}. Nothing was ingested; fix what it names and run again.") from exc


def _url_document(url: str, settings: Settings,
                  interrupt: Callable[[], None] | None = None) -> Document:
    # The page is known by the address it ends at; it came from the URL given.
    title, text, final_url = fetch_text(url, settings, interrupt)
    return _document(final_url, text, title, final_url, url)


def _document(source_id: str, text: str, title: str | None, url: str | None, origin: str
              ) -> Document:
    if not text.strip():
        raise BadInputError(f"{source_id} holds no text to add.")
    return Document(id=source_id, text=text, title=title, url=url, origin=origin)


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))
