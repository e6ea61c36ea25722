"""Tonal balance against the chart hits: the take's envelope as the model sees it, on a Hz axis.

The take's MFCC means turned back into the 128 mel bands (dB under its loudest bin) over the
training hits' 10th-90th percentile band and median, and the other songs' median. Where the take's
line leaves the band, its balance is unlike most of the model's hits; the model's view, not a target.
With one of the user's own targets chosen (hitdesk.explain.targets), the band and median are that
target's references' instead, and the other songs' line is hidden.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from hitdesk.explain.targets import TonalTarget
from hitdesk.insights import TonalBalance
from hitdesk.ui import theme

HEIGHT = 170
# The key, in the colours of the lines (the plot is too small for a legend inside it).
KEY = (
    f"<span style='color:{theme.P_COLOUR.name()}'>this take</span> · "
    f"<span style='color:{theme.RANGE_COLOUR.name()}'>chart hits (median, middle 80%)</span> · "
    f"<span style='color:{theme.DIM_TEXT.name()}'>other songs (median, dashed)</span>"
)


def key(target: TonalTarget | None) -> str:
    """The key for the chart hits (``KEY``) or for one of the user's targets."""
    if target is None:
        return KEY
    return (
        f"<span style='color:{theme.P_COLOUR.name()}'>this take</span> · "
        f"<span style='color:{theme.RANGE_COLOUR.name()}'>{html.escape(target.name)} "
        f"(median, middle 80% of {len(target.sources)} takes)</span>"
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
        self.target: TonalTarget | None = None  # None: against the chart hits
        self.setToolTip(
            "The take's average spectrum as the model sees it (its MFCC means turned back into mel bands, dB under "
            "its loudest band) against the chart hits' middle 80% and median. The model's view, not a target."
        )

    def show_target(self, target: TonalTarget | None) -> None:
        """Against one of the user's targets (None: the chart hits)."""
        self.target = target
        self.show_balance(self.balance)

    def show_balance(self, balance: TonalBalance | None) -> None:
        self.balance = balance
        self.setVisible(balance is not None)
        if balance is None:
            return
        x = np.log10(np.asarray(balance.bands_hz))
        t = self.target
        p10 = balance.hits_p10_db if t is None else t.p10_db
        p90 = balance.hits_p90_db if t is None else t.p90_db
        self.p10.setData(x, p10)
        self.p90.setData(x, p90)
        self.hits.setData(x, balance.hits_db if t is None else t.median_db)
        self.others.setData(x, balance.others_db)
        self.others.setVisible(t is None)
        self.take.setData(x, balance.take_db)
        low = min(min(balance.take_db), min(p10))
        self.setYRange(low - 3.0, max(max(balance.take_db), max(p90)) + 3.0, padding=0)
        self.setXRange(float(x[0]), float(x[-1]), padding=0)
