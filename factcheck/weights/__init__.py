"""The offline models' weight files, and the embedder whose vectors their features are built on."""

from __future__ import annotations

import json
import logging
from importlib import resources
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def embedder() -> Any:
    """The process-wide local MiniLM embedder (the one the weights were trained on)."""
    from retrieval.embedder import local_embedder

    return local_embedder()


def load_arrays(name: str) -> dict[str, np.ndarray]:
    """The arrays of the shipped weight file `name` (an .npz beside this module)."""
    with resources.files(__name__).joinpath(name).open("rb") as handle:
        with np.load(handle) as data:
            return {key: data[key] for key in data.files}


def load_json(name: str) -> dict[str, Any]:
    """The shipped JSON file `name` beside this module."""
    return json.loads(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))
