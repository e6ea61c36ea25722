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
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPen, QResizeEvent
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QWidget

from hitdesk.analysis import AnalysisDetail
from hitdesk.config import FEATURES, FeatureConfig
from hitdesk.present import pct
from hitdesk.results import Score, TrackResult
from hitdesk.ui import theme
from hitdesk.ui.track_picture import TrackPicture

DB_FLOOR_DEFAULT = -80.0
PICTURE_UNDER_WINDOWS_OPACITY = 0.35
FOLLOW_SECONDS = 60.0  # how much of the track the view shows while it scrolls along with the analysis
_HZ_TICKS = (100, 500, 1000, 2000, 5000, 10000)  # 10 kHz sits near the top band (Nyquist 11,025 Hz)
SEGMENT_LABELS = {"beginning": "Beginning", "middle": "Middle", "end": "End"}


def _hz_to_mel(f: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Slaney's mel scale (librosa's default, htk=False): linear to 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    lin = f / f_sp
    log = min_log_mel + np.log(np.maximum(f, 1e-9) / min_log_hz) / logstep
    return np.where(f >= min_log_hz, log, lin)


def mel_band_centres(cfg: FeatureConfig = FEATURES) -> npt.NDArray[np.float64]:
    """Centre frequency of each mel band, in mel units; band i spans image rows [i, i+1)."""
    mels = np.linspace(_hz_to_mel(cfg.fmin), _hz_to_mel(cfg.fmax), cfg.n_mels + 2)
    return mels[1:-1]


def hz_to_row(hz: float, cfg: FeatureConfig = FEATURES) -> float:
    """Image-row coordinate (band centre at i + 0.5) of a frequency."""
    centres = mel_band_centres(cfg)
    return float(np.interp(float(_hz_to_mel(hz)), centres, np.arange(cfg.n_mels) + 0.5))


class HzAxis(pg.AxisItem):  # type: ignore[misc]
    """Mel bands on the axis, labelled with the frequencies people know."""

    def __init__(self, compact: bool = False) -> None:
        super().__init__("left")
        self.compact = compact
        self._labels: dict[float, str] = {}
        for f in _HZ_TICKS:
            self._labels[round(hz_to_row(f), 4)] = f"{f // 1000}k" if f >= 1000 else str(f)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802
        if self.compact or size < 120:
            return [(1.0, [hz_to_row(f) for f in (100, 1000, 5000)])]
        return [(1.0, [hz_to_row(f) for f in _HZ_TICKS])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [self._labels.get(round(v, 4), "") for v in values]


def time_tick_step(span_s: float, size_px: float) -> float:
    """Seconds between time labels: a round step giving about one label per 80 pixels."""
    target = max(1e-6, span_s) / max(1.0, size_px / 80.0)
    steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600)
    return float(next((s for s in steps if s >= target), steps[-1]))


class TimeAxis(pg.AxisItem):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__("bottom")

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # noqa: N802
        return [(time_tick_step(maxVal - minVal, size), 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        out = []
        for v in values:
            s = round(v)
            out.append(f"{s // 60}:{s % 60:02d}" if s >= 0 else "")
        return out


@dataclass(frozen=True)
class WindowView:
    name: str
    start_s: float
    end_s: float
    logmel: npt.NDArray[np.float32] | None
    score: Score | None = None


class SpectrogramView(pg.PlotWidget):  # type: ignore[misc]
    """The log-mel windows of one take on its timeline; a click asks to play from there."""

    seek_requested = Signal(float)  # seconds

    def __init__(self, compact: bool = False, parent: QWidget | None = None) -> None:
        self.compact = compact
        super().__init__(
            parent=parent, background=theme.BASE, axisItems={"left": HzAxis(compact), "bottom": TimeAxis()}
        )
        self.setAcceptDrops(False)  # file drops go to the main window
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
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
        self._playhead = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.P_COLOUR, width=2))
        self._playhead.setZValue(20)
        self._playhead.hide()
        plot.addItem(self._playhead, ignoreBounds=True)
        self.scene().sigMouseClicked.connect(self._clicked)
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

    def set_message(self, text: str) -> None:
        self._message.setText(text)
        self._message.setVisible(bool(text))
        self._place_message()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_message()

    def _place_message(self) -> None:
        if "_message" not in self.__dict__:  # pyqtgraph resizes during its own __init__
            return
        self._message.setGeometry(0, 0, self.width(), max(0, self.height() - 30))

    def set_playhead(self, seconds: float | None) -> None:
        if seconds is None:
            self._playhead.hide()
        else:
            self._playhead.setValue(seconds)
            self._playhead.show()

    def _clicked(self, event: object) -> None:
        if getattr(event, "button", lambda: None)() != Qt.MouseButton.LeftButton or not self._windows:
            return
        point = self.getPlotItem().vb.mapSceneToView(event.scenePos())  # type: ignore[attr-defined]
        self.seek_requested.emit(float(min(max(0.0, point.x()), self._duration)))

    # --- content -------------------------------------------------------------------------------
    @property
    def window_names(self) -> list[str]:
        return list(self._images)

    def clear_windows(self) -> None:
        plot = self.getPlotItem()
        for img in self._images.values():
            plot.removeItem(img)
        for mark in self._marks:
            plot.removeItem(mark)
        self._images.clear()
        self._marks.clear()
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

    def set_picture(self, picture: TrackPicture | None, follow: bool = False) -> None:
        """The track's log-mel as computed so far, under the windows (dimmed once there are windows).

        With ``follow`` the view scrolls along with the newest columns, as they stream in.
        """
        plot = self.getPlotItem()
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
        if self.compact:
            label = name[0] if not self._single else name
        else:
            label = f"{name} {_mmss(w.start_s)}–{_mmss(w.end_s)}"
        if w.score is not None:
            label += f"  {pct(w.score.p_hit)}"
        # The end window's label hangs from its right edge, so it stays inside the plot.
        at_end = w.name == "end" and not self._single
        text = pg.TextItem(label, color=theme.TEXT, fill=QColor(20, 22, 26, 200), anchor=(1, 0) if at_end else (0, 0))
        font = QFont(self.font())
        if self.compact:
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        text.setFont(font)
        text.setPos(w.end_s if at_end else w.start_s, float(FEATURES.n_mels))
        text.setZValue(11)
        plot.addItem(text)
        self._marks.append(text)

    def image_of(self, name: str) -> pg.ImageItem | None:
        return self._images.get(name)


def _mmss(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"
