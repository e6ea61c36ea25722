"""Problem spots on the loudness strip: clipped spans in red, spans whose true peak exceeds the QC
ceiling in orange, both from the analysis pass (``hitdesk.dsp.spots``); a click on one plays from it.

The ceiling is the true-peak limit of the profile chosen in the take panel's QC picker (its warning
level, -1 dBTP for the built-in profiles); with no profile, or one without a true-peak rule, the pass's
floor (-1 dBTP). A ceiling below the floor marks what the pass logged, over the floor, and says so.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor

from hitdesk.dsp.spots import ProblemSpots, Span
from hitdesk.ui.time_strip import TimeStrip

CLIP_COLOUR = QColor("#ff5252")
OVER_COLOUR = QColor("#f5a524")
MARK_PX = 4  # thickness of a mark, and how far from one a click still hits it
MIN_SPAN_PX = 3  # a 100 ms span seen from far away is still visible
CLICK_PX = 10  # how far above or below a mark a click still counts


class SpotMarks(QObject):
    seek_requested = Signal(float)  # seconds: the start of the mark clicked

    def __init__(self, strip: TimeStrip, clip_y: float, over_y: float) -> None:
        super().__init__(strip)
        self.strip = strip
        plot = strip.getPlotItem()
        self.clipped_item = plot.plot(pen=pg.mkPen(CLIP_COLOUR, width=MARK_PX), connect="pairs")
        self.over_item = plot.plot(pen=pg.mkPen(OVER_COLOUR, width=MARK_PX), connect="pairs")
        self.clip_y, self.over_y = clip_y, over_y
        self.clipped: list[Span] = []
        self.over: list[Span] = []
        self.applied_dbtp: float | None = None  # the ceiling the orange marks show
        self._spots: ProblemSpots | None = None
        self._ceiling: float | None = None
        strip.scene().sigMouseClicked.connect(self._clicked)
        plot.vb.sigXRangeChanged.connect(lambda *_args: self._draw())

    def show(self, spots: ProblemSpots | None) -> None:
        self._spots = spots
        self._update()

    def set_ceiling(self, ceiling_dbtp: float | None) -> None:
        self._ceiling = ceiling_dbtp
        self._update()

    def describe(self) -> str:
        """What the marks show, for the strip's tooltip."""
        if self._spots is None:
            return ""
        floor = self._spots.floor_dbtp
        over = f"true peak over {self.applied_dbtp:g} dBTP" if self.applied_dbtp is not None else ""
        if self._ceiling is not None and self._ceiling < floor:
            over += f" (the QC ceiling, {self._ceiling:g} dBTP, is below what the analysis logs)"
        return f"red marks: clipped; orange: {over}; click a mark to play from there"

    def _update(self) -> None:
        spots = self._spots
        if spots is None:
            self.clipped, self.over, self.applied_dbtp = [], [], None
        else:
            self.clipped = list(spots.clipped)
            self.over, self.applied_dbtp = spots.over(spots.floor_dbtp if self._ceiling is None else self._ceiling)
        self._draw()

    def _draw(self) -> None:
        width = self.strip.getPlotItem().vb.viewPixelSize()[0] * MIN_SPAN_PX
        for item, spans, y in (
            (self.clipped_item, self.clipped, self.clip_y),
            (self.over_item, self.over, self.over_y),
        ):
            xs = [x for a, b in spans for x in (a, max(b, a + width))]
            item.setData(xs, [y] * len(xs))

    def span_at(self, seconds: float, tolerance_s: float = 0.0) -> Span | None:
        for a, b in [*self.clipped, *self.over]:
            if a - tolerance_s <= seconds <= b + tolerance_s:
                return a, b
        return None

    def _clicked(self, event: object) -> None:
        if getattr(event, "button", lambda: None)() != Qt.MouseButton.LeftButton:
            return
        vb = self.strip.getPlotItem().vb
        pos = event.scenePos()  # type: ignore[attr-defined]
        if not vb.sceneBoundingRect().contains(pos):
            return
        point = vb.mapSceneToView(pos)
        px = vb.viewPixelSize()
        reach = CLICK_PX * px[1]
        if abs(point.y() - self.clip_y) > reach and abs(point.y() - self.over_y) > reach:
            return
        span = self.span_at(point.x(), MARK_PX * px[0])
        if span is not None:
            self.seek_requested.emit(float(span[0]))
