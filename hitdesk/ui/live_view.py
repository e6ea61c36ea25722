"""The spectrogram of a take being recorded: log-mel columns scrolling in from the right.

The columns are those the live analysis computes (``hitdesk.capture.live.MelColumns``, dB relative to a
full-scale sine), drawn with the same colour map and dB range as the files' spectrograms.

Drawing follows the usual scrolling-image pattern: one preallocated float32 buffer holds twice the
visible number of columns, each new column is written at ``j`` and ``j + N``, so the last ``N``
columns are always the one contiguous slice ``buf[j : j + N]`` and nothing is copied or rolled.
Time is the buffer's first (slow) axis, hence ``axisOrder='col-major'``: with time as the fast axis,
as ``row-major`` would have it, the visible part would not be one block of memory. Levels are fixed.

Columns arrive in bursts (each block the recorder hands over, ~20 ms), but the picture moves on
every frame: the x axis is "seconds before now", and a display clock that runs with the wall clock,
never behind the newest column and at most ``LEAD_S`` ahead of it, sets where the image sits. The
newest column is therefore on screen from the first paint after it arrives, and the image glides
rather than jumping a batch at a time; the strip ahead of the newest column is left empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget

from hitdesk.capture.live import MEL_FLOOR_DB, MelColumns
from hitdesk.config import FEATURES
from hitdesk.ui import theme
from hitdesk.ui.plot_parts import HzAxis

FRAME_S = FEATURES.hop_length / FEATURES.sample_rate
LEAD_S = 0.15  # how far the display clock may run ahead of the newest column (a few blocks)
DEFAULT_SPAN_S = 12.0


class SecondsAgoAxis(pg.AxisItem):  # type: ignore[misc]
    """A fixed axis, "-10 s" to "now": it never changes while the image scrolls, so it costs nothing."""

    def __init__(self) -> None:
        super().__init__("bottom")

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return ["now" if abs(v) < 1e-6 else f"{v:g} s" for v in values]


class LiveSpectrogramView(pg.PlotWidget):  # type: ignore[misc]
    """Scrolling log-mel of the take being recorded. ``append`` new columns, ``advance`` every frame."""

    def __init__(self, span_s: float = DEFAULT_SPAN_S, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, background=theme.BASE, axisItems={"left": HzAxis(), "bottom": SecondsAgoAxis()})
        self.setAcceptDrops(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        plot = self.getPlotItem()
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setTextPen(theme.DIM_TEXT)
            axis.setPen(theme.BORDER)
        plot.getAxis("left").setWidth(44)
        plot.setLabel("left", "Hz", color=theme.DIM_TEXT.name())
        self.span_s = float(span_s)
        self.n_columns = max(2, round(self.span_s / FRAME_S))
        self._buf = np.full((2 * self.n_columns, FEATURES.n_mels), MEL_FLOOR_DB, dtype=np.float32)
        self._j = 0
        self.frames = 0  # columns received since ``reset`` (= the take's frames so far)
        self.columns_painted = 0  # the newest column count on screen at the last paint
        self.paints = 0
        self.painted_at = 0.0  # perf_counter of the last paint
        self.on_paint: Callable[[int, float], None] | None = None  # (columns on screen, time): for the benchmark
        self._clock = 0.0  # display time, seconds of the take at the right edge of the plot
        self._wall: float | None = None
        self._running = False
        self.db_range = 80.0
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(pg.colormap.get(theme.DEFAULT_COLOUR_MAP))
        self.image.setImage(self._visible(), autoLevels=False, levels=self._levels())
        self.image.hide()  # until a take starts: an empty plot, not a block of the colour map's darkest colour
        plot.addItem(self.image)
        self._message = QLabel(self)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setStyleSheet(f"color: {theme.DIM_TEXT.name()}; background: transparent;")
        self._message.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._message.hide()
        plot.disableAutoRange()
        plot.setXRange(-self.span_s, 0.0, padding=0)
        plot.setYRange(0.0, float(FEATURES.n_mels), padding=0)
        self._place()

    # --- appearance --------------------------------------------------------------------------------
    def _levels(self) -> tuple[float, float]:
        return (-self.db_range, 0.0)

    def set_colour_map(self, name: str) -> None:
        self.image.setColorMap(pg.colormap.get(name))

    def set_message(self, text: str) -> None:
        """A line over the picture (what to do while nothing is recorded); "" hides it."""
        self._message.setText(text)
        self._message.setGeometry(0, 0, self.width(), max(0, self.height() - 30))
        self._message.setVisible(bool(text))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        if "_message" in self.__dict__:  # pyqtgraph resizes during its own __init__
            self._message.setGeometry(0, 0, self.width(), max(0, self.height() - 30))

    def set_db_range(self, db: float) -> None:
        self.db_range = float(db)
        self.image.setLevels(self._levels())

    # --- content -----------------------------------------------------------------------------------
    def reset(self) -> None:
        """A new take: an empty picture, the clock at 0."""
        self._buf.fill(MEL_FLOOR_DB)
        self._j = 0
        self.frames = 0
        self.columns_painted = 0
        self._clock = 0.0
        self._wall = None
        self._running = True
        self.image.setImage(self._visible(), autoLevels=False, levels=self._levels())
        self.image.show()
        self._place()

    def stop(self) -> None:
        """The take has ended: the clock stops at its last column."""
        self._running = False
        self._clock = self.frames * FRAME_S
        self._place()

    def _visible(self) -> np.ndarray:
        return self._buf[self._j : self._j + self.n_columns]

    def append(self, columns: MelColumns) -> int:
        """Writes new columns (n_mels x k) into the ring; a gap (columns never fetched) is left empty."""
        values = columns.values
        k = int(values.shape[1])
        if k == 0:
            return 0
        gap = columns.first_frame - self.frames
        if gap > 0:
            self._write(np.full((min(gap, self.n_columns), FEATURES.n_mels), MEL_FLOOR_DB, dtype=np.float32))
        elif gap < 0:  # already have some of these (should not happen): keep the new ones only
            values = values[:, -gap:]
            k = int(values.shape[1])
            if k == 0:
                return 0
        self._write(values.T)
        self.frames = columns.first_frame + int(columns.values.shape[1])
        self.image.setImage(self._visible(), autoLevels=False, levels=self._levels())
        self._place()
        return k

    def _write(self, cols: np.ndarray) -> None:
        """``cols`` is k x n_mels; only the last N columns can be seen, so only those are written."""
        n = self.n_columns
        cols = cols[-n:]
        idx = (self._j + np.arange(cols.shape[0])) % n
        self._buf[idx] = cols
        self._buf[idx + n] = cols
        self._j = int((self._j + cols.shape[0]) % n)

    def advance(self, now: float | None = None) -> None:
        """Moves the display clock with the wall clock (see the module's docstring); call every frame."""
        now = time.perf_counter() if now is None else now
        newest = self.frames * FRAME_S
        if self._running:
            if self._wall is not None:
                self._clock += now - self._wall
            self._clock = min(max(self._clock, newest), newest + LEAD_S)
        self._wall = now
        self._place()

    def _place(self) -> None:
        """The image's last column ends at the newest column's time, relative to the display clock."""
        newest = self.frames * FRAME_S
        right = newest - self._clock
        width = self.n_columns * FRAME_S
        self.image.setRect(QRectF(right - width, 0.0, width, float(FEATURES.n_mels)))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        self.paints += 1
        self.painted_at = time.perf_counter()
        self.columns_painted = self.frames
        if self.on_paint is not None:
            self.on_paint(self.frames, self.painted_at)
