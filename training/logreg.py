"""The logistic regression the offline models are, with its cross-validation helpers.

Plain numpy: the few lines of `fit_logreg` (accelerated gradient descent) stand in for
scikit-learn, so training needs neither it nor torch.
"""

from __future__ import annotations

import numpy as np


def fit_logreg(
    x: np.ndarray, y: np.ndarray, n_classes: int, alpha: float,
    sample_weight: np.ndarray | None = None, iterations: int = 150,
    signs: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Multinomial L2 logistic regression on standardised x, by accelerated gradient descent.

    signs (two classes only): per column +1 / -1 where the column may only push towards class 1
    / class 0, 0 where it is free; enforced by projecting after every step.
    """
    mean, scale = np.nanmean(x, 0), np.nanstd(x, 0) + 1e-6
    x = np.where(np.isnan(x), mean, x)  # a missing value counts as the average, as at run time
    n = len(x)
    xa = np.hstack([(x - mean) / scale, np.ones((n, 1))]).astype(np.float32)
    xt = np.ascontiguousarray(xa.T)
    w = np.ones(n) if sample_weight is None else sample_weight / sample_weight.mean()
    w = w.astype(np.float32)
    target = np.eye(n_classes, dtype=np.float32)[y]
    step = 1.0 / (0.5 * _top_eigenvalue(xa, w) / n + alpha)
    penalty = np.ones((xa.shape[1], 1), np.float32)
    penalty[-1] = 0.0  # the intercept is not shrunk
    theta = np.zeros((xa.shape[1], n_classes), np.float32)
    ahead, t = theta.copy(), 1.0
    for _ in range(iterations):  # FISTA: Nesterov momentum with a fixed 1/L step
        grad = xt @ ((_softmax(xa @ ahead) - target) * w[:, None]) / n + alpha * penalty * ahead
        new = _signed(ahead - step * grad, signs)
        t_next = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
        ahead, theta, t = new + (t - 1.0) / t_next * (new - theta), new, t_next
    return {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32),
            "coef": theta[:-1].astype(np.float32), "intercept": theta[-1].astype(np.float32)}


def _signed(theta: np.ndarray, signs: np.ndarray | None) -> np.ndarray:
    """theta with each signed column's class-1-minus-class-0 weight of the allowed sign (a
    wrong-signed pair is set to its mean: the nearest point where the column has no weight)."""
    if signs is None:
        return theta
    wrong = np.append(signs, 0) * (theta[:, 1] - theta[:, 0]) < 0
    theta[wrong] = theta[wrong].mean(axis=1, keepdims=True)
    return theta


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    expd = np.exp(logits)
    return expd / expd.sum(axis=1, keepdims=True)


def _top_eigenvalue(xa: np.ndarray, w: np.ndarray, steps: int = 50) -> float:
    vec = np.random.default_rng(0).normal(size=xa.shape[1])
    for _ in range(steps):
        vec = xa.T @ (w * (xa @ vec))
        value = np.linalg.norm(vec)
        vec /= value
    return float(value)


def balanced_weights(y: np.ndarray, power: float = 1.0) -> np.ndarray:
    """Per-row weights that give each class the same total weight (power < 1: partly)."""
    counts = np.bincount(y)
    return (len(y) / (len(counts) * counts[y])) ** power


def grouped_folds(groups: list[str], k: int, seed: int) -> list[np.ndarray]:
    """k test-index arrays; every group falls wholly in one fold."""
    unique = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(unique))
    fold_of = {unique[g]: n % k for n, g in enumerate(order)}
    labels = np.array([fold_of[g] for g in groups])
    return [np.flatnonzero(labels == f) for f in range(k)]



def binary(model: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A two-class model as one logit: a two-class softmax is a sigmoid of the difference."""
    return {**model, "coef": model["coef"][:, 1:] - model["coef"][:, :1],
            "intercept": model["intercept"][1:] - model["intercept"][:1]}
