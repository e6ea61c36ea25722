"""The app's meters in the real window: the loudness strip on the take's time axis, the numbers and QC
status in the take panel equal to what `hitdesk analyze --json --qc` prints, and a screenshot."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtGui import QImage
from ui_helpers import WAIT_MS, drop_files, wait_idle

from hitdesk.analysis import AnalysisOptions, analyze_file
from hitdesk.model.runtime import HitModel
from hitdesk.platforms import BUILT_IN, platform_rows
from hitdesk.present import loudness_line, meter_lines
from hitdesk.qc import check, load_profile
from hitdesk.ui.main_window import MainWindow
from hitdesk.ui.meter_readout import take_meters
from hitdesk.ui.takes_table import Column

SCREENSHOT = os.environ.get("HITDESK_METERS_SCREENSHOT")  # also keep the picture here (for the README)


def loud_take(path: Path) -> Path:
    """50 s of stereo: a quiet verse, a louder chorus with a few clipped samples, then the verse again."""
    rate = 44100
    rng = np.random.default_rng(7)
    t = np.arange(50 * rate) / rate
    tone = np.sin(2 * np.pi * 110 * t) + 0.5 * np.sin(2 * np.pi * 440 * t * (1 + 0.01 * np.sin(t)))
    level = np.where((t > 15) & (t < 35), 0.3, 0.08) * (1 + 0.3 * np.sin(2 * np.pi * 0.5 * t))
    left = level * (tone + 0.2 * rng.standard_normal(t.size))
    right = 0.8 * left + 0.2 * level * rng.standard_normal(t.size)
    x = np.clip(np.stack([left, right], axis=1), -1.0, 1.0)
    x[int(20 * rate) : int(20 * rate) + 5] = 1.0
    sf.write(path, x.astype(np.float32), rate, subtype="FLOAT")
    return path


def test_the_take_panel_shows_the_meters_the_cli_prints(
    qtbot: object, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    take_path = loud_take(tmp_path / "chorus.wav")
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        assert drop_files(window.table.viewport(), [take_path])
    qtbot.waitUntil(lambda: window.takes.take_at(0).loudness is not None, timeout=WAIT_MS)  # type: ignore[attr-defined,union-attr]
    wait_idle(qtbot, window)
    take = window.takes.take_at(0)
    assert take is not None and window.panel.take is take

    # What the command line prints for the same file, with the spotify profile.
    model = HitModel.load()
    result = analyze_file(take_path, model, AnalysisOptions(window_seconds=model.card.window_seconds or 30.0))
    row = result.to_dict()
    row["platforms"] = platform_rows(row["loudness"], BUILT_IN)
    row["qc"] = check(row, load_profile("spotify", BUILT_IN))
    assert take.result is not None and take.result.to_dict()["loudness"] == row["loudness"]

    lra_cell = window.takes.data(window.takes.index(0, Column.LRA))
    assert lra_cell == f"{row['loudness']['lra_lu']:.1f}"  # the table's LRA column
    panel = window.panel
    panel.meters.set_profile("spotify")
    shown = take_meters(take, "spotify")
    for key in ("loudness", "stereo", "clipping", "platforms", "qc"):
        assert shown[key] == row[key], key
    text = panel.meters.plain_text()
    assert text.splitlines() == [loudness_line(row["loudness"]), *meter_lines(row)]
    assert f"LRA {row['loudness']['lra_lu']:.1f} LU" in text and "stereo: correlation" in text
    assert "qc warn: clipping: 2 spots: above 0 (first at 20.00 s)" in text  # one run in each channel

    # The strip: short-term values every 100 ms on the spectrogram's time axis, the clip marked.
    strip = panel.strip
    loudness = take.loudness
    assert loudness is not None and loudness.curves is not None  # type: ignore[attr-defined]
    assert strip.curve_points() == loudness.curves.short_term.size == round(50.0 * 10) - 29  # type: ignore[attr-defined]
    x, y = strip.short_term.getData()
    assert x[0] == pytest.approx(3.0) and float(np.max(y)) == pytest.approx(
        row["loudness"]["short_term_max_lufs"], abs=0.01
    )
    cx, _ = strip.clips.getData()
    assert list(cx) == pytest.approx([20.0], abs=0.01)  # both channels at once: one place
    cx, cy = panel.correlation.curve.getData()  # the stereo view: correlation over time, +1 mostly
    assert cx[0] == pytest.approx(0.4) and len(cy) == loudness.curves.momentary.size  # type: ignore[attr-defined]
    assert np.allclose(cy, loudness.curves.correlation) and 0.5 < float(np.median(cy)) < 1.0  # type: ignore[attr-defined]
    panel.spectrogram.setXRange(10.0, 20.0, padding=0)
    qtbot.waitUntil(lambda: abs(strip.getPlotItem().vb.viewRange()[0][0] - 10.0) < 0.5, timeout=5000)  # type: ignore[attr-defined]
    assert abs(panel.correlation.getPlotItem().vb.viewRange()[0][0] - 10.0) < 0.5
    panel.spectrogram.reset_zoom()

    # A screenshot of the real window, looked at by a person (and kept when asked), the take panel's
    # column scrolled down to the meters and the QC checks.
    qtbot.wait(200)  # type: ignore[attr-defined]
    panel.left_scroll.ensureWidgetVisible(panel.meters.qc)
    qtbot.wait(100)  # type: ignore[attr-defined]
    out = Path(SCREENSHOT) if SCREENSHOT else tmp_path / "meters.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(out))
    image = QImage(str(out))
    assert not image.isNull() and image.width() > 800
    readout = out.with_name(out.stem + "-qc.png")  # the take panel's numbers and QC checks, whole
    assert panel.meters.grab().save(str(readout)) and not QImage(str(readout)).isNull()
