"""Metrics, calibration maps, familiarity and the window-shift augmentation (numpy-level pieces)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.covariance import LedoitWolf
from training_data import synthetic_stats

from hitdesk.config import N_STATS, STAT_COLUMNS
from hitdesk.training.augment import WindowShift
from hitdesk.training.calibration import Isotonic, Platt, cross_fitted, select
from hitdesk.training.familiarity import FamiliarityFit
from hitdesk.training.metrics import (
    METRIC_NAMES,
    expected_calibration_error,
    fold_summary,
    score_metrics,
    spearman_vs_rank,
)


def test_spearman_sign_follows_better_rank() -> None:
    rank = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    assert spearman_vs_rank(-rank, rank) == pytest.approx(1.0)
    assert spearman_vs_rank(rank, rank) == pytest.approx(-1.0)
    assert spearman_vs_rank(np.ones(10), rank) == 0.0


def test_ece_and_brier() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 200_000)
    hit = (rng.uniform(0, 1, p.size) < p).astype(int)
    assert expected_calibration_error(p, hit) < 0.01
    assert expected_calibration_error(np.full(1000, 0.5), np.r_[np.ones(300), np.zeros(700)]) == pytest.approx(0.2)
    rank = np.where(hit == 1, 1, 10)
    m = score_metrics(p, p, rank)
    assert m["brier"] == pytest.approx(np.mean((p - hit) ** 2))
    assert 0.8 < m["roc_auc"] < 0.9


def test_single_class_gives_nan_auc() -> None:
    m = score_metrics(np.arange(5.0), np.full(5, 0.2), np.full(5, 8))
    assert math.isnan(m["roc_auc"]) and math.isnan(m["pr_auc"]) and math.isnan(m["spearman"])


def test_fold_summary_has_mean_std_pooled() -> None:
    rng = np.random.default_rng(1)
    rank = rng.integers(1, 11, 500)
    score = -rank + rng.normal(0, 3, 500)
    prob = 1 / (1 + np.exp(-score / 3))
    summary = fold_summary(score, prob, rank, np.arange(500) % 5)
    assert set(summary) == set(METRIC_NAMES)
    for values in summary.values():
        assert len(values["folds"]) == 5
        assert values["mean"] == pytest.approx(np.mean(values["folds"]))


def test_platt_recovers_logistic_parameters() -> None:
    rng = np.random.default_rng(2)
    s = rng.normal(0, 2, 50_000)
    hit = (rng.uniform(size=s.size) < 1 / (1 + np.exp(-(0.7 * s - 0.9)))).astype(int)
    platt = Platt.fit(s, hit)
    assert platt.a == pytest.approx(0.7, abs=0.03) and platt.b == pytest.approx(-0.9, abs=0.03)
    iso = Isotonic.fit(s, hit)
    grid = np.linspace(-6, 6, 50)
    assert np.all(np.diff(iso(grid)) >= 0)
    chosen, held_out, summary = select(s, hit, np.arange(s.size) % 5)
    assert isinstance(chosen, Platt)  # isotonic is not better by the margin on truly logistic data
    assert held_out.shape == s.shape and set(summary["held_out_ece"]) == {"platt", "isotonic"}
    assert np.allclose(held_out, cross_fitted(s, hit, np.arange(s.size) % 5, Platt))


def test_familiarity_distances_and_percentiles() -> None:
    rng = np.random.default_rng(3)
    stats = synthetic_stats(2000, rng)
    fam = FamiliarityFit.fit(stats)
    assert fam.inv_cov.shape == (N_STATS, N_STATS) and np.allclose(fam.inv_cov, fam.inv_cov.T)
    assert fam.percentiles.shape == (101,) and np.all(np.diff(fam.percentiles) >= 0)
    # Same distance as Ledoit-Wolf in standardised units.
    z = (stats - stats.mean(0)) / stats.std(0)
    lw = LedoitWolf().fit(z)
    d_ref = np.sqrt(np.einsum("ni,ij,nj->n", z[:5], lw.precision_, z[:5]))
    assert np.allclose(fam.distance(stats[:5]), d_ref)
    assert 40 < np.median(fam.percentile_of(stats)) < 60
    assert fam.percentile_of(stats.mean(0) + 20 * stats.std(0))[0] == pytest.approx(100.0)


def test_window_shift_reorders_columns_and_keeps_duration() -> None:
    columns = list(reversed(STAT_COLUMNS))
    mean = np.arange(N_STATS, dtype=float)[::-1]  # value = index in STAT_COLUMNS order
    cov = np.diag(np.full(N_STATS, 4.0))
    shift = WindowShift.from_dict(
        {"columns": columns, "mean": mean.tolist(), "cov": cov.tolist(), "n": 9, "source": "t"}
    )
    dur = STAT_COLUMNS.index("duration")
    expected = np.arange(N_STATS, dtype=float)
    expected[dur] = 0.0
    assert np.array_equal(shift.mean, expected)
    assert shift.cov[dur, dur] == 0.0
    x = np.zeros((20_000, N_STATS))
    moved = shift.shifted_copy(x, np.random.default_rng(0))
    assert np.all(moved[:, dur] == 0.0)
    assert np.allclose(moved.mean(0), expected, atol=0.1)
    assert np.allclose(moved[:, 0].std(), 2.0, atol=0.05)
    with pytest.raises(ValueError, match="columns"):
        WindowShift.from_dict({"columns": columns[:-1], "mean": [], "cov": []})
