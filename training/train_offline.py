"""Train the offline engine's small models and write their weights and metrics.

    python training/train_offline.py --data ../shared/data --out factcheck/weights

The parts: logreg.py (the model), worthiness_fit.py, stance_fit.py and stance_cv.py,
verdict_fit.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled
sys.path.insert(0, str(Path(__file__).resolve().parent))
from disk_cache import FoldJudges, embedding_cache, judge_cache
from stance_cv import train_stance
from verdict_fit import train_verdict
from worthiness_fit import train_checkworthiness

logger = logging.getLogger("train_offline")


def main(argv: list[str] | None = None) -> int:
    """Train both models, print the cross-validated numbers, write weights and metrics.json."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    np.random.seed(args.seed)
    cache, metrics_path = embedding_cache(args.cache), args.out / "metrics.json"
    judges = FoldJudges(args.judge_folds) if args.judge_folds else judge_cache(args.judge_cache)
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    started = time.time()
    if args.only in (None, "checkworthiness"):
        model, metrics["checkworthiness"] = train_checkworthiness(args.data, cache, args.seed)
        np.savez(args.out / "checkworthiness.npz", **model)
    if args.only in (None, "stance"):
        model, metrics["stance"], folds = train_stance(args.data, cache, judges, args.seed,
                                                       feature_sets=args.features,
                                                       setting=args.stance_setting)
        np.savez(args.out / "stance.npz", **model)
        rule, metrics["verdict"] = train_verdict(args.data, cache, judges, folds)
        (args.out / "verdict.json").write_text(json.dumps(rule, indent=2) + "\n")
    metrics["embedder"], metrics["seed"] = "all-MiniLM-L6-v2", args.seed
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    print(json.dumps(_headline(metrics), indent=2))
    logger.info("done in %.0fs", time.time() - started)
    return 0


def _headline(metrics: dict) -> dict:
    check, stance = metrics.get("checkworthiness", {}), metrics.get("stance", {})
    return {
        "checkworthiness_cv_checkthat2019_map": check.get("checkthat2019_map"),
        "checkworthiness_cv_claimbuster_ap": check.get("claimbuster_ap"),
        "stance_cv_abstract_macro_f1": stance.get("abstract_macro_f1"),
        "stance_cv_sentence_macro_f1": stance.get("sentence_macro_f1"),
        "stance_abstract_majority_macro_f1": stance.get("abstract_majority_macro_f1"),
        "verdict_cv_macro_f1": metrics.get("verdict", {}).get("macro_f1"),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("factcheck/weights"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/factcheck-embcache"),
                        help="embeddings of the training texts, kept between runs")
    parser.add_argument("--judge-cache", type=Path, default=Path("/tmp/factcheck-judgecache"),
                        help="the cross-encoder's readings of the training pairs, kept between runs")
    parser.add_argument("--judge-folds", type=Path, default=None,
                        help="read each SciFact claim with the fold judge that never saw it "
                             "(train_judge_scifact.py --folds wrote them here)")
    parser.add_argument("--features", nargs="*", default=None,
                        help="stance feature sets to cross-validate (default: all)")
    parser.add_argument("--stance-setting", default=None,
                        help="cross-validate this one stance setting (a key of metrics.json's "
                             "stance by_setting) instead of the grid")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--only", choices=["checkworthiness", "stance"], default=None)
    return parser


if __name__ == "__main__":
    sys.exit(main())
