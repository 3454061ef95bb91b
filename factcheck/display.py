"""Text as every front shows it: without what a terminal would act on, dates as readers read
them, and a passage's source by name."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from factcheck.models import Passage, as_utc

# Terminal escape sequences whole (CSI; OSC, DCS, PM and APC strings to BEL or ST; two-byte ESC
# x), so that no "[31m" is left over; then every other control character but newline and tab.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]P^_X]|[\x90\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """`text` without escape sequences or control characters (newlines and tabs stay).

    Articles, sources and model answers are other people's text: printed as they are, they
    could retitle the terminal, recolour or hide lines, or rewrite what was printed before.
    """
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


def user_date(moment: datetime, timezone: str = "UTC", with_time: bool = False) -> str:
    """A moment as readers see it in `timezone` (settings.timezone): '12 May', with the year when
    it is not this year, and '12 May 18:30' `with_time`. Naive moments are UTC."""
    zone = ZoneInfo(timezone)
    local = as_utc(moment).astimezone(zone)
    text = f"{local.day} {local:%B}"
    if local.year != datetime.now(zone).year:
        text += f" {local.year}"
    return text + (f" {local:%H:%M}" if with_time else "")


def source_name(passage: Passage) -> str:
    """What a passage's source is called: its title, else its source's id, else its own."""
    return passage.title or passage.source_id or passage.id
