"""Own tonal targets in the app: made from the selected takes or from files, chosen beside the chart hits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog
from shared_folder import CORPUS
from ui_helpers import wait_idle

from hitdesk import paths
from hitdesk.ui.main_window import MainWindow
from hitdesk.ui.tonal_targets import CHART_HITS, NEW_TARGET_ACTIONS

TRACKS = [CORPUS / "forest-sprint.ogg", CORPUS / "chaos_god-mix.ogg"]


@pytest.fixture
def tracks() -> list[Path]:
    if not all(t.exists() for t in TRACKS):
        pytest.skip("needs ../shared/corpus")
    return TRACKS


def test_a_target_from_the_selected_takes_is_stored_and_shown_beside_the_chart_hits(
    qtbot: object, window: MainWindow, tracks: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    window.resize(1280, 800)
    takes = window.add_paths(tracks)
    wait_idle(qtbot, window)
    window.select_ids([t.id for t in takes])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("My refs", True))
    window.action_map["target_takes"].trigger()
    stored = paths.data_dir() / "tonal-targets" / "my-refs.json"
    raw = json.loads(stored.read_text(encoding="utf-8"))
    assert raw["name"] == "My refs" and raw["sources"] == [t.name for t in takes]
    envelopes = np.array([t.result.tonal_balance.take_db for t in takes])  # type: ignore[union-attr]
    assert raw["median_db"] == pytest.approx(np.median(envelopes, axis=0).tolist(), abs=1e-3)

    window.select_ids([takes[0].id])
    QApplication.processEvents()
    panel = window.panel
    bar, view = panel.tonal_targets, panel.tonal
    assert not bar.isHidden() and bar.combo.currentData() == "My refs"
    assert view.target is not None and view.target.name == "My refs"
    assert list(view.p10.yData) == pytest.approx(raw["p10_db"], abs=1e-3)
    assert list(view.hits.yData) == pytest.approx(raw["median_db"], abs=1e-3)
    assert not view.others.isVisible() and "My refs" in panel.tonal_title.text()
    # Back to the chart hits.
    bar.combo.setCurrentIndex(bar.combo.findData(CHART_HITS))
    balance = takes[0].result.tonal_balance  # type: ignore[union-attr]
    assert view.target is None and list(view.hits.yData) == pytest.approx(balance.hits_db)
    assert "chart hits" in panel.tonal_title.text()
    # The button offers the commands that make a target.
    bar.new.menu().aboutToShow.emit()
    assert [a.objectName() for a in bar.new.menu().actions()] == list(NEW_TARGET_ACTIONS)
    # A damaged target file is one sentence under the list; the good target stays.
    (stored.parent / "broken.json").write_text("{", encoding="utf-8")
    bar.reload()
    assert bar.problems.text() == "The tonal target file 'broken.json' cannot be read; it is skipped."
    assert bar.combo.findData("My refs") >= 0 and not bar.problems.isHidden()


def test_a_target_from_files_analyses_them_off_the_gui_thread(
    qtbot: object, window: MainWindow, tracks: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    window.resize(1280, 800)
    (take,) = window.add_paths(tracks[:1])
    wait_idle(qtbot, window)
    window.select_ids([take.id])
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(p) for p in tracks], ""))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Two files", True))
    window.action_map["target_files"].trigger()
    stored = paths.data_dir() / "tonal-targets" / "two-files.json"
    qtbot.waitUntil(stored.exists, timeout=120_000)  # type: ignore[attr-defined]
    QApplication.processEvents()
    raw = json.loads(stored.read_text(encoding="utf-8"))
    assert raw["sources"] == [p.name for p in tracks]
    assert window.panel.tonal_targets.combo.currentData() == "Two files"
    assert window.panel.tonal.target is not None and window.panel.tonal.target.name == "Two files"
    assert "Tonal target 'Two files' made from 2 takes." in window.status.text.text()
    # No name: nothing is made.
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", True))
    window.action_map["target_files"].trigger()
    assert sorted(p.name for p in stored.parent.iterdir()) == ["two-files.json"]
