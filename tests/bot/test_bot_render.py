"""Telegram HTML of reports: escaping, links, splitting at 4096 on claim boundaries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes.telegram_html import parse_html

from factcheck.bot import keyboards
from factcheck.bot.render import (
    MAX_MESSAGE,
    esc,
    evidence_pages,
    link,
    plain_text,
    progress_text,
    report_document,
    report_pages,
    split_blocks,
    tg_len,
)
from factcheck.models import (
    Article,
    Claim,
    ClaimCheck,
    Contradiction,
    ContradictionGroup,
    Evidence,
    Figure,
    Label,
    LLMUsage,
    Passage,
    PriorCheck,
    Provenance,
    Report,
    Stance,
    Verdict,
)

HOSTILE = 'Tom & Jerry <b>bold <i>unclosed </script> "quoted" 5 < 6 > 4 &amp; ok'


def claim_check(n: int, text: str, label: Label = Label.SUPPORTED, url: str | None = None,
                quote: str = "A quote.") -> ClaimCheck:
    passage = Passage(id=f"p{n}", text=quote, title=f"Source {n}", url=url)
    evidence = [Evidence(passage=passage, stance=Stance.SUPPORTS, confidence=0.8, quote=quote,
                         rationale="Says so."),
                Evidence(passage=passage, stance=Stance.REFUTES, confidence=0.6, quote=quote,
                         rationale="Says not.")]
    return ClaimCheck(
        claim=Claim(id=n, text=text, start=0, end=1, checkworthiness=0.5),
        verdict=Verdict(label=label, confidence=0.7, summary="Summary."), evidence=evidence)


def report(checks: list[ClaimCheck], title: str | None = "Title",
           contradictions: list[Contradiction] | None = None) -> Report:
    return Report(article=Article(text="Body text.", title=title, source="text"), claims=checks,
                  internal_contradictions=contradictions or [],
                  provenance=Provenance(engine="offline", model="m", embedder="e"),
                  timings={"total": 2.0})


def visible(html_text: str) -> str:
    """What Telegram shows; raises like Telegram on HTML it cannot parse."""
    return parse_html(html_text)[0]


@pytest.mark.parametrize("text", [HOSTILE, "<", "&", "</b>", "a<b", "x" * 50])
def test_escaped_text_parses_back_to_itself(text):
    assert visible(esc(text)) == text


@pytest.mark.parametrize("text", [HOSTILE * 40, "&" * 3000, "😀" * 3000])
def test_cut_text_fits_its_limit_and_stays_parseable(text):
    cut = esc(text, 500)
    assert tg_len(cut) <= 500 and cut.endswith("…")
    assert text.startswith(visible(cut)[:-1].rstrip())


@pytest.mark.parametrize("url, linked", [
    ("https://example.org/a?b=1&c=\"2\"", True), ("javascript:alert(1)", False),
    ("tg://resolve?domain=x", False), (None, False),
])
def test_links_only_to_http_urls(url, linked):
    html_text = link("Title <x>", url)
    assert ("<a href=" in html_text) is linked
    assert visible(html_text) == "Title <x>"


def test_report_shows_headline_verdicts_and_quotes_with_sources():
    [page] = report_pages(report([claim_check(1, "Water boils.", url="https://s.org/1")]))
    text = visible(page.text)
    assert "1 claim: 1 supported" in text and "Water boils." in text
    assert "➕ Supports: “A quote.” — Source 1" in text and 'href="https://s.org/1"' in page.text
    assert "➖ Contradicts: “A quote.”" in text
    assert page.claim_ids == [1]


def test_hostile_article_and_source_text_is_escaped_everywhere():
    checks = [claim_check(1, HOSTILE, quote=HOSTILE)]
    contradiction = Contradiction(first=1, second=1, reason=HOSTILE)
    pages = report_pages(report(checks, title=HOSTILE, contradictions=[contradiction]))
    text = visible(pages[0].text)
    assert text.count(HOSTILE) >= 3
    assert HOSTILE in visible(evidence_pages(checks[0])[0])


def test_conflicting_figures_head_the_report_one_line_per_measure_escaped():
    figures = [Figure(figure="5 Russians", low=5, high=5, claims=[1], sources=[HOSTILE]),
               Figure(figure="13", low=13, high=13, claims=[2])]
    conflicts = report([claim_check(1, "One."), claim_check(2, "Two.")]).model_copy(update={
        "internal_contradictions": [Contradiction(first=1, second=2, reason="differs")],
        "internal_contradiction_groups": [ContradictionGroup(measure="death toll",
                                                             figures=figures)]})
    [page] = report_pages(conflicts)
    text = visible(page.text)
    assert f"• death toll: 5 Russians ({HOSTILE}; claim 1) · 13 (claim 2)" in text
    assert "Claims 1 and 2" not in text and "contradict each other" in text


def test_the_footer_names_prompts_step_seconds_and_llm_cost():
    checked = report([claim_check(1, "Water boils.")]).model_copy(update={
        "provenance": Provenance(engine="llm", model="gpt-4o-mini", embedder="e",
                                 prompts={"claims": "1:abc", "stance": "1:def"}),
        "timings": {"intake": 0.0, "claims": 1.0, "search": 0.1, "judging": 0.9, "total": 2.0},
        "usage": LLMUsage(calls=3, tokens_in=1200, tokens_out=80, cost_usd=None)})
    text = visible(report_pages(checked)[0].text)
    assert ("Checked by the llm engine in 2.0 s (reading 0.00 s, claims 1.00 s, search 0.10 s, "
            "judging 0.90 s) · model: gpt-4o-mini · prompts: claims 1:abc, stance 1:def · LLM: "
            "3 calls, 1,200 tokens in and 80 out, cost unknown") in text


def test_long_reports_split_on_claim_boundaries_under_4096():
    checks = [claim_check(n, f"Claim number {n} " + "word " * 100) for n in range(1, 31)]
    pages = report_pages(report(checks))
    assert len(pages) > 1
    assert all(tg_len(visible(p.text)) <= MAX_MESSAGE and tg_len(p.text) <= MAX_MESSAGE
               for p in pages)
    assert [n for p in pages for n in p.claim_ids] == list(range(1, 31))
    for p in pages:  # every claim block is whole in its page
        for n in p.claim_ids:
            assert f"Claim number {n} " in visible(p.text)


def test_a_huge_claim_is_cut_so_its_block_fits():
    pages = report_pages(report([claim_check(1, "<&>" * 5000, quote="&" * 5000)]))
    assert all(tg_len(p.text) <= MAX_MESSAGE for p in pages)


def test_split_blocks_packs_greedily_in_order():
    assert split_blocks(["a" * 6, "b" * 6, "c" * 2], limit=10, sep="\n") == [[0], [1, 2]]


def test_compact_report_has_no_quotes():
    [page] = report_pages(report([claim_check(1, "Water boils.")]), compact=True)
    assert "Water boils." in visible(page.text) and "A quote." not in page.text


def test_plain_text_fallback_removes_tags_and_entities():
    assert plain_text("<b>5 &lt; 6</b> &amp; <a href='x'>y</a>") == "5 < 6 & y"


def test_progress_text_draws_a_bar_for_checking():
    assert progress_text("checking", 3, 10) == "⚖️ Checking claims: 3 of 10 done\n▰▰▰▱▱▱▱▱▱▱"
    assert "5 claims" in progress_text("searching", 0, 5)


def test_full_report_files_hold_every_piece_of_evidence_escaped():
    r = report([claim_check(1, HOSTILE, quote="Quote <one>")])
    name, data = report_document(r, "html")
    assert name.endswith(".html")
    assert b"Quote &lt;one&gt;" in data and b"Says not." in data and b"<script>" not in data
    name, data = report_document(r, "md")
    assert name.endswith(".md") and b"Quote <one>" in data


def test_keyboards_fit_telegram_and_parse_back():
    checks = [claim_check(1, "One."), claim_check(20, "Twenty.")]
    markup = keyboards.report_keyboard("AbC-123_xyz", checks, last=True)
    datas = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert all(len(d.encode()) <= 64 for d in datas)
    parsed = [keyboards.parse(d) for d in datas]
    assert [(p.action, p.claim_id) for p in parsed[:3]] == [
        ("sources", 1), ("correct", 1), ("wrong", 1)]
    assert parsed[-1].action == "report" and parsed[-1].arg == "md"
    label = keyboards.verdict_keyboard("AbC", 2).inline_keyboard[1][0].callback_data
    assert keyboards.parse(label) == keyboards.Press("label", "AbC", 2, "C")


def test_buttons_only_where_they_do_something():
    decided = claim_check(1, "Decided.")
    weak = claim_check(2, "Weak.", label=Label.NOT_ENOUGH_EVIDENCE)
    bare = claim_check(3, "Nothing found.", label=Label.NOT_ENOUGH_EVIDENCE)
    bare.evidence = []
    rows = keyboards.report_keyboard("AbC", [decided, weak, bare], last=True).inline_keyboard
    assert [[b.text for b in row] for row in rows] == [
        ["🔎 Sources 1", "👍 1", "👎 1"], ["🔎 Sources 2"], ["📄 Full report", "📝 Markdown"]]


@pytest.mark.parametrize("compact", [False, True])
def test_claims_without_evidence_share_one_line_at_the_end(compact):
    bare = [claim_check(n, f"Claim <{n}> found nowhere.", label=Label.NOT_ENOUGH_EVIDENCE)
            for n in (1, 3)]
    for check in bare:
        check.evidence = []
    [page] = report_pages(report([bare[0], claim_check(2, "Water boils."), bare[1]]),
                          compact=compact)
    text = visible(page.text)
    assert ("❔ Nothing in the collection on 2 claims: 1. Claim <1> found nowhere. · "
            "3. Claim <3> found nowhere.") in text
    assert text.index("Water boils.") < text.index("Nothing in the collection")
    assert page.claim_ids == [2]


def test_the_line_of_claims_without_evidence_is_cut_into_messages_that_fit():
    bare = [claim_check(n, f"Claim {n} " + "word " * 40, label=Label.NOT_ENOUGH_EVIDENCE)
            for n in range(1, 101)]
    for check in bare:
        check.evidence = []
    pages = report_pages(report(bare))
    assert len(pages) > 1 and all(tg_len(p.text) <= MAX_MESSAGE for p in pages)
    shown = " ".join(visible(p.text) for p in pages)
    assert all(f" {n}. Claim {n} " in shown for n in range(2, 101))


@pytest.mark.parametrize("data", ["", "x:1:2", "s:abc", "s:abc:one", "l:abc:1:Z", "r:abc:pdf"])
def test_foreign_callback_data_is_ignored(data):
    assert keyboards.parse(data) is None


def test_evidence_too_weak_to_decide_is_marked_weak():
    check = claim_check(1, "Water boils.")
    check.evidence[0].confidence = 0.3
    [page] = report_pages(report([check]))
    assert "➕ Weakly supports: “A quote.”" in visible(page.text)


def prior(times: int = 3, reused: bool = False) -> PriorCheck:
    return PriorCheck(
        check_id="AbC-123", claim_id=2, text="Earlier <wording>", label=Label.CONTRADICTED,
        confidence=0.8, checked_at=datetime(2020, 5, 20, 9), times=times, times_in_chat=times,
        first_checked_at=datetime(2020, 5, 12, 9), here_check_id="AbC-123", reused=reused)


@pytest.mark.parametrize("compact", [False, True])
def test_a_remembered_claim_says_how_often_it_was_checked_and_links_that_check(compact):
    check = claim_check(1, "Water boils.").model_copy(update={"prior": prior()})
    [page] = report_pages(report([check]), compact=compact, username="desk_bot")
    text, entities = parse_html(page.text)
    assert "🔁 Checked 3 times since 12 May 2020; last verdict CONTRADICTED · that check" in text
    assert [e["url"] for e in entities if e["type"] == "text_link"] == [
        "https://t.me/desk_bot?start=AbC-123"]


def test_a_reused_verdict_and_a_single_earlier_check_are_worded_as_such():
    check = claim_check(1, "Water boils.").model_copy(update={"prior": prior(1, reused=True)})
    [page] = report_pages(report([check]), notice="Already checked here on 20 May <2020>")
    shown = visible(page.text)
    assert shown.startswith("🔁 Already checked here on 20 May <2020>\n\nFact-check: Title")
    assert ("Checked once before, on 20 May 2020; verdict CONTRADICTED; reused, as the sources "
            "have not changed since") in shown


def test_remembered_dates_are_shown_in_the_desks_time_zone():
    late = prior(1).model_copy(update={"checked_at": datetime(2020, 5, 20, 23, 30, tzinfo=UTC)})
    check = claim_check(1, "Water boils.").model_copy(update={"prior": late})
    assert "on 20 May 2020;" in visible(report_pages(report([check]))[0].text)
    [page] = report_pages(report([check]), timezone="Europe/Berlin")
    assert "Checked once before, on 21 May 2020; verdict" in visible(page.text)
    _, markdown = report_document(report([check]), "md", timezone="Europe/Berlin")
    assert "on 21 May 2020;" in markdown.decode()


def test_the_check_again_button_runs_a_fresh_check_of_that_report():
    markup = keyboards.report_keyboard("AbC", [claim_check(1, "One.")], last=True, again=True)
    [again] = markup.inline_keyboard[-1]
    assert again.text == "🔄 Check again"
    assert keyboards.parse(again.callback_data) == keyboards.Press("again", "AbC", 0)
    row = keyboards.private_link_keyboard("desk_bot", "AbC", again=True).inline_keyboard[0]
    assert [b.text for b in row] == ["🔍 Details in private", "🔄 Check again"]


def test_a_lean_never_looks_like_a_firm_verdict():
    check = claim_check(1, "Water boils.")
    lean = check.model_copy(update={"verdict": check.verdict.model_copy(update={"lean": True})})
    [page] = report_pages(report([lean]))
    text = visible(page.text)
    assert "🤔 1. Water boils." in text and "Leans supported (0.70)" in text and "✅" not in text
    assert "1 claim: 1 leans supported" in text
    [compact] = report_pages(report([lean]), compact=True, username="desk_bot")
    assert "🤔 1. Water boils." in visible(compact.text)
    assert "✅ 1. Water boils." in visible(report_pages(report([check]))[0].text)


def test_a_report_says_what_the_claim_cap_left_out():
    capped = report([claim_check(1, "Water boils.")]).model_copy(update={"claims_left_out": 1})
    text = " ".join(visible(p.text) for p in report_pages(capped))
    assert "1 more checkable statement not checked: the best-scored 1 were kept" in text
    assert "not checked" not in visible(report_pages(report([claim_check(1, "Water.")]))[0].text)
