"""Verdict labels and passage stances, and the one table of how each is shown and mapped.

Every front reads the table: the terminal's colours, the charts', the bot's marks, words and
button codes, Markdown, the summaries, and the stance each verdict is for the evaluations. A new
label is a member of `Label` and a row of `VERDICTS` here, and nothing else
(tests/factcheck/test_labels.py checks that every member has its row).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # models imports the enums from here: at run time these are only attributes
    from factcheck.models import ClaimCheck, Evidence, Verdict


class Stance(str, Enum):
    """What one passage says about one claim."""

    SUPPORTS = "SUPPORTS"
    REFUTES = "REFUTES"
    NOT_ENOUGH_INFO = "NOT_ENOUGH_INFO"


class Label(str, Enum):
    """The verdict on one claim, from all its evidence."""

    SUPPORTED = "SUPPORTED"
    CONTRADICTED = "CONTRADICTED"
    MIXED = "MIXED"
    NOT_ENOUGH_EVIDENCE = "NOT_ENOUGH_EVIDENCE"


@dataclass(frozen=True)
class VerdictLook:
    """How one verdict label is shown and what it stands for."""

    word: str  # 'supported': reports, summaries, buttons ('leans supported' for a lean)
    mark: str  # before the claim, everywhere
    colour: str  # its bars in the summary chart
    style: str  # the terminal panel's border (a rich style)
    code: str  # one letter in a button's callback data (at most 64 bytes)
    stance: Stance | None  # the stance label eval files give such a claim; None: no equivalent
    decided_by: tuple[Stance, ...]  # the stances of the evidence that decides it


@dataclass(frozen=True)
class StanceLook:
    """How one passage stance is shown."""

    word: str  # 'supports': 'Supports: “…”', 'Weakly supports'
    mark: str  # before a passage in the bot
    reading: str | None  # 'read X as supporting the claim'; None for a stance that takes no side
    style: str  # the terminal's colour of such a quote (a rich style; '' for none)
    html_colour: str | None  # the downloadable HTML report's colour of such a passage


LEAN_MARK = "🤔"  # a lean's mark, whatever its label: a lean never looks like a firm verdict

VERDICTS: dict[Label, VerdictLook] = {
    Label.SUPPORTED: VerdictLook("supported", "✅", "#2e7d32", "green", "S", Stance.SUPPORTS,
                                 (Stance.SUPPORTS,)),
    Label.CONTRADICTED: VerdictLook("contradicted", "❌", "#c62828", "red", "C", Stance.REFUTES,
                                    (Stance.REFUTES,)),
    Label.MIXED: VerdictLook("mixed", "⚖️", "#f9a825", "yellow", "M", None,
                             (Stance.SUPPORTS, Stance.REFUTES)),
    Label.NOT_ENOUGH_EVIDENCE: VerdictLook("not enough evidence", "❔", "#9e9e9e", "dim", "N",
                                           Stance.NOT_ENOUGH_INFO, ()),
}

# A verdict as the stance label the eval files use (MIXED has none there).
VERDICT_STANCE: dict[Label, str] = {label: look.stance.value for label, look in VERDICTS.items()
                                    if look.stance}

STANCES: dict[Stance, StanceLook] = {
    Stance.SUPPORTS: StanceLook("supports", "➕", "supporting", "green", "#176317"),
    Stance.REFUTES: StanceLook("contradicts", "➖", "contradicting", "red", "#a11"),
    Stance.NOT_ENOUGH_INFO: StanceLook("related, takes no side", "·", None, "", None),
}


def word(label: Label, lean: bool = False) -> str:
    """'supported', or 'leans supported' for a lean (evidence whose direction is unclear)."""
    return f"leans {VERDICTS[label].word}" if lean else VERDICTS[label].word


def mark(label: Label, lean: bool = False) -> str:
    """The label's mark; a lean has its own."""
    return LEAN_MARK if lean else VERDICTS[label].mark


def verdict_word(verdict: Verdict) -> str:
    """The verdict's word: 'supported', or 'leans supported' for a lean."""
    return word(verdict.label, verdict.lean)


def verdict_mark(verdict: Verdict) -> str:
    """The verdict's mark, a lean's own for a lean."""
    return mark(verdict.label, verdict.lean)


def best_evidence(check: ClaimCheck, stance: Stance) -> Evidence | None:
    """The most confident piece of evidence with this stance, if any."""
    matching = [e for e in check.evidence if e.stance == stance]
    return max(matching, key=lambda e: e.confidence, default=None)


def deciding_evidence(check: ClaimCheck) -> Evidence | None:
    """The most confident evidence of a stance that decides the claim's verdict; None when its
    label takes none (not enough evidence)."""
    sides = [best_evidence(check, stance) for stance in VERDICTS[check.verdict.label].decided_by]
    return max((e for e in sides if e), key=lambda e: e.confidence, default=None)
