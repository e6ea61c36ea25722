"""The user's own tonal targets in the app: choosing one beside "chart hits", and making new ones.

``TonalTargetBar`` sits above the tonal balance view: a list of "chart hits" and the targets stored
in the data folder (hitdesk.explain.targets), read again whenever the list opens, and a "New
target" button whose menu holds the two commands that make one, as in Tonal Balance Control:

- from the selected takes (the references marked in the list), from their analysed envelopes;
- from files or a folder, analysed off the GUI thread (through the result cache) first.

The commands are ``Command`` entries in ``commands.py`` (Analysis menu) that call the functions
here with the ``CommandContext``; a target made is selected in every bar of the window.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hitdesk.analysis import AnalysisOptions
from hitdesk.explain.targets import TargetError, TonalTarget, load_targets, save_target, target_from_results
from hitdesk.model.runtime import HitModel
from hitdesk.results import TrackResult
from hitdesk.ui import theme
from hitdesk.ui.command_context import CommandContext
from hitdesk.ui.file_dialogs import AUDIO_FILTER

log = logging.getLogger(__name__)

CHART_HITS = "chart hits"
NEW_TARGET_ACTIONS = ("target_takes", "target_files", "target_folder")  # Command names, in the button's menu


class TargetCombo(QComboBox):
    """Reads the targets folder again each time the list opens (a target may have been made elsewhere)."""

    about_to_open = Signal()

    def showPopup(self) -> None:  # noqa: N802 - Qt's name
        self.about_to_open.emit()
        super().showPopup()


class TonalTargetBar(QWidget):
    target_chosen = Signal(object)  # TonalTarget, or None for the chart hits

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.targets: list[TonalTarget] = []
        label = QLabel("Against:")
        self.combo = TargetCombo()
        self.combo.setAccessibleName("Tonal target")
        self.combo.setToolTip("Compare the take's tonal balance with the chart hits or with one of your own targets")
        self.combo.about_to_open.connect(self.reload)
        self.combo.currentIndexChanged.connect(self._chosen)
        self.new = QToolButton()
        self.new.setText("New target")
        self.new.setToolTip("Make a target from reference takes: the selected takes, or files or a folder")
        self.new.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.new.setMenu(QMenu(self.new))
        self.new.menu().aboutToShow.connect(self._fill_menu)
        self.problems = QLabel("")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(f"color: {theme.WARNING_COLOUR.name()};")
        self.problems.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(label)
        row.addWidget(self.combo, 1)
        row.addWidget(self.new)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.problems)
        self.reload()

    def chosen(self) -> TonalTarget | None:
        name = self.combo.currentData()
        return next((t for t in self.targets if t.name == name), None)

    def reload(self, select: str | None = None) -> None:
        """The list again from the targets folder, keeping the choice (or choosing ``select``)."""
        keep = select if select is not None else self.combo.currentData()
        self.targets, problems = load_targets()
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(CHART_HITS, CHART_HITS)
        for t in self.targets:
            self.combo.addItem(f"{t.name} ({len(t.sources)} takes)", t.name)
        index = self.combo.findData(keep)
        self.combo.setCurrentIndex(max(index, 0))
        self.combo.blockSignals(False)
        self._chosen()

    def _chosen(self) -> None:
        self.target_chosen.emit(self.chosen())

    def _fill_menu(self) -> None:
        menu = self.new.menu()
        menu.clear()
        window = self.window()
        for name in NEW_TARGET_ACTIONS:
            action = window.findChild(QAction, name)
            if action is not None:
                menu.addAction(action)


def _ask_name(c: CommandContext, count: int) -> str | None:
    name, ok = QInputDialog.getText(c.window, "New tonal target", f"Name of the target made from {count} takes:")
    return name if ok and name.strip() else None


def _made(c: CommandContext, target: TonalTarget) -> None:
    try:
        path = save_target(target)
    except OSError as exc:
        c.view.say(f"Cannot save the tonal target '{target.name}': {exc.strerror or exc}.")
        return
    log.info("tonal target %r saved to %s", target.name, path)
    for bar in c.window.findChildren(TonalTargetBar):
        bar.reload(select=target.name)
    c.view.say(f"Tonal target '{target.name}' made from {len(target.sources)} takes.")


def target_from_selected(c: CommandContext) -> None:
    """The selected takes as references (those with a tonal balance); the status bar says what happened."""
    takes = c.view.selected_takes()
    if not takes:
        c.view.say("Select the reference takes in the list first.")
        return
    name = _ask_name(c, len(takes))
    if name is None:
        return
    try:
        target = target_from_results(name, [(t.name, t.result) for t in takes])
    except TargetError as exc:
        c.view.say(str(exc))
        return
    _made(c, target)


class _BuildSignals(QObject):
    done = Signal(object, str)  # TonalTarget or None, sentence


class _BuildJob(QRunnable):
    """Analyses the reference files (the result cache answers for those analysed before) off the GUI thread."""

    def __init__(
        self, name: str, inputs: Sequence[str], model: HitModel, options: AnalysisOptions, signals: _BuildSignals
    ) -> None:
        super().__init__()
        self.name, self.inputs, self.model, self.options, self.signals = name, inputs, model, options, signals

    def run(self) -> None:
        from hitdesk.audio import InputProblem, expand_inputs
        from hitdesk.cache import analyze_cached

        results: list[tuple[str, TrackResult | None]] = []
        try:
            for item in expand_inputs(self.inputs):
                if not isinstance(item, InputProblem):
                    results.append((item.name, analyze_cached(item, self.model, self.options)))
            self.signals.done.emit(target_from_results(self.name, results), "")
        except TargetError as exc:
            self.signals.done.emit(None, str(exc))
        except Exception as exc:  # one sentence in the status bar; the log has the rest
            log.exception("making the tonal target %r failed", self.name)
            self.signals.done.emit(None, f"Cannot make the tonal target '{self.name}': {exc}")


class TargetBuilder(QObject):
    """At most one target made from files at a time; ``finished`` when it is saved (or why not)."""

    finished = Signal(str)  # the sentence the status bar showed

    def __init__(self, c: CommandContext) -> None:
        super().__init__(c.window)
        self.c = c
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.signals = _BuildSignals(self)
        self.signals.done.connect(self._done)
        self.running = False

    def start(self, name: str, inputs: Sequence[str]) -> bool:
        model = self.c.controller.model
        if self.running or model is None:
            self.c.view.say("A tonal target is being made already." if self.running else "No model is loaded.")
            return False
        self.running = True
        self.c.view.say(f"Analysing {len(inputs)} reference item(s) for the tonal target '{name.strip()}'…")
        self.pool.start(_BuildJob(name, list(inputs), model, self.c.controller.options, self.signals))
        return True

    def _done(self, target: TonalTarget | None, problem: str) -> None:
        self.running = False
        if target is None:
            self.c.view.say(problem)
            self.finished.emit(problem)
            return
        _made(self.c, target)
        self.finished.emit(target.name)


def builder(c: CommandContext) -> TargetBuilder:
    """The window's one builder (made on first use)."""
    found = c.window.findChild(TargetBuilder)
    return found if isinstance(found, TargetBuilder) else TargetBuilder(c)


def target_from_files(c: CommandContext, folder: bool) -> None:
    if folder:
        chosen = QFileDialog.getExistingDirectory(c.window, "Reference folder", c.prefs.last_folder)
        inputs = [chosen] if chosen else []
    else:
        inputs, _ = QFileDialog.getOpenFileNames(c.window, "Reference files", c.prefs.last_folder, AUDIO_FILTER)
    if not inputs:
        return
    name = _ask_name(c, len(inputs)) if not folder else _ask_folder_name(c, Path(inputs[0]))
    if name is not None:
        builder(c).start(name, inputs)


def _ask_folder_name(c: CommandContext, folder: Path) -> str | None:
    name, ok = QInputDialog.getText(
        c.window, "New tonal target", f"Name of the target made from '{folder.name}':", text=folder.name
    )
    return name if ok and name.strip() else None
