"""Render a Report as text for people (Markdown, and the lines every front shows) and for
programs (JSON). The terminal's colours are the CLI's (cli/render.py)."""

from __future__ import annotations

from collections import Counter

from factcheck.display import source_name, terminal_safe, user_date
from factcheck.labels import STANCES, verdict_mark, verdict_word, word
from factcheck.models import (
    ClaimCheck,
    ContradictionGroup,
    Evidence,
    Figure,
    Label,
    PriorCheck,
    Report,
    Stance,
)
from factcheck.verdict import CREDIBLE


def to_json(report: Report) -> str:
    """The report as JSON (schema documented in docs/report-schema.md)."""
    return report.model_dump_json(indent=2)


def headline(report: Report) -> str:
    """One line of counts per verdict, e.g. '9 claims: 2 supported, 6 not enough evidence'."""
    counts = Counter(verdict_word(c.verdict) for c in report.claims)
    order = [word(label, lean) for label in Label for lean in (False, True)]
    parts = [f"{counts[said]} {said}" for said in order if counts[said]]
    noun = "claim" if len(report.claims) == 1 else "claims"
    return f"{len(report.claims)} {noun}" + (": " + ", ".join(parts) if parts else "")


def prior_line(prior: PriorCheck, timezone: str = "UTC") -> str:
    """The claim memory's line, e.g. 'Checked 3 times since 12 May; last verdict CONTRADICTED'
    ('last verdict leans supported' for a lean: never in the capitals of a firm verdict)."""
    verdict = word(prior.label, lean=True) if prior.lean else word(prior.label).upper()
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
        said = verdict_word(v).capitalize()
        lines += [f"## {verdict_mark(v)} {check.claim.id}. {check.claim.text}", ""]
        if note := context_note(check):
            lines += [f"_{note}_", ""]
        lines += [f"**{said}** (confidence {v.confidence:.2f}). {v.summary}", ""]
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
    title = source_name(e.passage)
    quote = d.llm_quote if len(d.llm_quote) <= 200 else d.llm_quote[:199] + "…"
    read = (f"⚠ Disputed: the language model read {title} as {STANCES[d.llm_stance].reading} the claim "
            f"({d.llm_confidence:.2f}), quoting “{quote}”")
    if d.reason == "quote_not_in_passage" or d.offline_stance is None:
        return f"{read}, which the passage does not say."
    return (f"{read}; the offline judge reads that sentence as {STANCES[d.offline_stance].reading} it "
            f"({d.offline_confidence or 0:.2f}).")


def stance_word(e: Evidence) -> str:
    """'Supports' or 'Contradicts' for evidence that takes a side, 'Weakly …' below CREDIBLE (it
    did not decide the verdict)."""
    said = STANCES[e.stance].word
    return said.capitalize() if e.confidence >= CREDIBLE else f"Weakly {said}"


def _source_md(e: Evidence) -> str:
    title = source_name(e.passage)
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
