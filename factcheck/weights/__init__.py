"""The offline models' weight files, and the embedder whose vectors their features are built on."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

FOLDER = Path(__file__).resolve().parent
# Files that describe the weights without changing what the models do.
_NOT_WEIGHTS = {"metrics.json", "MODEL_CARD.md"}


def embedder() -> Any:
    """The process-wide local MiniLM embedder (the one the weights were trained on)."""
    from factcheck.retrieval.embedder import local_embedder

    return local_embedder()


# An int8 matrix is stored with its per-row scales under this suffix (quantized for size).
SCALE_SUFFIX = ":scale"
# One weight file read at a time: np.load parses each array's header with ast.literal_eval, and
# CPython 3.11 shares its AST-building state between threads, so two models loading at once (the
# judge and the check-worthiness encoder do, in the pipeline's and the bot's worker threads) can
# fail with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905).
_READING = threading.Lock()


def load_arrays(name: str) -> dict[str, np.ndarray]:
    """The arrays of the shipped weight file `name` (an .npz beside this module; training passes
    an absolute path), int8 matrices turned back into float32."""
    with _READING, resources.files(__name__).joinpath(name).open("rb") as handle, \
            np.load(handle) as data:
        arrays = {key: data[key] for key in data.files}
    return {key: dequantized(value, arrays.get(key + SCALE_SUFFIX))
            for key, value in arrays.items() if not key.endswith(SCALE_SUFFIX)}


def load_array(name: str, key: str) -> np.ndarray:
    """One unquantized array of the weight file `name`, without reading the others."""
    with _READING, resources.files(__name__).joinpath(name).open("rb") as handle, \
            np.load(handle) as data:
        return data[key]


def quantized(matrices: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each 2-d float matrix as int8 with a float32 scale per row (its largest |value| / 127);
    other arrays unchanged. A quarter of float32's size, and load_arrays reads it back."""
    out: dict[str, np.ndarray] = {}
    for key, value in matrices.items():
        if value.ndim != 2 or not np.issubdtype(value.dtype, np.floating):
            out[key] = value
            continue
        scale = np.abs(value).max(axis=1).astype(np.float32) / 127
        scale[scale == 0] = 1.0
        out[key] = np.round(value / scale[:, None]).astype(np.int8)
        out[key + SCALE_SUFFIX] = scale
    return out


def dequantized(value: np.ndarray, scale: np.ndarray | None) -> np.ndarray:
    """An int8 matrix times its row scales; any other array as stored."""
    if scale is None:
        return value
    return value.astype(np.float32) * scale[:, None]


def exists(name: str) -> bool:
    """Whether the weight file `name` ships beside this module."""
    return resources.files(__name__).joinpath(name).is_file()


def load_json(name: str) -> dict[str, Any]:
    """The shipped JSON file `name` beside this module."""
    return json.loads(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=8)
def fingerprint(folder: Path = FOLDER) -> str:
    """A 12-character hash of the weight files (.npz, .json but metrics.json) and their names:
    results of other weights must not be reused as this model's."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.suffix in (".npz", ".json") and path.name not in _NOT_WEIGHTS:
            digest.update(f"{path.name}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n"
                          .encode())
    return digest.hexdigest()[:12]
