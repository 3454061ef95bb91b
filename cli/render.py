"""The terminal: the report's coloured panels, tables, progress bars and messages, through rich
(the only module of the project that imports it). The words are the core's (factcheck.render);
this module only lays them out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
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


def stdout() -> Console:
    """A console on standard output as it is now (tests swap it)."""
    return Console()


def plain(text: str) -> str:
    """`text` as rich prints it when it is no markup of ours ('[31m' stays '[31m')."""
    return escape(text)


def safe(text: str) -> str:
    """Other people's text (sources, titles, labels): no markup, no terminal commands."""
    return escape(terminal_safe(text))


def table(*columns: str, title: str | None = None) -> Table:
    """An empty table with these column headings; add_row, then stdout().print it."""
    return Table(*columns, title=title)


@contextmanager
def stage_bars() -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar per stage on stderr when it is a terminal, as update(stage, done,
    total); None otherwise."""
    console = Console(stderr=True)
    if not console.is_terminal:  # stdout stays the JSON contract; logs and pipes stay clean
        yield None
        return
    with Progress(console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total or None)
            bar.update(tasks[stage], completed=done, total=total or None)

        yield update


@contextmanager
def embedding_bar() -> Iterator[Callable[[int, int], None]]:
    """A progress bar of the chunks embedded, on stderr (drawn only on a terminal), as
    progress(done, total)."""
    with Progress(
        TextColumn("embedding chunks"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err, transient=True,
    ) as bar:
        task = bar.add_task("ingest", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield progress


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
