"""What the model heard: each analysed window's log-mel drawn at its place on the track's timeline.

One ``pg.ImageItem(axisOrder='row-major')`` per window with fixed levels (dB, 0 at the window's
maximum, as the model sees it); the y axis counts mel bands but is labelled in Hz, the x axis in
minutes:seconds. Windows are outlined and labelled with their segment and probability.

Under the windows lies the whole track's log-mel (``TrackPicture``, on a fixed full-scale dB scale),
drawn as the engine computes it: while a take is analysed the view scrolls along with it, and the
windows appear on it as soon as the engine has placed them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFocusEvent, QFont, QKeyEvent, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QWidget

from hitdesk.analysis import AnalysisDetail
from hitdesk.config import FEATURES
from hitdesk.present import clock_tenths, mmss, pct
from hitdesk.results import Score, TrackResult
from hitdesk.ui import theme
from hitdesk.ui.loop_region import LoopBand, SelectViewBox
from hitdesk.ui.plot_parts import HzAxis, TimeAxis, WindowLabel, row_to_hz, stack_rows
from hitdesk.ui.track_picture import TrackPicture

DB_FLOOR_DEFAULT = -80.0
PICTURE_UNDER_WINDOWS_OPACITY = 0.35
FOLLOW_SECONDS = 60.0  # how much of the track the view shows while it scrolls along with the analysis
SEGMENT_LABELS = {"beginning": "Beginning", "middle": "Middle", "end": "End"}
FOCUS_WIDTH = 2


@dataclass(frozen=True)
class WindowView:
    name: str
    start_s: float
    end_s: float
    logmel: npt.NDArray[np.float32] | None
    score: Score | None = None


class SpectrogramView(pg.PlotWidget):  # type: ignore[misc]
    """The log-mel windows of one take on its timeline; a click asks to play from there, and
    Shift+drag (or moving the loop's band) asks for a loop."""

    seek_requested = Signal(float)  # seconds
    playhead_moved = Signal(object)  # seconds, or None when hidden (the hit curve follows it)
    loop_selected = Signal(float, float)  # start and end, seconds

    def __init__(self, compact: bool = False, parent: QWidget | None = None) -> None:
        self.compact = compact
        view_box = SelectViewBox()
        super().__init__(
            parent=parent,
            background=theme.BASE,
            axisItems={"left": HzAxis(compact), "bottom": TimeAxis()},
            viewBox=view_box,
        )
        self.setAcceptDrops(False)  # file drops go to the main window
        # The large view is a pane of its own in the Tab order (a frame shows it has the focus); the
        # compare view's small strips are not.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus if compact else Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Spectrogram")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=not compact, y=False)
        self.hideButtons()
        plot = self.getPlotItem()
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setTextPen(theme.DIM_TEXT)
            axis.setPen(theme.BORDER)
        plot.getAxis("left").setWidth(34 if compact else 44)
        if not compact:
            plot.setLabel("left", "Hz", color=theme.DIM_TEXT.name())
        plot.showGrid(x=False, y=False)
        self.colour_map = theme.DEFAULT_COLOUR_MAP
        self.db_floor = DB_FLOOR_DEFAULT
        self._images: dict[str, pg.ImageItem] = {}
        self._picture: pg.ImageItem | None = None  # the whole track's log-mel, under the windows
        self._marks: list[object] = []
        self._labels: list[WindowLabel] = []
        self._duration = 0.0
        self._windows: list[WindowView] = []
        self._single = False
        self._bar: pg.ColorBarItem | None = None
        if not compact:
            self._bar = pg.ColorBarItem(
                values=(self.db_floor, 0.0),
                colorMap=self.colour_map,
                interactive=False,
                label="dB",
                width=12,
                colorMapMenu=False,
            )
            self._bar.setImageItem([], insert_in=plot)
            self._bar.getAxis("left").setTextPen(theme.DIM_TEXT)
            self._bar.getAxis("right").setTextPen(theme.DIM_TEXT)
        self._message = QLabel(self)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setStyleSheet(f"color: {theme.DIM_TEXT.name()}; background: transparent;")
        self._message.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.set_message("")
        # Under the pointer: where in the take, which frequency, how loud the model hears it.
        self.readout = QLabel(self)
        self.readout.setStyleSheet(
            f"color: {theme.TEXT.name()}; background: rgba(20, 22, 26, 210); padding: 1px 4px; border-radius: 2px;"
        )
        self.readout.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.readout.hide()
        self._picture_data: TrackPicture | None = None
        self._playhead = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.P_COLOUR, width=2))
        self._playhead.setZValue(20)
        self._playhead.hide()
        plot.addItem(self._playhead, ignoreBounds=True)
        self.loop_band = LoopBand(plot, self.loop_selected.emit)
        if not compact:
            view_box.on_select = self._selecting
        self.scene().sigMouseClicked.connect(self._clicked)
        if not compact:
            self.scene().sigMouseMoved.connect(self._hovered)
        plot.vb.sigRangeChanged.connect(self._layout_labels)  # labels stack where they would overlap
        plot.vb.sigResized.connect(self._layout_labels)
        self.setYRange(0, FEATURES.n_mels, padding=0)
        self.setXRange(0, 60, padding=0)

    # --- appearance --------------------------------------------------------------------------------
    def set_colour_map(self, name: str) -> None:
        self.colour_map = name
        cmap = pg.colormap.get(name)
        for img in self._all_images():
            img.setColorMap(cmap)
        if self._bar is not None:
            self._bar.setColorMap(cmap)

    def set_db_floor(self, floor: float) -> None:
        self.db_floor = float(floor)
        for img in self._all_images():
            img.setLevels((self.db_floor, 0.0))
        if self._bar is not None:
            self._bar.setLevels((self.db_floor, 0.0))

    def _all_images(self) -> list[pg.ImageItem]:
        return list(self._images.values()) + ([self._picture] if self._picture is not None else [])

    @property
    def message(self) -> str:
        """The sentence shown over the plot instead of a picture ("" when there is a picture)."""
        return str(self._message.text())

    def set_message(self, text: str) -> None:
        self._message.setText(text)
        self._message.setVisible(bool(text))
        self._place_message()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        if self.hasFocus():
            painter = QPainter(self.viewport())
            painter.setPen(QPen(theme.FOCUS, FOCUS_WIDTH))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self.viewport().rect().adjusted(1, 1, -1, -1))
            painter.end()

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        super().focusInEvent(event)
        self.viewport().update()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.viewport().update()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_message()

    def _place_message(self) -> None:
        if "_message" not in self.__dict__:  # pyqtgraph resizes during its own __init__
            return
        self._message.setGeometry(0, 0, self.width(), max(0, self.height() - 30))

    def set_playhead(self, seconds: float | None) -> None:
        self.playhead_moved.emit(seconds)
        if seconds is None:
            self._playhead.hide()
        else:
            self._playhead.setValue(seconds)
            self._playhead.show()

    def set_loop(self, region: tuple[float, float] | None) -> None:
        self.loop_band.show(region)

    def _selecting(self, start: float, end: float, finished: bool) -> None:
        start, end = max(0.0, start), min(max(0.0, end), self._duration or end)
        self.loop_band.show((start, end))
        if finished and end > start:
            self.loop_selected.emit(start, end)

    def _clicked(self, event: object) -> None:
        if getattr(event, "button", lambda: None)() != Qt.MouseButton.LeftButton or not self._windows:
            return
        if getattr(event, "double", lambda: False)():
            self.reset_zoom()  # a double click shows the whole take again
            return
        point = self.getPlotItem().vb.mapSceneToView(event.scenePos())  # type: ignore[attr-defined]
        self.seek_requested.emit(float(min(max(0.0, point.x()), self._duration)))

    # --- zoom and the readout under the pointer ---------------------------------------------
    def reset_zoom(self) -> None:
        """The whole take again, after zooming or scrolling with the mouse."""
        self.setXRange(0.0, max(self._duration, 1.0), padding=0)
        self.setYRange(0.0, float(FEATURES.n_mels), padding=0)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_0, Qt.Key.Key_Home):
            self.reset_zoom()
            return
        super().keyPressEvent(event)

    def readout_at(self, seconds: float, row: float) -> str:
        """ "1:23.4 · 2.30 kHz · -34 dB": the time, the frequency and the level the model hears there
        (dB under each window's loudest, as the model sees it; dBFS on the rest of the track)."""
        hz = row_to_hz(row)
        parts = [clock_tenths(seconds), f"{hz / 1000:.2f} kHz" if hz >= 999.5 else f"{hz:.0f} Hz"]
        level = self._level_at(seconds, int(row))
        if level is not None:
            parts.append(level)
        return " · ".join(parts)

    def _level_at(self, seconds: float, band: int) -> str | None:
        if not 0 <= band < FEATURES.n_mels:
            return None
        for w in reversed(self._windows):  # the last drawn is on top
            if w.logmel is not None and w.logmel.size and w.start_s <= seconds < w.end_s:
                col = int((seconds - w.start_s) / (w.end_s - w.start_s) * w.logmel.shape[1])
                return f"{float(w.logmel[band, min(col, w.logmel.shape[1] - 1)]):.0f} dB"
        picture = self._picture_data
        if picture is not None and 0 <= seconds < picture.span_s:
            image = picture.visible()
            col = min(int(seconds / picture.column_s), image.shape[1] - 1)
            return f"{float(image[band, col]):.0f} dBFS"
        return None

    def _hovered(self, scene_pos: object) -> None:
        vb = self.getPlotItem().vb
        if not (self._windows or self._picture_data) or not vb.sceneBoundingRect().contains(scene_pos):
            self.readout.hide()
            return
        point = vb.mapSceneToView(scene_pos)
        self.readout.setText(self.readout_at(max(0.0, point.x()), point.y()))
        self.readout.adjustSize()
        area = self.mapFromScene(vb.sceneBoundingRect()).boundingRect()  # bottom right of the picture
        size = self.readout.size()
        self.readout.move(max(0, area.right() - size.width() - 4), max(0, area.bottom() - size.height() - 4))
        self.readout.show()

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802
        self.readout.hide()
        super().leaveEvent(event)

    # --- content -------------------------------------------------------------------------------
    @property
    def window_names(self) -> list[str]:
        return list(self._images)

    def clear_windows(self) -> None:
        plot = self.getPlotItem()
        for img in self._images.values():
            plot.removeItem(img)
        for mark in [*self._marks, *self._labels]:
            plot.removeItem(mark)
        self._images.clear()
        self._marks.clear()
        self._labels.clear()
        self._windows = []
        self.set_picture(None)
        if self._bar is not None:
            self._bar.setImageItem([])

    def show_analysis(self, result: TrackResult, detail: AnalysisDetail) -> None:
        """The windows the engine analysed, with their scores, on the track's timeline."""
        assert detail.plan is not None
        scores = {seg.name: seg.score for seg in result.segments}
        windows = [
            WindowView(w.name, w.start_s, w.end_s, detail.window_logmel.get(w.name), scores.get(w.name))
            for w in detail.plan.windows
        ]
        self.show_windows(result.duration_s or detail.plan.content_end_s, windows, single=detail.plan.single)
        self.set_message("")

    def show_windows(self, duration_s: float, windows: Sequence[WindowView], single: bool = False) -> None:
        """Replaces the picture: windows with log-mel are drawn, all are outlined and labelled."""
        self.clear_windows()
        self._duration = max(duration_s, max((w.end_s for w in windows), default=0.0), 1.0)
        self._single = single
        shown = windows[:1] if single else windows
        for w in shown:
            self._add_image(w)
        for w in shown:
            self._add_mark(w)
        self._windows = list(shown)
        if self._bar is not None:
            self._bar.setImageItem(list(self._images.values()))
            self._bar.setLevels((self.db_floor, 0.0))
        plot = self.getPlotItem()
        plot.setLimits(xMin=0.0, xMax=self._duration, yMin=0.0, yMax=float(FEATURES.n_mels))
        self.setXRange(0.0, self._duration, padding=0)
        self.setYRange(0.0, float(FEATURES.n_mels), padding=0)
        self._layout_labels()

    def set_picture(self, picture: TrackPicture | None, follow: bool = False) -> None:
        """The track's log-mel as computed so far, under the windows (dimmed once there are windows).

        With ``follow`` the view scrolls along with the newest columns, as they stream in.
        """
        plot = self.getPlotItem()
        self._picture_data = picture
        if picture is None:
            if self._picture is not None:
                plot.removeItem(self._picture)
                self._picture = None
            return
        if self._picture is None:
            self._picture = pg.ImageItem(axisOrder="row-major")
            self._picture.setColorMap(pg.colormap.get(self.colour_map))
            self._picture.setZValue(-10)
            plot.addItem(self._picture)
        image = picture.visible()
        self._picture.setImage(image, autoLevels=False, levels=(self.db_floor, 0.0))
        self._picture.setRect(QRectF(0.0, 0.0, image.shape[1] * picture.column_s, float(FEATURES.n_mels)))
        self._picture.setOpacity(PICTURE_UNDER_WINDOWS_OPACITY if self._images else 1.0)
        span = max(picture.span_s, self._duration, 1.0)
        if span > self._duration:
            self._duration = span
            plot.setLimits(xMin=0.0, xMax=span, yMin=0.0, yMax=float(FEATURES.n_mels))
        if follow:
            width = min(span, FOLLOW_SECONDS)
            right = min(span, max(width, picture.head_s + 0.1 * width))
            self.setXRange(right - width, right, padding=0)
        elif not self._windows:
            self.setXRange(0.0, span, padding=0)

    def _add_image(self, w: WindowView) -> None:
        if w.logmel is None or w.logmel.size == 0:
            return
        img = pg.ImageItem(axisOrder="row-major")
        img.setImage(np.asarray(w.logmel, dtype=np.float32), autoLevels=False, levels=(self.db_floor, 0.0))
        img.setColorMap(pg.colormap.get(self.colour_map))
        img.setRect(QRectF(w.start_s, 0.0, max(1e-3, w.end_s - w.start_s), float(FEATURES.n_mels)))
        self.getPlotItem().addItem(img)
        self._images[w.name] = img

    def _add_mark(self, w: WindowView) -> None:
        plot = self.getPlotItem()
        rect = QGraphicsRectItem(QRectF(w.start_s, 0.0, w.end_s - w.start_s, float(FEATURES.n_mels)))
        pen = QPen(theme.WINDOW_MARK, 1.5)
        pen.setCosmetic(True)
        rect.setPen(pen)
        rect.setZValue(10)
        plot.addItem(rect)
        self._marks.append(rect)
        name = "Whole track" if self._single else SEGMENT_LABELS.get(w.name, w.name)
        span = f" {mmss(w.start_s)}–{mmss(w.end_s)}"
        text = (name if self._single else name[0]) if self.compact else name + span
        if w.score is not None:
            text += f"  {pct(w.score.p_hit)}"
        font = QFont(self.font())
        if self.compact:
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        # The end window's label hangs from its right edge, so it stays inside the plot.
        label = WindowLabel(text, font, right=w.name == "end" and not self._single)
        label.setPos(w.end_s if label.right else w.start_s, float(FEATURES.n_mels))
        label.setZValue(11)
        plot.addItem(label)
        self._labels.append(label)

    @property
    def labels(self) -> list[WindowLabel]:
        return list(self._labels)

    def _layout_labels(self, *_args: object) -> None:
        """Labels that would overlap at the current zoom go in rows below one another (a short take's
        three windows overlap in time, and so would "Beginning 0:00–0:30" and "Middle 0:02–0:32")."""
        if not self._labels:
            return
        vb = self.getPlotItem().vb
        spans = []
        for label in self._labels:
            anchor = label.pos()
            x = vb.mapViewToDevice(QPointF(anchor.x(), anchor.y())).x()
            box = label.boundingRect()
            spans.append((x + box.left(), x + box.right()))
        rows = stack_rows(spans)
        px_y = vb.viewPixelSize()[1]  # data units per pixel, vertically
        for label, row in zip(self._labels, rows, strict=True):
            step = label.boundingRect().height() + 2.0
            label.setPos(label.pos().x(), float(FEATURES.n_mels) - row * step * px_y)

    def image_of(self, name: str) -> pg.ImageItem | None:
        return self._images.get(name)
