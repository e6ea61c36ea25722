"""The strips under the spectrogram: a take's loudness over time on the same time axis (like
Youlean's history), and its stereo correlation over time, from the curves its analysis pass measured
(``hitdesk.dsp.meters``).

Short-term loudness (3 s) is the bold line, momentary (400 ms) the thin one, integrated loudness a
dashed level, clipped spots red ticks and bands, peaks over the QC ceiling purple bands
(``hitdesk.ui.spot_marks``; a click on one plays from its start); correlation (400 ms windows) runs
from -1 (out of phase) to +1 (mono). Each value is drawn where its window ends, as meters show them.
The x axes follow the spectrogram's (``TimeStrip.follow``), so zooming or scrolling one moves all.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QWidget

from hitdesk.dsp.loudness import Loudness
from hitdesk.dsp.loudness_range import MOMENTARY_STEPS, SHORT_TERM_STEPS, STEP_S
from hitdesk.dsp.meters import TrackLoudness
from hitdesk.ui import theme
from hitdesk.ui.spot_marks import SpotMarks
from hitdesk.ui.time_strip import TimeStrip

FLOOR_LUFS = -50.0  # the strip's bottom: quieter passages sit on it
TOP_LUFS = 0.0
SHORT_TERM_COLOUR = QColor("#5aa9e6")
MOMENTARY_COLOUR = QColor(90, 169, 230, 110)
INTEGRATED_COLOUR = QColor("#f5a524")
CLIP_COLOUR = QColor("#ff5252")
STRIP_HEIGHT = 46
CORRELATION_HEIGHT = 36
CORRELATION_COLOUR = QColor("#7bd88f")


class LoudnessStrip(TimeStrip):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Loudness (LUFS, short-term / momentary)",
            STRIP_HEIGHT,
            (FLOOR_LUFS, TOP_LUFS),
            [(v, f"{v:g}") for v in (-40.0, -10.0)],  # two labels: the strip is compact
            parent,
        )
        self.setAccessibleName("Loudness over time")
        self.setToolTip(
            "Loudness over time: short-term (3 s, bold) and momentary (400 ms, thin) in LUFS, the integrated "
            "loudness dashed, clipped spots as red ticks"
        )
        self.setMouseEnabled(x=True, y=False)
        plot = self.getPlotItem()
        self.momentary = plot.plot(pen=pg.mkPen(MOMENTARY_COLOUR, width=1))
        self.short_term = plot.plot(pen=pg.mkPen(SHORT_TERM_COLOUR, width=2))
        pen = QPen(INTEGRATED_COLOUR)
        pen.setStyle(Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.integrated = pg.InfiniteLine(angle=0, pen=pen, movable=False)
        plot.addItem(self.integrated)
        self.clips = pg.ScatterPlotItem(symbol="t1", size=8, pen=None, brush=CLIP_COLOUR)
        plot.addItem(self.clips)
        self.marks = SpotMarks(self, FLOOR_LUFS, TOP_LUFS)
        self._tooltip = self.toolTip()
        self.message = pg.TextItem("", color=theme.DIM_TEXT, anchor=(0, 0.5))
        plot.addItem(self.message, ignoreBounds=True)
        self.show_loudness(None)

    def show_loudness(self, loudness: Loudness | None, message: str = "") -> None:
        """Draws a take's curves; a loudness without them (a session, the cache) leaves a sentence."""
        curves = loudness.curves if isinstance(loudness, TrackLoudness) else None
        if curves is None:
            self.momentary.setData([], [])
            self.short_term.setData([], [])
            self.clips.setData([], [])
            self.marks.show(None)
            self.integrated.hide()
            self.message.setText(
                message or ("" if loudness is None else "Loudness over time: analyse the take again to draw it")
            )
            self.message.setPos(self.getPlotItem().vb.viewRange()[0][0], -25.0)
            return
        self.message.setText("")
        for item, curve, steps in (
            (self.momentary, curves.momentary, MOMENTARY_STEPS),
            (self.short_term, curves.short_term, SHORT_TERM_STEPS),
        ):
            ends = curves.end_s(curve, steps * STEP_S)
            item.setData(ends, np.maximum(np.nan_to_num(curve, neginf=FLOOR_LUFS), FLOOR_LUFS))
        lufs = loudness.integrated_lufs if loudness is not None else None
        if lufs is None:
            self.integrated.hide()
        else:
            self.integrated.setValue(lufs)
            self.integrated.show()
        times = list(loudness.clipping.times_s) if isinstance(loudness, TrackLoudness) and loudness.clipping else []
        self.clips.setData(times, [TOP_LUFS - 2.0] * len(times))
        self.marks.show(loudness.problem_spots if isinstance(loudness, TrackLoudness) else None)
        self._describe()

    def set_ceiling(self, ceiling_dbtp: float | None) -> None:
        """The QC profile's true-peak ceiling for the orange marks (None: the analysis's floor)."""
        self.marks.set_ceiling(ceiling_dbtp)
        self._describe()

    def _describe(self) -> None:
        marks = self.marks.describe()
        self.setToolTip(self._tooltip + (f". Problem spots: {marks}" if marks else ""))

    def curve_points(self) -> int:
        """How many short-term values are drawn (for tests)."""
        x, _ = self.short_term.getData()
        return 0 if x is None else len(x)


class CorrelationStrip(TimeStrip):
    """The front pair's correlation over time; empty (with a sentence) for a 1-channel take."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Stereo correlation", CORRELATION_HEIGHT, (-1.0, 1.0), [(-1.0, "-1"), (1.0, "+1")], parent)
        self.setAccessibleName("Stereo correlation over time")
        self.setToolTip(
            "Stereo correlation over time (400 ms windows): +1 the same in both channels (mono), 0 unrelated, "
            "-1 out of phase, which cancels when played in mono"
        )
        self.setMouseEnabled(x=True, y=False)
        plot = self.getPlotItem()
        plot.addItem(pg.InfiniteLine(angle=0, pos=0.0, pen=pg.mkPen(theme.BORDER, width=1), movable=False))
        self.curve = plot.plot(pen=pg.mkPen(CORRELATION_COLOUR, width=1))
        self.message = pg.TextItem("", color=theme.DIM_TEXT, anchor=(0, 0.5))
        plot.addItem(self.message, ignoreBounds=True)

    def show_loudness(self, loudness: Loudness | None) -> None:
        curves = loudness.curves if isinstance(loudness, TrackLoudness) else None
        if curves is None or curves.correlation is None:
            self.curve.setData([], [])
            one_channel = curves is not None and curves.correlation is None
            self.message.setText("1 channel: no stereo" if one_channel else "")
            self.message.setPos(self.getPlotItem().vb.viewRange()[0][0], 0.5)
            return
        self.message.setText("")
        self.curve.setData(curves.end_s(curves.correlation, MOMENTARY_STEPS * STEP_S), curves.correlation)
