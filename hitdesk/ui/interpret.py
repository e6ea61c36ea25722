"""Scores into words and rankings: the judgements the meters and the compare view show.

No Qt here. Two scores differ "clearly" only when their low-high ranges (the spread of the model's
cross-validation ensemble) do not overlap; anything else is reported as no clear difference, because
the model cannot tell such takes apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hitdesk.results import Score, TrackResult

SEGMENTS: tuple[str, str, str] = ("beginning", "middle", "end")


def pct(p: float) -> str:
    return f"{100.0 * p:.0f}%"


def pct_range(score: Score) -> str:
    return f"{100.0 * score.p_hit_low:.0f}–{100.0 * score.p_hit_high:.0f}%"


def reading(score: Score, base_rate: float) -> str:
    """One line saying where a score stands against the base rate, honest about the uncertainty."""
    base = f"{pct(base_rate)} base rate"
    if score.p_hit_low > base_rate:
        return f"Above the {base}, even at the low end of the model's range."
    if score.p_hit_high < base_rate:
        return f"Below the {base}, even at the high end of the model's range."
    if abs(score.p_hit - base_rate) < 0.005:
        return f"At the {base}; the model sees nothing that sets it apart."
    side = "Above" if score.p_hit > base_rate else "Below"
    return f"{side} the {base}, but within the model's uncertainty."


def overlaps(a: Score, b: Score) -> bool:
    return a.p_hit_low <= b.p_hit_high and b.p_hit_low <= a.p_hit_high


def difference_text(score: Score, best: Score, is_best: bool) -> str:
    if is_best:
        return "best"
    points = 100.0 * (score.p_hit - best.p_hit)
    if overlaps(score, best):
        return f"{points:+.0f} pts, no clear difference"
    return f"{points:+.0f} pts, clearly lower"


@dataclass(frozen=True)
class Ranked:
    key: int
    rank: int  # 1 = highest overall probability
    score: Score
    diff_to_best: float  # p_hit - best p_hit (0 for the best)
    clear: bool  # the ranges do not overlap with the best take's
    text: str


def rank(scores: Sequence[tuple[int, Score]]) -> list[Ranked]:
    """Highest probability first; ties keep the given order."""
    ordered = sorted(scores, key=lambda ks: -ks[1].p_hit)
    if not ordered:
        return []
    best = ordered[0][1]
    out = []
    for i, (key, score) in enumerate(ordered):
        is_best = i == 0
        out.append(
            Ranked(
                key=key,
                rank=i + 1,
                score=score,
                diff_to_best=score.p_hit - best.p_hit,
                clear=not is_best and not overlaps(score, best),
                text=difference_text(score, best, is_best),
            )
        )
    return out


def rank_segment(results: Sequence[tuple[int, TrackResult]], segment: str) -> dict[int, Ranked]:
    scores = [(key, s.score) for key, r in results for s in r.segments if s.name == segment]
    return {r.key: r for r in rank(scores)}


def summary(ranked: Sequence[Ranked], names: dict[int, str]) -> str:
    """One sentence for the top of the compare view."""
    if len(ranked) < 2:
        return "Select two or more analysed takes to compare them."
    best, second = ranked[0], ranked[1]
    if not second.clear:
        return (
            f"'{names[best.key]}' scores highest ({pct(best.score.p_hit)}), but there is no clear difference to "
            f"'{names[second.key]}' ({pct(second.score.p_hit)}): their ranges overlap."
        )
    clear = sum(1 for r in ranked[1:] if r.clear)
    others = len(ranked) - 1
    which = "the other take" if others == 1 else ("all other takes" if clear == others else f"{clear} of {others}")
    return f"'{names[best.key]}' scores highest ({pct(best.score.p_hit)}), clearly above {which}."
