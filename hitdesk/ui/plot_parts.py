"""What the spectrogram is drawn with: its axes (Hz on the model's mel scale, minutes:seconds) and the
labels of the analysed windows, which stack in rows where they would overlap.

Apart from ``spectrogram.py`` (the view: images, windows, playhead, hover readout, zoom), so that the
mel arithmetic and the label layout can be read and tested on their own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from hitdesk.config import FEATURES, FeatureConfig
from hitdesk.present import mmss
from hitdesk.ui import theme

_HZ_TICKS = (100, 500, 1000, 2000, 5000, 10000)  # 10 kHz sits near the top band (Nyquist 11,025 Hz)
LABEL_FILL = QColor(20, 22, 26, 235)  # nearly opaque: a window outline behind a label must not cross its text
LABEL_GAP_PX = 4.0  # between two labels side by side, and between rows of labels


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


class TimeAxis(pg.AxisItem):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__("bottom")

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # noqa: N802
        span = max(1e-6, maxVal - minVal)
        target = span / max(1.0, size / 80.0)  # about one label per 80 px
        steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600)
        major = next((s for s in steps if s >= target), steps[-1])
        return [(float(major), 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [mmss(v) if round(v) >= 0 else "" for v in values]


def _mel_to_hz(m: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The inverse of ``_hz_to_mel``."""
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def row_to_hz(row: float, cfg: FeatureConfig = FEATURES) -> float:
    """The frequency at an image-row coordinate (the inverse of ``hz_to_row``)."""
    centres = mel_band_centres(cfg)
    mel = float(np.interp(row, np.arange(cfg.n_mels) + 0.5, centres))
    return float(_mel_to_hz(mel))


class WindowLabel(QGraphicsObject):
    """A window's name, span and score on a dark box, the same size in pixels at any zoom.

    The box is measured with the font metrics of the device it is painted on, and the text is drawn
    inside it from its left padding, so at any scale factor the box reaches past the last character
    (pyqtgraph's TextItem sized its box from the layout of a QGraphicsTextItem, which at scale factor
    2 could end before the percentage). ``right`` hangs the box from its position's left instead.
    """

    PAD_X = 4.0
    PAD_Y = 1.0

    def __init__(self, text: str, font: QFont, *, right: bool = False) -> None:
        super().__init__()
        self.text = text
        self.font = QFont(font)
        self.right = right
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self._rect = self._box(QFontMetricsF(self.font))

    def _box(self, metrics: QFontMetricsF) -> QRectF:
        # tightBoundingRect covers glyphs that overhang their advance (italics, hinting at 2x).
        width = max(metrics.horizontalAdvance(self.text), metrics.tightBoundingRect(self.text).right())
        w = math.ceil(width + 2 * self.PAD_X + 1)
        h = math.ceil(metrics.height() + 2 * self.PAD_Y)
        return QRectF(-w if self.right else 0.0, 0.0, w, h)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return QRectF(self._rect)

    def text_rect(self, device: object = None) -> QRectF:
        """Where the text is drawn inside the box (for the device painted on, if given)."""
        metrics = QFontMetricsF(self.font, device) if device is not None else QFontMetricsF(self.font)  # type: ignore[call-overload]
        width = metrics.horizontalAdvance(self.text)
        return QRectF(self._rect.left() + self.PAD_X, self._rect.top() + self.PAD_Y, width, metrics.height())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.save()
        box = self._rect
        device = painter.device()
        text = self.text_rect(device)
        if text.right() + self.PAD_X > box.right():  # a device whose metrics are wider: grow the box
            box = QRectF(box.left(), box.top(), text.right() + self.PAD_X - box.left(), box.height())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(LABEL_FILL)
        painter.drawRect(box)
        painter.setFont(self.font)
        painter.setPen(theme.TEXT)
        painter.drawText(QPointF(text.left(), text.top() + QFontMetricsF(self.font).ascent()), self.text)
        painter.restore()


def stack_rows(spans: Sequence[tuple[float, float]], gap: float = LABEL_GAP_PX) -> list[int]:
    """For labels covering ``(left, right)`` pixels, the row each goes in (0 = top): a label joins the
    first row where it clears the labels already there by ``gap``, so none overlaps another."""
    rows: list[list[tuple[float, float]]] = []
    out = [0] * len(spans)
    for i in sorted(range(len(spans)), key=lambda k: spans[k][0]):
        left, right = spans[i]
        for n, row in enumerate(rows):
            if all(left >= r + gap or right + gap <= lft for lft, r in row):
                row.append((left, right))
                out[i] = n
                break
        else:
            rows.append([(left, right)])
            out[i] = len(rows) - 1
    return out
