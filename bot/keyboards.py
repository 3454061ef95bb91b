"""Inline keyboards of reports and the callback data their buttons carry (at most 64 bytes)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from factcheck.bot.render import start_link
from factcheck.labels import VERDICTS, word
from factcheck.models import ClaimCheck, Label

# One letter per verdict (the labels table's codes) keeps callback data short.
LABEL_CODES = {look.code: label for label, look in VERDICTS.items()}
ACTIONS = {"s": "sources", "y": "correct", "n": "wrong", "l": "label", "r": "report",
           "a": "again"}


@dataclass(frozen=True)
class Press:
    """A decoded button press: what to do, on which stored check, for which claim."""

    action: str
    check_id: str
    claim_id: int = 0
    arg: str = ""


def parse(data: str) -> Press | None:
    """Decode callback data made by this module; None for anything else."""
    parts = data.split(":")
    if len(parts) < 3 or parts[0] not in ACTIONS:
        return None
    action, check_id, rest = ACTIONS[parts[0]], parts[1], parts[2:]
    if action == "report":
        return Press(action, check_id, arg=rest[0]) if rest[0] in ("html", "md") else None
    if not rest[0].isdigit():
        return None
    arg = rest[1] if len(rest) > 1 else ""
    if action == "label" and arg not in LABEL_CODES:
        return None
    return Press(action, check_id, int(rest[0]), arg)


def report_keyboard(
    check_id: str, checks: list[ClaimCheck], last: bool, again: bool = False
) -> InlineKeyboardMarkup | None:
    """Per claim, only the buttons that do something: Sources when it has evidence, correct and
    wrong when it has a verdict to judge; on the last page also the full report files, and with
    `again` (an answer from memory) a button for a fresh check."""
    rows = [row for check in checks if (row := _claim_row(check_id, check))]
    if last:
        rows.append([InlineKeyboardButton("📄 Full report", callback_data=f"r:{check_id}:html"),
                     InlineKeyboardButton("📝 Markdown", callback_data=f"r:{check_id}:md")])
    if last and again:
        rows.append([again_button(check_id)])
    return InlineKeyboardMarkup(rows) if rows else None


def _claim_row(check_id: str, check: ClaimCheck) -> list[InlineKeyboardButton]:
    n = check.claim.id
    row = []
    if check.evidence:
        row.append(InlineKeyboardButton(f"🔎 Sources {n}", callback_data=f"s:{check_id}:{n}"))
    if check.verdict.label != Label.NOT_ENOUGH_EVIDENCE:
        row += [InlineKeyboardButton(f"👍 {n}", callback_data=f"y:{check_id}:{n}"),
                InlineKeyboardButton(f"👎 {n}", callback_data=f"n:{check_id}:{n}")]
    return row


def verdict_keyboard(check_id: str, claim_id: int) -> InlineKeyboardMarkup:
    """The question after a 👎: which verdict would have been right?"""
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(word(label).capitalize(),
                              callback_data=f"l:{check_id}:{claim_id}:{code}")]
        for code, label in LABEL_CODES.items()
    ])


def private_link_keyboard(
    username: str, check_id: str, again: bool = False
) -> InlineKeyboardMarkup:
    """The group report's "details in private" button: a deep link to /start <check id>."""
    row = [InlineKeyboardButton("🔍 Details in private", url=start_link(username, check_id))]
    return InlineKeyboardMarkup([row + ([again_button(check_id)] if again else [])])


def again_button(check_id: str) -> InlineKeyboardButton:
    """"Check again": a fresh check of the stored check's article, nothing reused."""
    return InlineKeyboardButton("🔄 Check again", callback_data=f"a:{check_id}:0")
