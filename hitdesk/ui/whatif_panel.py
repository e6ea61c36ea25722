"""What if: every control at once, what the model would say, and its response along each control.

One row per control (tempo, length, density, the four bands, movement): a slider, its setting, and
a small plot of the model's score along that control with the others held where they are, the
part inside the training songs' 1st-99th percentile shaded and the current setting marked. The head
re-scores the edited statistics (hitdesk.explain.whatif) as any slider moves; settings the model
cannot answer for are refused with the sentence the core gives. Labelled as what the model would
say, never as advice.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from hitdesk.explain import load_background
from hitdesk.explain.background import Background, BackgroundError
from hitdesk.explain.drivers import head_scorer
from hitdesk.explain.shapley import ScoreRows
from hitdesk.explain.whatif import (
    CONTROLS,
    WhatIfError,
    control,
    control_range,
    neutral,
    responses,
    setting_text,
    what_if_all,
)
from hitdesk.model.runtime import HitModel
from hitdesk.present import mmss
from hitdesk.ui import theme

STEPS = 60  # slider positions across a control's range
CURVE_POINTS = 25  # points of each response curve
PLOT_SIZE = (120, 34)


class ControlRow:
    """One control's widgets: its slider, its setting as text and its response plot."""

    def __init__(self, name: str, on_move: Callable[[], None]) -> None:
        self.name = name
        c = control(name)
        self.label = QLabel(f"{name} ({c.unit})")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STEPS)
        self.slider.setAccessibleName(f"What if: {name}")
        self.slider.valueChanged.connect(on_move)
        self.value = QLabel("")
        self.value.setMinimumWidth(52)
        self.plot = pg.PlotWidget(background=theme.BASE)
        self.plot.setFixedSize(*PLOT_SIZE)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        item = self.plot.getPlotItem()
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.setContentsMargins(0, 0, 0, 0)
        fill = QColor(theme.RANGE_COLOUR)
        fill.setAlpha(60)
        self.allowed = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(fill), pen=pg.mkPen(None))
        self.line = pg.PlotDataItem(pen=pg.mkPen(theme.P_COLOUR, width=1.5))
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.TEXT, width=1))
        for part in (self.allowed, self.line, self.marker):
            self.plot.addItem(part)
        self.plot.setToolTip(
            f"What the model would say along the {name}, the other controls where they are; shaded: where the "
            "training songs lie (1st-99th percentile), the only part the model answers for"
        )

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.label, self.slider, self.value, self.plot)


class WhatIfPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.score: ScoreRows | None = None
        self.background: Background | None = None
        self.model_name = ""
        self.stats: npt.NDArray[np.float64] | None = None
        self.amounts: dict[str, float] = {}
        title = QLabel("<b>What if</b> <span style='color:#9aa0a8'>(what the model would say, not advice)</span>")
        title.setToolTip("What the model would say with groups of the take's statistics edited; never advice")
        self.reset = QPushButton("Reset")
        self.reset.setToolTip("Every control back to the take as it is")
        self.reset.clicked.connect(self.reset_controls)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(title, 1)
        top.addWidget(self.reset)
        self.readout = QLabel("")
        self.readout.setWordWrap(True)
        # Room for a refusal's sentence: the scroll area sizes the column by its hint, not by wrapped height.
        self.readout.setMinimumHeight(3 * self.readout.fontMetrics().lineSpacing() + 2)
        self.readout.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.rows = {c.name: ControlRow(c.name, self._moved) for c in CONTROLS}
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        for i, row in enumerate(self.rows.values()):
            for j, w in enumerate(row.widgets()):
                grid.addWidget(w, i, j)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.readout)
        layout.addLayout(grid)
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
        self.reset.setEnabled(ready)
        for row in self.rows.values():
            for w in row.widgets():
                w.setEnabled(ready)
            if not ready:
                row.line.setData([], [])
                row.value.setText("")
        if not ready:
            self.readout.setText(why_not or "What if needs a take analysed in this session by a model that explains.")
            return
        self.reset_controls()

    def reset_controls(self) -> None:
        """Every control at the take as it is (for length: the slider nearest the take's own length)."""
        if self.stats is None or self.background is None:
            return
        self.amounts = {c.name: neutral(self.stats, c.name) for c in CONTROLS}
        for name, row in self.rows.items():
            lo, hi = control_range(self.stats, name, self.background)
            row.slider.blockSignals(True)
            row.slider.setValue(round(float(np.clip((self.amounts[name] - lo) / (hi - lo), 0, 1)) * STEPS))
            row.slider.blockSignals(False)
        self._rescore()

    def set_amount(self, name: str, amount: float) -> None:
        """Moves one control to ``amount`` (the nearest slider step), as the user would."""
        assert self.stats is not None and self.background is not None
        lo, hi = control_range(self.stats, name, self.background)
        self.rows[name].slider.setValue(round((amount - lo) / (hi - lo) * STEPS))

    def _moved(self) -> None:
        if self.stats is None or self.background is None:
            return
        for name, row in self.rows.items():
            lo, hi = control_range(self.stats, name, self.background)
            at_rest = neutral(self.stats, name)
            rest_step = round(float(np.clip((at_rest - lo) / (hi - lo), 0, 1)) * STEPS)
            value = row.slider.value()
            self.amounts[name] = at_rest if value == rest_step else lo + (hi - lo) * value / STEPS
        self._rescore()

    def _rescore(self) -> None:
        assert self.stats is not None and self.score is not None and self.background is not None
        now = float(self.score(self.stats[None, :])[0])
        curves = responses(self.score, self.stats, self.amounts, self.background, n=CURVE_POINTS)
        for name, row in self.rows.items():
            curve = curves[name]
            row.line.setData(curve.amounts, curve.p_hit)
            inside = curve.amounts[curve.allowed]
            row.allowed.setVisible(inside.size > 0)
            if inside.size:
                row.allowed.setRegion((float(inside[0]), float(inside[-1])))
            row.marker.setValue(self.amounts[name])
            row.plot.setXRange(float(curve.amounts[0]), float(curve.amounts[-1]), padding=0)
            row.plot.setYRange(float(curve.p_hit.min()) - 0.01, float(curve.p_hit.max()) + 0.01, padding=0)
            row.value.setText(_setting(name, self.amounts[name]))
        moved = setting_text(self.stats, self.amounts)
        try:
            p = what_if_all(self.score, self.stats, self.amounts, self.background)
        except WhatIfError as exc:
            self.readout.setText(str(exc))
            return
        self.readout.setText(f"With {moved}, the model would say {p:.0%} (now {now:.0%}).")


def _setting(name: str, amount: float) -> str:
    unit = control(name).unit
    if unit == "s":
        return mmss(amount)
    return f"{amount:+.0f}%" if unit == "%" else f"{amount:+.1f} dB"
