"""Problem spots on the loudness strip: clipped spans in red, spans whose true peak exceeds the QC
ceiling in purple, translucent bands under the curves, both from the analysis pass
(``hitdesk.dsp.spots``); a click on one plays from its start.

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

CLIP_FILL = QColor(255, 82, 82, 150)
OVER_FILL = QColor(224, 64, 251, 70)
MIN_SPAN_PX = 3  # a 100 ms span seen from far away is still visible
CLICK_PX = 4  # how far beside a mark a click still counts


class SpotMarks(QObject):
    seek_requested = Signal(float)  # seconds: the start of the mark clicked

    def __init__(self, strip: TimeStrip, bottom: float, top: float) -> None:
        """Marks drawn as translucent bands from ``bottom`` to ``top`` (data units) of ``strip``: the
        curves stay readable through them."""
        super().__init__(strip)
        self.strip = strip
        self.bottom, self.top = bottom, top
        plot = strip.getPlotItem()
        self.over_item = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[], brush=OVER_FILL, pen=None)
        self.clipped_item = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[], brush=CLIP_FILL, pen=None)
        for item in (self.over_item, self.clipped_item):
            item.setZValue(-5)  # under the curves
            plot.addItem(item)
        self.clipped: list[Span] = []
        self.over: list[Span] = []
        self.applied_dbtp: float | None = None  # the ceiling the purple marks show
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
        return f"red bands: clipped; purple: {over}; click one to play from its start"

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
        for item, spans in ((self.clipped_item, self.clipped), (self.over_item, self.over)):
            n = len(spans)
            item.setOpts(
                x0=[a for a, _ in spans],
                x1=[max(b, a + width) for a, b in spans],
                y0=[self.bottom] * n,
                y1=[self.top] * n,
            )

    def drawn(self) -> tuple[int, int]:
        """How many clipped and over-ceiling bands are drawn (for tests)."""
        return len(self.clipped_item.opts["x0"]), len(self.over_item.opts["x0"])

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
        span = self.span_at(point.x(), CLICK_PX * vb.viewPixelSize()[0])
        if span is not None:
            self.seek_requested.emit(float(span[0]))
