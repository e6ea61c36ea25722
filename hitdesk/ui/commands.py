"""The window's commands: actions with their shortcuts, menus and toolbar.

Kept out of ``main_window.py`` so that module builds and wires the views only. The commands do not
see the window: they get a ``CommandContext`` (``command_context.py``): the controller (every change
to the takes, the model and the analysis goes through it), the preferences, the playback transport
and the few view actions a command needs (``CommandView``: the selection, the tabs, dialogs, a
picture of the window). The file dialogs they open are ``file_dialogs.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QSizePolicy,
    QStyle,
    QToolBar,
    QWidget,
)

from hitdesk.model.runtime import available_models, resolve_model_path
from hitdesk.ui import file_dialogs, lyrics_dialog, report_export, tonal_targets
from hitdesk.ui.ab_bar import add_hear_as_menu
from hitdesk.ui.command_context import CommandContext
from hitdesk.ui.controller import TakesController
from hitdesk.ui.settings import PreferencesDialog
from hitdesk.ui.takes import missing_sentence

log = logging.getLogger(__name__)

OTHER_MODEL = "__other__"
SP = QStyle.StandardPixmap
Key = QKeySequence.StandardKey


@dataclass(frozen=True)
class Command:
    name: str
    text: str
    run: Callable[[CommandContext], object]
    shortcut: QKeySequence.StandardKey | str | None = None
    icon: QStyle.StandardPixmap | None = None
    tip: str | None = None
    toolbar: str | None = None  # short text when the action is on the toolbar
    checkable: bool = False


COMMANDS: tuple[Command, ...] = (
    Command(
        "open",
        "&Open Files…",
        lambda c: file_dialogs.open_files_dialog(c),
        Key.Open,
        SP.SP_DialogOpenButton,
        "Add audio files (Ctrl+O)",
        "Open",
    ),
    Command(
        "open_folder",
        "Open &Folder…",
        lambda c: file_dialogs.open_folder_dialog(c),
        "Ctrl+Shift+O",
        SP.SP_DirOpenIcon,
        "Add every audio file in a folder (Ctrl+Shift+O)",
        "Folder",
    ),
    Command("open_session", "Open &Session…", lambda c: file_dialogs.open_session_dialog(c), "Ctrl+Shift+S"),
    Command(
        "save_session",
        "&Save Session…",
        lambda c: file_dialogs.save_session_dialog(c),
        Key.Save,
        SP.SP_DialogSaveButton,
        "Save the takes with their results and notes (Ctrl+S)",
    ),
    Command(
        "export",
        "&Export Results…",
        lambda c: file_dialogs.export_dialog(c),
        "Ctrl+E",
        SP.SP_FileDialogDetailedView,
        "Export all results as CSV or JSON (Ctrl+E)",
        "Export",
    ),
    Command("export_report", "Export &Report (PDF)…", lambda c: report_export.export_report_dialog(c)),
    Command(
        "export_png",
        "Export Window as &PNG…",
        lambda c: file_dialogs.export_png_dialog(c, compare=False),
        "Ctrl+Shift+E",
    ),
    Command(
        "export_compare_png", "Export &Compare View as PNG…", lambda c: file_dialogs.export_png_dialog(c, compare=True)
    ),
    Command("quit", "&Quit", lambda c: c.window.close(), Key.Quit),
    Command(
        "remove",
        "&Remove Selected Takes",
        lambda c: remove_selected(c),
        Key.Delete,
        SP.SP_TrashIcon,
        "Remove the selected takes from the list (Del)",
    ),
    Command("clear", "Remove &All Takes", lambda c: c.controller.clear()),
    Command("prefs", "&Preferences…", lambda c: preferences_dialog(c), "Ctrl+,"),
    Command(
        "compare",
        "&Compare Selected",
        lambda c: c.view.show_compare(),
        "Ctrl+K",
        SP.SP_FileDialogListView,
        "Compare the selected takes side by side (Ctrl+K)",
        "Compare",
    ),
    Command("take", "Show Selected &Take", lambda c: c.view.show_take_tab(), "Ctrl+T"),
    Command(
        "cancel",
        "&Cancel Analysis",
        lambda c: c.controller.cancel_all(),
        "Esc",
        SP.SP_BrowserStop,
        "Stop analysing (Esc)",
        "Cancel",
    ),
    Command(
        "lyrics",
        "&Lyrics…",
        lambda c: lyrics_dialog.lyrics_dialog(c),
        None,
        None,
        "Paste the selected take's lyrics, for models that take lyrics",
    ),
    Command(
        "again",
        "Analyse &Again",
        lambda c: reanalyse_selected(c),
        "Ctrl+R",
        SP.SP_BrowserReload,
        "Analyse the selected takes again (Ctrl+R)",
    ),
    Command(
        "locate",
        "&Locate File…",
        lambda c: file_dialogs.locate_dialog(c),
        tip="The selected take's file is missing: find it where it is now (the take keeps its scores)",
    ),
    Command(
        "card",
        "Model &Card…",
        lambda c: c.view.show_model_card("model"),
        "Ctrl+I",
        SP.SP_MessageBoxInformation,
        "What the model is: its data, metrics and caveats (Ctrl+I)",
        "Model card",
    ),
    Command(
        "target_takes",
        "Tonal Target from Selected &Takes…",
        lambda c: tonal_targets.target_from_selected(c),
        tip="A tonal target from the selected takes as references: their envelopes' median and middle 80%",
    ),
    Command(
        "target_files",
        "Tonal Target from &Files…",
        lambda c: tonal_targets.target_from_files(c, folder=False),
        tip="A tonal target from reference files (analysed first, or read from the result cache)",
    ),
    Command(
        "target_folder",
        "Tonal Target from F&older…",
        lambda c: tonal_targets.target_from_files(c, folder=True),
        tip="A tonal target from every audio file in a folder (analysed first, or read from the result cache)",
    ),
    Command("explain", "&What the Numbers Mean", lambda c: c.view.show_model_card("explain"), Key.HelpContents),
    Command("model_file", "Load Model from &File…", lambda c: model_file_dialog(c)),
    Command("about", "&About HitDesk", lambda c: c.view.show_about()),
    Command(
        "play",
        "&Play / Pause",
        lambda c: play(c),
        "Space",
        SP.SP_MediaPlay,
        "Play the selected take from the playhead; select another take to switch at the same place (Space)",
        "Play",
    ),
    Command(
        "ab",
        "&A/B with Reference",
        lambda c: c.transport.ab.toggle(),
        "B",
        tip="Switch between the shown take and its reference at the same musical moment, level-matched (B)",
    ),
    Command("back", "Back 5 Seconds", lambda c: c.transport.seek_by(-5.0), "Left"),
    Command("forward", "Forward 5 Seconds", lambda c: c.transport.seek_by(5.0), "Right"),
    Command(
        "match",
        "Match &Loudness",
        lambda c: c.transport.update_gains(),
        "Ctrl+L",
        tip="Play every take at the same integrated loudness, so the louder one does not simply sound better",
        toolbar="Match loudness",
        checkable=True,
    ),
)


def build_actions(c: CommandContext) -> dict[str, QAction]:
    win = c.window
    actions = {}
    for cmd in COMMANDS:
        action = QAction(cmd.text, win)
        action.setObjectName(cmd.name)  # found by name where a view offers the same command
        if cmd.icon is not None:
            action.setIcon(win.style().standardIcon(cmd.icon))
        if cmd.shortcut is not None:
            action.setShortcut(QKeySequence(cmd.shortcut))
        if cmd.tip:
            action.setToolTip(cmd.tip)
            action.setStatusTip(cmd.tip)
        if cmd.toolbar:
            action.setIconText(cmd.toolbar)
        action.setCheckable(cmd.checkable)
        action.triggered.connect(lambda _checked=False, run=cmd.run: run(c))
        win.addAction(action)  # shortcuts work wherever the focus is in the window
        actions[cmd.name] = action
    return actions


def build_menus(c: CommandContext, a: dict[str, QAction]) -> None:
    bar = c.window.menuBar()
    m = bar.addMenu("&File")
    m.addActions([a["open"], a["open_folder"]])
    recent = m.addMenu("Open &Recent")
    recent.aboutToShow.connect(lambda: fill_recent(c, recent))
    m.addSeparator()
    m.addActions([a["open_session"], a["save_session"]])
    m.addSeparator()
    m.addActions([a["export"], a["export_report"], a["export_png"], a["export_compare_png"]])
    m.addSeparator()
    m.addAction(a["quit"])
    m = bar.addMenu("&Edit")
    m.addActions([a["remove"], a["clear"]])
    m.addSeparator()
    m.addAction(a["prefs"])
    m = bar.addMenu("&Analysis")
    m.addActions([a["compare"], a["take"]])
    m.addSeparator()
    m.addActions([a["again"], a["cancel"], a["locate"], a["lyrics"]])
    m.addSeparator()
    m.addActions([a[name] for name in tonal_targets.NEW_TARGET_ACTIONS])
    m = bar.addMenu("&Playback")
    m.addActions([a["play"], a["ab"], a["back"], a["forward"]])
    m.addSeparator()
    m.addAction(a["match"])
    add_hear_as_menu(m, c.transport.ab)
    models = bar.addMenu("&Model")
    models.aboutToShow.connect(lambda: fill_model_menu(c, models, a))
    m = bar.addMenu("&Help")
    m.addActions([a["explain"], a["card"]])
    m.addSeparator()
    m.addAction(a["about"])


def build_toolbar(c: CommandContext, a: dict[str, QAction]) -> tuple[QComboBox, QLabel]:
    """The toolbar; returns the model chooser (filled as the model changes) and the position label."""
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
    c.window.addToolBar(tb)
    combo.activated.connect(lambda i: model_combo_activated(c, combo, i))
    refill = lambda *_args: fill_model_combo(c.controller, combo)  # noqa: E731
    c.controller.model_changed.connect(refill)
    c.controller.model_failed.connect(refill)
    return combo, position


def fill_recent(c: CommandContext, menu: QMenu) -> None:
    menu.clear()
    if not c.prefs.recent_files:
        menu.addAction("(none)").setEnabled(False)
        return
    for p in c.prefs.recent_files:
        menu.addAction(p).triggered.connect(lambda _checked=False, path=p: c.view.add_paths([path]))
    menu.addSeparator()
    menu.addAction("Clear Recent").triggered.connect(c.prefs.recent_files.clear)


def fill_model_menu(c: CommandContext, menu: QMenu, a: dict[str, QAction]) -> None:
    menu.clear()
    group = QActionGroup(menu)
    model = c.controller.model
    current = model.stem.name if model is not None else None
    for name in available_models():
        act = menu.addAction(name)
        act.setCheckable(True)
        act.setChecked(name == current)
        group.addAction(act)
        act.triggered.connect(lambda _checked=False, n=name: choose_model(c, n))
    menu.addSeparator()
    menu.addActions([a["model_file"], a["card"], a["explain"]])


def fill_model_combo(controller: TakesController, combo: QComboBox) -> None:
    combo.blockSignals(True)
    combo.clear()
    names = available_models()
    current = controller.model.stem if controller.model is not None else None
    for name in names:
        combo.addItem(name, name)
    if current is not None and current.name not in names:
        combo.addItem(current.name, str(current))
    combo.addItem("Other model file…", OTHER_MODEL)
    combo.setCurrentIndex(combo.findText(current.name) if current is not None else -1)
    combo.blockSignals(False)


def model_combo_activated(c: CommandContext, combo: QComboBox, index: int) -> None:
    data = str(combo.itemData(index))
    model = c.controller.model
    if data == OTHER_MODEL:
        fill_model_combo(c.controller, combo)  # back to the current model until a file is chosen
        model_file_dialog(c)
    elif model is None or data not in (model.stem.name, str(model.stem)):
        choose_model(c, data)


def choose_model(c: CommandContext, spec: str) -> None:
    """A model the user chose: loaded, remembered for the next start; or a warning saying why not."""
    if c.controller.load_model(spec):
        c.prefs.model = spec
    else:
        QMessageBox.warning(c.window, "Model not loaded", c.controller.model_error or "The model could not be loaded.")


def model_file_dialog(c: CommandContext) -> None:
    path, _ = QFileDialog.getOpenFileName(
        c.window, "Load model", c.prefs.last_folder, "HitDesk models (*.onnx *.json);;All files (*)"
    )
    if path:
        choose_model(c, str(resolve_model_path(path)))


def play(c: CommandContext) -> None:
    """Play / Pause; a take whose file is missing says so instead of doing nothing."""
    take = c.view.shown_take()
    missing = c.controller.check_files([take]) if take is not None else []
    if missing:
        c.view.say(missing_sentence(missing, "played"))
        return
    c.transport.toggle_play()


def remove_selected(c: CommandContext) -> None:
    c.controller.remove_ids({t.id for t in c.view.selected_takes()})


def reanalyse_selected(c: CommandContext) -> None:
    """The selected takes; with none selected, those that were cancelled or failed."""
    c.controller.reanalyse(c.view.selected_takes() or c.controller.unfinished_takes())


def preferences_dialog(c: CommandContext) -> None:
    model = c.controller.model
    card_window = model.card.window_seconds if model is not None else None
    dialog = PreferencesDialog(c.prefs, card_window, c.window)
    if dialog.exec() != PreferencesDialog.DialogCode.Accepted:
        return
    before = c.controller.options
    dialog.apply_to(c.prefs)  # the controller reads its options from these preferences
    c.controller.set_workers(c.prefs.workers)
    if c.controller.options != before:
        c.controller.reanalyse(c.controller.takes)
