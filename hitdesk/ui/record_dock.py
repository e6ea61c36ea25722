"""The record panel in the main window: a dock, a Record menu, and the list of recordings on disk.

``install`` is the one call the main window makes; everything about recording stays here, so the
window's own code only gains a line and a way to add a take that already has its result.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from hitdesk.capture.library import delete_recording, list_recordings, prune_recordings
from hitdesk.errors import CaptureError
from hitdesk.paths import recordings_dir
from hitdesk.ui import theme
from hitdesk.ui.record_panel import RECORD_KEYS, RecordPanel
from hitdesk.ui.takes import mmss

if TYPE_CHECKING:
    from hitdesk.capture.session import RecordedTake
    from hitdesk.ui.main_window import MainWindow

log = logging.getLogger(__name__)

RECORD_SHORTCUT = RECORD_KEYS
PANEL_SHORTCUT = "Ctrl+Shift+D"


class _CloseWatcher(QObject):
    """Finishes the take on disk when the window closes, before the window stops its own workers."""

    def __init__(self, panel: RecordPanel, parent: QObject) -> None:
        super().__init__(parent)
        self.panel = panel

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Close:
            self.panel.shutdown()
        return False


def install(win: MainWindow) -> RecordPanel:
    """Adds the record dock (hidden until asked for), its actions and the Record menu to ``win``."""
    panel = RecordPanel(win.prefs, lambda: win.model, lambda: win.options.window_seconds)
    dock = QDockWidget("Record", win)
    dock.setObjectName("record-dock")  # saveState/restoreState remember whether it is shown
    dock.setWidget(panel)
    dock.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea | Qt.DockWidgetArea.TopDockWidgetArea)
    win.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    dock.hide()

    def shown(visible: bool) -> None:
        if visible:
            panel.ensure_devices()  # PortAudio starts when the panel is first wanted, not at launch

    dock.visibilityChanged.connect(shown)
    win.record_dock = dock  # type: ignore[attr-defined]

    record = QAction("&Record / Stop", win)
    record.setShortcut(QKeySequence(RECORD_SHORTCUT))
    record.setToolTip(f"Record a take from the chosen input, or stop the take ({RECORD_SHORTCUT})")

    def toggle() -> None:
        dock.show()
        dock.raise_()
        panel.toggle_recording()

    record.triggered.connect(toggle)
    show = dock.toggleViewAction()
    show.setText("Show Record &Panel")
    show.setShortcut(QKeySequence(PANEL_SHORTCUT))
    recordings = QAction("Re&cordings…", win)
    recordings.setToolTip("The takes recorded so far, in the app's recordings folder")
    recordings.triggered.connect(lambda: show_recordings(win, panel))
    for action in (record, show, recordings):
        win.addAction(action)
    win.action_map.update({"record": record, "record_panel": show, "recordings": recordings})

    bar = win.menuBar()
    menu = bar.addMenu("&Record")
    menu.addActions([record, show])
    menu.addSeparator()
    menu.addAction(recordings)
    help_menu = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
    if help_menu is not None:  # the Record menu before Help, where menus usually end
        bar.removeAction(menu.menuAction())
        bar.insertAction(help_menu, menu.menuAction())

    panel.set_colour_map(win.prefs.colour_map)
    panel.set_db_range(win.prefs.db_range)
    win.panel.colour_map_changed.connect(panel.set_colour_map)
    win.panel.db_floor_changed.connect(panel.set_db_range)
    panel.take_recorded.connect(lambda take: _add_take(win, take))
    panel.add_files_requested.connect(win.add_paths)
    panel.recording_changed.connect(lambda on: record.setText("&Stop Recording" if on else "&Record / Stop"))
    win.installEventFilter(_CloseWatcher(panel, win))
    if win.persist:  # a real session, not a headless check: repair and offer takes cut off last time
        QTimer.singleShot(0, panel.check_recordings)
    return panel


def _add_take(win: MainWindow, take: RecordedTake) -> None:
    win.add_result(take.path, take.result, take.problems)


def show_recordings(win: MainWindow, panel: RecordPanel) -> RecordingsDialog:
    dialog: RecordingsDialog | None = getattr(win, "_recordings_dialog", None)
    if dialog is None:
        dialog = RecordingsDialog(win, panel)
        win._recordings_dialog = dialog  # type: ignore[attr-defined]
    dialog.refresh()
    dialog.show()
    dialog.raise_()
    return dialog


class RecordingsDialog(QDialog):
    """Takes in the recordings folder, newest first: add them to the list, show the folder, delete, prune."""

    def __init__(self, win: MainWindow, panel: RecordPanel) -> None:
        super().__init__(win)
        self.win = win
        self.panel = panel
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
        self.prune_days.setRange(0, 3650)
        self.prune_days.setSuffix(" days")
        self.prune_days.setSpecialValueText("never")
        self.prune_days.setValue(win.prefs.prune_days)
        self.prune_days.setToolTip("At start-up, delete takes recorded longer ago than this (never: keep them all)")
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
            self.win.add_paths(paths)
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
        self.win.prefs.prune_days = int(days)

    def prune_now(self) -> list[Path]:
        days = int(self.prune_days.value())
        if days <= 0:
            self.status.setText("Choose how many days to keep first.")
            return []
        removed = prune_recordings(days)
        self.refresh()
        self.status.setText(f"Deleted {len(removed)} take{'s' if len(removed) != 1 else ''} older than {days} days.")
        return removed
