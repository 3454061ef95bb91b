"""`factcheck eval ...`: measure retrieval, stance, check-worthiness and verdicts on labelled JSONL.

The output keys are the project's evaluation contract (issue "Fact-check pipeline"): keep them stable.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from factcheck import metrics
from factcheck.engines import Engine, engine_for
from factcheck.errors import BadInputError, FactcheckError
from factcheck.eval_corpus import EvalProgress, corpus_store, report_progress
from factcheck.labels import VERDICT_STANCE
from factcheck.models import Article, Claim, Label, Passage
from factcheck.retrieval.search import Mode
from factcheck.runs import Prediction, Recorder
from factcheck.settings import Settings

STANCES = ["SUPPORTS", "REFUTES", "NOT_ENOUGH_INFO"]
BINARY = [0, 1]  # a check-worthiness label
LABELLED = {"label": STANCES}
SEARCH_DEPTH = 30  # chunks searched per claim in eval retrieval: 10 distinct documents to rank


def eval_retrieval(
    corpus: Path, claims: Path, settings: Settings, mode: Mode = "hybrid",
    recorder: Recorder | None = None, progress: EvalProgress | None = None,
) -> dict:
    """nDCG@10, recall@5/@10 and MRR@10 of search over an evaluation collection of `corpus`.

    `mode` "lexical" or "dense" measures one half of the hybrid search the same way.
    """
    rows = [r for r in read_jsonl(claims, ("id", "claim", "gold_ids")) if r["gold_ids"]]
    started = time.perf_counter()
    with corpus_store(corpus, settings, progress) as store:
        report_progress(progress, "examples", 0, len(rows))
        results = store.search_many([r["claim"] for r in rows], k=SEARCH_DEPTH, mode=mode)
        report_progress(progress, "examples", len(rows), len(rows))
    ranked = [[hit.source_id for hit in hits] for hits in results]
    if recorder:
        for row, top in zip(rows, ranked):
            recorder.add(Prediction(id=str(row["id"]), gold=sorted(map(str, row["gold_ids"])),
                                    predicted=list(dict.fromkeys(top))[:10]))
    gold = [{str(g) for g in r["gold_ids"]} for r in rows]
    return {
        "n": len(rows),
        "ndcg@10": _mean(metrics.ndcg_at_k(r, g, 10) for r, g in zip(ranked, gold)),
        "recall@5": _mean(metrics.recall_at_k(r, g, 5) for r, g in zip(ranked, gold)),
        "recall@10": _mean(metrics.recall_at_k(r, g, 10) for r, g in zip(ranked, gold)),
        "mrr@10": _mean(metrics.mrr_at_k(r, g, 10) for r, g in zip(ranked, gold)),
        "seconds": round(time.perf_counter() - started, 2),
    }


def eval_stance(
    pairs: Path, settings: Settings, recorder: Recorder | None = None,
    progress: EvalProgress | None = None,
) -> dict:
    """Accuracy and macro-F1 of the stance of each passage on its claim."""
    rows = read_jsonl(pairs, ("id", "claim", "passage", "label"), LABELLED)
    engine = engine_for(settings)
    predicted = _map_concurrently(partial(_stance_of, engine), rows, engine.concurrency,
                                  recorder, progress)
    return metrics.classification_report([r["label"] for r in rows], predicted, STANCES)


def eval_checkworthiness(
    sentences: Path, settings: Settings, recorder: Recorder | None = None,
    progress: EvalProgress | None = None,
) -> dict:
    """MAP and P@10 of ranking each group's sentences by check-worthiness."""
    scorer = engine_for(settings).score_checkworthiness
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in read_jsonl(sentences, ("id", "group", "text", "label"), {"label": BINARY}):
        groups[str(row["group"])].append(row)
    aps, p10s = [], []
    total, done = sum(len(g) for g in groups.values()), 0
    report_progress(progress, "examples", 0, total)
    for rows in groups.values():
        scores = list(scorer([r["text"] for r in rows]))
        if recorder:
            for row, score in zip(rows, scores):
                recorder.add(Prediction(id=str(row["id"]), gold=int(row["label"]),
                                        predicted=round(float(score), 4)))
        labels = [int(r["label"]) for r in rows]
        aps.append(metrics.average_precision(scores, labels))
        p10s.append(metrics.precision_at_k(scores, labels, 10))
        done += len(rows)
        report_progress(progress, "examples", done, total)
    return {"n": sum(len(g) for g in groups.values()), "map": _mean(aps), "p@10": _mean(p10s)}


def eval_verdicts(
    corpus: Path, claims: Path, settings: Settings, recorder: Recorder | None = None,
    progress: EvalProgress | None = None,
) -> dict:
    """The whole pipeline on each claim as its own article; verdicts mapped to SciFact labels."""
    from factcheck.pipeline import check

    rows = read_jsonl(claims, ("id", "claim", "label"), LABELLED)
    with corpus_store(corpus, settings, progress) as store:
        def verdict_of(row: dict) -> str:
            report = check(Article(text=row["claim"], source=f"claim {row['id']}"), settings, store)
            label = report.claims[0].verdict.label if report.claims else Label.NOT_ENOUGH_EVIDENCE
            return VERDICT_STANCE.get(label, "NOT_ENOUGH_INFO")

        predicted = _map_concurrently(verdict_of, rows, engine_for(settings).concurrency,
                                      recorder, progress)
    report = metrics.classification_report([r["label"] for r in rows], predicted, STANCES)
    return {key: report[key] for key in ("n", "accuracy", "macro_f1", "per_label")}


RATIONALE_CAP = 3  # the official evaluator reads at most 3 predicted rationale sentences


def eval_scifact(
    corpus: Path, claims: Path, settings: Settings, rationales: Path | None = None,
    recorder: Recorder | None = None, progress: EvalProgress | None = None,
) -> dict:
    """SciFact's abstract-level precision, recall and F1 (Wadden et al. 2020), label only and,
    given rationale sentences, label + rationale; the pipeline retrieves and judges."""
    from factcheck.pipeline import check

    rows = read_jsonl(claims, ("id", "claim", "label"), LABELLED)
    with corpus_store(corpus, settings, progress) as store:
        def abstracts_of(row: dict) -> str:
            article = Article(text=row["claim"], source=f"claim {row['id']}")
            report = check(article, settings, store)
            found = report.claims[0].evidence if report.claims else []
            return json.dumps(predicted_abstracts(found))

        predicted = _map_concurrently(abstracts_of, rows, engine_for(settings).concurrency,
                                      recorder, progress)
    gold_rationales = read_rationales(rationales) if rationales else None
    return scifact_scores(rows, [json.loads(p) for p in predicted], gold_rationales)


def predicted_abstracts(evidence: list) -> dict[str, dict]:
    """Per source document judged to take a side: its strongest label and the quoted sentences."""
    found: dict[str, dict] = {}
    for e in sorted(evidence, key=lambda e: -e.confidence):
        if e.stance.value == "NOT_ENOUGH_INFO":
            continue
        doc = found.setdefault(str(e.passage.source_id), {"label": e.stance.value, "quotes": []})
        doc["quotes"].append(e.quote)
    return found


def read_rationales(path: Path) -> dict[tuple[str, str], set[str]]:
    """Gold rationale sentences per (claim id, document id), from sentence-pair rows whose id is
    '<claim>-<document>-<sentence>' (SciFact's sentence_pairs_train.jsonl)."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in read_jsonl(path, ("id", "passage", "label"), LABELLED):
        if row["label"] != "NOT_ENOUGH_INFO":
            claim, doc, _ = str(row["id"]).rsplit("-", 2)
            found[(claim, doc)].add(_normal(row["passage"]))
    return found


def scifact_scores(rows: list[dict], predicted: list[dict[str, dict]],
                   rationales: dict[tuple[str, str], set[str]] | None) -> dict:
    """Abstract-level P/R/F1: a predicted (claim, abstract) counts when the abstract is cited for
    the claim with that label; with rationales, also when a quoted sentence (of the first
    RATIONALE_CAP) is a gold rationale sentence."""
    gold = sum(len(r.get("gold_ids") or []) for r in rows if r["label"] != "NOT_ENOUGH_INFO")
    made = sum(len(p) for p in predicted)
    right = right_rationale = 0
    for row, docs in zip(rows, predicted):
        for doc, call in docs.items():
            if row["label"] == "NOT_ENOUGH_INFO" or doc not in map(str, row.get("gold_ids") or []):
                continue
            if call["label"] == row["label"]:
                right += 1
                sentences = (rationales or {}).get((str(row["id"]), doc), set())
                quotes = {_normal(q) for q in call["quotes"][:RATIONALE_CAP]}
                right_rationale += bool(quotes & sentences)
    result: dict[str, float | None] = {"n": len(rows), "gold_abstracts": gold,
                                       "predicted_abstracts": made}
    result.update(_prf("label_only", right, made, gold))
    result.update(_prf("label_rationale", right_rationale, made, gold) if rationales is not None
                  else {"label_rationale_f1": None})
    return result


def _prf(name: str, right: int, made: int, gold: int) -> dict[str, float]:
    precision, recall, f1 = metrics.precision_recall_f1(right, made, gold)
    return {f"{name}_precision": round(precision, 4), f"{name}_recall": round(recall, 4),
            f"{name}_f1": round(f1, 4)}


def _normal(sentence: str) -> str:
    return " ".join(sentence.lower().split())


def read_jsonl(path: Path, required: tuple[str, ...],
               choices: Mapping[str, Sequence[object]] | None = None) -> list[dict]:
    """Read a JSONL file, every row before any work: a malformed line, a missing key or a value
    outside its `choices` is a BadInputError naming the file and line."""
    if path.is_dir():
        raise BadInputError(f"{path} is a folder: give the JSONL file")
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    rows = []
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            try:  # utf-8-sig on the first line: a byte-order mark is no error
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise BadInputError(f"{path}, line {number}: not UTF-8 text (byte "
                                    f"{raw[exc.start]:#04x}); save the file as UTF-8") from exc
            if line.strip():
                rows.append(_parse_line(path, number, line, required, choices or {}))
    if not rows:
        raise BadInputError(f"{path}: no rows")
    return rows


def _parse_line(path: Path, number: int, line: str, required: tuple[str, ...],
                choices: Mapping[str, Sequence[object]]) -> dict:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{path}, line {number}: not JSON ({exc.msg})") from exc
    missing = [key for key in required if not isinstance(row, dict) or key not in row]
    if missing:
        raise BadInputError(f"{path}, line {number}: missing {', '.join(map(repr, missing))}")
    for key, allowed in choices.items():
        if key in row and row[key] not in allowed:
            raise BadInputError(f"{path}, line {number}: {key} {row[key]!r} is not one of "
                                f"{', '.join(map(json.dumps, allowed))}")
    return row


def _stance_of(engine: Engine, row: dict) -> str:
    """The stance the engine's model alone reads in a pair row's passage."""
    claim = Claim(id=1, text=row["claim"], start=0, end=len(row["claim"]), checkworthiness=1.0)
    evidence = engine.stance(claim, [Passage(id=str(row["id"]), text=row["passage"])])
    return evidence[0].stance.value if evidence else "NOT_ENOUGH_INFO"


def _map_concurrently(
    function: Callable[[dict], str], rows: list[dict], workers: int,
    recorder: Recorder | None = None, progress: EvalProgress | None = None,
) -> list[str]:
    done = iter(range(1, len(rows) + 1))  # next() on it is atomic, so threads count safely

    def timed(row: dict) -> str:
        started = time.perf_counter()
        try:
            predicted = function(row)
        except FactcheckError as exc:  # say which example failed, e.g. a replay-only cache miss
            raise type(exc)(f"example {row.get('id')!r}: {exc}") from exc
        if recorder:
            recorder.add(Prediction(id=str(row.get("id")), gold=row.get("label"),
                                    predicted=predicted), time.perf_counter() - started)
        report_progress(progress, "examples", next(done), len(rows))
        return predicted

    report_progress(progress, "examples", 0, len(rows))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(timed, rows))


def _mean(values: Iterator[float] | list[float]) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0
