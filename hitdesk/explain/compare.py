"""What makes one take score higher than another, in the model's view, from their two explanations.

Both overall explanations share one baseline (the training songs' centroids), so the differences of
their contributions add up exactly to the difference of the scores: baseline_A + sum(A) - (baseline_B
+ sum(B)) = p_A - p_B. This needs no model run, so it works on cached results too. It is not the
Shapley value of A against B as the baseline (which would swap groups between the two takes
directly); with a model this smooth on these inputs the two read alike, and this one is exact in sum.
"""

from __future__ import annotations

from hitdesk.explain.text import points
from hitdesk.insights import Explanation


def difference(a: Explanation, b: Explanation) -> list[tuple[str, float]]:
    """(group, A's contribution minus B's), largest first in the direction of the score difference."""
    theirs = {c.name: c.value for c in b.contributions}
    diffs = [(c.name, c.value - theirs.get(c.name, 0.0)) for c in a.contributions]
    sign = 1.0 if a.total >= b.total else -1.0
    return sorted(diffs, key=lambda nd: -sign * nd[1])


def difference_sentence(name_a: str, a: Explanation, name_b: str, b: Explanation) -> str:
    """'In the model's view, A scores 12 points higher than B, mostly from the length (+6) and the high band (+4).'"""
    gap = a.total - b.total
    if abs(gap) * 100.0 < 0.5:
        return f"In the model's view, {name_a} and {name_b} score about the same."
    drivers = [(n, v) for n, v in difference(a, b) if v * gap > 0][:2]
    parts = " and ".join(f"the {n} ({100 * v:+.0f})" for n, v in drivers)
    way = "higher" if gap > 0 else "lower"
    return f"In the model's view, {name_a} scores {points(gap)} {way} than {name_b}, mostly from {parts}."
