"""The hit curve under the spectrogram: P(hit) of windows sliding across the take, on the same time axis.

Each window's score is drawn as a line through the windows' centres, with the base rate as a dashed
line and the strongest window shaded and named ("strongest part: 1:42-2:12"). The strip shares the
spectrogram's x range (zooming and scrolling one moves both, ``TimeStrip.follow``), follows the
playhead, and a click seeks there.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from hitdesk.explain.text import strongest_part
from hitdesk.insights import HitCurve
from hitdesk.ui import theme
from hitdesk.ui.time_strip import TimeStrip

STRIP_HEIGHT = 46


class CurveStrip(TimeStrip):
    seek_requested = Signal(float)  # seconds

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Hit curve (the model's view)", STRIP_HEIGHT, (0.0, 1.0), [(0.0, "0"), (1.0, "100%")], parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("Hit curve")
        self.setMouseEnabled(x=False, y=False)
        plot = self.getPlotItem()
        self.line = pg.PlotDataItem(pen=pg.mkPen(theme.P_COLOUR, width=2))
        self.dots = pg.ScatterPlotItem(size=5, brush=pg.mkBrush(theme.P_COLOUR), pen=None)
        self.base_line = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen(theme.BASE_RATE_COLOUR, width=1, style=Qt.PenStyle.DashLine)
        )
        fill = QColor(theme.P_COLOUR)
        fill.setAlpha(60)
        self.strongest = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(fill), pen=pg.mkPen(theme.P_COLOUR))
        self.playhead = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.P_COLOUR, width=2))
        for item in (self.strongest, self.line, self.dots, self.base_line, self.playhead):
            plot.addItem(item, ignoreBounds=True)
        self.playhead.hide()
        self.curve: HitCurve | None = None
        self._duration = 0.0
        self.scene().sigMouseClicked.connect(self._clicked)
        self.show_curve(None, None, 0.0)

    def show_curve(self, curve: HitCurve | None, base_rate: float | None, duration_s: float) -> None:
        """The take's curve (None: an empty strip that says why there is none)."""
        self.curve = curve
        self._duration = duration_s
        if base_rate is None:
            self.base_line.hide()
        else:
            self.base_line.setValue(base_rate)
            self.base_line.show()
        if curve is None:
            self.line.setData([], [])
            self.dots.setData([], [])
            self.strongest.hide()
            self.set_caption("Hit curve (the model's view): none, it needs a full analysis of a take two windows long")
            return
        xs = [0.5 * (p.start_s + p.end_s) for p in curve.points]
        ys = [p.p_hit for p in curve.points]
        self.line.setData(xs, ys)
        self.dots.setData(xs, ys)
        best = curve.strongest()
        self.strongest.setRegion((best.start_s, best.end_s))
        self.strongest.show()
        self.set_caption(f"Hit curve (the model's view, P(hit)): {strongest_part(curve)}")
        self.setToolTip(
            f"P(hit) of {curve.window_s:g} s windows every {curve.hop_s:g} s, each point at its window's centre; "
            "the dashed line is the chart's base rate. Click to play from there."
        )

    def set_playhead(self, seconds: float | None) -> None:
        if seconds is None:
            self.playhead.hide()
        else:
            self.playhead.setValue(seconds)
            self.playhead.show()

    def _clicked(self, event: object) -> None:
        if getattr(event, "button", lambda: None)() != Qt.MouseButton.LeftButton or self.curve is None:
            return
        point = self.getPlotItem().vb.mapSceneToView(event.scenePos())  # type: ignore[attr-defined]
        self.seek_requested.emit(float(min(max(0.0, point.x()), self._duration)))
