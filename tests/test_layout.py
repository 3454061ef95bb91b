"""The house rules that are not imports: prompts/ is data, and the size check of .ci/sizes.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKED = "# Long because one table reads best whole."


def _breaches(path: Path) -> list[str]:
    """.ci/sizes.py's findings for one file, without the 'path:line: ' in front."""
    spec = importlib.util.spec_from_file_location("sizes", ROOT / ".ci" / "sizes.py")
    assert spec and spec.loader
    sizes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sizes)
    return [line.split(": ", 1)[1] for line in sizes.breaches(path)]


def _function(lines: int, above: str = "", top: str = "") -> str:
    """A function of `lines` lines with a docstring, a comment above it and one at its top."""
    head = [above, "def long():", '    """Doc."""', top and f"    {top}"]
    body = [f"    x = {i}" for i in range(lines - 2 - bool(top))]
    return "\n".join([line for line in head if line] + body) + "\n"


def test_prompts_folder_holds_no_code() -> None:
    files = [p for p in (ROOT / "prompts").rglob("*") if p.is_file()]
    assert files
    assert [p.name for p in files if p.suffix != ".yaml"] == []


def test_a_function_over_40_lines_needs_the_marker(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    for source, found in [
        (_function(40), []),
        (_function(41), ["long has 41 lines (at most 40 without a '# Long because' comment)"]),
        (_function(41, above=MARKED), []),
        (_function(41, top=MARKED), []),
        (_function(41, top="# long, because"), ["long has 41 lines (at most 40 without a "
                                                 "'# Long because' comment)"]),
    ]:
        path.write_text(source)
        assert _breaches(path) == found, source


def test_a_module_over_400_lines_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n" * 400)
    assert _breaches(path) == []
    path.write_text("x = 1\n" * 401)
    assert _breaches(path) == ["module has 401 lines (at most 400)"]
