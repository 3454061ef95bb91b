"""Sources for the collection as Documents: a URL served by a real local HTTP server, an
upload's bytes, a file and a folder; every front's bad input is one clear error."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from fakes.loopback import LoopbackServer

from factcheck.collection import read_sources, upload_document, url_documents
from factcheck.errors import BadInputError
from factcheck.settings import Settings

PAGES = {
    "/report": (b"<html><head><title>Pier report</title></head><body><article><p>The pier "
                b"was rebuilt in 2019 after the storm, the council said in its report on the "
                b"repairs.</p></article></body></html>", "text/html"),
    "/notes.md": (b"# Notes\n\nThe ferry carried 200 people a day.\n", ""),  # no type: the path's
    "/empty": (b"   \n", "text/plain"),
    "/binary": (bytes(range(256)) * 10, "application/octet-stream"),
}


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # the name http.server calls
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/report")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, content_type = PAGES[self.path]
        self.send_response(200)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class PageServer(LoopbackServer):
    def __init__(self) -> None:
        self._listen(_Pages)


@pytest.fixture
def site():
    with PageServer() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", allow_private_urls=True, fetch_timeout=5)


def test_a_page_is_known_by_the_address_it_ends_at_and_came_from_the_one_given(site, settings):
    [document] = url_documents([site.url + "/moved"], settings)
    assert (document.id, document.url, document.origin) == (
        site.url + "/report", site.url + "/report", site.url + "/moved")
    assert document.title == "Pier report" and "rebuilt in 2019" in document.text


def test_a_page_without_a_content_type_is_read_by_its_paths_suffix(site, settings):
    [document] = read_sources([site.url + "/notes.md"], settings)
    assert document.title == "Notes" and "200 people a day" in document.text  # read as Markdown


@pytest.mark.parametrize(("path", "message"), [
    ("/empty", "holds no text to add"),
    ("/binary", "cannot read"),
])
def test_a_page_with_no_text_is_bad_input_naming_it_on_every_front(site, settings, path,
                                                                   message):
    for read in (lambda url: url_documents([url], settings), lambda url: read_sources([url],
                                                                                       settings)):
        with pytest.raises(BadInputError, match=message) as raised:
            read(site.url + path)
        assert site.url + path in str(raised.value)


def test_a_link_that_is_not_http_is_refused_before_anything_is_fetched(site, settings):
    with pytest.raises(BadInputError, match="is not an http"):
        url_documents([site.url + "/report", "ftp://example.org/a"], settings)


def test_an_upload_is_known_by_its_file_name():
    document = upload_document(b"The ferry carried 200 people a day.", "notes.txt", "a file")
    assert (document.id, document.url, document.origin) == ("notes.txt", None, "a file")
    with pytest.raises(BadInputError, match=r"cannot read photo\.txt"):
        upload_document(bytes(range(256)) * 10, "photo.txt", "a file")
    with pytest.raises(BadInputError, match=r"empty\.txt holds no text"):
        upload_document(b" \n", "empty.txt", "a file")


def test_files_and_folders_are_read_whole_and_a_missing_one_is_named(tmp_path, settings):
    (tmp_path / "desk").mkdir()
    (tmp_path / "desk" / "a.txt").write_text("The pier was rebuilt in 2019.")
    (tmp_path / "desk" / "b.md").write_text("The ferry carried 200 people a day.")
    assert len(read_sources([str(tmp_path / "desk")], settings)) == 2
    with pytest.raises(BadInputError, match="no such file or folder"):
        read_sources([str(tmp_path / "desk"), str(tmp_path / "nowhere")], settings)
    (tmp_path / "bare").mkdir()
    with pytest.raises(BadInputError, match="nothing to ingest"):
        read_sources([str(tmp_path / "bare")], settings)
