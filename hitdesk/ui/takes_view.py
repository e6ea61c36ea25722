"""The takes table: columns, meters, error rows spanning the meters, sorting, and the selection in take terms.

Kept apart from the window so the window only places it and connects it; everything that is about
rows (which take is selected, which rows span, the order they are shown in) stays next to the table
that shows them. A click on a header sorts by that column (again: the other way; a third time: the
list's own order); the table shows ``TakesModel`` through a sorting proxy, so a view row is never a
take's place in the controller's list: every question about a row goes through the take it shows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QFocusEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from hitdesk.ui import theme
from hitdesk.ui.meters import MeterDelegate
from hitdesk.ui.takes import State, Take
from hitdesk.ui.takes_table import METER_COLUMNS, Column, TakeRole, TakesModel, sort_key

log = logging.getLogger(__name__)

COLUMN_WIDTHS = {
    Column.NAME: 190,
    Column.WHO: 140,
    Column.DURATION: 52,
    Column.STATE: 76,
    Column.BEGINNING: 92,
    Column.MIDDLE: 92,
    Column.END: 92,
    Column.OVERALL: 150,
    Column.LUFS: 52,
    Column.PEAK: 52,
    Column.LRA: 42,
    Column.NOTE: 60,  # stretched to the rest of the width; this much keeps the list unscrolled at 1100 px
}
SELECTED_LIGHTER = 120  # a warning colour on a selected row, lightened (percent) to keep its contrast
FOCUS_WIDTH = 2
ROW_HEIGHT = 26
MIN_ROWS = 4  # the list shows at least this many takes, however short the window (record panel open)
_SPAN = Column.LRA - Column.BEGINNING + 1  # an error row's sentence covers the meter and loudness columns


class TakesSortProxy(QSortFilterProxyModel):
    """Sorts the takes by a column's value (``sort_key``): numbers as numbers, rows without a value last
    in either direction, equal values in the list's order."""

    def __init__(self, takes: TakesModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(takes)
        self.setDynamicSortFilter(True)  # a take that changes (analysed, measured) moves to its place

    def lessThan(  # noqa: N802 - Qt's name
        self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex
    ) -> bool:
        a_take, b_take = left.data(TakeRole), right.data(TakeRole)
        if a_take is None or b_take is None:
            return False
        col = Column(left.column())
        a, b = sort_key(a_take, col), sort_key(b_take, col)
        # Qt sorts descending by asking lessThan(right, left): a missing value is "greater" going up
        # and "smaller" going down, so it ends up last both ways.
        if a is None:
            return b is not None and self.sortOrder() == Qt.SortOrder.DescendingOrder
        if b is None:
            return self.sortOrder() == Qt.SortOrder.AscendingOrder
        return a < b  # type: ignore[operator]  # one column's keys are all numbers or all text


class RowDelegate(QStyledItemDelegate):
    """The plain cells: no dotted rectangle around one cell (the table outlines the current row), and
    a cell coloured as a warning (true peak, a missing file) or an error keeps its colour when its
    row is selected, lightened to stay readable on the selection."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:  # noqa: N802
        super().initStyleOption(option, index)
        option.state &= ~QStyle.StateFlag.State_HasFocus  # type: ignore[assignment]
        brush = index.data(Qt.ItemDataRole.ForegroundRole)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected and isinstance(brush, QBrush) and brush.color() in (theme.WARNING_COLOUR, theme.ERROR_COLOUR):
            option.palette.setColor(QPalette.ColorRole.HighlightedText, brush.color().lighter(SELECTED_LIGHTER))


class TakesTable(QTableView):
    """The takes list; says what to do while it is empty."""

    def __init__(self, takes: TakesModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.takes = takes
        self.proxy = TakesSortProxy(takes, self)
        self.setModel(self.proxy)
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
        self.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
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
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the list's own order until a header is clicked
        header.setSortIndicatorClearable(True)  # a third click goes back to it
        self.setSortingEnabled(True)
        scroll = self.horizontalScrollBar().sizeHint().height()
        self.setMinimumHeight(header.sizeHint().height() + MIN_ROWS * ROW_HEIGHT + scroll + 2 * self.frameWidth())
        self.setTabKeyNavigation(False)  # Tab leaves the list for the next pane; arrows move in it
        self.row_delegate = RowDelegate(self)
        self.setItemDelegate(self.row_delegate)
        self.meter_delegate = MeterDelegate(self)
        for col in METER_COLUMNS:
            self.setItemDelegateForColumn(col, self.meter_delegate)
        proxy = self.proxy
        proxy.rowsInserted.connect(self.sync_spans)
        proxy.rowsRemoved.connect(self.sync_spans)
        proxy.modelReset.connect(self.sync_spans)
        proxy.layoutChanged.connect(self.sync_spans)  # sorted: the error rows moved
        proxy.dataChanged.connect(self._row_changed)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        model = self.model()
        current = self.currentIndex()
        if self.hasFocus() and current.isValid():
            self._outline_row(current.row())
        if model is not None and model.rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(theme.DIM_TEXT)
            painter.drawText(
                self.viewport().rect(),
                int(Qt.AlignmentFlag.AlignCenter),
                "Drop audio files or folders here (anywhere on the window)\nor press Ctrl+O to open files",
            )
            painter.end()

    def row_rect(self, row: int) -> QRect:
        """The visible part of a row, in viewport coordinates."""
        first = self.visualRect(self.proxy.index(row, 0))
        return QRect(0, first.top(), self.viewport().width(), first.height())

    def _outline_row(self, row: int) -> None:
        """The keyboard focus: the current row outlined in the focus colour."""
        painter = QPainter(self.viewport())
        pen = QPen(theme.FOCUS, FOCUS_WIDTH)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        inset = FOCUS_WIDTH // 2
        painter.drawRect(self.row_rect(row).adjusted(inset, inset, -inset - 1, -inset - 1))
        painter.end()

    def currentChanged(  # noqa: N802
        self, current: QModelIndex | QPersistentModelIndex, previous: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().currentChanged(current, previous)
        self.viewport().update()  # the outline follows the current row

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        super().focusInEvent(event)
        self.viewport().update()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.viewport().update()

    # ------------------------------------------------------------------------------------ error rows
    def take_at_row(self, row: int) -> Take | None:
        """The take a view row shows (after sorting), or None."""
        take = self.proxy.index(row, 0).data(TakeRole) if 0 <= row < self.proxy.rowCount() else None
        return take if isinstance(take, Take) else None

    def row_of(self, take_id: int) -> int:
        """The view row that shows a take, or -1."""
        row = self.takes.row_of(take_id)
        return self.proxy.mapFromSource(self.takes.index(row, 0)).row() if row >= 0 else -1

    def sync_spans(self, *_args: object) -> None:
        """Error rows show their sentence across the meter and loudness columns."""
        self.clearSpans()
        for row in range(self.proxy.rowCount()):
            take = self.take_at_row(row)
            if take is not None and take.state == State.ERROR:
                self.setSpan(row, Column.BEGINNING, 1, _SPAN)

    def _row_changed(self, top_left: QModelIndex, *_args: object) -> None:
        """Spans are laid again only when a row became an error row or stopped being one."""
        take = self.take_at_row(top_left.row())
        if take is not None and (take.state == State.ERROR) != (self.columnSpan(top_left.row(), Column.BEGINNING) > 1):
            self.sync_spans()

    # ------------------------------------------------------------------------------------ selection
    def selected_takes(self) -> list[Take]:
        """The selected takes, in the order the list shows them."""
        sm = self.selectionModel()
        if sm is None:
            return []
        rows = sorted(i.row() for i in sm.selectedRows())
        return [t for t in (self.take_at_row(r) for r in rows) if t is not None]

    def has_selection(self) -> bool:
        sm = self.selectionModel()
        return sm is not None and sm.hasSelection()

    def select_ids(self, ids: Sequence[int]) -> None:
        sm = self.selectionModel()
        sm.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        first = True
        for take_id in ids:
            row = self.row_of(take_id)
            if row < 0:
                continue
            index = self.proxy.index(row, 0)
            if first:
                sm.setCurrentIndex(index, flags)
                first = False
            else:
                sm.select(index, flags)

    def shown_take(self) -> Take | None:
        """The take the panel shows: the current row if it is selected, else the first selected one."""
        current = self.selectionModel().currentIndex()
        selected = self.selected_takes()
        take = self.take_at_row(current.row()) if current.isValid() else None
        if take is None or take not in selected:
            take = selected[0] if selected else None
        return take
