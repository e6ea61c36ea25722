"""The ``zalo-stats`` recipe, the default model: two heads on the chart data's 42 per-song statistics.

``hitdesk-train fit --recipe zalo-stats --data DIR`` (``make model``) runs it. It cross-validates
the baselines and every candidate on the same artist-disjoint folds. The **track head**
(``<name>.head.onnx``, on whole-track statistics; the overall score) is chosen among the network
ensemble trained on the statistics as they are, LightGBM fold models and their blend
(``track_head``). The **window head** (``<name>.onnx``, log-mel through the statistics front end;
segment scores and the hit curve) is the network ensemble trained on window-shifted copies too.
Both are exported, checked against their Python models through onnxruntime and the app's loader,
and described in the card and the report. The members that ship are the fold models whose
held-out scores fill the card, so a reviewer and ``make model`` get the same numbers.
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
from hitdesk.training.familiarity import FamiliarityFit
from hitdesk.training.graph import save
from hitdesk.training.lgbm_members import LgbmConfig, LgbmMembers, fit_members
from hitdesk.training.metrics import fold_summary
from hitdesk.training.recipes import ZALO_STATS
from hitdesk.training.recipes.base import FitOutcome, FitRequest
from hitdesk.training.track_head import Candidate, TrackHead, candidates, choose
from hitdesk.training.zalo import ChartData, fold_index, load_zalo
from hitdesk.training.zalo_report import write_zalo_report

log = logging.getLogger(__name__)

NAME = ZALO_STATS
SUMMARY = (
    "two heads on the chart data's 42 per-song statistics, five artist-disjoint fold members each: a track head "
    "for the overall score and a window head (trained on window-shifted copies too) for segments"
)
MODEL_VERSION = "2.0.0"
DATA_NAME = "Zalo AI Challenge 2019 hit song prediction (Zing MP3 chart ranks)"
PARITY_ATOL = 1e-4
# Trees compare float32 statistics with float32 thresholds in the graph: a song within rounding of a split
# can take the other branch. Measured on the chart songs and recorded in the card.
TREE_PARITY_ATOL = 2e-2

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
    trees: LgbmMembers
    candidates: list[Candidate]
    track: TrackHead
    shift: WindowShift | None
    shift_path: Path
    shift_reason: str
    windows: dict[str, Summary]

    @property
    def window(self) -> TrainedEnsemble:
        """The window head's ensemble: trained on window-shifted copies when the shift was measured."""
        return self.augmented or self.plain

    @property
    def window_key(self) -> str:
        return "with_augmentation" if self.augmented is not None else "without_augmentation"

    def candidate_summaries(self) -> dict[str, Summary]:
        return {c.name: c.summary(self.data.rank, self.fold) for c in self.candidates}

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
    parity: dict[str, float]
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
    trees = fit_members(data, LgbmConfig(seed=req.seed))
    cands = candidates(plain, trees, data.hit, data.rank)
    floor = base["LightGBM (42 stats)"]
    track = TrackHead(choose(cands, floor, data.rank, plain.fold), plain, trees)
    log.info("track head: %s", track.candidate.name)
    windows: dict[str, Summary] = {}
    if eval_shift is not None:
        for key, ens in (("without_augmentation", plain), ("with_augmentation", augmented)):
            if ens is not None:
                score, prob = simulated_window_oof(ens, data, eval_shift, req.seed + 1)
                windows[key] = fold_summary(score, prob, data.rank, ens.fold)
    return _Run(
        data,
        base,
        baseline_seconds,
        reference,
        plain,
        augmented,
        trees,
        cands,
        track,
        shift,
        shift_path,
        reason,
        windows,
    )


def _run_model(model: Any, stats: np.ndarray) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    values = session.run(names, {"stats": np.ascontiguousarray(stats, dtype=np.float32)})
    return {n: np.asarray(v, dtype=np.float64) for n, v in zip(names, values, strict=True)}


def _check_parity(model: Any, reference: dict[str, np.ndarray], stats: np.ndarray, atol: float, what: str) -> float:
    """An exported graph must reproduce its Python model; refuse to ship it otherwise."""
    got = _run_model(model, stats)
    worst = max(float(np.max(np.abs(got[k] - reference[k]))) for k in export.OUTPUT_NAMES)
    if worst > atol:
        raise ModelError(f"Exported {what} differs from the trained model by {worst:.2e} (> {atol}).")
    log.info("parity of the %s: max |diff| %.2e", what, worst)
    return worst


def _check_runtime(stem: Path, expected: dict[str, np.ndarray], stats: np.ndarray, atol: float) -> None:
    """The app's loader must accept the files and card as written, and score as the track head does."""
    from hitdesk.model.runtime import HitModel

    scores = HitModel(stem).score_stats(stats)
    got = np.array([[s.p_hit, s.p_hit_low, s.p_hit_high] for s in scores])
    want = np.column_stack([expected["p_hit"], expected["p_hit_low"], expected["p_hit_high"]])
    worst = float(np.max(np.abs(got - want)))
    if worst > atol:
        raise ModelError(f"The app scores '{stem.name}' differently from the trained track head ({worst:.2e}).")


def _range_facts(outputs: dict[str, np.ndarray], distance: np.ndarray) -> dict[str, Any]:
    """How wide p_hit_low..p_hit_high is on the training songs, and whether it grows with unfamiliarity."""
    width = outputs["p_hit_high"] - outputs["p_hit_low"]
    return {
        "width_percentiles_training_songs": {str(q): float(np.percentile(width, q)) for q in (5, 50, 95)},
        "spearman_width_vs_familiarity_distance": float(spearmanr(width, distance).statistic),
    }


def _export(run: _Run, req: FitRequest) -> tuple[_Exported, dict[str, np.ndarray]]:
    name = req.model_name
    files = {
        "combined": f"{name}.onnx",
        "head": f"{name}.head.onnx",
        "window_head": f"{name}.window.onnx",
        "card": f"{name}.json",
    }
    stats = run.data.stats.astype(np.float32).astype(np.float64)
    track_model = run.track.onnx_model(name)
    outputs = run.track.predict(stats)
    atol = PARITY_ATOL if run.track.candidate.weight_network == 1.0 else TREE_PARITY_ATOL
    track_parity = _check_parity(track_model, outputs, stats, atol, "track head")
    weights = head_weights(run.window)
    window_model = export.head_model(weights, f"{name}-window")
    window_parity = _check_parity(window_model, run.window.predict(stats), stats, PARITY_ATOL, "window head")
    save(track_model, req.out_dir / files["head"])
    save(window_model, req.out_dir / files["window_head"])
    save(export.combined_model(weights, name), req.out_dir / files["combined"])
    familiarity = FamiliarityFit.fit(run.data.stats)
    facts = _range_facts(outputs, familiarity.distance(run.data.stats))
    parity = {"track_head": track_parity, "window_head": window_parity, "track_head_tolerance": atol}
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


def _heads(run: _Run, exported: _Exported) -> dict[str, Any]:
    """Which file is which head, what each is, and each head's own cross-validated metrics."""
    track, window = run.track, run.window
    window_whole = run.summary(window)
    return {
        "track": {
            "file": exported.files["head"],
            "used_for": "the overall score (whole-track statistics)",
            **track.describe(),
            "cv": track.candidate.summary(run.data.rank, run.fold),
            "blend_weight_by_fold": track.candidate.weight_by_fold,
            "calibration": {**calibration_card(track.candidate.calibrator), **track.candidate.calibration_summary},
            "onnx_parity_max_abs_diff": exported.parity["track_head"],
            "parity_tolerance": exported.parity["track_head_tolerance"],
        },
        "window": {
            "file": exported.files["combined"],
            "stats_file": exported.files["window_head"],
            "used_for": "segment scores (beginning, middle, end) and the hit curve (log-mel windows); the same "
            "head on statistics (stats_file) explains the segments",
            "what": "network ensemble trained on the chart rows and on copies moved by the measured window shift",
            "members": len(window.members),
            "p_hit": "mean of the members' calibrated P(hit) (the `members` output)",
            "cv_whole_tracks": window_whole,
            "cv_simulated_windows": run.windows.get(run.window_key),
            "calibration": {**calibration_card(window.calibrator), **window.calibration_summary},
            "onnx_parity_max_abs_diff": exported.parity["window_head"],
        },
    }


def _card(run: _Run, exported: _Exported, req: FitRequest, total_seconds: float) -> dict[str, Any]:
    track_summary = run.track.candidate.summary(run.data.rank, run.fold)
    window = run.window
    cv = {
        "scheme": CV_SCHEME,
        "grouping": "connected components of songs sharing any artist id (multi-artist ids split on '.')",
        "evaluated_on": "each member on the fold it did not train on; calibration cross-fitted across folds",
        "fold_sizes": [int((run.fold == k).sum()) for k in range(len(run.fold_hit_rates))],
        "fold_hit_rates": run.fold_hit_rates,
        "default": track_summary,
        "track_candidates": run.candidate_summaries(),
        "without_augmentation": run.summary(run.plain),
        "with_augmentation": run.summary(run.augmented),
        "simulated_windows": (
            {"description": "held-out songs moved by one draw each of the measured window-minus-track shift"}
            | run.windows
            if run.windows
            else None
        ),
    }
    card = build_card(
        name=req.model_name,
        version=MODEL_VERSION,
        recipe=NAME,
        data=run.data,
        data_name=DATA_NAME,
        io=export.io_description(len(window.members)),
        files=exported.files,
        model={
            "type": "two heads of five artist-disjoint fold members each: a track head for the overall score and a "
            "window head for segments and the hit curve",
            "members": len(window.members),
            "nets_per_member": window.config.nets_per_member,
            "network_config": window.config.to_dict(),
            "lightgbm_config": run.trees.config.to_dict(),
            "member_score": "a network member: mean of its nets' hit logits; a LightGBM member: its predicted "
            "-rank; each normalised by its mean/std on the member's training songs, then calibrated",
            "network_members_detail": _member_info(run.plain),
            "window_members_detail": _member_info(window),
        },
        cv=cv,
        baselines=run.baselines,
        calibration={
            **calibration_card(run.track.candidate.calibrator),
            "fit_on": "out-of-fold member scores of all songs vs hit (each head has its own map: see heads)",
            "applied_to": "every member's score, inside the ONNX graph",
            **run.track.candidate.calibration_summary,
        },
        uncertainty={
            "method": "member range",
            "description": "p_hit is the mean of the members' calibrated probabilities (the `members` output); "
            "p_hit_low and p_hit_high are their minimum and maximum (so p_hit_low <= p_hit <= p_hit_high always). "
            "Each member was trained without a different fifth of the artists, so the range shows how much the "
            "answer depends on which songs the model saw; it tends to widen for tracks unlike the training songs "
            "(see the measured correlation of width with the familiarity distance).",
            **exported.range_facts,
        },
        familiarity=exported.familiarity.to_card(),
        augmentation={
            "window_shift": run.shift.summary(run.shift_path) if run.shift is not None else {"used": False},
            "applies_to": "the window head only; the track head sees the chart statistics as they are",
            "reason_not_used": run.shift_reason or None,
        },
        training={
            "command": f"hitdesk-train fit --recipe {NAME}",
            "seed": req.seed,
            "seconds_total": total_seconds,
            "seconds_baselines": run.baseline_seconds,
            "seconds_ensemble_without_augmentation": run.plain.seconds,
            "seconds_ensemble_with_augmentation": run.augmented.seconds if run.augmented is not None else None,
            "seconds_lightgbm_members": run.trees.seconds,
            "onnx_parity_max_abs_diff": exported.parity,
            "python": platform.python_version(),
            "torch": _torch_version(),
        },
        caveat_list=caveats(run.data, track_summary, run.fold_hit_rates, run.windows.get(run.window_key)),
    )
    card["heads"] = _heads(run, exported)
    return card


def _torch_version() -> str:
    import torch

    return str(torch.__version__)


def fit_chart(req: FitRequest) -> FitOutcome:
    """Cross-validate, export both heads, check they load, write the card and the report."""
    started = time.perf_counter()
    run = _cross_validate(req)
    req.out_dir.mkdir(parents=True, exist_ok=True)
    exported, outputs = _export(run, req)
    total_seconds = time.perf_counter() - started
    card = _card(run, exported, req, total_seconds)
    stem = req.out_dir / req.model_name
    write_card(card, stem.with_suffix(".json"))
    _check_runtime(stem, outputs, run.data.stats, exported.parity["track_head_tolerance"])
    write_zalo_report(run, req, total_seconds, exported.parity, MODEL_VERSION, NAME)
    return FitOutcome(card, stem.with_suffix(".onnx"), req.report_path, 0.0, [])
