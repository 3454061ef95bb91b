"""The claim memory: real SQLite, the real local MiniLM, and the pipeline reusing what it knows."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes.reports import claim_check, report
from rich.console import Console

from factcheck.cli.render import print_report
from factcheck.desk import MemoryRecall, already_checked
from factcheck.display import user_date
from factcheck.engines.offline import OFFLINE_MODEL, offline_model
from factcheck.errors import StoreError
from factcheck.history import SQLiteHistory, open_history
from factcheck.memory import ClaimMemory, details_agree, open_memory, still_current
from factcheck.models import Article, Label, Report
from factcheck.pipeline import check, open_store
from factcheck.render import prior_line, to_markdown
from factcheck.retrieval import Document
from factcheck.retrieval.embedder import local_embedder
from factcheck.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
PAIRS = [json.loads(line) for line in (DATA / "paraphrases.jsonl").read_text().splitlines()]
# A casualty claim of the seed article, a rewording, and a near miss with another figure.
FIVE, FIVE_REWORDED, TWO_HUNDRED = PAIRS[0]["a"], PAIRS[2]["b"], PAIRS[28]["b"]


def report_of(*texts: str, label: Label = Label.CONTRADICTED) -> Report:
    """A stored-check-like Report with one claim per text."""
    checks = [claim_check(n, t, label, summary="Sources disagree.", checkworthiness=0.9)
              for n, t in enumerate(texts, start=1)]
    return report(*checks, model=offline_model())


@pytest.fixture
def memory(tmp_path: Path) -> ClaimMemory:
    return ClaimMemory(tmp_path / "history.sqlite", local_embedder())


@pytest.mark.parametrize(("first", "second", "same"), [
    ("Five Russians were killed.", "5 Russians died.", True),
    ("As many as 200 fighters were killed.", "Up to 200 fighters died.", True),
    ("About 100 people died.", "Roughly 110 people were killed.", True),
    ("Five Russians were killed.", "200 Russians were killed.", False),
    ("Five Russians were killed.", "Russians were killed.", False),
    ("The clash on February 7 killed five.", "The clash on 7 February killed five.", True),
    ("The clash on February 7 killed five.", "The clash on February 8 killed five.", False),
    ("The intervention began in September 2015.", "The intervention began in September 2012.",
     False),
    ("The U.S. strike in Syria killed them.", "The American strike in Syria killed them.", True),
    ("The U.S. strike in Syria killed them.", "The U.S. strike in Iraq killed them.", False),
    ("Zakharova said they were civilians.", "They were civilians, Zakharova said in Moscow.",
     True),
    ("They were not soldiers.", "They were soldiers.", False),
    ("Russia denied any role.", "Russia said it had no role.", True),
])
def test_details_agree_on_figures_dates_names_and_polarity(first, second, same):
    assert details_agree(first, second) is same
    assert details_agree(second, first) is same


@pytest.mark.parametrize("pair", [p for p in PAIRS if p["kind"] == "figure"],
                         ids=lambda p: str(p["id"]))
def test_no_near_miss_with_another_figure_is_the_same_claim(pair):
    assert not details_agree(pair["a"], pair["b"])


def test_a_rephrased_casualty_claim_is_recognised_in_its_chat_and_desk_wide(memory):
    memory.remember("first", report_of(FIVE), chat_id=1)
    memory.remember("second", report_of("Water boils at 100 C.", FIVE), chat_id=2)
    [here] = memory.recall([FIVE_REWORDED], chat_id=1)
    [elsewhere] = memory.recall([FIVE_REWORDED], chat_id=3)
    assert (here.check_id, here.claim_id, here.text) == ("second", 2, FIVE)  # the latest check
    assert (here.times, here.times_in_chat, elsewhere.times_in_chat) == (2, 1, 0)
    assert here.label == Label.CONTRADICTED and here.first_checked_at < here.checked_at
    assert (here.here_check_id, elsewhere.here_check_id) == ("first", None)
    assert not here.reused
    assert prior_line(here).startswith("Checked 2 times since ")


@pytest.mark.parametrize(("timezone", "first", "last"), [
    ("UTC", "12 May 2020", "20 May 2020 23:30"),
    ("Europe/Berlin", "13 May 2020", "21 May 2020 01:30"),  # past midnight there
    ("America/New_York", "12 May 2020", "20 May 2020 19:30"),
])
def test_the_memorys_dates_are_the_readers_dates_in_settings_timezone(memory, timezone, first,
                                                                      last):
    memory.remember("old", report_of(FIVE).model_copy(
        update={"created_at": datetime(2020, 5, 12, 22, 30, tzinfo=UTC)}), chat_id=1)
    memory.remember("new", report_of(FIVE).model_copy(
        update={"created_at": datetime(2020, 5, 20, 23, 30, tzinfo=UTC)}), chat_id=1)
    [prior] = memory.recall([FIVE_REWORDED], chat_id=1)
    assert prior_line(prior, timezone).startswith(f"Checked 2 times since {first}; ")
    assert user_date(prior.checked_at, timezone, with_time=True) == last
    shown = report_of(FIVE)
    shown.claims[0].prior = prior
    assert f"since {first}" in to_markdown(shown, timezone)


def test_a_claim_gets_the_verdict_of_a_wording_it_matches_not_of_its_whole_group(memory):
    strike = "Five Russians were killed in the strike."
    memory.remember("a", report_of(strike, label=Label.SUPPORTED), chat_id=1)
    memory.remember("b", report_of(strike[:-1] + " in Syria.", label=Label.CONTRADICTED), 1)
    assert memory.groups(["a", "b"])[("a", 1)] == memory.groups(["b"])[("b", 1)]
    [prior] = memory.recall([strike[:-1] + " in Iraq."], chat_id=1)  # matches a, not b
    assert (prior.check_id, prior.label, prior.times) == ("a", Label.SUPPORTED, 1)
    memory.remember("d", report_of(strike[:-1] + " in Iraq."), chat_id=1)
    groups = memory.groups(["a", "d"])
    assert groups[("d", 1)] != groups[("a", 1)]  # not counted with "in Syria" in summaries


def test_a_near_miss_with_another_figure_or_an_unrelated_claim_is_not_recalled(memory):
    memory.remember("first", report_of(FIVE), chat_id=1)
    assert memory.recall([TWO_HUNDRED, "Water boils at 100 C."], chat_id=1) == [None, None]


def test_all_wordings_of_one_claim_share_a_group_other_claims_do_not(memory):
    memory.remember("a", report_of(FIVE, FIVE_REWORDED), chat_id=1)
    memory.remember("b", report_of(TWO_HUNDRED, FIVE), chat_id=2)
    groups = memory.groups(["a", "b"])
    assert groups[("a", 1)] == groups[("a", 2)] == groups[("b", 2)]
    assert groups[("b", 1)] != groups[("a", 1)]
    assert memory.groups(["unknown"]) == {}


def test_the_memory_survives_a_reopen_and_sees_what_another_process_added(tmp_path, memory):
    other = open_memory(Settings(data_dir=tmp_path, _env_file=None), local_embedder())
    assert other.path == memory.path
    other.remember("elsewhere", report_of(FIVE), chat_id=9)
    [prior] = memory.recall([FIVE_REWORDED], chat_id=None)
    assert prior.check_id == "elsewhere" and prior.times_in_chat == 0
    memory.remember("elsewhere", report_of(FIVE), chat_id=9)  # remembered twice: one row
    assert ClaimMemory(memory.path, local_embedder()).size == 1


class CountingEmbedder:
    """The local embedder, counting its calls and the texts it embedded."""

    def __init__(self) -> None:
        self.inner, self.calls = local_embedder(), []
        self.name = self.inner.name

    def embed(self, texts: list[str]):
        self.calls.append(list(texts))
        return self.inner.embed(texts)


def test_checks_stored_before_the_memory_existed_are_remembered_once_batched(tmp_path):
    settings = Settings(data_dir=tmp_path, _env_file=None)
    history = open_history(settings)  # a desk's history from before the claim memory
    old = history.add_check(report_of(FIVE, "Water boils at 100 C."), chat_id=1, chat_type="group")
    new = history.add_check(report_of(FIVE_REWORDED), chat_id=2, chat_type="private")
    history.add_check(report_of(), chat_id=2, chat_type="private")  # no claims: nothing to keep
    embedder = CountingEmbedder()
    memory = open_memory(settings, embedder)
    assert memory.size == 3 and len(embedder.calls) == 1  # one batch for the three claims
    [prior] = memory.recall([FIVE], chat_id=2)
    assert (prior.check_id, prior.times, prior.times_in_chat) == (new, 2, 1)
    groups = memory.groups([old, new])
    assert groups[(old, 1)] == groups[(new, 1)] != groups[(old, 2)]

    history.add_check(report_of(TWO_HUNDRED), chat_id=1, chat_type="group")  # while it was off
    history.close()
    again = open_memory(settings, CountingEmbedder())
    assert again.size == 4 and again.embedder.calls == [[TWO_HUNDRED]]  # only what was missing


# --- the pipeline ------------------------------------------------------------------------------

ARTICLE = ("Health officials said on Monday that 23 people were killed in the strike. "
           "Fifteen of them were Russians, the ministry said.")
REWORDED = ("The strike killed 23 people in total, officials said. "
            "Of the people the strike killed, 15 were Russians.")
SOURCES = [Document(id="wire", title="Wire report", url="https://example.org/wire",
                    text="A total of 23 people were killed in the strike, including 15 Russians.")]


# The scripted LLM's claims: (claim, source sentence) per article.
CLAIMS = {
    ARTICLE: [("23 people were killed in the strike.", ARTICLE.split(". ")[0] + "."),
              ("Fifteen of those killed in the strike were Russians.",
               "Fifteen of them were Russians, the ministry said.")],
    REWORDED: [("The strike killed 23 people in total.", REWORDED.split(". ")[0] + "."),
               ("Of the people the strike killed, 15 were Russians.", REWORDED.split(". ")[1])],
}


def claims_answer(article: str) -> dict:
    return {"claims": [{"claim": claim, "checkworthiness": 0.9, "source_sentence": sentence}
                       for claim, sentence in CLAIMS[article]]}


def stance_answer() -> dict:
    return {"judgements": [{"passage": 1, "stance": "SUPPORTS", "confidence": 0.9,
                            "rationale": "same figures", "quote": SOURCES[0].text}]}


@pytest.fixture
def llm(openai_server, tmp_path):
    """(server, settings, memory): the LLM engine, one source, no LLM answer cache."""
    server, settings = openai_server
    settings = settings.model_copy(update={"data_dir": tmp_path / "data", "llm_cache": False})
    open_store(settings).ingest(SOURCES)
    return server, settings, open_memory(settings, local_embedder())


def checked(server, settings, memory, article: str, chat_id: int, stances: int = 0, **options):
    """Check with the memory, scripting the claims answer and `stances` stance answers."""
    server.answer(claims_answer(article))
    for _ in range(stances):
        server.answer(stance_answer())
    report = check(article, settings, recall=MemoryRecall(memory, chat_id, **options))
    memory.remember(f"check{len(server.chat_requests)}", report, chat_id)
    return report


def test_a_claim_checked_before_reuses_its_verdict_without_search_or_stance_calls(llm):
    server, settings, memory = llm
    first = checked(server, settings, memory, ARTICLE, chat_id=1, stances=2)
    assert len(server.chat_requests) == 3 and all(c.prior is None for c in first.claims)
    again = checked(server, settings, memory, REWORDED, chat_id=2)
    assert len(server.chat_requests) == 4  # the claims call only: no stance call
    assert [c.prior.reused for c in again.claims] == [True, True]
    assert [c.verdict for c in again.claims] == [c.verdict for c in first.claims]
    assert again.claims[0].evidence == first.claims[0].evidence
    assert again.claims[0].claim.text == "The strike killed 23 people in total."
    assert "reused" in to_markdown(again) and "Checked once before" in to_markdown(again)
    terminal = Console(width=200, record=True)
    print_report(again, terminal)
    assert "🔁 Checked once before" in terminal.export_text()


def test_reuse_stops_once_new_sources_are_ingested(llm):
    server, settings, memory = llm
    checked(server, settings, memory, ARTICLE, chat_id=1, stances=2)
    open_store(settings).ingest([Document(id="update", text="The ministry revised the toll.")])
    again = checked(server, settings, memory, REWORDED, chat_id=1, stances=2)
    assert len(server.chat_requests) == 6  # claims and both stances asked again
    assert [(c.prior.times, c.prior.reused) for c in again.claims] == [(1, False), (1, False)]


def test_a_fresh_check_asks_again_but_still_says_it_was_seen(llm):
    server, settings, memory = llm
    checked(server, settings, memory, ARTICLE, chat_id=1, stances=2)
    again = checked(server, settings, memory, ARTICLE, chat_id=1, stances=2, fresh=True)
    assert len(server.chat_requests) == 6
    assert [c.prior.reused for c in again.claims] == [False, False]


def test_results_of_another_engine_are_not_reused(llm):
    server, settings, memory = llm
    memory.remember("offline", report_of("23 people were killed in the strike."), chat_id=1)
    server.answer({"claims": [claims_answer(ARTICLE)["claims"][0]]})
    server.answer(stance_answer())
    [claim] = check(ARTICLE, settings, recall=MemoryRecall(memory, chat_id=1)).claims
    assert claim.prior.check_id == "offline" and not claim.prior.reused
    assert claim.verdict.label == Label.SUPPORTED


def edited_prompts(folder: Path) -> Path:
    """A prompts folder whose stance prompt has one more word than the shipped one."""
    folder.mkdir()
    shipped = (ROOT / "prompts" / "stance.yaml").read_text()
    edited = shipped.replace("You are a careful fact-checker.", "You are a careful, sceptical "
                             "fact-checker.")
    assert edited != shipped
    (folder / "stance.yaml").write_text(edited)
    return folder


def test_results_of_an_edited_prompt_are_not_reused_but_its_own_are(llm, tmp_path):
    server, settings, memory = llm
    first = checked(server, settings, memory, ARTICLE, chat_id=1, stances=2)
    edited = settings.model_copy(update={"prompts_dir": edited_prompts(tmp_path / "prompts")})
    again = checked(server, edited, memory, REWORDED, chat_id=1, stances=2)
    assert len(server.chat_requests) == 6  # claims and both stances asked again
    assert [c.prior.reused for c in again.claims] == [False, False]
    assert again.provenance.prompts["stance"] != first.provenance.prompts["stance"]
    # The wording checked with the edited prompt (ARTICLE's "23 people were killed in the
    # strike" is the source's own words: that would be checked afresh).
    third = checked(server, edited, memory, REWORDED, chat_id=1)
    assert len(server.chat_requests) == 7  # the claims call only
    assert [c.prior.check_id for c in third.claims] == ["check6", "check6"]
    assert [c.prior.reused for c in third.claims] == [True, True]


def test_an_article_checked_with_another_prompt_is_not_answered_from_the_store(llm, tmp_path):
    server, settings, _ = llm
    server.answer(claims_answer(ARTICLE))
    server.answer(stance_answer())
    server.answer(stance_answer())
    history = SQLiteHistory(tmp_path / "history.sqlite")
    history.add_check(check(ARTICLE, settings), chat_id=1, chat_type="private")
    store, article = open_store(settings), Article(text=ARTICLE)
    assert already_checked(history, 1, article, settings, store) is not None
    edited = settings.model_copy(update={"prompts_dir": edited_prompts(tmp_path / "prompts")})
    assert already_checked(history, 1, article, edited, store) is None


def test_an_offline_result_of_older_weights_is_not_answered_from_the_store(tmp_path):
    settings = Settings(data_dir=tmp_path, _env_file=None)
    history, store = open_history(settings), open_store(settings)
    older = report_of(FIVE)
    older.provenance.model = OFFLINE_MODEL  # as stored before the weights' fingerprint
    history.add_check(older, chat_id=1, chat_type="private")
    assert already_checked(history, 1, older.article, settings, store) is None
    history.add_check(report_of(FIVE), chat_id=1, chat_type="private")  # these weights'
    assert already_checked(history, 1, older.article, settings, store) is not None


class IngestingStore:
    """A source store that gets a new source while a check searches it (an /add finishing)."""

    def __init__(self, store) -> None:
        self.store = store

    def __getattr__(self, name: str):
        return getattr(self.store, name)

    def search_many(self, *args, **kwargs):
        self.store.ingest([Document(id="late", text="The ministry revised the toll to 25.")])
        return self.store.search_many(*args, **kwargs)


def test_a_check_that_overlaps_an_ingest_is_older_than_the_new_sources(tmp_path):
    settings = Settings(data_dir=tmp_path, _env_file=None)
    store = open_store(settings)
    store.ingest(SOURCES)
    report = check(ARTICLE, settings, store=IngestingStore(store))
    assert report.claims and store.changed_at() is not None
    assert not still_current(report.created_at, store.changed_at())  # never reused


def test_a_damaged_memory_raises_store_errors_not_sqlite_errors(memory):
    memory.remember("first", report_of(FIVE), chat_id=1)
    [prior] = memory.recall([FIVE], chat_id=1)
    with closing(sqlite3.connect(memory.path)) as db:
        db.execute("DROP TABLE memory")
    for call in (lambda: memory.recall([FIVE_REWORDED], 1), lambda: memory.earlier(prior),
                 lambda: memory.remember("second", report_of(FIVE), 1),
                 lambda: memory.groups(["first"])):
        with pytest.raises(StoreError, match="claim memory"):
            call()


def test_a_rolled_back_remember_leaves_no_phantom_rows(memory):
    with closing(sqlite3.connect(memory.path)) as db, db:
        db.execute("CREATE TRIGGER fail BEFORE INSERT ON memory WHEN NEW.text = 'boom' "
                   "BEGIN SELECT RAISE(ABORT, 'boom'); END")
    with pytest.raises(StoreError):
        memory.remember("failed", report_of(FIVE, "boom"), chat_id=1)  # FIVE rolled back
    with closing(sqlite3.connect(memory.path)) as db, db:
        db.execute("DROP TRIGGER fail")
    assert memory.size == 0
    memory.remember("kept", report_of(TWO_HUNDRED), chat_id=1)  # reuses FIVE's row id
    [prior] = memory.recall([TWO_HUNDRED], chat_id=1)
    assert prior.check_id == "kept" and memory.size == 1


def test_a_claim_a_source_states_word_for_word_is_checked_again_not_handed_an_old_result(
    tmp_path,
):
    settings = Settings(data_dir=tmp_path, _env_file=None)
    store = open_store(settings)
    stated = "The strike near the river killed 23 people on Monday."
    store.ingest([Document(id="wire", title="Wire report", text=stated)])
    memory = open_memory(settings, local_embedder())
    recall = MemoryRecall(memory, chat_id=1)
    first = check("On Monday, 23 people were killed in the strike near the river.", settings,
                  store=store, recall=recall)
    memory.remember("first", first, chat_id=1)
    # Another wording the source does not state: the earlier result stands for it.
    other = check("23 people were killed on Monday in the strike near the river.", settings,
                  store=store, recall=recall)
    assert other.claims[0].prior.reused
    # The source's own sentence: judged afresh (the earlier result was the other wording's).
    again = check(stated, settings, store=store, recall=recall)
    [claim] = again.claims
    assert claim.prior is not None and not claim.prior.reused
    assert claim.evidence and claim.evidence[0].quote == stated


def test_the_memory_line_of_a_lean_says_leans_never_the_capitals(memory):
    leaning = report_of(FIVE, label=Label.SUPPORTED)
    leaning.claims[0].verdict.lean = True
    memory.remember("first", leaning, chat_id=1)
    [prior] = memory.recall([FIVE_REWORDED], chat_id=1)
    assert prior.lean
    line = prior_line(prior)
    assert "verdict leans supported" in line and "SUPPORTED" not in line
