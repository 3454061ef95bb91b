"""Prompt files: every shipped one loads; malformed ones fail naming the file; rendering."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from factcheck.prompts import PromptError, load_prompt

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.stem for p in (ROOT / "prompts").glob("*.yaml"))

GOOD = """\
name: greet
version: "2"
description: A test prompt.
variables: [name, tone]
output_schema: Greeting
system: |-
  Be {tone}. Answer in JSON like {{"greeting": "..."}}.
user: "Greet {name}."
examples:
  - input: {name: Ada}
    output: {greeting: Hello Ada}
"""


def write(folder: Path, text: str, name: str = "greet") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_project_ships_a_claims_and_a_stance_prompt():
    assert {"claims", "stance"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_prompt_loads(name):
    prompt = load_prompt(name)
    assert prompt.name == name
    assert prompt.examples, "a prompt without few-shot examples"
    version, digest = prompt.fingerprint.split(":")
    assert version == prompt.version
    raw = (ROOT / "prompts" / f"{name}.yaml").read_bytes()
    assert digest == hashlib.sha256(raw).hexdigest()[:12]


def test_render_gives_system_few_shot_then_user(tmp_path):
    prompt = load_prompt("greet", write(tmp_path, GOOD).parent)
    messages = prompt.render(name="Grace", tone="brief")
    assert messages == [
        ("system", 'Be brief. Answer in JSON like {"greeting": "..."}.'),
        ("user", "Greet Ada."),
        ("assistant", '{"greeting": "Hello Ada"}'),
        ("user", "Greet Grace."),
    ]


def test_render_refuses_missing_or_unknown_variables(tmp_path):
    prompt = load_prompt("greet", write(tmp_path, GOOD).parent)
    with pytest.raises(PromptError, match="tone"):
        prompt.render(name="Grace")
    with pytest.raises(PromptError, match="colour"):
        prompt.render(name="Grace", tone="brief", colour="red")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("Greet {name}.", "Greet {name} {surname}."), "undeclared variable.*surname"),
        (("[name, tone]", "[name, tone, mood]"), "declares variable.*mood.*no template uses"),
        (('version: "2"', 'version: "2"\nauthor: me'), "malformed.*author"),
        (("Greet {name}.", "Greet {name.title}."), "placeholder"),
        (("Greet {name}.", "Greet {name"), "broken template"),
        (("input: {name: Ada}", "input: {who: Ada}"), "example 1"),
        (("name: greet", "name: [greet"), "malformed"),
    ],
    ids=[
        "unknown-variable",
        "unused-variable",
        "unknown-field",
        "attribute",
        "unclosed",
        "example-input",
        "bad-yaml",
    ],
)
def test_a_malformed_prompt_file_is_an_error_naming_the_file(tmp_path, change, message):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(PromptError, match=message) as caught:
        load_prompt("greet", tmp_path)
    assert str(path) in str(caught.value)


def test_a_missing_prompt_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(PromptError, match=r"nothere.yaml"):
        load_prompt("nothere", tmp_path)


def test_fingerprint_follows_the_file_content(tmp_path):
    first = load_prompt("greet", write(tmp_path, GOOD).parent).fingerprint
    write(tmp_path, GOOD.replace("Be {tone}.", "Be very {tone}."))
    second = load_prompt("greet", tmp_path).fingerprint
    assert first.startswith("2:") and second.startswith("2:") and first != second


def test_the_package_config_ships_the_prompt_files():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "factcheck.prompt_files" in config["packages"]
    assert config["package-dir"]["factcheck.prompt_files"] == "prompts"
    patterns = config["package-data"]["factcheck.prompt_files"]
    for name in SHIPPED:
        assert any(Path(f"{name}.yaml").match(pattern) for pattern in patterns)


def test_shipped_prompts_are_found_in_an_installed_copy(tmp_path):
    # As a wheel unpacks it into site-packages: the prompts under factcheck/prompt_files.
    site = tmp_path / "site-packages"
    shutil.copytree(ROOT / "factcheck", site / "factcheck",
                    ignore=shutil.ignore_patterns("*.npz", "__pycache__"))
    shutil.copytree(ROOT / "prompts", site / "factcheck" / "prompt_files")
    installed = site / "factcheck" / "prompt_files" / "claims.yaml"
    installed.write_text(installed.read_text(encoding="utf-8").replace('version: "', 'version: "99.'))
    code = "from factcheck.prompts import load_prompt; print(load_prompt('claims').fingerprint)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(site)}, cwd=tmp_path, check=True)
    assert done.stdout.startswith("99.")


def test_prompts_dir_overrides_the_shipped_prompts(tmp_path):
    text = (ROOT / "prompts" / "stance.yaml").read_text(encoding="utf-8")
    write(tmp_path, text.replace('version: "', 'version: "local.'), name="stance")
    assert load_prompt("stance", tmp_path).fingerprint.startswith("local.")


def test_a_prompts_dir_without_a_file_falls_back_to_the_shipped_one(tmp_path):
    assert load_prompt("claims", tmp_path).fingerprint == load_prompt("claims").fingerprint


def test_a_prompts_dir_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(PromptError, match=r"does not exist.*PROMPTS_DIR"):
        load_prompt("claims", tmp_path / "nowhere")
