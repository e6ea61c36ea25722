"""The compare view tells takes apart by the rule the loaded model's card allows: the ranges for the
shipped model (no member scores), the paired rule with the card's margin for a model with members."""

from __future__ import annotations

import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

from member_model import write_member_model

from hitdesk.ranking import PairedRule, clearly_different
from hitdesk.results import Score, TrackResult
from hitdesk.ui.main_window import MainWindow
from hitdesk.ui.takes import State, Take


def _take(i: int, members: tuple[float, ...]) -> Take:
    take = Take(i, Path(f"/nowhere/take{i}.wav"), f"/nowhere/take{i}.wav")
    p = sum(members) / len(members)
    take.result = TrackResult(file=str(take.path), duration_s=60.0, overall=Score(p, p - 0.2, p + 0.2, members))
    take.state = State.DONE
    return take


def test_the_compare_view_follows_the_models_rule(qtbot: object, window: MainWindow, tmp_path: Path) -> None:
    assert window.model is not None and not window.model.has_members
    assert window.compare.model.ranking.different is clearly_different
    stem = write_member_model(tmp_path / "models")
    card = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
    card["comparison"] = {"margin": 0.02, "nuisance_p99": 0.018, "n_pairs": 120, "measured_on": "test"}
    card["comparison"]["fast"] = {"margin": 0.035, "nuisance_p99": 0.032, "n_pairs": 120, "measured_on": "test"}
    stem.with_suffix(".json").write_text(json.dumps(card), encoding="utf-8")
    assert window.load_model(str(stem), remember=False)
    assert window.compare.model.ranking.different == PairedRule(0.02)
    # Ranges that overlap, members that agree beyond the margin: a clear difference now.
    window.compare.show_takes([_take(1, (0.40, 0.45, 0.50)), _take(2, (0.30, 0.33, 0.41))])
    assert window.compare.ranked[1].clear and "clearly above the other take" in window.compare.summary.text()
    window.compare.show_takes([_take(1, (0.40, 0.45, 0.30)), _take(2, (0.30, 0.33, 0.41))])
    assert "members disagree" in window.compare.summary.text()
    # Fast mode (the preferences analyse the takes again): the margin measured in fast mode.
    window.controller.prefs.fast = True
    window.controller.reanalyse([])
    assert window.compare.model.ranking.different == PairedRule(0.035)
    window.controller.prefs.fast = False
    assert window.load_model(None, remember=False)
    assert window.compare.model.ranking.different is clearly_different
