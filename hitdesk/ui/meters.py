"""Probability meters: a bar from 0 to 100 % with the model's range, the probability and the base rate.

The same drawing serves the large meter of the selected take, the segment meters and the small
meters in the takes table (through ``MeterDelegate``), so a number looks the same everywhere.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from hitdesk.present import pct, pct_range
from hitdesk.results import Score
from hitdesk.ui import theme
from hitdesk.ui.takes_table import ScoreRole


def paint_bar(
    painter: QPainter,
    rect: QRectF,
    score: Score | None,
    base_rate: float | None,
    *,
    ticks: bool = False,
) -> None:
    """The bar alone: track, range, probability tick, base-rate mark."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(theme.BORDER, 1))
    painter.setBrush(theme.BASE)
    radius = min(3.0, rect.height() / 3)
    painter.drawRoundedRect(rect, radius, radius)

    def x_of(p: float) -> float:
        return rect.left() + max(0.0, min(1.0, p)) * rect.width()

    if ticks:
        painter.setPen(QPen(QColor(255, 255, 255, 40), 1))
        for q in (0.25, 0.5, 0.75):
            painter.drawLine(QPointF(x_of(q), rect.top() + 1), QPointF(x_of(q), rect.bottom() - 1))
    if score is not None:
        band = QRectF(
            QPointF(x_of(score.p_hit_low), rect.top() + 1), QPointF(x_of(score.p_hit_high), rect.bottom() - 1)
        )
        if band.width() < 2:
            band.adjust(-1, 0, 1, 0)
        colour = QColor(theme.RANGE_COLOUR)
        colour.setAlpha(150)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRect(band)
        fill = QColor(theme.P_COLOUR)
        fill.setAlpha(70)
        painter.setBrush(fill)
        painter.drawRect(
            QRectF(QPointF(rect.left() + 1, rect.top() + 1), QPointF(x_of(score.p_hit), rect.bottom() - 1))
        )
        tick_w = max(2.0, rect.height() / 6)
        painter.setBrush(theme.P_COLOUR)
        painter.drawRect(QRectF(x_of(score.p_hit) - tick_w / 2, rect.top() - 1, tick_w, rect.height() + 2))
    if base_rate is not None:
        pen = QPen(theme.BASE_RATE_COLOUR, 1.5, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(QPointF(x_of(base_rate), rect.top() - 2), QPointF(x_of(base_rate), rect.bottom() + 2))
    painter.restore()


def compact_fonts(font: QFont) -> tuple[QFont, QFont]:
    """The value's font (bold) and the small font of the range, from a widget's font."""
    value = QFont(font)
    value.setBold(True)
    small = QFont(font)
    small.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
    return value, small


def paint_compact(
    painter: QPainter,
    rect: QRectF,
    score: Score | None,
    base_rate: float | None,
    font: QFont,
    title: str = "",
    placeholder: str = "–",
) -> float:
    """A compact meter in ``rect``: title and value, the bar, the range below; returns the bottom drawn."""
    value_f, small_f = compact_fonts(font)
    fm_v, fm_s = QFontMetrics(value_f), QFontMetrics(small_f)
    x, y, w = rect.left(), rect.top(), rect.width()
    header_h = fm_v.height()
    left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    painter.save()
    painter.setFont(font)
    painter.setPen(theme.TEXT)
    painter.drawText(QRectF(x, y, w, header_h), left, title)
    painter.setFont(value_f if score is not None else small_f)
    painter.setPen(theme.P_COLOUR if score is not None else theme.DIM_TEXT)
    painter.drawText(QRectF(x, y, w, header_h), right, placeholder if score is None else pct(score.p_hit))
    bar = QRectF(x + 1, y + header_h + 4, w - 2, 10)
    paint_bar(painter, bar, score, base_rate)
    bottom = bar.bottom()
    if score is not None:
        painter.setFont(small_f)
        painter.setPen(theme.RANGE_COLOUR.lighter(120))
        painter.drawText(
            QRectF(x, bar.bottom() + 3, w, fm_s.height()), left, f"range {pct_range(score)}{head_tag(score)}"
        )
        bottom = bar.bottom() + 3 + fm_s.height()
    painter.restore()
    return bottom


def head_tag(score: Score) -> str:
    """The small label naming the model head that gave a score (track: whole track; window: a window)."""
    return f" · {score.head} head"


class ProbabilityMeter(QWidget):
    """A labelled meter. It says ``clicked`` when clicked; the selected take's meters ignore that (a
    click opening the model card surprised people), the link under them opens the explanation."""

    clicked = Signal()

    def __init__(
        self, title: str, *, large: bool = False, compact: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.title = title
        self.large = large
        self.compact = compact  # title and value, bar, range below: for three meters side by side
        self.score: Score | None = None
        self.base_rate: float | None = None
        self.placeholder = "–"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Probability (orange), the model's range (blue) and the base rate (dashed)")
        self.setAccessibleName(title)

    def set_score(self, score: Score | None, base_rate: float | None, placeholder: str = "–") -> None:
        self.score = score
        self.base_rate = base_rate
        self.placeholder = placeholder
        text = placeholder if score is None else f"{pct(score.p_hit)}, range {pct_range(score)}{head_tag(score)}"
        self.setAccessibleDescription(f"{self.title}: {text}")
        self.update()

    def _fonts(self) -> tuple[QFont, QFont, QFont]:
        title = QFont(self.font())
        value = QFont(self.font())
        value.setBold(True)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.85))
        if self.large:
            value.setPointSizeF(self.font().pointSizeF() * 2.0)
            title.setBold(True)
        return title, value, small

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        _title, value, small = self._fonts()
        h = QFontMetrics(value).height() + (22 if self.large else 12) + QFontMetrics(small).height() + 6
        return QSize(90 if self.compact else (260 if self.large else 180), h)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(80 if self.compact else 140, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        if self.compact:
            self._paint_compact()
            return
        painter = QPainter(self)
        title_f, value_f, small_f = self._fonts()
        fm_v, fm_s = QFontMetrics(value_f), QFontMetrics(small_f)
        w = self.width()
        top = 0
        # Header line: title on the left, value and range on the right.
        painter.setFont(title_f)
        painter.setPen(theme.TEXT)
        header_h = fm_v.height()
        painter.drawText(
            QRectF(0, top, w, header_h), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), self.title
        )
        if self.score is None:
            painter.setPen(theme.DIM_TEXT)
            painter.setFont(small_f)
            painter.drawText(
                QRectF(0, top, w, header_h),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                self.placeholder,
            )
        else:
            range_text = f"  range {pct_range(self.score)}{head_tag(self.score)}"
            painter.setFont(small_f)
            painter.setPen(theme.RANGE_COLOUR.lighter(120))
            rw = fm_s.horizontalAdvance(range_text)
            painter.drawText(QRectF(w - rw, top, rw, header_h), int(Qt.AlignmentFlag.AlignVCenter), range_text)
            painter.setFont(value_f)
            painter.setPen(theme.P_COLOUR)
            painter.drawText(
                QRectF(0, top, w - rw, header_h),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                pct(self.score.p_hit),
            )
        top += header_h + 2
        bar_h = 20 if self.large else 10
        bar = QRectF(1, top + 2, w - 2, bar_h)
        paint_bar(painter, bar, self.score, self.base_rate, ticks=self.large)
        top += bar_h + 4
        # Scale under the bar: 0 and 100 at the ends, the base rate at its place.
        painter.setFont(small_f)
        painter.setPen(theme.DIM_TEXT)
        sh = fm_s.height()
        painter.drawText(QRectF(0, top, 40, sh), int(Qt.AlignmentFlag.AlignLeft), "0%")
        painter.drawText(QRectF(w - 40, top, 40, sh), int(Qt.AlignmentFlag.AlignRight), "100%")
        if self.base_rate is not None:
            label = f"base rate {pct(self.base_rate)}" if self.large else f"base {pct(self.base_rate)}"
            lw = fm_s.horizontalAdvance(label) + 4
            x = bar.left() + self.base_rate * bar.width() - lw / 2
            x = max(fm_s.horizontalAdvance("0%") + 6, min(w - lw - fm_s.horizontalAdvance("100%") - 6, x))
            painter.setPen(theme.BASE_RATE_COLOUR)
            painter.drawText(QRectF(x, top, lw, sh), int(Qt.AlignmentFlag.AlignHCenter), label)
        painter.end()

    def _paint_compact(self) -> None:
        painter = QPainter(self)
        paint_compact(
            painter, QRectF(self.rect()), self.score, self.base_rate, self.font(), self.title, self.placeholder
        )
        painter.end()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mouseReleaseEvent(event)


class MeterDelegate(QStyledItemDelegate):
    """Small meter plus the percentage in a table cell; text-only for cells without a score."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.base_rate: float | None = None

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        score = index.data(ScoreRole)
        if not isinstance(score, Score):
            super().paint(painter, option, index)
            return
        style = option.widget.style() if option.widget is not None else None
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.state &= ~QStyle.StateFlag.State_HasFocus  # type: ignore[assignment]  # the table outlines the row
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, option.widget)
        r = QRectF(option.rect).adjusted(4, 0, -4, 0)
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        fm = QFontMetrics(option.font)
        tw = fm.horizontalAdvance(text) + 6
        bar = QRectF(r.left(), r.center().y() - 4, max(10.0, r.width() - tw), 8)
        paint_bar(painter, bar, score, self.base_rate)
        painter.save()
        painter.setPen(theme.TEXT if not option.state & QStyle.StateFlag.State_Selected else QColor("#ffffff"))
        painter.drawText(
            QRectF(bar.right() + 4, r.top(), r.right() - bar.right() - 4, r.height()),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            text,
        )
        painter.restore()
