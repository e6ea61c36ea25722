"""The record panel in the main window: a dock, its actions, the Record menu, the recordings on disk.

``RecordDock`` is a typed member of the window: it is made with what it needs (the preferences, the
controller that takes recorded takes in, a way to add files) rather than reaching into the window,
and the window calls ``shutdown`` when it closes, before the analysis stops, so a take being
recorded is finished on disk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenuBar,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hitdesk.capture.library import delete_recording, list_recordings, prune_recordings
from hitdesk.capture.session import RecordedTake
from hitdesk.errors import CaptureError
from hitdesk.paths import recordings_dir
from hitdesk.present import mmss
from hitdesk.settings_schema import setting
from hitdesk.ui import theme
from hitdesk.ui.controller import TakesController
from hitdesk.ui.record_panel import RECORD_KEYS, RecordPanel
from hitdesk.ui.settings import Preferences

log = logging.getLogger(__name__)

RECORD_SHORTCUT = RECORD_KEYS
PANEL_SHORTCUT = "Ctrl+Shift+D"
AddPaths = Callable[[Sequence[str | Path]], object]


class RecordDock(QDockWidget):
    """The record panel as a dock (hidden until asked for), with its three actions."""

    def __init__(
        self,
        window: QMainWindow,
        prefs: Preferences,
        controller: TakesController,
        add_paths: AddPaths,
        *,
        check_recordings: bool,
    ) -> None:
        super().__init__("Record", window)
        self.prefs = prefs
        self._add_paths = add_paths
        self.panel = RecordPanel(prefs, lambda: controller.model, lambda: controller.options.window_seconds)
        self.setObjectName("record-dock")  # saveState/restoreState remember whether it is shown
        self.setWidget(self.panel)
        self.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea | Qt.DockWidgetArea.TopDockWidgetArea)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self)
        self.hide()
        self.visibilityChanged.connect(self._shown)
        self._recordings_dialog: RecordingsDialog | None = None

        record = QAction("&Record / Stop", window)
        record.setShortcut(QKeySequence(RECORD_SHORTCUT))
        record.setToolTip(f"Record a take from the chosen input, or stop the take ({RECORD_SHORTCUT})")
        record.triggered.connect(self.toggle_recording)
        show = self.toggleViewAction()
        show.setText("Show Record &Panel")
        show.setShortcut(QKeySequence(PANEL_SHORTCUT))
        recordings = QAction("Re&cordings…", window)
        recordings.setToolTip("The takes recorded so far, in the app's recordings folder")
        recordings.triggered.connect(self.show_recordings)
        for action in (record, show, recordings):
            window.addAction(action)
        self.action_map = {"record": record, "record_panel": show, "recordings": recordings}

        panel = self.panel
        panel.set_colour_map(prefs.colour_map)
        panel.set_db_range(prefs.db_range)
        panel.take_recorded.connect(lambda take: self._take_recorded(controller, take))
        panel.add_files_requested.connect(add_paths)
        panel.recording_changed.connect(lambda on: record.setText("&Stop Recording" if on else "&Record / Stop"))
        if check_recordings:  # a real session, not a headless check: repair and offer takes cut off last time
            QTimer.singleShot(0, panel.check_recordings)

    def add_menu(self, bar: QMenuBar) -> None:
        """The Record menu, before Help, where menus usually end."""
        a = self.action_map
        menu = bar.addMenu("&Record")
        menu.addActions([a["record"], a["record_panel"]])
        menu.addSeparator()
        menu.addAction(a["recordings"])
        help_menu = next((x for x in bar.actions() if x.text().replace("&", "") == "Help"), None)
        if help_menu is not None:
            bar.removeAction(menu.menuAction())
            bar.insertAction(help_menu, menu.menuAction())

    def _shown(self, visible: bool) -> None:
        if visible:
            self.panel.ensure_devices()  # PortAudio starts when the panel is first wanted, not at launch

    def toggle_recording(self) -> None:
        self.show()
        self.raise_()
        self.panel.toggle_recording()

    @staticmethod
    def _take_recorded(controller: TakesController, take: RecordedTake) -> None:
        controller.add_result(take.path, take.result, take.problems)

    def show_recordings(self) -> RecordingsDialog:
        if self._recordings_dialog is None:
            self._recordings_dialog = RecordingsDialog(self.prefs, self._add_paths, self.parentWidget())
        dialog = self._recordings_dialog
        dialog.refresh()
        dialog.show()
        dialog.raise_()
        return dialog

    def shutdown(self) -> None:
        """The window is closing: the take being recorded is finished on disk (it stays in the recordings)."""
        self.panel.shutdown()


class RecordingsDialog(QDialog):
    """Takes in the recordings folder, newest first: add them to the list, show the folder, delete, prune."""

    def __init__(self, prefs: Preferences, add_paths: AddPaths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prefs = prefs
        self._add_paths = add_paths
        self.setWindowTitle("Recordings")
        self.resize(640, 380)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Recorded", "Length", "Size", "File"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _i: self.add_selected())
        self.folder = QLabel()
        self.folder.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        self.status = QLabel("")
        self.status.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        add = QPushButton("Add to Takes")
        add.clicked.connect(self.add_selected)
        open_folder = QPushButton("Open Folder")
        open_folder.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(recordings_dir()))))
        delete = QPushButton("Delete…")
        delete.clicked.connect(self._delete_clicked)
        buttons = QHBoxLayout()
        for b in (add, open_folder, delete):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.prune_days = QSpinBox()
        prune_setting = setting("record/pruneDays")
        self.prune_days.setRange(int(prune_setting.minimum or 0), int(prune_setting.maximum or 3650))
        self.prune_days.setSuffix(" days")
        self.prune_days.setSpecialValueText("never")
        self.prune_days.setValue(prefs.prune_days)
        self.prune_days.setToolTip(prune_setting.description)
        self.prune_days.valueChanged.connect(self._prune_changed)
        prune_now = QPushButton("Delete Old Takes Now")
        prune_now.clicked.connect(self.prune_now)
        prune = QHBoxLayout()
        prune.addWidget(QLabel("Delete takes older than"))
        prune.addWidget(self.prune_days)
        prune.addWidget(prune_now)
        prune.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.folder)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addLayout(prune)
        layout.addWidget(self.status)
        self.paths: list[Path] = []

    def refresh(self) -> None:
        self.folder.setText(f"In {recordings_dir()}")
        try:
            recs = list_recordings()
        except OSError as exc:
            self.status.setText(f"The recordings folder cannot be read ({exc.strerror or exc}).")
            recs = []
        self.paths = [r.path for r in recs]
        self.table.setRowCount(len(recs))
        for row, r in enumerate(recs):
            length = mmss(r.duration_s) if r.duration_s is not None else "?"
            cells = [
                r.started.strftime("%Y-%m-%d %H:%M:%S"),
                length + (" (recording)" if r.in_progress else ""),
                f"{r.size_bytes / 1e6:.1f} MB",
                r.path.name,
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(str(r.path))
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)

    def selected_paths(self) -> list[Path]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.paths[r] for r in rows if 0 <= r < len(self.paths)]

    def add_selected(self) -> None:
        paths = self.selected_paths()
        if paths:
            self._add_paths(paths)
            self.status.setText(f"{len(paths)} take{'s' if len(paths) != 1 else ''} added to the list.")

    def _delete_clicked(self) -> None:
        paths = self.selected_paths()
        if not paths:
            return
        names = ", ".join(p.name for p in paths[:3]) + ("…" if len(paths) > 3 else "")
        answer = QMessageBox.question(self, "Delete recordings", f"Delete {names} from the disk?")
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_paths(paths)

    def delete_paths(self, paths: list[Path]) -> None:
        problems = []
        for p in paths:
            try:
                delete_recording(p)
            except CaptureError as exc:
                problems.append(str(exc))
        self.refresh()
        self.status.setText(problems[0] if problems else f"Deleted {len(paths)} take{'s' if len(paths) != 1 else ''}.")

    def _prune_changed(self, days: int) -> None:
        self.prefs.prune_days = int(days)

    def prune_now(self) -> list[Path]:
        days = int(self.prune_days.value())
        if days <= 0:
            self.status.setText("Choose how many days to keep first.")
            return []
        removed = prune_recordings(days)
        self.refresh()
        self.status.setText(f"Deleted {len(removed)} take{'s' if len(removed) != 1 else ''} older than {days} days.")
        return removed
