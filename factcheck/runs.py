"""Run records of `factcheck eval`: what was measured, with what, and each example's prediction.

A record is one JSON file under RUNS_DIR. A `Recorder`, passed to the `factcheck.evaluation`
functions, collects the per-example predictions and latencies while an evaluation runs;
`save_run()` writes the record; `compare_runs()` diffs two.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from factcheck.cost import Counts, since
from factcheck.errors import BadInputError
from factcheck.labels import VERDICT_STANCE
from factcheck.models import LLMUsage
from factcheck.settings import Settings

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
class Prediction(BaseModel):
    """One example's gold answer and what the system predicted."""

    id: str
    gold: Any
    predicted: Any


# The run record's usage is a report's: calls, tokens and estimated cost.
Usage = LLMUsage


class RunRecord(BaseModel):
    """Everything needed to tell two evaluation runs apart."""

    time: str
    kind: str
    git_commit: str | None
    git_dirty: bool | None
    datasets: dict[str, dict[str, str]] = Field(description="Flag -> path and sha256 of the file.")
    engine: str
    model: str
    prompts: dict[str, str] = Field(description="Prompt name -> 'version:sha256 prefix' (LLM).")
    options: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(description="Exactly what `factcheck eval --json` printed.")
    latency_p50: float | None = Field(description="Seconds per example, median.")
    latency_p95: float | None
    usage: Usage | None
    predictions: list[Prediction]


class Recorder:
    """Predictions and per-example seconds collected while an evaluation runs."""

    def __init__(self) -> None:
        self.predictions: list[Prediction] = []
        self.seconds: list[float] = []
        self._lock = threading.Lock()

    def add(self, prediction: Prediction, seconds: float | None = None) -> None:
        """Record one example (thread-safe: evaluations judge examples concurrently)."""
        with self._lock:
            self.predictions.append(prediction)
            if seconds is not None:
                self.seconds.append(seconds)


def build_record(
    kind: str, files: dict[str, Path], settings: Settings, metrics: dict, recorder: Recorder,
    usage_before: Counts, options: dict[str, Any] | None = None,
) -> RunRecord:
    """The run record of one evaluation, from its inputs, its metrics and what was recorded."""
    from factcheck.engines import engine_for  # the engines import much: only when needed

    engine = engine_for(settings)
    predictions = recorder.predictions
    commit, dirty = git_state()
    return RunRecord(
        time=datetime.now(UTC).isoformat(timespec="milliseconds"),
        kind=kind, git_commit=commit, git_dirty=dirty,
        datasets={flag: {"path": str(path), "sha256": dataset_sha256(path)}
                  for flag, path in files.items()},
        engine=engine.name, model=engine.model, prompts=engine.prompts,
        options=options or {}, metrics=metrics,
        latency_p50=percentile(recorder.seconds, 50), latency_p95=percentile(recorder.seconds, 95),
        usage=engine.usage(since(usage_before)),
        predictions=sorted(predictions, key=lambda p: p.id),
    )


def save_run(record: RunRecord, runs_dir: Path) -> Path:
    """Write the record as runs_dir/<time>-<kind>-<engine>.json (names sort by time)."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    moment = datetime.fromisoformat(record.time).strftime("%Y%m%dT%H%M%S.%f")[:-3]
    stem = f"{moment}Z-{record.kind}-{record.engine}"
    path, number = runs_dir / f"{stem}.json", 1
    while path.exists():  # two runs in the same millisecond
        number += 1
        path = runs_dir / f"{stem}_{number}.json"  # "_" sorts after "."
    path.write_text(record.model_dump_json(indent=2), encoding="utf-8")
    return path


def load_run(path: Path) -> RunRecord:
    """Read a run record; a missing or foreign file is a BadInputError naming it."""
    try:
        return RunRecord.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read the run record ({exc.strerror})") from exc
    except ValueError as exc:
        raise BadInputError(f"{path}: not a run record of `factcheck eval`") from exc


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (nearest rank) of values, rounded to the millisecond; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats
    return round(ordered[int(rank) - 1], 3)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dataset_sha256(path: Path) -> str:
    """sha256 of a file, or of a folder's files (relative names and contents, in order)."""
    if not path.is_dir():
        return file_sha256(path)
    digest = hashlib.sha256()
    for member in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{member.relative_to(path).as_posix()}\0{file_sha256(member)}\n".encode())
    return digest.hexdigest()


def git_state() -> tuple[str | None, bool | None]:
    """(commit, has uncommitted changes) of the code's git checkout; (None, None) outside one."""
    try:
        commit = _git("rev-parse", "HEAD")
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, dirty


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=PACKAGE_DIR, capture_output=True, text=True,
                          timeout=10, check=True)
    return done.stdout.strip()


def compare_runs(before: RunRecord, after: RunRecord) -> dict[str, Any]:
    """Metrics side by side with deltas, and the examples whose prediction changed."""
    ours, theirs = _flat_metrics(before.metrics), _flat_metrics(after.metrics)
    metrics = {
        key: {"before": ours.get(key), "after": theirs.get(key),
              "delta": _delta(ours.get(key), theirs.get(key))}
        for key in list(ours) + [k for k in theirs if k not in ours]
    }
    old = {p.id: p for p in before.predictions}
    new = {p.id: p for p in after.predictions}
    changed = [
        {"id": key, "gold": new[key].gold, "before": old[key].predicted,
         "after": new[key].predicted}
        for key in sorted(old.keys() & new.keys())
        if old[key].predicted != new[key].predicted
    ]
    return {"metrics": metrics, "changed": changed, "warnings": _warnings(before, after)}


def _flat_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    flat = {k: v for k, v in metrics.items() if isinstance(v, int | float) and k != "seconds"}
    for label, scores in metrics.get("per_label", {}).items():
        flat[f"{label} f1"] = scores["f1"]
    return flat


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else round(after - before, 4)


def _warnings(before: RunRecord, after: RunRecord) -> list[str]:
    notes = []
    if before.kind != after.kind:
        notes.append(f"the runs measure different things ({before.kind} vs {after.kind})")
    if {k: v["sha256"] for k, v in before.datasets.items()} != {
            k: v["sha256"] for k, v in after.datasets.items()}:
        notes.append("the runs used different data files: metrics are not comparable")
    return notes


# --- evaluation data from readers' feedback in the bot ----------------------------------------



def feedback_rows(history: Any, kind: str) -> list[dict[str, Any]]:
    """Readers' corrections as eval rows: `kind` "claims" or "pairs" (see docs/maintainers.md).

    The latest feedback on a claim wins. A claim marked wrong without the right verdict, or
    whose right verdict is MIXED, gives no row.
    """
    latest = {(f.check_id, f.claim_id): f for f in history.feedback()}  # oldest first
    rows: list[dict[str, Any]] = []
    for (check_id, claim_id), feedback in sorted(latest.items()):
        stored = history.get_check(check_id)
        found = [c for c in stored.report.claims if c.claim.id == claim_id] if stored else []
        gold = _right_stance(feedback, found[0]) if found else None
        if gold is not None:
            rows.extend(_rows_of(kind, f"{check_id}-{claim_id}", found[0], gold))
    return rows


def _right_stance(feedback: Any, check: Any) -> str | None:
    if feedback.right_label is not None:
        return VERDICT_STANCE.get(feedback.right_label.value)
    if feedback.correct:
        return VERDICT_STANCE.get(check.verdict.label.value)
    return None


def _rows_of(kind: str, key: str, check: Any, gold: str) -> list[dict[str, Any]]:
    # The verdict rests on the passages judged for or against; the reader's label is theirs.
    used = [e for e in check.evidence if e.stance.value != "NOT_ENOUGH_INFO"]
    if kind == "claims":
        gold_ids = [] if gold == "NOT_ENOUGH_INFO" else sorted(
            {e.passage.source_id or e.passage.id for e in used if e.stance.value == gold})
        return [{"id": key, "claim": check.claim.text, "label": gold, "gold_ids": gold_ids}]
    return [{"id": f"{key}-{e.passage.id}", "claim": check.claim.text, "passage": e.passage.text,
             "label": gold} for e in used]
