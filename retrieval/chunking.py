"""Splitting documents into chunks, chunks into sentences, and the content-hash chunk ids."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

# all-MiniLM-L6-v2 reads at most 256 word pieces; English prose averages 4-5 characters per
# piece, so ~1000 characters fills most of the window without truncating the chunk's end.
CHUNK_SIZE = 1000
CHUNK_OVERLAP = 150
# Break at paragraphs first, then at sentence ends, then at words.
_SEPARATORS = ["\n\n", "\n", r"(?<=[.!?])\s+", r"(?<=[;:])\s+", " ", ""]
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n")
_MIN_SENTENCE = 25  # shorter pieces ("Methods.", "(n = 12).") are merged into a neighbour


@lru_cache(maxsize=4)
def _splitter(size: int, overlap: int) -> RecursiveCharacterTextSplitter:
    # Imported here: langchain takes most of a second to import, and searching never needs it.
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=size,
        chunk_overlap=overlap,
        separators=_SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",
    )


def split_chunks(text: str, size: int = CHUNK_SIZE, overlap: int = CHUNK_OVERLAP) -> list[str]:
    """Split `text` into overlapping chunks of about `size` characters; short texts stay whole."""
    text = text.strip()
    if not text:
        return []
    if len(text) <= size:
        return [text]
    return [c for c in _splitter(size, overlap).split_text(text) if c.strip()]


def split_sentences(text: str) -> list[str]:
    """Rough sentence split of a chunk; tiny fragments are glued to the previous sentence."""
    out: list[str] = []
    for piece in _SENTENCE_END.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if out and (len(piece) < _MIN_SENTENCE or len(out[-1]) < _MIN_SENTENCE):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def normalise(text: str) -> str:
    """Unicode-normalised, lower-cased text with collapsed whitespace (what the chunk id hashes)."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def chunk_id(source_id: str, text: str) -> str:
    """Content hash of a chunk: the same text of the same source always gets the same id."""
    digest = hashlib.sha256(f"{source_id}\x00{normalise(text)}".encode()).hexdigest()
    return digest[:32]
