"""What if with every control at once: one score, a response curve per control, refusals as sentences."""

from __future__ import annotations

import numpy as np
import pytest

from hitdesk.explain import load_background
from hitdesk.explain.background import Background
from hitdesk.explain.drivers import head_scorer
from hitdesk.explain.groups import DURATION, GROUP_NAMES, TEMPO, describe
from hitdesk.explain.whatif import (
    CONTROLS,
    WhatIfError,
    edited,
    neutral,
    refusal,
    responses,
    setting_text,
    settings_edited,
    what_if_all,
)
from hitdesk.model import HitModel


@pytest.fixture(scope="module")
def background(model: HitModel) -> Background:
    bg = load_background(model.stem, model.card.raw)
    assert bg is not None
    return bg


def test_all_controls_at_once_are_the_single_edits_together(model: HitModel, background: Background) -> None:
    x = background.centroids[0]
    amounts = {"tempo": 5.0, "length": 230.0, "high band": 2.0, "low band": -1.5, "density": 1.0, "movement": 10.0}
    both = settings_edited(x, amounts)
    one_by_one = x
    for name, amount in reversed(list(amounts.items())):
        one_by_one = edited(one_by_one, name, amount)
    assert np.allclose(both, one_by_one, atol=1e-9)
    assert both[TEMPO] == pytest.approx(1.05 * x[TEMPO]) and both[DURATION] == 230.0
    score = head_scorer(model)
    p = what_if_all(score, x, amounts, background)
    assert p == pytest.approx(float(score(both[None])[0]))
    assert p != pytest.approx(float(score(x[None])[0]), abs=1e-4)
    # Neutral settings are the take itself.
    still = {c.name: neutral(x, c.name) for c in CONTROLS}
    assert np.array_equal(settings_edited(x, still), x) and setting_text(x, still) == "the take as it is"
    assert setting_text(x, {"tempo": 5.0, "high band": 2.0}) == "tempo +5%, high band +2.0 dB"


def test_values_outside_the_training_range_are_refused_with_one_sentence(background: Background) -> None:
    x = background.centroids[0]
    lo, hi = background.training_range["length"]
    why = refusal(x, {"length": hi + 60.0}, background)
    assert why is not None and why.startswith("The model cannot say what ") and "98% of its training songs" in why
    assert why.count(".") == 1 and why.endswith(".")
    with pytest.raises(WhatIfError, match=r"^The model cannot say"):
        what_if_all(lambda rows: np.zeros(len(rows)), x, {"tempo": 2.0, "length": lo - 30.0}, background)
    assert refusal(x, {"tempo": 40.0}, background) is not None  # beyond the control's +/-15%
    # A take that already lies outside a group's range is not refused for being itself.
    odd = x.copy()
    odd[DURATION] = hi + 300.0
    assert refusal(odd, {"tempo": 3.0, "length": neutral(odd, "length")}, background) is None


def test_each_control_has_a_response_curve_around_the_current_settings(model: HitModel, background: Background) -> None:
    x = background.centroids[2]
    score = head_scorer(model)
    amounts = {"high band": 3.0}
    curves = responses(score, x, amounts, background, n=21)
    assert set(curves) == set(GROUP_NAMES)
    tempo = curves["tempo"]
    assert tempo.amounts[0] == -15.0 and tempo.amounts[-1] == 15.0 and tempo.amounts[10] == 0.0
    # The middle of the tempo curve is the current settings (high band +3 dB), not the bare take.
    assert tempo.p_hit[10] == pytest.approx(what_if_all(score, x, amounts, background), abs=1e-6)
    band = curves["high band"]
    assert band.p_hit[-1] == pytest.approx(what_if_all(score, x, {"high band": 6.0}, background), abs=1e-6)
    # Shading: where the model answers is inside the training songs' 1st-99th percentile.
    length = curves["length"]
    lo, hi = background.training_range["length"]
    assert length.amounts[0] == pytest.approx(lo) and length.amounts[-1] == pytest.approx(hi)
    for name, curve in curves.items():
        assert curve.allowed.any(), name
        for amount, ok in zip(curve.amounts, curve.allowed, strict=True):
            assert ok == (refusal(x, {**amounts, name: float(amount)}, background) is None)
    edits = [settings_edited(x, {**amounts, "density": float(a)}) for a in curves["density"].amounts]
    d_lo, d_hi = background.training_range["density"]
    inside = np.array([d_lo <= describe(e)["density"] <= d_hi for e in edits])
    assert np.all(curves["density"].allowed <= inside)
