"""How long a /summary takes over a busy week: summarize(), the Markdown, and the chart.

    .venv/bin/python bench/summary.py              # 1000 stored checks
    .venv/bin/python bench/summary.py --checks 5000 --memory

A temporary history holds N checks of one chat, one every 10 minutes back from now, each with
three claims (contradicted by two sources, supported, without evidence). For the 7-day and the
24-hour window it prints the seconds of summarize() (reading the store and counting),
to_markdown() and verdict_chart() (the first chart also imports matplotlib), then a second chart.
With --memory, claims are grouped by the claim memory as in the bot: the memory is filled from
the history first (ClaimMemory.backfill, timed; it embeds distinct wordings only, and here all
checks share three, so the time is mostly matching and storing, not embedding).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from factcheck.charts import verdict_chart
from factcheck.history import SQLiteHistory
from factcheck.memory import ClaimMemory
from factcheck.models import (
    Article,
    Claim,
    ClaimCheck,
    Evidence,
    Label,
    Passage,
    Provenance,
    Report,
    Stance,
    Verdict,
)
from factcheck.settings import Settings
from factcheck.summary import GroupOf, Window, summarize, to_markdown

CHAT = -100200
CLAIMS = [  # (claim, verdict, [(stance, source, quote)])
    ("Five Russians were killed in the strike.", Label.CONTRADICTED,
     [(Stance.REFUTES, "Wire", "Two soldiers were wounded; nobody was killed."),
      (Stance.REFUTES, "Ministry", "No Russian citizen was harmed in the strike.")]),
    ("The tank was made in Russia.", Label.SUPPORTED,
     [(Stance.SUPPORTS, "Ministry", "The T-72 tank was made in Russia.")]),
    ("The tank was built in 1975.", Label.NOT_ENOUGH_EVIDENCE, []),
]


def report(when: datetime) -> Report:
    """A stored-check-like Report of the three claims, made at `when`."""
    checks = [
        ClaimCheck(
            claim=Claim(id=n, text=text, start=0, end=len(text), checkworthiness=0.9),
            verdict=Verdict(label=label, confidence=0.8, summary="From the sources."),
            evidence=[Evidence(passage=Passage(id=f"{source}-1", text=quote, title=source,
                                               source_id=source),
                               stance=stance, confidence=0.9, quote=quote, rationale="r")
                      for stance, source, quote in evidence],
        )
        for n, (text, label, evidence) in enumerate(CLAIMS, start=1)
    ]
    return Report(article=Article(text=" ".join(c[0] for c in CLAIMS)), claims=checks,
                  created_at=when,
                  provenance=Provenance(engine="offline", model="bench", embedder="bench"))


def time_windows(history: SQLiteHistory, group_of: GroupOf | None) -> None:
    """Print the timings of each window's summary, Markdown and chart."""
    settings = Settings(_env_file=None)
    for window in ("7d", "24h"):
        started = time.perf_counter()
        summary = summarize(history, CHAT, Window.parse(window), settings, group_of=group_of)
        summarized = time.perf_counter()
        to_markdown(summary)
        written = time.perf_counter()
        png = verdict_chart(summary)
        drawn = time.perf_counter()
        print(f"{window:>3}: summarize {summarized - started:.3f} s, markdown "
              f"{written - summarized:.4f} s, chart {drawn - written:.3f} s "
              f"({len(png or b'')} bytes); {summary.articles} articles, {summary.claims} claims")
    started = time.perf_counter()
    verdict_chart(summary)
    print(f"second chart: {time.perf_counter() - started:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1000, help="stored checks (default 1000)")
    parser.add_argument("--memory", action="store_true", help="group claims with the memory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        history = SQLiteHistory(Path(folder) / "history.sqlite")
        now = datetime.now(UTC)
        for i in range(args.checks):
            history.add_check(report(now - timedelta(minutes=10 * i)), CHAT, "group")
        print(f"{args.checks} checks of 3 claims, one every 10 minutes")
        group_of = None
        if args.memory:
            from factcheck.retrieval.embedder import local_embedder

            memory = ClaimMemory(history.path, local_embedder())
            started = time.perf_counter()
            memory.backfill(history)
            print(f"memory backfill: {time.perf_counter() - started:.2f} s for "
                  f"{memory.size} claims")
            group_of = memory.groups
        time_windows(history, group_of)
        history.close()


if __name__ == "__main__":
    main()
