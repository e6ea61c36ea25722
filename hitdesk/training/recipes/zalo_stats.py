"""The ``zalo-stats`` recipe, the default model: an MLP ensemble on the chart data's 42 per-song statistics.

``hitdesk-train fit --recipe zalo-stats --data DIR`` (``make model``) runs it. It cross-validates
the baselines and the ensemble on the same artist-disjoint folds, exports the ensemble (a
``.head.onnx`` on statistics and a combined ``.onnx`` on log-mel), checks that onnxruntime and the
app's own loader reproduce the trained nets, and writes the card and the report. The ensemble
members that ship are the fold models whose held-out scores fill the card, so a reviewer and
``make model`` get the same numbers.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from hitdesk.errors import ModelError
from hitdesk.training import baselines, export
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
from hitdesk.training.recipes import ZALO_STATS
from hitdesk.training.recipes.base import FitOutcome, FitRequest
from hitdesk.training.report import MAJORITY, RecipeReport, Section, write_report
from hitdesk.training.zalo import ChartData, fold_index, load_zalo

log = logging.getLogger(__name__)

NAME = ZALO_STATS
SUMMARY = (
    "an ensemble of small MLPs on the chart data's 42 per-song statistics, one member per artist-disjoint fold, "
    "trained on window-shifted copies too, calibrated together"
)
MODEL_VERSION = "1.0.0"
DATA_NAME = "Zalo AI Challenge 2019 hit song prediction (Zing MP3 chart ranks)"
PARITY_ATOL = 1e-4
SHIPPED_ROW = "MLP ensemble, window-shift augmentation"
PLAIN_ROW = "MLP ensemble, no augmentation"

Summary = dict[str, dict[str, Any]]


def ensemble_config(req: FitRequest) -> EnsembleConfig:
    """The recipe's ensemble, with the request's seed and (for smoke runs) its shorter training."""
    config = EnsembleConfig(seed=req.seed)
    if req.epochs is not None:
        mlp = dataclasses.replace(config.mlp, max_epochs=req.epochs, patience=req.epochs)
        config = dataclasses.replace(config, mlp=mlp)
    if req.nets_per_member is not None:
        config = dataclasses.replace(config, nets_per_member=req.nets_per_member)
    return config


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
    shift_path: Path
    shift_reason: str
    windows: dict[str, Summary]

    @property
    def shipped(self) -> TrainedEnsemble:
        return self.augmented or self.plain

    @property
    def shipped_key(self) -> str:
        return "with_augmentation" if self.augmented is not None else "without_augmentation"

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


def _load_shift(req: FitRequest) -> tuple[WindowShift | None, WindowShift | None, Path, str]:
    """(shift to train with, shift to evaluate with, its file, why there is no training shift)."""
    path = req.window_shift or DEFAULT_WINDOW_SHIFT
    if not path.is_file():
        return None, None, path, f"no {path.name} found"
    shift = WindowShift.load(path)
    if not req.augment:
        return None, shift, path, "disabled with --no-augment"
    return shift, shift, path, ""


def _cross_validate(req: FitRequest) -> _Run:
    assert req.data is not None
    data = load_zalo(req.data)
    t0 = time.perf_counter()
    base = _baseline_summaries(data, req.seed)
    baseline_seconds = time.perf_counter() - t0
    reference = _reference_summaries(data, req.seed) if req.reference_check else {}

    config = ensemble_config(req)
    shift, eval_shift, shift_path, reason = _load_shift(req)
    plain = fit_ensemble(data, config, None)
    augmented = fit_ensemble(data, config, shift) if shift is not None else None
    windows: dict[str, Summary] = {}
    if eval_shift is not None:
        for key, ens in (("without_augmentation", plain), ("with_augmentation", augmented)):
            if ens is not None:
                score, prob = simulated_window_oof(ens, data, eval_shift, req.seed + 1)
                windows[key] = fold_summary(score, prob, data.rank, ens.fold)
    return _Run(data, base, baseline_seconds, reference, plain, augmented, shift, shift_path, reason, windows)


def _check_parity(ens: TrainedEnsemble, head_path: Path, stats: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """The exported head must reproduce the torch ensemble; refuse to ship it otherwise."""
    onnx_out = run_head(head_path, stats)
    ref = ens.predict(stats.astype(np.float32).astype(np.float64))
    worst = max(float(np.max(np.abs(onnx_out[k] - ref[k]))) for k in export.OUTPUT_NAMES)
    if worst > PARITY_ATOL:
        raise ModelError(f"Exported head differs from the trained ensemble by {worst:.2e} (> {PARITY_ATOL}).")
    log.info("parity of %s with torch: max |diff| %.2e", head_path.name, worst)
    return worst, onnx_out


def _check_runtime(stem: Path, expected: dict[str, np.ndarray], stats: np.ndarray) -> None:
    """The app's loader must accept the files and card as written, and score as the ensemble does."""
    from hitdesk.model.runtime import HitModel

    scores = HitModel(stem).score_stats(stats)
    got = np.array([[s.p_hit, s.p_hit_low, s.p_hit_high] for s in scores])
    want = np.column_stack([expected["p_hit"], expected["p_hit_low"], expected["p_hit_high"]])
    worst = float(np.max(np.abs(got - want)))
    if worst > PARITY_ATOL:
        raise ModelError(f"The app scores '{stem.name}' differently from the trained ensemble ({worst:.2e}).")


def _range_facts(outputs: dict[str, np.ndarray], distance: np.ndarray) -> dict[str, Any]:
    """How wide p_hit_low..p_hit_high is on the training songs, and whether it grows with unfamiliarity."""
    width = outputs["p_hit_high"] - outputs["p_hit_low"]
    return {
        "width_percentiles_training_songs": {str(q): float(np.percentile(width, q)) for q in (5, 50, 95)},
        "spearman_width_vs_familiarity_distance": float(spearmanr(width, distance).statistic),
    }


def _export(run: _Run, req: FitRequest) -> tuple[_Exported, dict[str, np.ndarray]]:
    name = req.model_name
    files = {"combined": f"{name}.onnx", "head": f"{name}.head.onnx", "card": f"{name}.json"}
    weights = head_weights(run.shipped)
    save(export.head_model(weights, name), req.out_dir / files["head"])
    save(export.combined_model(weights, name), req.out_dir / files["combined"])
    parity, outputs = _check_parity(run.shipped, req.out_dir / files["head"], run.data.stats)
    familiarity = FamiliarityFit.fit(run.data.stats)
    facts = _range_facts(outputs, familiarity.distance(run.data.stats))
    return _Exported(files, parity, familiarity, facts), outputs


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


def _card(run: _Run, exported: _Exported, req: FitRequest, total_seconds: float) -> dict[str, Any]:
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
        name=req.model_name,
        version=MODEL_VERSION,
        recipe=NAME,
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
            "window_shift": run.shift.summary(run.shift_path) if run.shift is not None else {"used": False},
            "reason_not_used": run.shift_reason or None,
        },
        training={
            "command": f"hitdesk-train fit --recipe {NAME}",
            "seed": req.seed,
            "seconds_total": total_seconds,
            "seconds_baselines": run.baseline_seconds,
            "seconds_ensemble_without_augmentation": run.plain.seconds,
            "seconds_ensemble_with_augmentation": run.augmented.seconds if run.augmented is not None else None,
            "onnx_parity_max_abs_diff": exported.parity,
            "python": platform.python_version(),
            "torch": _torch_version(),
        },
        caveat_list=caveats(run.data, shipped_summary, run.fold_hit_rates, run.windows.get(run.shipped_key)),
    )


def _torch_version() -> str:
    import torch

    return str(torch.__version__)


def _row(name: str, summary: Summary, notes: list[str] | None = None, prob: np.ndarray | None = None) -> RecipeReport:
    """A report row from a fold summary: its per-fold values, and the pooled ones beside them."""
    n_folds = len(next(iter(summary.values()))["folds"])
    folds = [{m: float(v["folds"][k]) for m, v in summary.items()} for k in range(n_folds)]
    pooled = {m: float(v["pooled"]) for m, v in summary.items()}
    return RecipeReport(name, "binary", folds, oof_prob=prob, notes=notes or [], pooled=pooled)


def _report(run: _Run, exported: _Exported, req: FitRequest, total_seconds: float) -> None:
    # The report's own name for the constant predictor, so that it is judged as the majority baseline.
    names = {baselines.MAJORITY_NAME: MAJORITY}
    rows = [_row(names.get(name, name), summary) for name, summary in run.baselines.items()]
    plain = run.summary(run.plain)
    augmented = run.summary(run.augmented)
    assert plain is not None
    shipped_prob = run.shipped.oof_prob
    rows.append(_row(PLAIN_ROW, plain, prob=None if augmented is not None else shipped_prob))
    if augmented is not None:
        rows.append(_row(SHIPPED_ROW, augmented, notes=[f"The shipped model: {SUMMARY}."], prob=shipped_prob))
    for row in rows:
        row.oof_hit = run.data.hit if row.oof_prob is not None else None
    sections = []
    if run.windows:
        window_rows = [_row(f"MLP ensemble, {key.replace('_', ' ')}", s) for key, s in run.windows.items()]
        text = (
            "The chart data has no audio, so window-level skill cannot be measured; this moves every held-out "
            "song's statistics by a draw of the (window - track) differences measured on real music and scores "
            "the same folds again (calibration maps fit on un-shifted held-out scores, as shipped)."
        )
        sections.append(
            Section("Simulated 30 s windows (held-out songs + one draw of the window shift each)", text, window_rows)
        )
    if run.reference:
        text = (
            "The README's reference numbers group on the raw `artist_id`, so a song by '455.306' and one by "
            "'455' can sit on both sides of a split. Same models, those folds:"
        )
        reference_rows = [_row(name, summary) for name, summary in run.reference.items()]
        sections.append(
            Section("Check against the data README (folds grouped on the raw artist_id string)", text, reference_rows)
        )
    title = f"Default model {req.model_name} {MODEL_VERSION} ({NAME}): training report"
    write_report(req.report_path, title, rows, _facts(run, req, total_seconds, exported.parity), sections, _notes(run))


def _facts(run: _Run, req: FitRequest, seconds: float, parity: float) -> list[str]:
    data, ens = run.data, run.shipped
    assert data.groups is not None
    shipped = "with" if ens.window_shift is not None else "without"
    return [
        f"Data: `{req.data}`: {data.n} songs used, {data.n_dropped} dropped (all MFCC statistics zero), "
        f"{len(np.unique(data.groups))} artist groups, hit rate {data.hit.mean():.3f}.",
        f"Folds: {CV_SCHEME} over connected artist groups; held-out hit rates "
        + ", ".join(f"{r:.2f}" for r in run.fold_hit_rates)
        + ". Every row is scored on songs whose artists it never saw; each ensemble member on the fold it "
        "did not train on.",
        "Ranking metrics (Spearman against -rank, ROC-AUC and PR-AUC for hit = rank <= 3) use each model's "
        "score; Brier and ECE (10 equal-width bins) its probability. Per-fold ECE also counts the gap between "
        "the folds' hit rates (one fold holds a large, hit-rich artist cluster); the pooled values use all "
        "out-of-fold predictions at once.",
        f"Shipped: `{req.model_name}` {MODEL_VERSION} ({shipped} augmentation), {len(ens.members)} members x "
        f"{ens.config.nets_per_member} nets, calibration {type(ens.calibrator).__name__}; "
        f"ONNX head parity with torch: max |diff| {parity:.1e}; the app's loader reads the files as written.",
        f"Seed {req.seed}; total run time {seconds:.0f} s (baselines {run.baseline_seconds:.0f} s, ensemble "
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
    if run.augmented is None:
        notes.append(f"{SHIPPED_ROW}: not run: {run.shift_reason}.")
    for name, summary in run.baselines.items():
        d_rho = ours["spearman"]["mean"] - summary["spearman"]["mean"]
        d_auc = ours["roc_auc"]["mean"] - summary["roc_auc"]["mean"]
        notes.append(f"Shipped model minus {name}: Spearman {d_rho:+.3f}, ROC-AUC {d_auc:+.3f} (fold means).")
    return notes


def fit_chart(req: FitRequest) -> FitOutcome:
    """Cross-validate, export the shipped ensemble, check it loads, write its card and the report."""
    started = time.perf_counter()
    run = _cross_validate(req)
    req.out_dir.mkdir(parents=True, exist_ok=True)
    exported, outputs = _export(run, req)
    total_seconds = time.perf_counter() - started
    card = _card(run, exported, req, total_seconds)
    stem = req.out_dir / req.model_name
    write_card(card, stem.with_suffix(".json"))
    _check_runtime(stem, outputs, run.data.stats)
    _report(run, exported, req, total_seconds)
    return FitOutcome(card, stem.with_suffix(".onnx"), req.report_path, 0.0, [])
