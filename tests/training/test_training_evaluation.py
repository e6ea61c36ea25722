"""Evaluation metrics against hand-computed values and scikit-learn/scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import kendalltau, spearmanr
from sklearn.metrics import f1_score, ndcg_score, roc_auc_score

from hitdesk.training.manifest import grouped_kfold
from hitdesk.training.metrics import (
    binary_metrics,
    confusion,
    ndcg_at_k,
    popularity_tiers,
    recall_at_k,
    regression_metrics,
    summarise,
    tier_metrics,
    top_k,
)


def test_grouped_kfold_keeps_groups_apart_and_is_seeded() -> None:
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 40, 500)
    folds = grouped_kfold(groups, k=5, seed=1)
    seen = np.concatenate([test for _, test in folds])
    assert sorted(seen.tolist()) == list(range(500))
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
        assert len(train) + len(test) == 500
    sizes = [len(t) for _, t in folds]
    assert max(sizes) - min(sizes) <= np.bincount(groups).max()
    again = grouped_kfold(groups, k=5, seed=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    other = grouped_kfold(groups, k=5, seed=2)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True))
    with pytest.raises(ValueError):
        grouped_kfold(np.array([0, 0, 1]), k=5)


def test_recall_at_k_by_hand() -> None:
    truth = np.array([10.0, 9, 8, 7, 6, 5, 4, 3, 2, 1])
    pred = np.array([0.9, 0.1, 0.8, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.0])
    # K = 3: true top three are items 0, 1, 2; predicted top three are 0, 2, 8.
    assert recall_at_k(truth, pred, 3) == pytest.approx(2 / 3)
    assert recall_at_k(truth, truth, 3) == 1.0
    # A constant predictor finds the expected share K/n of them, whatever the order of the input.
    assert recall_at_k(truth, np.zeros(10), 3) == pytest.approx(0.3)
    assert top_k(95) == 10 and top_k(3) == 1


def test_recall_counts_ties_in_the_truth() -> None:
    truth = np.array([3.0, 3, 3, 1, 1, 1])  # K = 2 but three items share the top value
    pred = np.array([0.9, 0.1, 0.2, 0.8, 0.3, 0.4])
    assert recall_at_k(truth, pred, 2) == pytest.approx(1 / 2)


def test_ndcg_at_k_matches_hand_and_sklearn() -> None:
    truth = np.array([3.0, 2, 1, 0])
    pred = np.array([0.1, 0.9, 0.5, 0.3])
    # Order by pred: items 1 (gain 2), 2 (gain 1); ideal: gains 3, 2.
    expected = (2 / np.log2(2) + 1 / np.log2(3)) / (3 / np.log2(2) + 2 / np.log2(3))
    assert ndcg_at_k(truth, pred, 2) == pytest.approx(expected)
    rng = np.random.default_rng(4)
    for _ in range(20):
        t = rng.integers(1, 11, 60).astype(float)
        p = np.round(rng.normal(size=60), 1)  # with ties
        gain = t - t.min()
        ref = ndcg_score(gain[None, :], p[None, :], k=top_k(60))
        assert ndcg_at_k(t, p) == pytest.approx(ref)


def test_binary_metrics_against_sklearn() -> None:
    rng = np.random.default_rng(5)
    popularity = rng.normal(size=300)
    hit = (popularity + rng.normal(scale=1.0, size=300) > 0.5).astype(int)
    prob = 1 / (1 + np.exp(-(popularity - 0.5)))
    m = binary_metrics(hit, prob, popularity)
    assert m["accuracy"] == pytest.approx(np.mean((prob >= 0.5) == hit))
    assert m["majority_rate"] == pytest.approx(max(hit.mean(), 1 - hit.mean()))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(hit, prob))
    assert m["macro_f1"] == pytest.approx(f1_score(hit, prob >= 0.5, average="macro"))
    assert m["brier"] == pytest.approx(np.mean((prob - hit) ** 2))
    assert m["spearman"] == pytest.approx(1.0) and m["kendall"] == pytest.approx(1.0)  # prob is monotone in it
    assert m["recall_at_k"] == 1.0 and m["ndcg_at_k"] == pytest.approx(1.0)
    without = binary_metrics(hit, prob)
    assert without["spearman"] == pytest.approx(spearmanr(prob, hit).statistic)


def test_always_no_hit_is_only_as_accurate_as_the_majority() -> None:
    hit = np.r_[np.ones(30), np.zeros(70)].astype(int)
    m = binary_metrics(hit, np.full(100, 0.2))
    assert m["accuracy"] == pytest.approx(0.7) == m["majority_rate"]
    assert m["roc_auc"] == pytest.approx(0.5) and m["spearman"] == 0.0
    assert m["macro_recall"] == pytest.approx(0.5)
    assert math.isnan(binary_metrics(np.zeros(5), np.full(5, 0.1))["roc_auc"])


def test_regression_metrics() -> None:
    y = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    pred = np.array([2.0, 1, 3, 5, 4, 6, 8, 7, 10, 9])
    m = regression_metrics(y, pred)
    assert m["mae"] == pytest.approx(0.8)
    assert m["r2"] == pytest.approx(1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))
    assert m["spearman"] == pytest.approx(spearmanr(pred, y).statistic)
    assert m["kendall"] == pytest.approx(kendalltau(pred, y).statistic)
    assert m["recall_at_k"] == 0.0  # K = 1: the best item is ranked second


def test_tiers_and_tier_metrics() -> None:
    pop = np.arange(100.0)
    tiers = popularity_tiers(pop, "tiers3")
    assert np.bincount(tiers).tolist() == [25, 40, 35]
    assert np.bincount(popularity_tiers(pop, "deciles")).tolist() == [10] * 10
    assert np.all(popularity_tiers(np.ones(7), "tiers3") == 1)  # all tied: the middle percentile
    with pytest.raises(ValueError):
        popularity_tiers(pop, "quartiles")
    truth = np.array([0, 1, 2, 2, 1])
    probs = np.eye(3)[[0, 2, 0, 2, 1]]
    m = tier_metrics(truth, probs)
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["within_one_accuracy"] == pytest.approx(4 / 5)
    assert m["tier_mae"] == pytest.approx(3 / 5)
    assert m["majority_rate"] == pytest.approx(2 / 5)
    assert m["macro_f1"] == pytest.approx(f1_score(truth, probs.argmax(1), average="macro"))
    assert confusion(truth, probs.argmax(1), 3).tolist() == [[1, 0, 0], [0, 1, 1], [1, 0, 1]]


def test_summarise_skips_undefined_folds() -> None:
    s = summarise([{"a": 1.0, "b": math.nan}, {"a": 3.0, "b": 2.0}, {"a": 5.0}])
    assert s["a"] == {"mean": 3.0, "std": 2.0}
    assert s["b"] == {"mean": 2.0, "std": 0.0}
