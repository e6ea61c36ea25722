"""The spectrogram view on its own (offscreen): window labels, the hover readout, zoom and its reset."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter
from PySide6.QtWidgets import QApplication, QGraphicsItem, QStyleOptionGraphicsItem

from hitdesk.results import Score
from hitdesk.ui.spectrogram import SpectrogramView, WindowView


def _view(qtbot: object, width: int = 900, height: int = 300) -> SpectrogramView:
    view = SpectrogramView()
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    view.resize(width, height)
    view.show()
    QApplication.processEvents()
    return view


def _label_items(view: SpectrogramView) -> list[QGraphicsItem]:
    """The window labels on the plot, whatever draws them."""
    from hitdesk.ui.plot_parts import WindowLabel

    return [i for i in view.getPlotItem().items if isinstance(i, pg.TextItem | WindowLabel)]


def _on_screen(view: SpectrogramView, item: QGraphicsItem) -> QRectF:
    return item.deviceTransform(view.viewportTransform()).mapRect(item.boundingRect())


def _short_take(view: SpectrogramView) -> None:
    """A 0:34 take: its three 30 s windows overlap almost entirely."""
    windows = [
        WindowView("beginning", 0.0, 30.0, None, Score(0.45, 0.40, 0.52)),
        WindowView("middle", 2.0, 32.0, None, Score(0.41, 0.35, 0.47)),
        WindowView("end", 4.0, 34.0, None, Score(0.38, 0.30, 0.44)),
    ]
    view.show_windows(34.0, windows)
    QApplication.processEvents()


@pytest.mark.parametrize("width", [1100, 700, 420])
def test_window_labels_on_a_short_take_do_not_overlap(qtbot: object, width: int) -> None:
    view = _view(qtbot, width)
    _short_take(view)
    rects = [_on_screen(view, item) for item in _label_items(view)]
    assert len(rects) == 3
    for a, b in itertools.combinations(rects, 2):
        assert not a.intersects(b), (a, b)
    plot_area = view.getPlotItem().vb.sceneBoundingRect()
    for r in rects:
        assert r.top() >= plot_area.top() - 1 and r.bottom() <= plot_area.bottom() + 1  # inside the picture
    # Zoomed in so far that they no longer meet: back on one row.
    view.setXRange(0.0, 5.0, padding=0)
    QApplication.processEvents()
    tops = {round(_on_screen(view, item).top()) for item in _label_items(view)}
    assert len(tops) == 1 or width < 500


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_a_labels_box_reaches_past_its_text(qapp: QApplication, ratio: float) -> None:
    from hitdesk.ui.plot_parts import WindowLabel

    text = "Beginning 0:00–0:30  45%"
    font = QFont(qapp.font())
    for size in (8.0, 9.5, 10.0, 11.0, 13.5):
        font.setPointSizeF(size)
        label = WindowLabel(text, font)
        box = label.boundingRect()
        image = QImage(
            round((box.width() + 40) * ratio), round((box.height() + 4) * ratio), QImage.Format.Format_ARGB32
        )
        image.setDevicePixelRatio(ratio)
        image.fill(QColor(0, 0, 0, 0))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        label.paint(painter, QStyleOptionGraphicsItem())
        painter.end()
        text_right = box_right = -1
        for x in range(image.width()):
            for y in range(image.height()):
                c = QColor.fromRgba(image.pixel(x, y))
                if c.alpha() > 0:
                    box_right = x
                if c.value() > 120 and c.alpha() > 200:
                    text_right = x
        assert text_right > 0, size
        assert box_right >= text_right + 2 * ratio, (size, text_right, box_right)  # the percentage is on the box


def test_hover_reads_time_frequency_and_level(qtbot: object) -> None:
    view = _view(qtbot)
    logmel = np.full((128, 100), -30.0, dtype=np.float32)
    logmel[:, 50:] = -60.0  # the second half of the window is quieter
    view.show_windows(60.0, [WindowView("beginning", 10.0, 40.0, logmel, Score(0.4, 0.3, 0.5))])
    QApplication.processEvents()
    from hitdesk.ui.plot_parts import hz_to_row

    text = view.readout_at(15.0, hz_to_row(1000))
    assert text.startswith("0:15.0") and "1.00 kHz" in text and "-30 dB" in text
    assert "-60 dB" in view.readout_at(35.0, hz_to_row(500)) and "500 Hz" in view.readout_at(35.0, hz_to_row(500))
    assert "dB" not in view.readout_at(50.0, hz_to_row(500))  # outside every window: no level to read
    # A real mouse move over the plot shows it.
    vb = view.getPlotItem().vb
    point = view.mapFromScene(vb.mapViewToScene(pg.Point(15.0, hz_to_row(1000))))
    move = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(point),
        QPointF(view.viewport().mapToGlobal(point)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view.viewport(), move)
    QApplication.processEvents()
    shown = view.readout.text()  # a pixel's rounding away from 0:15 and 1 kHz
    assert view.readout.isVisible() and shown.startswith("0:1") and "Hz" in shown and "-30 dB" in shown, shown
    assert view.readout.isVisible()


def test_zoom_resets_to_the_whole_take(qtbot: object) -> None:
    view = _view(qtbot)
    _short_take(view)
    view.setXRange(3.0, 9.0, padding=0)
    QApplication.processEvents()
    assert view.viewRange()[0][1] - view.viewRange()[0][0] == pytest.approx(6.0, abs=0.5)
    view.reset_zoom()
    assert view.viewRange()[0] == pytest.approx([0.0, 34.0], abs=0.01)
    view.setXRange(3.0, 9.0, padding=0)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_0)  # type: ignore[attr-defined]
    assert view.viewRange()[0] == pytest.approx([0.0, 34.0], abs=0.01)


def test_the_panel_offers_the_whole_take_again(qtbot: object) -> None:
    from hitdesk.ui.take_panel import TakePanel

    panel = TakePanel()
    qtbot.addWidget(panel)  # type: ignore[attr-defined]
    panel.resize(1000, 400)
    panel.show()
    _short_take(panel.spectrogram)
    panel.spectrogram.setXRange(5.0, 8.0, padding=0)
    qtbot.mouseClick(panel.fit, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert panel.spectrogram.viewRange()[0] == pytest.approx([0.0, 34.0], abs=0.01)
