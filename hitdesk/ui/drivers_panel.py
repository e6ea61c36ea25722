"""The "What drives it" panel: how much each group of the model's inputs moves a score, with sentences.

Bars grow right (up, green) or left (down, red) from the baseline, the training songs' centroids'
mean score; baseline plus the bars is the score shown. The overall score or one window's can be
chosen. Everything here is the model's arithmetic, said as such, never advice.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from hitdesk.insights import Explanation
from hitdesk.results import SEGMENT_NAMES, TrackResult
from hitdesk.ui import theme

UP_COLOUR = QColor("#6cc070")
DOWN_COLOUR = QColor("#e57373")
ROW_PX = 17
NAME_PX = 96


class DriverBars(QWidget):
    """One row per group: its name, a bar from the centre line, and its value in points."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.explanation: Explanation | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("What drives the score")

    def set_explanation(self, explanation: Explanation | None) -> None:
        self.explanation = explanation
        self.setFixedHeight(ROW_PX * (len(explanation.contributions) if explanation else 0) + 2)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(300, self.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        if self.explanation is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        parts = self.explanation.contributions
        scale = max(abs(c.value) for c in parts) or 1.0
        value_px = 44
        left, right = NAME_PX, self.width() - value_px
        centre = 0.5 * (left + right)
        half = 0.5 * (right - left) - 2
        p.setPen(theme.BORDER)
        p.drawLine(int(centre), 0, int(centre), self.height())
        for i, c in enumerate(parts):
            y = i * ROW_PX + 1
            p.setPen(theme.TEXT)
            p.drawText(QRectF(0, y, NAME_PX - 4, ROW_PX), Qt.AlignmentFlag.AlignVCenter, c.name)
            width = half * abs(c.value) / scale
            x = centre if c.value >= 0 else centre - width
            p.fillRect(QRectF(x, y + 3, max(width, 1.0), ROW_PX - 6), UP_COLOUR if c.value >= 0 else DOWN_COLOUR)
            p.setPen(theme.DIM_TEXT)
            align = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
            p.drawText(QRectF(right, y, value_px, ROW_PX), align, f"{100 * c.value:+.1f}")
        p.end()


class DriversPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: TrackResult | None = None
        title = QLabel("<b>What drives it</b> <span style='color:#9aa0a8'>(the model's view)</span>")
        self.which = QComboBox()
        self.which.addItem("Overall", "overall")
        for name in SEGMENT_NAMES:
            self.which.addItem(name.capitalize(), name)
        self.which.setAccessibleName("Which score to explain")
        self.which.setToolTip("Explain the overall score or one window's")
        self.which.currentIndexChanged.connect(self._refresh)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(title, 1)
        top.addWidget(self.which)
        self.bars = DriverBars()
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        self.sentences = QLabel("")
        self.sentences.setWordWrap(True)
        self.sentences.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sentences.setStyleSheet("font-size: 8pt;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.bars)
        layout.addWidget(self.sentences)
        self.show_result(None)

    def show_result(self, result: TrackResult | None) -> None:
        self.result = result
        self._refresh()

    def explanation(self) -> Explanation | None:
        r = self.result
        if r is None:
            return None
        key = self.which.currentData()
        if key == "overall":
            return r.explanation
        seg = next((s for s in r.segments if s.name == key), None)
        return None if seg is None else seg.explanation

    def _refresh(self) -> None:
        e = self.explanation()
        self.bars.set_explanation(e)
        if e is None:
            self.summary.setText("Nothing to explain yet." if self.result is None else "No explanation for this score.")
            self.sentences.setText("")
            return
        self.summary.setText(
            f"From {e.baseline:.0%} for the training songs' centroids to {e.total:.0%} for this take: "
            "bars right push the model's score up, bars left pull it down (points). The model's arithmetic, "
            "not advice."
        )
        self.sentences.setText("\n".join(f"• {c.text}" for c in e.contributions))
