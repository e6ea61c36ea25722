"""Takes side by side, ranked by overall probability, segment by segment.

Every probability is shown with its difference to the best take (overall, and per segment to the
best take in that segment); where the two low-high ranges overlap it says "no clear difference",
since the model cannot tell those takes apart.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from hitdesk.explain.compare import difference_sentence
from hitdesk.present import SEGMENTS, Ranked, rank, rank_segment, summary
from hitdesk.results import Score
from hitdesk.ui import theme
from hitdesk.ui.compare_curves import CompareCurves
from hitdesk.ui.meters import ProbabilityMeter
from hitdesk.ui.spectrogram import SEGMENT_LABELS, SpectrogramView
from hitdesk.ui.takes import State, Take

STRIP_HEIGHT = 92


class _ScoreCell(QWidget):
    def __init__(self, score: Score | None, base_rate: float | None, ranked: Ranked | None) -> None:
        super().__init__()
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(1)
        self.meter = ProbabilityMeter("", compact=True)
        self.meter.set_score(score, base_rate)
        self.setMinimumWidth(110)
        self.setMaximumWidth(170)
        self.diff = QLabel("" if ranked is None else ranked.text)
        self.diff.setWordWrap(True)
        if ranked is not None:
            colour = theme.P_COLOUR if ranked.rank == 1 else (theme.TEXT if ranked.clear else theme.DIM_TEXT)
            self.diff.setStyleSheet(f"color: {colour.name()};")
        v.addWidget(self.meter)
        v.addWidget(self.diff)
        v.addStretch(1)


class CompareView(QWidget):
    detail_needed = Signal(int)  # take id whose log-mel strip is missing
    explain_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.base_rate: float | None = None
        self.colour_map = theme.DEFAULT_COLOUR_MAP
        self.db_floor = -80.0
        self.take_ids: list[int] = []
        self.ranked: list[Ranked] = []
        self.strips: dict[int, SpectrogramView] = {}
        self.summary = QLabel("Select two or more analysed takes and press Ctrl+K to compare them.")
        self.summary.setWordWrap(True)
        f = self.summary.font()
        f.setBold(True)
        self.summary.setFont(f)
        self.hint = QLabel(
            "Ranked by overall P(hit). Differences are to the best take; “no clear difference” means the two "
            "ranges of the model overlap."
        )
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        self.drivers = QLabel("")  # why the first take scores higher than the second
        self.drivers.setWordWrap(True)
        self.curves = CompareCurves()
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.body = QWidget()
        self.grid = QGridLayout(self.body)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(6)
        self.scroll_area.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.summary)
        layout.addWidget(self.hint)
        layout.addWidget(self.drivers)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.curves)

    def set_colour_map(self, name: str) -> None:
        self.colour_map = name
        for s in self.strips.values():
            s.set_colour_map(name)

    def set_db_floor(self, floor: float) -> None:
        self.db_floor = floor
        for s in self.strips.values():
            s.set_db_floor(floor)

    def _clear(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()
                w.deleteLater()
        self.strips.clear()

    def show_takes(self, takes: Sequence[Take]) -> None:
        self._clear()
        self.take_ids = [t.id for t in takes]
        done = [t for t in takes if t.state == State.DONE and t.result is not None and t.result.overall is not None]
        pending = [t for t in takes if t not in done]
        by_id = {t.id: t for t in done}
        names = {t.id: t.name for t in done}
        self.ranked = rank([(t.id, t.result.overall) for t in done if t.result and t.result.overall])
        self.summary.setText(summary(self.ranked, names))
        if len(takes) < 2:
            self.summary.setText("Select two or more takes in the list and press Ctrl+K to compare them.")
        self._show_why(by_id)
        seg_ranks = {seg: rank_segment([(t.id, t.result) for t in done if t.result], seg) for seg in SEGMENTS}

        headers = ["#", "Take", "Overall", *(SEGMENT_LABELS[s] for s in SEGMENTS), "What the model heard"]
        for col, text in enumerate(headers):
            h = QLabel(text)
            h.setStyleSheet(f"color: {theme.DIM_TEXT.name()}; font-weight: bold;")
            self.grid.addWidget(h, 0, col)
        for row, r in enumerate(self.ranked, start=1):
            take = by_id[r.key]
            res = take.result
            assert res is not None
            num = QLabel(str(r.rank))
            f = num.font()
            f.setPointSizeF(f.pointSizeF() * 1.4)
            f.setBold(True)
            num.setFont(f)
            num.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
            self.grid.addWidget(num, row, 0)
            name = QLabel(
                f"<b>{_breakable(_esc(take.name))}</b><br>"
                f"<span style='color:{theme.DIM_TEXT.name()}'>{_esc(take.who)}</span>"
            )
            name.setWordWrap(True)
            name.setToolTip(str(take.path))
            name.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            name.setMinimumWidth(120)
            name.setMaximumWidth(200)
            self.grid.addWidget(name, row, 1)
            overall = _ScoreCell(r.score, self.base_rate, r)
            overall.meter.clicked.connect(self.explain_requested)
            self.grid.addWidget(overall, row, 2)
            for j, seg in enumerate(SEGMENTS):
                score = take.segment(seg)
                cell = _ScoreCell(score, self.base_rate, seg_ranks[seg].get(take.id))
                cell.meter.clicked.connect(self.explain_requested)
                self.grid.addWidget(cell, row, 3 + j)
            strip = SpectrogramView(compact=True)
            strip.setFixedHeight(STRIP_HEIGHT)
            strip.setMinimumWidth(200)
            strip.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            strip.set_colour_map(self.colour_map)
            strip.set_db_floor(self.db_floor)
            self.strips[take.id] = strip
            self._fill_strip(take)
            self.grid.addWidget(strip, row, 6)
        row = len(self.ranked) + 1
        if pending:
            waiting = QLabel("Not compared (not analysed yet or failed): " + ", ".join(_esc(t.name) for t in pending))
            waiting.setWordWrap(True)
            waiting.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
            self.grid.addWidget(waiting, row, 0, 1, 7)
            row += 1
        self.grid.setColumnStretch(6, 1)
        self.grid.setRowStretch(row, 1)

    def _show_why(self, by_id: dict[int, Take]) -> None:
        """The first two takes' difference by what drives it, and every take's hit curve on one axis."""
        self.drivers.setText("")
        ordered = [by_id[r.key] for r in self.ranked]
        self.curves.show_takes([(t.name, t.result.curve) for t in ordered if t.result is not None])
        if len(ordered) < 2:
            return
        a, b = ordered[0].result, ordered[1].result
        if a is not None and b is not None and a.explanation is not None and b.explanation is not None:
            self.drivers.setText(difference_sentence(ordered[0].name, a.explanation, ordered[1].name, b.explanation))

    def update_take(self, take: Take) -> None:
        """A compared take's detail arrived: refresh its strip only."""
        if take.id in self.strips:
            self._fill_strip(take)

    def _fill_strip(self, take: Take) -> None:
        strip = self.strips[take.id]
        res, detail = take.result, take.detail
        if res is None:
            return
        if detail is None or detail.plan is None:
            strip.clear_windows()
            strip.set_message("computing…")
            self.detail_needed.emit(take.id)
            return
        strip.show_analysis(res, detail)
        strip.set_picture(take.picture)


def _breakable(text: str) -> str:
    """Lets a long file name wrap after its separators."""
    for sep in ("-", "_", " "):
        text = text.replace(sep, sep + "\u200b")
    return text


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
