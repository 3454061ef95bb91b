"""Command-line wiring of `factcheck eval ...` (the measures live in factcheck.evaluation)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from factcheck import claim_eval, cost, evaluation, runs
from factcheck.cli.render import stage_bars, stdout, table
from factcheck.engines import ENGINES
from factcheck.eval_corpus import EvalProgress
from factcheck.settings import Settings

_FILE_HELP = {
    "--corpus": "JSONL of the source documents to search (one {id, title, text} a line)",
    "--claims": "JSONL of labelled claims (id, claim, label, gold document ids)",
    "--pairs": "JSONL of labelled claim-passage pairs (claim, passage, label)",
    "--sentences": "JSONL of sentences labelled check-worthy or not, in groups",
    "--labels": "JSONL of article sentences labelled claim or not and self-contained or not "
                "(tests/data/claim_set/labels.jsonl)",
}


_MEASURES = {  # kind: (its data files, what it measures)
    "retrieval": (["--corpus", "--claims"], "nDCG@10, recall@5/10, MRR@10 of search"),
    "stance": (["--pairs"], "accuracy and macro-F1 of passage stance"),
    "checkworthiness": (["--sentences"], "MAP and P@10 of claim ranking per group"),
    "verdicts": (["--corpus", "--claims"], "verdict macro-F1 of the whole pipeline"),
    "scifact": (["--corpus", "--claims"],
                "SciFact's abstract-level P/R/F1, label only and label + rationale"),
    "claims": (["--labels"], "claim extraction: precision/recall of 'is a claim', "
                             "self-contained and atomic shares (tests/data/claim_set)"),
}


def add_eval_commands(commands: argparse._SubParsersAction) -> None:
    """Add `eval retrieval|stance|checkworthiness|verdicts|scifact|claims|compare` to the CLI."""
    parser = commands.add_parser("eval", help="measure quality on labelled JSONL files")
    kinds = parser.add_subparsers(required=True, metavar="KIND")
    for kind, (files, help_text) in _MEASURES.items():
        _add_measure(kinds.add_parser(kind, help=help_text), kind, files)
    compare = kinds.add_parser("compare", help="two run records side by side, and what changed")
    compare.add_argument("run_a", type=Path, metavar="RUN_A",
                         help="the earlier run record (a JSON file under RUNS_DIR)")
    compare.add_argument("run_b", type=Path, metavar="RUN_B",
                         help="the later run record, compared with RUN_A")
    compare.add_argument("--json", action="store_true", help="print one JSON object")
    compare.set_defaults(run=_run_compare)


def _add_measure(sub: argparse.ArgumentParser, kind: str, files: list[str]) -> None:
    for flag in files:
        sub.add_argument(flag, type=Path, required=True, metavar="FILE", help=_FILE_HELP[flag])
    if kind == "scifact":
        sub.add_argument("--rationales", type=Path, metavar="PAIRS",
                         help="sentence pairs '<claim>-<doc>-<i>' marking rationale "
                              "sentences (SciFact's sentence_pairs_train.jsonl)")
    if kind == "retrieval":
        sub.add_argument("--mode", choices=["hybrid", "lexical", "dense"], default="hybrid",
                         help="search mode: hybrid, or one of its halves for comparison")
    sub.add_argument("--engine", choices=ENGINES,
                     help=f"{' or '.join(ENGINES)} (default: ENGINE)")
    sub.add_argument("--model", help="LLM model for this run (default: LLM_MODEL)")
    sub.add_argument("--prompts", type=Path, metavar="DIR",
                     help="a folder of prompt variants (missing files: the shipped ones)")
    sub.add_argument("--replay-only", action="store_true",
                     help="answer only from the LLM cache; a miss is an error")
    sub.add_argument("--json", action="store_true", help="print one JSON object")
    sub.set_defaults(run=_run_eval, kind=kind, files=files)


def _run_eval(args: argparse.Namespace, settings: Settings) -> int:
    files = {flag.lstrip("-"): getattr(args, flag.lstrip("-")) for flag in args.files}
    before = cost.usage.snapshot()
    recorder = runs.Recorder()
    with stage_bars() as progress:
        result = _measure(args, settings, recorder, progress)
    options = {"mode": args.mode} if args.kind == "retrieval" else {}
    record = runs.build_record(args.kind, files, settings, result, recorder, before, options)
    path = runs.save_run(record, settings.runs_dir)
    # stdout is the evaluation contract; the record's path goes to stderr.
    print(f"run saved: {path}", file=sys.stderr)
    if args.json:
        print(json.dumps(result))
    else:
        _print_table(args.kind, result)
    return 0


def _measure(
    args: argparse.Namespace, settings: Settings, recorder: runs.Recorder,
    progress: EvalProgress | None,
) -> dict:
    if args.kind == "retrieval":
        return evaluation.eval_retrieval(
            args.corpus, args.claims, settings, args.mode, recorder, progress
        )
    if args.kind == "stance":
        return evaluation.eval_stance(args.pairs, settings, recorder, progress)
    if args.kind == "checkworthiness":
        return evaluation.eval_checkworthiness(args.sentences, settings, recorder, progress)
    if args.kind == "claims":
        return claim_eval.eval_claims(args.labels, settings, recorder, progress)
    if args.kind == "scifact":
        return evaluation.eval_scifact(args.corpus, args.claims, settings, args.rationales,
                                       recorder, progress)
    return evaluation.eval_verdicts(args.corpus, args.claims, settings, recorder, progress)


def _run_compare(args: argparse.Namespace, settings: Settings) -> int:
    diff = runs.compare_runs(runs.load_run(args.run_a), runs.load_run(args.run_b))
    if args.json:
        print(json.dumps(diff))
        return 0
    console = stdout()
    metrics = table("measure", "A", "B", "delta", title=f"{args.run_a.name} -> {args.run_b.name}")
    for key, row in diff["metrics"].items():
        metrics.add_row(key, _number(row["before"]), _number(row["after"]),
                        _number(row["delta"], signed=True))
    console.print(metrics)
    changed = table("id", "gold", "A", "B", title=f"{len(diff['changed'])} prediction(s) changed")
    for row in diff["changed"]:
        # Green: the edit fixed it; red: the edit broke it.
        style = "green" if row["after"] == row["gold"] else (
            "red" if row["before"] == row["gold"] else None)
        changed.add_row(*(str(row[k]) for k in ("id", "gold", "before", "after")), style=style)
    console.print(changed)
    for warning in diff["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}")
    return 0


def _number(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}" if isinstance(value, float) else str(value)


def _print_table(kind: str, result: dict) -> None:
    measures = table("measure", "value", title=f"eval {kind}")
    for key, value in result.items():
        if isinstance(value, float):
            measures.add_row(key, f"{value:.4f}")
        elif not isinstance(value, dict):
            measures.add_row(key, str(value))
    for label, scores in result.get("per_label", {}).items():
        measures.add_row(f"{label} F1", f"{scores['f1']:.4f}")
    stdout().print(measures)
