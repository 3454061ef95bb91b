"""Every command's --help says what each of its arguments does, and --version answers."""

from __future__ import annotations

import argparse
import subprocess
import sys

from factcheck.cli.commands import _parser


def _commands(parser: argparse.ArgumentParser, name: str = "factcheck"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _commands(sub, f"{name} {sub_name}")


def test_every_argument_of_every_command_has_help():
    missing = [f"{name}: {action.dest}" for name, parser in _commands(_parser())
               for action in parser._actions
               if not isinstance(action, argparse._SubParsersAction) and not action.help]
    assert missing == []


def test_version_and_python_m_factcheck():
    done = subprocess.run([sys.executable, "-m", "factcheck", "--version"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("factcheck 0.")
