"""Render a Report as text for people (Markdown, and the lines every front shows) and for
programs (JSON). The terminal's colours are the CLI's (cli/render.py)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from factcheck.models import (
    ClaimCheck,
    ContradictionGroup,
    Evidence,
    Figure,
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
LEAN_MARK = "🤔"
WORDS = {
    Label.SUPPORTED: "supported",
    Label.CONTRADICTED: "contradicted",
    Label.MIXED: "mixed",
    Label.NOT_ENOUGH_EVIDENCE: "not enough evidence",
}


# Terminal escape sequences whole (CSI; OSC, DCS, PM and APC strings to BEL or ST; two-byte ESC
# x), so that no "[31m" is left over; then every other control character but newline and tab.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]P^_X]|[\x90\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """`text` without escape sequences or control characters (newlines and tabs stay).

    Articles, sources and model answers are other people's text: printed as they are, they
    could retitle the terminal, recolour or hide lines, or rewrite what was printed before.
    """
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


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
    """The claim memory's line, e.g. 'Checked 3 times since 12 May; last verdict CONTRADICTED'
    ('last verdict leans supported' for a lean: never in the capitals of a firm verdict)."""
    verdict = f"leans {WORDS[prior.label]}" if prior.lean else WORDS[prior.label].upper()
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
        lines += [f"## {verdict_mark(v)} {check.claim.id}. {check.claim.text}", ""]
        if note := context_note(check):
            lines += [f"_{note}_", ""]
        lines += [f"**{word}** (confidence {v.confidence:.2f}). {v.summary}", ""]
        if check.prior:
            line = prior_line(check.prior, timezone)
            lines += [f"🔁 _{line}_ (check `{check.prior.check_id}`)", ""]
        for e in decisive(check):
            source = _source_md(e)
            lines.append(f"- {stance_word(e)}: “{e.quote}” — {source}. _{e.rationale}_")
        lines += [f"- {disagreement_line(e)}" for e in disputed(check)]
        lines.append("")
    lines += contradictions_section(report, bullet="- ")
    if left_out := left_out_line(report):
        lines += ["", f"_{left_out}_"]
    lines += ["", footer(report).replace("\n", "\n\n")]
    return terminal_safe("\n".join(lines).rstrip() + "\n")


def context_note(check: ClaimCheck) -> str | None:
    """For a claim that still leans on the article: the sentence it leans on."""
    claim = check.claim
    if claim.self_contained:
        return None
    if claim.context:
        return f"⚠ Leans on the article; the sentence before it: “{claim.context}”"
    return "⚠ Leans on the article"


def decisive(check: ClaimCheck) -> list[Evidence]:
    """Evidence that takes a side; under a NOT_ENOUGH_EVIDENCE verdict it is too weak to decide."""
    return [e for e in check.evidence if e.stance != Stance.NOT_ENOUGH_INFO]


def disputed(check: ClaimCheck) -> list[Evidence]:
    """Evidence whose LLM judgement was not borne out (Evidence.disagreement)."""
    return [e for e in check.evidence if e.disagreement is not None]


def disagreement_line(e: Evidence) -> str:
    """'⚠ Disputed: the language model read X as supporting the claim (0.87), quoting “…”; the
    offline judge reads that sentence as contradicting it (0.64).'"""
    d = e.disagreement
    if d is None:
        return ""
    side = {Stance.SUPPORTS: "supporting", Stance.REFUTES: "contradicting"}
    title = e.passage.title or e.passage.source_id or e.passage.id
    quote = d.llm_quote if len(d.llm_quote) <= 200 else d.llm_quote[:199] + "…"
    read = (f"⚠ Disputed: the language model read {title} as {side[d.llm_stance]} the claim "
            f"({d.llm_confidence:.2f}), quoting “{quote}”")
    if d.reason == "quote_not_in_passage" or d.offline_stance is None:
        return f"{read}, which the passage does not say."
    return (f"{read}; the offline judge reads that sentence as {side[d.offline_stance]} it "
            f"({d.offline_confidence or 0:.2f}).")


def stance_word(e: Evidence) -> str:
    """'Supports' or 'Contradicts', 'Weakly …' below CREDIBLE (it did not decide the verdict)."""
    word = "Supports" if e.stance == Stance.SUPPORTS else "Contradicts"
    return word if e.confidence >= CREDIBLE else f"Weakly {word.lower()}"


def _source_md(e: Evidence) -> str:
    title = e.passage.title or e.passage.source_id or e.passage.id
    return f"[{title}]({e.passage.url})" if e.passage.url else f"*{title}*"


def contradiction_lines(report: Report) -> list[str]:
    """One line per measure whose figures conflict: 'death toll: 5 Russians (Maria Zakharova,
    the ministry; claim 5) · 13 (claim 4) · …'. A report stored before the groups existed has
    only pairs: one line per pair."""
    if report.internal_contradiction_groups:
        return [group_line(g) for g in report.internal_contradiction_groups]
    return [f"claim {c.first} vs claim {c.second}: {c.reason}"
            for c in report.internal_contradictions]


def group_line(group: ContradictionGroup) -> str:
    """Every figure the article gives for one measure, with who gives it and where."""
    return f"{group.measure}: " + " · ".join(_figure_text(f) for f in group.figures)


def _figure_text(figure: Figure) -> str:
    claims = ", ".join(str(n) for n in figure.claims)
    where = f"claim{'s' * (len(figure.claims) > 1)} {claims}"
    return f"{figure.figure} ({'; '.join([*figure.sources, where])})"


def contradictions_section(report: Report, bullet: str) -> list[str]:
    """The lead-in and one `bullet` line per measure whose figures conflict; none if none."""
    lines = contradiction_lines(report)
    if not lines:
        return []
    return ["Figures of this article that contradict each other:",
            *(bullet + line for line in lines)]


def left_out_line(report: Report) -> str | None:
    """What the claim cap left unchecked, or None when it left nothing."""
    n = report.claims_left_out
    if not n:
        return None
    return (f"{n} more checkable statement{'s' if n != 1 else ''} not checked: the best-scored "
            f"{len(report.claims)} were kept (raise MAX_CLAIMS to check more).")


def footer(report: Report) -> str:
    """Which engine checked it, how long each step took, the prompts and the LLM's cost."""
    p = report.provenance
    seconds = report.timings.get("total")
    took = f" in {seconds:.2f} s" if seconds is not None else ""
    steps = step_times(report)
    lines = [f"Checked by the {p.engine} engine ({p.model}; embeddings {p.embedder}){took}"
             + (f" ({steps})." if steps else ".")]
    lines += [f"{line[0].upper()}{line[1:]}." for line in (prompts_text(report),
                                                          usage_text(report)) if line]
    return "\n".join(lines)


_STEPS = {"intake": "reading", "claims": "claims", "search": "search", "judging": "judging"}


def step_times(report: Report) -> str | None:
    """Seconds of each step: 'reading 0.01 s, claims 3.63 s, search 0.40 s, judging 1.07 s'
    (a report stored before search and judging were timed apart has their sum, 'evidence')."""
    t = report.timings
    steps = _STEPS if "judging" in t else {**_STEPS, "evidence": "evidence"}
    parts = [f"{name} {t[key]:.2f} s" for key, name in steps.items() if key in t]
    rest = t.get("total", 0.0) - sum(t[key] for key in steps if key in t)
    if parts and rest >= 0.05:  # opening the collection, loading models, the claim memory
        parts.append(f"setup {rest:.2f} s")
    return ", ".join(parts) or None


def prompts_text(report: Report) -> str | None:
    """'prompts: claims 1:3f2a…, stance 2:9c1d…' (the LLM engine's prompt versions)."""
    prompts = report.provenance.prompts
    return "prompts: " + ", ".join(f"{k} {v}" for k, v in prompts.items()) if prompts else None


def usage_text(report: Report) -> str | None:
    """'LLM: 5 calls, 3,210 tokens in and 412 out, about $0.0007' (the LLM engine's cost)."""
    u = report.usage
    if u is None:
        return None
    cost = (f"about ${u.cost_usd:.4f}" if u.cost_usd is not None
            else "cost unknown (set LLM_PRICE_IN and LLM_PRICE_OUT)")
    return (f"LLM: {u.calls} call{'s' * (u.calls != 1)}, {u.tokens_in:,} tokens in and "
            f"{u.tokens_out:,} out, {cost}")
