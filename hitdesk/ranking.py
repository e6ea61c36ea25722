"""Takes ranked against each other, overall and segment by segment, and the sentence that sums it up.

Two scores differ "clearly" only when their low-high ranges (the spread of the model's
cross-validation ensemble) do not overlap (``clearly_different``, the one place that rule lives);
anything else is reported as no clear difference, because the model cannot tell such takes apart.
``Ranking`` bundles that rule with ``rank``, ``rank_segment`` and ``summary``: the compare view is
given one, so a different rule is one object handed in, not an edit of the view. Pure, like
``hitdesk.present`` (whose percentages it writes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hitdesk.present import pct
from hitdesk.results import Score, TrackResult


def clearly_different(a: Score, b: Score) -> bool:
    """Whether the model tells two scores apart: their ranges do not overlap."""
    return not (a.p_hit_low <= b.p_hit_high and b.p_hit_low <= a.p_hit_high)


DifferenceRule = Callable[[Score, Score], bool]  # True: the model tells the two scores apart


def difference_text(score: Score, best: Score, is_best: bool, different: DifferenceRule = clearly_different) -> str:
    if is_best:
        return "best"
    points = 100.0 * (score.p_hit - best.p_hit)
    if not different(score, best):
        return f"{points:+.0f} pts, no clear difference"
    return f"{points:+.0f} pts, clearly lower"


@dataclass(frozen=True)
class Ranked:
    key: int
    rank: int  # 1 = highest overall probability
    score: Score
    diff_to_best: float  # p_hit - best p_hit (0 for the best)
    clear: bool  # the model tells this take apart from the best one
    text: str


def rank(scores: Sequence[tuple[int, Score]], different: DifferenceRule = clearly_different) -> list[Ranked]:
    """Highest probability first; ties keep the given order. ``different`` tells a take from the best."""
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
                clear=not is_best and different(score, best),
                text=difference_text(score, best, is_best, different),
            )
        )
    return out


def rank_segment(
    results: Sequence[tuple[int, TrackResult]], segment: str, different: DifferenceRule = clearly_different
) -> dict[int, Ranked]:
    scores = [(key, s.score) for key, r in results for s in r.segments if s.name == segment]
    return {r.key: r for r in rank(scores, different)}


def summary(ranked: Sequence[Ranked], names: Mapping[int, str]) -> str:
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


@dataclass(frozen=True)
class Ranking:
    """How takes are ranked and told apart, as one replaceable object (the compare view is given one).

    ``different`` is the "clear difference" rule; the default is ``clearly_different``. The
    differences' wording, each take's ``clear`` flag and the summary all follow the rule given.
    """

    different: DifferenceRule = clearly_different

    def rank(self, scores: Sequence[tuple[int, Score]]) -> list[Ranked]:
        return rank(scores, self.different)

    def rank_segment(self, results: Sequence[tuple[int, TrackResult]], segment: str) -> dict[int, Ranked]:
        return rank_segment(results, segment, self.different)

    def summary(self, ranked: Sequence[Ranked], names: Mapping[int, str]) -> str:
        return summary(ranked, names)
