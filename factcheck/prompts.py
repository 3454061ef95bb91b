"""Prompt files: one YAML file per LLM step, checked when loaded, rendered into chat messages.

Templates use str.format placeholders (`{article}`); write `{{` and `}}` for literal braces.
The shipped files are the repository's prompts/ folder, installed as factcheck/prompt_files
(pyproject.toml's package-dir), so they are found from a wheel as well as from a clone;
PROMPTS_DIR overrides them.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from factcheck.errors import FactcheckError

Role = Literal["system", "user", "assistant"]
# The data markers of the shipped prompts (<article>, <claim>, <passage ...>, <facts>), opening
# or closing.
_MARKER = re.compile(r"</?\s*(?:article|claim|passage|facts)\b", re.IGNORECASE)


class PromptError(FactcheckError):
    """A prompt file is missing or malformed, or was rendered with the wrong variables."""


class Example(BaseModel):
    """One few-shot pair: the variables of the user message, and the JSON answer expected."""

    model_config = ConfigDict(extra="forbid")

    input: dict[str, Any]
    output: dict[str, Any]


class Prompt(BaseModel):
    """A prompt file's content, plus its fingerprint for the report's provenance."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    description: str
    variables: list[str]
    system: str
    user: str
    examples: list[Example] = Field(default_factory=list)
    output_schema: str = Field(description="Name of the pydantic model the answer must fit.")
    fingerprint: str = Field("", description="'version:sha256 prefix' of the file; set on load.")

    def render(self, **variables: Any) -> list[tuple[Role, str]]:
        """System message, few-shot turns, then the user message, with `variables` filled in."""
        _check_given(self, variables, "render()")
        messages: list[tuple[Role, str]] = [("system", self.system.format(**variables))]
        for example in self.examples:
            messages.append(("user", self.user.format(**example.input)))
            messages.append(("assistant", json.dumps(example.output, ensure_ascii=False)))
        messages.append(("user", self.user.format(**variables)))
        return messages


def as_data(text: str) -> str:
    """Text to go between the prompts' data markers: a marker inside it is defused (its "<"
    becomes "‹"), so that an article or a source cannot close its block and write outside it."""
    return _MARKER.sub(lambda m: "‹" + m.group(0)[1:], text)


def load_prompt(name: str, prompts_dir: Path | None = None) -> Prompt:
    """Load and check prompt `name` from `prompts_dir`, else from the shipped prompts."""
    path = _locate(name, prompts_dir)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PromptError(
            f"prompt file {path} cannot be read ({exc.strerror}); check PROMPTS_DIR"
        ) from exc
    try:
        data = yaml.safe_load(raw)
        prompt = Prompt.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise PromptError(f"prompt file {path} is malformed: {_first_line(exc)}") from exc
    _check_file(prompt, path)
    digest = hashlib.sha256(raw).hexdigest()[:12]
    return prompt.model_copy(update={"fingerprint": f"{prompt.version}:{digest}"})


def shipped_prompts_dir() -> Path | None:
    """The folder of the shipped prompt files: factcheck/prompt_files in an installed wheel,
    the repository's prompts/ beside factcheck/ in a clone or an editable install (a data
    folder under another package's name is not importable there, so it is found by path)."""
    package = Path(__file__).resolve().parent
    return next((d for d in (package / "prompt_files", package.parent / "prompts")
                 if d.is_dir()), None)


def _locate(name: str, prompts_dir: Path | None) -> Path:
    filename = f"{name}.yaml"
    if prompts_dir is not None:
        if not Path(prompts_dir).is_dir():
            raise PromptError(f"prompts folder {prompts_dir} does not exist; check PROMPTS_DIR")
        # A folder may override some prompts only; the others come from the shipped ones.
        if (Path(prompts_dir) / filename).is_file():
            return Path(prompts_dir) / filename
    shipped = shipped_prompts_dir()
    if shipped is None:
        raise PromptError(
            "the shipped prompts are not installed; reinstall the package or set PROMPTS_DIR"
        )
    if not (shipped / filename).is_file():
        where = f"in {prompts_dir} or " if prompts_dir is not None else ""
        raise PromptError(f"no prompt named {name!r} (no {filename} {where}among the shipped "
                          "prompts); `factcheck prompts list` shows the names")
    return shipped / filename


def _placeholders(template: str, path: Path) -> set[str]:
    names = set()
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise PromptError(f"prompt file {path} has a broken template: {exc}") from exc
    for field in fields:
        if not field.isidentifier():
            raise PromptError(
                f"prompt file {path} has placeholder {{{field}}}; use plain names like "
                "{article}, and {{ }} for literal braces"
            )
        names.add(field)
    return names


def _check_file(prompt: Prompt, path: Path) -> None:
    declared = set(prompt.variables)
    used = _placeholders(prompt.system, path) | _placeholders(prompt.user, path)
    if undeclared := used - declared:
        raise PromptError(
            f"prompt file {path} uses undeclared variable(s) {sorted(undeclared)}; "
            "add them to 'variables' or remove the placeholders"
        )
    if unused := declared - used:
        raise PromptError(
            f"prompt file {path} declares variable(s) {sorted(unused)} that no template uses"
        )
    user_vars = _placeholders(prompt.user, path)
    for number, example in enumerate(prompt.examples, start=1):
        if set(example.input) != user_vars:
            raise PromptError(
                f"prompt file {path}: example {number} gives {sorted(example.input)}, "
                f"but the user template needs exactly {sorted(user_vars)}"
            )


def _check_given(prompt: Prompt, given: dict[str, Any], where: str) -> None:
    if set(given) != set(prompt.variables):
        raise PromptError(
            f"prompt {prompt.name!r}: {where} got {sorted(given)}, "
            f"but the file declares {sorted(prompt.variables)}"
        )


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
