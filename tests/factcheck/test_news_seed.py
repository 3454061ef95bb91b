"""The seed article against our own news collection about its event (issue 9).

tests/data/news_seed/expected.jsonl says, per claim (found by words it contains), which verdicts
would be wrong ("never": a lean counts as its label) and which are right ("expect"). The
collection and the expectations were written from the sources' text, never from the engine's
output; tests/data/news_seed/README.md says where each source comes from.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from factcheck.cli import main

ROOT = Path(__file__).resolve().parents[2]
NEWS = ROOT / "tests" / "data" / "news_seed"


@pytest.fixture(scope="module")
def seed_report(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    data = tmp_path_factory.mktemp("news") / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATA_DIR", str(data))
        for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ENGINE", "CHROMA_HOST"):
            patch.delenv(name, raising=False)
        from factcheck.settings import get_settings

        get_settings.cache_clear()
        out = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["ingest", str(NEWS / "sources.jsonl")]) == 0
        with contextlib.redirect_stdout(out):
            assert main(["check", str(ROOT / "examples" / "seed_article.txt"),
                         "--format", "json"]) == 0
        get_settings.cache_clear()
    return json.loads(out.getvalue())["claims"]


def _expectations() -> list:
    """Each expectation; those with "known_failure" (why the engine gets it wrong today) are
    strict xfails, so that a fix shows up as an unexpected pass."""
    lines = (NEWS / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    found = []
    for want in (json.loads(line) for line in lines if line.strip()):
        marks = ([pytest.mark.xfail(strict=True, reason=want["known_failure"])]
                 if "known_failure" in want else [])
        found.append(pytest.param(want, marks=marks, id=" ".join(want["match"])))
    return found


@pytest.mark.parametrize("want", _expectations())
def test_seed_claim_verdict(seed_report: list[dict], want: dict) -> None:
    found = [c for c in seed_report
             if all(w.lower() in c["claim"]["text"].lower() for w in want["match"])]
    if not found and want.get("optional"):
        pytest.skip("claim not extracted")
    assert found, f"no claim mentions {want['match']}"
    verdict = found[0]["verdict"]
    label = verdict["label"]
    assert label not in want.get("never", []), (
        f"{found[0]['claim']['text']!r}: {label} ({verdict['confidence']}) — {want['why']}")
    if "expect" in want:
        assert label in want["expect"], (
            f"{found[0]['claim']['text']!r}: {label}, expected {want['expect']} — {want['why']}")
