"""A summary's chart as a PNG: verdicts per day (stacked), or per source when it spans one day.

matplotlib is imported only when a chart is drawn, with the Agg backend through its
object-oriented API (no pyplot state), so that the bot's threads can draw at the same time.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

from factcheck.labels import VERDICTS, word
from factcheck.models import Label
from factcheck.summary import Summary

if TYPE_CHECKING:
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

WIDTH, HEIGHT, DPI = 8, 4, 100  # 800 x 400 pixels: readable in a phone's chat
_LABEL_CHARS = 28


def verdict_chart(summary: Summary) -> bytes | None:
    """PNG bytes of the summary's verdicts, or None when there is nothing to draw."""
    figure = verdict_figure(summary)
    if figure is None:
        return None
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def verdict_figure(summary: Summary) -> Figure | None:
    """The chart as a matplotlib Figure: per day, else per source, else None."""
    if summary.claims == 0:
        return None
    busy = [d for d in summary.per_day if any(d.counts.values()) or any(d.leans.values())]
    if len(busy) > 1:  # else: by source
        names = [f"{d.day.day} {d.day:%b}" for d in summary.per_day]
        rows = [(d.counts, d.leans) for d in summary.per_day]
        return _stacked(names, rows, f"Verdicts per day, {summary.window}", horizontal=False)
    if len(summary.per_source) < 2:
        return None  # one bar, or none: the text says it as fast
    names = [_short(s.title) for s in summary.per_source]
    rows = [(s.counts, s.leans) for s in summary.per_source]
    title = f"Verdicts by the source that decided them, {summary.window}"
    return _stacked(names, rows, title, horizontal=True)


def _stacked(
    names: list[str], rows: list[tuple[dict[Label, int], dict[Label, int]]], title: str,
    horizontal: bool,
) -> Figure:
    """Bars of (firm verdicts, leans) per name; a lean is its label's colour, hatched."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(names)))[::-1] if horizontal else list(range(len(names)))
    base = [0] * len(names)
    series = [(label, lean) for label in Label for lean in (False, True)]
    for label, lean in series:
        values = [row[lean].get(label, 0) for row in rows]
        if not any(values):
            continue
        look: dict[str, Any] = {"color": VERDICTS[label].colour, "label": word(label, lean),
                                "hatch": "//" if lean else None,
                                "alpha": 0.55 if lean else None}  # a lean: hatched, paler
        if horizontal:
            axes.barh(positions, values, 0.6, left=base, **look)
        else:
            axes.bar(positions, values, 0.6, bottom=base, **look)
        base = [b + v for b, v in zip(base, values, strict=True)]
    ticks = axes.set_yticks if horizontal else axes.set_xticks
    ticks(positions, names)
    if horizontal:  # a few sources keep bars of a normal thickness, from the top
        axes.set_ylim(len(names) - 0.5 - max(len(names), 4), len(names) - 0.5)
    if not horizontal and len(names) > 10:  # a month of days: dates would overlap
        axes.tick_params(axis="x", labelrotation=90, labelsize="small")
    (axes.xaxis if horizontal else axes.yaxis).set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title)
    axes.legend(loc="upper left", bbox_to_anchor=(1, 1), fontsize="small", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def _short(title: str) -> str:
    return title if len(title) <= _LABEL_CHARS else title[: _LABEL_CHARS - 1] + "…"
