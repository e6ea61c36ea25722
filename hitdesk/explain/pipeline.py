"""An analysis with its explanations: the hit curve, what drives each score and the tonal balance.

``analyze`` runs ``hitdesk.analysis.analyze`` and adds to its result what this package computes
from the analysis's detail (no second decode). The curve is worked out during the analysis (its
``on_track`` hook), while the whole track's mel frames still exist.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy.typing as npt

from hitdesk.analysis import (
    AnalysisDetail,
    AnalysisOptions,
    ProgressCallback,
    StopCheck,
    TrackHook,
    WindowCallback,
)
from hitdesk.analysis import analyze as analyze_plain
from hitdesk.config import FEATURES
from hitdesk.dsp.frames import MelFrames
from hitdesk.dsp.stats import frames_onset_envelope, mfcc_stats
from hitdesk.dsp.windows import WindowPlan
from hitdesk.explain.background import BackgroundError, load_background
from hitdesk.explain.curve import check_hop, hit_curve, with_window_scores
from hitdesk.explain.drivers import explain_many, head_scorer, window_scorer
from hitdesk.explain.tonal import tonal_balance
from hitdesk.model.runtime import HitModel
from hitdesk.results import TrackResult
from hitdesk.take_lyrics import take_embedding

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
    on_track = _curve_hook(model, opts, Path(path)) if opts.curve and not opts.fast else None
    result, detail = analyze_plain(path, model, opts, on_window, on_progress, should_stop, on_track)
    return explain(result, detail, model, opts), detail


def _curve_hook(model: HitModel, opts: AnalysisOptions, path: Path) -> TrackHook:
    """The curve and the onset envelope (kept on the detail for lining takes up, ``hitdesk.align``),
    worked out while the analysis still has the track's frames (in memory, or in its temporary file
    for a long track, which is gone once the analysis returns). Raises ``ValueError`` for a hop that
    is not a positive number of seconds, before any work."""
    check_hop(opts.curve_hop_s)
    lyrics = take_embedding(path, model.runtime, opts.lyrics)[0]  # None unless the model takes lyrics

    def curve(
        frames: MelFrames,
        plan: WindowPlan,
        window_tempo: dict[str, float],
        duration_s: float,
        tags: npt.ArrayLike | None,
    ) -> object:
        envelope = frames_onset_envelope(frames)
        made = hit_curve(
            model, frames, plan, duration_s, opts.window_seconds, opts.curve_hop_s, window_tempo, envelope, tags, lyrics
        )
        return made, envelope

    return curve


def analyze_file(path: str | Path, model: HitModel, options: AnalysisOptions | None = None) -> TrackResult:
    return analyze(path, model, options)[0]


def explain(result: TrackResult, detail: AnalysisDetail, model: HitModel, opts: AnalysisOptions) -> TrackResult:
    """The result with its curve, explanations and tonal balance where they can be computed."""
    extra, detail.track_extra = detail.track_extra, None
    made, detail.onset_envelope = extra if isinstance(extra, tuple) else (extra, None)
    if not result.ok or detail.plan is None or result.duration_s is None:
        return result
    # The curve's windows that are the analysis's own take its scores as they are (the model batches
    # windows in float32, so the same window scored in another batch can differ in the 7th decimal).
    curve = with_window_scores(made, detail.plan, {s.name: s.score.p_hit for s in result.segments})
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
    rows = []
    for seg in windows:
        window_stats = detail.track_stats.copy()
        window_stats[:N_MFCC_STATS] = mfcc_stats(detail.window_logmel[seg.name])
        window_stats[-2] = detail.window_tempo[seg.name]
        rows.append(window_stats)
    (overall,) = explain_many(head_scorer(model), [detail.track_stats], background)
    per_window = explain_many(window_scorer(model), rows, background)
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
