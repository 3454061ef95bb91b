"""`factcheck prompts list|show|render`: see the prompt files and exactly what the model is sent."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from factcheck.cli.render import stdout, table
from factcheck.errors import BadInputError
from factcheck.models import Passage
from factcheck.prompts import Prompt, load_prompt, shipped_prompts_dir
from factcheck.settings import Settings


def add_prompt_commands(commands: argparse._SubParsersAction) -> None:
    """Add `prompts list|show NAME|render NAME --input FILE` to the CLI."""
    parser = commands.add_parser("prompts", help="list, show and render the LLM prompt files")
    actions = parser.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="prompt names, versions and fingerprints")
    listing.set_defaults(run=_run_list)
    show = actions.add_parser("show", help="print a prompt file as it is loaded")
    show.add_argument("name", help="the prompt's name, as `prompts list` shows it")
    show.set_defaults(run=_run_show)
    render = actions.add_parser("render", help="print the chat messages the model would be sent")
    render.add_argument("name", help="the prompt's name, as `prompts list` shows it")
    render.add_argument("--input", type=Path, required=True, metavar="FILE",
                        help="JSON of the prompt's variables (for claims: a plain-text article)")
    render.set_defaults(run=_run_render)
    for sub in (listing, show, render):
        sub.add_argument("--prompts", type=Path, metavar="DIR",
                         help="a folder of prompt variants (missing files: the shipped ones)")


def prompt_names(prompts_dir: Path | None) -> list[str]:
    """Names of the shipped prompts and of those in `prompts_dir`, sorted."""
    folders = [d for d in [shipped_prompts_dir()] if d is not None]
    if prompts_dir is not None and Path(prompts_dir).is_dir():
        folders.append(Path(prompts_dir))
    return sorted({path.stem for folder in folders for path in folder.glob("*.yaml")})


def render_input(prompt: Prompt, path: Path, settings: Settings) -> list[dict[str, str]]:
    """The messages `prompt` sends for the variables in `path`, as role/content dicts."""
    from factcheck.llm import step_messages  # the LLM stack loads only for this command

    variables = _read_variables(prompt, path, settings)
    return [{"role": role, "content": text} for role, text in step_messages(prompt, **variables)]


def _run_list(args: argparse.Namespace, settings: Settings) -> int:
    listing = table("name", "version", "fingerprint", "description", title="prompts")
    for name in prompt_names(_folder(args, settings)):
        prompt = load_prompt(name, _folder(args, settings))
        listing.add_row(name, prompt.version, prompt.fingerprint, " ".join(prompt.description.split()))
    stdout().print(listing)
    return 0


def _run_show(args: argparse.Namespace, settings: Settings) -> int:
    prompt = load_prompt(args.name, _folder(args, settings))
    print(json.dumps(prompt.model_dump(), indent=2, ensure_ascii=False))
    return 0


def _run_render(args: argparse.Namespace, settings: Settings) -> int:
    prompt = load_prompt(args.name, _folder(args, settings))
    print(json.dumps(render_input(prompt, args.input, settings), indent=2, ensure_ascii=False))
    return 0


def _folder(args: argparse.Namespace, settings: Settings) -> Path | None:
    return args.prompts or settings.prompts_dir


def _read_variables(prompt: Prompt, path: Path, settings: Settings) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInputError(f"{path}: cannot be read ({exc.strerror})") from exc
    if prompt.name == "claims" and not text.lstrip().startswith("{"):
        # The claims step is fed the article itself; the cap comes from the settings as in a check.
        return {"article": text, "max_claims": settings.max_claims}
    try:
        variables = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{path}: not JSON ({exc.msg}); give the prompt's variables") from exc
    if not isinstance(variables, dict):
        raise BadInputError(f"{path}: give a JSON object of the prompt's variables")
    if isinstance(variables.get("passages"), list):
        variables["passages"] = _passages(variables["passages"])
    return variables


def _passages(passages: list[Any]) -> list[Passage]:
    """A JSON list of passages (texts or Passage-like dicts) as the stance step's Passages."""
    return [Passage(id=str(n), text=p) if isinstance(p, str) else Passage.model_validate(
        {"id": str(n)} | p) for n, p in enumerate(passages, start=1)]
