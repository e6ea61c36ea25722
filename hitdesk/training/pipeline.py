"""``fit-default``: cross-validate the baselines and the ensemble, export, write card and report.

One function runs the whole recipe so that ``make model`` and a reviewer get the same numbers:
the ensemble members that ship are the fold models whose held-out scores fill the card.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from hitdesk.errors import ModelError
from hitdesk.training import baselines, export, report
from hitdesk.training.augment import DEFAULT_WINDOW_SHIFT, WindowShift
from hitdesk.training.calibration import to_card as calibration_card
from hitdesk.training.card import CV_SCHEME, build_card, caveats, write_card
from hitdesk.training.ensemble import (
    EnsembleConfig,
    TrainedEnsemble,
    fit_ensemble,
    head_weights,
    simulated_window_oof,
)
from hitdesk.training.evaluate import run_head
from hitdesk.training.familiarity import FamiliarityFit
from hitdesk.training.graph import save
from hitdesk.training.metrics import fold_summary
from hitdesk.training.zalo import ChartData, fold_index, load_zalo

log = logging.getLogger(__name__)

# The runtime loads this name by default (hitdesk.model.runtime.DEFAULT_MODEL_NAME).
MODEL_NAME = "hitdesk-zalo-v1"
MODEL_VERSION = "1.0.0"
DATA_NAME = "Zalo AI Challenge 2019 hit song prediction (Zing MP3 chart ranks)"
PARITY_ATOL = 1e-4

Summary = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class FitOptions:
    data_dir: Path
    out_dir: Path
    report_path: Path
    augment: bool = True
    seed: int = 0
    window_shift_path: Path = DEFAULT_WINDOW_SHIFT
    name: str = MODEL_NAME
    version: str = MODEL_VERSION
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)
    reference_check: bool = True  # also score baselines on the README's raw-artist_id folds


@dataclass
class _Run:
    """Everything cross-validation produced; the card and the report are views of it."""

    data: ChartData
    baselines: dict[str, Summary]
    baseline_seconds: float
    reference: dict[str, Summary]
    plain: TrainedEnsemble
    augmented: TrainedEnsemble | None
    shift: WindowShift | None
    shift_reason: str
    windows: dict[str, Summary]

    @property
    def shipped(self) -> TrainedEnsemble:
        return self.augmented or self.plain

    def summary(self, ens: TrainedEnsemble | None) -> Summary | None:
        return None if ens is None else fold_summary(ens.oof_score, ens.oof_prob, self.data.rank, ens.fold)

    @property
    def fold(self) -> np.ndarray:
        return self.plain.fold

    @property
    def fold_hit_rates(self) -> list[float]:
        return [float(self.data.hit[self.fold == k].mean()) for k in range(int(self.fold.max()) + 1)]


@dataclass(frozen=True)
class _Exported:
    files: dict[str, str]
    parity: float
    familiarity: FamiliarityFit
    range_facts: dict[str, Any]


def _baseline_summaries(data: ChartData, seed: int) -> dict[str, Summary]:
    assert data.groups is not None
    fold = fold_index(data.groups)
    return {b.name: fold_summary(b.score, b.prob, data.rank, fold) for b in baselines.all_baselines(data, seed)}


def _reference_summaries(data: ChartData, seed: int) -> dict[str, Summary]:
    """Baselines on folds grouped by the raw artist_id string, as the data README computed its numbers."""
    assert data.artist_ids is not None
    raw_groups = np.unique(data.artist_ids, return_inverse=True)[1].astype(np.int64)
    raw = dataclasses.replace(data, groups=raw_groups)
    fold = fold_index(raw_groups)
    outs = (baselines.genre_only(raw), baselines.ridge(raw), baselines.lightgbm_regressor(raw, seed))
    return {b.name: fold_summary(b.score, b.prob, data.rank, fold) for b in outs}


def _load_shift(opts: FitOptions) -> tuple[WindowShift | None, WindowShift | None, str]:
    """(shift to train with, shift to evaluate with, why there is no training shift)."""
    if not opts.window_shift_path.is_file():
        return None, None, f"no {opts.window_shift_path.name} found"
    shift = WindowShift.load(opts.window_shift_path)
    if not opts.augment:
        return None, shift, "disabled with --no-augment"
    return shift, shift, ""


def _cross_validate(opts: FitOptions) -> _Run:
    data = load_zalo(opts.data_dir)
    t0 = time.perf_counter()
    base = _baseline_summaries(data, opts.seed)
    baseline_seconds = time.perf_counter() - t0
    reference = _reference_summaries(data, opts.seed) if opts.reference_check else {}

    config = dataclasses.replace(opts.ensemble, seed=opts.seed)
    shift, eval_shift, reason = _load_shift(opts)
    plain = fit_ensemble(data, config, None)
    augmented = fit_ensemble(data, config, shift) if shift is not None else None
    windows: dict[str, Summary] = {}
    if eval_shift is not None:
        for key, ens in (("without_augmentation", plain), ("with_augmentation", augmented)):
            if ens is not None:
                score, prob = simulated_window_oof(ens, data, eval_shift, opts.seed + 1)
                windows[key] = fold_summary(score, prob, data.rank, ens.fold)
    return _Run(data, base, baseline_seconds, reference, plain, augmented, shift, reason, windows)


def _check_parity(ens: TrainedEnsemble, head_path: Path, stats: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """The exported head must reproduce the torch ensemble; refuse to ship it otherwise."""
    onnx_out = run_head(head_path, stats)
    ref = ens.predict(stats.astype(np.float32).astype(np.float64))
    worst = max(float(np.max(np.abs(onnx_out[k] - ref[k]))) for k in export.OUTPUT_NAMES)
    if worst > PARITY_ATOL:
        raise ModelError(f"Exported head differs from the trained ensemble by {worst:.2e} (> {PARITY_ATOL}).")
    log.info("parity of %s with torch: max |diff| %.2e", head_path.name, worst)
    return worst, onnx_out


def _range_facts(outputs: dict[str, np.ndarray], distance: np.ndarray) -> dict[str, Any]:
    """How wide p_hit_low..p_hit_high is on the training songs, and whether it grows with unfamiliarity."""
    width = outputs["p_hit_high"] - outputs["p_hit_low"]
    return {
        "width_percentiles_training_songs": {str(q): float(np.percentile(width, q)) for q in (5, 50, 95)},
        "spearman_width_vs_familiarity_distance": float(spearmanr(width, distance).statistic),
    }


def _export(run: _Run, opts: FitOptions) -> _Exported:
    files = {"combined": f"{opts.name}.onnx", "head": f"{opts.name}.head.onnx", "card": f"{opts.name}.json"}
    weights = head_weights(run.shipped)
    save(export.head_model(weights, opts.name), opts.out_dir / files["head"])
    save(export.combined_model(weights, opts.name), opts.out_dir / files["combined"])
    parity, outputs = _check_parity(run.shipped, opts.out_dir / files["head"], run.data.stats)
    familiarity = FamiliarityFit.fit(run.data.stats)
    return _Exported(files, parity, familiarity, _range_facts(outputs, familiarity.distance(run.data.stats)))


def _member_info(ens: TrainedEnsemble) -> list[dict[str, Any]]:
    return [
        {
            "fold": m.fold,
            "score_center": m.center,
            "score_scale": m.scale,
            "nets": [{k: v for k, v in info.items() if k != "val_loss"} for info in m.train_info],
        }
        for m in ens.members
    ]


def _card(run: _Run, exported: _Exported, opts: FitOptions, total_seconds: float) -> dict[str, Any]:
    ens = run.shipped
    shipped_summary = run.summary(ens)
    assert shipped_summary is not None
    cv = {
        "scheme": CV_SCHEME,
        "grouping": "connected components of songs sharing any artist id (multi-artist ids split on '.')",
        "evaluated_on": "each member on the fold it did not train on; calibration cross-fitted across folds",
        "fold_sizes": [int((run.fold == k).sum()) for k in range(len(run.fold_hit_rates))],
        "fold_hit_rates": run.fold_hit_rates,
        "default": shipped_summary,
        "without_augmentation": run.summary(run.plain),
        "with_augmentation": run.summary(run.augmented),
        "simulated_windows": (
            {"description": "held-out songs moved by one draw each of the measured window-minus-track shift"}
            | run.windows
            if run.windows
            else None
        ),
    }
    return build_card(
        name=opts.name,
        version=opts.version,
        data=run.data,
        data_name=DATA_NAME,
        io=export.io_description(len(ens.members)),
        files=exported.files,
        model={
            "type": "ensemble of MLPs on the 42 standardised statistics, one member per CV fold",
            "members": len(ens.members),
            "nets_per_member": ens.config.nets_per_member,
            "config": ens.config.to_dict(),
            "member_score": "mean of the member's nets' hit logits, normalised by their mean/std on the member's "
            "training songs, then calibrated",
            "members_detail": _member_info(ens),
        },
        cv=cv,
        baselines=run.baselines,
        calibration={
            **calibration_card(ens.calibrator),
            "fit_on": "out-of-fold member scores of all songs vs hit",
            "applied_to": "every member's score, inside the ONNX graph",
            **ens.calibration_summary,
        },
        uncertainty={
            "method": "member range",
            "description": "p_hit is the mean of the members' calibrated probabilities; p_hit_low and p_hit_high "
            "are their minimum and maximum (so p_hit_low <= p_hit <= p_hit_high always). Each member was trained "
            "without a different fifth of the artists, so the range shows how much the answer depends on which "
            "songs the model saw; it tends to widen for tracks unlike the training songs (see the measured "
            "correlation of width with the familiarity distance).",
            **exported.range_facts,
        },
        familiarity=exported.familiarity.to_card(),
        augmentation={
            "window_shift": run.shift.summary(opts.window_shift_path) if run.shift is not None else {"used": False},
            "reason_not_used": run.shift_reason or None,
        },
        training={
            "command": "hitdesk-train fit-default",
            "seed": opts.seed,
            "seconds_total": total_seconds,
            "seconds_baselines": run.baseline_seconds,
            "seconds_ensemble_without_augmentation": run.plain.seconds,
            "seconds_ensemble_with_augmentation": run.augmented.seconds if run.augmented is not None else None,
            "onnx_parity_max_abs_diff": exported.parity,
            "python": platform.python_version(),
            "torch": _torch_version(),
        },
        caveat_list=caveats(run.data, shipped_summary, run.fold_hit_rates, run.windows.get(_shipped_key(run))),
    )


def _shipped_key(run: _Run) -> str:
    return "with_augmentation" if run.augmented is not None else "without_augmentation"


def _torch_version() -> str:
    import torch

    return str(torch.__version__)


def _report(run: _Run, exported: _Exported, opts: FitOptions, total_seconds: float) -> str:
    rows = [report.Row(name, summary) for name, summary in run.baselines.items()]
    rows.append(report.Row("MLP ensemble, no augmentation", run.summary(run.plain)))
    rows.append(
        report.Row(
            "MLP ensemble, window-shift augmentation", run.summary(run.augmented), f"not run: {run.shift_reason}"
        )
    )
    window_rows = [report.Row(f"MLP ensemble, {key.replace('_', ' ')}", s) for key, s in run.windows.items()]
    return report.render(
        title=f"Default model {opts.name} {opts.version}: training report",
        rows=rows,
        window_rows=window_rows,
        reference_rows=[report.Row(name, summary) for name, summary in run.reference.items()],
        facts=_facts(run, opts, total_seconds, exported.parity),
        notes=_notes(run),
    )


def _facts(run: _Run, opts: FitOptions, seconds: float, parity: float) -> list[str]:
    data, ens = run.data, run.shipped
    assert data.groups is not None
    shipped = "with" if ens.window_shift is not None else "without"
    return [
        f"Data: `{opts.data_dir}`: {data.n} songs used, {data.n_dropped} dropped (all MFCC statistics zero), "
        f"{len(np.unique(data.groups))} artist groups, hit rate {data.hit.mean():.3f}.",
        f"Folds: {CV_SCHEME} over connected artist groups; held-out hit rates "
        + ", ".join(f"{r:.2f}" for r in run.fold_hit_rates)
        + ".",
        f"Shipped: `{opts.name}` {opts.version} ({shipped} augmentation), {len(ens.members)} members x "
        f"{ens.config.nets_per_member} nets, calibration {type(ens.calibrator).__name__}; "
        f"ONNX head parity with torch: max |diff| {parity:.1e}.",
        f"Seed {opts.seed}; total run time {seconds:.0f} s (baselines {run.baseline_seconds:.0f} s, ensemble "
        f"{run.plain.seconds:.0f} s without and "
        + (f"{run.augmented.seconds:.0f} s with augmentation)." if run.augmented else "no augmented run)."),
    ]


def _notes(run: _Run) -> list[str]:
    ens = run.shipped
    ours = run.summary(ens)
    assert ours is not None
    ece = ens.calibration_summary["held_out_ece"]
    notes = [
        f"Calibration: cross-fitted pooled ECE Platt {ece['platt']:.4f} vs isotonic {ece['isotonic']:.4f}; "
        f"isotonic is used only if better by more than {ens.calibration_summary['isotonic_margin']}.",
    ]
    for name, summary in run.baselines.items():
        d_rho = ours["spearman"]["mean"] - summary["spearman"]["mean"]
        d_auc = ours["roc_auc"]["mean"] - summary["roc_auc"]["mean"]
        notes.append(f"Shipped model minus {name}: Spearman {d_rho:+.3f}, ROC-AUC {d_auc:+.3f} (fold means).")
    return notes


def fit_default(opts: FitOptions) -> dict[str, Any]:
    """Cross-validate, export the shipped ensemble, and write its card and the report; returns the card."""
    started = time.perf_counter()
    run = _cross_validate(opts)
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    exported = _export(run, opts)
    total_seconds = time.perf_counter() - started
    card = _card(run, exported, opts, total_seconds)
    write_card(card, opts.out_dir / exported.files["card"])
    report.write(_report(run, exported, opts, total_seconds), opts.report_path)
    return card
