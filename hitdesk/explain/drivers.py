"""What drives a score: Shapley values of the musician's groups of the head's inputs, with sentences."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from hitdesk.explain.background import Background
from hitdesk.explain.groups import GROUP_NAMES, describe, group_deltas
from hitdesk.explain.shapley import ScoreRows, coalition_matrix, shapley_from_values
from hitdesk.explain.text import sentence
from hitdesk.insights import Contribution, Explanation
from hitdesk.model.runtime import HitModel


def head_scorer(model: HitModel) -> ScoreRows:
    """The model's (track) head as a function of rows of the 42 statistics."""

    def score(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.array([s.p_hit for s in model.score_stats(rows.astype(np.float32))], dtype=np.float64)

    return score


def window_scorer(model: HitModel) -> ScoreRows:
    """The head that scores windows, as a function of rows of the 42 statistics (the track head for
    models with one head), so a segment's explanation adds up to that segment's score."""

    def score(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.array([s.p_hit for s in model.score_window_stats(rows.astype(np.float32))], dtype=np.float64)

    return score


def explain_many(score: ScoreRows, stats: Sequence[npt.ArrayLike], background: Background) -> list[Explanation]:
    """One explanation per row of statistics, all coalitions of all rows scored in one batch.

    The value of a coalition of groups is the weighted mean over the background's centroids of the
    score with those groups taken from the track and the others from the centroid; the baseline is
    the value of no group (the centroids' own mean score).
    """
    if not stats:
        return []
    z, w = background.centroids, background.weights
    n = len(GROUP_NAMES)
    coalitions = coalition_matrix(n)
    blocks = [z[None, :, :] + np.einsum("cg,kgf->ckf", coalitions, group_deltas(x, z)) for x in stats]
    rows = np.concatenate([b.reshape(-1, z.shape[1]) for b in blocks])
    p = np.asarray(score(rows), dtype=np.float64).reshape(len(stats), len(coalitions), len(w))
    out = []
    for x, scores in zip(stats, p, strict=True):
        values = scores @ w
        phi = shapley_from_values(values, n)
        out.append(explanation_of(float(values[0]), phi, describe(x), background))
    return out


def explanation_of(baseline: float, phi: npt.ArrayLike, described: dict[str, float], bg: Background) -> Explanation:
    parts = [
        Contribution(name, float(v), sentence(name, float(v), described[name], bg.hits_range[name]))
        for name, v in zip(GROUP_NAMES, np.asarray(phi, dtype=np.float64), strict=True)
    ]
    parts.sort(key=lambda c: -abs(c.value))
    return Explanation(baseline, tuple(parts))
