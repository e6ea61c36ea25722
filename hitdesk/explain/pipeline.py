"""An analysis with its explanations: the hit curve, what drives each score and the tonal balance.

``analyze`` runs ``hitdesk.analysis.analyze`` and adds to its result what this package computes
from the analysis's detail (no second decode). The whole track's mel, which full mode hands over
for the curve, is dropped from the detail here, so a take kept by the app does not hold it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from hitdesk.analysis import (
    AnalysisDetail,
    AnalysisOptions,
    ProgressCallback,
    StopCheck,
    WindowCallback,
)
from hitdesk.analysis import analyze as analyze_plain
from hitdesk.config import FEATURES
from hitdesk.dsp.stats import mfcc_stats
from hitdesk.explain.background import BackgroundError, load_background
from hitdesk.explain.curve import hit_curve
from hitdesk.explain.drivers import explain_many, head_scorer
from hitdesk.explain.tonal import tonal_balance
from hitdesk.model.runtime import HitModel
from hitdesk.results import TrackResult

log = logging.getLogger(__name__)
N_MFCC_STATS = 2 * FEATURES.n_mfcc


def analyze(
    path: str | Path,
    model: HitModel,
    options: AnalysisOptions | None = None,
    on_window: WindowCallback | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> tuple[TrackResult, AnalysisDetail]:
    """``hitdesk.analysis.analyze`` plus the explanations (same arguments, same one exception)."""
    opts = options or AnalysisOptions()
    result, detail = analyze_plain(path, model, opts, on_window, on_progress, should_stop)
    return explain(result, detail, model, opts), detail


def analyze_file(path: str | Path, model: HitModel, options: AnalysisOptions | None = None) -> TrackResult:
    return analyze(path, model, options)[0]


def explain(result: TrackResult, detail: AnalysisDetail, model: HitModel, opts: AnalysisOptions) -> TrackResult:
    """The result with its curve, explanations and tonal balance where they can be computed."""
    mel, detail.track_mel = detail.track_mel, None
    if not result.ok or detail.plan is None or result.duration_s is None:
        return result
    curve = None
    if opts.curve and not opts.fast and mel is not None:  # --fast asks for no curve, even where it decoded all
        curve = hit_curve(
            model,
            mel,
            detail.plan,
            result.duration_s,
            opts.window_seconds,
            opts.curve_hop_s,
            detail.window_tempo,
            {s.name: s.score.p_hit for s in result.segments},
        )
    del mel
    notes = list(result.notes)
    try:
        background = load_background(model.stem, model.card.raw) if model.has_head else None
    except BackgroundError as exc:
        background = None
        notes.append(f"{exc} What drives the score cannot be shown.")
    if background is None or detail.track_stats is None:
        return replace(result, curve=curve, notes=tuple(notes))
    # Each window is scored on its own MFCC statistics and tempo with the track's duration (as the
    # combined graph does); a track shorter than one window has one window reported three times.
    windows = result.segments[:1] if detail.plan.single else result.segments
    rows = [detail.track_stats]
    for seg in windows:
        window_stats = detail.track_stats.copy()
        window_stats[:N_MFCC_STATS] = mfcc_stats(detail.window_logmel[seg.name])
        window_stats[-2] = detail.window_tempo[seg.name]
        rows.append(window_stats)
    overall, *per_window = explain_many(head_scorer(model), rows, background)
    if detail.plan.single:
        per_window *= len(result.segments)
    segments = tuple(replace(s, explanation=e) for s, e in zip(result.segments, per_window, strict=True))
    return replace(
        result,
        segments=segments,
        curve=curve,
        explanation=overall,
        tonal_balance=tonal_balance(detail.track_stats, background),
        notes=tuple(notes),
    )
