"""Reference models on the same artist-disjoint folds as the default model.

A network is only worth shipping if it beats what a constant, the genre tag, a linear model and
gradient boosting reach on the same folds; these reproduce the data README's reference numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from hitdesk.training.calibration import Platt
from hitdesk.training.zalo import ChartData, cv_folds

log = logging.getLogger(__name__)

# The data README's LightGBM settings.
LGBM_TREES = 300
LGBM_LEAVES = 15
LGBM_LEARNING_RATE = 0.03
RIDGE_ALPHA = 1.0
MAJORITY_NAME = "majority (base rate)"


@dataclass(frozen=True)
class OutOfFold:
    """Out-of-fold predictions of one model: ``score`` ranks songs, ``prob`` is its P(hit)."""

    name: str
    score: np.ndarray
    prob: np.ndarray


Regressor = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (x_train, y_train, x_test) -> pred


def _ridge(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    scaler = StandardScaler().fit(x_train)
    model = Ridge(alpha=RIDGE_ALPHA).fit(scaler.transform(x_train), y_train)
    return np.asarray(model.predict(scaler.transform(x_test)))


def _make_lgbm(seed: int) -> Regressor:
    def fit_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
        import lightgbm

        model = lightgbm.LGBMRegressor(
            n_estimators=LGBM_TREES,
            num_leaves=LGBM_LEAVES,
            learning_rate=LGBM_LEARNING_RATE,
            random_state=seed,
            n_jobs=1,
            verbose=-1,
        )
        model.fit(x_train, y_train)
        return np.asarray(model.predict(x_test))

    return fit_predict


def _regressor_oof(data: ChartData, fit_predict: Regressor, name: str) -> OutOfFold:
    """Regress ``-rank`` (higher = better) and turn the score into P(hit) with Platt scaling.

    The Platt map of each outer fold is fit on inner artist-disjoint out-of-fold predictions of its
    training part, so the held-out fold never influences its own probabilities.
    """
    assert data.groups is not None
    x, target = data.stats, -data.rank.astype(np.float64)
    score = np.empty(data.n)
    prob = np.empty(data.n)
    for train, test in cv_folds(data.groups):
        score[test] = fit_predict(x[train], target[train], x[test])
        inner = np.empty(len(train))
        for inner_train, inner_test in cv_folds(data.groups[train], n_splits=4):
            inner[inner_test] = fit_predict(x[train][inner_train], target[train][inner_train], x[train][inner_test])
        prob[test] = Platt.fit(inner, data.hit[train])(score[test])
    log.info("baseline %s done", name)
    return OutOfFold(name, score, prob)


def majority(data: ChartData) -> OutOfFold:
    """The training folds' hit rate for every song: no skill, calibrated on average."""
    assert data.groups is not None
    prob = np.empty(data.n)
    for train, test in cv_folds(data.groups):
        prob[test] = data.hit[train].mean()
    return OutOfFold(MAJORITY_NAME, prob.copy(), prob)


def genre_only(data: ChartData) -> OutOfFold:
    """Per-genre hit rate of the training folds; genres unseen in training get the base rate."""
    assert data.groups is not None and data.genre is not None
    prob = np.empty(data.n)
    for train, test in cv_folds(data.groups):
        base = data.hit[train].mean()
        rates = {g: data.hit[train][data.genre[train] == g].mean() for g in np.unique(data.genre[train])}
        prob[test] = [rates.get(g, base) for g in data.genre[test]]
    return OutOfFold("genre only", prob.copy(), prob)


def ridge(data: ChartData) -> OutOfFold:
    return _regressor_oof(data, _ridge, "ridge (42 stats)")


def lightgbm_regressor(data: ChartData, seed: int = 0) -> OutOfFold:
    return _regressor_oof(data, _make_lgbm(seed), "LightGBM (42 stats)")


def all_baselines(data: ChartData, seed: int = 0) -> list[OutOfFold]:
    return [majority(data), genre_only(data), ridge(data), lightgbm_regressor(data, seed)]
