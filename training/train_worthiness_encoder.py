"""Fine-tune MiniLM's top layers as a check-worthiness classifier, on the logistic scorer's folds.

    pip install torch==2.13.0     # the CPU build; training only, never at run time
    nice -n 19 python training/train_worthiness_encoder.py --folds 0 --epochs 1   # a probe
    nice -n 19 python training/train_worthiness_encoder.py --folds all             # grouped CV
    nice -n 19 python training/train_worthiness_encoder.py --folds none --final    # ship

The packaged all-MiniLM-L6-v2 reads one sentence (cut at 64 tokens); a linear head on the mean
of its last layer gives one logit. All six layers are trained by default; layers below
--trained-from stay as packaged, their output computed once and kept on disk.
Folds, data and class weights are worthiness_fit's (CheckThat! 2019 by transcript, ClaimBuster in
id blocks, both sets weighted alike, classes rebalanced at the shipped setting's power), so the
out-of-fold numbers compare with the shipped logistic scorer's fold by fold; the scorer shipped
is a blend of both logits, its weight chosen on those out-of-fold scores.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled
sys.path.insert(0, str(Path(__file__).resolve().parent))
from logreg import grouped_folds
from train_judge import batches, native_bf16
from worthiness_fit import (
    WorthinessData,
    load_worthiness,
    mean_average_precision,
    out_of_fold_scores,
    worthiness_measures,
)

from factcheck.metrics import average_precision

logger = logging.getLogger("train_worthiness_encoder")

K = 5  # worthiness_fit's fold count
BLENDS = (0.0, 0.25, 0.5, 0.75, 1.0)  # weight of the encoder's logit; the rest is the logistic's
# Chosen among those that keep a logistic share: score() uses the embeddings it is given, and the
# cheap features (a number, a name, first person) are the part meant to carry across domains.
CHOSEN_AMONG = BLENDS[:-1]


def lower_states(model, texts: list[str], args) -> list:
    """Each sentence's states after the frozen layers (fp16), computed once and kept on disk."""
    import torch

    from factcheck.judge import pair_tokenizer

    path = args.cache / f"lower-{args.trained_from}-{args.max_tokens}-{len(texts)}.pt"
    if path.exists():
        return torch.load(path)
    encodings = pair_tokenizer(args.max_tokens).encode_batch(texts)
    states, started = [None] * len(texts), time.time()
    model.eval()
    with torch.no_grad():
        for index in batches([len(e.ids) for e in encodings], 64, random.Random(0)):
            ids = _pad([torch.tensor(encodings[i].ids) for i in index])
            mask = (ids != 0).long()  # [PAD] is id 0 and never inside a sentence
            x = model.encode(model.embed(ids, torch.zeros_like(ids)), mask, 0, args.trained_from)
            for row, i in enumerate(index):
                states[i] = x[row, : len(encodings[i].ids)].half().clone()
    logger.info("lower layers over %d sentences in %.0fs", len(texts), time.time() - started)
    args.cache.mkdir(parents=True, exist_ok=True)
    torch.save(states, path)
    return states


def _pad(rows: list):
    import torch

    return torch.nn.utils.rnn.pad_sequence(rows, batch_first=True)


def padded(states: list, index: list[int]):
    """A batch of kept states, zero-padded, with its attention mask."""
    import torch

    x = _pad([states[i].float() for i in index])
    mask = torch.zeros(x.shape[:2], dtype=torch.long)
    for row, i in enumerate(index):
        mask[row, : len(states[i])] = 1
    return x, mask


def fresh_model(base: dict, args):
    """The packaged MiniLM with a one-logit head; only layers from --trained-from on learn."""
    import torch
    from cross_encoder import HIDDEN, from_base

    model = from_base(base, args.trained_from, args.seed)
    model.head = torch.nn.Linear(HIDDEN, 1)
    torch.nn.init.normal_(model.head.weight, std=0.02)
    torch.nn.init.zeros_(model.head.bias)
    model.token_type.weight.requires_grad = False  # runs in the kept lower part
    return model


def logits_of(model, states: list, rows: np.ndarray, args):
    """The model's logit per row; model.train() before for a gradient, eval() for scores."""
    return _logits(model, *padded(states, list(rows)), args)


def _logits(model, x, mask, args):
    """The logit of each padded row of lower-layer states."""
    return model.classify(model.encode(x, mask, args.trained_from, 6), mask)[:, 0]


def train(model, states: list, y: np.ndarray, w: np.ndarray, rows: np.ndarray, args) -> float:
    """AdamW (the head at 20x the layers' rate), warm-up then cosine decay; weighted BCE."""
    import torch
    from cross_encoder import lr_lambda

    rng = random.Random(args.seed)
    plan = [rows[b] for _ in range(args.epochs)
            for b in batches([len(states[i]) for i in rows], args.batch, rng)]
    head = list(model.head.parameters())
    layers = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("layers")]
    optimizer = torch.optim.AdamW([{"params": layers, "lr": args.lr},
                                   {"params": head, "lr": 20 * args.lr}], weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(len(plan), len(plan) // 20))
    target, weight = torch.tensor(y, dtype=torch.float32), torch.tensor(w / w[rows].mean())
    model.train()
    started, running = time.time(), 0.0
    for step, index in enumerate(plan):
        x, mask = padded(states, list(index))
        x.requires_grad_(args.adversarial > 0)
        loss = _loss(model, x, mask, target[index], weight[index], args)
        loss.backward()
        if args.adversarial > 0:  # FGM: the same batch again, each token pushed up its loss
            push = x.grad / x.grad.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            _loss(model, (x + args.adversarial * push).detach(), mask, target[index],
                  weight[index], args).backward()
        torch.nn.utils.clip_grad_norm_(layers + head, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running = 0.98 * running + 0.02 * loss.item()
        if step % 100 == 0:
            logger.info("step %d/%d loss %.3f (%.0fs)", step, len(plan), running,
                        time.time() - started)
    return time.time() - started


def _loss(model, x, mask, target, weight, args):
    """Weighted binary cross-entropy of a padded batch of lower-layer states."""
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
        logits = _logits(model, x, mask, args).float()
    return (torch.nn.functional.binary_cross_entropy_with_logits(
        logits, target, reduction="none") * weight.float()).mean()


def predict(model, states: list, rows: np.ndarray, args) -> np.ndarray:
    """fp32 logits of rows (as onnxruntime will compute them)."""
    import torch

    model.eval()
    out = np.zeros(len(rows), dtype=np.float32)
    with torch.no_grad():
        for b in batches([len(states[i]) for i in rows], 128, random.Random(0)):
            out[b] = logits_of(model, states, rows[b], args).numpy()
    return out


def baseline_logits(d: WorthinessData, args) -> np.ndarray:
    """Out-of-fold logits of the shipped logistic scorer's recipe, on the same folds."""
    from disk_cache import embedding_cache

    from factcheck import checkworthiness

    chosen = json.loads((args.out / "metrics.json").read_text())["checkworthiness"]["chosen"]
    alpha, power = (float(part.split("=")[1]) for part in chosen.split(","))
    x = checkworthiness.features(d.texts, embedding_cache(args.embeddings).rows(d.texts))
    p = out_of_fold_scores(x, d, np.ones(len(d.y), dtype=bool), alpha, power, K, args.seed)
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p) - np.log1p(-p)


def fold_measures(scores: np.ndarray, d: WorthinessData, test: np.ndarray) -> dict[str, float]:
    """One fold's CheckThat! MAP (its transcripts) and ClaimBuster AP (its id blocks)."""
    ct = test[d.dataset[test] == "checkthat2019"]
    cb = test[d.dataset[test] == "claimbuster"]
    return {"checkthat2019_map": mean_average_precision(scores[ct], d.y[ct],
                                                        [d.groups[i] for i in ct]),
            "claimbuster_ap": average_precision(scores[cb], d.y[cb])}


def set_weights(d: WorthinessData, args) -> np.ndarray:
    """worthiness_fit's weights, with ClaimBuster's total --claimbuster-weight times CheckThat!'s."""
    weights = d.weights(args.balance)
    weights[d.dataset == "claimbuster"] *= args.claimbuster_weight
    return weights


def cross_validate(d: WorthinessData, base: dict, states: list, args) -> dict:
    """Encoder fold models on the chosen folds; every measure for both models and the blends."""
    folds = grouped_folds(d.groups, K, args.seed)
    chosen = range(K) if args.folds == "all" else [int(f) for f in args.folds.split(",")]
    logistic, encoder = baseline_logits(d, args), np.zeros(len(d.y), dtype=np.float32)
    weights, per_fold, seconds = set_weights(d, args), {}, []
    for f in chosen:
        test = folds[f]
        train_rows = np.setdiff1d(np.arange(len(d.y)), test)
        model = fresh_model(base, args)
        seconds.append(train(model, states, d.y, weights, train_rows, args))
        encoder[test] = predict(model, states, test, args)
        per_fold[f] = {"encoder": fold_measures(encoder, d, test),
                       "logistic": fold_measures(logistic, d, test)}
        logger.info("fold %d (%.0fs): %s", f, seconds[-1], per_fold[f])
    return _summary(d, folds, chosen, logistic, encoder, per_fold, seconds, args)


def _summary(d, folds, chosen, logistic, encoder, per_fold, seconds, args) -> dict:
    """Pooled out-of-fold measures (as worthiness_fit reports them) over the folds run."""
    rows = np.concatenate([folds[f] for f in chosen])
    sub = WorthinessData([d.texts[i] for i in rows], d.y[rows], [d.groups[i] for i in rows],
                         d.dataset[rows])
    blends = {str(b): worthiness_measures((b * encoder + (1 - b) * logistic)[rows], sub)
              for b in BLENDS}
    best = max(CHOSEN_AMONG, key=lambda b: sum(blends[str(b)].values()))
    return {"folds": list(chosen), "per_fold": per_fold, "by_blend": blends, "blend": best,
            "logistic": blends["0.0"], "encoder": blends["1.0"], "blended": blends[str(best)],
            "seconds_per_epoch": round(float(np.mean(seconds)) / args.epochs),
            "settings": _settings(args)}


def _settings(args) -> dict:
    return {"epochs": args.epochs, "batch": args.batch, "lr": args.lr, "head_lr": 20 * args.lr,
            "trained_from_layer": args.trained_from, "max_tokens": args.max_tokens,
            "balance": args.balance, "claimbuster_weight": args.claimbuster_weight, "adversarial": args.adversarial,
            "bf16": args.bf16, "seed": args.seed}


def fit_and_ship(d: WorthinessData, base: dict, states: list, report: dict, args) -> None:
    """Fit on every sentence; write the trained layers (int8 matrices) and the 2-way head."""
    from cross_encoder import shipped

    from factcheck.weights import quantized

    model = fresh_model(base, args)
    seconds = train(model, states, d.y, set_weights(d, args), np.arange(len(d.y)), args)
    # Matrices as int8 with per-row scales (six trained layers fit the size budget only so),
    # biases and norms in float16; the logit gap below measures what that costs.
    arrays = {k: v if v.dtype == np.int8 or k.endswith(":scale") else v.astype(np.float16)
              for k, v in quantized({k: v for k, v in shipped(model, args.trained_from).items()
                                     if k.startswith("encoder.layer.")}).items()}
    w, b = model.head.weight.detach().numpy(), model.head.bias.detach().numpy()
    # Two classes (0, logit): the judge's softmax graph then gives sigmoid(logit) unchanged.
    arrays["head.weight"] = np.vstack([np.zeros_like(w), w]).astype(np.float32)
    arrays["head.bias"] = np.array([0.0, b[0]], dtype=np.float32)
    arrays["head.blend"] = np.array([report["blend"]], dtype=np.float32)
    path = args.out / "checkworthiness_encoder.npz"
    np.savez_compressed(path, **arrays)
    logger.info("wrote %s (%d bytes) after %.0fs", path, path.stat().st_size, seconds)
    metrics_path = args.out / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics["checkworthiness_encoder"] = {**report, "train_seconds": round(seconds),
                                          "bytes": path.stat().st_size,
                                          "runtime_vs_torch": _runtime_difference(model, states,
                                                                                  d, args)}
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")


def _runtime_difference(model, states: list, d: WorthinessData, args) -> float:
    """Largest logit gap between the shipped file run by onnxruntime and the torch model (the
    int8 matrices and the float16 kept states make a little), on 200 sentences."""
    from factcheck import checkworthiness

    rows = np.arange(0, len(d.y), len(d.y) // 200)
    runtime = checkworthiness.encoder_logits([d.texts[i] for i in rows])
    gap = float(np.abs(runtime - predict(model, states, rows, args)).max())
    logger.info("onnxruntime vs torch: largest logit difference %.4f", gap)
    return round(gap, 4)


def main(argv: list[str] | None = None) -> int:
    """Cross-validate (--folds), print the numbers; with --final fit on all and ship."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    import torch

    from factcheck.judge import base_weights

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.bf16 is None:
        args.bf16 = native_bf16()
    d, base = load_worthiness(args.data), base_weights()
    states = lower_states(fresh_model(base, args), d.texts, args)
    report_path = args.cache / "report.json"
    if args.folds != "none":
        report = cross_validate(d, base, states, args)
        report_path.write_text(json.dumps(report, indent=2, default=str))
        print(json.dumps({k: report[k] for k in ("logistic", "encoder", "blend", "blended",
                                                 "seconds_per_epoch")}, indent=2))
    if args.final:
        fit_and_ship(d, base, states, json.loads(report_path.read_text()), args)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("factcheck/weights"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/factcheck-worthiness-encoder"),
                        help="the frozen layers' output and the last CV report, kept between runs")
    parser.add_argument("--embeddings", type=Path, default=Path("/tmp/factcheck-embcache"),
                        help="MiniLM vectors for the logistic baseline (train_offline's cache)")
    parser.add_argument("--folds", default="all", help="'all', 'none' or fold numbers: 0,3")
    parser.add_argument("--final", action="store_true", help="fit on everything and ship")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--epochs", type=int, default=1)  # more over-fit (MODEL_CARD)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--balance", type=float, default=0.5,
                        help="class rebalancing power within each set (worthiness_fit's)")
    parser.add_argument("--claimbuster-weight", type=float, default=3.0,
                        help="ClaimBuster's total weight relative to CheckThat!'s")
    parser.add_argument("--trained-from", type=int, default=0, help="first trained layer (0-5)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--adversarial", type=float, default=0.0,
                        help="FGM: also train on each batch with every token's input moved this "
                             "far (L2) up the loss gradient; 0 = off")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                        help="bf16 autocast (default: where the CPU has native bf16)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
