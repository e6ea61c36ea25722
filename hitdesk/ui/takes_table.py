"""The takes list as Qt's table model: columns, roles, and how each cell reads a take.

The list itself is the ``TakesController``'s; this model mirrors it (its own list of the same take
objects) and follows the controller's signals, so rows are inserted and removed with Qt's
begin/end calls at the moment the controller says, and a view's row count is never ahead of its
model. Editing a note goes back to the controller, which owns every change to a take.
"""

from __future__ import annotations

import logging
import math
from enum import Enum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QFont, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from hitdesk.present import familiarity_warning, level_cell, mmss, pct, pct_range, unlike_training_data
from hitdesk.ui import theme
from hitdesk.ui.takes import State, Take, missing_sentence

if TYPE_CHECKING:  # a type only: the meters read the roles below without importing the controller
    from hitdesk.ui.controller import TakesController

log = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex
TRUE_PEAK_WARN_DBTP = -1.0  # the usual ceiling for files that will be encoded (EBU R 128, streaming services)


class Column(int, Enum):
    NAME = 0
    WHO = 1
    DURATION = 2
    STATE = 3
    BEGINNING = 4
    MIDDLE = 5
    END = 6
    OVERALL = 7
    LUFS = 8
    PEAK = 9
    LRA = 10
    NOTE = 11


HEADERS = {
    Column.NAME: "Take",
    Column.WHO: "Artist – Title",
    Column.DURATION: "Length",
    Column.STATE: "State",
    Column.BEGINNING: "Beginning",
    Column.MIDDLE: "Middle",
    Column.END: "End",
    Column.OVERALL: "Overall P(hit)",
    Column.LUFS: "LUFS",
    Column.PEAK: "dBTP",
    Column.LRA: "LRA",
    Column.NOTE: "Note",
}
HEADER_TIPS = {
    Column.BEGINNING: "P(hit) of the beginning window: the bar is the model's range, the tick the probability",
    Column.MIDDLE: "P(hit) of the middle window",
    Column.END: "P(hit) of the end window",
    Column.OVERALL: "P(hit) of the whole track, with the range of the model's ensemble",
    Column.LUFS: "Integrated loudness (ITU-R BS.1770-4), LUFS",
    Column.PEAK: "True peak (4x oversampled), dBTP",
    Column.LRA: "Loudness range (EBU Tech 3342), LU: how much the loudness moves between quiet and loud parts",
    Column.NOTE: "Your note for this take (double-click to edit); saved in sessions",
}
SEGMENT_COLUMNS = {Column.BEGINNING: "beginning", Column.MIDDLE: "middle", Column.END: "end"}
METER_COLUMNS = (Column.BEGINNING, Column.MIDDLE, Column.END, Column.OVERALL)

TakeRole = Qt.ItemDataRole.UserRole + 1  # the Take object
ScoreRole = Qt.ItemDataRole.UserRole + 2  # the Score a meter column shows (or None)

# Sorting by the State column: finished takes first, then those on their way, then the ones that stopped.
_STATE_ORDER = {State.DONE: 0, State.ANALYSING: 1, State.QUEUED: 2, State.CANCELLED: 3, State.ERROR: 4}


def sort_key(take: Take, col: Column) -> float | str | None:
    """What a column sorts by: numbers for the numeric columns, folded text for the others; None when
    the take has no value there (such rows go last, whichever the direction)."""
    if col == Column.NAME:
        return take.name.casefold()
    if col in (Column.WHO, Column.NOTE):
        text = take.who if col == Column.WHO else take.note
        return text.casefold() or None
    if col == Column.DURATION:
        return take.result.duration_s if take.result is not None else None
    if col == Column.STATE:
        return float(_STATE_ORDER[take.state])
    if col in SEGMENT_COLUMNS or col == Column.OVERALL:
        score = take.overall if col == Column.OVERALL else take.segment(SEGMENT_COLUMNS[col])
        return None if score is None else score.p_hit
    lu = take.loudness
    if lu is None:
        return None
    if col == Column.LRA:
        return getattr(lu, "lra_lu", None)
    return lu.integrated_lufs if col == Column.LUFS else lu.true_peak_dbtp


def _caution_icon() -> QIcon:
    """The sign beside a take unlike the training data (the tooltip says what it means)."""
    app = QApplication.instance()
    style = app.style() if isinstance(app, QApplication) else None
    return style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning) if style is not None else QIcon()


class TakesModel(QAbstractTableModel):
    def __init__(self, controller: TakesController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._takes: list[Take] = controller.takes
        controller.takes_added.connect(self._added)
        controller.takes_removed.connect(self._removed)
        controller.take_changed.connect(self.changed)
        controller.take_playback.connect(self.changed)  # a reference's name is drawn bold

    # --- the list, as the controller last said ----------------------------------------------------
    @property
    def takes(self) -> list[Take]:
        return list(self._takes)

    def row_of(self, take_id: int) -> int:
        return next((i for i, t in enumerate(self._takes) if t.id == take_id), -1)

    def take_at(self, row: int) -> Take | None:
        return self._takes[row] if 0 <= row < len(self._takes) else None

    def _added(self, ids: list[int]) -> None:
        takes = [t for t in (self.controller.by_id(i) for i in ids) if t is not None]
        if not takes:
            return
        first = len(self._takes)
        self.beginInsertRows(QModelIndex(), first, first + len(takes) - 1)
        self._takes.extend(takes)
        self.endInsertRows()

    def _removed(self, ids: list[int]) -> None:
        gone = set(ids)
        for row in sorted((i for i, t in enumerate(self._takes) if t.id in gone), reverse=True):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._takes[row]
            self.endRemoveRows()

    def changed(self, take_id: int) -> None:
        row = self.row_of(take_id)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))

    # --- Qt model -------------------------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else len(self._takes)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        col = Column(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(col)
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and index.column() == Column.NOTE:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: ModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        take = self.take_at(index.row()) if index.isValid() else None
        if take is None or index.column() != Column.NOTE or role != Qt.ItemDataRole.EditRole:
            return False
        self.controller.set_note(take.id, str(value))  # the controller says it changed: the row is redrawn
        return True

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        take = self.take_at(index.row()) if index.isValid() else None
        if take is None:
            return None
        col = Column(index.column())
        if role == TakeRole:
            return take
        if role == Qt.ItemDataRole.FontRole and col == Column.NAME and take.playback.reference:
            font = QFont()
            font.setBold(True)  # a reference (the tooltip says so)
            return font
        if role == Qt.ItemDataRole.DecorationRole and col == Column.NAME and unlike_training_data(take.result):
            return _caution_icon()
        if role == ScoreRole:
            if col == Column.OVERALL:
                return take.overall
            if col in SEGMENT_COLUMNS:
                return take.segment(SEGMENT_COLUMNS[col])
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._display(take, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(take, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == Column.PEAK and take.loudness is not None and take.loudness.true_peak_dbtp > TRUE_PEAK_WARN_DBTP:
                return QBrush(theme.WARNING_COLOUR)
            if take.missing and col == Column.STATE:
                return QBrush(theme.WARNING_COLOUR)
            if take.state == State.ERROR and col in (Column.STATE, Column.BEGINNING):
                return QBrush(theme.ERROR_COLOUR)
            if col in (Column.WHO, Column.NOTE) or take.state in (State.QUEUED, State.CANCELLED):
                return QBrush(theme.DIM_TEXT)
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (Column.DURATION, Column.LUFS, Column.PEAK, Column.LRA):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(take: Take, col: Column) -> str | None:
        r = take.result
        if col == Column.NAME:
            return take.name
        if col == Column.WHO:
            return take.who
        if col == Column.DURATION:
            return mmss(r.duration_s) if r is not None and r.duration_s is not None else ""
        if col == Column.STATE:
            if take.missing:
                return "missing"
            if take.state == State.ANALYSING and take.picture is not None and take.picture.done > 0:
                return f"analysing {take.picture.done:.0%}"
            return take.state.value
        if col == Column.BEGINNING and take.state == State.ERROR:
            return take.error  # spans the meter columns
        if col == Column.OVERALL:
            o = take.overall
            return "" if o is None else f"{pct(o.p_hit)}  ({pct_range(o)})"
        if col in SEGMENT_COLUMNS:
            s = take.segment(SEGMENT_COLUMNS[col])
            return "" if s is None else pct(s.p_hit)
        if col == Column.LUFS:
            lu = take.loudness
            if lu is None:
                return "…" if take.state == State.DONE and take.loudness_error is None else ""
            return (
                "–∞" if lu.integrated_lufs is None or math.isinf(lu.integrated_lufs) else level_cell(lu.integrated_lufs)
            )
        if col == Column.PEAK:
            lu = take.loudness
            if lu is None:
                return ""
            return "–∞" if math.isinf(lu.true_peak_dbtp) else level_cell(lu.true_peak_dbtp, signed=True)
        if col == Column.LRA:
            lra = getattr(take.loudness, "lra_lu", None)
            return "" if lra is None else level_cell(lra)
        if col == Column.NOTE:
            return take.note
        return None

    @staticmethod
    def _tooltip(take: Take, col: Column) -> str | None:
        if take.missing and col in (Column.NAME, Column.STATE):
            return missing_sentence([take])
        if take.state == State.ERROR:
            return take.error
        caution = familiarity_warning(take.result)
        if col == Column.NAME:
            ref = "\nReference: the takes are A/B'd against it" if take.playback.reference else ""
            return f"{take.path}{ref}\n⚠ {caution}" if caution else f"{take.path}{ref}"
        if caution and col == Column.STATE:
            return f"⚠ {caution}"
        if col in SEGMENT_COLUMNS or col == Column.OVERALL:
            s = take.overall if col == Column.OVERALL else take.segment(SEGMENT_COLUMNS[col])
            if s is None:
                return None
            return f"P(hit) {pct(s.p_hit)}, range {pct_range(s)} (click a take and see the panel below)"
        if col in (Column.LUFS, Column.PEAK) and take.loudness_error:
            return take.loudness_error
        if col == Column.PEAK and take.loudness is not None and take.loudness.true_peak_dbtp > TRUE_PEAK_WARN_DBTP:
            return (
                f"True peak {level_cell(take.loudness.true_peak_dbtp, signed=True)} dBTP: "
                f"above {TRUE_PEAK_WARN_DBTP:g} dBTP, "
                "so it may clip once encoded or converted"
            )
        if col == Column.STATE and take.result is not None and take.result.notes:
            return "\n".join(take.result.notes)
        return HEADER_TIPS.get(col)
