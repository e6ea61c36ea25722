"""Takes side by side, ranked by overall probability, segment by segment.

Every probability is shown with its difference to the best take (overall, and per segment to the
best take in that segment); where the two takes cannot be told apart (by the ``Ranking``'s rule:
their low-high ranges overlap) it says "no clear difference". The headline warns when compared takes
are unlike the training data (``present.unlike_note``). A click on a meter does nothing, as in the
take panel; the link under the headline explains the numbers. Under it, what drives the difference
between the first two takes (Shapley values of the first against the second as the baseline, from
their statistics, so once both are analysed in this session with the loaded model); under the
table, the hit curves of the best-ranked takes.

The rows are a ``CompareModel`` in a table view painted by one delegate, so a hundred takes cost
no more widgets than two. The table tells the model which rows are in view whenever it scrolls,
resizes, shows or hides: pictures are drawn for those rows only, off the GUI thread, and let go
when the view is hidden.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QPalette, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hitdesk.explain.compare import difference, difference_sentence
from hitdesk.explain.drivers import head_scorer
from hitdesk.explain.shapley import ScoreRows
from hitdesk.model.runtime import HitModel
from hitdesk.present import unlike_note, unlike_training_data
from hitdesk.ranking import Ranked, Ranking
from hitdesk.ui import theme
from hitdesk.ui.compare_curves import COLOURS as CURVE_COLOURS
from hitdesk.ui.compare_curves import HEIGHT as CURVES_HEIGHT
from hitdesk.ui.compare_curves import CompareCurves
from hitdesk.ui.compare_delegates import CELL_GAP, ROW_HEIGHT, CompareDelegate, picture_rect
from hitdesk.ui.compare_model import CompareColumn, CompareModel
from hitdesk.ui.compare_pictures import PictureRenderer
from hitdesk.ui.takes import Take

COLUMN_WIDTHS = {
    CompareColumn.RANK: 24,
    CompareColumn.TAKE: 120 + CELL_GAP,
    CompareColumn.OVERALL: 110 + CELL_GAP,
    CompareColumn.BEGINNING: 110 + CELL_GAP,
    CompareColumn.MIDDLE: 110 + CELL_GAP,
    CompareColumn.END: 110 + CELL_GAP,
}
NOT_COMPARED_NAMES = 8  # names listed under the table; the rest are counted
CURVES_SHOWN = len(CURVE_COLOURS)  # hit curves drawn: the best-ranked takes, one colour each


class CompareTable(QTableView):
    """The compared takes, one row each; says when the rows in view change."""

    rows_in_view = Signal(int, int, bool)  # first, last (first > last: none), settled (not scrolling)

    def __init__(self, model: CompareModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.delegate = CompareDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setShowGrid(False)
        self.setWordWrap(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMouseTracking(False)
        self.setAcceptDrops(False)  # file drops go to the main window
        vertical = self.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no row is measured: all are this high
        vertical.setDefaultSectionSize(ROW_HEIGHT)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionsClickable(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setStretchLastSection(True)
        header.setStyleSheet(
            f"QHeaderView::section {{ background: transparent; color: {theme.DIM_TEXT.name()}; font-weight: bold;"
            " border: none; padding: 0px 0px 4px 0px; }"
        )
        for col, width in COLUMN_WIDTHS.items():
            self.setColumnWidth(col, width)
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Base, theme.WINDOW)
        self.setPalette(pal)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(0)
        self._settle.timeout.connect(self._settled)
        self._retries = 0
        self.verticalScrollBar().valueChanged.connect(lambda _v: self.report_rows(settled=False))
        model.modelReset.connect(self._settle.start)

    def visible_rows(self) -> tuple[int, int]:
        """First and last row in view, one row beyond each edge included (first > last: none)."""
        n = self.model().rowCount()
        height = self.viewport().height()
        if n == 0 or not self.isVisible() or height <= 0:
            return 0, -1
        first = self.rowAt(0)
        last = self.rowAt(height - 1)
        first = 0 if first < 0 else first
        last = n - 1 if last < 0 else last
        return max(0, first - 1), min(n - 1, last + 1)

    def settling(self) -> bool:
        """The rows in view are about to be reported (after a reset, a resize or showing)."""
        return self._settle.isActive()

    def report_rows(self, *, settled: bool) -> None:
        first, last = self.visible_rows()
        self.rows_in_view.emit(first, last, settled)

    def _settled(self) -> None:
        """Reports the rows once Qt has laid them out, so pictures are drawn at their final width."""
        self.executeDelayedItemsLayout()
        bar = self.verticalScrollBar()
        if self.isVisible() and (bar.maximum() > 0) != bar.isVisible() and self._retries < 3:
            self._retries += 1  # the scroll bar is about to appear or go (a queued call): after it
            self._settle.start()
            return
        self._retries = 0
        self.report_rows(settled=True)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self._settle.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        super().hideEvent(event)
        self._settle.stop()
        self.rows_in_view.emit(0, -1, True)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._settle.start()


class CompareView(QWidget):
    detail_needed = Signal(int)  # take id whose log-mel strip is missing (and is in view)
    detail_unneeded = Signal(int)  # take id asked for that left the view before its log-mel came
    explain_requested = Signal()

    def __init__(
        self, parent: QWidget | None = None, *, ranking: Ranking | None = None, renderer: PictureRenderer | None = None
    ) -> None:
        super().__init__(parent)
        self.model = CompareModel(ranking, renderer, self)
        self.summary = QLabel("Select two or more analysed takes and press Ctrl+K to compare them.")
        self.summary.setWordWrap(True)
        f = self.summary.font()
        f.setBold(True)
        self.summary.setFont(f)
        self.summary.setTextFormat(Qt.TextFormat.RichText)  # the caution in its colour; names are escaped
        self.hint = QLabel(
            "Ranked by overall P(hit). Differences are to the best take; “no clear difference” means the two "
            'ranges of the model overlap. <a href="explain">What do these numbers mean?</a>'
        )
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.hint.linkActivated.connect(lambda _href: self.explain_requested.emit())
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        self.drivers = QLabel("")  # why the first take scores higher than the second
        self.drivers.setWordWrap(True)
        self.score: ScoreRows | None = None  # the loaded model's head, for the difference of two takes
        self.model_name = ""
        self.table = CompareTable(self.model)
        self.waiting = QLabel()
        self.waiting.setWordWrap(True)
        self.waiting.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        self.waiting.hide()
        self.curves = CompareCurves()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.summary)
        layout.addWidget(self.hint)
        layout.addWidget(self.drivers)
        # The ranked rows come first: the chart is compact under them, and the user drags it taller or away.
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.curves)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setCollapsible(0, False)
        self.splitter.setSizes([1000, CURVES_HEIGHT])
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.waiting)
        self.model.detail_needed.connect(self.detail_needed)
        self.model.detail_unneeded.connect(self.detail_unneeded)
        self.table.rows_in_view.connect(self._rows_in_view)

    # ------------------------------------------------------------------------------------ what the window sets
    @property
    def base_rate(self) -> float | None:
        return self.table.delegate.base_rate

    @base_rate.setter
    def base_rate(self, value: float | None) -> None:
        self.table.delegate.base_rate = value
        self.table.viewport().update()

    @property
    def colour_map(self) -> str:
        return self.model.colour_map

    @property
    def db_floor(self) -> float:
        return self.model.db_floor

    def set_colour_map(self, name: str) -> None:
        self.model.set_style(colour_map=name)

    def set_db_floor(self, floor: float) -> None:
        self.model.set_style(db_floor=floor)

    def set_model(self, model: HitModel) -> None:
        """The loaded model: its base rate for the meters, its head for why one take leads."""
        self.base_rate = model.card.base_rate
        self.score = head_scorer(model) if model.has_head else None
        self.model_name = model.info.name
        self._show_why()

    def set_ranking(self, ranking: Ranking) -> None:
        """Another ranking rule: the takes shown are ranked again and the wording follows."""
        self.model.set_ranking(ranking)
        self._show_texts()

    # ------------------------------------------------------------------------------------ what it shows
    @property
    def take_ids(self) -> list[int]:
        return self.model.take_ids

    @property
    def ranked(self) -> list[Ranked]:
        return self.model.ranked

    def show_takes(self, takes: Sequence[Take]) -> None:
        self.model.set_takes(takes)
        self._show_texts()
        self._show_why()

    def _show_texts(self) -> None:
        model = self.model
        if len(model.takes) < 2:
            self.summary.setText("Select two or more takes in the list and press Ctrl+K to compare them.")
        else:
            caution = unlike_note([r.take.name for r in model.rows if unlike_training_data(r.take.result)])
            warn = f'<br><span style="color: {theme.WARNING_COLOUR.name()};">⚠ {escape(caution, quote=False)}</span>'
            self.summary.setText(escape(model.summary, quote=False) + (warn if caution else ""))
        pending = model.not_compared
        if pending:
            names = ", ".join(t.name for t in pending[:NOT_COMPARED_NAMES])
            more = len(pending) - NOT_COMPARED_NAMES
            self.waiting.setText(
                "Not compared (not analysed yet or failed): " + names + (f" and {more} more" if more > 0 else "")
            )
        self.waiting.setVisible(bool(pending))

    def _show_why(self) -> None:
        """The first two takes' difference by what drives it, and the hit curves of the first few takes
        on one axis (as many as the curves have colours: a hundred curves would tell nothing apart and
        cost a plot item each)."""
        ordered = [row.take for row in self.model.rows]
        shown = ordered[:CURVES_SHOWN]
        self.curves.show_takes([(t.name, t.result.curve) for t in shown if t.result is not None])
        self.drivers.setText(self._why_first_leads(ordered[:2]))

    def _why_first_leads(self, first_two: Sequence[Take]) -> str:
        if len(first_two) < 2 or self.score is None:
            return ""
        stats = []
        for take in first_two:
            r, detail = take.result, take.detail
            if r is None or not r.ok or r.model.get("name") != self.model_name:
                return ""
            if detail is None or detail.track_stats is None:
                return "Why one take scores higher shows once both have been analysed in this session."
            stats.append(detail.track_stats)
        diff = difference(self.score, stats[0], stats[1])
        return difference_sentence(first_two[0].name, first_two[1].name, diff)

    def update_take(self, take: Take) -> None:
        """A compared take's detail arrived: its picture is drawn again (if it is in view), and the
        sentence on the first two takes, which needs their statistics."""
        self.model.take_updated(take.id)
        if take.id in [row.take.id for row in self.model.rows[:2]]:
            self._show_why()

    def in_view(self, take_id: int) -> bool:
        """The take's row is in view: its picture is wanted now."""
        return self.model.in_view(take_id)

    def ask_details(self) -> None:
        self.model.ask_details()

    def file_changed(self, take_id: int) -> None:
        """A compared take's file went missing (its row says so) or was found again."""
        self.model.file_changed(take_id)

    def busy(self) -> bool:
        """Rows in view are about to be reported, pictures are being drawn, or log-mel will be asked for."""
        return self.table.settling() or self.model.busy()

    def counts(self) -> dict[str, int]:
        return self.model.counts()

    def settle(self, timeout_ms: int, other_busy: Callable[[], bool] | None = None) -> None:
        """Runs the event loop until the rows in view are drawn (and ``other_busy``, for instance the
        analysis of their log-mel, says it is done), or ``timeout_ms`` passed: for screenshots and tests."""
        deadline = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < deadline and (self.busy() or (other_busy is not None and other_busy())):
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.002)

    def grab_png(self, path: Path) -> bool:
        """The view alone as a PNG, once the pictures of the rows in view are drawn."""
        self.settle(5_000)
        QApplication.processEvents()
        return bool(self.grab().save(str(path), "PNG"))

    # ------------------------------------------------------------------------------------ the table's news
    def _rows_in_view(self, first: int, last: int, settled: bool) -> None:
        if first > last:
            self.model.release()
            return
        cell = self.table.visualRect(self.model.index(first, CompareColumn.HEARD))
        plot = picture_rect(cell)
        ratio = self.table.devicePixelRatioF()
        self.model.set_picture_size(round(plot.width() * ratio), round(plot.height() * ratio))
        self.model.show_rows(first, last, settled=settled)
