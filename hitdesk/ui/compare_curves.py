"""The compared takes' hit curves overlaid on one time axis (seconds from each take's start).

A compact chart under the ranked rows (the compare view puts both in a splitter, so the user can
drag the chart taller or away); its legend is a column beside the plot, never over the curves.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from hitdesk.insights import HitCurve
from hitdesk.ui import theme
from hitdesk.ui.plot_parts import TimeAxis

# Distinct on the dark background and for the common colour-vision deficiencies (Okabe-Ito).
COLOURS = ("#f5a524", "#56b4e9", "#009e73", "#f0e442", "#cc79a7", "#d55e00", "#0072b2", "#e3e5e8")
HEIGHT = 68  # the chart's default height in the splitter
MIN_HEIGHT = 56
LEGEND_WIDTH = 200


class CompareCurves(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Hit curves of the compared takes")
        self.setToolTip("Hit curves (the model's view) of the compared takes, on one time axis")
        self.setMinimumHeight(MIN_HEIGHT)
        self.plot = pg.PlotWidget(background=theme.BASE, axisItems={"bottom": TimeAxis()})
        self.plot.setAcceptDrops(False)
        self.plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        item = self.plot.getPlotItem()
        for side in ("left", "bottom"):
            item.getAxis(side).setTextPen(theme.DIM_TEXT)
            item.getAxis(side).setPen(theme.BORDER)
        item.getAxis("left").setTicks([[(0.0, "0"), (1.0, "100%")]])
        item.getAxis("left").setWidth(40)
        item.setContentsMargins(0, 7, 4, 0)  # room above the plot for the "100%" label
        self.plot.setYRange(0.0, 1.0, padding=0.05)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.legend.setFixedWidth(LEGEND_WIDTH)
        self.legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Ignored)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        self.names: list[str] = []

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name; the splitter gives a shown chart this height
        return QSize(super().sizeHint().width(), HEIGHT)

    def show_takes(self, curves: Sequence[tuple[str, HitCurve | None]]) -> None:
        item = self.plot.getPlotItem()
        item.clear()
        self.names = []
        rows = ["<b>Hit curves</b> (model's view)"]
        end = 1.0
        for i, (name, curve) in enumerate((n, c) for n, c in curves if c is not None):
            colour = COLOURS[i % len(COLOURS)]
            xs = [0.5 * (p.start_s + p.end_s) for p in curve.points]
            ys = [p.p_hit for p in curve.points]
            item.addItem(pg.PlotDataItem(xs, ys, pen=pg.mkPen(QColor(colour), width=2), name=name))
            rows.append(f'<span style="color:{colour}">━━</span> {html.escape(name)}')
            self.names.append(name)
            end = max(end, curve.points[-1].end_s)
        self.legend.setText("<br>".join(rows))
        self.plot.setXRange(0.0, end, padding=0.02)
        self.setVisible(bool(self.names))
