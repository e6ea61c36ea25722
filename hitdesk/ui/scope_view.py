"""The vectorscope (goniometer): a Lissajous picture of mid against side, with the correlation beside it.

It draws what is heard: while a take is recorded, the input (the capture writer's ``ScopeRing``);
else, while the selected take plays, what the output callback played (``PlayEngine.scope``: the
take's own channels at the stream's rate, after its gain). A timer draws at ``FRAME_MS`` while the
view is shown; each frame reads the newest ``WINDOW_FRAMES`` frames and draws at most
``MAX_POINTS`` points (``hitdesk.dsp.scope``), and a frame with nothing new draws nothing. When
neither plays, the last picture stays, captioned "stopped". A mono take is a vertical line and
says "mono".

``ScopeDock`` puts it in a small dock, hidden at first, shown and hidden from View ▸ Vectorscope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QHideEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QVBoxLayout, QWidget

from hitdesk.dsp.scope import WINDOW_FRAMES, ScopeFrame, ScopeRing, scope_frame
from hitdesk.ui import theme

if TYPE_CHECKING:
    from hitdesk.ui.playback import Player
    from hitdesk.ui.record_panel import RecordPanel

FRAME_MS = 33  # about 30 frames a second
SIZE_PX = 200  # wide enough for "correlation +0.00" under the picture
TRACE_COLOUR = "#7bd88f"
SCOPE_SHORTCUT = "Ctrl+Shift+V"

# What the scope should draw now: a ring and what it is ("input", "playback"), or (None, "") for nothing.
SourceOf = Callable[[], tuple[ScopeRing | None, str]]


class ScopeView(QWidget):
    def __init__(self, source: SourceOf, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.plot = pg.PlotWidget(background=theme.BASE)
        self.plot.setAccessibleName("Vectorscope")
        self.plot.setToolTip(
            "Vectorscope: mid up, side across. A vertical line is mono, a horizontal one is out of phase "
            "(cancels in mono); a round cloud is wide. Quiet passages are enlarged (up to 24 dB)."
        )
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setAspectLocked(True)
        self.plot.setRange(xRange=(-1.0, 1.0), yRange=(-1.0, 1.0), padding=0.02)
        item = self.plot.getPlotItem()
        item.hideAxis("left")
        item.hideAxis("bottom")
        guide = pg.mkPen(theme.BORDER, width=1)
        for angle in (0, 45, 90, 135):  # side, R, mid, L
            item.addItem(pg.InfiniteLine(pos=(0, 0), angle=angle, pen=guide, movable=False))
        for text, x, y in (("M", 0.0, 1.0), ("L", -0.75, 0.75), ("R", 0.75, 0.75), ("S", 1.0, 0.0)):
            label = pg.TextItem(text, color=theme.DIM_TEXT, anchor=(0.5, 0.5))
            label.setPos(x * 0.92, y * 0.92)
            item.addItem(label)
        self.trace = pg.PlotCurveItem(pen=pg.mkPen(TRACE_COLOUR, width=1), antialias=False, skipFiniteCheck=True)
        item.addItem(self.trace)
        self.readout = QLabel("stopped")  # what it shows, and from where (playback, input, stopped)
        self.readout.setAccessibleName("Stereo correlation now")
        self.readout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.readout)
        self.setMinimumSize(SIZE_PX, SIZE_PX)
        self._window = np.zeros((WINDOW_FRAMES, 2), dtype=np.float32)
        self._seen: tuple[int, int] | None = None  # (ring id, frames written) last drawn
        self.last: ScopeFrame | None = None
        self.frames_drawn = 0
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.tick)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt's name
        super().hideEvent(event)
        self.timer.stop()

    def tick(self) -> None:
        """One frame: the newest window of the current source, if anything new was written."""
        ring, what = self.source()
        if ring is None:
            if self.last is not None and not self.readout.text().endswith("stopped"):
                self.readout.setText(f"{self.last.readout}\nstopped")
            elif self.last is None:
                self.readout.setText("stopped")
            self._seen = None
            return
        seen = (id(ring), ring.written)
        if seen == self._seen or ring.written == 0:
            return
        self._seen = seen
        n = ring.latest(self._window)
        frame = scope_frame(self._window[WINDOW_FRAMES - n :], ring.source_channels)
        self.trace.setData(frame.x, frame.y)
        self.readout.setText(f"{frame.readout}\n{what}")
        self.last = frame
        self.frames_drawn += 1


class ScopeDock(QDockWidget):
    """The vectorscope in a small dock, hidden until View ▸ Vectorscope shows it."""

    def __init__(self, window: QMainWindow, source: SourceOf, view_menu: QMenu) -> None:
        super().__init__("Vectorscope", window)
        self.setObjectName("scope-dock")  # saveState/restoreState remember whether it is shown
        self.view = ScopeView(source, self)
        self.setWidget(self.view)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self)
        self.hide()
        self.action: QAction = self.toggleViewAction()
        self.action.setText("&Vectorscope")
        self.action.setShortcut(QKeySequence(SCOPE_SHORTCUT))
        self.action.setToolTip(f"Show the stereo picture of what plays or is recorded ({SCOPE_SHORTCUT})")
        view_menu.addSeparator()
        view_menu.addAction(self.action)


def scope_source(player: Player, recorder: RecordPanel) -> SourceOf:
    """The input while a take is recorded, else what plays, else nothing."""

    def source() -> tuple[ScopeRing | None, str]:
        session = recorder.session
        if session is not None:
            return session.recorder.scope, "input"
        if player.is_playing:
            return player.engine.scope, "playback"
        return None, ""

    return source
