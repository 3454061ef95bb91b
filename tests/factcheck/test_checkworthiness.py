"""Check-worthiness: the trained scorer ranks factual statements first; rules drop the uncheckable."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from factcheck import checkworthiness, weights
from factcheck.weights import embedder

FACT = "The unemployment rate fell to 4.1% in March."
GREETING = "Good evening, and welcome."


def test_factual_sentence_outranks_greeting():
    scores = checkworthiness.score([GREETING, FACT])
    assert scores[1] > scores[0]


def test_scores_are_probabilities_one_per_sentence():
    sentences = [FACT, GREETING, "We will win.", "Crime rose 20 percent in Chicago last year."]
    scores = checkworthiness.score(sentences)
    assert scores.shape == (4,)
    assert np.all((scores >= 0) & (scores <= 1))
    assert checkworthiness.score([]).shape == (0,)


def test_given_embeddings_are_used_instead_of_recomputed():
    sentences = [FACT, GREETING]
    vectors = embedder().embed(sentences)
    np.testing.assert_allclose(checkworthiness.score(sentences, vectors),
                               checkworthiness.score(sentences), atol=1e-5)
    swapped = checkworthiness.score(sentences, vectors[::-1].copy())
    assert swapped[0] != pytest.approx(checkworthiness.score(sentences)[0], abs=1e-6)


def test_weights_ship_as_package_data():
    path = resources.files("factcheck.weights").joinpath(checkworthiness.WEIGHTS_FILE)
    assert path.is_file()
    model = checkworthiness._model()
    width = 384 + len(checkworthiness.FEATURE_NAMES)
    assert model["coef"].shape == (width, 1)
    assert model["mean"].shape == model["scale"].shape == (width,)


def test_the_fine_tuned_encoder_scores_a_numeric_fact_above_an_opinion():
    opinion = "I think our country deserves a wonderful future."
    logits = checkworthiness.encoder_logits([FACT, opinion])
    assert logits[0] > logits[1]
    trained = np.load(resources.files("factcheck.weights") / checkworthiness.ENCODER_FILE)
    matrices = [k for k in trained.files if k.startswith("encoder.layer.") and
                trained[k].ndim == 2]
    # All six layers were trained; their matrices ship as int8 with per-row scales (size).
    assert {k.split(".")[2] for k in matrices} == {str(i) for i in range(6)}
    assert all(trained[k].dtype == np.int8 and k + weights.SCALE_SUFFIX in trained.files
               for k in matrices)
