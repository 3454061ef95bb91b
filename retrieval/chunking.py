"""Splitting documents into chunks, and the content-hash chunk ids."""

from __future__ import annotations

import hashlib
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


def normalise(text: str) -> str:
    """Unicode-normalised, lower-cased text with collapsed whitespace (what the chunk id hashes)."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def chunk_id(source_id: str, text: str) -> str:
    """Content hash of a chunk: the same text of the same source always gets the same id."""
    digest = hashlib.sha256(f"{source_id}\x00{normalise(text)}".encode()).hexdigest()
    return digest[:32]
