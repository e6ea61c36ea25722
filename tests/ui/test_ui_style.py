"""The "Sounds like" setting: the music tagger's tags in the take panel and the compare view."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from ui_helpers import WAIT_MS, drop_files, require_model, wait_idle

from hitdesk.results import Score, SegmentResult, StyleTag, TrackResult
from hitdesk.ui.compare_model import CompareColumn
from hitdesk.ui.compare_view import CompareView
from hitdesk.ui.main_window import MainWindow
from hitdesk.ui.settings import Preferences, PreferencesDialog
from hitdesk.ui.takes import State, Take


def test_the_setting_turns_the_tags_on_in_the_take_panel(qtbot: object, window: MainWindow, data_dir: Path) -> None:
    require_model()
    assert window.controller.options.style is False  # off by default: the default speed is untouched
    dialog = PreferencesDialog(window.prefs, 30.0, window)
    dialog.sounds_like.setChecked(True)
    dialog.apply_to(window.prefs)
    dialog.close()
    assert window.controller.options.style is True
    assert drop_files(window.table, [data_dir / "chipdisko-12s.ogg"])
    wait_idle(qtbot, window)
    take = window.controller.takes[0]
    assert take.result is not None and take.result.style is not None
    window.select_ids([take.id])
    qtbot.waitUntil(lambda: window.panel.sounds_like.text().startswith("sounds like: electronic "), timeout=WAIT_MS)  # type: ignore[attr-defined]


def test_the_setting_is_kept(settings: QSettings) -> None:
    prefs = Preferences()
    prefs.style = True
    prefs.save(settings)
    assert Preferences.load(settings).style is True


def test_the_compare_view_names_each_takes_tags(qtbot: object) -> None:
    view = CompareView()
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    takes = []
    for i, (p, tags) in enumerate([(0.6, ("rock", "guitar", "metal")), (0.3, None)]):
        take = Take(i + 1, Path(f"/nowhere/t{i}.wav"), f"/nowhere/t{i}.wav")
        segs = tuple(
            SegmentResult(n, 10.0 * k, 10.0 * k + 5, Score(p, p, p))
            for k, n in enumerate(("beginning", "middle", "end"))
        )
        result = TrackResult(file=str(take.path), duration_s=40.0, segments=segs, overall=Score(p, p, p))
        take.result = replace(
            result, style=None if tags is None else tuple(StyleTag(t, 0.7 - 0.1 * k) for k, t in enumerate(tags))
        )
        take.state = State.DONE
        takes.append(take)
    view.show_takes(takes)
    tips = [view.model.index(r, CompareColumn.TAKE).data(Qt.ItemDataRole.ToolTipRole) for r in range(2)]
    assert tips[0] == "/nowhere/t0.wav\nsounds like: rock 0.70, guitar 0.60, metal 0.50"
    assert tips[1] == "/nowhere/t1.wav"
    view.model.renderer.cancel_all()
    view.model.renderer.wait()
