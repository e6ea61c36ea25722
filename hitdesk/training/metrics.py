"""Scores of a hit model: ranking skill against the chart rank and quality of its probabilities.

Ranking (Spearman, ROC-AUC, PR-AUC) says whether the model orders songs like the chart did;
Brier and calibration error say whether the shown percentage can be read as a probability. Both
matter for a number shown to a user, so every model is reported with all of them.
numpy/scipy/sklearn only, so the runtime-side ``evaluate`` command needs no torch.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, roc_auc_score

log = logging.getLogger(__name__)

METRIC_NAMES: tuple[str, ...] = ("spearman", "roc_auc", "pr_auc", "brier", "ece")
N_ECE_BINS = 10


def spearman_vs_rank(score: np.ndarray, rank: np.ndarray) -> float:
    """Spearman correlation of the score with ``-rank``: positive when higher scores mean better ranks."""
    score = np.asarray(score, dtype=np.float64)
    rank = np.asarray(rank, dtype=np.float64)
    if len(rank) < 2 or np.ptp(rank) == 0.0:
        return math.nan  # nothing to correlate with
    if np.ptp(score) == 0.0:
        return 0.0  # a constant predictor carries no ranking information
    rho = spearmanr(score, -rank).statistic
    return float(rho)


def expected_calibration_error(prob: np.ndarray, hit: np.ndarray, n_bins: int = N_ECE_BINS) -> float:
    """Bin-weighted mean |observed hit rate - mean predicted probability| over equal-width bins of [0, 1]."""
    prob = np.clip(np.asarray(prob, dtype=np.float64), 0.0, 1.0)
    hit = np.asarray(hit, dtype=np.float64)
    bins = np.minimum((prob * n_bins).astype(np.int64), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            total += mask.sum() * abs(hit[mask].mean() - prob[mask].mean())
    return float(total / max(len(prob), 1))


def score_metrics(
    score: np.ndarray, prob: np.ndarray, rank: np.ndarray, hit: np.ndarray | None = None
) -> dict[str, float]:
    """All metrics for one set of predictions; ``score`` ranks, ``prob`` is the shown P(hit).

    They are separate because some baselines rank with a regression output that is not a
    probability; for a calibrated model the two are the same array.
    """
    rank = np.asarray(rank)
    hit = (rank <= 3).astype(np.int64) if hit is None else np.asarray(hit)
    score = np.asarray(score, dtype=np.float64)
    prob = np.asarray(prob, dtype=np.float64)
    one_class = hit.min() == hit.max()
    return {
        "spearman": spearman_vs_rank(score, rank),
        "roc_auc": math.nan if one_class else float(roc_auc_score(hit, score)),
        "pr_auc": math.nan if one_class else float(average_precision_score(hit, score)),
        "brier": float(np.mean((prob - hit) ** 2)),
        "ece": expected_calibration_error(prob, hit),
    }


def fold_summary(score: np.ndarray, prob: np.ndarray, rank: np.ndarray, fold: np.ndarray) -> dict[str, dict[str, Any]]:
    """Mean and std across folds, and the pooled value, of out-of-fold predictions.

    Per-fold mean/std shows how much the number moves with the artists that happen to be held out;
    the pooled value uses all songs at once (the number a user of the whole data set would see).
    """
    per_fold = [score_metrics(score[fold == k], prob[fold == k], rank[fold == k]) for k in np.unique(fold) if k >= 0]
    pooled = score_metrics(score, prob, rank)
    out: dict[str, dict[str, Any]] = {}
    for name in METRIC_NAMES:
        values = np.array([m[name] for m in per_fold], dtype=np.float64)
        out[name] = {
            "mean": float(np.mean(values)),
            "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
            "pooled": pooled[name],
            "folds": [float(v) for v in values],
        }
    return out
