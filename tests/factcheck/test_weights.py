"""The shipped weight files: int8 matrices read back as float32 (factcheck/weights)."""

from __future__ import annotations

import numpy as np

from factcheck import weights


def test_int8_matrices_round_trip_within_half_a_step_per_row():
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(6, 10)).astype(np.float32)
    matrix[2] = 0.0  # an all-zero row must not divide by zero
    stored = weights.quantized({"w": matrix, "bias": np.ones(6, dtype=np.float16)})
    assert stored["w"].dtype == np.int8 and stored["bias"].dtype == np.float16
    back = weights.dequantized(stored["w"], stored["w" + weights.SCALE_SUFFIX])
    step = np.abs(matrix).max(axis=1, keepdims=True) / 127
    assert np.all(np.abs(back - matrix) <= step / 2 + 1e-7)
    assert np.all(back[2] == 0.0)


def test_load_arrays_hides_the_scales(tmp_path, monkeypatch):
    matrix = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.savez(tmp_path / "small.npz", **weights.quantized({"w": matrix}))
    monkeypatch.setattr(weights.resources, "files", lambda _: tmp_path)
    loaded = weights.load_arrays("small.npz")
    assert list(loaded) == ["w"] and loaded["w"].dtype == np.float32
    assert np.allclose(loaded["w"], matrix, atol=np.abs(matrix).max() / 254)


def test_shipped_weights_stay_within_25_mb_together():
    # Issue 9's budget for the repository's weight files, all of them together.
    total = sum(path.stat().st_size for path in weights.FOLDER.glob("*.npz"))
    assert total <= 25_000_000, f"{total:,} bytes of weights"


def test_load_array_reads_one_array(tmp_path, monkeypatch):
    np.savez(tmp_path / "two.npz", blend=np.array([0.75], dtype=np.float32),
             **weights.quantized({"w": np.ones((2, 2), dtype=np.float32)}))
    monkeypatch.setattr(weights.resources, "files", lambda _: tmp_path)
    assert weights.load_array("two.npz", "blend").tolist() == [0.75]
