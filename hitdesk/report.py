"""What a report says, as text: a page per take and a page comparing them (``hitdesk report``, File ▸ Export
Report). The PDF writer (``hitdesk.ui.report_pdf``) draws these lines beside its charts.

Pure: no Qt, no I/O. Every number comes from the analysis result and is formatted by
``hitdesk.present`` (and ``hitdesk.ranking`` / ``hitdesk.explain`` for the sentences they already
write), so a report reads like ``hitdesk analyze`` and the app.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hitdesk.explain.compare import difference, difference_sentence
from hitdesk.explain.shapley import ScoreRows
from hitdesk.explain.text import strongest_part
from hitdesk.model.card import ModelCard
from hitdesk.present import (
    familiarity_warning,
    loudness_line,
    meter_lines,
    mmss,
    pct,
    pct_range,
    reading,
    terminal_text,
    unlike_note,
    unlike_training_data,
)
from hitdesk.ranking import rank, summary
from hitdesk.results import TrackResult

MODEL_VIEW = (
    "Every explanation here is the model's view of the track (a model trained on one market's chart), never advice."
)


@dataclass(frozen=True)
class TakeText:
    """The lines of one take's page, in the order they are drawn."""

    name: str
    heading: str  # "forest-sprint.ogg (3:28, Artist – Title)"
    score: str  # "P(hit) 46% overall (whole track), range 40–52%"
    reading: str
    segments: tuple[str, ...]
    meters: tuple[str, ...]
    curve: str  # the strongest part, or why there is no curve
    warnings: tuple[str, ...]


def name_of(result: TrackResult) -> str:
    return terminal_text(os.path.basename(result.file) or result.file)


def failed_line(result: TrackResult) -> str:
    """The one sentence a report gives a file that could not be analysed."""
    return f"{name_of(result)} is not reported: {terminal_text(result.error or 'it was not analysed')}"


def take_text(result: TrackResult, card: ModelCard) -> TakeText:
    row: dict[str, Any] = result.to_dict()
    tags = result.tags
    who = " – ".join(terminal_text(t, 120) for t in (tags.get("artist"), tags.get("title")) if t)
    heading = f"{name_of(result)} ({mmss(result.duration_s)}{', ' + who if who else ''})"
    label = "overall (whole track)" if result.mode == "full" else "overall (excerpts)"
    if result.overall is None:
        score, said = f"P(hit) {label}: no score", ""
    else:
        score = f"P(hit) {pct(result.overall.p_hit)} {label}, range {pct_range(result.overall)}"
        said = reading(result.overall, card.base_rate)
    segments = tuple(
        f"{s.name}  {mmss(s.start_s)}-{mmss(s.end_s)}  {pct(s.score.p_hit)}  (range {pct_range(s.score)})"
        for s in result.segments
    )
    loud = loudness_line(row.get("loudness"))
    meters = tuple(terminal_text(line) for line in ([loud] if loud else []) + meter_lines(row))
    if result.curve is not None and result.curve.points:
        curve = f"Hit curve (the model's view), {strongest_part(result.curve)}"
    elif result.mode == "fast":
        curve = "No hit curve: the take was scored from excerpts (fast mode)."
    else:
        curve = "No hit curve: the audible part is shorter than two windows."
    warning = familiarity_warning(result)
    warnings = ((warning,) if warning else ()) + tuple(terminal_text(n) for n in result.notes)
    return TakeText(name_of(result), heading, score, said, segments, meters or ("no meters measured",), curve, warnings)


def driver_rows(result: TrackResult) -> list[tuple[str, str, str]]:
    """(group, points as the human table writes them, its sentence), largest first; empty without an explanation."""
    if result.explanation is None:
        return []
    return [(c.name, f"{100 * c.value:+.1f}", c.text) for c in result.explanation.contributions]


def _metric(value: object) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("mean"), int | float):
        std = value.get("std")
        return f"{value['mean']:.2f}" + (f" ± {std:.2f}" if isinstance(std, int | float) else "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.2f}"
    return None


def card_summary(card: ModelCard) -> list[str]:
    """The model card in three or four lines: what "hit" means, what it learnt from, how it does on unseen artists."""
    lines = [
        f"Model {card.name} {card.version}. A hit is: {card.label_definition}; "
        f"{pct(card.base_rate)} of the songs it learnt from were hits (the base rate).",
    ]
    td = card.training_data
    if td:
        size = f"{td['n_songs']:,} songs" if isinstance(td.get("n_songs"), int) else ""
        market = str(td.get("market") or "")
        learnt = ", ".join(x for x in (str(td.get("name") or ""), size, market) if x)
        lines.append(f"Trained on: {learnt}.")
    cv = card.metrics.get("cv") if isinstance(card.metrics.get("cv"), dict) else None
    scores = (cv.get("default") or cv) if isinstance(cv, dict) else None
    if isinstance(scores, dict):
        auc, rho = _metric(scores.get("roc_auc")), _metric(scores.get("spearman"))
        parts = [f"ROC AUC {auc}" if auc else "", f"Spearman {rho} with the chart ranks" if rho else ""]
        if any(parts):
            scheme = f" ({cv['scheme']})" if isinstance(cv, dict) and cv.get("scheme") else ""
            lines.append(f"On artists it has not seen{scheme}: {', '.join(p for p in parts if p)} (0.5 AUC is chance).")
    else:
        lines.append("The card reports no measurements on unseen artists.")
    lines.append(MODEL_VIEW)
    return lines


@dataclass(frozen=True)
class ComparisonText:
    headline: str
    rows: tuple[str, ...]  # one per take, best first
    why: str  # what separates the first two, or why that cannot be said
    caution: str


def comparison_text(
    results: Sequence[TrackResult], stats: Sequence[Any] | None = None, score: ScoreRows | None = None
) -> ComparisonText:
    """The takes ranked on their overall score (with the compare view's rule for a clear difference).
    ``stats`` (one per result: its 42 track statistics, or None) and the model's head ``score`` give
    what separates the first two: exact Shapley values of take A against take B as the baseline."""
    scored = [r for r in results if r.ok and r.overall is not None]
    names = {i: name_of(r) for i, r in enumerate(scored)}
    ranked = rank([(i, r.overall) for i, r in enumerate(scored) if r.overall is not None])
    rows = []
    for x in ranked:
        r = scored[x.key]
        segs = ", ".join(f"{s.name} {pct(s.score.p_hit)}" for s in r.segments)
        rows.append(f"{x.rank}. {names[x.key]}: {pct(x.score.p_hit)} (range {pct_range(x.score)}), {x.text}; {segs}")
    why = "What separates them cannot be said: it needs the first two takes' statistics and the model's head."
    by_result = {id(r): s for r, s in zip(results, stats or (), strict=False)}
    if len(ranked) >= 2 and score is not None:
        a, b = (by_result.get(id(scored[x.key])) for x in ranked[:2])
        if a is not None and b is not None:
            diff = difference(score, a, b)
            why = difference_sentence(names[ranked[0].key], names[ranked[1].key], diff)
    caution = unlike_note([names[i] for i, r in enumerate(scored) if unlike_training_data(r)])
    return ComparisonText(summary(ranked, names), tuple(rows), why, caution)
