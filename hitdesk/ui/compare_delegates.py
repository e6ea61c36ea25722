"""How a row of the compare view is painted: rank, name, the four meters with their differences, and the
picture of what the model heard with its axes and windows.

One delegate paints every cell from the model's data, so a row costs no widget; the look is that of
the compact meters and spectrogram strips the view used to build for each take.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QWidget

from hitdesk.config import FEATURES
from hitdesk.present import mmss, pct
from hitdesk.ranking import Ranked
from hitdesk.results import Score
from hitdesk.ui import theme
from hitdesk.ui.compare_model import CellRole, CompareColumn, CompareRow, PictureRole, PictureStateRole, RowRole
from hitdesk.ui.compare_pictures import StripWindow, strip_source
from hitdesk.ui.meters import paint_compact
from hitdesk.ui.plot_parts import hz_to_row, time_tick_step
from hitdesk.ui.spectrogram import SEGMENT_LABELS

STRIP_HEIGHT = 92
ROW_HEIGHT = STRIP_HEIGHT + 6
CELL_GAP = 12  # between cells, as the grid's spacing was
AXIS_LEFT = 36  # the frequency labels
AXIS_BOTTOM = 22  # the time labels
# Height of each frequency label in the picture (0 bottom, 1 top), worked out once: every row in view
# paints its axis again whenever the view repaints.
_HZ_LABELS = tuple((hz_to_row(hz) / FEATURES.n_mels, label) for hz, label in ((100, "100"), (1000, "1k"), (5000, "5k")))
_LABEL_FILL = QColor(20, 22, 26, 200)
_TOP_LEFT = int(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)


def picture_rect(cell: QRect) -> QRect:
    """Where the picture of a take goes in its cell (the plot area, inside the axes)."""
    strip = QRect(cell.left(), cell.top(), cell.width() - 4, STRIP_HEIGHT)
    return strip.adjusted(AXIS_LEFT, 2, -2, -AXIS_BOTTOM)


PICTURE_CAPTIONS = {
    "computing": "computing…",  # the log-mel is being computed again (the result came from the cache)
    "missing": "The audio file is missing: Analysis ▸ Locate File… finds it.",
}


def picture_caption(state: object) -> str:
    """What a picture cell says while it has no picture."""
    return PICTURE_CAPTIONS.get(str(state), "drawing…")


def small_font(font: QFont) -> QFont:
    small = QFont(font)
    small.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
    return small


def breakable(text: str) -> str:
    """Lets a long file name wrap after its separators."""
    for sep in ("-", "_", " "):
        text = text.replace(sep, sep + "\u200b")
    return text


class CompareDelegate(QStyledItemDelegate):
    """Paints every cell of the compare table from the model's roles."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.base_rate: float | None = None

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        return QSize(option.rect.width(), ROW_HEIGHT)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        row = index.data(RowRole)
        if not isinstance(row, CompareRow):
            return
        cell = option.rect
        font = option.font
        painter.save()
        painter.setClipRect(cell)
        col = index.column()
        if col == CompareColumn.RANK:
            self._paint_rank(painter, cell, font, row)
        elif col == CompareColumn.TAKE:
            self._paint_name(painter, cell, font, row)
        elif col == CompareColumn.HEARD:
            self._paint_picture(painter, cell, font, row, index)
        else:
            cell_data = index.data(CellRole)
            if isinstance(cell_data, tuple):
                self._paint_score(painter, cell, font, *cell_data)
        painter.restore()

    def _paint_rank(self, painter: QPainter, cell: QRect, font: QFont, row: CompareRow) -> None:
        f = QFont(font)
        f.setPointSizeF(font.pointSizeF() * 1.4)
        f.setBold(True)
        painter.setFont(f)
        painter.setPen(theme.TEXT)
        painter.drawText(cell, int(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter), str(row.ranked.rank))

    def _paint_name(self, painter: QPainter, cell: QRect, font: QFont, row: CompareRow) -> None:
        box = QRectF(cell).adjusted(0, 0, -CELL_GAP, 0)
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(theme.TEXT)
        flags = _TOP_LEFT | int(Qt.TextFlag.TextWordWrap)
        used = painter.boundingRect(box, flags, breakable(row.take.name))
        painter.drawText(box, flags, breakable(row.take.name))
        lines = [row.take.who] if row.take.who else []
        style = row.take.result.style if row.take.result is not None else None
        if style:  # the music tagger's three most probable tags (the "Sounds like" setting)
            lines.append(" · ".join(t.tag for t in style[:3]))
        if lines:
            painter.setFont(font)
            painter.setPen(theme.DIM_TEXT)
            painter.drawText(box.adjusted(0, used.height(), 0, 0), flags, "\n".join(lines))

    def _paint_score(self, painter: QPainter, cell: QRect, font: QFont, score: object, ranked: object) -> None:
        box = QRectF(cell).adjusted(0, 0, -CELL_GAP, 0)
        s = score if isinstance(score, Score) else None
        bottom = paint_compact(painter, box, s, self.base_rate, font)
        if isinstance(ranked, Ranked):
            colour = theme.P_COLOUR if ranked.rank == 1 else (theme.TEXT if ranked.clear else theme.DIM_TEXT)
            painter.setFont(font)
            painter.setPen(colour)
            painter.drawText(
                QRectF(box.left(), bottom + 1, box.width(), box.bottom() - bottom - 1),
                _TOP_LEFT | int(Qt.TextFlag.TextWordWrap),
                ranked.text,
            )

    def _paint_picture(
        self, painter: QPainter, cell: QRect, font: QFont, row: CompareRow, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        strip = QRect(cell.left(), cell.top(), cell.width() - 4, STRIP_HEIGHT)
        plot = picture_rect(cell)
        painter.fillRect(strip, theme.BASE)
        image = index.data(PictureRole)
        source = strip_source(row.take)
        small = small_font(font)
        painter.setFont(small)
        if isinstance(image, QImage) and source is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, image.width() != plot.width())
            painter.drawImage(plot, image)
            self._paint_axes(painter, plot, source.span_s)
            self._paint_windows(painter, plot, source.span_s, source.single, source.windows, small)
            return
        self._paint_axes(painter, plot, source.span_s if source is not None else 0.0)
        state = index.data(PictureStateRole)
        painter.setFont(font)
        flags = int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap)
        painter.setPen(theme.WARNING_COLOUR if state == "missing" else theme.DIM_TEXT)
        painter.drawText(plot, flags, picture_caption(state))

    def _paint_axes(self, painter: QPainter, plot: QRect, span_s: float) -> None:
        fm = QFontMetrics(painter.font())
        painter.setPen(QPen(theme.BORDER, 1))
        painter.drawLine(plot.bottomLeft() + QPointF(-1, 1).toPoint(), plot.bottomRight() + QPointF(0, 1).toPoint())
        painter.drawLine(plot.topLeft() + QPointF(-1, 0).toPoint(), plot.bottomLeft() + QPointF(-1, 1).toPoint())
        h = plot.height()
        for height, label in _HZ_LABELS:
            y = plot.bottom() - height * h
            painter.setPen(QPen(theme.BORDER, 1))
            painter.drawLine(QPointF(plot.left() - 5, y), QPointF(plot.left() - 1, y))
            painter.setPen(theme.DIM_TEXT)
            painter.drawText(
                QRectF(plot.left() - AXIS_LEFT, y - fm.height() / 2, AXIS_LEFT - 7, fm.height()),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                label,
            )
        if span_s <= 0:
            return
        step = time_tick_step(span_s, plot.width())
        t = step
        while t < span_s:
            x = plot.left() + t / span_s * plot.width()
            painter.setPen(QPen(theme.BORDER, 1))
            painter.drawLine(QPointF(x, plot.bottom() + 1), QPointF(x, plot.bottom() + 5))
            text = mmss(t)
            tw = fm.horizontalAdvance(text)
            if x + tw / 2 <= plot.right():
                painter.setPen(theme.DIM_TEXT)
                painter.drawText(
                    QRectF(x - tw / 2 - 1, plot.bottom() + 6, tw + 2, fm.height()),
                    int(Qt.AlignmentFlag.AlignHCenter),
                    text,
                )
            t += step

    def _paint_windows(
        self, painter: QPainter, plot: QRect, span_s: float, single: bool, windows: tuple[StripWindow, ...], font: QFont
    ) -> None:
        fm = QFontMetrics(font)
        pen = QPen(theme.WINDOW_MARK, 1.5)
        for w in windows:
            x0 = plot.left() + w.start_s / span_s * plot.width()
            x1 = plot.left() + w.end_s / span_s * plot.width()
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(x0, plot.top(), max(1.0, x1 - x0), plot.height()))
            name = "Whole track" if single else SEGMENT_LABELS.get(w.name, w.name)[0]
            label = name + (f"  {pct(w.p_hit)}" if w.p_hit is not None else "")
            tw, th = fm.horizontalAdvance(label) + 8, fm.height() + 2
            at_end = w.name == "end" and not single
            left = x1 - tw if at_end else x0
            box = QRectF(left, plot.top(), tw, th)
            painter.fillRect(box, _LABEL_FILL)
            painter.setPen(theme.TEXT)
            painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), label)
