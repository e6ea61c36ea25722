"""The main window: the takes list on top, the selected take or the comparison below.

The window builds the views and wires them to the ``TakesController``, which owns the takes, the model and the
analysis; it changes no take itself. Files come in by drag and drop anywhere, File ▸ Open, recent files and the command
line; every problem with a file becomes an error row, never a dialog. The commands (``commands.py``), playback
(``transport.py``) and the record dock (``record_dock.py``) get what they need passed in, not the window.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSplitter,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hitdesk.model.runtime import HitModel
from hitdesk.ui import commands
from hitdesk.ui.about import AboutDialog
from hitdesk.ui.command_context import CommandContext
from hitdesk.ui.compare_view import CompareView
from hitdesk.ui.controller import TakesController
from hitdesk.ui.detail_wants import DetailWants
from hitdesk.ui.document import SessionDocument
from hitdesk.ui.drops import FileDrops
from hitdesk.ui.file_dialogs import save_session
from hitdesk.ui.model_card import ModelCardDialog
from hitdesk.ui.playback import Player
from hitdesk.ui.qt_compat import protect_singletons
from hitdesk.ui.readouts import PlaybackReadouts
from hitdesk.ui.record_dock import RecordDock
from hitdesk.ui.settings import Preferences, load_bytes, open_settings, save_geometry
from hitdesk.ui.status_bar import StatusLine
from hitdesk.ui.take_panel import TakePanel
from hitdesk.ui.takes import State, Take
from hitdesk.ui.takes_table import TakesModel
from hitdesk.ui.takes_view import TakesTable
from hitdesk.ui.transport import Transport

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1100, 700)
MINIMUM_SIZE = (1000, 640)


class MainWindow(QMainWindow):
    all_done = Signal()  # the controller's: nothing queued or running any more (for callers that wait)

    def __init__(
        self,
        settings: QSettings | None = None,
        *,
        restore: bool = True,
        persist: bool = True,
        model_spec: str | None = None,
        ask_to_save: bool = False,
    ) -> None:
        """``restore``: the user's preferences and window state; ``persist``: saved again on closing;
        ``ask_to_save``: closing a changed list asks whether to save it (the app run by a person does;
        headless runs, screenshots, benchmarks and tests never ask)."""
        super().__init__()
        protect_singletons()  # before the many Qt calls to come: see qt_compat
        self.settings = settings if settings is not None else open_settings()
        self.persist = persist
        # A headless check (restore=False) runs with default preferences, whatever this user chose.
        self.prefs = Preferences.load(self.settings) if restore else Preferences()
        self.controller = TakesController(self.prefs, self.prefs.workers, self)
        self.player = Player(self)
        self.takes = TakesModel(self.controller, self)
        self._card_dialog: ModelCardDialog | None = None
        self._about_dialog: AboutDialog | None = None

        self.setMinimumSize(*MINIMUM_SIZE)
        self.resize(*DEFAULT_SIZE)
        self.setAcceptDrops(True)
        self._build_widgets()
        self.transport = Transport(
            self.player,
            lambda: self.panel.take,
            lambda: self.controller.takes,
            lambda: self.action_map["match"].isChecked(),
            self,
        )
        context = CommandContext(self, self, self.controller, self.prefs, self.transport)
        self.document = SessionDocument(
            self, self.controller, lambda path: save_session(context, path), ask=ask_to_save
        )
        self.action_map = commands.build_actions(context)
        commands.build_menus(context, self.action_map)
        # Before the saved state is restored: the dock's visibility is part of it.
        self.record_dock = RecordDock(self, self.prefs, self.controller, self.add_paths, check_recordings=self.persist)
        self.record_dock.add_menu(self.menuBar())
        self.action_map.update(self.record_dock.action_map)
        self.record_panel = self.record_dock.panel
        self.model_combo, self.position_label = commands.build_toolbar(context, self.action_map)
        self.readouts = PlaybackReadouts(
            self.player, self.position_label, self.action_map["match"], lambda: self.panel.take
        )
        self.action_map["match"].toggled.connect(self.readouts.update)
        self.readouts.update()
        for name in ("compare", "again", "locate", "remove"):
            self.table.addAction(self.action_map[name])
        self._connect()
        self._set_tab_order()
        self.panel.set_colour_map(self.prefs.colour_map)
        self.panel.set_db_range(self.prefs.db_range)
        self.panel.strips.set_hidden(self.prefs.hidden_strips)
        self.panel.strips.hidden_changed.connect(lambda names: setattr(self.prefs, "hidden_strips", names))
        self.panel.strips.add_menu(self.menuBar())
        self.compare.set_colour_map(self.prefs.colour_map)
        self.compare.set_db_floor(-float(self.prefs.db_range))
        if restore:
            self._restore_geometry()
        self.load_model(model_spec if model_spec is not None else self.prefs.model, remember=model_spec is None)
        self.drops = FileDrops(self, self.add_paths)
        self.drops.install()  # file drops on any child widget (text fields, plots) come here
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

        self.table = TakesTable(self.takes)
        self.status = StatusLine(self.statusBar(), self.controller)

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

    def _set_tab_order(self) -> None:
        """Tab goes pane by pane: the list, the selected take (its spectrogram, then its controls), the
        record panel when it is open, the model; Shift+Tab goes back. Arrows move inside a pane."""
        p, rec = self.panel, self.record_panel.controls
        chain: list[QWidget] = [self.table, self.tabs, p.spectrogram, p.note_edit, p.fit, p.cmap, p.db]
        chain += [rec.inputs.device_combo, rec.inputs.rescan, rec.inputs.channel_combo, rec.record_button]
        chain.append(self.model_combo)
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)

    def _connect(self) -> None:
        c = self.controller
        c.takes_added.connect(lambda _ids: self._update_actions())
        c.takes_removing.connect(self.transport.forget)
        c.takes_removed.connect(self._on_takes_removed)
        c.take_streamed.connect(self._on_take_streamed)
        c.take_finished.connect(self._on_take_finished)
        c.take_loudness.connect(lambda _id: self.transport.update_gains())
        c.take_playback.connect(self._on_take_playback)
        for slot in (self.readouts.update, self.panel.refresh):  # the panel: the take's meters and strip
            c.take_loudness.connect(slot)
        c.take_file_changed.connect(self._on_take_file_changed)
        c.takes_requeued.connect(lambda _ids: self._refresh_selected())
        c.takes_cancelled.connect(lambda _ids: self._refresh_selected())
        c.focus_requested.connect(lambda take_id: self.select_ids([take_id]))
        c.progress.connect(lambda *_counts: self._update_actions())
        c.model_changed.connect(self._on_model_changed)
        c.model_failed.connect(self._on_model_failed)
        c.ready.connect(self._refresh_selected)
        c.all_done.connect(self.all_done)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.takes.dataChanged.connect(lambda *_args: self._update_actions())
        self.panel.explain_requested.connect(lambda: self.show_model_card("explain"))
        self.panel.card_requested.connect(lambda: self.show_model_card("model"))
        self.panel.locate_requested.connect(self.action_map["locate"].trigger)
        self.panel.note_edited.connect(c.set_note)
        self.panel.playback_edited.connect(c.set_playback)
        self.panel.colour_map_changed.connect(self._colour_map_changed)
        self.panel.db_floor_changed.connect(self._db_range_changed)
        self.panel.colour_map_changed.connect(self.record_panel.set_colour_map)
        self.panel.db_floor_changed.connect(self.record_panel.set_db_range)
        self.panel.spectrogram.seek_requested.connect(self.transport.seek_to)
        self.details = DetailWants(c, lambda: self.panel.take, self.compare, self)
        self.compare.explain_requested.connect(lambda: self.show_model_card("explain"))
        self.tabs.currentChanged.connect(lambda _i: self._refresh_compare())
        self.transport.playhead_moved.connect(self.panel.spectrogram.set_playhead)
        self.transport.position_text.connect(self.readouts.update)  # the player moved
        self.player.message.connect(self.status.text.setText)
        self.player.output_changed.connect(self.panel.play_controls.set_output_text)
        self.player.playing_changed.connect(self._on_playing)

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

    # ------------------------------------------------------------------------------------ the model
    @property
    def model(self) -> HitModel | None:
        return self.controller.model

    @property
    def model_error(self) -> str | None:
        return self.controller.model_error

    def load_model(self, spec: str | None, *, remember: bool = True) -> bool:
        """Loads a model (``None``/"" = default); on failure keeps the previous one and says why."""
        loaded = self.controller.load_model(spec)
        if loaded and remember:
            self.prefs.model = spec or ""
        return loaded

    def _on_model_changed(self) -> None:
        model = self.controller.model
        assert model is not None
        self.banner.hide()
        base = model.card.base_rate
        self.panel.set_model(model)
        self.compare.set_model(model)
        self.table.meter_delegate.base_rate = base
        self.panel.window_seconds = self.controller.options.window_seconds
        if self._card_dialog is not None:
            self._card_dialog.close()
            self._card_dialog = None
        self._refresh_selected()

    def _on_model_failed(self, error: str) -> None:
        if self.controller.model is None:
            self.banner_text.setText(f"No model loaded: {error} Choose one in the Model menu.")
            self.banner.show()

    def show_model_card(self, page: str = "model") -> ModelCardDialog:
        if self._card_dialog is None:
            model = self.controller.model
            card = model.card if model is not None else None
            stem = str(model.stem) if model is not None else ""
            self._card_dialog = ModelCardDialog(card, f"{stem}.onnx, .head.onnx, .json" if stem else "", self)
        self._card_dialog.open_page(page)
        self._card_dialog.show()
        self._card_dialog.raise_()
        return self._card_dialog

    def show_about(self) -> AboutDialog:
        """Help ▸ About: versions, the loaded model's data provenance and terms, third-party licences."""
        if self._about_dialog is not None:
            self._about_dialog.close()
        model = self.controller.model
        self._about_dialog = AboutDialog(model.card if model is not None else None, self)
        self._about_dialog.show()
        self._about_dialog.raise_()
        return self._about_dialog

    # ------------------------------------------------------------------------------------ adding files
    def add_paths(self, inputs: Iterable[str | Path]) -> list[Take]:
        """Adds files and folders as the user does (drop, dialog, command line): the first new take is
        shown when nothing is selected, and the paths go to the recent files."""
        paths = [Path(p) for p in inputs]
        if not paths:
            return []
        new = self.controller.add_paths(paths)
        if new and not self.table.has_selection():
            self.select_ids([new[0].id])
        self.prefs.add_recent([str(p.absolute()) for p in paths])
        self.prefs.last_folder = str(paths[-1].absolute().parent if paths[-1].is_file() else paths[-1].absolute())
        self._update_actions()
        return new

    @property
    def is_busy(self) -> bool:
        """Takes are waiting for the warm-up, queued or being analysed."""
        return self.controller.is_busy

    # ------------------------------------------------------------------------------------ the controller's signals
    def _on_take_streamed(self, take_id: int) -> None:
        take = self.controller.by_id(take_id)
        if take is not None and take is self.panel.take and take.detail is None:
            self.panel.show_stream(take)

    def _on_take_finished(self, take_id: int, had_result: bool) -> None:
        take = self.controller.by_id(take_id)
        if take is None:
            return
        if take is self.panel.take:
            self.panel.show_take(take)
        if take_id in self.compare.take_ids:
            if had_result:
                self.compare.update_take(take)
            else:
                self._refresh_compare()

    def _on_take_file_changed(self, take_id: int) -> None:
        if self.panel.take is not None and self.panel.take.id == take_id:
            self._refresh_selected()  # "missing" and Locate File…, or the take found again
        self._update_actions()

    def _on_takes_removed(self, ids: list[int]) -> None:
        if self.panel.take is not None and self.panel.take.id in ids:
            self.panel.show_take(None)
        self._refresh_selected()
        self._refresh_compare()
        self._update_actions()

    def _on_take_playback(self, take_id: int) -> None:
        self.transport.update_gains()
        take = self.controller.by_id(take_id)
        if take is not None and take is self.panel.take:
            self.panel.show_playback(take, force=False)

    def _on_playing(self, playing: bool) -> None:
        action = self.action_map["play"]
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        action.setIcon(self.style().standardIcon(icon))
        action.setIconText("Pause" if playing else "Play")

    # ------------------------------------------------------------------------------------ view updates
    def _update_actions(self) -> None:
        takes = self.controller.takes
        a = self.action_map
        a["cancel"].setEnabled(self.controller.is_busy)
        a["export"].setEnabled(bool(takes))
        a["save_session"].setEnabled(bool(takes))
        a["remove"].setEnabled(self.table.has_selection())
        a["clear"].setEnabled(bool(takes))
        a["compare"].setEnabled(sum(t.state == State.DONE for t in takes) >= 2)
        a["again"].setEnabled(bool(takes) and self.controller.model is not None)
        shown = self.table.shown_take()
        a["locate"].setEnabled(shown is not None and shown.missing)

    def selected_takes(self) -> list[Take]:
        return self.table.selected_takes()

    def shown_take(self) -> Take | None:
        return self.table.shown_take()

    def say(self, text: str) -> None:
        self.status.say(text)

    def select_ids(self, ids: Sequence[int]) -> None:
        """Selects the takes; the panel shows the first afresh also when they were selected already."""
        if not self.table.select_ids(ids):
            self._refresh_selected()

    def _selection_changed(self, *_args: object) -> None:
        self._refresh_selected()
        self._update_actions()
        if self.tabs.currentWidget() is self.compare:
            self._refresh_compare()

    def _refresh_selected(self) -> None:
        take = self.table.shown_take()
        self.panel.window_seconds = self.controller.options.window_seconds
        self.panel.show_take(take)
        if take is not None:
            self.controller.ensure_detail(take.id)
            self.transport.selected(take)
        self.readouts.update()

    def _refresh_compare(self) -> None:
        if self.tabs.currentWidget() is self.compare:
            selected = self.table.selected_takes()
            self.compare.show_takes(selected if len(selected) >= 2 else self.controller.takes)

    def show_take_tab(self) -> None:
        self.tabs.setCurrentWidget(self.panel)

    def show_compare(self) -> None:
        self.tabs.setCurrentWidget(self.compare)
        self._refresh_compare()

    def grab_png(self, path: Path, *, compare: bool = False) -> bool:
        """The whole window as a PNG (with ``compare``, showing the compare view: the headless check)."""
        if compare:
            self.show_compare()
            self.compare.settle(5_000)
        QApplication.processEvents()
        return bool(self.grab().save(str(path), "PNG"))

    def grab_compare_png(self, path: Path) -> bool:
        """The compare view alone as a PNG (File ▸ Export Compare View as PNG)."""
        self.show_compare()
        return self.compare.grab_png(path)

    # ------------------------------------------------------------------------------------ waiting and closing
    def wait_until_idle(self, timeout_ms: int = 600_000) -> bool:
        """Runs the event loop until no take waits, is queued or is analysed (for headless use and tests)."""
        return self.controller.wait_until_idle(timeout_ms)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.document.may_close():  # a changed session: saved, discarded, or the window stays
            event.ignore()
            return
        self.document.ask = False  # decided: a later close of the closed window asks nothing
        self.drops.remove()
        self.record_dock.shutdown()  # first: a take being recorded is finished on disk
        self.player.close()
        self.controller.shutdown(30_000)
        if self.persist:
            self.save_settings()
        for dialog in (self._card_dialog, self._about_dialog):
            if dialog is not None:
                dialog.close()
        super().closeEvent(event)
