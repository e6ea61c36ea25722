"""The compare view's model: the compared takes ranked, one row each, with pictures drawn only for rows in view.

Rows cost nothing to build: a row is a take, its rank and its segments' ranks, read by the view's
delegates when they paint. The ranking, the "clear difference" rule and the summary come from one
``Ranking`` object (``hitdesk.present``), handed in and replaceable with ``set_ranking``.

Pictures ("what the model heard") are the expensive part and are made lazily. The view tells the
model which rows it shows (``show_rows``); for those only, the model has a picture drawn by a
``PictureRenderer`` off the GUI thread and kept in a bounded ``PictureCache`` (pictures of rows
scrolled away go first, and ``release`` drops all of them when the view is hidden). A take whose
result came from the cache or a session has no log-mel at hand: for rows in view the model asks
for it (``detail_needed``), once scrolling has paused, since that means decoding the file again,
and withdraws the request (``detail_unneeded``) when the row leaves the view before it came. A take
whose audio file is missing is not asked for: its row says the file is missing (``file_changed``
tells the model when a take's file goes missing or is found again).
The header of the picture column says how many of the rows in view are ready while they fill.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal

from hitdesk.present import SEGMENTS, style_line
from hitdesk.ranking import Ranked, Ranking
from hitdesk.results import Score
from hitdesk.ui import theme
from hitdesk.ui.compare_pictures import PictureCache, PictureKey, PictureRenderer, strip_source
from hitdesk.ui.spectrogram import DB_FLOOR_DEFAULT, SEGMENT_LABELS
from hitdesk.ui.takes import Take

ModelIndex = QModelIndex | QPersistentModelIndex
DETAIL_DELAY_MS = 250  # rows in view ask for their log-mel once scrolling has paused this long
CACHE_PICTURES = 24  # pictures kept at least (more when more rows are in view at once)


class CompareColumn(IntEnum):
    RANK = 0
    TAKE = 1
    OVERALL = 2
    BEGINNING = 3
    MIDDLE = 4
    END = 5
    HEARD = 6


HEARD_TITLE = "What the model heard"
COMPARE_HEADERS = ("#", "Take", "Overall", *(SEGMENT_LABELS[s] for s in SEGMENTS), HEARD_TITLE)
SEGMENT_OF_COLUMN = {
    CompareColumn.BEGINNING: SEGMENTS[0],
    CompareColumn.MIDDLE: SEGMENTS[1],
    CompareColumn.END: SEGMENTS[2],
}

RowRole = Qt.ItemDataRole.UserRole + 20  # the CompareRow
CellRole = Qt.ItemDataRole.UserRole + 21  # (Score | None, Ranked | None) of a meter column
PictureRole = Qt.ItemDataRole.UserRole + 22  # the QImage of the picture column (maybe of another size), or None
PictureStateRole = Qt.ItemDataRole.UserRole + 23  # "ready", "drawing", "computing" (no log-mel at hand), "missing"


@dataclass(frozen=True)
class CompareRow:
    take: Take
    ranked: Ranked
    segments: tuple[tuple[Score | None, Ranked | None], ...]  # in SEGMENTS order

    @property
    def take_id(self) -> int:
        return self.take.id


def comparable(take: Take) -> bool:
    """A take with an overall score (kept while it is analysed again for its picture)."""
    return take.result is not None and take.result.ok and take.result.overall is not None


class CompareModel(QAbstractTableModel):
    detail_needed = Signal(int)  # a take in view whose log-mel is not at hand
    detail_unneeded = Signal(int)  # a take asked for that left the view before its log-mel came
    progress_changed = Signal()  # rows in view ready or pending changed

    def __init__(
        self, ranking: Ranking | None = None, renderer: PictureRenderer | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.ranking = ranking if ranking is not None else Ranking()
        self.renderer = renderer if renderer is not None else PictureRenderer(parent=self)
        self.renderer.done.connect(self._on_rendered)
        self.cache = PictureCache(CACHE_PICTURES)
        self.takes: list[Take] = []  # as given, compared or not
        self.rows: list[CompareRow] = []
        self.ranked: list[Ranked] = []
        self.not_compared: list[Take] = []
        self.summary = ""
        self._row_of: dict[int, int] = {}
        self._versions: dict[int, int] = {}
        self._in_view: list[int] = []  # take ids of the rows in view, top to bottom
        self._size = (400, 66)  # the picture's pixels (the view sets it)
        self.colour_map = theme.DEFAULT_COLOUR_MAP
        self.db_floor = DB_FLOOR_DEFAULT
        self._lut = _lookup_table(self.colour_map)
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(DETAIL_DELAY_MS)
        self._detail_timer.timeout.connect(self._ask_details)
        self.details_asked: set[int] = set()  # take ids asked for since the takes were set
        self._waiting: set[int] = set()  # asked for, not come yet

    # ------------------------------------------------------------------------------------ the takes
    def set_takes(self, takes: Sequence[Take]) -> None:
        """Ranks the takes (those without a score are listed apart); pictures of takes still shown stay."""
        self.beginResetModel()
        self.takes = list(takes)
        done = [t for t in self.takes if comparable(t)]
        self.not_compared = [t for t in self.takes if not comparable(t)]
        rule = self.ranking
        self.ranked = rule.rank([(t.id, t.result.overall) for t in done if t.result and t.result.overall])
        by_id = {t.id: t for t in done}
        results = [(t.id, t.result) for t in done if t.result is not None]
        seg_ranks = {seg: rule.rank_segment(results, seg) for seg in SEGMENTS}
        self.rows = [
            CompareRow(by_id[r.key], r, tuple((by_id[r.key].segment(s), seg_ranks[s].get(r.key)) for s in SEGMENTS))
            for r in self.ranked
        ]
        self._row_of = {row.take_id: i for i, row in enumerate(self.rows)}
        self.summary = rule.summary(self.ranked, {t.id: t.name for t in done})
        self._in_view = [i for i in self._in_view if i in self._row_of]
        self.endResetModel()
        self.cache.keep_only(set(self._row_of))
        self.renderer.cancel(lambda key: key.take_id in self._row_of)
        self.details_asked = {i for i in self.details_asked if i in self._row_of}
        self._let_go(set(self._in_view))
        self.progress_changed.emit()

    def set_ranking(self, ranking: Ranking) -> None:
        """Another rule for ranking and telling takes apart: the same takes, ranked again."""
        self.ranking = ranking
        self.set_takes(self.takes)

    @property
    def take_ids(self) -> list[int]:
        return [t.id for t in self.takes]

    def row_of(self, take_id: int) -> int:
        return self._row_of.get(take_id, -1)

    # ------------------------------------------------------------------------------------ Qt's model
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(CompareColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if section == CompareColumn.HEARD:
            return self.heard_title()
        return COMPARE_HEADERS[section] if 0 <= section < len(COMPARE_HEADERS) else None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == RowRole:
            return row
        if col == CompareColumn.RANK and role == Qt.ItemDataRole.DisplayRole:
            return str(row.ranked.rank)
        if col == CompareColumn.TAKE:
            if role == Qt.ItemDataRole.DisplayRole:
                return row.take.name
            if role == Qt.ItemDataRole.ToolTipRole:
                style = row.take.result.style if row.take.result is not None else None
                return "\n".join([str(row.take.path), *([style_line([t.to_dict() for t in style])] if style else [])])
        if col == CompareColumn.OVERALL and role in (CellRole, Qt.ItemDataRole.DisplayRole):
            return (row.ranked.score, row.ranked) if role == CellRole else row.ranked.text
        if col in SEGMENT_OF_COLUMN and role in (CellRole, Qt.ItemDataRole.DisplayRole):
            cell = row.segments[SEGMENTS.index(SEGMENT_OF_COLUMN[CompareColumn(col)])]
            return cell if role == CellRole else (cell[1].text if cell[1] is not None else "")
        if col == CompareColumn.HEARD:
            if role == PictureRole:
                item = self.cache.get(row.take_id)
                return item[1] if item is not None else None
            if role == PictureStateRole:
                return self.picture_state(row.take_id)
        return None

    # ------------------------------------------------------------------------------------ pictures
    def _key(self, take_id: int) -> PictureKey:
        w, h = self._size
        return PictureKey(take_id, self._versions.get(take_id, 0), w, h, self.colour_map, self.db_floor)

    def picture_state(self, take_id: int) -> str:
        item = self.cache.get(take_id)
        if item is not None and item[0] == self._key(take_id):
            return "ready"
        row = self._row_of.get(take_id)
        if row is not None and strip_source(self.rows[row].take) is None:
            return "missing" if self.rows[row].take.missing else "computing"
        return "drawing"

    def show_rows(self, first: int, last: int, *, settled: bool = True) -> None:
        """The rows ``first`` to ``last`` are in view (``first`` > ``last``: none). Their pictures are
        drawn (or kept); with ``settled`` false (scrolling) asking for missing log-mel waits a moment."""
        first, last = max(0, first), min(last, len(self.rows) - 1)
        self._in_view = [self.rows[r].take_id for r in range(first, last + 1)]
        self.cache.set_capacity(max(CACHE_PICTURES, 2 * len(self._in_view)))
        wanted = set(self._in_view)
        self.renderer.cancel(lambda key: key.take_id in wanted)
        self._let_go(wanted)
        for take_id in self._in_view:
            self._ensure_picture(take_id)
        if settled:
            self._detail_timer.stop()
            self._ask_details()
        else:
            self._detail_timer.start()
        self.progress_changed.emit()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, CompareColumn.HEARD, CompareColumn.HEARD)

    def in_view(self, take_id: int) -> bool:
        return take_id in self._in_view

    def _ensure_picture(self, take_id: int) -> None:
        row = self._row_of.get(take_id)
        if row is None:
            return
        key = self._key(take_id)
        item = self.cache.get(take_id)
        if (item is not None and item[0] == key) or self.renderer.is_pending(key):
            return
        source = strip_source(self.rows[row].take)
        if source is not None:
            self.renderer.render(key, source, self._lut)

    def _ask_details(self) -> None:
        for take_id in self._in_view:
            row = self._row_of.get(take_id)
            if row is not None and strip_source(self.rows[row].take) is None and not self.rows[row].take.missing:
                self.details_asked.add(take_id)
                self._waiting.add(take_id)
                self.detail_needed.emit(take_id)

    def _let_go(self, keep: set[int]) -> None:
        """Takes asked for that are no longer in view: the request is withdrawn (if not started)."""
        for take_id in sorted(self._waiting - keep):
            self._waiting.discard(take_id)
            self.detail_unneeded.emit(take_id)

    def ask_details(self) -> None:
        """Asks again for the log-mel of rows in view that lack it (e.g. once the analysis is ready)."""
        self._ask_details()

    def _on_rendered(self, key: object, image: object) -> None:
        if not isinstance(key, PictureKey) or key.take_id not in self._row_of or key != self._key(key.take_id):
            return
        self.cache.put(key, image)  # type: ignore[arg-type]
        index = self.index(self._row_of[key.take_id], CompareColumn.HEARD)
        self.dataChanged.emit(index, index, [PictureRole, PictureStateRole])
        self.progress_changed.emit()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, CompareColumn.HEARD, CompareColumn.HEARD)

    def take_updated(self, take_id: int) -> None:
        """The take's log-mel arrived or changed: its picture is drawn again if it is in view."""
        if take_id not in self._row_of:
            return
        self._versions[take_id] = self._versions.get(take_id, 0) + 1
        self._waiting.discard(take_id)
        if take_id in self._in_view:
            self._ensure_picture(take_id)
        else:
            self.cache.discard(take_id)
        index = self.index(self._row_of[take_id], CompareColumn.HEARD)
        self.dataChanged.emit(index, index, [PictureRole, PictureStateRole])

    def file_changed(self, take_id: int) -> None:
        """The take's file was found missing (its row says so, nothing is asked for) or found again (its
        log-mel is asked for if the row is in view)."""
        row = self._row_of.get(take_id)
        if row is None:
            return
        if self.rows[row].take.missing:
            self._waiting.discard(take_id)
        elif take_id in self._in_view:
            self._ask_details()
        index = self.index(row, CompareColumn.HEARD)
        self.dataChanged.emit(index, index, [PictureRole, PictureStateRole])
        self.progress_changed.emit()

    def set_picture_size(self, width: int, height: int) -> None:
        size = (max(1, int(width)), max(1, int(height)))
        if size != self._size:
            self._size = size
            self._refresh_in_view()

    def set_style(self, colour_map: str | None = None, db_floor: float | None = None) -> None:
        if colour_map is not None and colour_map != self.colour_map:
            self.colour_map = colour_map
            self._lut = _lookup_table(colour_map)
        if db_floor is not None:
            self.db_floor = float(db_floor)
        self._refresh_in_view()

    def _refresh_in_view(self) -> None:
        wanted = set(self._in_view)
        self.renderer.cancel(lambda key: key.take_id in wanted and key == self._key(key.take_id))
        for take_id in self._in_view:
            self._ensure_picture(take_id)

    def release(self) -> None:
        """Nothing is in view (the view is hidden): every picture is let go, pending ones are dropped."""
        self._in_view = []
        self._detail_timer.stop()
        self._let_go(set())
        self.renderer.cancel_all()
        self.cache.clear()
        self.progress_changed.emit()

    # ------------------------------------------------------------------------------------ what is ready
    def ready_in_view(self) -> int:
        return sum(self.picture_state(t) == "ready" for t in self._in_view)

    def heard_title(self) -> str:
        states = [self.picture_state(t) for t in self._in_view]
        n = sum(state != "missing" for state in states)  # a missing file's row will not fill
        ready = states.count("ready")
        return HEARD_TITLE if ready >= n else f"{HEARD_TITLE} ({ready} of {n} ready)"

    def busy(self) -> bool:
        """Pictures are being drawn, or rows in view wait to ask for their log-mel."""
        return self.renderer.pending > 0 or self._detail_timer.isActive()

    def counts(self) -> dict[str, int]:
        """How much exists, for tests and the benchmark: rows, rows in view, pictures ready among them,
        pictures kept, pictures drawn (started) since the renderer was made, pending, log-mel asked for."""
        return {
            "rows": len(self.rows),
            "in_view": len(self._in_view),
            "ready_in_view": self.ready_in_view(),
            "cached": len(self.cache),
            "drawn": self.renderer.started,
            "pending": self.renderer.pending,
            "details_asked": len(self.details_asked),
        }


def _lookup_table(colour_map: str) -> npt.NDArray[np.uint8]:
    """256 RGB colours of a pyqtgraph colour map (made on the GUI thread: it may read a file)."""
    lut = pg.colormap.get(colour_map).getLookupTable(0.0, 1.0, 256, alpha=False)
    return np.ascontiguousarray(np.asarray(lut, dtype=np.uint8)[:, :3])
