"""The terminal's report: coloured panels through rich, the only module of the project that
imports it. The words are the core's (factcheck.render); this module only lays them out."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from factcheck.display import source_name, terminal_safe
from factcheck.labels import STANCES, VERDICTS, verdict_mark, verdict_word
from factcheck.models import ClaimCheck, Evidence, Report
from factcheck.render import (
    context_note,
    contradictions_section,
    decisive,
    disagreement_line,
    disputed,
    footer,
    headline,
    left_out_line,
    prior_line,
    stance_word,
)

err = Console(stderr=True, soft_wrap=True)  # messages and errors: one each, one line at any width


def print_report(report: Report, console: Console | None = None, timezone: str = "UTC") -> None:
    """Print the report to the terminal with colours; dates in `timezone`."""
    console = console or Console()
    console.print(_safe_text(headline(report), "bold"))
    for check in report.claims:
        console.print(_claim_panel(check, timezone))
    if report.internal_contradictions:
        lines = contradictions_section(report, bullet="• ")
        console.print(_safe_text("\n".join(lines), "magenta"))
    if left_out := left_out_line(report):
        console.print(_safe_text(left_out, "yellow"))
    console.print(_safe_text(footer(report), "dim"))


def _safe_text(text: str, style: str = "") -> Text:
    # Text never reads markup; terminal_safe removes what the terminal would act on.
    return Text(terminal_safe(text), style=style)


def _claim_panel(check: ClaimCheck, timezone: str) -> Panel:
    v = check.verdict
    summary = _safe_text(f"{v.summary} (confidence {v.confidence:.2f})", "italic")
    body = [_safe_text(check.claim.text)]
    if note := context_note(check):
        body.append(_safe_text(note, "yellow"))
    body.append(summary)
    if check.prior:
        body.append(_safe_text(f"🔁 {prior_line(check.prior, timezone)}", "cyan"))
    for e in decisive(check):
        body.append(_safe_text(f"{stance_word(e)}: “{e.quote}”", STANCES[e.stance].style))
        body.append(_safe_text(f"   {_source_text(e)} — {e.rationale}", "dim"))
    body += [_safe_text(disagreement_line(e), "yellow") for e in disputed(check)]
    title = f"{verdict_mark(v)} claim {check.claim.id}: {verdict_word(v)}"
    return Panel(Group(*body), title=title, title_align="left", border_style=VERDICTS[v.label].style)


def _source_text(e: Evidence) -> str:
    title = source_name(e.passage)
    return f"{title} <{e.passage.url}>" if e.passage.url else title
