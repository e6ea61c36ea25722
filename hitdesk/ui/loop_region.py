"""Choosing a loop: Shift+drag on a spectrogram, or a plain drag on a time strip under it, marks a
stretch of time, and the loop is a band whose edges can be dragged. Plain drags on the spectrogram
still pan, a click still moves the playhead, and the mouse wheel still zooms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from hitdesk.ui import theme

_FILL = QColor(theme.RANGE_COLOUR.red(), theme.RANGE_COLOUR.green(), theme.RANGE_COLOUR.blue(), 90)


class SelectViewBox(pg.ViewBox):  # type: ignore[misc]
    """A view box where Shift+drag with the left button (any left drag with ``plain``) selects a time
    range instead of panning; wheel events are the view box's own (zooming)."""

    def __init__(self, plain: bool = False) -> None:
        super().__init__()
        self.plain = plain
        self.on_select: Callable[[float, float, bool], None] | None = None  # start, end, finished

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:  # noqa: N802
        shift = self.plain or bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if self.on_select is None or not shift or ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        a = self.mapSceneToView(ev.buttonDownScenePos()).x()
        b = self.mapSceneToView(ev.scenePos()).x()
        self.on_select(min(a, b), max(a, b), bool(ev.isFinish()))


class LoopBand:
    """The loop over a plot: hidden without one; ``edited`` gets (start, end) when the user moves it."""

    def __init__(self, plot: pg.PlotItem, edited: Callable[[float, float], None]) -> None:
        self._edited = edited
        self._setting = False
        self._shown = False
        pen = pg.mkPen(theme.RANGE_COLOUR, width=2)
        self.item = pg.LinearRegionItem(values=(0.0, 1.0), orientation="vertical", brush=pg.mkBrush(_FILL), pen=pen)
        self.item.setZValue(15)
        self.item.setToolTip("The loop: drag its edges or the band; Shift+drag on the spectrogram for a new one")
        self.item.hide()
        self.item.sigRegionChangeFinished.connect(self._moved)
        plot.addItem(self.item, ignoreBounds=True)

    def show(self, region: tuple[float, float] | None) -> None:
        self._shown = region is not None
        if region is None:
            self.item.hide()
            return
        self._setting = True  # setRegion reports a finished change too: not the user's
        try:
            self.item.setRegion(region)
        finally:
            self._setting = False
        self.item.show()

    @property
    def region(self) -> tuple[float, float] | None:
        if not self._shown:
            return None
        start, end = self.item.getRegion()
        return float(start), float(end)

    def _moved(self, *_args: object) -> None:
        if not self._setting and self._shown:
            start, end = self.item.getRegion()
            self._edited(max(0.0, float(start)), float(end))
