"""The training script's logistic regression keeps the signs it is told to (no torch needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "training"))

import logreg
import stance_fit


def test_signed_columns_never_push_the_wrong_way() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 3)).astype(np.float32)
    y = ((x[:, 0] - x[:, 1] + 0.3 * rng.normal(size=2000)) > 0).astype(int)
    free = logreg.binary(logreg.fit_logreg(x, y, 2, 0.01))["coef"].ravel()
    signed = logreg.binary(logreg.fit_logreg(
        x, y, 2, 0.01, signs=np.array([1, 1, 0], np.float32)))["coef"].ravel()
    assert free[1] < -1.0  # the data pushes column 1 towards class 0 ...
    assert signed[1] == 0.0 and signed[0] > 1.0  # ... which its sign forbids


def test_agreement_features_may_only_point_to_support() -> None:
    from factcheck.offline_stance import FEATURE_NAMES, columns

    signs = stance_fit.direction_signs(columns(["numbers_agree", "numbers_differ", "hedge"]))
    assert signs.tolist() == [-1, 1, 0]
    assert set(stance_fit.DIRECTION_SIGNS) <= set(FEATURE_NAMES)
