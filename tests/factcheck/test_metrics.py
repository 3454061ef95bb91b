import numpy as np
import pytest

from factcheck import metrics


@pytest.mark.parametrize(
    ("ranked", "relevant", "expected"),
    [
        (["a", "b", "c"], {"a"}, 1.0),
        (["b", "a", "c"], {"a"}, 1 / 1.5849625007211563),
        (["b", "c", "d"], {"a"}, 0.0),
        (["a", "a", "b"], {"a", "b"}, 1.0),  # a repeated chunk of one source counts once
    ],
)
def test_ndcg_at_10(ranked, relevant, expected):
    assert metrics.ndcg_at_k(ranked, relevant, 10) == pytest.approx(expected)


def test_recall_and_mrr():
    assert metrics.recall_at_k(["x", "a", "y", "b"], {"a", "b"}, 2) == 0.5
    assert metrics.mrr_at_k(["x", "y", "a"], {"a"}, 10) == pytest.approx(1 / 3)
    assert metrics.mrr_at_k([f"x{i}" for i in range(10)] + ["a"], {"a"}, 10) == 0.0


def test_average_precision_ranks_by_score():
    # positives ranked 1st and 3rd: (1/1 + 2/3) / 2
    assert metrics.average_precision([0.9, 0.5, 0.7], [1, 0, 1]) == pytest.approx(1.0)
    assert metrics.average_precision([0.9, 0.8, 0.7], [1, 0, 1]) == pytest.approx((1 + 2 / 3) / 2)
    assert metrics.average_precision([0.1, 0.2], [0, 0]) == 0.0


def test_classification_report_macro_f1_and_confusion():
    labels = ["SUPPORTS", "REFUTES", "NOT_ENOUGH_INFO"]
    gold = ["SUPPORTS", "SUPPORTS", "REFUTES", "NOT_ENOUGH_INFO"]
    pred = ["SUPPORTS", "REFUTES", "REFUTES", "NOT_ENOUGH_INFO"]
    report = metrics.classification_report(gold, pred, labels)
    assert report["accuracy"] == 0.75
    assert report["confusion"]["SUPPORTS"]["REFUTES"] == 1
    assert report["per_label"]["SUPPORTS"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3)}
    assert report["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)


def test_macro_f1_averages_each_class_f1_and_counts_an_absent_class_zero():
    gold, pred = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
    # class 0: F1 2/3; class 1: F1 4/5; class 2 neither predicted nor present: 0
    assert metrics.macro_f1(gold, pred) == pytest.approx((2 / 3 + 4 / 5 + 0) / 3)
