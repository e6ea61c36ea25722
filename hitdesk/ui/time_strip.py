"""What the strips under the spectrogram share: a compact fixed height, a caption saying what the strip
shows (in the top-left corner of its plot area, above the data: the y range leaves the caption its
rows), and the spectrogram's time axis pixel for pixel.

The spectrogram's colour bar takes room on the right, so a strip widens its left axis and its right
margin until its plot area lies exactly under the spectrogram's: a time is at the same x in all.
A left drag on a strip marks a loop (``loop_selected`` once released, ``loop_dragged`` meanwhile);
the mouse wheel zooms as before.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from hitdesk.ui import theme
from hitdesk.ui.loop_region import SelectViewBox
from hitdesk.ui.plot_parts import TimeAxis

AXIS_WIDTH = 44
FOOT_PX = 7  # below the data: the lowest tick label is not cut at the strip's bottom edge
CAPTION_STYLE = f"color: {theme.TEXT.name()}; background: rgba(20, 22, 26, 200); font-size: 7pt; padding: 0px 3px;"


class TimeStrip(pg.PlotWidget):  # type: ignore[misc]
    """A strip of ``height`` pixels drawing ``data_range`` (bottom, top) under ``caption``."""

    loop_selected = Signal(float, float)  # a drag released: start and end, seconds
    loop_dragged = Signal(float, float)  # while dragging

    def __init__(
        self,
        caption: str,
        height: int,
        data_range: tuple[float, float],
        ticks: list[tuple[float, str]],
        parent: QWidget | None = None,
    ) -> None:
        view_box = SelectViewBox(plain=True)
        super().__init__(parent=parent, background=theme.BASE, axisItems={"bottom": TimeAxis()}, viewBox=view_box)
        view_box.on_select = self._selecting
        self.setAcceptDrops(False)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setFixedHeight(height)
        plot = self.getPlotItem()
        for side in ("left", "bottom"):
            plot.getAxis(side).setTextPen(theme.DIM_TEXT)
            plot.getAxis(side).setPen(theme.BORDER)
        plot.getAxis("left").setWidth(AXIS_WIDTH)
        plot.getAxis("left").setTicks([ticks])
        plot.hideAxis("bottom")  # the spectrogram's axis above reads the same times
        self.data_range = data_range
        self.caption_label = QLabel(caption, self.viewport())
        self.caption_label.setStyleSheet(CAPTION_STYLE)
        self.caption_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.caption_label.adjustSize()
        self._other: pg.PlotWidget | None = None
        plot.vb.sigResized.connect(self._place_caption)
        self._place_caption()

    @property
    def caption(self) -> str:
        return str(self.caption_label.text())

    def set_caption(self, text: str) -> None:
        self.caption_label.setText(text)
        self.caption_label.adjustSize()
        self._place_caption()

    def _place_caption(self, *_args: object) -> None:
        """The caption in the plot area's top-left corner, and the y range grown upwards so that the
        data stays below it (and a little downwards, for the lowest tick label)."""
        vb = self.getPlotItem().vb
        area = vb.sceneBoundingRect()
        corner = self.mapFromScene(area.topLeft())
        self.caption_label.move(corner.x() + 1, corner.y())
        bottom, top = self.data_range
        room = self.caption_label.height() + 2
        foot = FOOT_PX
        plot_px = max(float(area.height()), room + foot + 8.0)
        unit = (top - bottom) / (plot_px - room - foot)  # data units per pixel
        self.setYRange(bottom - foot * unit, top + room * unit, padding=0)

    def caption_clear_of_data(self) -> bool:
        """Whether the caption lies above the drawn range's top (for tests)."""
        vb = self.getPlotItem().vb
        top = vb.mapViewToScene(pg.Point(0.0, self.data_range[1])).y()
        label = self.caption_label.geometry()
        return bool(self.mapFromScene(pg.Point(0.0, top)).y() >= label.bottom())

    def _selecting(self, start: float, end: float, finished: bool) -> None:
        start, end = max(0.0, start), max(0.0, end)
        if end <= start:
            return
        (self.loop_selected if finished else self.loop_dragged).emit(start, end)

    # --- one time axis with the spectrogram --------------------------------------------------------
    def follow(self, other: pg.PlotWidget) -> None:
        """Shares ``other``'s time axis and keeps this plot area exactly under its plot area."""
        self.setXLink(other)
        self._other = other
        other.getPlotItem().vb.sigResized.connect(self._align)
        self.getPlotItem().vb.sigResized.connect(self._align)

    def _align(self, *_args: object) -> None:
        if self._other is None or not self.isVisible():
            return
        # The strips sit in one column with the spectrogram, so their widgets are equally wide: move
        # this plot area's edges onto the other's by widening the left axis and the right margin.
        want = self._other.getPlotItem().vb.sceneBoundingRect()
        have = self.getPlotItem().vb.sceneBoundingRect()
        axis = self.getPlotItem().getAxis("left")
        left = axis.width() + (want.left() - have.left())
        if abs(want.left() - have.left()) > 0.5 and left >= 10:
            axis.setWidth(round(left))
        layout = self.getPlotItem().layout
        m_left, m_top, m_right, m_bottom = layout.getContentsMargins()
        right = m_right + (have.right() - want.right())
        if abs(have.right() - want.right()) > 0.5 and right >= 0:
            layout.setContentsMargins(m_left, m_top, right, m_bottom)

    def aligned_with(self, other: pg.PlotWidget) -> bool:
        """Whether this plot area's left and right edges are within a pixel of ``other``'s (for tests)."""
        mine, theirs = self.getPlotItem().vb.sceneBoundingRect(), other.getPlotItem().vb.sceneBoundingRect()
        a = self.mapToGlobal(self.mapFromScene(mine.topLeft()))
        b = other.mapToGlobal(other.mapFromScene(theirs.topLeft()))
        return bool(abs(a.x() - b.x()) <= 1 and abs(mine.width() - theirs.width()) <= 1)

    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._align()
