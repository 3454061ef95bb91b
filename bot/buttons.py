"""Button presses on reports: sources of a claim, feedback, the full report as a file, and
"Check again" (a fresh check of the same article)."""

from __future__ import annotations

import logging
import math
from typing import cast

from telegram import InputFile, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from factcheck.bot import keyboards
from factcheck.bot.checks import CheckRequest, run_check
from factcheck.bot.handlers import NOT_YOURS, may_read
from factcheck.bot.keyboards import Press
from factcheck.bot.messages import edit_html, send_html
from factcheck.bot.render import evidence_pages, label_name, report_document
from factcheck.bot.services import Services, services
from factcheck.history import Feedback, StoredCheck

logger = logging.getLogger(__name__)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Decode the button, load its stored check, and act."""
    query = update.callback_query
    press = keyboards.parse(query.data or "")
    stored = services(context).history.get_check(press.check_id) if press else None
    if press is None or stored is None:
        await query.answer("This report is no longer stored. Send the article again.",
                           show_alert=True)
        return
    chat = query.message.chat if query.message else None
    if chat is None or not await may_read(query.get_bot(), stored, chat.id, query.from_user.id):
        logger.info("refused a press on check %s from chat %s by user %s", stored.id,
                    chat.id if chat else None, query.from_user.id)
        await query.answer(NOT_YOURS, show_alert=True)
        return
    claim = next((c for c in stored.report.claims if c.claim.id == press.claim_id), None)
    if press.action not in ("report", "again") and claim is None:
        await query.answer("This report has no such claim.", show_alert=True)
        return
    await _ACTIONS[press.action](update, stored, press, services(context))


async def _sources(update: Update, stored: StoredCheck, press: Press, s: Services) -> None:
    query = update.callback_query
    check = next(c for c in stored.report.claims if c.claim.id == press.claim_id)
    for page in evidence_pages(check):
        await send_html(query.get_bot(), query.message.chat_id, page, query.message.message_id)
    await query.answer()


async def _correct(update: Update, stored: StoredCheck, press: Press, s: Services) -> None:
    query = update.callback_query
    s.history.add_feedback(Feedback(stored.id, press.claim_id, query.from_user.id, correct=True))
    await query.answer(f"Thank you: claim {press.claim_id} noted as correct.")


async def _wrong(update: Update, stored: StoredCheck, press: Press, s: Services) -> None:
    query = update.callback_query
    s.history.add_feedback(Feedback(stored.id, press.claim_id, query.from_user.id, correct=False))
    await send_html(
        query.get_bot(), query.message.chat_id,
        f"Noted as wrong. Which verdict would be right for claim {press.claim_id}?",
        query.message.message_id, keyboards.verdict_keyboard(stored.id, press.claim_id),
    )
    await query.answer()


async def _label(update: Update, stored: StoredCheck, press: Press, s: Services) -> None:
    query = update.callback_query
    label = keyboards.LABEL_CODES[press.arg]
    s.history.add_feedback(Feedback(stored.id, press.claim_id, query.from_user.id,
                                    correct=False, right_label=label))
    word = label_name(label).lower()
    # A pressed button sits under the report it edits (the type allows an inaccessible message).
    await edit_html(cast(Message, query.message), f"Thank you: claim {press.claim_id} should be <b>{word}</b>. "
                                   "Noted for the maintainers.")
    await query.answer()


async def _report(update: Update, stored: StoredCheck, press: Press, s: Services) -> None:
    query = update.callback_query
    name, data = report_document(stored.report, press.arg, s.settings.timezone)
    await query.get_bot().send_document(
        query.message.chat_id, InputFile(data, filename=name), caption="The full report."
    )
    await query.answer()


async def _again(update: Update, stored: StoredCheck, press: Press, s: Services) -> None:
    query = update.callback_query
    wait = s.rate.try_acquire(query.from_user.id)
    if wait:
        await query.answer(f"🚦 Too many checks in the last minute. Try again in "
                           f"{math.ceil(wait)} s.", show_alert=True)
        return
    try:
        await query.answer("🔄 Checking again…")
    except BadRequest as exc:  # too old: a press run again after a restart still checks
        logger.info("could not answer a press: %s", exc)
    chat = query.message.chat
    request = CheckRequest(chat.id, chat.type, query.from_user.id, query.message.message_id,
                           article=stored.report.article, fresh=True,
                           update_id=update.update_id)
    await run_check(query.get_bot(), s, request)


_ACTIONS = {"sources": _sources, "correct": _correct, "wrong": _wrong, "label": _label,
            "report": _report, "again": _again}
