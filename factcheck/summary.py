"""What a chat has been told: counts, repeated, contradicted and open claims over a window.

Every number of a Summary is computed from the history store. With an LLM configured,
factcheck.summary_lede writes two or three sentences of prose over the Summary's facts.

    summary = summarize(history, chat_id, Window.parse("7d"), settings)
    print(to_markdown(summary, lede(summary, settings)))  # lede: factcheck.summary_lede
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from factcheck.display import source_name, terminal_safe, user_date
from factcheck.errors import BadInputError, FactcheckError
from factcheck.history import History, StoredCheck
from factcheck.labels import best_evidence, deciding_evidence, mark, word
from factcheck.models import ClaimCheck, Evidence, Label, Stance, Verdict, as_utc
from factcheck.settings import Settings
from factcheck.textmatch import word_form

logger = logging.getLogger(__name__)

# (check id, claim id) -> group id of every wording of the same claim (ClaimMemory.groups).
GroupOf = Callable[[list[str]], dict[tuple[str, int], str]]

MAX_HOURS = 24 * 92  # about a quarter: longer windows want an export, not a chat message
MAX_CHECKS = 1000  # for "the last N checks"
# Checks read for a time window; each is a whole Report (a few to tens of KB), hence a cap,
# which the Summary reports rather than hides.
WINDOW_CHECKS = 5000
LISTED = 5  # items per list in the text
CHART_SOURCES = 8
_WINDOW = re.compile(r"(\d+)\s*([hd]?)")


@dataclass(frozen=True)
class Window:
    """A span of history: the last `hours` hours, the last `checks` checks, or from `start`."""

    hours: int | None = None
    checks: int | None = None
    start: datetime | None = None
    name: str = ""  # how a `start` window is described, e.g. 'day since the last digest'

    @classmethod
    def parse(cls, text: str | None) -> Window:
        """'24h', '7d' or 'N' (the last N checks); no text means 24h."""
        match = _WINDOW.fullmatch((text or "24h").strip().lower())
        value = int(match.group(1)) if match else 0
        if not match or value < 1:
            raise BadInputError(f"{text!r} is not a window: write 24h, 7d, or a number of "
                                "checks such as 20")
        if not match.group(2):
            if value > MAX_CHECKS:
                raise BadInputError(f"at most the last {MAX_CHECKS} checks can be summarised")
            return cls(checks=value)
        hours = value * (24 if match.group(2) == "d" else 1)
        if hours > MAX_HOURS:
            raise BadInputError(f"at most {MAX_HOURS // 24} days can be summarised; "
                                "choose a shorter window")
        return cls(hours=hours)

    def since(self, now: datetime) -> datetime | None:
        """The window's start, for time windows."""
        if self.start is not None:
            return self.start
        return now - timedelta(hours=self.hours) if self.hours else None

    def describe(self) -> str:
        """'last 24 hours', 'last 7 days', 'last 20 checks', or a `start` window's name."""
        if self.start is not None:
            return self.name or "time since " + self.start.isoformat(timespec="minutes")
        if self.checks:
            return f"last {self.checks} check{'s' * (self.checks != 1)}"
        assert self.hours is not None
        if self.hours % 24 == 0 and self.hours > 24:
            return f"last {self.hours // 24} days"
        return f"last {self.hours} hour{'s' * (self.hours != 1)}"


class RepeatedClaim(BaseModel):
    """A claim checked more than once in the window, in any wording."""

    text: str = Field(description="Its latest wording.")
    count: int
    last_label: Label
    last_lean: bool = Field(False, description="The latest verdict was a lean.")


class ContradictedClaim(BaseModel):
    """A claim whose latest verdict is CONTRADICTED (not a lean), with the source that
    contradicts it most."""

    text: str
    count: int
    source: str | None = Field(default=None, description="Title of the contradicting source.")
    url: str | None = None
    quote: str | None = None


class OpenClaim(BaseModel):
    """A claim the collection still has no evidence for: what the desk should look into."""

    text: str
    count: int


class DayCount(BaseModel):
    """Verdicts given on one day (in the summary's time zone): firm ones, and leans apart."""

    day: date
    counts: dict[Label, int]
    leans: dict[Label, int] = Field(default_factory=dict)


class SourceCount(BaseModel):
    """Verdicts a trusted source decided (it gave the claim's best evidence), leans apart."""

    title: str
    counts: dict[Label, int]
    leans: dict[Label, int] = Field(default_factory=dict)


class Summary(BaseModel):
    """What a chat (or every chat) checked over a window; every number comes from the store."""

    chat_id: int | None
    window: str = Field(description="The window in words, e.g. 'last 7 days'.")
    timezone: str
    start: datetime | None = Field(description="Start of the window (first check for N).")
    end: datetime
    complete: bool = Field(True, description="False when the window held more checks than "
                           "were read (WINDOW_CHECKS): the counts are of the latest ones.")
    articles: int
    claims: int
    verdicts: dict[Label, int] = Field(description="Firm verdicts per label (leans apart).")
    leans: dict[Label, int] = Field(
        default_factory=dict, description="Leans per label: supported or contradicted on "
        "evidence whose direction is unclear.")
    repeated: list[RepeatedClaim]
    contradicted: list[ContradictedClaim]
    open_claims: list[OpenClaim]
    per_day: list[DayCount]
    per_source: list[SourceCount]

    @property
    def empty(self) -> bool:
        """Whether nothing was checked in the window."""
        return self.articles == 0


def summarize(
    history: History, chat_id: int | None, window: Window, settings: Settings,
    group_of: GroupOf | None = None, now: datetime | None = None,
) -> Summary:
    """The Summary of a chat's stored checks (all chats for None) over `window`."""
    now = now or datetime.now(UTC)
    limit = window.checks or WINDOW_CHECKS
    checks = history.checks(chat_id=chat_id, since=window.since(now), limit=limit)
    summary = build_summary(checks, window, settings.timezone, group_of, now, chat_id)
    if not window.checks and len(checks) == limit:
        logger.warning("summary of chat %s: only the latest %d checks counted", chat_id, limit)
        summary.complete = False
    return summary


def build_summary(
    checks: list[StoredCheck], window: Window, timezone: str, group_of: GroupOf | None = None,
    now: datetime | None = None, chat_id: int | None = None,
) -> Summary:
    """The Summary of these stored checks (any order)."""
    checks = sorted(checks, key=lambda c: c.created_at)
    items = [(stored, check) for stored in checks for check in stored.report.claims]
    groups = _groups(checks, group_of)
    by_group: dict[str, list[ClaimCheck]] = {}
    for stored, check in items:  # oldest first, so each group's last item is its latest
        by_group.setdefault(groups[(stored.id, check.claim.id)], []).append(check)
    now = now or datetime.now(UTC)
    start = window.since(now)
    return Summary(
        chat_id=chat_id, window=window.describe(), timezone=timezone,
        start=start or (_moment(checks[0]) if checks else None), end=now,
        articles=len(checks), claims=len(items),
        verdicts=_count([check.verdict for _, check in items]),
        leans=_count([check.verdict for _, check in items], lean=True),
        repeated=_repeated(by_group), contradicted=_contradicted(by_group),
        open_claims=_open(by_group),
        per_day=_per_day(items, ZoneInfo(timezone), start, now),
        per_source=_per_source([check for _, check in items]),
    )


def _groups(checks: list[StoredCheck], group_of: GroupOf | None) -> dict[tuple[str, int], str]:
    """Group id per claim: from `group_of` where it knows the claim, else by normalised text."""
    known: dict[tuple[str, int], str] = {}
    if group_of is not None and checks:
        try:
            known = group_of([c.id for c in checks])
        except FactcheckError as exc:  # the memory is a nicety: text grouping still works
            logger.warning("claim groups unavailable, grouping by wording: %s", exc)
    claims = [((s.id, c.claim.id), word_form(c.claim.text))
              for s in checks for c in s.report.claims]
    # A claim the memory does not know (checked before it existed) joins the group of the
    # same wording when the memory knows that wording.
    by_text = {text: known[key] for key, text in claims if key in known}
    return {key: known.get(key) or by_text.get(text) or "text:" + text for key, text in claims}


def _count(verdicts: Iterable[Verdict], lean: bool = False) -> dict[Label, int]:
    """Verdicts per label: the firm ones, or with `lean` the leans."""
    counts = Counter(v.label for v in verdicts if v.lean == lean)
    return {label: counts[label] for label in Label}


def _repeated(by_group: dict[str, list[ClaimCheck]]) -> list[RepeatedClaim]:
    found = [RepeatedClaim(text=g[-1].claim.text, count=len(g), last_label=g[-1].verdict.label,
                           last_lean=g[-1].verdict.lean)
             for g in by_group.values() if len(g) > 1]
    return sorted(found, key=lambda r: -r.count)  # stable: ties keep first-seen order


def _contradicted(by_group: dict[str, list[ClaimCheck]]) -> list[ContradictedClaim]:
    found = []
    for group in by_group.values():
        latest = group[-1]
        if latest.verdict.label != Label.CONTRADICTED or latest.verdict.lean:
            continue
        evidence = best_evidence(latest, Stance.REFUTES)
        found.append(ContradictedClaim(
            text=latest.claim.text, count=len(group), source=_title(evidence),
            url=evidence.passage.url if evidence else None,
            quote=evidence.quote if evidence else None,
        ))
    return sorted(found, key=lambda c: -c.count)


def _open(by_group: dict[str, list[ClaimCheck]]) -> list[OpenClaim]:
    found = [OpenClaim(text=g[-1].claim.text, count=len(g)) for g in by_group.values()
             if g[-1].verdict.label == Label.NOT_ENOUGH_EVIDENCE]
    return sorted(found, key=lambda c: -c.count)


def _per_day(
    items: list[tuple[StoredCheck, ClaimCheck]], zone: ZoneInfo, start: datetime | None,
    end: datetime,
) -> list[DayCount]:
    """Verdicts per day; a time window (`start`) with checks has all its days, quiet ones too."""
    days: dict[date, list[Verdict]] = {}
    if start is not None and items:  # a quiet day is a fact to show, not a gap to close up
        day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
        while day <= last:
            days[day], day = [], day + timedelta(days=1)
    for stored, check in items:
        days.setdefault(_moment(stored).astimezone(zone).date(), []).append(check.verdict)
    return [DayCount(day=day, counts=_count(verdicts), leans=_count(verdicts, lean=True))
            for day, verdicts in sorted(days.items())]


def _per_source(checks: list[ClaimCheck]) -> list[SourceCount]:
    """Each decided claim counted once, for the source of its best evidence for that verdict."""
    found: dict[str, list[Verdict]] = {}
    for check in checks:
        evidence = deciding_evidence(check)
        if evidence is not None:
            found.setdefault(_title(evidence) or "?", []).append(check.verdict)
    ranked = sorted(found.items(), key=lambda item: -len(item[1]))[:CHART_SOURCES]
    return [SourceCount(title=title, counts=_count(verdicts), leans=_count(verdicts, lean=True))
            for title, verdicts in ranked]


def _title(evidence: Evidence | None) -> str | None:
    if evidence is None:
        return None
    return source_name(evidence.passage)


def _moment(stored: StoredCheck) -> datetime:
    return as_utc(stored.created_at)


# --- words -----------------------------------------------------------------------------------


def verdict_line(summary: Summary) -> str:
    """'3 articles and 7 claims checked: 2 supported, 1 contradicted, 4 not enough evidence.'"""
    if summary.empty:
        return f"Nothing was checked in the {summary.window}."
    parts = counted(summary.verdicts, summary.leans)
    line = (f"{_plural(summary.articles, 'article')} and {_plural(summary.claims, 'claim')} "
            f"checked" + (": " + ", ".join(parts) if parts else "") + ".")
    return line if summary.complete else line + " (Only the latest checks of the window.)"


def period(summary: Summary) -> str:
    """The window's dates in the summary's time zone, e.g. '12 May 18:00 – 13 May 18:00 (UTC)'."""
    end = user_date(summary.end, summary.timezone, with_time=True)
    if summary.start is None:
        return f"until {end} ({summary.timezone})"
    start = user_date(summary.start, summary.timezone, with_time=True)
    return f"{start} – {end} ({summary.timezone})"


def facts(summary: Summary) -> str:
    """The Summary as plain lines: what the LLM writes its lede from (and nothing else)."""
    lines = [f"Window: {summary.window}.", verdict_line(summary)]
    lines += [f"Repeated {r.count} times (last verdict {last_verdict(r)}): {r.text}"
              for r in summary.repeated[:LISTED]]
    lines += [f"Contradicted (by {c.source or 'a source'}): {c.text}"
              for c in summary.contradicted[:LISTED]]
    lines += [f"Still without evidence: {o.text}" for o in summary.open_claims[:LISTED]]
    return "\n".join(lines)


def to_markdown(summary: Summary, lede: str | None = None) -> str:
    """The summary as Markdown for the terminal and files (the bot renders its own HTML)."""
    lines = [f"# Summary: {summary.window}", "", f"_{period(summary)}_", ""]
    if lede:
        lines += [lede, ""]
    lines += [verdict_line(summary), ""]
    sections = [
        ("Most repeated", [f"- {r.count}× {r.text} — last verdict: {last_verdict(r)}"
                           for r in summary.repeated[:LISTED]]),
        ("Contradicted", [_contradicted_md(c) for c in summary.contradicted[:LISTED]]),
        ("Still without evidence: for the desk to look into",
         [f"- {o.text}" + (f" ({o.count}×)" if o.count > 1 else "")
          for o in summary.open_claims[:LISTED]]),
        ("Verdicts per day", [_day_md(d) for d in summary.per_day if any(d.counts.values())]),
    ]
    for title, items in sections:
        if items:
            lines += [f"## {title}", "", *items, ""]
    return terminal_safe("\n".join(lines).rstrip() + "\n")


def _contradicted_md(c: ContradictedClaim) -> str:
    line = f"- {mark(Label.CONTRADICTED)} {c.text}"
    if c.source:
        source = f"[{c.source}]({c.url})" if c.url else f"*{c.source}*"
        line += f"\n  “{c.quote}” — {source}" if c.quote else f"\n  — {source}"
    return line


def _day_md(day: DayCount) -> str:
    return f"- {day.day.isoformat()}: " + ", ".join(counted(day.counts, day.leans))


def counted(firm: dict[Label, int], leans: dict[Label, int]) -> list[str]:
    """'2 supported', '1 leans supported', … for the labels counted, each lean after its label."""
    parts = []
    for label in Label:
        parts += [f"{firm[label]} {word(label)}"] if firm.get(label) else []
        parts += [f"{leans[label]} {word(label, lean=True)}"] if leans.get(label) else []
    return parts


def last_verdict(repeated: RepeatedClaim) -> str:
    """'contradicted', or 'leans supported' when the latest verdict was a lean."""
    return word(repeated.last_label, repeated.last_lean)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"
