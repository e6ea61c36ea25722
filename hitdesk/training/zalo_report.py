"""The default model's training report: every track-head candidate and both heads on the same folds.

A view of what ``recipes.zalo_stats`` cross-validated (its run is passed in whole); it writes no
number that run did not compute.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hitdesk.training import baselines
from hitdesk.training.card import CV_SCHEME
from hitdesk.training.report import MAJORITY, RecipeReport, Section, write_report

Summary = dict[str, dict[str, Any]]
WINDOW_ROW = "window head: network ensemble, window-shift augmentation"
SHIPPED_MARK = " (shipped track head)"


def summary_row(
    name: str, summary: Summary, notes: list[str] | None = None, prob: np.ndarray | None = None
) -> RecipeReport:
    """A report row from a fold summary: its per-fold values, and the pooled ones beside them."""
    n_folds = len(next(iter(summary.values()))["folds"])
    folds = [{m: float(v["folds"][k]) for m, v in summary.items()} for k in range(n_folds)]
    pooled = {m: float(v["pooled"]) for m, v in summary.items()}
    return RecipeReport(name, "binary", folds, oof_prob=prob, notes=notes or [], pooled=pooled)


def candidate_row_name(name: str, shipped: bool) -> str:
    return f"track candidate: {name}" + (SHIPPED_MARK if shipped else "")


def _rows(run: Any) -> list[RecipeReport]:
    names = {baselines.MAJORITY_NAME: MAJORITY}  # judged as the majority baseline under the report's own name
    rows = [summary_row(names.get(name, name), summary) for name, summary in run.baselines.items()]
    chosen = run.track.candidate
    for c in run.candidates:
        notes = []
        if c.name == "blend":
            notes.append(
                "Weight of the network member per held-out fold (picked on the other folds' out-of-fold scores): "
                + ", ".join(f"{w:g}" for w in c.weight_by_fold)
                + f"; shipped weight (picked on all out-of-fold scores): {c.weight_network:g}."
            )
        if c is chosen:
            notes.append("The shipped track head: it gives the overall score.")
        prob = c.oof_prob if c is chosen else None
        rows.append(
            summary_row(candidate_row_name(c.name, c is chosen), c.summary(run.data.rank, run.fold), notes, prob)
        )
    if run.augmented is not None:
        note = "The shipped window head, here on whole tracks: it gives the segment scores and the hit curve."
        rows.append(summary_row(WINDOW_ROW, run.summary(run.augmented), [note], run.augmented.oof_prob))
    for row in rows:
        row.oof_hit = run.data.hit if row.oof_prob is not None else None
    return rows


def _sections(run: Any) -> list[Section]:
    sections = []
    if run.windows:
        window_rows = [summary_row(f"network ensemble, {key.replace('_', ' ')}", s) for key, s in run.windows.items()]
        text = (
            "The chart data has no audio, so window-level skill cannot be measured; this moves every held-out "
            "song's statistics by a draw of the (window - track) differences measured on real music and scores "
            "the same folds again (calibration maps fit on un-shifted held-out scores, as shipped). The window "
            "head is the ensemble with augmentation."
        )
        sections.append(
            Section("Simulated 30 s windows (held-out songs + one draw of the window shift each)", text, window_rows)
        )
    if run.reference:
        text = (
            "The README's reference numbers group on the raw `artist_id`, so a song by '455.306' and one by "
            "'455' can sit on both sides of a split. Same models, those folds:"
        )
        reference_rows = [summary_row(name, summary) for name, summary in run.reference.items()]
        sections.append(
            Section("Check against the data README (folds grouped on the raw artist_id string)", text, reference_rows)
        )
    return sections


def _facts(run: Any, req: Any, seconds: float, parity: dict[str, float], version: str) -> list[str]:
    data, window, track = run.data, run.window, run.track
    return [
        f"Data: `{req.data}`: {data.n} songs used, {data.n_dropped} dropped (all MFCC statistics zero), "
        f"{len(np.unique(data.groups))} artist groups, hit rate {data.hit.mean():.3f}.",
        f"Folds: {CV_SCHEME} over connected artist groups; held-out hit rates "
        + ", ".join(f"{r:.2f}" for r in run.fold_hit_rates)
        + ". Every row is scored on songs whose artists it never saw; each member on the fold it did not train on.",
        "Ranking metrics (Spearman against -rank, ROC-AUC and PR-AUC for hit = rank <= 3) use each model's "
        "score; Brier and ECE (10 equal-width bins) its probability. Per-fold ECE also counts the gap between "
        "the folds' hit rates (one fold holds a large, hit-rich artist cluster); the pooled values use all "
        "out-of-fold predictions at once.",
        f"Shipped: `{req.model_name}` {version}. Track head ({req.model_name}.head.onnx, overall score): "
        f"{track.candidate.name}, {track.n_members} members, calibration {type(track.candidate.calibrator).__name__}, "
        f"ONNX parity max |diff| {parity['track_head']:.1e} (tolerance {parity['track_head_tolerance']:g}). "
        f"Window head ({req.model_name}.onnx, segments and hit curve): network ensemble with window-shift "
        f"augmentation, {len(window.members)} members x {window.config.nets_per_member} nets, calibration "
        f"{type(window.calibrator).__name__}, ONNX parity {parity['window_head']:.1e}. The app's loader reads the "
        "files as written.",
        "The LightGBM candidate's settings (600 trees, 15 leaves, learning rate 0.015, 70% of columns and 80% of "
        "rows per tree, at least 40 songs per leaf) were picked among four tried on these folds, so its row and "
        "the blend's are slightly optimistic; the floor row (the data README's settings) was not tuned.",
        f"Seed {req.seed}; total run time {seconds:.0f} s (baselines {run.baseline_seconds:.0f} s, networks "
        f"{run.plain.seconds:.0f} s without and "
        + (f"{run.augmented.seconds:.0f} s with augmentation" if run.augmented else "no augmented run")
        + f", LightGBM members {run.trees.seconds:.0f} s).",
    ]


def _notes(run: Any) -> list[str]:
    chosen = run.track.candidate
    ours = chosen.summary(run.data.rank, run.fold)
    ece = chosen.calibration_summary["held_out_ece"]
    notes = [
        f"Track head calibration: cross-fitted pooled ECE Platt {ece['platt']:.4f} vs isotonic {ece['isotonic']:.4f}; "
        f"isotonic is used only if better by more than {chosen.calibration_summary['isotonic_margin']}.",
    ]
    if run.augmented is None:
        notes.append(f"{WINDOW_ROW}: not run: {run.shift_reason}; the window head is the unaugmented ensemble.")
    for name, summary in run.baselines.items():
        d = {m: ours[m]["mean"] - summary[m]["mean"] for m in ("spearman", "roc_auc", "pr_auc")}
        notes.append(
            f"Track head minus {name}: Spearman {d['spearman']:+.3f}, ROC-AUC {d['roc_auc']:+.3f}, "
            f"PR-AUC {d['pr_auc']:+.3f} (fold means)."
        )
    return notes


def write_zalo_report(run: Any, req: Any, seconds: float, parity: dict[str, float], version: str, name: str) -> None:
    title = f"Default model {req.model_name} {version} ({name}): training report"
    write_report(
        req.report_path, title, _rows(run), _facts(run, req, seconds, parity, version), _sections(run), _notes(run)
    )
