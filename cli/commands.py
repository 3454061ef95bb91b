"""The `factcheck` command: ingest sources, check articles, list sources, evaluate, run the bot.

The CLI is a front: it reads arguments, calls the core (factcheck) and prints; the terminal's
layout is cli.render's."""

from __future__ import annotations

import argparse
import json
import logging
import traceback
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from factcheck import logmask
from factcheck.cli.eval_commands import add_eval_commands
from factcheck.cli.prompt_commands import add_prompt_commands
from factcheck.cli.render import err, plain
from factcheck.cli.source_commands import add_source_commands
from factcheck.display import terminal_safe
from factcheck.engines import ENGINES
from factcheck.errors import BadInputError, FactcheckError
from factcheck.settings import Settings, get_settings

if TYPE_CHECKING:
    from factcheck.history import SQLiteHistory

logger = logging.getLogger(__name__)
DISTRIBUTION = "factcheck-bot"  # pyproject.toml's project name: where --version reads from


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code (0 ok, 2 bad input, 130
    interrupted, 1 other)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "chromadb", "openai", "trafilatura", "pypdf"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.debug else logging.ERROR)
    try:
        settings = _settings(args)
        logmask.install(settings)  # keys and passwords in URLs never reach a log line
        return args.run(args, settings) or 0
    except BadInputError as exc:
        return _fail(args, exc, 2)
    except FactcheckError as exc:
        return _fail(args, exc, 1)
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130  # the shell's code for a program stopped by Ctrl-C
    except OSError as exc:
        if exc.filename is None:
            return _fail(args, exc, 1, prefix=f"unexpected error ({type(exc).__name__}): ")
        return _fail(args, _path_problem(exc), 1)
    except Exception as exc:  # the last line of defence: one readable line, details with --debug
        return _fail(args, exc, 1, prefix=f"unexpected error ({type(exc).__name__}): ")


def _path_problem(exc: OSError) -> FactcheckError:
    """A file or folder the system refused, said as which one and what to check."""
    problem = FactcheckError(f"{exc.filename}: {(exc.strerror or str(exc)).lower()}. Check that "
                             "path and its permissions (DATA_DIR, RUNS_DIR or the file you named)")
    problem.__cause__ = exc  # --debug shows where it came from
    return problem


def _fail(args: argparse.Namespace, exc: BaseException, code: int, prefix: str = "") -> int:
    if args.debug:  # as plain text, masked: vendor errors may quote keys and URLs
        details = "".join(traceback.format_exception(exc))
        err.print(logmask.mask(terminal_safe(details)), markup=False, highlight=False)
    # The message may quote a URL or a file's text: nothing in it is markup or a terminal command.
    err.print(f"[bold red]error:[/] {plain(logmask.mask(terminal_safe(f'{prefix}{exc}')))}", highlight=False)
    return code


def _settings(args: argparse.Namespace) -> Settings:
    settings = get_settings()
    # Command-line flags override the environment for this run only.
    flags = {"engine": "engine", "prompts": "prompts_dir", "model": "llm_model",
             "replay_only": "llm_replay_only"}
    update = {field: getattr(args, flag) for flag, field in flags.items()
              if getattr(args, flag, None)}
    return settings.model_copy(update=update) if update else settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="factcheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    _add_check_command(commands)

    add_source_commands(commands)

    bot = commands.add_parser("bot", help="run the Telegram bot (token from TELEGRAM_BOT_TOKEN)")
    bot.add_argument("--engine", choices=ENGINES, help=f"{' or '.join(ENGINES)} (default: ENGINE)")
    bot.set_defaults(run=_run_bot)

    summary = commands.add_parser("summary", help="what the bot checked over a window, "
                                  "with a chart")
    summary.add_argument("--chat", type=int, metavar="ID",
                         help="one chat's checks (default: every chat)")
    summary.add_argument("--since", default="24h", metavar="24h|7d|N",
                         help="hours, days, or the last N checks (default 24h)")
    summary.add_argument("--chart", type=Path, metavar="FILE.png", help="also draw the chart here")
    summary.add_argument("--engine", choices=ENGINES,
                         help="llm adds a lede written by the model (numbers checked)")
    summary.set_defaults(run=_run_summary)

    feedback = commands.add_parser("feedback", help="export readers' feedback from the bot")
    feedback_actions = feedback.add_subparsers(required=True, metavar="ACTION")
    export = feedback_actions.add_parser("export", help="write corrections as an eval JSONL file")
    export.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="the JSONL file to write (its folder is made if missing)")
    export.add_argument("--format", choices=["claims", "pairs"], default="claims",
                        help="claims (eval verdicts/retrieval) or pairs (eval stance)")
    export.set_defaults(run=_run_feedback_export)

    add_eval_commands(commands)
    add_prompt_commands(commands)
    return parser


def _add_check_command(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser("check", help="check an article: a file, a URL, '-' for stdin, or text")
    check.add_argument("source", help="a .txt .md .html .pdf file, an http(s) URL, '-' to read "
                       "standard input, or the article's text itself")
    check.add_argument("--format", choices=["text", "markdown", "json"], default="text",
                       help="text: coloured panels (default); markdown; json: the report's "
                            "schema (docs/report-schema.md)")
    check.add_argument("--engine", choices=ENGINES, help=f"{' or '.join(ENGINES)} (default: ENGINE)")
    check.add_argument("--history", action=argparse.BooleanOptionalAction,
                       help="keep the check in the desk's history and claim memory (chat id 0, "
                            "'terminal'), answer an article checked before from it and reuse "
                            "remembered results (default: CHECK_HISTORY)")
    check.add_argument("--fresh", action="store_true",
                       help="with --history: check every claim again, reusing nothing")
    check.set_defaults(run=_run_check)


def _version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _run_check(args: argparse.Namespace, settings: Settings) -> int:
    from factcheck import render
    from factcheck.cli.render import print_report, stdout
    from factcheck.desk import check_in_terminal
    from factcheck.intake import read_article
    from factcheck.pipeline import check, open_store
    from factcheck.sources import is_empty

    article = read_article(args.source, settings)  # bad input fails before the store opens
    store = open_store(settings)
    if is_empty(store):
        err.print(f"[bold yellow]warning:[/] the collection {plain(store.location)} is empty, so "
                  "no claim can be supported or contradicted: ingest sources first (`factcheck "
                  "ingest PATH`), or point DATA_DIR or CHROMA_HOST at the collection.",
                  highlight=False)
    if settings.check_history if args.history is None else args.history:
        done = check_in_terminal(article, settings, store, fresh=args.fresh)
        report, notice = done.report, done.notice(settings.timezone)
        if notice:
            err.print(f"{notice} (--fresh checks it again)", highlight=False)
    else:
        report = check(article, settings, store=store)
    if args.format == "json":
        print(render.to_json(report))
    elif args.format == "markdown":
        print(render.to_markdown(report, settings.timezone), end="")
    else:
        print_report(report, stdout(), settings.timezone)
    if not report.claims:
        err.print("No checkable claim was found in this article.")
    return 0


def _existing_history(settings: Settings) -> SQLiteHistory:
    """The bot's history database; a missing file is bad input, not a new empty store."""
    from factcheck.history import history_path, open_history

    if not history_path(settings).is_file():
        raise BadInputError(f"no history at {history_path(settings)}; check HISTORY_DB or DATA_DIR")
    return open_history(settings)


def _run_feedback_export(args: argparse.Namespace, settings: Settings) -> int:
    from factcheck.runs import feedback_rows

    history = _existing_history(settings)
    try:
        rows = feedback_rows(history, args.format)
    finally:
        history.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                        encoding="utf-8")
    err.print(f"Wrote {len(rows)} {args.format} row(s) to {args.out}.", highlight=False)
    return 0


def _run_summary(args: argparse.Namespace, settings: Settings) -> int:
    from factcheck.charts import verdict_chart
    from factcheck.summary import Window, summarize, to_markdown
    from factcheck.summary_lede import lede

    window = Window.parse(args.since)
    history = _existing_history(settings)
    try:
        summary = summarize(history, args.chat, window, settings)
    finally:
        history.close()
    print(to_markdown(summary, lede(summary, settings)), end="")
    if args.chart:
        chart = verdict_chart(summary)
        if chart is None:
            err.print("Nothing to chart in this window; no file written.")
        else:
            args.chart.parent.mkdir(parents=True, exist_ok=True)
            args.chart.write_bytes(chart)
            err.print(f"Chart written to {args.chart}.", highlight=False)
    return 0


def _run_bot(args: argparse.Namespace, settings: Settings) -> int:
    if settings.telegram_bot_token is None:
        err.print("[bold red]error:[/] TELEGRAM_BOT_TOKEN is not set: get a token from "
                  "@BotFather and put it in .env", soft_wrap=True, highlight=False)
        return 2
    from factcheck.bot.app import run

    if not args.debug:  # the operator wants to see the bot start and its errors
        logging.getLogger().setLevel(logging.INFO)
    run(settings)
    return 0

