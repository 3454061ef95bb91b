"""The terminal front: the `factcheck` command (commands, eval, prompts, sources) and the
terminal renderer. It sits above the bot and the core: cli -> bot -> factcheck -> retrieval."""

from factcheck.cli.commands import main

__all__ = ["main"]
