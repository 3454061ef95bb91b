"""Command-line wiring of `factcheck eval ...` (the measures live in factcheck.evaluation)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from factcheck import evaluation
from factcheck.settings import Settings


def add_eval_commands(commands: argparse._SubParsersAction) -> None:
    """Add `eval retrieval|stance|checkworthiness|verdicts` to the CLI."""
    parser = commands.add_parser("eval", help="measure quality on labelled JSONL files")
    kinds = parser.add_subparsers(required=True, metavar="KIND")
    specs = {
        "retrieval": (["--corpus", "--claims"], "nDCG@10, recall@5/10, MRR@10 of search"),
        "stance": (["--pairs"], "accuracy and macro-F1 of passage stance"),
        "checkworthiness": (["--sentences"], "MAP and P@10 of claim ranking per group"),
        "verdicts": (["--corpus", "--claims"], "verdict macro-F1 of the whole pipeline"),
    }
    for kind, (files, help_text) in specs.items():
        sub = kinds.add_parser(kind, help=help_text)
        for flag in files:
            sub.add_argument(flag, type=Path, required=True)
        if kind == "retrieval":
            sub.add_argument("--k", type=int, default=10)
            sub.add_argument("--mode", choices=["hybrid", "lexical", "dense"], default="hybrid",
                             help="search mode: hybrid, or one of its halves for comparison")
        sub.add_argument("--engine", choices=["offline", "llm"])
        sub.add_argument("--json", action="store_true", help="print one JSON object")
        sub.set_defaults(run=_run_eval, kind=kind)


def _run_eval(args: argparse.Namespace, settings: Settings) -> int:
    if args.kind == "retrieval":
        result = evaluation.eval_retrieval(args.corpus, args.claims, settings, args.k, args.mode)
    elif args.kind == "stance":
        result = evaluation.eval_stance(args.pairs, settings)
    elif args.kind == "checkworthiness":
        result = evaluation.eval_checkworthiness(args.sentences, settings)
    else:
        result = evaluation.eval_verdicts(args.corpus, args.claims, settings)
    if args.json:
        print(json.dumps(result))
    else:
        _print_table(args.kind, result)
    return 0


def _print_table(kind: str, result: dict) -> None:
    table = Table("measure", "value", title=f"eval {kind}")
    for key, value in result.items():
        if isinstance(value, float):
            table.add_row(key, f"{value:.4f}")
        elif not isinstance(value, dict):
            table.add_row(key, str(value))
    for label, scores in result.get("per_label", {}).items():
        table.add_row(f"{label} F1", f"{scores['f1']:.4f}")
    Console().print(table)
