"""The window's commands: actions with their shortcuts, menus, toolbar, and the dialogs they open.

Kept out of ``main_window.py`` so that module holds the window's state and reactions only. Every
command here ends in a method of the window that tests call directly (``add_paths``,
``export_results``, ``save_session_to``…); the dialogs only ask for a path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QMessageBox, QSizePolicy, QStyle, QToolBar, QWidget

from hitdesk.model.runtime import available_models, resolve_model_path
from hitdesk.ui.session import SESSION_SUFFIX, SessionError
from hitdesk.ui.settings import PreferencesDialog

if TYPE_CHECKING:
    from hitdesk.ui.main_window import MainWindow

AUDIO_FILTER = (
    "Audio files (*.wav *.wave *.aif *.aiff *.aifc *.flac *.ogg *.oga *.opus *.mp3 *.m4a *.mp4 *.aac *.wma "
    "*.webm *.mka *.caf *.w64);;All files (*)"
)
OTHER_MODEL = "__other__"
SP = QStyle.StandardPixmap
Key = QKeySequence.StandardKey


@dataclass(frozen=True)
class Command:
    name: str
    text: str
    run: Callable[[MainWindow], object]
    shortcut: QKeySequence.StandardKey | str | None = None
    icon: QStyle.StandardPixmap | None = None
    tip: str | None = None
    toolbar: str | None = None  # short text when the action is on the toolbar
    checkable: bool = False


COMMANDS: tuple[Command, ...] = (
    Command(
        "open",
        "&Open Files…",
        lambda w: open_files_dialog(w),
        Key.Open,
        SP.SP_DialogOpenButton,
        "Add audio files (Ctrl+O)",
        "Open",
    ),
    Command(
        "open_folder",
        "Open &Folder…",
        lambda w: open_folder_dialog(w),
        "Ctrl+Shift+O",
        SP.SP_DirOpenIcon,
        "Add every audio file in a folder (Ctrl+Shift+O)",
        "Folder",
    ),
    Command("open_session", "Open &Session…", lambda w: open_session_dialog(w), "Ctrl+Shift+S"),
    Command(
        "save_session",
        "&Save Session…",
        lambda w: save_session_dialog(w),
        Key.Save,
        SP.SP_DialogSaveButton,
        "Save the takes with their results and notes (Ctrl+S)",
    ),
    Command(
        "export",
        "&Export Results…",
        lambda w: export_dialog(w),
        "Ctrl+E",
        SP.SP_FileDialogDetailedView,
        "Export all results as CSV or JSON (Ctrl+E)",
        "Export",
    ),
    Command("export_png", "Export Window as &PNG…", lambda w: export_png_dialog(w, compare=False), "Ctrl+Shift+E"),
    Command("export_compare_png", "Export &Compare View as PNG…", lambda w: export_png_dialog(w, compare=True)),
    Command("quit", "&Quit", lambda w: w.close(), Key.Quit),
    Command(
        "remove",
        "&Remove Selected Takes",
        lambda w: w.remove_selected(),
        Key.Delete,
        SP.SP_TrashIcon,
        "Remove the selected takes from the list (Del)",
    ),
    Command("clear", "Remove &All Takes", lambda w: w.clear_all()),
    Command("prefs", "&Preferences…", lambda w: preferences_dialog(w), "Ctrl+,"),
    Command(
        "compare",
        "&Compare Selected",
        lambda w: w.show_compare(),
        "Ctrl+K",
        SP.SP_FileDialogListView,
        "Compare the selected takes side by side (Ctrl+K)",
        "Compare",
    ),
    Command("take", "Show Selected &Take", lambda w: w.show_take_tab(), "Ctrl+T"),
    Command(
        "cancel",
        "&Cancel Analysis",
        lambda w: w.cancel_all(),
        "Esc",
        SP.SP_BrowserStop,
        "Stop analysing (Esc)",
        "Cancel",
    ),
    Command(
        "again",
        "Analyse &Again",
        lambda w: w.reanalyse_selected(),
        "Ctrl+R",
        SP.SP_BrowserReload,
        "Analyse the selected takes again (Ctrl+R)",
    ),
    Command(
        "card",
        "Model &Card…",
        lambda w: w.show_model_card("model"),
        "Ctrl+I",
        SP.SP_MessageBoxInformation,
        "What the model is: its data, metrics and caveats (Ctrl+I)",
        "Model card",
    ),
    Command("explain", "&What the Numbers Mean", lambda w: w.show_model_card("explain"), Key.HelpContents),
    Command("model_file", "Load Model from &File…", lambda w: model_file_dialog(w)),
    Command("about", "&About HitDesk", lambda w: about(w)),
    Command(
        "play",
        "&Play / Pause",
        lambda w: w.toggle_play(),
        "Space",
        SP.SP_MediaPlay,
        "Play the selected take from the playhead; select another take to switch at the same place (Space)",
        "Play",
    ),
    Command("back", "Back 5 Seconds", lambda w: w.seek_by(-5.0), "Left"),
    Command("forward", "Forward 5 Seconds", lambda w: w.seek_by(5.0), "Right"),
    Command(
        "match",
        "Match &Loudness",
        lambda w: w.update_gains(),
        "Ctrl+L",
        tip="Play every take at the same integrated loudness, so the louder one does not simply sound better",
        toolbar="Match loudness",
        checkable=True,
    ),
)


def build_actions(win: MainWindow) -> dict[str, QAction]:
    actions = {}
    for c in COMMANDS:
        action = QAction(c.text, win)
        if c.icon is not None:
            action.setIcon(win.style().standardIcon(c.icon))
        if c.shortcut is not None:
            action.setShortcut(QKeySequence(c.shortcut))
        if c.tip:
            action.setToolTip(c.tip)
            action.setStatusTip(c.tip)
        if c.toolbar:
            action.setIconText(c.toolbar)
        action.setCheckable(c.checkable)
        action.triggered.connect(lambda _checked=False, run=c.run: run(win))
        win.addAction(action)  # shortcuts work wherever the focus is in the window
        actions[c.name] = action
    return actions


def build_menus(win: MainWindow, a: dict[str, QAction]) -> None:
    bar = win.menuBar()
    m = bar.addMenu("&File")
    m.addActions([a["open"], a["open_folder"]])
    recent = m.addMenu("Open &Recent")
    recent.aboutToShow.connect(lambda: fill_recent(win, recent))
    m.addSeparator()
    m.addActions([a["open_session"], a["save_session"]])
    m.addSeparator()
    m.addActions([a["export"], a["export_png"], a["export_compare_png"]])
    m.addSeparator()
    m.addAction(a["quit"])
    m = bar.addMenu("&Edit")
    m.addActions([a["remove"], a["clear"]])
    m.addSeparator()
    m.addAction(a["prefs"])
    m = bar.addMenu("&Analysis")
    m.addActions([a["compare"], a["take"]])
    m.addSeparator()
    m.addActions([a["again"], a["cancel"]])
    m = bar.addMenu("&Playback")
    m.addActions([a["play"], a["back"], a["forward"]])
    m.addSeparator()
    m.addAction(a["match"])
    models = bar.addMenu("&Model")
    models.aboutToShow.connect(lambda: fill_model_menu(win, models, a))
    m = bar.addMenu("&Help")
    m.addActions([a["explain"], a["card"]])
    m.addSeparator()
    m.addAction(a["about"])


def build_toolbar(win: MainWindow, a: dict[str, QAction]) -> tuple[QComboBox, QLabel]:
    tb = QToolBar("Main")
    tb.setObjectName("main-toolbar")
    tb.setMovable(False)
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    tb.addActions([a["open"], a["open_folder"]])
    tb.addSeparator()
    tb.addActions([a["compare"], a["cancel"], a["export"]])
    tb.addSeparator()
    tb.addAction(a["play"])
    position = QLabel("–:–– / –:––")
    position.setToolTip("Playback position of the selected take")
    position.setMinimumWidth(90)
    tb.addWidget(position)
    tb.addAction(a["match"])
    spacer = QWidget()
    spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    tb.addWidget(spacer)
    tb.addWidget(QLabel("Model "))
    combo = QComboBox()
    combo.setMinimumContentsLength(16)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    combo.setAccessibleName("Model")
    combo.setToolTip("The model that scores the takes")
    tb.addWidget(combo)
    tb.addAction(a["card"])
    win.addToolBar(tb)
    return combo, position


def fill_recent(win: MainWindow, menu: object) -> None:
    from PySide6.QtWidgets import QMenu

    assert isinstance(menu, QMenu)
    menu.clear()
    if not win.prefs.recent_files:
        menu.addAction("(none)").setEnabled(False)
        return
    for p in win.prefs.recent_files:
        menu.addAction(p).triggered.connect(lambda _checked=False, path=p: win.add_paths([path]))
    menu.addSeparator()
    menu.addAction("Clear Recent").triggered.connect(win.prefs.recent_files.clear)


def fill_model_menu(win: MainWindow, menu: object, a: dict[str, QAction]) -> None:
    from PySide6.QtWidgets import QMenu

    assert isinstance(menu, QMenu)
    menu.clear()
    group = QActionGroup(menu)
    current = win.model.stem.name if win.model is not None else None
    for name in available_models():
        act = menu.addAction(name)
        act.setCheckable(True)
        act.setChecked(name == current)
        group.addAction(act)
        act.triggered.connect(lambda _checked=False, n=name: choose_model(win, n))
    menu.addSeparator()
    menu.addActions([a["model_file"], a["card"], a["explain"]])


def fill_model_combo(win: MainWindow, combo: QComboBox) -> None:
    combo.blockSignals(True)
    combo.clear()
    names = available_models()
    current = win.model.stem if win.model is not None else None
    for name in names:
        combo.addItem(name, name)
    if current is not None and current.name not in names:
        combo.addItem(current.name, str(current))
    combo.addItem("Other model file…", OTHER_MODEL)
    combo.setCurrentIndex(combo.findText(current.name) if current is not None else -1)
    combo.blockSignals(False)


def model_combo_activated(win: MainWindow, combo: QComboBox, index: int) -> None:
    data = str(combo.itemData(index))
    if data == OTHER_MODEL:
        fill_model_combo(win, combo)  # back to the current model until a file is chosen
        model_file_dialog(win)
    elif win.model is None or data not in (win.model.stem.name, str(win.model.stem)):
        choose_model(win, data)


def choose_model(win: MainWindow, spec: str) -> None:
    if not win.load_model(spec):
        QMessageBox.warning(win, "Model not loaded", win.model_error or "The model could not be loaded.")


def model_file_dialog(win: MainWindow) -> None:
    path, _ = QFileDialog.getOpenFileName(
        win, "Load model", win.prefs.last_folder, "HitDesk models (*.onnx *.json);;All files (*)"
    )
    if path:
        choose_model(win, str(resolve_model_path(path)))


def open_files_dialog(win: MainWindow) -> None:
    files, _ = QFileDialog.getOpenFileNames(win, "Open audio files", win.prefs.last_folder, AUDIO_FILTER)
    if files:
        win.add_paths(files)


def open_folder_dialog(win: MainWindow) -> None:
    folder = QFileDialog.getExistingDirectory(win, "Open folder", win.prefs.last_folder)
    if folder:
        win.add_paths([folder])


def _start(win: MainWindow, name: str) -> str:
    return str(Path(win.prefs.last_folder or Path.home()) / name)


def export_dialog(win: MainWindow) -> None:
    path, chosen = QFileDialog.getSaveFileName(
        win, "Export results", _start(win, "hitdesk-results.csv"), "CSV (*.csv);;JSON (*.json)"
    )
    if not path:
        return
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".json"):
        p = p.with_suffix(".json" if "json" in chosen.lower() else ".csv")
    try:
        win.export_results(p)
    except OSError as exc:
        QMessageBox.warning(win, "Export failed", f"Cannot write '{p.name}': {exc.strerror or exc}.")


def export_png_dialog(win: MainWindow, *, compare: bool) -> None:
    name = "hitdesk-compare.png" if compare else "hitdesk.png"
    path, _ = QFileDialog.getSaveFileName(win, "Export PNG", _start(win, name), "PNG image (*.png)")
    if path:
        p = Path(path).with_suffix(".png")
        if not win.grab_png(p, compare=compare):
            QMessageBox.warning(win, "Export failed", f"Cannot write '{p.name}'.")


def save_session_dialog(win: MainWindow) -> None:
    path, _ = QFileDialog.getSaveFileName(
        win, "Save session", _start(win, f"takes{SESSION_SUFFIX}"), f"HitDesk sessions (*{SESSION_SUFFIX} *.json)"
    )
    if not path:
        return
    p = Path(path)
    if not p.name.endswith(".json"):
        p = p.with_name(p.name + SESSION_SUFFIX)
    try:
        win.save_session_to(p)
    except OSError as exc:
        QMessageBox.warning(win, "Session not saved", f"Cannot write '{p.name}': {exc.strerror or exc}.")


def open_session_dialog(win: MainWindow) -> None:
    path, _ = QFileDialog.getOpenFileName(
        win, "Open session", win.prefs.last_folder, f"HitDesk sessions (*{SESSION_SUFFIX} *.json);;All files (*)"
    )
    if not path:
        return
    try:
        win.open_session_from(Path(path))
    except SessionError as exc:
        QMessageBox.warning(win, "Session not opened", str(exc))


def preferences_dialog(win: MainWindow) -> None:
    card_window = win.model.card.window_seconds if win.model is not None else None
    dialog = PreferencesDialog(win.prefs, card_window, win)
    if dialog.exec() != PreferencesDialog.DialogCode.Accepted:
        return
    before = win.options
    dialog.apply_to(win.prefs)
    win.analyser.set_workers(win.prefs.workers)
    if win.options != before:
        win.reanalyse(win.takes.takes)


def about(win: MainWindow) -> None:
    win.show_about()
