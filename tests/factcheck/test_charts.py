"""The summary's chart: a real PNG of the expected size, per day or per source, or nothing."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, date, datetime

from factcheck.charts import verdict_chart
from factcheck.models import Label
from factcheck.summary import DayCount, SourceCount, Summary

NOW = datetime(2025, 5, 13, 12, 0, tzinfo=UTC)


def counts(supported: int = 0, contradicted: int = 0, unknown: int = 0) -> dict[Label, int]:
    return {Label.SUPPORTED: supported, Label.CONTRADICTED: contradicted, Label.MIXED: 0,
            Label.NOT_ENOUGH_EVIDENCE: unknown}


def summary(days: list[DayCount], sources: list[SourceCount] = ()) -> Summary:
    total = counts()
    for day in days:
        total = {label: total[label] + day.counts[label] for label in Label}
    return Summary(
        chat_id=1, window="last 7 days", timezone="UTC", start=None, end=NOW,
        articles=len(days), claims=sum(total.values()), verdicts=total, repeated=[],
        contradicted=[], open_claims=[], per_day=days, per_source=list(sources),
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the signature and the chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    assert struct.unpack(">I", data[29:33])[0] == zlib.crc32(data[12:29])
    assert data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"  # complete, not cut off
    return struct.unpack(">II", data[16:24])


def test_verdicts_per_day_are_an_800_by_400_png():
    days = [DayCount(day=date(2025, 5, d), counts=counts(d % 3, 1, 2)) for d in range(7, 14)]
    assert png_size(verdict_chart(summary(days))) == (800, 400)


def test_one_day_is_drawn_per_source():
    day = [DayCount(day=date(2025, 5, 13), counts=counts(2, 1, 4))]
    sources = [SourceCount(title="Ministry of Defence press releases, 2018 archive",
                           counts=counts(2, 0)), SourceCount(title="Wire", counts=counts(0, 1))]
    assert png_size(verdict_chart(summary(day, sources))) == (800, 400)
    assert verdict_chart(summary(day, sources[:1])) is None  # one bar says nothing faster


def test_nothing_to_draw_gives_none():
    assert verdict_chart(summary([])) is None
    only_unknown = [DayCount(day=date(2025, 5, 13), counts=counts(unknown=3))]
    assert verdict_chart(summary(only_unknown)) is None  # one day, no source decided anything
