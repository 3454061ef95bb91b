"""rich is the terminal's: cli/render.py is the one module of the project that imports it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports_rich(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(name == "rich" or name.startswith("rich.") for name in names):
            return True
    return False


def test_only_the_terminal_renderer_imports_rich():
    modules = [p for folder in ("cli", "bot", "factcheck", "retrieval")
               for p in (ROOT / folder).rglob("*.py")]
    assert [str(p.relative_to(ROOT)) for p in modules if _imports_rich(p)] == ["cli/render.py"]
