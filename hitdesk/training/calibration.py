"""Mapping model scores to probabilities: Platt scaling and isotonic regression.

A network's raw output ranks songs but is not a probability a user can read; both maps are fit
on out-of-fold scores, so they describe how the score behaves on songs the model has not seen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Platt:
    """P(hit) = sigmoid(a * score + b)."""

    a: float
    b: float

    @classmethod
    def fit(cls, score: np.ndarray, hit: np.ndarray) -> Platt:
        # A large C makes it (almost) unregularised maximum likelihood, which is what Platt scaling is.
        model = LogisticRegression(C=1e6, max_iter=1000)
        model.fit(np.asarray(score, dtype=np.float64).reshape(-1, 1), np.asarray(hit))
        return cls(a=float(model.coef_[0, 0]), b=float(model.intercept_[0]))

    def __call__(self, score: np.ndarray) -> np.ndarray:
        z = self.a * np.asarray(score, dtype=np.float64) + self.b
        return np.asarray(1.0 / (1.0 + np.exp(-z)))


@dataclass(frozen=True)
class Isotonic:
    """Monotone piecewise-linear map through (x, y) knots, constant outside them (sklearn's clip)."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    @classmethod
    def fit(cls, score: np.ndarray, hit: np.ndarray) -> Isotonic:
        model = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        model.fit(np.asarray(score, dtype=np.float64), np.asarray(hit, dtype=np.float64))
        return cls(x=tuple(float(v) for v in model.X_thresholds_), y=tuple(float(v) for v in model.y_thresholds_))

    def __call__(self, score: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(score, dtype=np.float64), self.x, self.y)


def cross_fitted(
    score: np.ndarray, hit: np.ndarray, fold: np.ndarray, method: type[Platt] | type[Isotonic]
) -> np.ndarray:
    """Calibrated out-of-fold probabilities where fold k's map is fit on the other folds only.

    The shipped map is fit on all out-of-fold scores; evaluating that map on the same scores would
    flatter its calibration error a little, so the reported numbers use this cross-fitted version.
    """
    prob = np.empty(len(score), dtype=np.float64)
    for k in np.unique(fold):
        held = fold == k
        prob[held] = method.fit(score[~held], hit[~held])(score[held])
    return prob


Calibrator = Platt | Isotonic
# Isotonic replaces Platt only if its held-out ECE is lower by more than this: the two usually
# differ by less than the fold-to-fold noise, and the isotonic steps tie songs that Platt keeps apart.
ISOTONIC_MARGIN = 0.005


def select(score: np.ndarray, hit: np.ndarray, fold: np.ndarray) -> tuple[Calibrator, np.ndarray, dict[str, Any]]:
    """Pick the map with the lower cross-fitted ECE.

    Returns the map fit on all scores, the cross-fitted P(hit) of the chosen method, and a summary.
    """
    from hitdesk.training.metrics import expected_calibration_error

    held_out = {m.__name__: cross_fitted(score, hit, fold, m) for m in (Platt, Isotonic)}
    ece = {name: expected_calibration_error(p, hit) for name, p in held_out.items()}
    chosen: type[Platt] | type[Isotonic] = Isotonic if ece["Isotonic"] < ece["Platt"] - ISOTONIC_MARGIN else Platt
    log.info("held-out ECE: Platt %.4f, isotonic %.4f -> %s", ece["Platt"], ece["Isotonic"], chosen.__name__)
    summary = {"held_out_ece": {"platt": ece["Platt"], "isotonic": ece["Isotonic"]}, "isotonic_margin": ISOTONIC_MARGIN}
    return chosen.fit(score, hit), held_out[chosen.__name__], summary


def to_card(calibrator: Calibrator) -> dict[str, Any]:
    if isinstance(calibrator, Platt):
        return {
            "method": "platt",
            "formula": "p = sigmoid(a * score + b)",
            "parameters": {"a": calibrator.a, "b": calibrator.b},
        }
    return {
        "method": "isotonic",
        "formula": "p = piecewise-linear interpolation through (x, y), constant outside",
        "parameters": {"x": list(calibrator.x), "y": list(calibrator.y)},
    }


def cross_applied(
    fit_score: np.ndarray, hit: np.ndarray, fold: np.ndarray, method: type[Platt] | type[Isotonic], score: np.ndarray
) -> np.ndarray:
    """Like ``cross_fitted``, but maps other scores of the same songs (e.g. of shifted inputs) with fold k's map."""
    prob = np.empty(len(score), dtype=np.float64)
    for k in np.unique(fold):
        held = fold == k
        prob[held] = method.fit(fit_score[~held], hit[~held])(score[held])
    return prob
