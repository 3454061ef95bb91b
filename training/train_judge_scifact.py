"""The judge's second stage: the first-stage judge fine-tuned on SciFact's claim-sentence pairs.

    pip install torch==2.13.0     # the CPU build; training only, never at run time
    mkdir -p /tmp/stage1 && python training/train_judge.py --out /tmp/stage1 && cp /tmp/stage1/judge.npz /tmp/judge-stage1.npz
    nice -n 19 python training/train_judge_scifact.py --folds all    # one judge per stance fold
    nice -n 19 python training/train_offline.py --only stance --judge-folds /tmp/factcheck-judge-folds
    nice -n 19 python training/train_judge_scifact.py --final        # ships judge.npz

The first stage (train_judge.py) never sees SciFact, so SciFact numbers are out of domain for
it. This stage goes on from its weights (--first-stage) with SciFact's rationale and non-rationale sentences
(sentence_pairs_train) mixed with as many of the first stage's own pairs (so it does not forget
them). To keep the stance and verdict cross-validation honest, --folds trains one judge per
stance fold, each without that fold's claims; train_offline --judge-folds then reads every claim
with the judge that never saw it, and the stance and verdict models are fitted on those
out-of-fold readings (the readings the shipped judge gives claims it has never seen).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled
sys.path.insert(0, str(Path(__file__).resolve().parent))
from judge_data import Pair, build
from stance_cv import claim_folds
from stance_fit import load_sentence_groups, load_split_passages
from train_judge import TRAINED_FROM, encode, native_bf16, tokenizer, train

logger = logging.getLogger("train_judge_scifact")

K = 5  # stance_cv's fold count


def scifact_pairs(data: Path, seed: int) -> tuple[list[Pair], dict[str, int]]:
    """Every SciFact training sentence as a (claim, sentence) pair, and each claim's stance fold."""
    train, split = load_sentence_groups(data), load_split_passages(data)
    fold_of = claim_folds(train + split, K, seed)
    pairs = [Pair(p.claim, s, label, "scifact", False)
             for p in train for s, label in zip(p.sentences, p.labels)]
    return pairs, fold_of


def first_stage(base: dict[str, np.ndarray], path: Path):
    """The first stage's judge (train_judge.py's judge.npz at path) as a trainable torch model."""
    import torch
    from cross_encoder import from_base, key_map

    from factcheck import weights

    model = from_base(base, TRAINED_FROM, 0)
    trained = weights.load_arrays(str(path.resolve()))  # an absolute path: read from there
    state = model.state_dict()
    for ours, theirs in [*key_map().items(), ("head.weight", "head.weight"),
                         ("head.bias", "head.bias")]:
        if theirs in trained:
            state[ours] = torch.from_numpy(trained[theirs].astype(np.float32))
    model.load_state_dict(state)
    return model


def fine_tune(pairs: list[Pair], replay: list[Pair], base: dict, args) -> dict[str, np.ndarray]:
    """The first-stage judge trained on pairs plus as many replayed first-stage pairs."""
    from cross_encoder import shipped

    rng = random.Random(args.seed)
    mixed = pairs + rng.sample(replay, min(len(replay), int(args.replay * len(pairs))))
    model = first_stage(base, args.first_stage)
    train(model, encode(tokenizer(), mixed), [p.label for p in mixed], args)
    logger.info("trained on %d pairs in %ss", len(mixed), args.train_seconds)
    return {k: v.astype(np.float16) for k, v in shipped(model, TRAINED_FROM).items()}


def main(argv: list[str] | None = None) -> int:
    """Fold judges (--folds) into --fold-dir, or the final judge (--final) into --out."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    import torch

    from factcheck.judge import base_weights

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    if args.bf16 is None:
        args.bf16 = native_bf16()
    pairs, fold_of = scifact_pairs(args.data, args.seed)
    replay, held = build(args.data / "nli", args.seed)
    base = base_weights()
    chosen = [] if args.folds == "none" else (
        range(K) if args.folds == "all" else [int(f) for f in args.folds.split(",")])
    for f in chosen:
        mine = [p for p in pairs if fold_of[p.claim] != f]
        args.fold_dir.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.fold_dir / f"judge-{f}.npz", **fine_tune(mine, replay, base, args))
        (args.fold_dir / "fold_of.json").write_text(json.dumps(fold_of))
    if args.final:
        np.savez_compressed(args.out / "judge.npz", **fine_tune(pairs, replay, base, args))
        _write_metrics(args, len(pairs))
    if args.final or args.measure:
        _write_held_out(args, held)
    return 0


def _write_held_out(args: argparse.Namespace, held: list[Pair]) -> None:
    """The first stage's held-out numbers (claims and files never trained on), for --out's judge."""
    from train_judge import held_out_report

    from factcheck.judge import CrossEncoderJudge

    judge = CrossEncoderJudge(weights_file=str((args.out / "judge.npz").resolve()))
    report = held_out_report(held, judge.probabilities([(p.claim, p.evidence) for p in held]))
    metrics_path = args.out / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics["judge"]["held_out_before_scifact_stage"] = metrics["judge"].get(
        "held_out_before_scifact_stage", metrics["judge"]["held_out"])
    metrics["judge"]["held_out"] = report
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    print(json.dumps(report, indent=2))


def _write_metrics(args: argparse.Namespace, scifact_pairs: int) -> None:
    metrics_path = args.out / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics["judge"]["scifact_stage"] = {
        "trained_on": {"scifact sentence_pairs_train": "CC BY 4.0 claims, ODC-By 1.0 abstracts"},
        "scifact_pairs": scifact_pairs, "replayed_share": args.replay,
        "trained_pairs": args.trained_pairs, "train_seconds": args.train_seconds,
        "settings": {"epochs": args.epochs, "batch": args.batch, "lr": args.lr,
                     "seed": args.seed, "bf16": args.bf16}}
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("factcheck/weights"))
    parser.add_argument("--fold-dir", type=Path, default=Path("/tmp/factcheck-judge-folds"),
                        help="where the fold judges and each claim's fold are written")
    parser.add_argument("--folds", default="none", help="'all', 'none' or fold numbers: 0,3")
    parser.add_argument("--final", action="store_true", help="train on every claim and ship")
    parser.add_argument("--first-stage", type=Path, default=Path("/tmp/judge-stage1.npz"),
                        help="the judge.npz that train_judge.py wrote (never the shipped one: "
                             "that is this script's output)")
    parser.add_argument("--measure", action="store_true",
                        help="only measure --out's judge on the first stage's held-out pairs")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--replay", type=float, default=1.0,
                        help="first-stage pairs mixed in, as a multiple of the SciFact pairs")
    parser.add_argument("--minutes", type=float, default=60.0, help="stop training after this")
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None)
    return parser


if __name__ == "__main__":
    sys.exit(main())
