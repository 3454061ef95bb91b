"""The summary's chart: per day or per source (its figure's title, ticks and bars), a real PNG
of the expected size, or nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fakes.png import png_size
from matplotlib.colors import to_hex

from factcheck.charts import verdict_chart, verdict_figure
from factcheck.labels import VERDICTS
from factcheck.models import Label
from factcheck.summary import DayCount, SourceCount, Summary

COLOURS = {label: look.colour for label, look in VERDICTS.items()}  # the labels table's
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



def tick_labels(figure, axis: str = "x") -> list[str]:
    axes = figure.axes[0]
    return [t.get_text() for t in (axes.get_yticklabels() if axis == "y" else
                                   axes.get_xticklabels())]


def segments(figure, horizontal: bool) -> dict[tuple[str, str], float]:
    """(tick label of its bar, colour) -> length of every visible bar segment."""
    axes = figure.axes[0]
    ticks = axes.get_yticklabels() if horizontal else axes.get_xticklabels()
    names = {round(t.get_position()[horizontal]): t.get_text() for t in ticks}
    found = {}
    for patch in axes.patches:
        centre = patch.get_y() + patch.get_height() / 2 if horizontal else (
            patch.get_x() + patch.get_width() / 2)
        colour = to_hex(patch.get_facecolor())
        if length := patch.get_width() if horizontal else patch.get_height():  # 0: not seen
            found[(names[round(centre)], colour)] = length
    return found


def test_verdicts_per_day_are_stacked_bars_one_per_day_in_an_800_by_400_png():
    days = [DayCount(day=date(2025, 5, d), counts=counts(d % 3, 1, 2)) for d in range(7, 14)]
    figure = verdict_figure(summary(days))
    assert figure.axes[0].get_title() == "Verdicts per day, last 7 days"
    expected = {(f"{d.day.day} May", COLOURS[label]): n for d in days
                for label, n in d.counts.items() if n}
    assert segments(figure, horizontal=False) == expected
    assert png_size(verdict_chart(summary(days))) == (800, 400)


def test_a_window_with_quiet_days_draws_them_empty_and_one_busy_day_by_source():
    quiet = [DayCount(day=date(2025, 5, d), counts=counts()) for d in range(7, 14)]
    quiet[1] = DayCount(day=date(2025, 5, 8), counts=counts(1, 2))
    quiet[5] = DayCount(day=date(2025, 5, 12), counts=counts(unknown=1))
    figure = verdict_figure(summary(quiet))
    assert tick_labels(figure) == [f"{d} May" for d in range(7, 14)]
    assert segments(figure, horizontal=False) == {
        ("8 May", COLOURS[Label.SUPPORTED]): 1, ("8 May", COLOURS[Label.CONTRADICTED]): 2,
        ("12 May", COLOURS[Label.NOT_ENOUGH_EVIDENCE]): 1,
    }
    one_busy = [d if d.day.day == 8 else DayCount(day=d.day, counts=counts()) for d in quiet]
    sources = [SourceCount(title="Wire", counts=counts(1)),
               SourceCount(title="Ministry", counts=counts(0, 2))]
    assert tick_labels(verdict_figure(summary(one_busy, sources)), "y") == ["Wire", "Ministry"]


def test_one_day_is_drawn_as_horizontal_bars_per_source():
    day = [DayCount(day=date(2025, 5, 13), counts=counts(2, 1, 4))]
    sources = [SourceCount(title="Ministry of Defence press releases, 2018 archive",
                           counts=counts(2, 0)), SourceCount(title="Wire", counts=counts(0, 1))]
    figure = verdict_figure(summary(day, sources))
    assert figure.axes[0].get_title() == ("Verdicts by the source that decided them, "
                                          "last 7 days")
    assert segments(figure, horizontal=True) == {
        ("Ministry of Defence press r…", COLOURS[Label.SUPPORTED]): 2,
        ("Wire", COLOURS[Label.CONTRADICTED]): 1,
    }
    assert png_size(verdict_chart(summary(day, sources))) == (800, 400)
    assert verdict_chart(summary(day, sources[:1])) is None  # one bar says nothing faster


def test_nothing_to_draw_gives_none():
    assert verdict_chart(summary([])) is None
    only_unknown = [DayCount(day=date(2025, 5, 13), counts=counts(unknown=3))]
    assert verdict_chart(summary(only_unknown)) is None  # one day, no source decided anything


def test_leans_are_their_own_hatched_bars_beside_the_firm_verdicts():
    days = [DayCount(day=date(2025, 5, d), counts=counts(1), leans=counts(2, 1))
            for d in (12, 13)]
    figure = verdict_figure(summary(days))
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["supported", "leans supported", "leans contradicted"]
    hatched = [p for p in figure.axes[0].patches if p.get_hatch()]
    assert sorted(p.get_height() for p in hatched) == [1, 1, 2, 2]
