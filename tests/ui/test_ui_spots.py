"""Problem spots on the loudness strip of the real window: where the analysis pass found them, over the
ceiling of the QC profile chosen in the take panel, and a click on one plays from there."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
import pytest
import soundfile as sf
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from ui_helpers import WAIT_MS, wait_idle

from hitdesk.paths import qc_profiles_dir

RATE = 44_100


def spotted_take(path: Path) -> Path:
    """40 s of a quiet stereo tone, clipped for 50 ms at 20 s; at 30 s, 0.4 s of a quarter-rate sine
    whose samples stay at -3.5 dBFS while its true peak is -0.45 dBTP."""
    t = np.arange(40 * RATE) / RATE
    x = 0.2 * np.sin(2 * np.pi * 220 * t)
    x = np.stack([x, 0.7 * x], axis=1)
    a = 20 * RATE
    x[a : a + RATE // 20, 0] = np.clip(20 * x[a : a + RATE // 20, 0], -1.0, 1.0)
    b = 30 * RATE
    n = np.arange(int(0.4 * RATE))
    x[b : b + n.size, 1] = 0.95 * np.sin(np.pi / 2 * n + np.pi / 4)
    sf.write(path, x.astype(np.float32), RATE, subtype="FLOAT")
    return path


def _starts(spans: list[tuple[float, float]]) -> list[float]:
    return [round(a, 1) for a, _ in spans]


def test_marks_follow_the_qc_ceiling_and_a_click_seeks(qtbot: Any, window: Any, tmp_path: Path) -> None:
    qc_profiles_dir().mkdir(parents=True, exist_ok=True)
    (qc_profiles_dir() / "strict-zero.toml").write_text("[true_peak_dbtp]\nfail_above = 0.0\n", encoding="utf-8")
    (qc_profiles_dir() / "minus-two.toml").write_text("[true_peak_dbtp]\nwarn_above = -2.0\n", encoding="utf-8")
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):
        window.add_paths([spotted_take(tmp_path / "spots.wav")])
    wait_idle(qtbot, window)
    take = window.controller.takes[0]
    assert take.result is not None
    panel = window.panel
    marks = panel.strip.marks
    spots = take.result.to_dict()["problem_spots"]

    # No profile: the pass's floor, -1 dBTP: the clipped spot and the over between samples.
    assert _starts(marks.clipped) == [20.0] and [[round(v, 1) for v in s] for s in spots["clipped"]] == [[20.0, 20.1]]
    assert len(marks.over) == 2 and 19.9 <= marks.over[0][0] <= 20.0 and 29.9 <= marks.over[1][0] <= 30.0
    assert marks.applied_dbtp == -1.0 and "true peak over -1 dBTP" in panel.strip.toolTip()
    assert marks.drawn() == (1, 2)

    # A profile that fails at 0 dBTP: the -0.45 dBTP over between samples is no longer marked.
    panel.meters.fill_profiles()
    panel.meters.set_profile("strict-zero")
    assert marks.applied_dbtp == 0.0 and len(marks.over) == 1 and round(marks.over[0][0]) == 20
    assert marks.drawn() == (1, 1)
    panel.meters.set_profile("minus-two")  # below the floor: what the pass logged, and it says so
    assert marks.applied_dbtp == -1.0 and len(marks.over) == 2
    assert "the QC ceiling, -2 dBTP, is below what the analysis logs" in panel.strip.toolTip()
    panel.meters.set_profile("spotify")  # a built-in one: warns above -1 dBTP
    assert marks.applied_dbtp == -1.0 and len(marks.over) == 2

    # A click on the purple band at 30 s plays from its start.
    seeks: list[float] = []
    panel.spectrogram.seek_requested.connect(seeks.append)
    panel.spectrogram.setXRange(25.0, 35.0, padding=0)
    qtbot.waitUntil(lambda: abs(panel.strip.getPlotItem().vb.viewRange()[0][0] - 25.0) < 0.5, timeout=5_000)
    QApplication.processEvents()
    vb = panel.strip.getPlotItem().vb
    start = marks.over[1][0]
    at = panel.strip.mapFromScene(vb.mapViewToScene(pg.Point(start + 0.05, -20.0)))
    qtbot.mouseClick(panel.strip.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(int(at.x()), int(at.y())))
    assert seeks == [pytest.approx(start)]
    away = panel.strip.mapFromScene(vb.mapViewToScene(pg.Point(27.0, -20.0)))
    qtbot.mouseClick(panel.strip.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(int(away.x()), int(away.y())))
    assert len(seeks) == 1  # no mark there: the click does nothing
