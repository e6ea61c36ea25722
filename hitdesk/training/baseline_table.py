"""``hitdesk-train baselines``: every recipe that runs on per-song statistics, on the same artist-disjoint folds.

One table, one row per recipe, all scored by ``metrics.binary_metrics`` on each held-out fold
(hit = rank <= 3, popularity = 11 - rank for the ranking metrics), so a reader can see at a glance
whether any model beats the majority class and the genre tag on songs by artists it never saw.
The folds are ``zalo.cv_folds`` over the connected artist groups, the ones the default model's
card was measured on.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hitdesk.training import baselines
from hitdesk.training.metrics import binary_metrics
from hitdesk.training.report import RecipeReport, write_report
from hitdesk.training.zalo import HIT_MAX_RANK, ChartData, cv_folds, fold_index, load_zalo

log = logging.getLogger(__name__)

ROW_NAMES = (
    "majority",
    "genre only",
    "linear (ridge)",
    "dense network",
    "gradient boosting (LightGBM)",
    "default model",
)
DEFAULT_MODE_CV = "cv"  # cross-validate the default model's ensemble again, on these folds
DEFAULT_MODE_CARD = "card"  # take the per-fold figures measured in its model card
MAX_RANK = 10


@dataclass(frozen=True)
class BaselineOptions:
    data_dir: Path
    report_path: Path
    seed: int = 0
    default_mode: str = DEFAULT_MODE_CV
    card_path: Path | None = None  # the default model's card (for DEFAULT_MODE_CARD and the facts)
    dense_epochs: int | None = None  # None: the recipe's own
    ensemble_max_epochs: int | None = None  # smoke tests only: a short default-model run
    ensemble_nets_per_member: int | None = None


@dataclass
class _Row:
    name: str
    prob: np.ndarray | None  # out-of-fold P(hit); None when the figures come from elsewhere
    fold_metrics: list[dict[str, float]]
    seconds: float
    notes: list[str]


def popularity_of(rank: np.ndarray) -> np.ndarray:
    """Higher = more popular, on 1..10, so that rank 10 gains nothing in nDCG."""
    return (MAX_RANK + 1 - np.asarray(rank, dtype=np.float64)).astype(np.float64)


def _fold_metrics(data: ChartData, prob: np.ndarray, rank_pred: np.ndarray | None = None) -> list[dict[str, float]]:
    assert data.groups is not None
    out = []
    popularity = popularity_of(data.rank)
    for _, test in cv_folds(data.groups):
        m = binary_metrics(data.hit[test], prob[test], popularity[test])
        if rank_pred is not None:  # regressors also predict the rank itself
            err = rank_pred[test] - data.rank[test]
            m["mae"] = float(np.mean(np.abs(err)))
            total = float(np.sum((data.rank[test] - data.rank[test].mean()) ** 2))
            m["r2"] = 1.0 - float(np.sum(err**2)) / total if total > 0 else math.nan
        out.append(m)
    return out


def _timed(name: str, fn: Callable[[], tuple[np.ndarray, np.ndarray | None, list[str]]], data: ChartData) -> _Row:
    t0 = time.perf_counter()
    prob, rank_pred, notes = fn()
    seconds = time.perf_counter() - t0
    log.info("%s: %.1f s", name, seconds)
    return _Row(name, prob, _fold_metrics(data, prob, rank_pred), seconds, notes)


def _dense_oof(data: ChartData, opts: BaselineOptions) -> tuple[np.ndarray, None, list[str]]:
    from hitdesk.training.dense import EPOCHS, fit_dense

    assert data.groups is not None
    epochs = opts.dense_epochs or EPOCHS
    prob = np.empty(data.n)
    for k, (train, test) in enumerate(cv_folds(data.groups)):
        model = fit_dense(data.stats[train], data.hit[train], seed=opts.seed + k, epochs=epochs)
        prob[test] = model.predict(data.stats[test])
    note = (
        f"Sequential dense network (standardised 42 statistics, ReLU 64-32, sigmoid, Adam, binary cross-entropy, "
        f"{epochs} epochs, batch 32); its sigmoid output is used as P(hit) without further calibration."
    )
    return prob, None, [note]


def _regressor(fn: Callable[[ChartData], baselines.OutOfFold]) -> Callable[[ChartData], Any]:
    def run(data: ChartData) -> tuple[np.ndarray, np.ndarray, list[str]]:
        oof = fn(data)
        note = (
            "Regresses -rank on the 42 statistics; P(hit) by Platt scaling fit on inner artist-disjoint folds of "
            "each training part. MAE and R² are of the predicted rank (1-10)."
        )
        return oof.prob, -oof.score, [note]

    return run


def _default_cv(data: ChartData, opts: BaselineOptions) -> tuple[np.ndarray, None, list[str]]:
    from hitdesk.training.augment import DEFAULT_WINDOW_SHIFT, WindowShift
    from hitdesk.training.ensemble import fit_ensemble
    from hitdesk.training.recipes import ZALO_STATS
    from hitdesk.training.recipes.base import FitRequest
    from hitdesk.training.recipes.zalo_stats import ensemble_config

    req = FitRequest(
        recipe=ZALO_STATS,
        data=opts.data_dir,
        seed=opts.seed,
        epochs=opts.ensemble_max_epochs,
        nets_per_member=opts.ensemble_nets_per_member,
    )
    config = ensemble_config(req)
    shift = WindowShift.load(DEFAULT_WINDOW_SHIFT) if DEFAULT_WINDOW_SHIFT.is_file() else None
    ens = fit_ensemble(data, config, shift)
    note = (
        f"Cross-validated again here with the shipped recipe ({ZALO_STATS}: MLP ensemble, one member "
        f"per fold, {config.nets_per_member} nets each, window-shift augmentation "
        f"{'on' if shift is not None else 'off (no measurement file)'}, calibration cross-fitted across folds), "
        "on the same folds as the other rows."
    )
    return ens.oof_prob, None, [note]


def _default_from_card(card_path: Path) -> _Row:
    card = json.loads(card_path.read_text(encoding="utf-8"))
    cv = card["metrics"]["cv"]["default"]
    n_folds = len(cv["roc_auc"]["folds"])
    folds = [{name: float(values["folds"][k]) for name, values in cv.items()} for k in range(n_folds)]
    note = (
        f"Figures measured when {card['name']} {card['version']} was trained, read from `{card_path.name}` "
        f"(same artist-disjoint folds); the card holds {', '.join(sorted(cv))} only, so the other columns are n/a."
    )
    return _Row("default model", None, folds, 0.0, [note])


def _card_check(card_path: Path, row: _Row | None) -> str:
    """How this run's default-model figures compare with those its model card recorded at training."""
    try:
        all_cv = json.loads(card_path.read_text(encoding="utf-8"))["metrics"]["cv"]
        # This command re-runs the augmented network ensemble; from v2 on that is the window head, not the default.
        cv = all_cv.get("with_augmentation") or all_cv["default"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ""
    if row is None:
        return ""
    ours = RecipeReport(row.name, "binary", row.fold_metrics).summary()
    parts = [
        f"{label} {ours[key]['mean']:.3f} here vs {cv[key]['mean']:.3f} in the card"
        for key, label in (("roc_auc", "ROC-AUC"), ("spearman", "Spearman"))
        if key in ours and key in cv
    ]
    return f" (check against `{card_path.name}`: " + ", ".join(parts) + ")" if parts else ""


def _facts(data: ChartData, opts: BaselineOptions, rows: list[_Row], seconds: float) -> list[str]:
    assert data.groups is not None
    fold = fold_index(data.groups)
    rates = ", ".join(f"{data.hit[fold == k].mean():.2f}" for k in range(int(fold.max()) + 1))
    default_source = (
        "cross-validated in this run"
        if opts.default_mode == DEFAULT_MODE_CV
        else f"figures from its model card `{opts.card_path}`"
    )
    default_row = next((r for r in rows if r.name == "default model"), None)
    if opts.default_mode == DEFAULT_MODE_CV and opts.card_path is not None and opts.card_path.is_file():
        default_source += _card_check(opts.card_path, default_row)
    return [
        f"Data: `{opts.data_dir}`: {data.n} songs ({data.n_dropped} dropped: all MFCC statistics zero), "
        f"{len(np.unique(data.groups))} artist groups (songs sharing any artist id are joined).",
        f"Label: hit = chart rank <= {HIT_MAX_RANK} (base rate {data.hit.mean():.3f}); ranking metrics (Spearman, "
        "Kendall, recall@10%, nDCG@10%) are against popularity = 11 - rank, K = 10% of each held-out fold.",
        f"Folds: 5 artist-disjoint folds (GroupKFold over the artist groups); held-out hit rates {rates}. "
        "Every cell is the mean ± standard deviation over the 5 held-out folds.",
        "Accuracy uses a 0.5 threshold on P(hit); with 30% hits a model that never says 'hit' is 70% accurate, "
        "which is the majority rate beside it.",
        f"Default model: {default_source}.",
        f"Seed {opts.seed}; run time {seconds:.0f} s in all ("
        + ", ".join(f"{r.name} {r.seconds:.0f} s" for r in rows if r.prob is not None)
        + ").",
    ]


def run_baselines(opts: BaselineOptions) -> list[RecipeReport]:
    """Score every row, write the report and its figures; returns the per-row reports."""
    if opts.default_mode not in (DEFAULT_MODE_CV, DEFAULT_MODE_CARD):
        raise ValueError(f"default model mode must be '{DEFAULT_MODE_CV}' or '{DEFAULT_MODE_CARD}'")
    started = time.perf_counter()
    data = load_zalo(opts.data_dir)

    def majority() -> tuple[np.ndarray, None, list[str]]:
        return baselines.majority(data).prob, None, ["Each held-out song gets its training folds' hit rate."]

    def genre() -> tuple[np.ndarray, None, list[str]]:
        note = "Per-genre hit rate of the training folds (metadata.csv genre); unseen genres get the base rate."
        return baselines.genre_only(data).prob, None, [note]

    rows = [
        _timed("majority", majority, data),
        _timed("genre only", genre, data),
        _timed("linear (ridge)", lambda: _regressor(baselines.ridge)(data), data),
        _timed("dense network", lambda: _dense_oof(data, opts), data),
        _timed(
            "gradient boosting (LightGBM)",
            lambda: _regressor(lambda d: baselines.lightgbm_regressor(d, opts.seed))(data),
            data,
        ),
    ]
    if opts.default_mode == DEFAULT_MODE_CV:
        rows.append(_timed("default model", lambda: _default_cv(data, opts), data))
    else:
        if opts.card_path is None or not opts.card_path.is_file():
            raise FileNotFoundError(f"model card '{opts.card_path}' not found")
        rows.append(_default_from_card(opts.card_path))
    seconds = time.perf_counter() - started
    reports = [
        RecipeReport(
            recipe=r.name,
            task="binary",
            fold_metrics=r.fold_metrics,
            oof_hit=data.hit if r.prob is not None else None,
            oof_prob=r.prob,
            notes=r.notes,
        )
        for r in rows
    ]
    title = "Baselines on the chart data: per-song statistics, artist-disjoint folds"
    write_report(opts.report_path, title, reports, _facts(data, opts, rows, seconds))
    return reports
