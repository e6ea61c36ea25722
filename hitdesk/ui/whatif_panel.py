"""What if: one control at a time, what the model would say, and its response along the control.

The head re-scores the take's statistics with the control moved (hitdesk.explain.whatif) as the
slider moves; the plot shows the model's score across the control's range with the part inside the
training songs' 1st-99th percentile shaded. Outside it the model refuses to answer. Labelled as what
the model would say, never as advice.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from hitdesk.explain import load_background
from hitdesk.explain.background import Background, BackgroundError
from hitdesk.explain.drivers import head_scorer
from hitdesk.explain.shapley import ScoreRows
from hitdesk.explain.whatif import CONTROLS, WhatIfError, control, control_range, response, what_if
from hitdesk.model.runtime import HitModel
from hitdesk.ui import theme

STEPS = 60  # slider positions across a control's range


class WhatIfPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.score: ScoreRows | None = None
        self.background: Background | None = None
        self.model_name = ""
        self.stats: npt.NDArray[np.float64] | None = None
        title = QLabel("<b>What if</b> (the model's view)")
        title.setToolTip("What the model would say with one group of the take's statistics edited; never advice")
        self.which = QComboBox()
        for c in CONTROLS:
            self.which.addItem(f"{c.name} ({c.unit})", c.name)
        self.which.setAccessibleName("What-if control")
        self.which.currentIndexChanged.connect(self._control_changed)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(title, 1)
        top.addWidget(self.which)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STEPS)
        self.slider.setAccessibleName("What-if amount")
        self.slider.valueChanged.connect(self._moved)
        self.readout = QLabel("")
        self.readout.setWordWrap(True)
        self.plot = pg.PlotWidget(background=theme.BASE)
        self.plot.setFixedHeight(110)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.getPlotItem().getAxis("left").setWidth(34)
        for side in ("left", "bottom"):
            self.plot.getPlotItem().getAxis(side).setTextPen(theme.DIM_TEXT)
        fill = QColor(theme.RANGE_COLOUR)
        fill.setAlpha(50)
        self.allowed = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(fill), pen=pg.mkPen(None))
        self.line = pg.PlotDataItem(pen=pg.mkPen(theme.P_COLOUR, width=2))
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.TEXT, width=1))
        for item in (self.allowed, self.line, self.marker):
            self.plot.addItem(item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.slider)
        layout.addWidget(self.readout)
        layout.addWidget(self.plot)
        self.show_stats(None)

    def set_model(self, model: HitModel | None) -> None:
        self.score = head_scorer(model) if model is not None and model.has_head else None
        self.model_name = "" if model is None else model.info.name
        try:
            self.background = None if model is None else load_background(model.stem, model.card.raw)
        except BackgroundError:
            self.background = None

    def show_stats(self, stats: npt.ArrayLike | None, why_not: str = "") -> None:
        """The take's 42 statistics (None: nothing to edit, and ``why_not`` says why)."""
        self.stats = None if stats is None else np.asarray(stats, dtype=np.float64).reshape(-1)
        ready = self.stats is not None and self.score is not None and self.background is not None
        for w in (self.which, self.slider, self.plot):
            w.setEnabled(ready)
        if not ready:
            self.line.setData([], [])
            self.readout.setText(why_not or "What if needs a take analysed in this session by a model that explains.")
            return
        self._control_changed()

    def amount(self) -> float:
        assert self.stats is not None and self.background is not None
        lo, hi = control_range(self.stats, str(self.which.currentData()), self.background)
        return lo + (hi - lo) * self.slider.value() / STEPS

    def _control_changed(self) -> None:
        if self.stats is None or self.score is None or self.background is None:
            return
        name = str(self.which.currentData())
        curve = response(self.score, self.stats, name, self.background, n=STEPS + 1)
        self.line.setData(curve.amounts, curve.p_hit)
        inside = curve.amounts[curve.allowed]
        self.allowed.setVisible(inside.size > 0)
        if inside.size:
            self.allowed.setRegion((float(inside[0]), float(inside[-1])))
        self.plot.setXRange(float(curve.amounts[0]), float(curve.amounts[-1]), padding=0)
        self.plot.setYRange(max(0.0, float(curve.p_hit.min()) - 0.05), min(1.0, float(curve.p_hit.max()) + 0.05))
        start = STEPS // 2
        if name == "length":  # the take's own length on the slider
            lo, hi = control_range(self.stats, name, self.background)
            start = round(float(np.clip((self.stats[-1] - lo) / (hi - lo), 0, 1)) * STEPS)
        self.slider.blockSignals(True)
        self.slider.setValue(start)
        self.slider.blockSignals(False)
        self._moved()

    def _moved(self) -> None:
        if self.stats is None or self.score is None or self.background is None:
            return
        name = str(self.which.currentData())
        amount = self.amount()
        self.marker.setValue(amount)
        now = float(self.score(self.stats[None, :])[0])
        unit = control(name).unit
        moved = f"{name} {amount:+.1f} {unit}" if unit != "s" else f"length {amount:.0f} s"
        try:
            p = what_if(self.score, self.stats, name, amount, self.background)
        except WhatIfError as exc:
            self.readout.setText(str(exc))
            return
        self.readout.setText(f"With {moved}, the model would say {p:.0%} (now {now:.0%}).")
