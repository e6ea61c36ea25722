"""The takes table: columns, meters, error rows spanning the meters, and the selection in take terms.

Kept apart from the window so the window only places it and connects it; everything that is about
rows (which take is selected, which rows span) stays next to the table that shows them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from hitdesk.ui import theme
from hitdesk.ui.meters import MeterDelegate
from hitdesk.ui.takes import State, Take
from hitdesk.ui.takes_table import METER_COLUMNS, Column, TakesModel

log = logging.getLogger(__name__)

COLUMN_WIDTHS = {
    Column.NAME: 190,
    Column.WHO: 150,
    Column.DURATION: 52,
    Column.STATE: 76,
    Column.BEGINNING: 92,
    Column.MIDDLE: 92,
    Column.END: 92,
    Column.OVERALL: 150,
    Column.LUFS: 52,
    Column.PEAK: 52,
}
_SPAN = Column.PEAK - Column.BEGINNING + 1  # an error row's sentence covers the meter and loudness columns


class TakesTable(QTableView):
    """The takes list; says what to do while it is empty."""

    def __init__(self, takes: TakesModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.takes = takes
        self.setModel(takes)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(26)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.setAccessibleName("Takes")
        self.setAcceptDrops(False)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for col, w in COLUMN_WIDTHS.items():
            self.setColumnWidth(col, w)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.meter_delegate = MeterDelegate(self)
        for col in METER_COLUMNS:
            self.setItemDelegateForColumn(col, self.meter_delegate)
        takes.rowsInserted.connect(self.sync_spans)
        takes.rowsRemoved.connect(self.sync_spans)
        takes.modelReset.connect(self.sync_spans)
        takes.dataChanged.connect(self._row_changed)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(theme.DIM_TEXT)
            painter.drawText(
                self.viewport().rect(),
                int(Qt.AlignmentFlag.AlignCenter),
                "Drop audio files or folders here (anywhere on the window)\nor press Ctrl+O to open files",
            )
            painter.end()

    # ------------------------------------------------------------------------------------ error rows
    def sync_spans(self, *_args: object) -> None:
        """Error rows show their sentence across the meter and loudness columns."""
        self.clearSpans()
        for row, take in enumerate(self.takes.takes):
            if take.state == State.ERROR:
                self.setSpan(row, Column.BEGINNING, 1, _SPAN)

    def _row_changed(self, top_left: QModelIndex, *_args: object) -> None:
        """Spans are laid again only when a row became an error row or stopped being one."""
        take = self.takes.take_at(top_left.row())
        if take is not None and (take.state == State.ERROR) != (self.columnSpan(top_left.row(), Column.BEGINNING) > 1):
            self.sync_spans()

    # ------------------------------------------------------------------------------------ selection
    def selected_takes(self) -> list[Take]:
        sm = self.selectionModel()
        if sm is None:
            return []
        rows = sorted(i.row() for i in sm.selectedRows())
        return [t for t in (self.takes.take_at(r) for r in rows) if t is not None]

    def has_selection(self) -> bool:
        sm = self.selectionModel()
        return sm is not None and sm.hasSelection()

    def select_ids(self, ids: Sequence[int]) -> None:
        """Selects the takes' rows in one change (one ``selectionChanged``, however many rows); the
        first becomes the current row."""
        rows = [r for r in (self.takes.row_of(take_id) for take_id in ids) if r >= 0]
        sm = self.selectionModel()
        selection = QItemSelection()
        last_col = self.takes.columnCount() - 1
        ordered = sorted(set(rows))
        # One range per run of adjacent rows: reading the selection back walks its ranges for each row.
        for start, end in _runs(ordered):
            selection.select(self.takes.index(start, 0), self.takes.index(end, last_col))
        if rows:
            sm.setCurrentIndex(self.takes.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
        sm.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)

    def shown_take(self) -> Take | None:
        """The take the panel shows: the current row if it is selected, else the first selected one."""
        current = self.selectionModel().currentIndex()
        selected = self.selected_takes()
        take = self.takes.take_at(current.row()) if current.isValid() else None
        if take is None or take not in selected:
            take = selected[0] if selected else None
        return take


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of adjacent rows: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for r in rows:
        if runs and r == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs
