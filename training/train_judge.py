"""Fine-tune the judge's cross-encoder and write factcheck/weights/judge.npz.

    pip install torch==2.13.0     # the CPU build; training only, never at run time
    python training/train_judge.py --data ../shared/data --out factcheck/weights

MiniLM (the packaged all-MiniLM-L6-v2) reads "claim [SEP] evidence" and says supports, refutes
or neither; the pairs come from training/judge_data.py. The embeddings and the first
TRAINED_FROM layers stay as packaged, so judge.npz holds only the trained layers and the head,
in float16. Held-out numbers (claims never trained on, and whole files never trained on) go to
metrics.json under "judge".
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

logger = logging.getLogger("train_judge")

TRAINED_FROM = 2  # layers 0-1 stay frozen: 4 layers + head = 14 MB in float16
MAX_TOKENS = 128


def tokenizer():
    """The packaged MiniLM tokenizer, cutting pairs to MAX_TOKENS (longest side first)."""
    from factcheck.judge import pair_tokenizer

    return pair_tokenizer(MAX_TOKENS)


def encode(tok, pairs) -> list:
    return tok.encode_batch([(p.claim, p.evidence) for p in pairs])


def batches(lengths: list[int], size: int, rng: random.Random) -> list[list[int]]:
    """Batches of similar lengths (little padding), in random order."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    return chunks


def tensors(encodings: list, index: list[int]):
    import torch

    length = max(len(encodings[i].ids) for i in index)
    ids = torch.zeros((len(index), length), dtype=torch.long)
    types, mask = torch.zeros_like(ids), torch.zeros_like(ids)
    for row, i in enumerate(index):
        e, n = encodings[i], len(encodings[i].ids)
        ids[row, :n] = torch.tensor(e.ids)
        types[row, :n] = torch.tensor(e.type_ids)
        mask[row, :n] = 1
    return ids, types, mask


def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX)."""
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return "avx512_bf16" in flags or "amx_bf16" in flags


def train(model, encodings, labels, args) -> None:
    """AdamW, linear warm-up then cosine decay, bf16 autocast where the CPU has it; stops at
    --minutes."""
    import torch
    from cross_encoder import lr_lambda

    rng = random.Random(args.seed)
    plan = [b for _ in range(args.epochs)
            for b in batches([len(e.ids) for e in encodings], args.batch, rng)]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(len(plan), len(plan) // 20))
    y = torch.tensor(labels)
    model.train()
    started, seen, running = time.time(), 0, 0.0
    for step, index in enumerate(plan):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            logits = model(*tensors(encodings, index))
        loss = torch.nn.functional.cross_entropy(logits.float(), y[index], label_smoothing=0.05)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        seen, running = seen + len(index), 0.98 * running + 0.02 * float(loss)
        if step % 100 == 0:
            logger.info("step %d/%d loss %.3f (%.0fs)", step, len(plan), running,
                        time.time() - started)
        if time.time() - started > args.minutes * 60:
            logger.warning("time budget reached at step %d of %d", step, len(plan))
            break
    args.trained_pairs, args.train_seconds = seen, round(time.time() - started)


def predict(model, encodings, size: int = 64) -> np.ndarray:
    """Class probabilities of every pair, in fp32 (as onnxruntime will run them)."""
    import torch

    model.eval()
    out = np.zeros((len(encodings), 3), dtype=np.float32)
    with torch.no_grad():
        for index in batches([len(e.ids) for e in encodings], size, random.Random(0)):
            out[index] = torch.softmax(model(*tensors(encodings, index)), -1).numpy()
    return out


def macro_f1(gold: np.ndarray, pred: np.ndarray) -> float:
    """Mean F1 over the classes present in gold (2-way files score over their two)."""
    scores = []
    for c in sorted(set(gold.tolist())):
        tp = np.sum((pred == c) & (gold == c))
        scores.append(2.0 * tp / (np.sum(pred == c) + np.sum(gold == c)))
    return float(np.mean(scores))


def held_out_report(pairs, probs: np.ndarray) -> dict:
    """Per file (or hard-case rule): 3-way macro-F1, and supports-vs-refutes accuracy."""
    gold = np.array([p.label for p in pairs])
    origin = np.array([p.origin for p in pairs])
    report = {}
    for name in sorted(set(origin)):
        mine = origin == name
        decisive = mine & (gold < 2)
        says_refutes = probs[:, 1] > probs[:, 0]
        right = says_refutes[decisive] == (gold[decisive] == 1)
        report[name] = {
            "pairs": int(mine.sum()),
            "macro_f1": round(macro_f1(gold[mine], probs[mine].argmax(1)), 4),
            "direction_accuracy": round(float(right.mean()), 4) if right.size else None,
        }
    return report


def main(argv: list[str] | None = None) -> int:
    """Fine-tune, write judge.npz and the held-out numbers under "judge" in metrics.json."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    import torch
    from cross_encoder import from_base, shipped
    from judge_data import build

    from factcheck.judge import base_weights

    torch.set_num_threads(2)
    if args.bf16 is None:
        args.bf16 = native_bf16()
    train_pairs, held = build(args.data / "nli", args.seed)
    held = held[: args.held_out_limit]
    logger.info("%d training pairs, %d held out", len(train_pairs), len(held))
    tok = tokenizer()
    model = from_base(base_weights(), TRAINED_FROM, args.seed)
    train(model, encode(tok, train_pairs), [p.label for p in train_pairs], args)
    arrays = {k: v.astype(np.float16) for k, v in shipped(model, TRAINED_FROM).items()}
    np.savez_compressed(args.out / "judge.npz", **arrays)
    report = held_out_report(held, predict(model, encode(tok, held)))
    _write_metrics(args, len(train_pairs), report)
    print(json.dumps(report, indent=2))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("factcheck/weights"))
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=6e-5)
    parser.add_argument("--minutes", type=float, default=60.0, help="stop training after this")
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                        help="bf16 autocast (default: where the CPU has native bf16; without "
                        "it autocast is about 40 times slower than fp32)")
    parser.add_argument("--held-out-limit", type=int, default=None,
                        help="measure only this many held-out pairs (a quick trial run)")
    return parser


def _write_metrics(args: argparse.Namespace, training_pairs: int, report: dict) -> None:
    from judge_data import HELD_OUT_FILES, TRAIN_FILES

    metrics_path = args.out / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    metrics["judge"] = {
        "trained_on": {name: licence for name, (licence, _, _) in TRAIN_FILES.items()},
        "never_trained_on": list(HELD_OUT_FILES), "training_pairs": training_pairs,
        "trained_pairs": args.trained_pairs, "train_seconds": args.train_seconds,
        "settings": {"epochs": args.epochs, "batch": args.batch, "lr": args.lr,
                     "trained_from_layer": TRAINED_FROM, "max_tokens": MAX_TOKENS,
                     "bf16": args.bf16,
                     "seed": args.seed},
        "held_out": report,
    }
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    sys.exit(main())
