"""Render a Report for people (terminal, Markdown) and programs (JSON)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from factcheck.models import (
    ClaimCheck,
    Evidence,
    Label,
    PriorCheck,
    Report,
    Stance,
    Verdict,
    as_utc,
)
from factcheck.verdict import CREDIBLE

MARKS = {
    Label.SUPPORTED: "✅",
    Label.CONTRADICTED: "❌",
    Label.MIXED: "⚖️",
    Label.NOT_ENOUGH_EVIDENCE: "❔",
}
STYLES = {
    Label.SUPPORTED: "green",
    Label.CONTRADICTED: "red",
    Label.MIXED: "yellow",
    Label.NOT_ENOUGH_EVIDENCE: "dim",
}
LEAN_MARK = "🤔"
WORDS = {
    Label.SUPPORTED: "supported",
    Label.CONTRADICTED: "contradicted",
    Label.MIXED: "mixed",
    Label.NOT_ENOUGH_EVIDENCE: "not enough evidence",
}


def verdict_mark(verdict: Verdict) -> str:
    """The verdict's mark; a lean gets its own, so that it never looks like a firm verdict."""
    return LEAN_MARK if verdict.lean else MARKS[verdict.label]


def verdict_word(verdict: Verdict) -> str:
    """'supported', or 'leans supported' when the evidence's direction is unclear."""
    return f"leans {WORDS[verdict.label]}" if verdict.lean else WORDS[verdict.label]


def to_json(report: Report) -> str:
    """The report as JSON (schema documented in docs/report-schema.md)."""
    return report.model_dump_json(indent=2)


def headline(report: Report) -> str:
    """One line of counts per verdict, e.g. '9 claims: 2 supported, 6 not enough evidence'."""
    counts = Counter(verdict_word(c.verdict) for c in report.claims)
    order = [word for label in Label for word in (WORDS[label], f"leans {WORDS[label]}")]
    parts = [f"{counts[word]} {word}" for word in order if counts[word]]
    noun = "claim" if len(report.claims) == 1 else "claims"
    return f"{len(report.claims)} {noun}" + (": " + ", ".join(parts) if parts else "")


def best_evidence(check: ClaimCheck, stance: Stance) -> Evidence | None:
    """The most confident piece of evidence with this stance, if any."""
    matching = [e for e in check.evidence if e.stance == stance]
    return max(matching, key=lambda e: e.confidence, default=None)


def user_date(moment: datetime, timezone: str = "UTC", with_time: bool = False) -> str:
    """A moment as readers see it in `timezone` (settings.timezone): '12 May', with the year when
    it is not this year, and '12 May 18:30' `with_time`. Naive moments are UTC."""
    zone = ZoneInfo(timezone)
    local = as_utc(moment).astimezone(zone)
    text = f"{local.day} {local:%B}"
    if local.year != datetime.now(zone).year:
        text += f" {local.year}"
    return text + (f" {local:%H:%M}" if with_time else "")


def prior_line(prior: PriorCheck, timezone: str = "UTC") -> str:
    """The claim memory's line, e.g. 'Checked 3 times since 12 May; last verdict CONTRADICTED'."""
    verdict = WORDS[prior.label].upper()
    if prior.times == 1:
        when = user_date(prior.checked_at, timezone)
        line = f"Checked once before, on {when}; verdict {verdict}"
    else:
        here = f", {prior.times_in_chat} here" if 0 < prior.times_in_chat < prior.times else ""
        line = (f"Checked {prior.times} times since "
                f"{user_date(prior.first_checked_at, timezone)}{here}; last verdict {verdict}")
    return line + ("; reused, as the sources have not changed since" if prior.reused else "")


def to_markdown(report: Report, timezone: str = "UTC") -> str:
    """The report as Markdown, one section per claim; dates in `timezone`."""
    title = report.article.title or report.article.source
    lines = [f"# Fact-check: {title}", "", headline(report), ""]
    for check in report.claims:
        v = check.verdict
        word = verdict_word(v).capitalize()
        lines += [f"## {verdict_mark(v)} {check.claim.text}", ""]
        if note := context_note(check):
            lines += [f"_{note}_", ""]
        lines += [f"**{word}** (confidence {v.confidence:.2f}). {v.summary}", ""]
        if check.prior:
            line = prior_line(check.prior, timezone)
            lines += [f"🔁 _{line}_ (check `{check.prior.check_id}`)", ""]
        for e in _decisive(check):
            source = _source_md(e)
            lines.append(f"- {_stance_word(e)}: “{e.quote}” — {source}. _{e.rationale}_")
        lines.append("")
    lines += _contradictions_lines(report, bullet="- ")
    lines += ["", _footer(report)]
    return "\n".join(lines).rstrip() + "\n"


def print_report(report: Report, console: Console | None = None, timezone: str = "UTC") -> None:
    """Print the report to the terminal with colours; dates in `timezone`."""
    console = console or Console()
    console.print(Text(headline(report), style="bold"))
    for check in report.claims:
        console.print(_claim_panel(check, timezone))
    if report.internal_contradictions:
        lines = _contradictions_lines(report, bullet="• ")
        console.print(Text("\n".join(lines), style="magenta"))
    console.print(Text(_footer(report), style="dim"))


def _claim_panel(check: ClaimCheck, timezone: str) -> Panel:
    v = check.verdict
    summary = Text(f"{v.summary} (confidence {v.confidence:.2f})", style="italic")
    body = [Text(check.claim.text)]
    if note := context_note(check):
        body.append(Text(note, style="yellow"))
    body.append(summary)
    if check.prior:
        body.append(Text(f"🔁 {prior_line(check.prior, timezone)}", style="cyan"))
    for e in _decisive(check):
        body.append(Text(f"{_stance_word(e)}: “{e.quote}”", style=_evidence_style(e)))
        body.append(Text(f"   {_source_text(e)} — {e.rationale}", style="dim"))
    title = f"{verdict_mark(v)} claim {check.claim.id}: {verdict_word(v)}"
    return Panel(Group(*body), title=title, title_align="left", border_style=STYLES[v.label])


def context_note(check: ClaimCheck) -> str | None:
    """For a claim that still leans on the article: the sentence it leans on."""
    claim = check.claim
    if claim.self_contained:
        return None
    if claim.context:
        return f"⚠ Leans on the article; the sentence before it: “{claim.context}”"
    return "⚠ Leans on the article"


def _decisive(check: ClaimCheck) -> list[Evidence]:
    """Evidence that takes a side; under a NOT_ENOUGH_EVIDENCE verdict it is too weak to decide."""
    return [e for e in check.evidence if e.stance != Stance.NOT_ENOUGH_INFO]


def _stance_word(e: Evidence) -> str:
    word = "Supports" if e.stance == Stance.SUPPORTS else "Contradicts"
    return word if e.confidence >= CREDIBLE else f"Weakly {word.lower()}"


def _evidence_style(e: Evidence) -> str:
    return {Stance.SUPPORTS: "green", Stance.REFUTES: "red"}.get(e.stance, "")


def _source_text(e: Evidence) -> str:
    title = e.passage.title or e.passage.source_id or e.passage.id
    return f"{title} <{e.passage.url}>" if e.passage.url else title


def _source_md(e: Evidence) -> str:
    title = e.passage.title or e.passage.source_id or e.passage.id
    return f"[{title}]({e.passage.url})" if e.passage.url else f"*{title}*"


def _contradictions_lines(report: Report, bullet: str) -> list[str]:
    if not report.internal_contradictions:
        return []
    lines = ["Claims of this article that contradict each other:"]
    for c in report.internal_contradictions:
        lines.append(f"{bullet}claim {c.first} vs claim {c.second}: {c.reason}")
    return lines


def _footer(report: Report) -> str:
    p = report.provenance
    seconds = report.timings.get("total")
    took = f" in {seconds:.2f} s" if seconds is not None else ""
    return f"Checked by the {p.engine} engine ({p.model}; embeddings {p.embedder}){took}."
