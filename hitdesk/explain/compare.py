"""What makes one take score higher than another, in the model's view: Shapley values of A against B.

Take B's 42 statistics are the baseline and take A's the track explained: the value of a coalition
of groups is the head's score of B with those groups taken from A (hitdesk.explain.groups swaps
them), so the empty coalition is p(B), the full one p(A), and the groups' Shapley values add up
exactly to p(A) - p(B). All 2^groups coalitions are scored in one batch of the head. It needs both
takes' statistics, which come with an analysis in this session, not from the result cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hitdesk.explain.groups import GROUP_NAMES, group_deltas
from hitdesk.explain.shapley import ScoreRows, coalition_matrix, shapley_from_values
from hitdesk.explain.text import points


@dataclass(frozen=True)
class Difference:
    """p(A) - p(B) split over the groups: ``p_b`` plus the contributions is ``p_a``."""

    p_a: float
    p_b: float
    contributions: tuple[tuple[str, float], ...]  # (group, points of probability), largest first along the gap

    @property
    def gap(self) -> float:
        return self.p_a - self.p_b


def difference(score: ScoreRows, a_stats: npt.ArrayLike, b_stats: npt.ArrayLike) -> Difference:
    """Exact Shapley values of the groups of take A's statistics against take B's as the baseline."""
    x = np.asarray(a_stats, dtype=np.float64).reshape(-1)
    z = np.asarray(b_stats, dtype=np.float64).reshape(1, -1)
    n = len(GROUP_NAMES)
    coalitions = coalition_matrix(n)
    rows = z + coalitions @ group_deltas(x, z)[0]  # [2^n, 42]: row c is B with c's groups from A
    values = np.asarray(score(rows), dtype=np.float64)
    phi = shapley_from_values(values, n)
    sign = 1.0 if values[-1] >= values[0] else -1.0
    parts = sorted(zip(GROUP_NAMES, (float(v) for v in phi), strict=True), key=lambda nv: -sign * nv[1])
    return Difference(float(values[-1]), float(values[0]), tuple(parts))


def difference_sentence(name_a: str, name_b: str, diff: Difference) -> str:
    """'In the model's view, A scores 12 points higher than B, mostly from the length (+6) and the high band (+4).'"""
    gap = diff.gap
    if abs(gap) * 100.0 < 0.5:
        return f"In the model's view, {name_a} and {name_b} score about the same."
    drivers = [(n, v) for n, v in diff.contributions if v * gap > 0][:2]
    parts = " and ".join(f"the {n} ({100 * v:+.0f})" for n, v in drivers)
    way = "higher" if gap > 0 else "lower"
    return f"In the model's view, {name_a} scores {points(gap)} {way} than {name_b}, mostly from {parts}."
