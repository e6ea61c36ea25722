"""The input level meter: one bar per recorded channel, peak hold, and a clip light that stays on.

It is fed the loudest sample of each channel since the previous GUI tick (``RecorderStatus.peak``,
measured by the capture writer on the audio it drains from the ring; the audio callback itself only
copies). The bar falls back at a fixed rate, as on a mixing desk, so short peaks stay readable; the
hold mark keeps the highest level for ``HOLD_S``; the clip light stays lit until clicked or until
the next take, because a clip that lasted one block is exactly what a musician must not miss.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from hitdesk.ui import theme

FLOOR_DB = -60.0
HOLD_S = 1.5
FALL_DB_PER_S = 24.0
CLIP_LEVEL = 0.999  # a sample at (or beyond) full scale, less a 16-bit step or so
HOT_DB = -6.0


def to_db(linear: float) -> float:
    return 20.0 * math.log10(linear) if linear > 0 else -math.inf


class LevelMeter(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.levels_db: list[float] = [FLOOR_DB]
        self.holds_db: list[float] = [FLOOR_DB]
        self._hold_at: list[float] = [0.0]
        self.clipped = False
        self.loudest_db = -math.inf  # since the last reset: what a test or a tooltip can read
        self._last: float | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Input level in dBFS: bar, peak hold, and CLIP (stays lit; click to clear)")
        self.setAccessibleName("Input level")

    def reset(self, channels: int = 1) -> None:
        n = max(1, channels)
        self.levels_db = [FLOOR_DB] * n
        self.holds_db = [FLOOR_DB] * n
        self._hold_at = [0.0] * n
        self.clipped = False
        self.loudest_db = -math.inf
        self._last = None
        self.update()

    def feed(self, peaks: Sequence[float], now: float | None = None) -> None:
        """The loudest sample per channel since the previous call (linear, 1.0 = full scale)."""
        now = time.monotonic() if now is None else now
        dt = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        if len(peaks) != len(self.levels_db) and peaks:
            self.reset(len(peaks))
            self._last = now
        before = (list(self.levels_db), list(self.holds_db), self.clipped)
        for i, p in enumerate(peaks):
            db = max(FLOOR_DB, to_db(abs(p)))
            self.loudest_db = max(self.loudest_db, to_db(abs(p)))
            self.levels_db[i] = max(db, self.levels_db[i] - FALL_DB_PER_S * dt)
            if db >= self.holds_db[i] or now - self._hold_at[i] > HOLD_S:
                self.holds_db[i] = db  # a new, higher peak, or the old one held long enough
                self._hold_at[i] = now
            if abs(p) >= CLIP_LEVEL:
                self.clipped = True
        if (self.levels_db, self.holds_db, self.clipped) != before:
            self.update()  # silence on a quiet input does not repaint

    def sizeHint(self) -> QSize:  # noqa: N802
        fm = QFontMetrics(self.font())
        return QSize(220, max(2 * 9 + 6, fm.height() + 4) + fm.height())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self.clipped = False
            self.update()
        super().mouseReleaseEvent(event)

    def _x(self, db: float, left: float, width: float) -> float:
        return left + width * (min(0.0, max(FLOOR_DB, db)) - FLOOR_DB) / -FLOOR_DB

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        fm = QFontMetrics(self.font())
        clip_w = fm.horizontalAdvance("CLIP") + 10
        left, width = 0.0, float(self.width() - clip_w - 4)
        n = len(self.levels_db)
        bars_h = float(self.height() - fm.height() - 2)
        bar_h = max(3.0, (bars_h - 2 * (n - 1)) / n)
        for i in range(n):
            top = i * (bar_h + 2)
            rect = QRectF(left, top, width, bar_h)
            painter.fillRect(rect, theme.BASE)
            level = self.levels_db[i]
            hot_x = self._x(HOT_DB, left, width)
            x = self._x(level, left, width)
            if level > FLOOR_DB:
                painter.fillRect(QRectF(left, top, min(x, hot_x) - left, bar_h), theme.RANGE_COLOUR)
                if x > hot_x:
                    painter.fillRect(QRectF(hot_x, top, x - hot_x, bar_h), theme.WARNING_COLOUR)
            hold = self.holds_db[i]
            if hold > FLOOR_DB:
                hx = self._x(hold, left, width)
                painter.fillRect(QRectF(hx - 1.5, top, 3.0, bar_h), theme.TEXT)
        # The clip light, level with the bars.
        light = QRectF(width + 4, 0, clip_w, bars_h)
        painter.setPen(QPen(theme.BORDER, 1))
        painter.setBrush(theme.ERROR_COLOUR if self.clipped else theme.BASE)
        painter.drawRoundedRect(light, 3, 3)
        painter.setPen(QColor("#000000") if self.clipped else theme.DIM_TEXT)
        painter.drawText(light, int(Qt.AlignmentFlag.AlignCenter), "CLIP")
        # Scale: dBFS under the bars.
        painter.setPen(theme.DIM_TEXT)
        y = bars_h + 1
        for db in (-60, -40, -20, -12, -6, 0):
            x = self._x(float(db), left, width)
            text = str(db)
            tw = fm.horizontalAdvance(text)
            tx = min(max(0.0, x - tw / 2), width - tw)
            painter.drawText(QRectF(tx, y, tw + 2, fm.height()), int(Qt.AlignmentFlag.AlignLeft), text)
        painter.end()
