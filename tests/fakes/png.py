"""Reading a PNG's size in tests, after checking that it is a whole, valid PNG."""

from __future__ import annotations

import struct
import zlib


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the signature and the chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    assert struct.unpack(">I", data[29:33])[0] == zlib.crc32(data[12:29])
    assert data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"  # complete, not cut off
    return struct.unpack(">II", data[16:24])
