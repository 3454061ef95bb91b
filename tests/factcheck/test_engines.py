"""The engines behind one interface: engine_for picks one by the settings, each has every member
of Engine, and what they say made a result is what reports and run records said before."""

from __future__ import annotations

import inspect
from typing import get_args

import pytest
from pydantic import ValidationError

from factcheck import weights
from factcheck.engines import ENGINES, Engine, engine_for, provenance_of
from factcheck.engines.llm import LlmEngine
from factcheck.engines.offline import OfflineEngine
from factcheck.models import Article, Claim, Passage, Provenance, Stance
from factcheck.pipeline import check, open_store
from factcheck.prompts import load_prompt
from factcheck.retrieval import Document
from factcheck.runs import Recorder, build_record
from factcheck.settings import EngineName, Settings

SOURCE = Document(id="wire", title="Wire report", url=None, date=None,
                  text="A total of 23 people were killed in the strike, including 15 Russians.")
CLAIM_TEXT = "23 people were killed in the strike."
CLAIM = Claim(id=1, text=CLAIM_TEXT, start=0, end=len(CLAIM_TEXT), checkworthiness=0.9)


def protocol_members() -> dict[str, object]:
    """Engine's members: its annotated attributes, properties and methods."""
    members: dict[str, object] = dict.fromkeys(Engine.__annotations__)
    members.update({name: value for name, value in vars(Engine).items()
                    if not name.startswith("_") and (callable(value) or isinstance(value, property))})
    return members


def test_engine_for_is_offline_without_an_llm_and_llm_with_a_server(openai_server, monkeypatch):
    server, _ = openai_server
    assert isinstance(engine_for(Settings()), OfflineEngine)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")  # the scripted loopback server
    engine = engine_for(Settings())
    assert isinstance(engine, LlmEngine) and engine.name == "llm"
    monkeypatch.setenv("ENGINE", "offline")
    assert engine_for(Settings()).name == "offline"


def test_the_table_names_every_engine_the_settings_accept():
    assert set(ENGINES) == set(get_args(EngineName))
    assert Settings(_env_file=None, engine="auto").engine == "auto"
    with pytest.raises(ValidationError, match="engine"):  # an unknown one, at start-up
        Settings(_env_file=None, engine="nli")
    for name, make in ENGINES.items():
        assert make(Settings(_env_file=None, engine=name)).name == name


@pytest.mark.parametrize("engine_class", list(ENGINES.values()))  # a new row is checked too
def test_each_engine_has_every_member_of_the_protocol_with_its_signature(engine_class):
    engine = engine_class(Settings(_env_file=None, openai_api_key="test"))
    for name, member in protocol_members().items():
        assert hasattr(engine, name), f"{engine_class.__name__} has no {name}"
        if callable(member):
            assert (list(inspect.signature(member).parameters)
                    == list(inspect.signature(getattr(engine_class, name)).parameters)), name
    assert isinstance(engine.name, str) and engine.concurrency >= 1


def test_offline_provenance_is_what_reports_and_run_records_carried(tmp_path):
    settings = Settings()
    store = open_store(settings)
    store.ingest([SOURCE])
    report = check(CLAIM_TEXT, settings, store)
    before = Provenance(engine="offline", embedder=store.embedder_name,
                        model=f"offline-v1 (MiniLM features + rules) weights:{weights.fingerprint()}")
    engine = engine_for(settings)
    assert report.provenance == before == provenance_of(engine, store.embedder_name)
    assert report.usage is None and engine.usage((3, 10, 10)) is None
    record = build_record("stance", {}, settings, {}, Recorder(), (0, 0, 0))
    assert (record.engine, record.model, record.prompts, record.usage) == (
        before.engine, before.model, {}, None)


def test_llm_provenance_is_what_reports_and_run_records_carried(openai_server, tmp_path):
    server, settings = openai_server
    settings = settings.model_copy(update={"data_dir": tmp_path / "data", "min_similarity": 0.0})
    store = open_store(settings)
    store.ingest([SOURCE])
    server.answer({"claims": []})
    report = check(Article(text=CLAIM_TEXT), settings, store)
    before = Provenance(engine="llm", model=settings.llm_model, embedder=store.embedder_name,
                        prompts={name: load_prompt(name).fingerprint
                                 for name in ("claims", "stance")})
    assert report.provenance == before == provenance_of(engine_for(settings),
                                                        store.embedder_name)
    record = build_record("stance", {}, settings, {}, Recorder(), (0, 0, 0))
    assert (record.engine, record.model, record.prompts) == (
        before.engine, before.model, before.prompts)


def test_the_llm_judge_is_its_stance_held_against_the_offline_judge(openai_server):
    server, settings = openai_server
    passage = Passage(id="p", text="Only five people were killed in the strike, officials said.")
    engine = engine_for(settings)
    for _ in range(2):
        server.answer({"judgements": [{"passage": 1, "stance": "SUPPORTS", "confidence": 0.9,
                                       "quote": passage.text}]})
    alone = engine.stance(CLAIM, [passage])
    judged = engine.judge(CLAIM, [passage])
    assert alone[0].stance is Stance.SUPPORTS and alone[0].disagreement is None
    assert judged[0].stance is Stance.NOT_ENOUGH_INFO
    assert judged[0].disagreement.reason == "offline_judge_disagrees"


def test_the_offline_engines_warm_up_loads_its_models_before_the_first_check():
    from factcheck import checkworthiness, judge, offline_stance

    loaders = [judge._shared, checkworthiness._shared_encoder, checkworthiness._model,
               offline_stance._model]
    for loader in loaders:
        loader.cache_clear()
    OfflineEngine(Settings()).warm_up()
    assert [loader.cache_info().currsize for loader in loaders] == [1, 1, 1, 1]
