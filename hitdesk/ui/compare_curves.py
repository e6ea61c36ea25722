"""The compared takes' hit curves overlaid on one time axis (seconds from each take's start)."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from hitdesk.insights import HitCurve
from hitdesk.ui import theme
from hitdesk.ui.plot_parts import TimeAxis

# Distinct on the dark background and for the common colour-vision deficiencies (Okabe-Ito).
COLOURS = ("#f5a524", "#56b4e9", "#009e73", "#f0e442", "#cc79a7", "#d55e00", "#0072b2", "#e3e5e8")
HEIGHT = 130


class CompareCurves(pg.PlotWidget):  # type: ignore[misc]
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, background=theme.BASE, axisItems={"bottom": TimeAxis()})
        self.setAcceptDrops(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("Hit curves of the compared takes")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setFixedHeight(HEIGHT)
        plot = self.getPlotItem()
        for side in ("left", "bottom"):
            plot.getAxis(side).setTextPen(theme.DIM_TEXT)
            plot.getAxis(side).setPen(theme.BORDER)
        plot.getAxis("left").setTicks([[(0.0, "0"), (0.5, "50%"), (1.0, "100%")]])
        self.legend = plot.addLegend(offset=(-4, 4), labelTextColor=theme.TEXT, brush=pg.mkBrush(20, 22, 26, 200))
        self.setYRange(0.0, 1.0, padding=0.05)
        self.names: list[str] = []
        self.setToolTip("Hit curves (the model's view) of the compared takes, on one time axis")

    def show_takes(self, curves: Sequence[tuple[str, HitCurve | None]]) -> None:
        plot = self.getPlotItem()
        plot.clear()
        self.legend.clear()
        self.names = []
        end = 1.0
        for i, (name, curve) in enumerate((n, c) for n, c in curves if c is not None):
            xs = [0.5 * (p.start_s + p.end_s) for p in curve.points]
            ys = [p.p_hit for p in curve.points]
            plot.addItem(pg.PlotDataItem(xs, ys, pen=pg.mkPen(QColor(COLOURS[i % len(COLOURS)]), width=2), name=name))
            self.names.append(name)
            end = max(end, curve.points[-1].end_s)
        self.setXRange(0.0, end, padding=0.02)
        self.setVisible(bool(self.names))
