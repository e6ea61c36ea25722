"""Every metric ``hitdesk-train`` reports: ranking against chart rank, classification, regression, tiers, top-K.

A hit model that always answers "not a hit" is right 70% of the time on chart data, so accuracy is
always reported beside the majority-class rate, and ranking (ROC-AUC, Spearman, recall@K) and
probability quality (Brier, calibration error) beside both. Recall@K and nDCG@K follow Yang et al.
(2017): K is 10% of the test set, the question being whether the songs a label would pick from the
model's top 10% are the ones that became popular.

``score_metrics`` and ``fold_summary`` are the chart data's view (the zalo-stats card, ``evaluate
--head``): a score ranks songs against the chart rank, a separate probability is judged by Brier
and calibration error, and per-fold values are kept with their pooled counterpart. ``binary_metrics``,
``regression_metrics`` and ``tier_metrics`` score one held-out fold of any recipe; ``summarise``
gives their mean and spread across folds. numpy/scipy/sklearn only, so the runtime-side
``evaluate`` command needs no torch.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from scipy.stats import kendalltau, rankdata, spearmanr
from sklearn.metrics import (
    average_precision_score,
    precision_recall_fscore_support,
    r2_score,
    roc_auc_score,
)

log = logging.getLogger(__name__)

METRIC_NAMES: tuple[str, ...] = ("spearman", "roc_auc", "pr_auc", "brier", "ece")  # the chart data's set
N_ECE_BINS = 10
TOP_SHARE = 0.1  # K = 10% of the test set (Yang et al. 2017)
TIER_EDGES = {"tiers3": (25.0, 65.0), "deciles": tuple(float(v) for v in range(10, 100, 10))}
TIER_NAMES = {"tiers3": ["0-25", "25-65", "65-100"], "deciles": [f"{10 * i}-{10 * i + 10}" for i in range(10)]}


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


def top_k(n: int) -> int:
    return max(1, round(TOP_SHARE * n))


def _tie_aware_discounts(pred: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per item, the expected top-K membership and expected DCG discount when ties are broken at random.

    Tied predictions share the positions they occupy (McSherry and Najork 2008), so a constant
    predictor scores what a random order would on average instead of what the input order gives.
    """
    n = len(pred)
    order = np.argsort(-pred, kind="stable")
    positions = np.arange(n)
    in_top = (positions < k).astype(np.float64)
    discount = np.where(positions < k, 1.0 / np.log2(positions + 2.0), 0.0)
    member = np.empty(n)
    disc = np.empty(n)
    sorted_pred = pred[order]
    start = 0
    while start < n:
        end = start + 1
        while end < n and sorted_pred[end] == sorted_pred[start]:
            end += 1
        member[order[start:end]] = in_top[start:end].mean()
        disc[order[start:end]] = discount[start:end].mean()
        start = end
    return member, disc


def _ranked_inputs(truth: np.ndarray, pred: np.ndarray, k: int | None) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Both as float arrays and K bounded by their length (the default K when None); None when empty."""
    truth = np.asarray(truth, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    n = len(truth)
    if n == 0:
        return None
    return truth, pred, top_k(n) if k is None else min(k, n)


def recall_at_k(truth: np.ndarray, pred: np.ndarray, k: int | None = None) -> float:
    """Share of the truly top-K items (all items tied at the K-th value count) among the K ranked highest."""
    prepared = _ranked_inputs(truth, pred, k)
    if prepared is None:
        return math.nan
    truth, pred, k = prepared
    kth = np.sort(truth)[::-1][k - 1]
    relevant = truth >= kth
    if relevant.all():
        return math.nan  # every item is "top": nothing to find
    member, _ = _tie_aware_discounts(pred, k)
    return float(member[relevant].sum() / min(k, int(relevant.sum())))


def ndcg_at_k(truth: np.ndarray, pred: np.ndarray, k: int | None = None) -> float:
    """nDCG@K with gain = truth minus its minimum (so the least popular item gains nothing), log2 discount."""
    prepared = _ranked_inputs(truth, pred, k)
    if prepared is None:
        return math.nan
    truth, pred, k = prepared
    gain = truth - truth.min()
    ideal_gain = np.sort(gain)[::-1][:k]
    ideal = float(np.sum(ideal_gain / np.log2(np.arange(len(ideal_gain)) + 2.0)))
    if ideal <= 0.0:
        return math.nan
    _, disc = _tie_aware_discounts(pred, k)
    return float(np.sum(gain * disc) / ideal)


def _correlations(truth: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    if len(truth) < 2 or np.ptp(truth) == 0.0:
        return {"spearman": math.nan, "kendall": math.nan}
    if np.ptp(pred) == 0.0:
        return {"spearman": 0.0, "kendall": 0.0}  # a constant carries no ranking information
    return {"spearman": float(spearmanr(pred, truth).statistic), "kendall": float(kendalltau(pred, truth).statistic)}


def _macro(y: np.ndarray, pred: np.ndarray, labels: list[int]) -> dict[str, float]:
    p, r, f, _ = precision_recall_fscore_support(y, pred, labels=labels, average="macro", zero_division=0.0)
    return {"macro_f1": float(f), "macro_precision": float(p), "macro_recall": float(r)}


def binary_metrics(hit: np.ndarray, prob: np.ndarray, popularity: np.ndarray | None = None) -> dict[str, float]:
    """Hit/not-hit quality of probabilities; ranking metrics against ``popularity`` when given, else the hit."""
    hit = np.asarray(hit).astype(np.int64)
    prob = np.asarray(prob, dtype=np.float64)
    pred = (prob >= 0.5).astype(np.int64)
    rate = float(hit.mean()) if len(hit) else math.nan
    one_class = len(hit) == 0 or hit.min() == hit.max()
    truth = hit.astype(np.float64) if popularity is None else np.asarray(popularity, dtype=np.float64)
    return {
        "accuracy": float(np.mean(pred == hit)),
        "majority_rate": max(rate, 1.0 - rate),
        "roc_auc": math.nan if one_class else float(roc_auc_score(hit, prob)),
        "pr_auc": math.nan if one_class else float(average_precision_score(hit, prob)),
        **_macro(hit, pred, [0, 1]),
        "brier": float(np.mean((prob - hit) ** 2)),
        "ece": expected_calibration_error(prob, hit),
        **_correlations(truth, prob),
        "recall_at_k": recall_at_k(truth, prob),
        "ndcg_at_k": ndcg_at_k(truth, prob),
    }


def regression_metrics(popularity: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    popularity = np.asarray(popularity, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    return {
        "mae": float(np.mean(np.abs(pred - popularity))),
        "r2": float(r2_score(popularity, pred)) if len(popularity) > 1 else math.nan,
        **_correlations(popularity, pred),
        "recall_at_k": recall_at_k(popularity, pred),
        "ndcg_at_k": ndcg_at_k(popularity, pred),
    }


def tier_metrics(tier: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """Ordered classes: exact and within-one-tier accuracy and the mean tier distance of the argmax."""
    tier = np.asarray(tier).astype(np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    pred = probs.argmax(axis=1)
    n_tiers = probs.shape[1]
    counts = np.bincount(tier, minlength=n_tiers)
    distance = np.abs(pred - tier)
    return {
        "accuracy": float(np.mean(distance == 0)),
        "majority_rate": float(counts.max() / max(len(tier), 1)),
        **_macro(tier, pred, list(range(n_tiers))),
        "within_one_accuracy": float(np.mean(distance <= 1)),
        "tier_mae": float(np.mean(distance)),
    }


def popularity_tiers(popularity: np.ndarray, scheme: str) -> np.ndarray:
    """Tier per item on the 0-100 percentile scale of popularity: "tiers3" (0-25, 25-65, 65-100) or "deciles"."""
    if scheme not in TIER_EDGES:
        raise ValueError(f"tier scheme must be one of {sorted(TIER_EDGES)}, not {scheme!r}")
    popularity = np.asarray(popularity, dtype=np.float64)
    if len(popularity) == 0:
        return np.zeros(0, dtype=np.int64)
    # Mid-rank percentiles: tied items share one tier, and the scale is symmetric around 50.
    pct = 100.0 * (rankdata(popularity, method="average") - 0.5) / len(popularity)
    tiers: np.ndarray = np.searchsorted(np.asarray(TIER_EDGES[scheme]), pct, side="right").astype(np.int64)
    return tiers


def confusion(truth: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts, rows = true class, columns = predicted class."""
    out = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(out, (np.asarray(truth, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1)
    return out


def summarise(fold_metrics: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and sample standard deviation of each metric across folds (folds where it is undefined are skipped)."""
    names: list[str] = []
    for m in fold_metrics:
        names += [k for k in m if k not in names]
    out: dict[str, dict[str, float]] = {}
    for name in names:
        values = np.array([m.get(name, math.nan) for m in fold_metrics], dtype=np.float64)
        values = values[~np.isnan(values)]
        out[name] = {
            "mean": float(values.mean()) if len(values) else math.nan,
            "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
        }
    return out
