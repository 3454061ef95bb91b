import json
from pathlib import Path

from factcheck.models import Report

ROOT = Path(__file__).resolve().parents[2]


def test_published_json_schema_is_current():
    published = json.loads((ROOT / "docs" / "report-schema.json").read_text())
    assert published == Report.model_json_schema(), "run: python -m factcheck.models > docs/report-schema.json"


def test_schema_top_level_keys_are_the_contract():
    properties = Report.model_json_schema()["properties"]
    assert {"claims", "internal_contradictions", "provenance", "article"} <= set(properties)
