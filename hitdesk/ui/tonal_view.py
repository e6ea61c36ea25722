"""Tonal balance against the chart hits: the take's envelope as the model sees it, on a Hz axis.

The take's MFCC means turned back into the 128 mel bands (dB under its loudest bin) over the
training hits' 10th-90th percentile band and median, and the other songs' median. Where the take's
line leaves the band, its balance is unlike most of the model's hits; the model's view, not a target.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from hitdesk.insights import TonalBalance
from hitdesk.ui import theme

HEIGHT = 170
# The key, in the colours of the lines (the plot is too small for a legend inside it).
KEY = (
    f"<span style='color:{theme.P_COLOUR.name()}'>this take</span> · "
    f"<span style='color:{theme.RANGE_COLOUR.name()}'>chart hits (median, middle 80%)</span> · "
    f"<span style='color:{theme.DIM_TEXT.name()}'>other songs (median, dashed)</span>"
)
_TICKS = (50, 100, 200, 500, 1000, 2000, 5000, 10000)


def _hz(value: float) -> str:
    return f"{value / 1000:g}k" if value >= 1000 else f"{value:g}"


class TonalBalanceView(pg.PlotWidget):  # type: ignore[misc]
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, background=theme.BASE)
        self.setAcceptDrops(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("Tonal balance against the chart hits")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setFixedHeight(HEIGHT)
        plot = self.getPlotItem()
        for side in ("left", "bottom"):
            plot.getAxis(side).setTextPen(theme.DIM_TEXT)
            plot.getAxis(side).setPen(theme.BORDER)
        plot.getAxis("left").setWidth(34)
        plot.getAxis("bottom").setTicks([[(float(np.log10(f)), _hz(f)) for f in _TICKS]])
        plot.setLabel("left", "dB", color=theme.DIM_TEXT.name())
        band = QColor(theme.RANGE_COLOUR)
        band.setAlpha(70)
        edge = pg.mkPen(band, width=1)  # FillBetweenItem fills between drawn curves
        self.p10 = pg.PlotDataItem(pen=edge)
        self.p90 = pg.PlotDataItem(pen=edge)
        self.band = pg.FillBetweenItem(self.p10, self.p90, brush=pg.mkBrush(band))
        self.hits = pg.PlotDataItem(pen=pg.mkPen(theme.RANGE_COLOUR, width=1))
        self.others = pg.PlotDataItem(pen=pg.mkPen(theme.DIM_TEXT, width=1, style=Qt.PenStyle.DashLine))
        self.take = pg.PlotDataItem(pen=pg.mkPen(theme.P_COLOUR, width=2))
        for item in (self.p10, self.p90, self.band, self.hits, self.others, self.take):
            plot.addItem(item)
        self.balance: TonalBalance | None = None
        self.setToolTip(
            "The take's average spectrum as the model sees it (its MFCC means turned back into mel bands, dB under "
            "its loudest band) against the chart hits' middle 80% and median. The model's view, not a target."
        )

    def show_balance(self, balance: TonalBalance | None) -> None:
        self.balance = balance
        self.setVisible(balance is not None)
        if balance is None:
            return
        x = np.log10(np.asarray(balance.bands_hz))
        self.p10.setData(x, balance.hits_p10_db)
        self.p90.setData(x, balance.hits_p90_db)
        self.hits.setData(x, balance.hits_db)
        self.others.setData(x, balance.others_db)
        self.take.setData(x, balance.take_db)
        low = min(min(balance.take_db), min(balance.hits_p10_db))
        self.setYRange(low - 3.0, max(max(balance.take_db), max(balance.hits_p90_db)) + 3.0, padding=0)
        self.setXRange(float(x[0]), float(x[-1]), padding=0)
