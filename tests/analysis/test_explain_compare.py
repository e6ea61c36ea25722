"""The difference of two takes: exact Shapley values of take A against take B as the baseline."""

from __future__ import annotations

import numpy as np
import pytest

from hitdesk.config import N_STATS
from hitdesk.explain import load_background
from hitdesk.explain.compare import Difference, difference, difference_sentence
from hitdesk.explain.drivers import head_scorer
from hitdesk.explain.groups import DURATION, GROUP_NAMES, TEMPO
from hitdesk.model import HitModel


def test_contributions_add_up_to_the_difference_of_the_two_scores(model: HitModel) -> None:
    bg = load_background(model.stem, model.card.raw)
    assert bg is not None
    score = head_scorer(model)
    a, b = bg.centroids[0].copy(), bg.centroids[1].copy()
    a[DURATION] = 320.0  # a long take against a short one: the length must show
    b[DURATION] = 200.0
    diff = difference(score, a, b)
    p_a, p_b = score(np.stack([a, b]))
    assert diff.p_a == pytest.approx(p_a, abs=1e-4) and diff.p_b == pytest.approx(p_b, abs=1e-4)
    assert sum(v for _, v in diff.contributions) == pytest.approx(p_a - p_b, abs=1e-4)
    assert {n for n, _ in diff.contributions} == set(GROUP_NAMES)
    values = [v for _, v in diff.contributions]
    assert values == sorted(values, reverse=diff.gap >= 0)
    # Against itself nothing differs.
    same = difference(score, a, a)
    assert all(abs(v) < 1e-6 for _, v in same.contributions)


def test_a_head_that_reads_only_tempo_credits_the_tempo_with_the_whole_gap() -> None:
    def score(rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(rows[:, TEMPO] - 120.0) / 10.0))

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=N_STATS), rng.normal(size=N_STATS)
    a[TEMPO], b[TEMPO] = 140.0, 100.0
    diff = difference(score, a, b)
    assert diff.contributions[0][0] == "tempo"
    assert diff.contributions[0][1] == pytest.approx(diff.gap, abs=1e-12)
    assert all(abs(v) < 1e-12 for _, v in diff.contributions[1:])


def test_the_sentence_names_the_two_biggest_drivers_along_the_gap() -> None:
    parts = (("length", 0.06), ("high band", 0.04), ("tempo", -0.01), *((n, 0.0) for n in GROUP_NAMES[3:6]))
    diff = Difference(0.4, 0.3, parts)
    assert difference_sentence("A", "B", diff) == (
        "In the model's view, A scores 10 points higher than B, mostly from the length (+6) and the high band (+4)."
    )
    flipped = Difference(0.3, 0.4, tuple((n, -v) for n, v in parts))
    assert difference_sentence("B", "A", flipped).startswith("In the model's view, B scores 10 points lower than A")
    assert difference_sentence("A", "A again", Difference(0.3, 0.3, parts)) == (
        "In the model's view, A and A again score about the same."
    )
