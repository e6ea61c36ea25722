"""The take view's layout in the real window at its default size: the spectrogram keeps most of the
column, the strips under it are compact, captioned, on its time axis and hideable (remembered), the
clipping line names distinct moments; and the compare view gives its ranked rows the room."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication
from shared_folder import CORPUS
from ui_helpers import make_window, require_model, wait_idle

from hitdesk.capture import devices as devices_module
from hitdesk.present import clip_times
from hitdesk.ui.main_window import DEFAULT_SIZE, MainWindow
from hitdesk.ui.strip_toggles import SPECTROGRAM_MIN

SHARED = CORPUS
CLIPPED = SHARED / "armygeddon-mix.ogg"  # stereo, 3:18, hundreds of clipped runs
OTHERS = (SHARED / "awakening.ogg", SHARED / "battle_theme.ogg")


def settle() -> None:
    for _ in range(6):
        QApplication.processEvents()


@pytest.fixture
def corpus() -> Path:
    if not CLIPPED.exists() or not all(p.exists() for p in OTHERS):
        pytest.skip("needs ../shared/corpus")
    require_model()
    return CLIPPED


def spectrogram_share(window: MainWindow) -> float:
    panel = window.panel
    return panel.spectrogram.height() / panel.spectrogram.parentWidget().height()


def test_the_spectrogram_keeps_the_height_and_the_strips_say_what_they_show(
    qtbot: object, window: MainWindow, corpus: Path
) -> None:
    assert (window.width(), window.height()) == DEFAULT_SIZE
    (take,) = window.add_paths([corpus])
    wait_idle(qtbot, window)
    window.select_ids([take.id])
    settle()
    panel = window.panel
    strips = {"loudness": panel.strip, "correlation": panel.correlation, "curve": panel.curve_strip}
    assert all(s.isVisible() for s in strips.values()) and panel.strips.folded == []
    assert spectrogram_share(window) >= 0.45, spectrogram_share(window)
    for strip in strips.values():
        assert 30 <= strip.height() <= 60
        assert strip.height() < panel.spectrogram.height() / 3
    assert strips["loudness"].caption == "Loudness (LUFS, short-term / momentary)"
    assert strips["correlation"].caption == "Stereo correlation"
    assert strips["curve"].caption.startswith("Hit curve (the model's view, P(hit)): strongest part")
    for name, strip in strips.items():
        assert strip.caption_label.isVisible() and strip.caption_clear_of_data(), name
        qtbot.waitUntil(lambda s=strip: s.aligned_with(panel.spectrogram), timeout=5000)  # type: ignore[attr-defined]
    # Every tick label lies inside its strip: "+1" is no longer cut at the top.
    for strip in strips.values():
        axis = strip.getPlotItem().getAxis("left")
        half = QFontMetrics(axis.style.get("tickFont") or strip.font()).height() / 2
        for value, _text in axis._tickLevels[0]:
            y = strip.mapFromScene(strip.getPlotItem().vb.mapViewToScene(pg_point(0.0, value))).y()
            assert half <= y <= strip.height() - half, (strip.caption, value, y)
    # Zooming the spectrogram moves every strip with it.
    panel.spectrogram.setXRange(40.0, 100.0, padding=0)
    settle()
    for strip in strips.values():
        assert strip.viewRange()[0] == pytest.approx([40.0, 100.0], abs=0.5)

    # The clipping line: distinct moments to a tenth of a second, the first ones.
    line = next(x for x in panel.meters.plain_text().splitlines() if x.startswith("clipping:"))
    times = line.split("first at ")[1].split(", ")
    assert len(times) == len(set(times)) == 5, line
    loudness = take.loudness
    assert loudness is not None and loudness.clipping is not None  # type: ignore[attr-defined]
    first = loudness.clipping.times_s[0]  # type: ignore[attr-defined]
    assert times[0] == f"{int(first // 60)}:{int(first % 60):02d}.{int(first * 10) % 10}"


def test_strips_hidden_from_the_view_menu_stay_hidden_next_time(
    qtbot: object, settings: QSettings, corpus: Path
) -> None:
    windows: Iterator[object] = make_window(qtbot, settings, restore=True)
    window = next(windows)
    assert isinstance(window, MainWindow)
    settle()
    before = window.panel.spectrogram.height()
    view = window.panel.strips.view_menu
    assert view.title() == "&View" and [a.text() for a in view.actions()] == [
        "&Loudness Strip",
        "Stereo &Correlation Strip",
        "&Hit Curve Strip",
        "",  # a separator, then the vectorscope's dock (tests/ui/test_ui_scope.py)
        "&Vectorscope",
    ]
    window.panel.strips.actions["loudness"].trigger()
    window.panel.strips.actions["correlation"].trigger()
    settle()
    assert window.panel.strip.isHidden() and window.panel.correlation.isHidden()
    assert window.panel.curve_strip.isVisible()
    assert window.panel.spectrogram.height() >= before + window.panel.strip.height() + window.panel.correlation.height()
    next(windows, None)  # closes the window, which saves the settings
    again = make_window(qtbot, settings, restore=True)
    second = next(again)
    assert isinstance(second, MainWindow)
    settle()
    assert second.prefs.hidden_strips == ["correlation", "loudness"]
    assert second.panel.strip.isHidden() and second.panel.correlation.isHidden()
    assert not second.panel.strips.actions["loudness"].isChecked()
    second.panel.strips.actions["loudness"].trigger()
    settle()
    assert second.panel.strip.isVisible() and second.prefs.hidden_strips == ["correlation"]
    next(again, None)


def test_a_short_window_folds_strips_before_squeezing_the_spectrogram(
    qtbot: object, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devices_module, "list_input_devices", lambda: [])  # no PortAudio in this test
    window.resize(1280, 720)
    window.record_dock.show()
    settle()
    panel = window.panel
    assert panel.spectrogram.height() >= SPECTROGRAM_MIN
    assert panel.strips.folded and panel.curve_strip.isVisible()  # the hit curve is folded last
    assert panel.strips.button.text() == f"Strips ({len(panel.strips.folded)} folded)"
    window.record_dock.hide()
    window.resize(*DEFAULT_SIZE)
    settle()
    assert panel.strips.folded == [] and panel.strip.isVisible() and panel.correlation.isVisible()


def test_the_compare_view_gives_the_rows_the_room_and_keeps_the_legend_off_the_curves(
    qtbot: object, window: MainWindow, corpus: Path
) -> None:
    window.add_paths([corpus, *OTHERS])
    wait_idle(qtbot, window)
    window.select_ids([t.id for t in window.takes.takes])
    window.show_compare()
    settle()
    compare = window.compare
    curves = compare.curves
    assert curves.isVisible() and len(curves.names) == 3
    table = compare.table
    first = table.visualRect(table.model().index(0, 0)).height()
    assert table.viewport().height() / first >= 2.0  # two ranked rows whole, at 1100 x 700
    assert curves.height() <= 100
    plot, legend = curves.plot.geometry(), curves.legend.geometry()
    assert not plot.intersects(legend) and legend.left() >= plot.right()
    assert all(name in curves.legend.text() for name in curves.names)
    item = curves.plot.getPlotItem()
    top = curves.plot.mapFromScene(item.vb.mapViewToScene(pg_point(0.0, 1.0))).y()
    assert top >= QFontMetrics(curves.plot.font()).height() / 2  # the "100%" label is not cut
    # The user drags the chart taller: the splitter gives it the room.
    compare.splitter.setSizes([100, 200])
    settle()
    assert curves.height() > 150


def test_clip_times_are_distinct_to_a_tenth() -> None:
    assert (
        clip_times([8.01, 8.02, 8.05, 8.46, 11.0, 11.04, 12.3, 14.9, 20.0]) == "0:08.0, 0:08.4, 0:11.0, 0:12.3, 0:14.9"
    )
    assert clip_times([61.25]) == "1:01.2" and clip_times([]) == ""


def pg_point(x: float, y: float) -> object:
    from PySide6.QtCore import QPointF

    return QPointF(x, y)
