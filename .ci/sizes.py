"""The size rule: no module over 400 lines, no function over 40 unless it says why.

A function may run longer when a comment starting `# Long because` sits directly above its
`def` (among its decorators and comments) or at the top of its body, before its first
statement after the docstring. A function's length is its lines from `def` to its last line.

    .venv/bin/python .ci/sizes.py            # checks the folders below; exit 1 on a breach
    .venv/bin/python .ci/sizes.py PATH...    # checks those files or folders instead
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

FOLDERS = ["factcheck", "bot", "retrieval", "cli", "training", "bench", "tests/fakes"]
MAX_MODULE = 400
MAX_FUNCTION = 40
MARKER = "# Long because"


def breaches(path: Path) -> list[str]:
    """What in one file breaks the rule, as 'path:line: what' lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    if len(lines) > MAX_MODULE:
        found.append(f"{path}:1: module has {len(lines)} lines (at most {MAX_MODULE})")
    for node in ast.walk(ast.parse("\n".join(lines), filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION and not _explained(node, lines):
                found.append(f"{path}:{node.lineno}: {node.name} has {length} lines "
                             f"(at most {MAX_FUNCTION} without a '{MARKER}' comment)")
    return found


def _explained(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> bool:
    top = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1  # 0-based
    while top > 0 and lines[top - 1].lstrip().startswith(("#", "@")):
        top -= 1
    body = node.body
    has_docstring = (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                     and isinstance(body[0].value.value, str))
    first = body[1] if has_docstring and len(body) > 1 else body[0]
    return any(line.lstrip().startswith(MARKER) for line in lines[top:first.lineno])


def python_files(targets: list[str]) -> list[Path]:
    """The .py files under the targets (files or folders); missing folders are skipped."""
    files: list[Path] = []
    for target in map(Path, targets):
        files.extend([target] if target.is_file() else sorted(target.rglob("*.py")))
    return files


def main(argv: list[str]) -> int:
    found = [line for path in python_files(argv or FOLDERS) for line in breaches(path)]
    print("\n".join(found) or "sizes: every module and function within the rule")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
