"""The LLM answer cache: identical requests are answered from disk; replay-only refuses misses."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from factcheck import llm_cache
from factcheck.cli import main
from factcheck.errors import LLMError
from factcheck.llm import judge_llm
from factcheck.models import Claim, Passage

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
PAIRS = DATA / "pairs.jsonl"
N_PAIRS = sum(1 for line in PAIRS.read_text().splitlines() if line.strip())
SUPPORTS = {"judgements": [{"passage": 1, "stance": "SUPPORTS", "confidence": 0.8}]}
CLAIM = Claim(id=1, text="Cats sleep a lot.", start=0, end=17, checkworthiness=1.0)
PASSAGE = Passage(id="p1", text="Cats sleep 15 hours a day.")


@pytest.fixture
def llm_env(openai_server, monkeypatch):
    """The CLI pointed at the scripted server."""
    server, settings = openai_server
    monkeypatch.setenv("OPENAI_BASE_URL", settings.openai_base_url)
    return server


def eval_stance(capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["eval", "stance", "--pairs", str(PAIRS), "--engine", "llm", "--json", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_second_identical_eval_makes_no_request_and_prints_the_same(capsys, llm_env):
    for _ in range(N_PAIRS):
        llm_env.answer(SUPPORTS)
    code, first, _ = eval_stance(capsys)
    assert code == 0 and len(llm_env.chat_requests) == N_PAIRS
    code, second, _ = eval_stance(capsys)
    assert code == 0
    assert len(llm_env.chat_requests) == N_PAIRS  # nothing new reached the server
    assert json.loads(second) == json.loads(first)
    records = sorted(Path("runs").glob("*.json"))
    assert json.loads(records[-1].read_text())["usage"]["calls"] == 0


def test_replay_only_answers_from_the_cache(capsys, llm_env):
    for _ in range(N_PAIRS):
        llm_env.answer(SUPPORTS)
    assert eval_stance(capsys)[0] == 0
    code, out, _ = eval_stance(capsys, "--replay-only")
    assert code == 0 and json.loads(out)["n"] == N_PAIRS
    assert len(llm_env.chat_requests) == N_PAIRS


def test_replay_only_miss_fails_naming_the_example(capsys, llm_env):
    code, out, err = eval_stance(capsys, "--replay-only")
    assert code == 1 and out == ""
    # The first row's failure is the one raised: pool.map yields results in row order.
    assert "example '98-6540064'" in err and "prompt stance" in err
    assert "no cached LLM answer" in err and "--replay-only" in err
    assert llm_env.chat_requests == []


def test_another_model_or_prompt_is_a_miss(openai_server, tmp_path):
    server, settings = openai_server
    server.answer(SUPPORTS)
    judge_llm(CLAIM, [PASSAGE], settings)
    replay = settings.model_copy(update={"llm_replay_only": True})
    assert judge_llm(CLAIM, [PASSAGE], replay)[0].stance.value == "SUPPORTS"
    with pytest.raises(llm_cache.CacheMissError, match="other-model"):
        judge_llm(CLAIM, [PASSAGE], replay.model_copy(update={"llm_model": "other-model"}))
    variant = tmp_path / "variant"
    variant.mkdir()
    shipped = Path(__file__).resolve().parents[2] / "prompts" / "stance.yaml"
    (variant / "stance.yaml").write_text(shipped.read_text().replace("careful", "very careful"))
    with pytest.raises(llm_cache.CacheMissError, match="prompt stance 2:"):
        judge_llm(CLAIM, [PASSAGE], replay.model_copy(update={"prompts_dir": variant}))
    assert len(server.chat_requests) == 1


def test_cache_off_asks_every_time(openai_server):
    server, settings = openai_server
    settings = settings.model_copy(update={"llm_cache": False})
    server.answer(SUPPORTS)
    server.answer(SUPPORTS)
    judge_llm(CLAIM, [PASSAGE], settings)
    judge_llm(CLAIM, [PASSAGE], settings)
    assert len(server.chat_requests) == 2
    assert not llm_cache.cache_path(settings).exists()


def test_only_the_answer_that_validated_is_cached_for_the_request(openai_server):
    server, settings = openai_server
    server.answer("not json")
    server.answer(SUPPORTS)
    first = judge_llm(CLAIM, [PASSAGE], settings)
    replayed = judge_llm(CLAIM, [PASSAGE], settings.model_copy(update={"llm_replay_only": True}))
    assert first == replayed and len(server.chat_requests) == 2
    assert len(llm_cache.cache_for(settings)) == 1


def test_a_failed_run_is_not_replayed_the_next_run_asks_the_healthy_server(openai_server):
    server, settings = openai_server
    for _ in range(settings.llm_max_retries + 1):
        server.answer({"verdicts": "the wrong schema"})
    with pytest.raises(LLMError, match="no usable answer in 3 attempts"):
        judge_llm(CLAIM, [PASSAGE], settings)
    assert len(llm_cache.cache_for(settings)) == 0
    server.answer(SUPPORTS)
    assert judge_llm(CLAIM, [PASSAGE], settings)[0].stance.value == "SUPPORTS"
    assert len(server.chat_requests) == 4  # the second run reached the server


def test_a_cached_answer_that_does_not_validate_is_dropped_and_asked_again(openai_server):
    """A cache written before this rule (or before a schema change) heals itself."""
    server, settings = openai_server
    server.answer(SUPPORTS)
    judge_llm(CLAIM, [PASSAGE], settings)
    with sqlite3.connect(llm_cache.cache_path(settings)) as db:
        db.execute("""UPDATE answers SET answer = '{"judgements": "poisoned"}'""")
    replay = settings.model_copy(update={"llm_replay_only": True})
    with pytest.raises(llm_cache.CacheMissError, match=r"cached LLM answer .* is not usable"):
        judge_llm(CLAIM, [PASSAGE], replay)
    server.answer(SUPPORTS)
    assert judge_llm(CLAIM, [PASSAGE], settings)[0].stance.value == "SUPPORTS"
    assert len(server.chat_requests) == 2
    assert judge_llm(CLAIM, [PASSAGE], replay)[0].stance.value == "SUPPORTS"


def test_the_cache_keeps_at_most_llm_cache_max_mb_dropping_the_oldest(openai_server):
    server, settings = openai_server
    settings = settings.model_copy(update={"llm_cache_max_mb": 0.002})  # 2,000 bytes
    claims = [CLAIM.model_copy(update={"text": f"Cats sleep {n} hours."}) for n in range(12)]
    for claim in claims:
        server.answer(SUPPORTS | {"filler": "x" * 200})
        judge_llm(claim, [PASSAGE], settings)
    cache = llm_cache.cache_for(settings)
    assert 0 < cache.stored_bytes() <= 2000 and 0 < len(cache) < len(claims)
    replay = settings.model_copy(update={"llm_replay_only": True})
    judge_llm(claims[-1], [PASSAGE], replay)  # the newest is kept
    with pytest.raises(llm_cache.CacheMissError):
        judge_llm(claims[0], [PASSAGE], replay)  # the oldest went
    assert len(server.chat_requests) == len(claims)


def test_a_cache_file_without_sizes_gets_them(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE answers (key TEXT PRIMARY KEY, model TEXT NOT NULL, "
                   "prompt TEXT NOT NULL, answer TEXT NOT NULL, "
                   "created TEXT NOT NULL DEFAULT (datetime('now')))")
        key = llm_cache.request_key("m", "1:a", [("user", "x")])
        db.execute("INSERT INTO answers (key, model, prompt, answer) VALUES (?, 'm', '1:a', 'ok')",
                   (key,))
    cache = llm_cache.LLMCache(path)
    assert cache.get("m", "1:a", [("user", "x")]) == "ok" and cache.stored_bytes() > 0


@pytest.mark.parametrize(("other", "same"), [
    (("m", "1:a", [("user", "x")]), True),
    (("n", "1:a", [("user", "x")]), False),
    (("m", "1:b", [("user", "x")]), False),
    (("m", "1:a", [("system", "x")]), False),
    (("m", "1:a", [("user", "x"), ("assistant", "y")]), False),
])
def test_request_key_covers_model_prompt_and_every_message(other, same):
    base = llm_cache.request_key("m", "1:a", [("user", "x")])
    assert (llm_cache.request_key(*other) == base) is same


def test_cache_survives_reopening(tmp_path):
    path = tmp_path / "cache.sqlite"
    llm_cache.LLMCache(path).put("m", "1:a", [("user", "x")], "answer")
    reopened = llm_cache.LLMCache(path)
    assert reopened.get("m", "1:a", [("user", "x")]) == "answer"
    assert reopened.get("m", "1:a", [("user", "y")]) is None
    assert len(reopened) == 1


def test_claims_asked_at_once_open_a_new_cache_file_once(tmp_path):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from factcheck.settings import Settings

    def open_together(settings: Settings, start: Barrier) -> llm_cache.LLMCache | None:
        start.wait()
        return llm_cache.cache_for(settings)

    for n in range(5):  # each a new file: the moment two connections would switch it to WAL
        settings, start = Settings(llm_cache_db=tmp_path / f"cache-{n}.sqlite"), Barrier(8)
        with ThreadPoolExecutor(8) as pool:
            opened = list(pool.map(open_together, [settings] * 8, [start] * 8))
        assert len({id(cache) for cache in opened}) == 1 and opened[0] is not None
