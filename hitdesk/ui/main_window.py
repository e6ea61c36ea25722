"""The main window: the takes list on top, the selected take or the comparison below.

Files come in by drag and drop anywhere on the window, File ▸ Open, recent files and the command
line; every problem with a file becomes an error row, never a dialog. Analysis runs in the
``Analyser``'s thread pool; this class only reacts to its signals.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QEvent, QEventLoop, QItemSelectionModel, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hitdesk.analysis import AnalysisOptions, Progress
from hitdesk.audio import InputProblem, expand_inputs
from hitdesk.config import DEFAULT_WINDOW_SECONDS
from hitdesk.dsp.windows import Window
from hitdesk.errors import HitdeskError
from hitdesk.model.runtime import HitModel
from hitdesk.results import TrackResult
from hitdesk.ui import commands, record_dock, theme
from hitdesk.ui.about import AboutDialog
from hitdesk.ui.compare_view import CompareView
from hitdesk.ui.meters import MeterDelegate
from hitdesk.ui.model_card import ModelCardDialog
from hitdesk.ui.playback import Player
from hitdesk.ui.qt_compat import protect_singletons
from hitdesk.ui.session import (
    SessionTake,
    load_session,
    results_csv,
    results_json,
    save_session,
    write_text,
)
from hitdesk.ui.settings import Preferences, load_bytes, open_settings, save_geometry
from hitdesk.ui.take_panel import TakePanel
from hitdesk.ui.takes import METER_COLUMNS, Column, State, Take, TakesModel, path_key
from hitdesk.ui.track_picture import TrackPicture
from hitdesk.ui.transport import Transport
from hitdesk.ui.workers import Analyser, is_warm, warm_up

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1100, 700)
MINIMUM_SIZE = (1000, 640)


class TakesTable(QTableView):
    """The takes list; says what to do while it is empty."""

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


class MainWindow(QMainWindow):
    all_done = Signal()  # nothing queued or running any more
    ready = Signal()  # the analysis is warmed up; deferred takes have been submitted
    take_updated = Signal(int)  # a take's state, result or loudness changed

    def __init__(
        self,
        settings: QSettings | None = None,
        *,
        restore: bool = True,
        persist: bool = True,
        model_spec: str | None = None,
    ) -> None:
        super().__init__()
        protect_singletons()  # before the many Qt calls to come: see qt_compat
        self.settings = settings if settings is not None else open_settings()
        self.persist = persist
        # A headless check (restore=False) runs with default preferences, whatever this user chose.
        self.prefs = Preferences.load(self.settings) if restore else Preferences()
        self.model: HitModel | None = None
        self.model_error: str | None = None
        self.analyser = Analyser(self.prefs.workers, self)
        self.player = Player(self)
        self.takes = TakesModel()
        self._batch_total = 0
        self._deferred: dict[int, bool] = {}  # take id -> use_cache, queued before the warm-up ran
        self._warm_scheduled = False
        self._card_dialog: ModelCardDialog | None = None
        self._about_dialog: AboutDialog | None = None
        self._closing = False

        self.setWindowTitle("HitDesk")
        self.setMinimumSize(*MINIMUM_SIZE)
        self.resize(*DEFAULT_SIZE)
        self.setAcceptDrops(True)
        self._build_widgets()
        self.action_map = commands.build_actions(self)
        commands.build_menus(self, self.action_map)
        self.record_panel = record_dock.install(self)  # before the saved state is restored: it has a dock
        self.model_combo, self.position_label = commands.build_toolbar(self, self.action_map)
        self.model_combo.activated.connect(lambda i: commands.model_combo_activated(self, self.model_combo, i))
        for name in ("compare", "again", "remove"):
            self.table.addAction(self.action_map[name])
        self._connect()
        self.panel.set_colour_map(self.prefs.colour_map)
        self.panel.set_db_range(self.prefs.db_range)
        self.compare.set_colour_map(self.prefs.colour_map)
        self.compare.set_db_floor(-float(self.prefs.db_range))
        if restore:
            self._restore_geometry()
        self.load_model(model_spec if model_spec is not None else self.prefs.model, remember=model_spec is None)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # file drops on any child widget (text fields, plots) come here
        self._update_actions()

    # ------------------------------------------------------------------------------------ building
    def _build_widgets(self) -> None:
        self.banner = QFrame()
        self.banner.setObjectName("banner")
        bl = QHBoxLayout(self.banner)
        bl.setContentsMargins(8, 4, 8, 4)
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        bl.addWidget(self.banner_text, 1)
        self.banner.hide()

        self.table = TakesTable()
        self.table.setModel(self.takes)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.table.setAccessibleName("Takes")
        self.table.setAcceptDrops(False)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        widths = {
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
        for col, w in widths.items():
            self.table.setColumnWidth(col, w)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.meter_delegate = MeterDelegate(self.table)
        for col in METER_COLUMNS:
            self.table.setItemDelegateForColumn(col, self.meter_delegate)

        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.status_text = QLabel("")
        self.statusBar().addWidget(self.status_text, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self.model_label = QLabel("")
        self.model_label.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        self.statusBar().addPermanentWidget(self.model_label)

        self.panel = TakePanel()
        self.compare = CompareView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.panel, "Selected take")
        self.tabs.addTab(self.compare, "Compare")
        self.tabs.setDocumentMode(True)

        top = QWidget()
        tv = QVBoxLayout(top)
        tv.setContentsMargins(0, 0, 0, 0)
        tv.setSpacing(4)
        tv.addWidget(self.banner)
        tv.addWidget(self.table, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([210, 420])
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)
        self.setTabOrder(self.table, self.tabs)
        self.setTabOrder(self.tabs, self.panel.note_edit)

    def _connect(self) -> None:
        a = self.analyser
        a.take_started.connect(self._on_started)
        a.take_progress.connect(self._on_progress)
        a.take_window.connect(self._on_window)
        a.take_finished.connect(self._on_finished)
        a.take_loudness.connect(self._on_loudness)
        a.take_done.connect(self._on_take_done)
        a.busy_changed.connect(self._on_busy)
        a.idle.connect(self._on_idle)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.takes.rowsRemoved.connect(self._sync_spans)
        self.takes.modelReset.connect(self._sync_spans)
        self.takes.dataChanged.connect(self._on_data_changed)
        self.panel.explain_requested.connect(lambda: self.show_model_card("explain"))
        self.panel.card_requested.connect(lambda: self.show_model_card("model"))
        self.panel.note_edited.connect(self._note_edited)
        self.panel.colour_map_changed.connect(self._colour_map_changed)
        self.panel.db_floor_changed.connect(self._db_range_changed)
        self.compare.detail_needed.connect(self._detail_needed)
        self.compare.explain_requested.connect(lambda: self.show_model_card("explain"))
        self.tabs.currentChanged.connect(lambda _i: self._refresh_compare())
        self.transport = Transport(self, self.player)

    # ------------------------------------------------------------------------------------ settings
    def _restore_geometry(self) -> None:
        geometry = load_bytes(self.settings, "window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = load_bytes(self.settings, "window/state")
        if state is not None:
            self.restoreState(state)
        splitter = load_bytes(self.settings, "window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def save_settings(self) -> None:
        self.prefs.save(self.settings)
        save_geometry(self.settings, self.saveGeometry(), self.saveState(), self.splitter.saveState())
        self.settings.sync()

    def _colour_map_changed(self, name: str) -> None:
        self.prefs.colour_map = name
        self.compare.set_colour_map(name)

    def _db_range_changed(self, value: int) -> None:
        self.prefs.db_range = value
        self.compare.set_db_floor(-float(value))

    # ------------------------------------------------------------------------------------ model
    @property
    def options(self) -> AnalysisOptions:
        card_window = self.model.card.window_seconds if self.model is not None else None
        window = self.prefs.window_seconds or card_window or DEFAULT_WINDOW_SECONDS
        return AnalysisOptions(window_seconds=window, fast=self.prefs.fast)

    def load_model(self, spec: str | None, *, remember: bool = True) -> bool:
        """Loads a model (``None``/"" = default); on failure keeps the previous one and says why."""
        try:
            model = HitModel.load(spec or None)
        except HitdeskError as exc:
            self.model_error = str(exc)
            log.warning("model %r not loaded: %s", spec, exc)
            if self.model is None:
                self.banner_text.setText(f"No model loaded: {exc} Choose one in the Model menu.")
                self.banner.show()
            commands.fill_model_combo(self, self.model_combo)
            self._update_status()
            return False
        previous = self.model
        self.model = model
        if not is_warm() and not self._warm_scheduled:
            # After the window shows: the warm-up imports librosa (seconds) in this thread, see warm_up.
            self._warm_scheduled = True
            QTimer.singleShot(0, self._warm_up)
        self.model_error = None
        if remember:
            self.prefs.model = spec or ""
        self.banner.hide()
        base = model.card.base_rate
        self.panel.base_rate = base
        self.compare.base_rate = base
        self.meter_delegate.base_rate = base
        self.panel.window_seconds = self.options.window_seconds
        self.model_label.setText(f"{model.card.name} {model.card.version} · base rate {100 * base:.0f}%")
        commands.fill_model_combo(self, self.model_combo)
        if self._card_dialog is not None:
            self._card_dialog.close()
            self._card_dialog = None
        if previous is not None or any(t.state != State.QUEUED for t in self.takes.takes):
            self.reanalyse(self.takes.takes)
        else:
            for t in self.takes.takes:
                self._queue(t)
        self._refresh_selected()
        return True

    def show_model_card(self, page: str = "model") -> ModelCardDialog:
        if self._card_dialog is None:
            card = self.model.card if self.model is not None else None
            stem = str(self.model.stem) if self.model is not None else ""
            self._card_dialog = ModelCardDialog(card, f"{stem}.onnx, .head.onnx, .json" if stem else "", self)
        self._card_dialog.open_page(page)
        self._card_dialog.show()
        self._card_dialog.raise_()
        return self._card_dialog

    def show_about(self) -> AboutDialog:
        """Help ▸ About: versions, the loaded model's data provenance and terms, third-party licences."""
        if self._about_dialog is not None:
            self._about_dialog.close()
        card = self.model.card if self.model is not None else None
        self._about_dialog = AboutDialog(card, self)
        self._about_dialog.show()
        self._about_dialog.raise_()
        return self._about_dialog

    # ------------------------------------------------------------------------------------ adding files
    def add_paths(self, inputs: Iterable[str | Path]) -> list[Take]:
        """Adds files and folders; returns the takes added (a file already in the list is skipped)."""
        paths = [Path(p) for p in inputs]
        if not paths:
            return []
        new: list[Take] = []
        seen = {t.key for t in self.takes.takes}
        skipped = 0
        for item in expand_inputs(paths):
            path = item.path if isinstance(item, InputProblem) else item
            take = self.takes.new_take(path.absolute())
            if take.key in seen:
                skipped += 1
                continue
            seen.add(take.key)
            if isinstance(item, InputProblem):
                take.state = State.ERROR
                take.message = item.message
            new.append(take)
        self.takes.append(new)
        for take in new:
            if take.state != State.ERROR:
                self._queue(take)
        self._sync_spans()
        if new and not self.table.selectionModel().hasSelection():
            self.select_ids([new[0].id])
        self.prefs.add_recent([str(p.absolute()) for p in paths])
        self.prefs.last_folder = str(paths[-1].absolute().parent if paths[-1].is_file() else paths[-1].absolute())
        if skipped:
            self.status_text.setText(
                f"{skipped} file{'s' if skipped > 1 else ''} already in the list, not added again."
            )
        self._update_actions()
        return new

    def add_result(self, path: Path, result: TrackResult, notes: Sequence[str] = ()) -> Take | None:
        """Adds a file that has already been analysed (a recorded take), selected; None if already listed.

        ``notes`` (audio lost while recording) stay with the take when it is analysed again.
        """
        take = self.takes.new_take(path.absolute())
        if take.key in {t.key for t in self.takes.takes}:
            return None
        take.result = result
        take.recording_notes = tuple(notes)
        take.state = State.DONE if result.ok else State.ERROR
        self.takes.append([take])
        self._sync_spans()
        self.select_ids([take.id])
        self._update_status()
        self._update_actions()
        return take

    def _queue(self, take: Take, *, use_cache: bool = True) -> None:
        if take.state == State.ERROR and take.result is None and take.message:
            return  # an input problem (e.g. an empty folder): nothing to analyse
        take.state = State.QUEUED
        if self.model is None:  # analysed once a model is chosen
            self.takes.changed(take.id)
            return
        self._batch_total += 1
        if is_warm():
            self.analyser.submit(take.id, take.path, self.model, self.options, use_cache=use_cache)
        else:
            self._deferred[take.id] = use_cache
        self.takes.changed(take.id)

    def _warm_up(self) -> None:
        if self.model is not None and not is_warm():
            self.status_text.setText("Preparing the analysis…")
            self.status_text.repaint()
            warm_up(self.model)
        deferred, self._deferred = self._deferred, {}
        for take_id, use_cache in deferred.items():
            take = self.takes.by_id(take_id)
            if take is not None and take.state == State.QUEUED and self.model is not None:
                self.analyser.submit(take.id, take.path, self.model, self.options, use_cache=use_cache)
        self._update_status()
        self._refresh_selected()
        self.ready.emit()

    @property
    def is_busy(self) -> bool:
        """Takes are waiting for the warm-up, queued or being analysed."""
        return bool(self._deferred) or self.analyser.pending > 0

    def reanalyse(self, takes: Sequence[Take], *, use_cache: bool = True) -> None:
        for take in takes:
            if take.message is not None and take.result is None and take.state == State.ERROR:
                continue
            self.analyser.cancel(take.id)
            take.result = None
            take.detail = None
            take.live_windows = {}
            take.loudness = None
            take.loudness_error = None
            self._queue(take, use_cache=use_cache)
        self._sync_spans()
        self._refresh_selected()

    def reanalyse_selected(self) -> None:
        takes = self.selected_takes() or [t for t in self.takes.takes if t.state in (State.CANCELLED, State.ERROR)]
        self.reanalyse(takes)

    # ------------------------------------------------------------------------------------ drops
    @staticmethod
    def _local_files(event: QDropEvent | QDragEnterEvent) -> list[str]:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        drag = kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)
        if drag and isinstance(obj, QWidget) and obj.window() is self and not self._closing:
            files = self._local_files(event)  # type: ignore[arg-type]
            if files:
                event.acceptProposedAction()  # type: ignore[attr-defined]
                if kind == QEvent.Type.Drop:
                    self.add_paths(files)
                return True
        return super().eventFilter(obj, event)

    # ------------------------------------------------------------------------------------ analyser signals
    def _on_started(self, take_id: int) -> None:
        take = self.takes.by_id(take_id)
        if take is not None:
            take.state = State.ANALYSING
            take.picture = None  # drawn anew as this job computes it
            take.live_windows = {}
            self.takes.changed(take_id)

    def _on_progress(self, take_id: int, progress: object) -> None:
        take = self.takes.by_id(take_id)
        if take is None or not isinstance(progress, Progress):
            return
        shown = take.picture.done if take.picture is not None else -1.0
        if take.picture is None:
            take.picture = TrackPicture(progress.duration_s)
        take.picture.add(progress)
        if int(100 * take.picture.done) != int(100 * shown):
            self.takes.changed(take_id)
        if take is self.panel.take:
            self.panel.show_stream(take)

    def _on_window(self, take_id: int, window: object, logmel: object) -> None:
        take = self.takes.by_id(take_id)
        if take is None or not isinstance(window, Window):
            return
        take.live_windows[window.name] = (window, logmel)  # type: ignore[assignment]
        if take is self.panel.take and take.detail is None:
            self.panel.show_stream(take)

    def _on_finished(self, take_id: int, result: object, detail: object) -> None:
        take = self.takes.by_id(take_id)
        if take is None or not isinstance(result, TrackResult):
            return
        had_result = take.result is not None and take.state == State.DONE
        if take.recording_notes:
            result = replace(result, notes=(*result.notes, *(n for n in take.recording_notes if n not in result.notes)))
        take.result = result
        if detail is not None:
            take.detail = detail  # type: ignore[assignment]
        take.live_windows = {}
        take.state = State.DONE if result.ok else State.ERROR
        if not had_result:
            self.takes.changed(take_id)
            self._sync_spans()
        self.take_updated.emit(take_id)
        if take is self.panel.take:
            self.panel.show_take(take)
        if take_id in self.compare.take_ids:
            if had_result:
                self.compare.update_take(take)
            else:
                self._refresh_compare()

    def _on_loudness(self, take_id: int, value: object, message: str) -> None:
        take = self.takes.by_id(take_id)
        if take is None:
            return
        take.loudness = value  # type: ignore[assignment]
        take.loudness_error = message or None
        self.update_gains()
        self.takes.changed(take_id)
        self.take_updated.emit(take_id)

    def _on_take_done(self, take_id: int) -> None:
        take = self.takes.by_id(take_id)
        if take is None:
            return
        if take.state in (State.QUEUED, State.ANALYSING):  # the job ended without an answer (cancelled)
            take.state = State.CANCELLED
            self.takes.changed(take_id)
        if take is self.panel.take or take_id in self.compare.take_ids:
            self._detail_needed(take_id)

    def _on_busy(self, pending: int) -> None:
        self._update_status()
        self._update_actions()

    def _on_idle(self) -> None:
        self._batch_total = 0
        self._update_status()
        self._update_actions()
        self.all_done.emit()

    def _detail_needed(self, take_id: int) -> None:
        """Re-analyses a take whose result came from the cache or a session, for its spectrogram."""
        take = self.takes.by_id(take_id)
        if (
            take is None
            or not is_warm()  # asked again at the end of the warm-up
            or self.model is None
            or take.state != State.DONE
            or take.detail is not None
            or self.analyser.is_current(take_id)
            or not take.path.is_file()
        ):
            return
        self.analyser.submit(
            take.id, take.path, self.model, self.options, use_cache=False, loudness=take.loudness is None
        )

    # ------------------------------------------------------------------------------------ view updates
    def _on_data_changed(self, *_args: object) -> None:
        self._update_actions()

    def _sync_spans(self, *_args: object) -> None:
        """Error rows show their sentence across the meter and loudness columns."""
        self.table.clearSpans()
        for row, take in enumerate(self.takes.takes):
            if take.state == State.ERROR:
                self.table.setSpan(row, Column.BEGINNING, 1, Column.PEAK - Column.BEGINNING + 1)

    def _update_status(self) -> None:
        pending = self.analyser.pending + len(self._deferred)
        if pending and self._batch_total:
            total = max(self._batch_total, pending)
            self.progress.setRange(0, total)
            self.progress.setValue(total - pending)
            self.progress.setFormat(f"{total - pending} of {total} analysed")
            self.progress.show()
            self.status_text.setText(
                f"Analysing on {self.analyser.workers} core{'s' if self.analyser.workers > 1 else ''}…"
            )
        else:
            self.progress.hide()
            takes = self.takes.takes
            if self.model is None:
                self.status_text.setText(self.model_error or "No model is loaded.")
            elif takes:
                done = sum(t.state == State.DONE for t in takes)
                errors = sum(t.state == State.ERROR for t in takes)
                text = f"{len(takes)} take{'s' if len(takes) != 1 else ''}: {done} analysed"
                if errors:
                    text += f", {errors} could not be analysed"
                self.status_text.setText(text + ".")
            else:
                self.status_text.setText("Ready.")

    def _update_actions(self) -> None:
        has = self.takes.rowCount() > 0
        selected = bool(self.table.selectionModel().selectedRows()) if self.table.selectionModel() else False
        a = self.action_map
        a["cancel"].setEnabled(self.is_busy)
        a["export"].setEnabled(has)
        a["save_session"].setEnabled(has)
        a["remove"].setEnabled(selected)
        a["clear"].setEnabled(has)
        a["compare"].setEnabled(sum(t.state == State.DONE for t in self.takes.takes) >= 2)
        a["again"].setEnabled(has and self.model is not None)

    def selected_takes(self) -> list[Take]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [t for t in (self.takes.take_at(r) for r in rows) if t is not None]

    def select_ids(self, ids: Sequence[int]) -> None:
        sm = self.table.selectionModel()
        sm.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        first = True
        for take_id in ids:
            row = self.takes.row_of(take_id)
            if row < 0:
                continue
            index = self.takes.index(row, 0)
            if first:
                sm.setCurrentIndex(index, flags)
                first = False
            else:
                sm.select(index, flags)

    def _selection_changed(self, *_args: object) -> None:
        self._refresh_selected()
        self._update_actions()
        if self.tabs.currentWidget() is self.compare:
            self._refresh_compare()

    def _refresh_selected(self) -> None:
        current = self.table.selectionModel().currentIndex()
        selected = self.selected_takes()
        take = self.takes.take_at(current.row()) if current.isValid() else None
        if take is None or take not in selected:
            take = selected[0] if selected else None
        self.panel.window_seconds = self.options.window_seconds
        self.panel.show_take(take)
        if take is not None:
            self._detail_needed(take.id)
            self.transport.selected(take)

    def _compared_takes(self) -> list[Take]:
        selected = self.selected_takes()
        return selected if len(selected) >= 2 else self.takes.takes

    def _refresh_compare(self) -> None:
        if self.tabs.currentWidget() is self.compare:
            self.compare.show_takes(self._compared_takes())

    def show_take_tab(self) -> None:
        self.tabs.setCurrentWidget(self.panel)

    def show_compare(self) -> None:
        self.tabs.setCurrentWidget(self.compare)
        self._refresh_compare()

    def _note_edited(self, take_id: int, note: str) -> None:
        take = self.takes.by_id(take_id)
        if take is not None:
            take.note = note
            self.takes.changed(take_id)

    # ------------------------------------------------------------------------------------ removing
    def remove_selected(self) -> None:
        self.remove_ids({t.id for t in self.selected_takes()})

    def remove_ids(self, ids: set[int]) -> None:
        for take_id in ids:
            self._deferred.pop(take_id, None)
            self.analyser.cancel(take_id)
            self.player.forget(take_id)
        self.takes.remove_ids(ids)
        if self.panel.take is not None and self.panel.take.id in ids:
            self.panel.show_take(None)
        self._refresh_selected()
        self._refresh_compare()
        self._update_status()
        self._update_actions()

    def clear_all(self) -> None:
        self.remove_ids({t.id for t in self.takes.takes})

    def cancel_all(self) -> None:
        self._deferred.clear()
        self.analyser.cancel_all()
        for take in self.takes.takes:
            if take.state in (State.QUEUED, State.ANALYSING):
                take.state = State.CANCELLED
                self.takes.changed(take.id)
        self._refresh_selected()
        self._update_status()

    # ------------------------------------------------------------------------------------ export and sessions
    def results(self) -> list[TrackResult]:
        """One result per take that has one, in list order (errors included), for exports."""
        out = []
        model = self.model.info.to_dict() if self.model is not None else {}
        mode = "fast" if self.prefs.fast else "full"
        for t in self.takes.takes:
            if t.result is not None:
                out.append(t.result)
            elif t.state == State.ERROR and t.message:
                out.append(TrackResult(file=str(t.path), model=model, mode=mode, error=t.message))
        return out

    def export_results(self, path: Path) -> None:
        """CSV or JSON by the file's suffix; the fields of ``hitdesk analyze --csv`` / ``--json``."""
        results = self.results()
        text = results_csv(results) if path.suffix.lower() == ".csv" else results_json(results)
        write_text(path, text)
        self.status_text.setText(f"Exported {len(results)} result{'s' if len(results) != 1 else ''} to {path.name}.")

    def grab_png(self, path: Path, *, compare: bool = False) -> bool:
        if compare:
            self.show_compare()
        QApplication.processEvents()
        widget: QWidget = self
        pixmap = widget.grab()
        return bool(pixmap.save(str(path), "PNG"))

    def session_takes(self) -> list[SessionTake]:
        return [SessionTake(t.path, t.result, t.loudness, t.note) for t in self.takes.takes]

    def save_session_to(self, path: Path) -> None:
        model = self.model.info.to_dict() if self.model is not None else {}
        save_session(path, self.session_takes(), model)
        self.status_text.setText(f"Session saved to {path.name}.")

    def open_session_from(self, path: Path) -> list[Take]:
        """Adds a session's takes with their results (no analysis); raises ``SessionError``."""
        entries, model = load_session(path)
        current = self.model.info.to_dict() if self.model is not None else {}
        new = []
        seen = {t.key for t in self.takes.takes}
        for e in entries:
            if path_key(e.path) in seen:
                continue
            take = self.takes.new_take(e.path)
            seen.add(take.key)
            take.note = e.note
            take.loudness = e.loudness
            if e.result is not None and (not model or model == current or self.model is None):
                take.result = replace(e.result, file=str(e.path))
                take.state = State.DONE if e.result.ok else State.ERROR
            new.append(take)
        self.takes.append(new)
        for take in new:
            if take.result is None:
                self._queue(take)
        self._sync_spans()
        if new:
            self.select_ids([new[0].id])
        self._update_status()
        self._update_actions()
        return new

    # ------------------------------------------------------------------------------------ playback
    def toggle_play(self) -> None:
        self.transport.toggle_play()

    def seek_by(self, seconds: float) -> None:
        self.transport.seek_by(seconds)

    def update_gains(self) -> None:
        self.transport.update_gains()

    # ------------------------------------------------------------------------------------ waiting and closing
    def wait_until_idle(self, timeout_ms: int = 600_000) -> bool:
        """Runs the event loop until no take waits, is queued or is analysed (for headless use and tests)."""
        if not self.is_busy:
            return True
        loop = QEventLoop()
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        self.analyser.idle.connect(loop.quit)
        self.ready.connect(loop.quit)
        timer.start(timeout_ms)
        while self.is_busy and timer.isActive():
            loop.exec()
        self.analyser.idle.disconnect(loop.quit)
        self.ready.disconnect(loop.quit)
        return not self.is_busy

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self._closing = True
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.player.stop()
        self.analyser.cancel_all()
        if not self.analyser.wait(30_000):
            log.warning("analysis jobs still running at close")
        if self.persist:
            self.save_settings()
        for dialog in (self._card_dialog, self._about_dialog):
            if dialog is not None:
                dialog.close()
        super().closeEvent(event)


def window_icon() -> QIcon:
    path = Path(__file__).resolve().parents[2] / "resources" / "hitdesk.svg"
    return QIcon(str(path)) if path.exists() else QIcon()
