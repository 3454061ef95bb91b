"""Reports as Telegram HTML: escaped, cut into messages of at most 4096 characters on claim
boundaries, plus the status texts and the downloadable full report."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from factcheck.display import source_name
from factcheck.errors import FactcheckError, LLMError
from factcheck.labels import STANCES, best_evidence, verdict_mark, verdict_word, word
from factcheck.models import ClaimCheck, Evidence, Label, Report, Stance
from factcheck.render import (
    contradiction_lines,
    disagreement_line,
    disputed,
    headline,
    left_out_line,
    prior_line,
    prompts_text,
    stance_word,
    step_times,
    to_markdown,
    usage_text,
)

MAX_MESSAGE = 4096  # Telegram's limit on a message's text
# Field caps keep every claim block far below MAX_MESSAGE, so a block never needs cutting.
_CLAIM_CHARS, _SUMMARY_CHARS, _QUOTE_CHARS, _TITLE_CHARS, _URL_CHARS = 600, 300, 350, 120, 500
_BAR_CELLS = 10
_MOST_CONFLICTS = 5  # lines of conflicting figures in a message's header
_UNFOUND_CLAIM_CHARS, _UNFOUND_CHARS = 120, 3000  # the line of claims without evidence


@dataclass
class Page:
    """One Telegram message of a report: its HTML and the claims it shows with buttons."""

    text: str
    claims: list[ClaimCheck] = field(default_factory=list)

    @property
    def claim_ids(self) -> list[int]:
        return [c.claim.id for c in self.claims]


def tg_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


LLM_UNAVAILABLE = "⚠️ The language model is unavailable right now. Try again later."


def error_line(exc: FactcheckError, limit: int = 1000) -> str:
    """What a chat is told of an error. An LLM's error names its server, which users are not
    to see (the log has it): they are told the language model is unavailable."""
    if isinstance(exc, LLMError):
        return LLM_UNAVAILABLE
    return f"⚠️ {esc(str(exc), limit)}"


def esc(text: str, limit: int | None = None) -> str:
    """Escape text for Telegram HTML; with `limit`, cut it (with '…') to at most that length."""
    escaped = html.escape(text, quote=False)
    if limit is None or tg_len(escaped) <= limit:
        return escaped
    # The escaped length grows with the prefix: find the longest prefix that fits, then '…'.
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if tg_len(html.escape(text[:middle], quote=False)) <= limit - 1:
            low = middle
        else:
            high = middle - 1
    return html.escape(text[:low].rstrip(), quote=False) + "…"


def link(title: str, url: str | None) -> str:
    """An <a> to an http(s) URL, else the escaped title alone (no javascript:, no tg:)."""
    label = esc(title, _TITLE_CHARS)
    if not url or not re.match(r"https?://", url, re.IGNORECASE) or len(url) > _URL_CHARS:
        return label
    return f'<a href="{html.escape(url, quote=True)}">{label}</a>'


def plain_text(html_text: str) -> str:
    """The text a reader sees, without tags: the fallback when Telegram rejects the HTML."""
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))


def split_blocks(
    blocks: list[str], limit: int = MAX_MESSAGE, sep: str = "\n\n"
) -> list[list[int]]:
    """Pack blocks, in order, into messages of at most `limit`; returns block indices per message.

    A block longer than the limit on its own gets a message of its own (callers cap fields).
    """
    groups: list[list[int]] = []
    size = 0
    for i, block in enumerate(blocks):
        length = tg_len(block)
        if groups and size + tg_len(sep) + length <= limit:
            groups[-1].append(i)
            size += tg_len(sep) + length
        else:
            groups.append([i])
            size = length
    return groups


def report_pages(
    report: Report, compact: bool = False, limit: int = MAX_MESSAGE, username: str | None = None,
    notice: str | None = None, timezone: str = "UTC",
) -> list[Page]:
    """The report as messages: header, then one block per claim, split on claim boundaries.

    `username` (the bot's) links remembered claims to their earlier check; `notice` is a line
    shown above the header, e.g. "Already checked here on 12 May"; dates are in `timezone`.
    """
    header = _header(report)
    if notice:
        header = f"🔁 <b>{esc(notice, 300)}</b>\n\n{header}"
    blocks: list[tuple[str, ClaimCheck | None]] = [(header, None)]
    render = _compact_claim if compact else _claim_block
    shown = [c for c in report.claims if has_block(c)]
    blocks += [(render(c) + _prior(c, username, timezone), c) for c in shown]
    blocks += [(b, None) for b in _unfound_blocks([c for c in report.claims if not has_block(c)])]
    if not report.claims:
        blocks.append(("No checkable claim was found in this article.", None))
    if left_out := left_out_line(report):
        blocks.append((f"<i>{esc(left_out)}</i>", None))
    if not compact:
        blocks.append((f"<i>{esc(_footer(report))}</i>", None))
    groups = split_blocks([b for b, _ in blocks], limit)
    return [
        Page("\n\n".join(blocks[i][0] for i in g),
             [check for i in g if (check := blocks[i][1]) is not None])
        for g in groups
    ]


def has_block(check: ClaimCheck) -> bool:
    """Whether a claim gets a block of its own: it has evidence to show, or the claim memory's
    line. The others share one line at the end: nothing in the collection bears on them."""
    return bool(check.evidence) or check.prior is not None


def _unfound_blocks(checks: list[ClaimCheck]) -> list[str]:
    """The claims without evidence, numbered, on one line (more only past _UNFOUND_CHARS)."""
    if not checks:
        return []
    items = [f"{c.claim.id}. {esc(c.claim.text, _UNFOUND_CLAIM_CHARS)}" for c in checks]
    lead = (f"❔ <b>Nothing in the collection on {len(checks)} "
            f"claim{'s' * (len(checks) != 1)}</b>: ")
    chunks = split_blocks(items, _UNFOUND_CHARS, sep=" · ")
    return [(lead if n == 0 else "❔ … ") + " · ".join(items[i] for i in chunk)
            for n, chunk in enumerate(chunks)]


def evidence_pages(check: ClaimCheck, limit: int = MAX_MESSAGE) -> list[str]:
    """Every piece of evidence of one claim (the "Sources" button), as messages."""
    claim = esc(check.claim.text, _CLAIM_CHARS)
    head = f"{verdict_mark(check.verdict)} <b>Claim {check.claim.id}</b>: {claim}"
    if not check.evidence:
        return [head + "\n\nNo passage of the collection was found for this claim."]
    blocks = [head] + [_evidence_block(n, e) for n, e in enumerate(check.evidence, start=1)]
    return ["\n\n".join(blocks[i] for i in g) for g in split_blocks(blocks, limit)]


def progress_text(stage: str, done: int, total: int) -> str:
    """The status message while a check runs: what it is doing, with a small bar."""
    if stage == "checking" and total:
        filled = round(_BAR_CELLS * done / total)
        bar = "▰" * filled + "▱" * (_BAR_CELLS - filled)
        return f"⚖️ Checking claims: {done} of {total} done\n{bar}"
    return {
        "reading": "📥 Reading the article…",
        "claims": "🧩 Finding the checkable claims…",
        "searching": f"🔎 Searching the trusted sources for {total} claim{'s' * (total != 1)}…",
    }.get(stage, "⏳ Working…")


def queue_text(position: int) -> str:
    """The status message of a check waiting for a free slot."""
    return f"⏳ Other checks are running; yours is number {position} in the queue."


def report_document(report: Report, fmt: str, timezone: str = "UTC") -> tuple[str, bytes]:
    """The whole report as a file (file name, bytes): 'html' or 'md' (dates in `timezone`)."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", (report.article.title or "article")[:40]).strip("-")
    stamp = report.created_at.strftime("%Y%m%d-%H%M")
    if fmt == "md":
        return f"factcheck-{stem}-{stamp}.md", to_markdown(report, timezone).encode("utf-8")
    return f"factcheck-{stem}-{stamp}.html", _html_document(report).encode("utf-8")


# --- blocks ------------------------------------------------------------------------------------


def _title(report: Report) -> str:
    article = report.article
    first_line = article.text.strip().split("\n", 1)[0]
    return article.title or (first_line if len(first_line) <= 90 else first_line[:89] + "…")


def _header(report: Report) -> str:
    lines = [f"<b>Fact-check: {esc(_title(report), 200)}</b>"]
    if report.article.url:
        lines.append(link(report.article.url, report.article.url))
    lines.append(esc(headline(report)))
    if conflicts := contradiction_lines(report):
        lines.append("⚠️ <b>Figures of the article that contradict each other</b>")
        lines += [f"• {esc(line, 600)}" for line in conflicts[:_MOST_CONFLICTS]]
    if len(conflicts) > _MOST_CONFLICTS:
        lines.append(f"• … and {len(conflicts) - _MOST_CONFLICTS} more: see the full report.")
    return "\n".join(lines)


def _claim_block(check: ClaimCheck) -> str:
    v = check.verdict
    said, summary = verdict_word(v).capitalize(), esc(v.summary, _SUMMARY_CHARS)
    lines = [
        f"{verdict_mark(v)} <b>{check.claim.id}.</b> {esc(check.claim.text, _CLAIM_CHARS)}",
        f"<i>{said}</i> ({v.confidence:.2f}). {summary}",
    ]
    for stance in (Stance.SUPPORTS, Stance.REFUTES):
        if evidence := best_evidence(check, stance):
            # Below CREDIBLE a judgement is shown but did not decide the verdict: stance_word
            # says so ('Weakly supports').
            lines.append(f"{STANCES[stance].mark} {stance_word(evidence)}: {_quote(evidence)}")
    lines += [esc(disagreement_line(e), _SUMMARY_CHARS) for e in disputed(check)]
    return "\n".join(lines)


def _prior(check: ClaimCheck, username: str | None, timezone: str) -> str:
    """The claim memory's line under a claim, linked to this chat's earlier check if any."""
    if check.prior is None:
        return ""
    line = f"\n🔁 {esc(prior_line(check.prior, timezone))}"
    # Only a check of this chat is linked: another chat's report is private to that chat.
    if check.prior.here_check_id is None:
        return line + " · in another chat"
    if username:
        line += " · " + link("that check", start_link(username, check.prior.here_check_id))
    return line


def start_link(username: str, check_id: str) -> str:
    """The deep link that opens a stored check in a private chat with the bot (/start <id>)."""
    return f"https://t.me/{username}?start={check_id}"


def _compact_claim(check: ClaimCheck) -> str:
    line = f"{verdict_mark(check.verdict)} {check.claim.id}. {esc(check.claim.text, 200)}"
    return line + (" · ⚠️ disputed" if disputed(check) else "")


def _evidence_block(n: int, e: Evidence) -> str:
    return (f"{STANCES[e.stance].mark} <b>{n}.</b> {STANCES[e.stance].word} "
            f"({e.confidence:.2f}): {_quote(e)}\n<i>{esc(e.rationale, _SUMMARY_CHARS)}</i>")


def _quote(e: Evidence) -> str:
    title = source_name(e.passage)
    return f"“{esc(e.quote, _QUOTE_CHARS)}” — {link(title, e.passage.url)}"


def _footer(report: Report) -> str:
    p = report.provenance
    seconds = report.timings.get("total")
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    steps = step_times(report)
    parts = [f"Checked by the {p.engine} engine{took}" + (f" ({steps})" if steps else ""),
             f"model: {p.model}", prompts_text(report), usage_text(report)]
    return " · ".join(part for part in parts if part)


# --- the downloadable HTML file ----------------------------------------------------------------

_CSS = ("body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.4}"
        "blockquote{border-left:3px solid #ccc;margin:.3em 0;padding-left:.8em}"
        + "".join(f".{stance.value}{{color:{look.html_colour}}}"
                  for stance, look in STANCES.items() if look.html_colour)
        + "small{color:#666}")


def _html_document(report: Report) -> str:
    e = html.escape
    head = (f"<!doctype html><html><head><meta charset='utf-8'><title>Fact-check: "
            f"{e(_title(report))}</title><style>{_CSS}</style></head><body>")
    parts = [head, f"<h1>Fact-check: {e(_title(report))}</h1><p><b>{e(headline(report))}</b></p>"]
    if conflicts := contradiction_lines(report):
        items = "".join(f"<li>{e(line)}</li>" for line in conflicts)
        parts.append(f"<h2>Figures of this article that contradict each other</h2><ul>{items}</ul>")
    parts += [_html_claim(check) for check in report.claims]
    parts.append(f"<hr><small>{e(_footer(report))}.</small></body></html>")
    return "\n".join(parts)


def _html_claim(check: ClaimCheck) -> str:
    e, v = html.escape, check.verdict
    items = []
    for ev in check.evidence:
        title = e(source_name(ev.passage))
        source = (f"<a href='{e(ev.passage.url)}'>{title}</a>"
                  if ev.passage.url and re.match(r"https?://", ev.passage.url) else title)
        items.append(f"<li class='{ev.stance.value}'>{STANCES[ev.stance].word} "
                     f"({ev.confidence:.2f}) — {source}<blockquote>{e(ev.quote)}</blockquote>"
                     f"<small>{e(ev.rationale)}</small>"
                     + (f"<p>{e(disagreement_line(ev))}</p>" if ev.disagreement else "")
                     + "</li>")
    return (f"<h2>{verdict_mark(v)} {check.claim.id}. {e(check.claim.text)}</h2>"
            f"<p><b>{verdict_word(v).capitalize()}</b> (confidence {v.confidence:.2f}). "
            f"{e(v.summary)}</p><ul>{''.join(items) or '<li>No evidence found.</li>'}</ul>")


def label_name(label: Label) -> str:
    """The word for a verdict, capitalised, for buttons."""
    return word(label).capitalize()
