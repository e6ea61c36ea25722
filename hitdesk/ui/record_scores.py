"""The record panel's live scores: the take's beginning window once recorded, and the latest window.

Apart from the recording itself (``record_panel.py``): what the meters say before a score exists
(when the first ones are due, counting down while the take is recorded, with the input's level so
the first 30 s are not silent) and which stretch of the take each score is about.
"""

from __future__ import annotations

import logging
import math

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from hitdesk.capture.live import BEGINNING, DEFAULT_REFRESH_SECONDS, LiveScore
from hitdesk.present import clock, mmss
from hitdesk.results import Score
from hitdesk.ui import theme
from hitdesk.ui.meters import ProbabilityMeter

log = logging.getLogger(__name__)


class LiveScores(QWidget):
    """Two meters, "Beginning" and "Now", each with the span of the take it scored."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.beginning_meter = ProbabilityMeter("Beginning")
        self.now_meter = ProbabilityMeter("Now")
        self.beginning_span = QLabel("")
        self.now_span = QLabel("")
        for m in (self.beginning_meter, self.now_meter):
            m.setMinimumWidth(200)
        for label in (self.beginning_span, self.now_span):
            label.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        sv = QVBoxLayout(self)
        sv.setContentsMargins(0, 0, 0, 0)
        sv.setSpacing(2)
        sv.addWidget(self.beginning_meter)
        sv.addWidget(self.beginning_span)
        sv.addSpacing(8)
        sv.addWidget(self.now_meter)
        sv.addWidget(self.now_span)
        sv.addStretch(1)
        self.setMinimumWidth(230)
        self.setMaximumWidth(300)
        self.window_s = 30.0
        self.base_rate: float | None = None
        self.first_scored = False

    def reset(self, window_s: float, base_rate: float | None) -> None:
        """No scores yet: when the first ones are due, for this window length."""
        w = window_s
        self.window_s, self.base_rate, self.first_scored = w, base_rate, False
        first_now = (math.floor(w / DEFAULT_REFRESH_SECONDS + 1e-9) + 1) * DEFAULT_REFRESH_SECONDS
        self.beginning_meter.set_score(None, base_rate, f"at {clock(w)}")
        self.now_meter.set_score(None, base_rate, f"at {clock(first_now)}")
        self.beginning_span.setText(f"The first {w:g} s of the take")
        self.now_span.setText(f"The last {w:g} s, every {DEFAULT_REFRESH_SECONDS:g} s")

    def show_waiting(self, elapsed_s: float, level_dbfs: float | None) -> None:
        """While the take is shorter than a window: when its first score comes, and the input's level."""
        if self.first_scored:
            return
        left = f"in {mmss(math.ceil(max(0.0, self.window_s - elapsed_s)))}"
        if left != self.beginning_meter.placeholder:
            self.beginning_meter.set_score(None, self.base_rate, left)
        level = "silence" if level_dbfs is None or level_dbfs <= -60.0 else f"{level_dbfs:.0f} dBFS"
        text = f"First score at {mmss(self.window_s)} · level {level}"
        if text != self.beginning_span.text():
            self.beginning_span.setText(text)

    def show_score(self, score: LiveScore, base_rate: float | None) -> None:
        self.first_scored = True  # a score, whichever: the countdown has done its job
        meter = self.beginning_meter if score.segment == BEGINNING else self.now_meter
        span = self.beginning_span if score.segment == BEGINNING else self.now_span
        span.setText(f"Window {clock(score.start_s)}–{clock(score.end_s)} of the take")
        meter.set_score(Score(score.score.p_hit, score.score.p_hit_low, score.score.p_hit_high), base_rate)
